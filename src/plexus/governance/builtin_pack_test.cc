// The built-in pack on a mesh's products: a compliant mesh passes every policy; each built-in
// catches the one mistake it is about, and the block ones refuse the apply and leave the catalog
// as it was; a grant settles cross-domain input; the gate refuses only what an apply changes.
#include <gtest/gtest.h>

#include "plexus/governance/governance.h"
#include "plexus/governance/governance_test_util.h"

namespace plexus::governance {
namespace {

using namespace test_util;  // the shared mesh, its mistakes and the fixture

// ---- the built-in pack and the compliant mesh ---------------------------------------------

TEST(GovernanceBuiltinPackTest, HasTheElevenDocumentedPolicies) {
  std::set<std::string> ids;
  for (const auto& p : BuiltinPolicies()) {
    ids.insert(p.id);
    EXPECT_TRUE(p.builtin) << p.id;
    EXPECT_TRUE(p.enabled) << p.id;
    EXPECT_EQ(p.scope, "global") << p.id;
  }
  EXPECT_EQ(ids, (std::set<std::string>{"owner-team", "purpose", "port-contract",
                                        "columns-classified", "sensitive-masked", "freshness-sla",
                                        "snake-case", "no-deprecated-input", "semantic-versions",
                                        "primary-key-quality", "cross-domain-grant"}));
  EXPECT_EQ(BuiltinPolicies().size(), 11u);
}

TEST(GovernanceBuiltinPackTest, EveryBuiltinCompilesAgainstTheViews) {
  PolicySet set;
  set.policies = BuiltinPolicies();
  auto evaluator = Evaluator::Empty();
  ASSERT_TRUE(evaluator.ok()) << evaluator.status().ToString();
  Status compiled = (*evaluator)->Compile(set);
  EXPECT_TRUE(compiled.ok()) << compiled.ToString();
}

TEST_F(GovernanceTest, ACompliantMeshViolatesNoBuiltinPolicy) {
  Gated checked = Check(CompliantMesh());
  ASSERT_TRUE(checked.status.ok()) << checked.status.ToString();
  for (const auto& v : checked.evaluation.violations) {
    ADD_FAILURE() << v.policy << ": " << v.entity << ": " << v.message;
  }
  EXPECT_TRUE(checked.lines.empty());
  ASSERT_EQ(checked.evaluation.policies.size(), 11u);
  for (const auto& [id, standing] : checked.evaluation.policies) {
    EXPECT_EQ(standing.score, 100) << id;
    EXPECT_EQ(standing.products, 2) << id;
    EXPECT_EQ(standing.failing, 0) << id;
  }
  EXPECT_EQ(checked.evaluation.mesh.score, 100);
  EXPECT_EQ(checked.evaluation.domains.at("sales").score, 100);
  EXPECT_EQ(checked.evaluation.domains.at("marketing").score, 100);

  // Applied for real, the catalog's views say the same.
  Gated applied = Apply(CompliantMesh(), /*dry_run=*/false);
  ASSERT_TRUE(applied.status.ok()) << applied.status.ToString();
  Evaluation stored = EvaluateCatalog(Policies(CompliantMesh()));
  EXPECT_TRUE(stored.violations.empty());
  EXPECT_EQ(stored.mesh.products, 2);
}

TEST_F(GovernanceTest, ADryRunLeavesNothingBehind) {
  Gated checked = Check(CompliantMesh());
  ASSERT_TRUE(checked.status.ok()) << checked.status.ToString();
  EXPECT_FALSE(catalog_->GetProduct("sales.orders").ok());
  auto stored = catalog_->GovernancePolicies();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, "");
  auto applied = EvaluateApplied(*catalog_, "schedule", "ops");
  EXPECT_EQ(applied.status().code(), StatusCode::kNotFound);
}

// ---- each built-in policy catches its mistake ----------------------------------------------

struct Mistake {
  std::string policy;
  std::function<void(spec::Mesh&)> make;
  std::string entity;   ///< the entity the violation names
  std::string product;  ///< the product it is counted against
  /// Other policies the mistake violates by its nature (a port without a contract has no SLA).
  std::set<std::string> also = {};
};

void PrintTo(const Mistake& m, std::ostream* os) { *os << m.policy; }

class GovernanceBuiltinPolicyTest : public GovernanceTest,
                                    public ::testing::WithParamInterface<Mistake> {};

TEST_P(GovernanceBuiltinPolicyTest, CatchesItsMistake) {
  const Mistake& mistake = GetParam();
  const spec::Policy& policy = Builtin(mistake.policy);
  spec::Mesh mesh = CompliantMesh();
  mistake.make(mesh);

  Gated checked = Check(mesh);
  std::set<std::string> expected = mistake.also;
  expected.insert(mistake.policy);
  EXPECT_EQ(Violated(checked.evaluation), expected);
  auto violations = Of(checked.evaluation, mistake.policy);
  ASSERT_EQ(violations.size(), 1u);
  const Violation& v = violations[0];
  EXPECT_EQ(v.entity, mistake.entity);
  EXPECT_EQ(v.severity, policy.severity);
  EXPECT_EQ(v.product, mistake.product);
  EXPECT_EQ(v.domain, mistake.product.substr(0, mistake.product.find('.')));
  EXPECT_FALSE(v.message.empty());
  EXPECT_TRUE(v.exemption.empty());
  EXPECT_FALSE(v.quarantine);
  EXPECT_EQ(checked.evaluation.policies.at(mistake.policy).failing, 1);

  // The catalog as a compliant apply left it; then the mistake applied for real.
  Gated first = Apply(CompliantMesh(), /*dry_run=*/false);
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  auto evaluations_before = catalog_->ListGovernanceEvaluations(100);
  ASSERT_TRUE(evaluations_before.ok());
  Gated applied = Apply(Edited(mesh), /*dry_run=*/false);
  std::string line_prefix = (policy.severity == "block" ? "refused: " : "warning: ") +
                            mistake.policy + " (" + policy.severity + "): " + mistake.entity + ": ";
  EXPECT_TRUE(applied.HasLine(line_prefix)) << line_prefix;
  auto evaluations_after = catalog_->ListGovernanceEvaluations(100);
  ASSERT_TRUE(evaluations_after.ok());
  Evaluation now = EvaluateCatalog(Policies(CompliantMesh()));
  if (policy.severity == "block") {
    EXPECT_EQ(checked.status.code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(applied.status.code(), StatusCode::kFailedPrecondition) << applied.status.ToString();
    EXPECT_NE(applied.status.message().find(mistake.policy), std::string::npos)
        << applied.status.message();
    // Nothing of the refused apply is in the catalog: it is still the compliant mesh, and the
    // refused evaluation is not in the history.
    EXPECT_TRUE(now.violations.empty());
    EXPECT_EQ(evaluations_after->size(), evaluations_before->size());
    auto product = catalog_->GetProduct("sales.orders");
    ASSERT_TRUE(product.ok());
    EXPECT_EQ(product->version, "1.0.0");
  } else {
    EXPECT_TRUE(checked.status.ok()) << checked.status.ToString();
    EXPECT_TRUE(applied.status.ok()) << applied.status.ToString();
    EXPECT_EQ(Entities(now, mistake.policy), (std::set<std::string>{mistake.entity}));
    EXPECT_EQ(evaluations_after->size(), evaluations_before->size() + 1);
  }
}

const Mistake kMistakes[] = {
    {"owner-team", [](spec::Mesh& m) { Orders(m).product.team.clear(); }, "sales.orders",
     "sales.orders"},
    {"purpose", [](spec::Mesh& m) { Orders(m).product.purpose = "tbd"; }, "sales.orders",
     "sales.orders"},
    // The catalog takes a port whose contract the bundle lacks; without the contract there is
    // no SLA either. (PortContractTest below makes the same mistake alone.)
    {"port-contract",
     [](spec::Mesh& m) { Orders(m).product.output_ports[0].contract_id = "urn:shop:sales:gone"; },
     "sales.orders.orders",
     "sales.orders",
     {"freshness-sla"}},
    {"columns-classified",
     [](spec::Mesh& m) { OrdersColumn(m, "customer_id").classification = ""; },
     "sales.orders.orders.customer_id", "sales.orders"},
    {"sensitive-masked", [](spec::Mesh& m) { OrdersColumn(m, "email").mask = ""; },
     "sales.orders.orders.email", "sales.orders"},
    {"freshness-sla", [](spec::Mesh& m) { OrdersContract(m).sla.clear(); }, "sales.orders.orders",
     "sales.orders"},
    {"snake-case", [](spec::Mesh& m) { OrdersColumn(m, "customer_id").name = "CustomerId"; },
     "sales.orders.orders.CustomerId", "sales.orders"},
    {"no-deprecated-input", [](spec::Mesh& m) { OrdersContract(m).status = "deprecated"; },
     "marketing.reach.orders", "marketing.reach"},
    {"semantic-versions", [](spec::Mesh& m) { Orders(m).product.version = "1.0"; }, "sales.orders",
     "sales.orders"},
    {"primary-key-quality", [](spec::Mesh& m) { OrdersColumn(m, "order_id").quality.clear(); },
     "sales.orders.orders.order_id", "sales.orders"},
    {"cross-domain-grant", [](spec::Mesh& m) { OrdersContract(m).visibility = "restricted"; },
     "marketing.reach.orders", "marketing.reach"},
};

INSTANTIATE_TEST_SUITE_P(Builtins, GovernanceBuiltinPolicyTest, ::testing::ValuesIn(kMistakes),
                         [](const ::testing::TestParamInfo<Mistake>& info) {
                           std::string name = info.param.policy;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

TEST(GovernanceBuiltinCoverageTest, EveryBuiltinHasAMistake) {
  std::set<std::string> covered;
  for (const auto& m : kMistakes) covered.insert(m.policy);
  for (const auto& p : BuiltinPolicies()) EXPECT_TRUE(covered.count(p.id)) << p.id;
}

// The contract row gone from under an applied port (the mesh cannot say it: a contract the
// bundle lacks takes the port's SLA and columns with it), so port-contract is the only policy
// that notices.
TEST_F(GovernanceTest, PortContractCatchesAPortWhoseContractIsNotApplied) {
  Gated applied = Apply(CompliantMesh(), /*dry_run=*/false);
  ASSERT_TRUE(applied.status.ok()) << applied.status.ToString();
  auto raw = catalog::testing::OpenRaw(home_);
  ASSERT_EQ(catalog::testing::Exec(
                raw, std::string("DELETE FROM contracts WHERE id = '") + kOrdersContract + "'"),
            "");
  Evaluation e = EvaluateCatalog(Policies(CompliantMesh()));
  EXPECT_EQ(Violated(e), (std::set<std::string>{"port-contract"}));
  auto violations = Of(e, "port-contract");
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].entity, "sales.orders.orders");
  EXPECT_NE(violations[0].message.find(kOrdersContract), std::string::npos)
      << violations[0].message;
  EXPECT_EQ(e.mesh.block, 1);
}

TEST_F(GovernanceTest, AGrantToTheReadingDomainSettlesCrossDomainInput) {
  spec::Mesh mesh = CompliantMesh();
  OrdersContract(mesh).visibility = "restricted";
  Gated applied = Apply(mesh, /*dry_run=*/false);  // a warning: applied
  ASSERT_TRUE(applied.status.ok()) << applied.status.ToString();
  PolicySet set = Policies(mesh);
  Evaluation before = EvaluateCatalog(set);
  EXPECT_EQ(Entities(before, "cross-domain-grant"),
            (std::set<std::string>{"marketing.reach.orders"}));
  auto violation = Of(before, "cross-domain-grant");
  ASSERT_EQ(violation.size(), 1u);
  EXPECT_NE(violation[0].message.find("svc_marketing"), std::string::npos);

  // A grant to another principal does not count.
  catalog::GrantRecord other;
  other.grantee = "frank";
  other.target = "sales.orders";
  other.purpose = "campaign reach";
  ASSERT_TRUE(catalog_->CreateGrant(other, "carol").ok());
  EXPECT_EQ(Entities(EvaluateCatalog(set), "cross-domain-grant").size(), 1u);

  catalog::GrantRecord grant;
  grant.grantee = "svc_marketing";
  grant.target = "sales.orders";
  grant.purpose = "campaign reach";
  auto id = catalog_->CreateGrant(grant, "carol");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  Evaluation after = EvaluateCatalog(set);
  EXPECT_TRUE(Of(after, "cross-domain-grant").empty());
  EXPECT_TRUE(after.violations.empty());

  // Revoked, the grant no longer settles it.
  ASSERT_TRUE(catalog_->RevokeGrant(*id, "carol").ok());
  EXPECT_EQ(Entities(EvaluateCatalog(set), "cross-domain-grant").size(), 1u);

  // A grant on the port itself settles it too.
  catalog::GrantRecord on_port;
  on_port.grantee = "svc_marketing";
  on_port.target = "sales.orders.orders";
  on_port.purpose = "campaign reach";
  auto port_id = catalog_->CreateGrant(on_port, "carol");
  ASSERT_TRUE(port_id.ok()) << port_id.status().ToString();
  EXPECT_TRUE(Of(EvaluateCatalog(set), "cross-domain-grant").empty());
  ASSERT_TRUE(catalog_->RevokeGrant(*port_id, "carol").ok());
  EXPECT_EQ(Entities(EvaluateCatalog(set), "cross-domain-grant").size(), 1u);

  // A grant to a group the service principal belongs to settles it too.
  ASSERT_TRUE(catalog_->AddGroupMember("campaigns", "svc_marketing", "ops").ok());
  catalog::GrantRecord to_group;
  to_group.grantee = "campaigns";
  to_group.grantee_kind = "group";
  to_group.target = "sales.orders.orders";
  to_group.purpose = "campaign reach";
  ASSERT_TRUE(catalog_->CreateGrant(to_group, "carol").ok());
  EXPECT_TRUE(Of(EvaluateCatalog(set), "cross-domain-grant").empty());
}

TEST_F(GovernanceTest, ABlockViolationOfAProductTheApplyLeavesAloneDoesNotRefuseIt) {
  spec::Mesh broken = CompliantMesh();
  OrdersColumn(broken, "email").mask = "";
  // Applied without governance: the violation is in the catalog.
  ASSERT_TRUE(catalog_->Apply(broken, "ops").ok());
  // The next apply changes marketing.reach only.
  spec::Mesh next = broken;
  DomainOf(next, "marketing").products[0].product.source_text = "# reach edited\n";
  Gated applied = Apply(next, /*dry_run=*/false);
  EXPECT_TRUE(applied.status.ok()) << applied.status.ToString();
  EXPECT_TRUE(applied.HasLine("warning: sensitive-masked (block): sales.orders.orders.email: "));
  EXPECT_EQ(applied.evaluation.mesh.block, 1);
  // Changing sales.orders is refused until it is fixed.
  Gated refused = Apply(Edited(broken, "orders edited"), /*dry_run=*/false);
  EXPECT_EQ(refused.status.code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace plexus::governance
