// Alerts: fired once, never repeated while firing, resolved once, each sent to a real webhook
// on 127.0.0.1 with its JSON; the state survives reopening the catalog.
#include "plexus/observe/alerts.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "plexus/observe/http_receiver_test_util.h"
#include "plexus/observe/observe_home_test_util.h"

namespace plexus::observe {
namespace {

using testing::HttpReceiver;

AlertCondition Breach(const std::string& product, const std::string& port) {
  AlertCondition c;
  c.entity = product + "." + port + "/freshness";
  c.product = product;
  c.severity = "critical";
  c.message = "freshness of " + product + "." + port + " is breached";
  return c;
}

struct AlertHome {
  catalog::Home home;
  std::unique_ptr<catalog::Catalog> catalog;
};

AlertHome OpenHome(const std::string& root) {
  auto home = catalog::Home::Prepare(root);
  EXPECT_TRUE(home.ok());
  auto catalog = catalog::Catalog::Open(*home);
  EXPECT_TRUE(catalog.ok()) << catalog.status().message();
  return {*home, std::move(*catalog)};
}

spec::MeshObservability Settings(const std::string& webhook) {
  spec::MeshObservability settings;
  settings.alerts_webhook = webhook;
  settings.alerts_log = false;
  return settings;
}

TEST(AlertsTest, FiresOnceResolvesOnceAndSendsBothToTheWebhook) {
  HttpReceiver webhook;
  auto root = (testing::ScratchDir() / "home").string();
  auto h = OpenHome(root);
  auto dispatcher = Dispatcher::Start({.name = "alerts"});
  AlertEngine engine(h.catalog.get(), Settings(webhook.Url("/hook")), dispatcher.get());

  std::vector<AlertCondition> active = {Breach("sales.orders", "orders")};
  ASSERT_TRUE(engine.Reconcile(kSloBreach, "", active).ok());
  ASSERT_TRUE(engine.Reconcile(kSloBreach, "", active).ok());  // still firing: nothing sent
  ASSERT_TRUE(dispatcher->Flush(5));
  auto firing = h.catalog->ListAlerts("firing", 0);
  ASSERT_TRUE(firing.ok());
  ASSERT_EQ(firing->size(), 1u);
  EXPECT_EQ(firing->at(0).key, "slo_breach:sales.orders.orders/freshness");
  EXPECT_EQ(webhook.requests(), 1);

  auto sent = webhook.Json(1);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["status"], "firing");
  EXPECT_EQ(sent[0]["kind"], "slo_breach");
  EXPECT_EQ(sent[0]["entity"], "sales.orders.orders/freshness");
  EXPECT_EQ(sent[0]["product"], "sales.orders");
  EXPECT_EQ(sent[0]["severity"], "critical");
  EXPECT_EQ(sent[0]["message"], "freshness of sales.orders.orders is breached");
  EXPECT_EQ(sent[0]["id"], firing->at(0).id);
  EXPECT_TRUE(sent[0]["fired_at"].is_string());
  EXPECT_TRUE(sent[0]["resolved_at"].is_null());

  ASSERT_TRUE(engine.Reconcile(kSloBreach, "", {}).ok());
  ASSERT_TRUE(engine.Reconcile(kSloBreach, "", {}).ok());  // resolved already: nothing sent
  ASSERT_TRUE(dispatcher->Flush(5));
  auto both = webhook.Json(2);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(webhook.requests(), 2);
  EXPECT_EQ(both[1]["status"], "resolved");
  EXPECT_EQ(both[1]["id"], sent[0]["id"]);
  EXPECT_EQ(both[1]["fired_at"], sent[0]["fired_at"]);
  EXPECT_TRUE(both[1]["resolved_at"].is_string());
  EXPECT_TRUE(h.catalog->ListAlerts("firing", 0)->empty());
  EXPECT_EQ(h.catalog->ListAlerts("resolved", 0)->size(), 1u);
}

TEST(AlertsTest, AFiringAlertSurvivesReopeningTheCatalog) {
  HttpReceiver webhook;
  auto root = (testing::ScratchDir() / "home").string();
  std::vector<AlertCondition> active = {Breach("sales.orders", "orders")};
  {
    auto h = OpenHome(root);
    auto dispatcher = Dispatcher::Start({.name = "alerts"});
    AlertEngine engine(h.catalog.get(), Settings(webhook.Url()), dispatcher.get());
    ASSERT_TRUE(engine.Reconcile(kSloBreach, "", active).ok());
  }  // a restart
  auto h = OpenHome(root);
  auto dispatcher = Dispatcher::Start({.name = "alerts"});
  AlertEngine engine(h.catalog.get(), Settings(webhook.Url()), dispatcher.get());
  ASSERT_TRUE(engine.Reconcile(kSloBreach, "", active).ok());
  ASSERT_TRUE(dispatcher->Flush(5));
  EXPECT_EQ(webhook.requests(), 1);  // not again after the restart
  ASSERT_TRUE(engine.Reconcile(kSloBreach, "", {}).ok());
  ASSERT_TRUE(dispatcher->Flush(5));
  auto sent = webhook.Json(2);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1]["status"], "resolved");
}

TEST(AlertsTest, AProductsReconcileLeavesOtherProductsAndKindsAlone) {
  auto root = (testing::ScratchDir() / "home").string();
  auto h = OpenHome(root);
  AlertEngine engine(h.catalog.get(), Settings(""), nullptr);
  ASSERT_TRUE(engine
                  .Reconcile(kSloBreach, "",
                             {Breach("sales.orders", "orders"), Breach("crm.people", "people")})
                  .ok());
  AlertCondition failed{"", "", "sales.orders", "sales.orders", "critical", "run 3 failed"};
  ASSERT_TRUE(engine.Reconcile(kPipelineFailure, "sales.orders", {failed}).ok());
  ASSERT_TRUE(engine.Reconcile(kSloBreach, "crm.people", {}).ok());
  auto firing = h.catalog->ListAlerts("firing", 0);
  ASSERT_TRUE(firing.ok());
  std::set<std::string> keys;
  for (const auto& a : *firing) keys.insert(a.key);
  EXPECT_EQ(keys, (std::set<std::string>{"slo_breach:sales.orders.orders/freshness",
                                         "pipeline_failure:sales.orders"}));
  auto all = h.catalog->ListAlerts("", 2);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);  // the limit, newest fired first
  EXPECT_EQ(all->at(0).kind, "pipeline_failure");
  EXPECT_EQ(all->at(1).status, "resolved");
  EXPECT_EQ(all->at(1).product, "crm.people");
}

}  // namespace
}  // namespace plexus::observe

namespace plexus::observe {
namespace {

/// A finished run of `product_id` with these quality results (status: succeeded or failed).
int64_t RecordRun(catalog::Catalog& catalog, const std::string& product_id,
                  const std::string& status, const std::vector<std::string>& rule_statuses) {
  auto run = catalog.StartRun(product_id);
  EXPECT_TRUE(run.ok());
  std::vector<catalog::QualityResultRecord> results;
  for (size_t i = 0; i < rule_statuses.size(); i++) {
    catalog::QualityResultRecord q;
    q.run_id = *run;
    q.product_id = product_id;
    q.port = "orders";
    q.major = 1;
    q.rule_position = static_cast<int>(i);
    q.rule = "rule" + std::to_string(i);
    q.column = "order_id";
    q.check = "nullValues";
    q.status = rule_statuses[i];
    q.severity = i == 0 ? "error" : "warning";
    q.message = rule_statuses[i] == "failed" ? "3 rows" : "";
    q.checked_at = catalog::NowUtc();
    results.push_back(q);
  }
  EXPECT_TRUE(catalog.RecordQualityResults(results).ok());
  EXPECT_TRUE(catalog.FinishRun(*run, status, status == "failed" ? "bad input" : "", 10).ok());
  return *run;
}

std::map<std::string, std::string> Firing(catalog::Catalog& catalog) {
  std::map<std::string, std::string> out;  // key -> severity
  auto firing = catalog.ListAlerts("firing", 0);
  EXPECT_TRUE(firing.ok());
  for (const auto& a : *firing) out[a.key] = a.severity;
  return out;
}

TEST(RunAlertsTest, QualityFailuresFireUntilTheNextRunPassesThem) {
  auto applied = testing::ApplyExampleMesh([](spec::Mesh&) {});
  auto& catalog = *applied.catalog;
  auto product = catalog.GetProduct("orders.orders");
  ASSERT_TRUE(product.ok());
  AlertEngine engine(&catalog, spec::MeshObservability{}, nullptr);
  int64_t run = RecordRun(catalog, product->id, "succeeded", {"failed", "failed"});
  ASSERT_TRUE(ReconcileRunAlerts(engine, catalog, run, product->id).ok());
  EXPECT_EQ(Firing(catalog),
            (std::map<std::string, std::string>{
                {"quality_failure:orders.orders.orders.order_id/rule0", "critical"},
                {"quality_failure:orders.orders.orders.order_id/rule1", "warning"}}));
  // A run that failed before checking leaves them; then its pipeline alert fires.
  run = RecordRun(catalog, product->id, "failed", {});
  ASSERT_TRUE(ReconcileRunAlerts(engine, catalog, run, product->id).ok());
  EXPECT_EQ(Firing(catalog).size(), 3u);
  EXPECT_TRUE(Firing(catalog).count("pipeline_failure:orders.orders"));
  run = RecordRun(catalog, product->id, "succeeded", {"passed", "failed"});
  ASSERT_TRUE(ReconcileRunAlerts(engine, catalog, run, product->id).ok());
  EXPECT_EQ(Firing(catalog),
            (std::map<std::string, std::string>{
                {"quality_failure:orders.orders.orders.order_id/rule1", "warning"}}));
  auto resolved = catalog.ListAlerts("resolved", 0);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->size(), 2u);
}

TEST(RunAlertsTest, SchemaDriftFiresForAPauseAndForUndeclaredProposedColumns) {
  auto applied = testing::ApplyExampleMesh([](spec::Mesh&) {});
  auto& catalog = *applied.catalog;
  auto product = catalog.GetProduct("orders.orders");
  ASSERT_TRUE(product.ok());
  AlertEngine engine(&catalog, spec::MeshObservability{}, nullptr);
  ASSERT_TRUE(catalog
                  .SetPipelinePaused(product->id,
                                     "the source has column(s) the contract does not declare: "
                                     "coupon (new_columns: pause)")
                  .ok());
  for (const std::string column : {"channel", "status"}) {  // status: declared, no drift
    ASSERT_TRUE(
        catalog.RecordSchemaProposal({product->id, "orders", column, "VARCHAR", "1.1.0", ""}).ok());
  }
  int64_t run = RecordRun(catalog, product->id, "succeeded", {});
  ASSERT_TRUE(ReconcileRunAlerts(engine, catalog, run, product->id).ok());
  EXPECT_EQ(Firing(catalog), (std::map<std::string, std::string>{
                                 {"schema_drift:orders.orders", "critical"},
                                 {"schema_drift:orders.orders.orders.channel", "warning"}}));
  // Resumed: the pause's alert resolves; the undeclared column's stays.
  ASSERT_TRUE(catalog.SetPipelinePaused(product->id, "").ok());
  run = RecordRun(catalog, product->id, "succeeded", {});
  ASSERT_TRUE(ReconcileRunAlerts(engine, catalog, run, product->id).ok());
  EXPECT_EQ(Firing(catalog), (std::map<std::string, std::string>{
                                 {"schema_drift:orders.orders.orders.channel", "warning"}}));
  // A pause an operator asked for is no drift.
  ASSERT_TRUE(catalog.SetPipelinePaused(product->id, "maintenance").ok());
  ASSERT_TRUE(ReconcileRunAlerts(engine, catalog, run, product->id).ok());
  EXPECT_EQ(Firing(catalog).size(), 1u);
}

}  // namespace
}  // namespace plexus::observe
