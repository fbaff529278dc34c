// The warm views (ViewStore::kWarm, plexus serve's): after each kind of catalog change an
// evaluation through them finds exactly what a fresh in-memory one finds, re-exporting only
// what changed; views another evaluation of the process holds are not waited for (the views are
// loaded in memory); dropped, they are loaded whole again.
#include <gtest/gtest.h>

#include <tuple>

#include "plexus/governance/governance.h"
#include "plexus/governance/governance_test_util.h"

namespace plexus::governance {
namespace {

using namespace test_util;  // the shared mesh, its mistakes and the fixture

using Found = std::vector<std::tuple<std::string, std::string, std::string, std::string, bool>>;

/// What an evaluation tells a user: each violation (policy, entity, message, exemption,
/// quarantine) and the scores.
Found Findings(const Evaluation& e) {
  Found out;
  for (const auto& v : e.violations) {
    out.emplace_back(v.policy, v.entity, v.message, v.exemption, v.quarantine);
  }
  out.emplace_back("score", "mesh", std::to_string(e.mesh.score), "", false);
  for (const auto& [domain, s] : e.domains) {
    out.emplace_back("score", domain, std::to_string(s.score), "", false);
  }
  return out;
}

class GovernanceMirrorTest : public GovernanceTest {
 protected:
  ~GovernanceMirrorTest() override { Evaluator::DropWarm(*catalog_); }

  /// The shop's policies with some that read what runs, grants and lifecycles change.
  static spec::Mesh ShopWithPolicies() {
    spec::Mesh mesh = Edited(CompliantMesh());
    auto& policies = mesh.governance.policies;
    policies.push_back(GlobalPolicy(
        "run-failed", "SELECT domain || '.' || product AS entity, reason AS message FROM runs "
                      "WHERE status = 'failed'"));
    policies.push_back(GlobalPolicy(
        "check-failed", "SELECT domain || '.' || product || '.' || port AS entity, check_name "
                        "AS message FROM quality_results WHERE status = 'failed'"));
    policies.push_back(GlobalPolicy(
        "never-published", "SELECT qualified_name AS entity, 'never published' AS message "
                           "FROM ports WHERE rows IS NULL"));
    policies.push_back(GlobalPolicy(
        "retired", "SELECT qualified_name AS entity, status AS message FROM products "
                   "WHERE status = 'retired'"));
    policies.push_back(GlobalPolicy(
        "active-grant", "SELECT target AS entity, grantee AS message FROM grants WHERE active"));
    return mesh;
  }

  /// `set` evaluated at `now` with the views in `store`.
  Evaluation EvaluateIn(const PolicySet& set, ViewStore store,
                        const std::string& now = catalog::NowUtc()) {
    auto evaluator = Evaluator::FromCatalog(*catalog_, now, &set, store);
    EXPECT_TRUE(evaluator.ok()) << evaluator.status().ToString();
    if (!evaluator.ok()) return {};
    auto evaluation = (*evaluator)->Evaluate(set, now);
    EXPECT_TRUE(evaluation.ok()) << evaluation.status().ToString();
    return evaluation.ok() ? *evaluation : Evaluation{};
  }

  /// Evaluates through the warm views and in memory, expecting the same findings; the warm one.
  Evaluation Compare(const PolicySet& set, const std::string& now = catalog::NowUtc()) {
    Evaluation mirrored = EvaluateIn(set, ViewStore::kWarm, now);
    Evaluation fresh = EvaluateIn(set, ViewStore::kMemory, now);
    EXPECT_EQ(mirrored.store, "warm");
    EXPECT_EQ(fresh.store, "memory");
    EXPECT_EQ(Findings(mirrored), Findings(fresh));
    return mirrored;
  }

  static bool Refreshed(const Evaluation& e, const std::string& view) {
    return std::find(e.refreshed.begin(), e.refreshed.end(), view) != e.refreshed.end();
  }
};

TEST_F(GovernanceMirrorTest, FindsWhatAFreshEvaluationFindsAfterEachChange) {
  spec::Mesh mesh = ShopWithPolicies();
  PolicySet set = Policies(mesh);
  ASSERT_TRUE(catalog_->Apply(mesh, "ops").ok());
  Evaluation first = Compare(set);
  EXPECT_TRUE(Refreshed(first, "columns"));  // none kept yet: every view loaded
  EXPECT_EQ(Entities(first, "never-published"),
            (std::set<std::string>{"sales.orders.orders", "marketing.reach.reach"}));

  // Nothing changed: only the views that read the evaluation's time are made again (of those
  // the policies read: not slo_status).
  Evaluation unchanged = Compare(set);
  EXPECT_EQ(unchanged.refreshed, (std::vector<std::string>{"evaluation", "grants"}));

  // A changed product: its email column loses its mask.
  OrdersColumn(mesh, "email").mask = "";
  mesh = Edited(mesh, "email unmasked");
  ASSERT_TRUE(catalog_->Apply(mesh, "ops").ok());
  Evaluation changed = Compare(set);
  EXPECT_TRUE(Refreshed(changed, "columns"));
  EXPECT_EQ(Entities(changed, "sensitive-masked"), (std::set<std::string>{"sales.orders.orders.email"}));

  // A grant: the grants are exported again, not the columns.
  catalog::GrantRecord grant;
  grant.grantee = "svc_marketing";
  grant.target = "sales.orders";
  grant.purpose = "campaign reach";
  ASSERT_TRUE(catalog_->CreateGrant(grant, "carol").ok());
  Evaluation granted = Compare(set);
  EXPECT_FALSE(Refreshed(granted, "columns"));
  EXPECT_TRUE(Of(granted, "cross-domain-grant").empty());
  EXPECT_EQ(Entities(granted, "active-grant"), (std::set<std::string>{"sales.orders"}));

  // A failed run with a failed check, and a publication.
  auto run = catalog_->StartRun(Orders(mesh).product.id);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_TRUE(catalog_->FinishRun(*run, "failed", "quality check failed", 10).ok());
  catalog::OutputPortRecord port;
  port.product_id = Orders(mesh).product.id;
  port.name = "orders";
  port.major = 1;
  ASSERT_TRUE(catalog_->RecordPublication(port, 10, *run).ok());
  catalog::QualityResultRecord check;
  check.run_id = *run;
  check.product_id = Orders(mesh).product.id;
  check.port = "orders";
  check.major = 1;
  check.rule = "duplicateValues";
  check.column = "order_id";
  check.check = "order_id unique";
  check.status = "failed";
  check.severity = "error";
  check.checked_at = catalog::NowUtc();
  ASSERT_TRUE(catalog_->RecordQualityResults({check}).ok());
  Evaluation ran = Compare(set);
  EXPECT_FALSE(Refreshed(ran, "columns"));
  EXPECT_TRUE(Refreshed(ran, "runs"));
  EXPECT_EQ(Entities(ran, "run-failed"), (std::set<std::string>{"sales.orders"}));
  EXPECT_EQ(Entities(ran, "check-failed"), (std::set<std::string>{"sales.orders.orders"}));
  EXPECT_EQ(Entities(ran, "never-published"), (std::set<std::string>{"marketing.reach.reach"}));

  // An exemption in force, then past its expiry (the evaluation's time moves, not the catalog).
  set.exemptions.push_back(Exempt("sensitive-masked", "sales.orders", DayFromToday(1)));
  Evaluation exempted = Compare(set);
  ASSERT_EQ(Of(exempted, "sensitive-masked").size(), 1u);
  EXPECT_FALSE(Of(exempted, "sensitive-masked")[0].exemption.empty());
  Evaluation expired = Compare(set, DayFromToday(3) + "T00:00:00Z");
  ASSERT_EQ(Of(expired, "sensitive-masked").size(), 1u);
  EXPECT_TRUE(Of(expired, "sensitive-masked")[0].exemption.empty());

  // A retired product.
  DomainOf(mesh, "marketing").products[0].product.status = "retired";
  mesh = Edited(mesh, "reach retired");
  ASSERT_TRUE(catalog_->Apply(mesh, "ops").ok());
  Evaluation retired = Compare(set);
  EXPECT_EQ(Entities(retired, "retired"), (std::set<std::string>{"marketing.reach"}));
}

TEST_F(GovernanceMirrorTest, DroppedViewsAreLoadedWholeAgain) {
  spec::Mesh mesh = ShopWithPolicies();
  PolicySet set = Policies(mesh);
  ASSERT_TRUE(catalog_->Apply(mesh, "ops").ok());
  Compare(set);
  EXPECT_FALSE(Refreshed(Compare(set), "columns"));
  Evaluator::DropWarm(*catalog_);
  Evaluation reloaded = Compare(set);
  EXPECT_TRUE(Refreshed(reloaded, "columns"));
  EXPECT_TRUE(Refreshed(reloaded, "products"));
}

TEST_F(GovernanceMirrorTest, ViewsHeldByAnotherEvaluationAreNotWaitedFor) {
  spec::Mesh mesh = ShopWithPolicies();
  PolicySet set = Policies(mesh);
  ASSERT_TRUE(catalog_->Apply(mesh, "ops").ok());
  Evaluation alone = Compare(set);

  // Another evaluation of this process (plexus serve's schedule while a report is asked).
  auto holder = Evaluator::FromCatalog(*catalog_, catalog::NowUtc(), &set, ViewStore::kWarm);
  ASSERT_TRUE(holder.ok()) << holder.status().ToString();
  Evaluation meanwhile = EvaluateIn(set, ViewStore::kWarm);
  EXPECT_NE(meanwhile.store.find("memory (the warm views could not be used"), std::string::npos)
      << meanwhile.store;
  EXPECT_NE(meanwhile.store.find("another evaluation of this process"), std::string::npos);
  EXPECT_EQ(Findings(meanwhile), Findings(alone));
  holder->reset();

  // Released, the warm views serve again, as they were.
  Evaluation again = EvaluateIn(set, ViewStore::kWarm);
  EXPECT_EQ(again.store, "warm");
  EXPECT_FALSE(Refreshed(again, "columns"));
  EXPECT_EQ(Findings(again), Findings(alone));
}

}  // namespace
}  // namespace plexus::governance
