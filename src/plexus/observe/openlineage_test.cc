// OpenLineage events of real pipeline runs of the example mesh, received by a real HTTP
// endpoint on 127.0.0.1 and written by the file transport: START then COMPLETE (or FAIL) with
// one runId, the datasets, the schema and columnLineage facets; and a failed run's alert.
#include "plexus/observe/openlineage.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "plexus/observe/alerts.h"
#include "plexus/observe/http_receiver_test_util.h"
#include "plexus/observe/observe_home_test_util.h"
#include "plexus/pipeline/runner.h"

namespace plexus::observe {
namespace {

using nlohmann::json;
using testing::ApplyExampleMesh;
using testing::HttpReceiver;

/// Hears of every run like serve's observer, and emits (and reconciles) at once.
class EmittingObserver : public catalog::RunObserver {
 public:
  EmittingObserver(LineageEmitter* lineage, AlertEngine* alerts, catalog::Catalog* catalog)
      : lineage_(lineage), alerts_(alerts), catalog_(catalog) {}
  void RunStarted(int64_t run_id, const std::string& product_id,
                  const std::string& trigger) override {
    lineage_->RunStarted(run_id, product_id, trigger);
  }
  void RunFinished(int64_t run_id, const std::string& product_id,
                   const std::string& status) override {
    lineage_->RunFinished(run_id, product_id, status);
    if (alerts_ != nullptr) {
      Status s = ReconcileRunAlerts(*alerts_, *catalog_, run_id, product_id);
      EXPECT_TRUE(s.ok()) << s.message();
    }
  }

 private:
  LineageEmitter* lineage_;
  AlertEngine* alerts_;
  catalog::Catalog* catalog_;
};

/// The events of each job, in the order they came.
std::map<std::string, std::vector<json>> ByJob(const std::vector<json>& events) {
  std::map<std::string, std::vector<json>> out;
  for (const auto& e : events) out[e["job"]["name"].get<std::string>()].push_back(e);
  return out;
}

void ExpectFacet(const json& facet, const std::string& schema) {
  EXPECT_EQ(facet["_producer"], kLineageProducer);
  EXPECT_NE(facet["_schemaURL"].get<std::string>().find(schema), std::string::npos) << facet;
}

std::vector<std::string> FieldNames(const json& schema_facet) {
  std::vector<std::string> names;
  for (const auto& f : schema_facet["fields"]) {
    EXPECT_FALSE(f["type"].get<std::string>().empty()) << f;
    names.push_back(f["name"]);
  }
  return names;
}

void ExpectEnvelope(const json& e) {
  static const std::regex kUuid(
      "[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  EXPECT_EQ(e["producer"], kLineageProducer);
  EXPECT_EQ(e["schemaURL"], kRunEventSchemaUrl);
  EXPECT_TRUE(std::regex_match(e["run"]["runId"].get<std::string>(), kUuid)) << e["run"];
  EXPECT_EQ(e["eventTime"].get<std::string>().back(), 'Z');
  EXPECT_EQ(e["job"]["namespace"], "jaffle-mesh");
  const json& job_type = e["job"]["facets"]["jobType"];
  ExpectFacet(job_type, "JobTypeJobFacet.json");
  EXPECT_EQ(job_type["processingType"], "BATCH");
  EXPECT_EQ(job_type["integration"], "PLEXUS");
  EXPECT_TRUE(e["inputs"].is_array());
  EXPECT_TRUE(e["outputs"].is_array());
}

TEST(OpenLineageTest, RunEventsOfRealRunsReachTheEndpointAndTheFile) {
  HttpReceiver receiver;
  auto applied = ApplyExampleMesh([&](spec::Mesh& mesh) {
    mesh.observability.openlineage_url = receiver.Url("/api/v1/lineage");
    mesh.observability.openlineage_file = "lineage/events.ndjson";
  });
  auto settings = applied.catalog->ObservabilitySettings();
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->openlineage_namespace, "jaffle-mesh");  // the mesh's name by default
  auto dispatcher = Dispatcher::Start({.name = "openlineage"});
  LineageEmitter lineage(applied.catalog.get(), *settings, dispatcher.get(), applied.home.root());
  applied.catalog->SetRunObserver(
      std::make_shared<EmittingObserver>(&lineage, nullptr, applied.catalog.get()));
  pipeline::PipelineRunner runner(applied.home, applied.catalog.get());
  auto reports = runner.Run({});
  applied.catalog->SetRunObserver(nullptr);
  ASSERT_TRUE(reports.ok()) << reports.status().message();
  ASSERT_EQ(reports->size(), 5u);
  ASSERT_TRUE(dispatcher->Flush(10));

  auto events = receiver.Json(10);
  ASSERT_EQ(events.size(), 10u);
  auto jobs = ByJob(events);
  for (const auto& report : *reports) {
    ASSERT_EQ(report.status, "succeeded") << report.reason;
    const auto& pair = jobs[report.product];
    ASSERT_EQ(pair.size(), 2u) << report.product;
    EXPECT_EQ(pair[0]["eventType"], "START");
    EXPECT_EQ(pair[1]["eventType"], "COMPLETE");
    EXPECT_EQ(pair[0]["run"]["runId"], pair[1]["run"]["runId"]);
    EXPECT_EQ(pair[1]["run"]["runId"], LineageRunId("jaffle-mesh", report.run_id));
    for (const auto& e : pair) ExpectEnvelope(e);
  }

  // A consumer: its three upstream ports in, its port out, with schema and column lineage.
  const json& clv = jobs["marketing.customer_lifetime_value"][1];
  std::set<std::string> inputs;
  for (const auto& d : clv["inputs"]) {
    EXPECT_EQ(d["namespace"], "plexus://jaffle-mesh");
    ExpectFacet(d["facets"]["schema"], "SchemaDatasetFacet.json");
    EXPECT_FALSE(FieldNames(d["facets"]["schema"]).empty());
    inputs.insert(d["name"]);
  }
  EXPECT_EQ(inputs, (std::set<std::string>{"customers.customers.customers", "orders.orders.orders",
                                           "payments.payments.payments"}));
  ASSERT_EQ(clv["outputs"].size(), 1u);
  const json& out = clv["outputs"][0];
  EXPECT_EQ(out["namespace"], "plexus://jaffle-mesh");
  EXPECT_EQ(out["name"], "marketing.customer_lifetime_value.customer_lifetime_value");
  EXPECT_EQ(FieldNames(out["facets"]["schema"]),
            (std::vector<std::string>{"customer_id", "first_order_date", "most_recent_order_date",
                                      "number_of_orders", "lifetime_value"}));
  const json& column_lineage = out["facets"]["columnLineage"];
  ExpectFacet(column_lineage, "ColumnLineageDatasetFacet.json");
  const json& customer_id = column_lineage["fields"]["customer_id"]["inputFields"];
  ASSERT_TRUE(customer_id.is_array()) << column_lineage;
  bool direct = false;
  for (const auto& f : customer_id) {
    EXPECT_EQ(f["namespace"], "plexus://jaffle-mesh");
    ASSERT_TRUE(f["transformations"].is_array());
    if (f["name"] == "customers.customers.customers" && f["field"] == "customer_id" &&
        f["transformations"][0]["type"] == "DIRECT") {
      direct = true;
    }
  }
  EXPECT_TRUE(direct) << customer_id;
  EXPECT_TRUE(column_lineage["fields"].contains("lifetime_value"));
  EXPECT_GT(out["outputFacets"]["outputStatistics"]["rowCount"].get<int64_t>(), 0);

  // A source-aligned product reads its file.
  const json& orders = jobs["orders.orders"][1];
  ASSERT_EQ(orders["inputs"].size(), 1u);
  EXPECT_EQ(orders["inputs"][0]["namespace"], "file");
  EXPECT_EQ(orders["inputs"][0]["name"],
            (applied.mesh_dir / "domains/orders/orders/data/orders.ndjson").string());

  // The file transport wrote the same events.
  std::ifstream file(std::filesystem::path(applied.home.root()) / "lineage/events.ndjson");
  std::multiset<std::string> written, posted;
  for (std::string line; std::getline(file, line);) written.insert(json::parse(line).dump());
  for (const auto& e : events) posted.insert(e.dump());
  EXPECT_EQ(written, posted);
}

TEST(OpenLineageTest, AFailedRunSendsFailAndFiresOnePipelineAlertThatResolves) {
  HttpReceiver lineage_endpoint;
  HttpReceiver webhook;
  auto applied = ApplyExampleMesh([&](spec::Mesh& mesh) {
    mesh.observability.openlineage_url = lineage_endpoint.Url();
    mesh.observability.alerts_webhook = webhook.Url("/hooks/plexus");
  });
  auto settings = applied.catalog->ObservabilitySettings();
  ASSERT_TRUE(settings.ok());
  auto dispatcher = Dispatcher::Start({.name = "test"});
  LineageEmitter lineage(applied.catalog.get(), *settings, dispatcher.get(), applied.home.root());
  AlertEngine alerts(applied.catalog.get(), *settings, dispatcher.get());
  applied.catalog->SetRunObserver(
      std::make_shared<EmittingObserver>(&lineage, &alerts, applied.catalog.get()));
  auto data = applied.mesh_dir / "domains/orders/orders/data/orders.ndjson";
  auto kept = applied.mesh_dir / "orders.ndjson.kept";
  std::filesystem::rename(data, kept);
  pipeline::PipelineRunner runner(applied.home, applied.catalog.get());
  auto failed = runner.Run({"orders.orders"});
  ASSERT_TRUE(failed.ok()) << failed.status().message();
  ASSERT_EQ(failed->at(0).status, "failed");
  ASSERT_TRUE(dispatcher->Flush(10));

  auto events = lineage_endpoint.Json(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["eventType"], "START");
  EXPECT_EQ(events[1]["eventType"], "FAIL");
  EXPECT_EQ(events[0]["run"]["runId"], events[1]["run"]["runId"]);
  const json& error = events[1]["run"]["facets"]["errorMessage"];
  ExpectFacet(error, "ErrorMessageRunFacet.json");
  EXPECT_EQ(error["message"], failed->at(0).reason);
  EXPECT_EQ(error["programmingLanguage"], "SQL");

  auto fired = webhook.Json(1);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0]["status"], "firing");
  EXPECT_EQ(fired[0]["kind"], "pipeline_failure");
  EXPECT_EQ(fired[0]["entity"], "orders.orders");
  EXPECT_EQ(fired[0]["product"], "orders.orders");
  EXPECT_EQ(fired[0]["severity"], "critical");
  EXPECT_TRUE(fired[0]["resolved_at"].is_null());

  // Failing again while firing sends nothing; a good run resolves it, once.
  ASSERT_TRUE(runner.Run({"orders.orders"}).ok());
  std::filesystem::rename(kept, data);
  auto fixed = runner.Run({"orders.orders"});
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->at(0).status, "succeeded") << fixed->at(0).reason;
  applied.catalog->SetRunObserver(nullptr);
  ASSERT_TRUE(dispatcher->Flush(10));
  auto all = webhook.Json(2);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1]["status"], "resolved");
  EXPECT_EQ(all[1]["id"], fired[0]["id"]);
  EXPECT_TRUE(all[1]["resolved_at"].is_string());
  EXPECT_EQ(lineage_endpoint.WaitFor(6).size(), 6u);
  auto firing = applied.catalog->ListAlerts("firing", 0);
  ASSERT_TRUE(firing.ok());
  EXPECT_TRUE(firing->empty());
}

TEST(OpenLineageTest, ASlowEndpointNeitherSlowsNorFailsTheRuns) {
  HttpReceiver slow(std::chrono::milliseconds(5000));
  auto applied = ApplyExampleMesh(
      [&](spec::Mesh& mesh) { mesh.observability.openlineage_url = slow.Url(); });
  auto settings = applied.catalog->ObservabilitySettings();
  ASSERT_TRUE(settings.ok());
  auto dispatcher = Dispatcher::Start(
      {.name = "openlineage", .attempts = 2, .first_backoff_s = 0.01, .timeout_s = 0.2});
  LineageEmitter lineage(applied.catalog.get(), *settings, dispatcher.get(), applied.home.root());
  applied.catalog->SetRunObserver(
      std::make_shared<EmittingObserver>(&lineage, nullptr, applied.catalog.get()));
  pipeline::PipelineRunner runner(applied.home, applied.catalog.get());
  auto start = std::chrono::steady_clock::now();
  auto reports = runner.Run({});
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  applied.catalog->SetRunObserver(nullptr);
  ASSERT_TRUE(reports.ok()) << reports.status().message();
  for (const auto& r : *reports) EXPECT_EQ(r.status, "succeeded") << r.product << r.reason;
  EXPECT_LT(seconds, 4.0);  // 10 events waiting 5 s each would take 50 s
  ASSERT_TRUE(dispatcher->Flush(15));
  EXPECT_EQ(dispatcher->stats().dropped, 10);  // START and COMPLETE of 5 runs, after 2 attempts
  EXPECT_EQ(dispatcher->stats().retried, 10);
}

TEST(OpenLineageTest, CdcInputsAreNamedByOpenLineageConventions) {
  spec::CdcSpec kafka;
  kafka.source = "kafka";
  kafka.brokers = "b1.example.com:9092,b2.example.com:9092";
  kafka.topic = "shop.orders";
  json k = CdcInputDataset(kafka, "/mesh/domains/sales/orders");
  EXPECT_EQ(k["namespace"], "kafka://b1.example.com:9092");
  EXPECT_EQ(k["name"], "shop.orders");
  spec::CdcSpec pg;
  pg.source = "postgres";
  pg.dsn = "host=db.example.com port=6432 dbname=shop user=plexus";
  pg.table = "public.orders";
  json p = CdcInputDataset(pg, "/mesh/domains/sales/orders");
  EXPECT_EQ(p["namespace"], "postgres://db.example.com:6432");
  EXPECT_EQ(p["name"], "shop.public.orders");
  pg.dsn = "postgresql://plexus@db2.example.com/erp?sslmode=require";
  p = CdcInputDataset(pg, "");
  EXPECT_EQ(p["namespace"], "postgres://db2.example.com:5432");
  EXPECT_EQ(p["name"], "erp.public.orders");
  spec::CdcSpec files;
  files.source = "files";
  files.folder = "changes/../inbox";
  json f = CdcInputDataset(files, "/mesh/domains/sales/orders");
  EXPECT_EQ(f["namespace"], "file");
  EXPECT_EQ(f["name"], "/mesh/domains/sales/orders/inbox");
  spec::CdcSpec http;
  http.source = "http";
  EXPECT_TRUE(CdcInputDataset(http, "").is_null());
}

}  // namespace
}  // namespace plexus::observe
