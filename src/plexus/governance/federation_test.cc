// Federation: the mesh switches, re-grades and tunes policies; the domains tighten parameters
// within the ranges the mesh allows and add policies of their own, never weakening a global one;
// exemptions cover a violation until they expire, never for a policy that is not exemptible.
#include <gtest/gtest.h>

#include "plexus/governance/governance.h"
#include "plexus/governance/governance_test_util.h"

namespace plexus::governance {
namespace {

using namespace test_util;  // the shared mesh, its mistakes and the fixture

// ---- the mesh's settings and the domains' parameters ---------------------------------------

TEST_F(GovernanceTest, TheMeshRegradesAndTunesABuiltin) {
  spec::Mesh mesh = CompliantMesh();
  spec::PolicySetting setting;
  setting.policy = "purpose";
  setting.severity = "block";
  setting.parameters["min_length"] = Number(41);
  mesh.governance.settings.push_back(setting);
  PolicySet set = Policies(mesh);
  ASSERT_NE(set.Find("purpose"), nullptr);
  EXPECT_EQ(set.Find("purpose")->severity, "block");
  EXPECT_EQ(set.Find("purpose")->parameters[0].default_value.number, 41);

  Gated checked = Check(mesh);
  EXPECT_EQ(checked.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(checked.status.message().find("purpose"), std::string::npos);
  EXPECT_EQ(Entities(checked.evaluation, "purpose"),
            (std::set<std::string>{"sales.orders", "marketing.reach"}));
  for (const auto& v : Of(checked.evaluation, "purpose")) {
    EXPECT_EQ(v.severity, "block");
    EXPECT_NE(v.message.find("has 40 characters; the mesh asks for at least 41"), std::string::npos)
        << v.message;
  }
  EXPECT_EQ(checked.evaluation.mesh.block, 2);
}

TEST_F(GovernanceTest, TheMeshSwitchesABuiltinOff) {
  spec::Mesh mesh = CompliantMesh();
  Orders(mesh).product.purpose = "tbd";
  ASSERT_EQ(Violated(Check(mesh).evaluation), (std::set<std::string>{"purpose"}));
  spec::PolicySetting off;
  off.policy = "purpose";
  off.enabled = false;
  mesh.governance.settings.push_back(off);
  PolicySet set = Policies(mesh);
  ASSERT_NE(set.Find("purpose"), nullptr);  // kept, switched off
  EXPECT_FALSE(set.Find("purpose")->enabled);
  Gated checked = Check(mesh);
  EXPECT_TRUE(checked.status.ok());
  EXPECT_TRUE(checked.evaluation.violations.empty());
  EXPECT_EQ(checked.evaluation.policies.count("purpose"), 0u);
  EXPECT_EQ(checked.evaluation.policies.size(), 10u);
}

TEST_F(GovernanceTest, TheWholeBuiltinPackCanBeSwitchedOff) {
  spec::Mesh mesh = CompliantMesh();
  Orders(mesh).product.purpose = "tbd";
  OrdersColumn(mesh, "email").mask = "";
  mesh.governance.builtin = false;
  PolicySet set = Policies(mesh);
  EXPECT_TRUE(set.policies.empty());
  Gated checked = Check(mesh);
  EXPECT_TRUE(checked.status.ok()) << checked.status.ToString();
  EXPECT_TRUE(checked.evaluation.violations.empty());
}

TEST_F(GovernanceTest, TheMeshMayNotTuneWhatAPolicyDoesNotHave) {
  spec::Mesh mesh = CompliantMesh();
  spec::PolicySetting unknown;
  unknown.policy = "no-such-policy";
  unknown.enabled = false;
  spec::PolicySetting bad_parameter;
  bad_parameter.policy = "purpose";
  bad_parameter.parameters["max_length"] = Number(10);
  spec::PolicySetting bad_kind;
  bad_kind.policy = "owner-team";
  bad_kind.parameters["min_members"] = Text("two");
  mesh.governance.settings = {unknown, bad_parameter, bad_kind};
  std::vector<spec::Diagnostic> problems;
  auto set = ResolvePolicies(mesh, &problems);
  EXPECT_FALSE(set.ok());
  std::string all = Problems(problems);
  EXPECT_EQ(problems.size(), 3u) << all;
  EXPECT_NE(all.find("no policy no-such-policy"), std::string::npos) << all;
  EXPECT_NE(all.find("policy purpose has no parameter max_length"), std::string::npos) << all;
  EXPECT_NE(all.find("expected a value like 1, found two"), std::string::npos) << all;
}

TEST_F(GovernanceTest, ADomainTightensAParameterForItselfOnly) {
  spec::Mesh mesh = CompliantMesh();
  spec::PolicySetting stricter;
  stricter.policy = "purpose";
  stricter.parameters["min_length"] = Number(60);
  DomainOf(mesh, "sales").policy_settings.push_back(stricter);
  PolicySet set = Policies(mesh);
  EXPECT_EQ(set.domain_parameters["sales"]["purpose"]["min_length"].number, 60);
  EXPECT_EQ(set.domain_parameters.count("marketing"), 0u);

  Gated checked = Check(mesh);
  EXPECT_TRUE(checked.status.ok()) << checked.status.ToString();  // purpose warns
  EXPECT_EQ(Entities(checked.evaluation, "purpose"), (std::set<std::string>{"sales.orders"}));
  auto v = Of(checked.evaluation, "purpose");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].message.find("at least 60"), std::string::npos) << v[0].message;
  EXPECT_EQ(Violated(checked.evaluation), (std::set<std::string>{"purpose"}));
  EXPECT_LT(checked.evaluation.domains.at("sales").score, 100);
  EXPECT_EQ(checked.evaluation.domains.at("marketing").score, 100);
}

TEST_F(GovernanceTest, ADomainAddsToAListParameter) {
  spec::Mesh mesh = CompliantMesh();
  // Both domains have an unmasked column classified restricted.
  OrdersColumn(mesh, "customer_id").classification = "restricted";
  ReachColumn(mesh, "segment").classification = "restricted";
  ASSERT_TRUE(Violated(Check(mesh).evaluation).empty());
  spec::PolicySetting more;
  more.policy = "sensitive-masked";
  more.parameters["classifications"] = List({"pii", "confidential", "restricted"});
  DomainOf(mesh, "marketing").policy_settings.push_back(more);
  Gated checked = Check(mesh);
  EXPECT_EQ(Entities(checked.evaluation, "sensitive-masked"),
            (std::set<std::string>{"marketing.reach.reach.segment"}));
  EXPECT_EQ(checked.status.code(), StatusCode::kFailedPrecondition);
}

TEST_F(GovernanceTest, ADomainParameterOutsideTheRangeIsRefused) {
  spec::Mesh mesh = CompliantMesh();
  spec::PolicySetting setting;
  setting.policy = "purpose";
  setting.parameters["min_length"] = Number(5000);
  setting.parameter_locations["min_length"] = {"domains/sales/domain.yaml", 9, 19};
  DomainOf(mesh, "sales").policy_settings.push_back(setting);
  std::vector<spec::Diagnostic> problems;
  auto set = ResolvePolicies(mesh, &problems);
  ASSERT_FALSE(set.ok());
  ASSERT_EQ(problems.size(), 1u) << Problems(problems);
  EXPECT_NE(problems[0].message.find("between 1 and 1000"), std::string::npos)
      << problems[0].message;
  EXPECT_EQ(problems[0].field, "governance.parameters.purpose.min_length");
  EXPECT_EQ(problems[0].location.file, "domains/sales/domain.yaml");
  EXPECT_EQ(problems[0].location.line, 9);

  // Below the range too.
  DomainOf(mesh, "sales").policy_settings[0].parameters["min_length"] = Number(0);
  problems.clear();
  EXPECT_FALSE(ResolvePolicies(mesh, &problems).ok());
  EXPECT_NE(Problems(problems).find("between 1 and 1000"), std::string::npos);
}

TEST_F(GovernanceTest, ADomainMayNotDropAClassificationTheMeshMasks) {
  spec::Mesh mesh = CompliantMesh();
  spec::PolicySetting looser;
  looser.policy = "sensitive-masked";
  looser.parameters["classifications"] = List({"confidential"});
  DomainOf(mesh, "sales").policy_settings.push_back(looser);
  std::vector<spec::Diagnostic> problems;
  EXPECT_FALSE(ResolvePolicies(mesh, &problems).ok());
  ASSERT_EQ(problems.size(), 1u) << Problems(problems);
  EXPECT_NE(problems[0].message.find("leaves out pii"), std::string::npos) << problems[0].message;

  // Nor add one the mesh does not allow.
  DomainOf(mesh, "sales").policy_settings[0].parameters["classifications"] =
      List({"pii", "confidential", "whatever"});
  problems.clear();
  EXPECT_FALSE(ResolvePolicies(mesh, &problems).ok());
  EXPECT_NE(Problems(problems).find("whatever is not a value the mesh allows"), std::string::npos)
      << Problems(problems);
}

TEST_F(GovernanceTest, ADomainPolicyMayNotTakeAGlobalPolicysId) {
  spec::Mesh mesh = CompliantMesh();
  mesh.governance.policies.push_back(
      GlobalPolicy("tags-required",
                   "SELECT qualified_name AS entity, 'no tags' AS message FROM products "
                   "WHERE id NOT IN (SELECT product_id FROM product_tags)"));
  spec::Policy weaker = GlobalPolicy("purpose", "SELECT '' AS entity, '' AS message WHERE false");
  spec::Policy other =
      GlobalPolicy("tags-required", "SELECT '' AS entity, '' AS message WHERE false");
  DomainOf(mesh, "sales").policies = {weaker, other};
  std::vector<spec::Diagnostic> problems;
  EXPECT_FALSE(ResolvePolicies(mesh, &problems).ok());
  ASSERT_EQ(problems.size(), 2u) << Problems(problems);
  for (const auto& p : problems) {
    EXPECT_NE(p.message.find("is a global policy's"), std::string::npos) << p.message;
  }
  EXPECT_NE(problems[0].message.find("purpose"), std::string::npos);
  EXPECT_NE(problems[1].message.find("tags-required"), std::string::npos);

  // A global policy may not take a built-in's id either.
  spec::Mesh global = CompliantMesh();
  global.governance.policies.push_back(
      GlobalPolicy("owner-team", "SELECT '' AS entity, '' AS message WHERE false"));
  problems.clear();
  EXPECT_FALSE(ResolvePolicies(global, &problems).ok());
  EXPECT_NE(Problems(problems).find("is a built-in policy's"), std::string::npos);
}

TEST_F(GovernanceTest, ADomainMayNotSetAParameterWithoutARange) {
  spec::Mesh mesh = CompliantMesh();
  spec::Policy policy = GlobalPolicy(
      "tags-required",
      "SELECT qualified_name AS entity, 'fewer than ' || $min_tags || ' tags' AS message "
      "FROM products p WHERE (SELECT count(*) FROM product_tags t WHERE t.product_id = p.id) "
      "< $min_tags");
  policy.parameters.push_back(NumberParameter("min_tags", 0));
  mesh.governance.policies.push_back(policy);
  spec::PolicySetting setting;
  setting.policy = "tags-required";
  setting.parameters["min_tags"] = Number(2);
  DomainOf(mesh, "sales").policy_settings.push_back(setting);
  std::vector<spec::Diagnostic> problems;
  EXPECT_FALSE(ResolvePolicies(mesh, &problems).ok());
  ASSERT_EQ(problems.size(), 1u) << Problems(problems);
  EXPECT_NE(problems[0].message.find("does not let domains set min_tags of tags-required"),
            std::string::npos)
      << problems[0].message;

  // The mesh itself may.
  mesh.domains[0].policy_settings.clear();
  mesh.governance.settings.push_back(setting);
  Gated checked = Check(mesh);
  EXPECT_EQ(Entities(checked.evaluation, "tags-required"),
            (std::set<std::string>{"sales.orders", "marketing.reach"}));
}

TEST_F(GovernanceTest, ADomainsOwnPolicyAppliesToItsProductsOnly) {
  spec::Mesh mesh = CompliantMesh();
  // Flags every product it sees: the domain's scope keeps only its own.
  spec::Policy own =
      GlobalPolicy("sales-usage",
                   "SELECT qualified_name AS entity, 'no usage notes' AS message FROM products "
                   "WHERE usage = ''");
  DomainOf(mesh, "sales").policies.push_back(own);
  PolicySet set = Policies(mesh);
  ASSERT_NE(set.Find("sales-usage"), nullptr);
  EXPECT_EQ(set.Find("sales-usage")->scope, "sales");
  Gated checked = Check(mesh);
  EXPECT_EQ(Entities(checked.evaluation, "sales-usage"), (std::set<std::string>{"sales.orders"}));
  EXPECT_EQ(checked.evaluation.policies.at("sales-usage").products, 1);
}

// Rows that name no domain (a principal, the mesh) are reported once whatever parameters the
// domains run the policy with, also when every domain sets its own.
TEST_F(GovernanceTest, ViolationsOutsideTheDomainsAreKeptWhenEveryDomainSetsItsOwnValue) {
  spec::Mesh mesh = CompliantMesh();
  spec::Policy policy =
      GlobalPolicy("service-principals",
                   "SELECT name AS entity, 'service principal' AS message "
                   "FROM principals WHERE kind = 'service' AND length(name) >= $min");
  policy.parameters.push_back(NumberParameter("min", 1, 1, 100));
  mesh.governance.policies.push_back(policy);
  std::set<std::string> expected = {"svc_marketing", "svc_sales"};
  EXPECT_EQ(Entities(Check(mesh).evaluation, "service-principals"), expected);

  spec::PolicySetting one;
  one.policy = "service-principals";
  one.parameters["min"] = Number(2);
  DomainOf(mesh, "sales").policy_settings.push_back(one);
  EXPECT_EQ(Entities(Check(mesh).evaluation, "service-principals"), expected);
  DomainOf(mesh, "marketing").policy_settings.push_back(one);
  Evaluation e = Check(mesh).evaluation;
  EXPECT_EQ(Entities(e, "service-principals"), expected);
  for (const auto& v : Of(e, "service-principals")) {
    EXPECT_EQ(v.domain, "");
    EXPECT_EQ(v.product, "");
  }
}

// ---- exemptions ----------------------------------------------------------------------------

class GovernanceExemptionTest : public GovernanceTest {
 protected:
  /// The compliant mesh with email unmasked (a block violation of sensitive-masked).
  static spec::Mesh Unmasked() {
    spec::Mesh mesh = CompliantMesh();
    OrdersColumn(mesh, "email").mask = "";
    return mesh;
  }

  void ExpectExempted(const Gated& checked, const std::string& expires) {
    EXPECT_TRUE(checked.status.ok()) << checked.status.ToString();
    auto v = Of(checked.evaluation, "sensitive-masked");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].entity, "sales.orders.orders.email");
    EXPECT_EQ(v[0].exemption, "Masking lands with the next release (approved by governance-board)");
    EXPECT_EQ(v[0].exemption_expires, expires);
    EXPECT_TRUE(Violated(checked.evaluation).empty());
    const Evaluation& e = checked.evaluation;
    EXPECT_EQ(e.mesh.block, 0);
    EXPECT_EQ(e.mesh.warn, 0);
    EXPECT_EQ(e.mesh.exempted, 1);
    EXPECT_EQ(e.Blocking(), 0);
    EXPECT_EQ(e.domains.at("sales").block, 0);
    EXPECT_EQ(e.domains.at("sales").exempted, 1);
    EXPECT_EQ(e.domains.at("sales").score, 100);
    EXPECT_EQ(e.policies.at("sensitive-masked").exempted, 1);
    EXPECT_EQ(e.policies.at("sensitive-masked").failing, 0);
    EXPECT_TRUE(checked.lines.empty());
  }

  void ExpectCounted(const Gated& checked) {
    EXPECT_EQ(checked.status.code(), StatusCode::kFailedPrecondition);
    auto v = Of(checked.evaluation, "sensitive-masked");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].exemption, "");
    EXPECT_EQ(checked.evaluation.mesh.block, 1);
    EXPECT_EQ(checked.evaluation.mesh.exempted, 0);
  }
};

TEST_F(GovernanceExemptionTest, AnExemptionOfTheProductCoversItsColumns) {
  spec::Mesh mesh = Unmasked();
  ExpectCounted(Check(mesh));
  mesh.governance.exemptions.push_back(Exempt("sensitive-masked", "sales.orders", DayFromToday(1)));
  ExpectExempted(Check(mesh), DayFromToday(1));
  Gated applied = Apply(Edited(mesh), /*dry_run=*/false);
  EXPECT_TRUE(applied.status.ok()) << applied.status.ToString();
}

TEST_F(GovernanceExemptionTest, AnExemptionOfTheColumn) {
  spec::Mesh mesh = Unmasked();
  mesh.governance.exemptions.push_back(
      Exempt("sensitive-masked", "sales.orders.orders.email", DayFromToday(1)));
  ExpectExempted(Check(mesh), DayFromToday(1));
}

TEST_F(GovernanceExemptionTest, AnExemptionCoversOnlyItsPolicyAndItsEntity) {
  spec::Mesh mesh = Unmasked();
  mesh.governance.exemptions.push_back(Exempt("purpose", "sales.orders", DayFromToday(1)));
  mesh.governance.exemptions.push_back(
      Exempt("sensitive-masked", "sales.orders.orders.amount", DayFromToday(1)));
  // Neither a prefix of the name that is not a whole part.
  mesh.governance.exemptions.push_back(Exempt("sensitive-masked", "sales.ord", DayFromToday(1)));
  ExpectCounted(Check(mesh));
}

TEST_F(GovernanceExemptionTest, AnExemptionCoversTheWholeDayItExpires) {
  spec::Mesh mesh = Unmasked();
  mesh.governance.exemptions.push_back(Exempt("sensitive-masked", "sales.orders", DayFromToday(0)));
  ExpectExempted(Check(mesh), DayFromToday(0));
}

TEST_F(GovernanceExemptionTest, AnExpiredExemptionCoversNothing) {
  spec::Mesh mesh = Unmasked();
  mesh.governance.exemptions.push_back(
      Exempt("sensitive-masked", "sales.orders", DayFromToday(-1)));
  ExpectCounted(Check(mesh));
}

TEST_F(GovernanceExemptionTest, ADateTimeExpiryLapsesByItself) {
  spec::Mesh mesh = Unmasked();
  std::string expires = SecondsFromNow(2);
  mesh.governance.exemptions.push_back(Exempt("sensitive-masked", "sales.orders", expires));
  ExpectExempted(Check(mesh), expires);
  std::this_thread::sleep_for(std::chrono::milliseconds(2600));
  ExpectCounted(Check(mesh));
}

// An expiry written to the second ends at that second, not at the end of it: the evaluation's
// time has milliseconds.
TEST_F(GovernanceExemptionTest, ADateTimeExpiryEndsAtItsSecond) {
  spec::Mesh mesh = Unmasked();
  ASSERT_TRUE(catalog_->Apply(mesh, "ops").ok());
  PolicySet set = Policies(mesh);
  set.exemptions.push_back(Exempt("sensitive-masked", "sales.orders", "2030-01-01T12:00:00Z"));
  set.exemptions.push_back(
      Exempt("sensitive-masked", "sales.orders.orders.amount", "2030-01-01T12:00:00.5Z"));
  auto evaluator = Evaluator::FromCatalog(*catalog_, catalog::NowUtc());
  ASSERT_TRUE(evaluator.ok());
  auto at = [&](const std::string& now) {
    auto e = (*evaluator)->Evaluate(set, now);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? e->mesh.exempted : -1;
  };
  EXPECT_EQ(at("2030-01-01T11:59:59.999Z"), 1);
  EXPECT_EQ(at("2030-01-01T12:00:00.000Z"), 0);
  EXPECT_EQ(at("2030-01-01T12:00:00.500Z"), 0);
  EXPECT_EQ(at("2030-01-01T12:00:00Z"), 0);
  // Fractions of a second compare as numbers.
  OrdersColumn(mesh, "amount").mask = "";
  ASSERT_TRUE(catalog_->Apply(Edited(mesh), "ops").ok());
  auto again = Evaluator::FromCatalog(*catalog_, catalog::NowUtc());
  ASSERT_TRUE(again.ok());
  auto amount_exempted = [&](const std::string& now) {
    auto e = (*again)->Evaluate(set, now);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    if (!e.ok()) return false;
    for (const auto& v : e->violations) {
      if (v.entity == "sales.orders.orders.amount") return !v.exemption.empty();
    }
    ADD_FAILURE() << "no violation of amount";
    return false;
  };
  EXPECT_TRUE(amount_exempted("2030-01-01T11:00:00.499Z"));
  EXPECT_TRUE(amount_exempted("2030-01-01T12:00:00.499Z"));
  EXPECT_FALSE(amount_exempted("2030-01-01T12:00:00.550Z"));
}

TEST_F(GovernanceExemptionTest, APolicyThatIsNotExemptibleRefusesExemptions) {
  spec::Mesh mesh = Unmasked();
  spec::PolicySetting strict;
  strict.policy = "sensitive-masked";
  strict.exemptible = false;
  mesh.governance.settings.push_back(strict);
  mesh.governance.exemptions.push_back(Exempt("sensitive-masked", "sales.orders", DayFromToday(1)));
  mesh.governance.exemptions.back().location = {"governance/exemptions.yaml", 4, 5};
  std::vector<spec::Diagnostic> problems;
  EXPECT_FALSE(ResolvePolicies(mesh, &problems).ok());
  ASSERT_EQ(problems.size(), 1u) << Problems(problems);
  EXPECT_NE(problems[0].message.find("sensitive-masked is not exemptible"), std::string::npos)
      << problems[0].message;
  EXPECT_EQ(problems[0].location.line, 4);

  // Likewise a global policy written not exemptible; and an exemption of an unknown policy.
  spec::Mesh other = CompliantMesh();
  spec::Policy policy =
      GlobalPolicy("no-draft",
                   "SELECT qualified_name AS entity, 'draft' AS message FROM products "
                   "WHERE status = 'draft'");
  policy.exemptible = false;
  other.governance.policies.push_back(policy);
  other.governance.exemptions.push_back(Exempt("no-draft", "sales.orders", DayFromToday(1)));
  other.governance.exemptions.push_back(Exempt("no-such", "sales.orders", DayFromToday(1)));
  problems.clear();
  EXPECT_FALSE(ResolvePolicies(other, &problems).ok());
  std::string all = Problems(problems);
  EXPECT_NE(all.find("no-draft is not exemptible"), std::string::npos) << all;
  EXPECT_NE(all.find("no policy no-such"), std::string::npos) << all;
}

}  // namespace
}  // namespace plexus::governance
