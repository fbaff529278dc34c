// Evaluating: policy SQL that is not a checked, read-only SELECT over the views is refused at
// load; scores show which domain fails; the applied evaluation is kept; quarantine takes a
// product out of service; the policy set survives the catalog's JSON.
#include <gtest/gtest.h>

#include "plexus/governance/governance.h"
#include "plexus/governance/governance_test_util.h"

namespace plexus::governance {
namespace {

using namespace test_util;  // the shared mesh, its mistakes and the fixture

// ---- policy SQL checked at load ------------------------------------------------------------

struct BadSql {
  std::string name;
  std::string sql;
  std::string reason;  ///< a part of the problem's message
};

void PrintTo(const BadSql& b, std::ostream* os) { *os << b.name; }

class GovernanceBadPolicySqlTest : public ::testing::TestWithParam<BadSql> {};

TEST_P(GovernanceBadPolicySqlTest, IsRefusedAtLoad) {
  spec::Mesh mesh = CompliantMesh();
  spec::Policy policy = GlobalPolicy("house-rule", GetParam().sql);
  mesh.governance.policies.push_back(policy);
  std::vector<spec::Diagnostic> problems;
  auto set = LoadPolicies(mesh, &problems);
  ASSERT_FALSE(set.ok());
  ASSERT_EQ(problems.size(), 1u) << Problems(problems);
  const spec::Diagnostic& p = problems[0];
  EXPECT_EQ(p.field, "policies.house-rule.sql");
  EXPECT_EQ(p.location.file, "governance/policies.yaml");
  EXPECT_EQ(p.location.line, 7);  // the policy's sql
  EXPECT_EQ(p.message.rfind("policy house-rule: ", 0), 0u) << p.message;
  EXPECT_NE(p.message.find(GetParam().reason), std::string::npos) << p.message;
  EXPECT_NE(p.ToString().find("governance/policies.yaml:7"), std::string::npos) << p.ToString();
}

INSTANTIATE_TEST_SUITE_P(
    Policies, GovernanceBadPolicySqlTest,
    ::testing::Values(
        BadSql{"does_not_parse", "SELEC qualified_name AS entity, 'x' AS message FROM products",
               "syntax error"},
        BadSql{"reads_a_table_that_is_not_a_view",
               "SELECT name AS entity, 'x' AS message FROM secrets", "secrets is not one of them"},
        BadSql{"reads_the_catalogs_tables_by_schema",
               "SELECT name AS entity, 'x' AS message FROM main.products", "is not one of them"},
        BadSql{"calls_a_table_function",
               "SELECT column0 AS entity, 'x' AS message FROM read_csv('/etc/passwd')",
               "table function read_csv is not allowed"},
        BadSql{"has_a_second_statement",
               "SELECT qualified_name AS entity, 'x' AS message FROM products; "
               "SELECT qualified_name AS entity, 'y' AS message FROM products",
               "only one statement is accepted"},
        BadSql{"returns_one_column", "SELECT qualified_name AS entity FROM products",
               "must return two VARCHAR columns, entity and message; it returns (entity VARCHAR)"},
        BadSql{"returns_a_bigint_entity", "SELECT major AS entity, name AS message FROM ports",
               "it returns (entity BIGINT, message VARCHAR)"},
        BadSql{"names_the_columns_otherwise",
               "SELECT qualified_name AS what, name AS message FROM products",
               "it returns (what VARCHAR, message VARCHAR)"},
        BadSql{"uses_an_unknown_parameter",
               "SELECT qualified_name AS entity, 'x' AS message FROM products "
               "WHERE length(purpose) < $min_length",
               "uses $min_length, which is not one of its parameters"},
        BadSql{"writes", "DELETE FROM products", "only SELECT queries are accepted"}),
    [](const ::testing::TestParamInfo<BadSql>& info) { return info.param.name; });

TEST(GovernanceLoadPoliciesTest, AcceptsAPolicyThatReadsTheViewsWithItsParameters) {
  spec::Mesh mesh = CompliantMesh();
  spec::Policy policy =
      GlobalPolicy("house-rule",
                   "SELECT p.qualified_name AS entity, 'few tags' AS message FROM products p "
                   "LEFT JOIN product_tags t ON t.product_id = p.id GROUP BY p.qualified_name "
                   "HAVING count(t.tag) < $min_tags");
  policy.parameters.push_back(NumberParameter("min_tags", 1, 0, 10));
  mesh.governance.policies.push_back(policy);
  std::vector<spec::Diagnostic> problems;
  auto set = LoadPolicies(mesh, &problems);
  ASSERT_TRUE(set.ok()) << Problems(problems);
  EXPECT_EQ(set->policies.size(), 12u);
  // In id order.
  for (size_t i = 1; i < set->policies.size(); ++i) {
    EXPECT_LT(set->policies[i - 1].id, set->policies[i].id);
  }
}

// ---- scores --------------------------------------------------------------------------------

TEST_F(GovernanceTest, ScoresShowWhichDomainFails) {
  spec::Mesh mesh = CompliantMesh();
  OrdersColumn(mesh, "email").mask = "";  // block
  Orders(mesh).product.purpose = "tbd";   // warn
  Gated checked = Check(mesh);
  const Evaluation& e = checked.evaluation;
  EXPECT_EQ(e.mesh.block, 1);
  EXPECT_EQ(e.Blocking(), 1);
  EXPECT_EQ(e.mesh.warn, 1);
  EXPECT_EQ(e.mesh.products, 2);
  EXPECT_EQ(e.mesh.failing, 1);
  const Standing& sales = e.domains.at("sales");
  const Standing& marketing = e.domains.at("marketing");
  // 4 block policies weigh 3, 7 warn policies 2: sales fails one of each.
  EXPECT_NEAR(sales.score, 100.0 * (26 - 3 - 2) / 26, 1e-9);
  EXPECT_EQ(sales.block, 1);
  EXPECT_EQ(sales.warn, 1);
  EXPECT_EQ(sales.failing, 1);
  EXPECT_EQ(marketing.score, 100);
  EXPECT_EQ(marketing.block + marketing.warn, 0);
  EXPECT_NEAR(e.mesh.score, 100.0 * (52 - 3 - 2) / 52, 1e-9);
  EXPECT_EQ(e.policies.at("sensitive-masked").score, 50);
  EXPECT_EQ(e.policies.at("sensitive-masked").failing, 1);
  EXPECT_EQ(e.policies.at("owner-team").score, 100);

  nlohmann::json summary = e.Summary();
  EXPECT_EQ(summary["domains"]["sales"]["score"].get<double>(), 80.8);
  EXPECT_EQ(summary["domains"]["marketing"]["score"].get<double>(), 100);
  EXPECT_EQ(summary["domains"]["sales"]["block"].get<int64_t>(), 1);
  EXPECT_EQ(summary["mesh"]["block"].get<int64_t>(), 1);
  EXPECT_EQ(summary["score"].get<double>(), 90.4);
  EXPECT_EQ(summary["policies"]["sensitive-masked"]["failing_products"].get<int64_t>(), 1);
  EXPECT_FALSE(summary.contains("violations"));
}

// Given the policy set, the evaluator loads only the views its policies read: each built-in
// policy alone finds there what it finds with every view loaded, and a policy that reads a view
// that was not loaded is refused, not run over nothing.
TEST_F(GovernanceTest, LoadingOnlyTheViewsThePoliciesReadChangesNoViolation) {
  spec::Mesh mesh = CompliantMesh();
  OrdersColumn(mesh, "email").mask = "";
  Orders(mesh).product.purpose = "tbd";
  ASSERT_TRUE(catalog_->Apply(mesh, "ops").ok());
  PolicySet all = Policies(mesh);
  std::string now = catalog::NowUtc();
  Evaluation full = EvaluateCatalog(all, now);
  ASSERT_EQ(full.violations.size(), 2u);
  auto lines = [](const std::vector<Violation>& violations, const std::string& policy) {
    std::vector<std::string> out;
    for (const auto& v : violations) {
      if (v.policy == policy) out.push_back(v.entity + ": " + v.message);
    }
    return out;
  };
  for (const auto& policy : all.policies) {
    PolicySet one = all;
    one.policies = {policy};
    auto evaluator = Evaluator::FromCatalog(*catalog_, now, &one);
    ASSERT_TRUE(evaluator.ok()) << policy.id << ": " << evaluator.status().ToString();
    auto e = (*evaluator)->Evaluate(one, now);
    ASSERT_TRUE(e.ok()) << policy.id << ": " << e.status().ToString();
    EXPECT_EQ(lines(e->violations, policy.id), lines(full.violations, policy.id)) << policy.id;
  }
  PolicySet domains;
  domains.policies = {GlobalPolicy("domains-described",
                                   "SELECT name AS entity, 'no description' AS message "
                                   "FROM domains WHERE description = ''")};
  auto evaluator = Evaluator::FromCatalog(*catalog_, now, &domains);
  ASSERT_TRUE(evaluator.ok()) << evaluator.status().ToString();
  EXPECT_TRUE((*evaluator)->Evaluate(domains, now).ok());
  PolicySet columns;
  columns.policies = {GlobalPolicy(
      "columns-named", "SELECT qualified_name AS entity, name AS message FROM columns")};
  auto refused = (*evaluator)->Evaluate(columns, now);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("it reads columns, which this evaluation did not load"),
            std::string::npos)
      << refused.status().ToString();
}

// Columns and SLA properties are joined with their product as they are loaded: each row carries
// its product's domain and name and a qualified name built from them; a row of a product that
// is not in the catalog is left out, as the inner join in SQL left it out.
TEST_F(GovernanceTest, ViewsJoinedAsLoadedCarryTheirProductAndLeaveOutOrphans) {
  spec::Mesh mesh = CompliantMesh();
  ASSERT_TRUE(catalog_->Apply(mesh, "ops").ok());
  auto raw = catalog::testing::OpenRaw(home_);
  ASSERT_EQ(catalog::testing::Exec(raw,
                                   "INSERT INTO columns (product_id, port, major, position, name) "
                                   "VALUES ('urn:shop:gone:gone', 'gone', 1, 0, 'ghost');"
                                   "INSERT INTO port_slas VALUES ('urn:shop:gone:gone', 'gone', 1, "
                                   "0, 'latency', '1', 'd', '')"),
            "");
  PolicySet set;
  set.policies = {
      GlobalPolicy("columns-listed",
                   "SELECT qualified_name AS entity, domain || ' ' || product || ' ' || port || "
                   "' ' || name || ' ' || classification AS message FROM columns"),
      GlobalPolicy("slas-listed",
                   "SELECT domain || '.' || product || '.' || port AS entity, "
                   "property || ' ' || value || unit AS message FROM sla_properties")};
  std::string now = catalog::NowUtc();
  auto evaluator = Evaluator::FromCatalog(*catalog_, now, &set);
  ASSERT_TRUE(evaluator.ok()) << evaluator.status().ToString();
  auto e = (*evaluator)->Evaluate(set, now);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  auto lines = [&](const std::string& policy) {
    std::vector<std::string> out;
    for (const auto& v : Of(*e, policy)) out.push_back(v.entity + ": " + v.message);
    return out;
  };
  EXPECT_EQ(lines("columns-listed"),
            (std::vector<std::string>{
                "marketing.reach.reach.customer_id: marketing reach reach customer_id internal",
                "marketing.reach.reach.segment: marketing reach reach segment public",
                "sales.orders.orders.amount: sales orders orders amount confidential",
                "sales.orders.orders.customer_id: sales orders orders customer_id internal",
                "sales.orders.orders.email: sales orders orders email pii",
                "sales.orders.orders.order_id: sales orders orders order_id internal"}));
  EXPECT_EQ(lines("slas-listed"), (std::vector<std::string>{"marketing.reach.reach: latency 1d",
                                                            "sales.orders.orders: latency 1d"}));
}

TEST_F(GovernanceTest, TheAppliedEvaluationIsKeptWithItsViolations) {
  spec::Mesh mesh = CompliantMesh();
  Orders(mesh).product.purpose = "tbd";
  Gated applied = Apply(mesh, /*dry_run=*/false);
  ASSERT_TRUE(applied.status.ok()) << applied.status.ToString();
  auto latest = catalog_->LatestGovernanceEvaluation();
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->trigger, "apply");
  EXPECT_EQ(latest->actor, "ops");
  ASSERT_EQ(latest->violations.size(), 1u);
  EXPECT_EQ(latest->violations[0].policy, "purpose");
  EXPECT_EQ(latest->violations[0].entity, "sales.orders");
  auto summary = nlohmann::json::parse(latest->summary);
  EXPECT_LT(summary["domains"]["sales"]["score"].get<double>(), 100);

  // plexus governance report: the applied policies evaluated again, and recorded.
  PolicySet set;
  auto again = EvaluateApplied(*catalog_, "report", "carol", &set);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Entities(*again, "purpose"), (std::set<std::string>{"sales.orders"}));
  EXPECT_EQ(set.policies.size(), 11u);
  auto history = catalog_->ListGovernanceEvaluations(10);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].trigger, "report");
}

// ---- quarantine ----------------------------------------------------------------------------

TEST_F(GovernanceTest, AQuarantiningPolicyTakesAProductOutOfServiceUntilItIsSettled) {
  spec::Mesh mesh = CompliantMesh();
  spec::Policy review =
      GlobalPolicy("under-review",
                   "SELECT qualified_name AS entity, 'flagged by the audit' AS message "
                   "FROM products WHERE qualified_name = 'sales.orders'");
  review.quarantine = true;
  mesh.governance.policies.push_back(review);
  Gated applied = Apply(mesh, /*dry_run=*/false);  // a warning: applied
  ASSERT_TRUE(applied.status.ok()) << applied.status.ToString();

  auto evaluation = EvaluateApplied(*catalog_, "schedule", "ops");
  ASSERT_TRUE(evaluation.ok()) << evaluation.status().ToString();
  auto v = Of(*evaluation, "under-review");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(v[0].quarantine);
  auto quarantined = catalog_->QuarantinedProducts();
  ASSERT_TRUE(quarantined.ok());
  EXPECT_EQ(
      *quarantined,
      (std::map<std::string, std::string>{{"sales.orders", "under-review: flagged by the audit"}}));
  auto policy = access::AccessPolicy::Load(*catalog_);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  ASSERT_NE((*policy)->Quarantined("sales.orders"), nullptr);
  EXPECT_NE((*policy)->Quarantined("sales.orders")->find("under-review"), std::string::npos);
  EXPECT_EQ((*policy)->Quarantined("marketing.reach"), nullptr);

  // An exemption, applied: the next evaluation lifts the quarantine.
  mesh.governance.exemptions.push_back(Exempt("under-review", "sales.orders", DayFromToday(7)));
  Gated exempted = Apply(mesh, /*dry_run=*/false);
  ASSERT_TRUE(exempted.status.ok()) << exempted.status.ToString();
  auto settled = EvaluateApplied(*catalog_, "schedule", "ops");
  ASSERT_TRUE(settled.ok()) << settled.status().ToString();
  v = Of(*settled, "under-review");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_FALSE(v[0].quarantine);
  EXPECT_FALSE(v[0].exemption.empty());
  quarantined = catalog_->QuarantinedProducts();
  ASSERT_TRUE(quarantined.ok());
  EXPECT_TRUE(quarantined->empty());
  policy = access::AccessPolicy::Load(*catalog_);
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ((*policy)->Quarantined("sales.orders"), nullptr);

  // The exemption gone again, the quarantine is back; the policy switched off, it is gone.
  mesh.governance.exemptions.clear();
  ASSERT_TRUE(Apply(mesh, /*dry_run=*/false).status.ok());
  ASSERT_TRUE(EvaluateApplied(*catalog_, "schedule", "ops").ok());
  EXPECT_EQ(catalog_->QuarantinedProducts()->count("sales.orders"), 1u);
  spec::PolicySetting off;
  off.policy = "under-review";
  off.enabled = false;
  mesh.governance.settings.push_back(off);
  ASSERT_TRUE(Apply(mesh, /*dry_run=*/false).status.ok());
  ASSERT_TRUE(EvaluateApplied(*catalog_, "schedule", "ops").ok());
  EXPECT_TRUE(catalog_->QuarantinedProducts()->empty());
}

// ---- the policy set as the catalog stores it -----------------------------------------------

TEST_F(GovernanceTest, ThePolicySetSurvivesJson) {
  spec::Mesh mesh = CompliantMesh();
  spec::PolicySetting tuned;
  tuned.policy = "purpose";
  tuned.severity = "block";
  tuned.parameters["min_length"] = Number(25);
  mesh.governance.settings.push_back(tuned);
  spec::Policy review =
      GlobalPolicy("under-review",
                   "SELECT qualified_name AS entity, $note AS message FROM products "
                   "WHERE list_contains($watched, qualified_name) AND $on");
  review.quarantine = true;
  review.exemptible = true;
  review.rationale = "Audits flag products.";
  spec::PolicyParameter note;
  note.name = "note";
  note.description = "what the violation says";
  note.default_value = Text("flagged");
  note.allowed = {"flagged", "under audit"};
  spec::PolicyParameter watched;
  watched.name = "watched";
  watched.default_value = List({"sales.orders"});
  watched.allowed = {"sales.orders", "marketing.reach"};
  spec::PolicyParameter on;
  on.name = "on";
  on.default_value.kind = spec::PolicyValue::Kind::kBool;
  on.default_value.boolean = true;
  review.parameters = {note, watched, on};
  mesh.governance.policies.push_back(review);
  spec::PolicySetting stricter;
  stricter.policy = "purpose";
  stricter.parameters["min_length"] = Number(60);
  spec::PolicySetting watch_more;
  watch_more.policy = "under-review";
  watch_more.parameters["watched"] = List({"sales.orders", "marketing.reach"});
  watch_more.parameters["note"] = Text("under audit");
  DomainOf(mesh, "marketing").policy_settings = {stricter, watch_more};
  mesh.governance.exemptions.push_back(Exempt("purpose", "sales.orders", DayFromToday(3)));
  mesh.governance.exemptions.back().location = {"governance/exemptions.yaml", 2, 3};

  std::vector<spec::Diagnostic> problems;
  auto loaded = LoadPolicies(mesh, &problems);
  ASSERT_TRUE(loaded.ok()) << Problems(problems);
  const PolicySet& set = *loaded;
  auto restored = PolicySet::FromJson(nlohmann::json::parse(set.ToJson().dump()));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->ToJson(), set.ToJson());

  ASSERT_EQ(restored->policies.size(), 12u);
  const spec::Policy* purpose = restored->Find("purpose");
  ASSERT_NE(purpose, nullptr);
  EXPECT_EQ(purpose->severity, "block");
  EXPECT_TRUE(purpose->builtin);
  ASSERT_EQ(purpose->parameters.size(), 1u);
  EXPECT_EQ(purpose->parameters[0].default_value.number, 25);
  EXPECT_EQ(purpose->parameters[0].min, 1);
  EXPECT_EQ(purpose->parameters[0].max, 1000);
  EXPECT_EQ(purpose->sql, Builtin("purpose").sql);
  const spec::Policy* restored_review = restored->Find("under-review");
  ASSERT_NE(restored_review, nullptr);
  EXPECT_TRUE(restored_review->quarantine);
  EXPECT_FALSE(restored_review->builtin);
  EXPECT_EQ(restored_review->rationale, "Audits flag products.");
  EXPECT_EQ(restored_review->sql_location.line, 7);
  ASSERT_EQ(restored_review->parameters.size(), 3u);
  EXPECT_EQ(restored_review->parameters[0].default_value.text, "flagged");
  EXPECT_EQ(restored_review->parameters[0].allowed, note.allowed);
  EXPECT_EQ(restored_review->parameters[1].default_value.kind, spec::PolicyValue::Kind::kList);
  EXPECT_EQ(restored_review->parameters[1].default_value.list,
            std::vector<std::string>{"sales.orders"});
  EXPECT_EQ(restored_review->parameters[2].default_value.kind, spec::PolicyValue::Kind::kBool);
  EXPECT_TRUE(restored_review->parameters[2].default_value.boolean);
  auto& marketing = restored->domain_parameters.at("marketing");
  EXPECT_EQ(marketing.at("purpose").at("min_length").number, 60);
  EXPECT_EQ(marketing.at("under-review").at("watched").list,
            (std::vector<std::string>{"sales.orders", "marketing.reach"}));
  EXPECT_EQ(marketing.at("under-review").at("note").text, "under audit");
  ASSERT_EQ(restored->exemptions.size(), 1u);
  const spec::Exemption& e = restored->exemptions[0];
  EXPECT_EQ(e.policy, "purpose");
  EXPECT_EQ(e.entity, "sales.orders");
  EXPECT_EQ(e.justification, "Masking lands with the next release");
  EXPECT_EQ(e.approved_by, "governance-board");
  EXPECT_EQ(e.expires, DayFromToday(3));
  EXPECT_EQ(e.location.line, 2);

  // What matters: the stored set judges the mesh as the loaded one does.
  ASSERT_TRUE(catalog_->Apply(mesh, "ops").ok());
  Evaluation original = EvaluateCatalog(set);
  Evaluation again = EvaluateCatalog(*restored);
  ASSERT_EQ(original.violations.size(), again.violations.size());
  for (size_t i = 0; i < original.violations.size(); ++i) {
    EXPECT_EQ(original.violations[i].policy, again.violations[i].policy);
    EXPECT_EQ(original.violations[i].entity, again.violations[i].entity);
    EXPECT_EQ(original.violations[i].message, again.violations[i].message);
    EXPECT_EQ(original.violations[i].exemption, again.violations[i].exemption);
  }
  EXPECT_EQ(Entities(again, "under-review"),
            (std::set<std::string>{"sales.orders", "marketing.reach"}));
  for (const auto& v : Of(again, "under-review")) {
    EXPECT_EQ(v.message, v.domain == "marketing" ? "under audit" : "flagged") << v.entity;
  }
  // marketing's 40-character purpose fails its own 60; sales' passes the mesh's 25.
  EXPECT_EQ(Entities(again, "purpose"), (std::set<std::string>{"marketing.reach"}));
}

TEST(GovernancePolicySetJsonTest, RefusesAStoredSetItCannotRead) {
  EXPECT_FALSE(PolicySet::FromJson(nlohmann::json::object()).ok());
  EXPECT_FALSE(
      PolicySet::FromJson(nlohmann::json::parse(R"({"policies": [{"title": "x"}]})")).ok());
  auto bad_value = PolicySet::FromJson(nlohmann::json::parse(
      R"({"policies": [{"id": "p", "parameters": [{"name": "n", "default": null}]}]})"));
  EXPECT_FALSE(bad_value.ok());
}

}  // namespace
}  // namespace plexus::governance
