// Run metrics history (issue 9): CDC figures, compaction that keeps totals and bounds the
// rows, and the Prometheus exposition of a real run.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "plexus/catalog/catalog.h"
#include "plexus/observe/metrics.h"
#include "plexus/observe/observe_home_test_util.h"
#include "plexus/pipeline/runner.h"
#include "plexus/spec/parse.h"

namespace plexus::observe {
namespace {

namespace fs = std::filesystem;



int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Event(int key, const std::string& op, int64_t ts_ms) {
  std::string after = op == "d" ? "null"
                                : R"({"order_id": )" + std::to_string(key) +
                                      R"(, "customer_id": 1, "order_date": "2020-01-01", )"
                                      R"("status": "placed"})";
  std::string before = op == "d" ? R"({"order_id": )" + std::to_string(key) + "}" : "null";
  return R"({"op": ")" + op + R"(", "before": )" + before + R"(, "after": )" + after +
         R"(, "source": {"lsn": )" + std::to_string(key * 10 + (op == "d" ? 2 : 1)) +
         R"(}, "ts_ms": )" + std::to_string(ts_ms) + "}\n";
}

TEST(CdcMetricsTest, ARunRecordsEventsRowsDeadLettersAndLag) {
  fs::path product;
  testing::AppliedMesh mesh = testing::ApplyExampleFiles([&product](const fs::path& dir) {
    product = dir / "domains/orders/orders";
    std::ofstream(product / "pipeline.yaml") << R"(apiVersion: plexus/v1
kind: Pipeline
inputs:
  - name: changes
    cdc:
      source: files
      folder: changes
      maxErrorRate: 0.5
outputs:
  - port: orders
    from: changes
)";
    fs::create_directories(product / "changes");
  });
  int64_t newest = NowMs() - 5000;  // the newest event happened 5 s ago
  std::string events;
  for (int key = 1; key <= 6; ++key) events += Event(key, "c", newest - 60000 + key);
  events += Event(2, "d", newest);
  events += "{not json\n";
  std::ofstream(product / "changes/001.ndjson") << events;

  pipeline::PipelineRunner runner(mesh.home, mesh.catalog.get());
  auto reports = runner.Run({"orders.orders"});
  ASSERT_TRUE(reports.ok()) << reports.status().message();
  ASSERT_EQ(reports->front().status, "succeeded") << reports->front().reason;
  auto runs = mesh.catalog->ListRuns("", 1);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  auto stored = mesh.catalog->ListRunMetrics(runs->front().id);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  const auto& m = stored->front();
  EXPECT_EQ(m.port, "orders");
  EXPECT_EQ(m.position, -1);
  EXPECT_EQ(m.rows_in, 8);        // every event read
  EXPECT_EQ(m.rows_out, 6);       // key 2's create and delete: one delete wins; 5 upserts
  EXPECT_EQ(m.rows_rejected, 1);  // the malformed line, dead-lettered
  EXPECT_GE(m.lag_seconds, 4.0);
  EXPECT_LT(m.lag_seconds, 120.0);
}

catalog::RunMetricRecord Figure(int64_t run, int position, const std::string& at) {
  catalog::RunMetricRecord m;
  m.run_id = run;
  m.product_id = "p1";
  m.port = "orders";
  m.position = position;
  m.processor = position < 0 ? "" : "filter";
  m.rows_in = 10;
  m.rows_out = 7;
  m.rows_rejected = position < 0 ? 1 : 0;
  m.bytes_in = 100;
  m.bytes_out = 50;
  m.seconds = 0.5;
  m.at = at;
  return m;
}

TEST(MetricHistoryTest, CompactionFoldsOldRunsIntoHoursBoundsRowsAndKeepsTotals) {
  fs::path dir = testing::ScratchDir();
  auto home = catalog::Home::Prepare((dir / "home").string());
  ASSERT_TRUE(home.ok());
  auto catalog = catalog::Catalog::Open(*home);
  ASSERT_TRUE(catalog.ok());
  auto& c = **catalog;
  std::vector<catalog::RunMetricRecord> records;
  int64_t run = 0;
  // 3 runs in one hour 10 days ago, 2 the next hour, 1 run 100 days ago: all old.
  for (const char* at : {"2030-01-01T10:05:00.000Z", "2030-01-01T10:20:00.000Z",
                         "2030-01-01T10:59:59.000Z", "2030-01-01T11:00:00.000Z",
                         "2030-01-01T11:30:00.000Z", "2029-10-03T08:00:00.000Z"}) {
    ++run;
    records.push_back(Figure(run, -1, at));
    records.push_back(Figure(run, 0, at));
  }
  // More recent runs than a series keeps raw: the oldest fold into their hours.
  for (int i = 0; i < catalog::Catalog::kRawPerSeries + 30; ++i) {
    char at[40];
    std::snprintf(at, sizeof(at), "2030-01-10T%02d:%02d:%02d.000Z", 1 + i / 3600 % 20,
                  i / 60 % 60, i % 60);
    records.push_back(Figure(++run, -1, at));
  }
  ASSERT_TRUE(c.RecordRunMetrics(records).ok());
  auto before = c.MetricTotals();
  ASSERT_TRUE(before.ok());

  ASSERT_TRUE(c.CompactMetrics("2030-01-11T12:30:00.000Z").ok());
  ASSERT_TRUE(c.CompactMetrics("2030-01-11T12:31:00.000Z").ok());  // idempotent
  auto after = c.MetricTotals();
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), before->size());
  for (size_t i = 0; i < after->size(); ++i) {
    EXPECT_EQ((*after)[i].rows_in, (*before)[i].rows_in);
    EXPECT_EQ((*after)[i].rows_out, (*before)[i].rows_out);
    EXPECT_DOUBLE_EQ((*after)[i].seconds, (*before)[i].seconds);
  }
  const auto& port_total = after->front().position < 0 ? after->front() : after->back();
  EXPECT_EQ(port_total.rows_in, 10 * (6 + catalog::Catalog::kRawPerSeries + 30));

  auto history = c.MetricsHistory("p1", "");
  ASSERT_TRUE(history.ok());
  std::map<std::string, int64_t> port_rows_in;  // at -> rows in, ports only
  int64_t raw_recent = 0;
  for (const auto& m : *history) {
    if (m.position >= 0) continue;
    port_rows_in[m.at] += m.rows_in;
    if (m.at.rfind("2030-01-10", 0) == 0 && m.at.substr(14) != "00:00.000Z") ++raw_recent;
  }
  // The 100-day-old run is gone; 10 days ago: one row per hour with the runs' sums.
  EXPECT_EQ(port_rows_in.count("2029-10-03T08:00:00.000Z"), 0u);
  EXPECT_EQ(port_rows_in["2030-01-01T10:00:00.000Z"], 30);
  EXPECT_EQ(port_rows_in["2030-01-01T11:00:00.000Z"], 20);
  EXPECT_LE(raw_recent, catalog::Catalog::kRawPerSeries);
  EXPECT_LE(history->size(), static_cast<size_t>(catalog::Catalog::kRawPerSeries + 30));
  int64_t summed = 0;
  for (const auto& [at, rows] : port_rows_in) summed += rows;
  EXPECT_EQ(summed, 10 * (5 + catalog::Catalog::kRawPerSeries + 30));  // nothing lost but expired
}

/// Metric lines of an exposition: name{labels} value.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

std::vector<Sample> Parse(const std::string& text, std::set<std::string>* typed) {
  std::vector<Sample> out;
  std::istringstream in(text);
  std::string line;
  std::regex sample(R"(^([a-z_:][a-z0-9_:]*)(\{(.*)\})? (\S+)$)");
  std::regex label(R"re(([a-z_][a-z0-9_]*)="((?:[^"\\]|\\.)*)")re");
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      EXPECT_TRUE(type == "counter" || type == "gauge") << line;
      typed->insert(name);
      continue;
    }
    if (line.rfind("# HELP plexus_", 0) == 0) continue;
    std::smatch m;
    EXPECT_TRUE(std::regex_match(line, m, sample)) << line;
    if (m.empty()) continue;
    Sample s{m[1], {}, std::stod(m[4])};
    std::string labels = m[3];
    for (std::sregex_iterator it(labels.begin(), labels.end(), label), end; it != end; ++it) {
      s.labels[(*it)[1]] = (*it)[2];
    }
    out.push_back(std::move(s));
  }
  return out;
}

TEST(PrometheusTest, TheExpositionParsesAndItsStepCountersMatchTheTables) {
  testing::AppliedMesh mesh = testing::ApplyExampleFiles([](const fs::path&) {});
  pipeline::PipelineRunner runner(mesh.home, mesh.catalog.get());
  auto reports = runner.Run({});
  ASSERT_TRUE(reports.ok());
  std::map<std::string, int64_t> published;  // domain.product/port -> rows
  for (const auto& r : *reports) {
    ASSERT_EQ(r.status, "succeeded") << r.product << ": " << r.reason;
    for (const auto& [port, rows] : r.rows) published[r.product + "/" + port] = rows;
  }
  DispatcherStats lineage;
  lineage.delivered = 7;
  lineage.dropped = 1;
  auto text = RenderPrometheus(*mesh.catalog, {{"openlineage", lineage}});
  ASSERT_TRUE(text.ok()) << text.status().message();
  std::set<std::string> typed;
  auto samples = Parse(*text, &typed);
  for (const char* family :
       {"plexus_runs_total", "plexus_port_rows_in_total", "plexus_port_rows_out_total",
        "plexus_processor_rows_in_total", "plexus_processor_rows_out_total",
        "plexus_processor_last_rows_out", "plexus_last_success_timestamp_seconds",
        "plexus_port_duration_seconds_total", "plexus_sink_events_delivered_total"}) {
    EXPECT_TRUE(typed.count(family)) << family << "\n" << *text;
  }
  std::map<std::string, std::pair<int, double>> last_step;  // product/port -> (position, rows)
  int succeeded = 0;
  for (const auto& s : samples) {
    EXPECT_EQ(s.name.rfind("plexus_", 0), 0u) << s.name;
    std::string key = s.labels.count("domain")
                          ? s.labels.at("domain") + "." + s.labels.at("product") + "/" +
                                (s.labels.count("port") ? s.labels.at("port") : "")
                          : "";
    if (s.name == "plexus_runs_total" && s.labels.at("status") == "succeeded") succeeded += s.value;
    if (s.name == "plexus_port_rows_out_total") {
      // A CDC port counts the rows upserted or deleted: its table, and the voided label of
      // the example's change stream (inserted and deleted in one catch-up: one delete).
      int64_t voided = key == "orders.shipments/shipments" ? 1 : 0;
      EXPECT_EQ(s.value, published[key] + voided) << key;
    }
    if (s.name == "plexus_processor_last_rows_out") {
      int position = std::stoi(s.labels.at("position"));
      EXPECT_FALSE(s.labels.at("processor").empty());
      if (!last_step.count(key) || last_step[key].first < position) last_step[key] = {position, s.value};
    }
    if (s.name == "plexus_sink_events_dropped_total") {
      EXPECT_EQ(s.value, 1);
    }
  }
  EXPECT_EQ(succeeded, static_cast<int>(reports->size()));
  ASSERT_EQ(last_step.count("payments.payments/payments"), 1u) << *text;
  EXPECT_EQ(last_step["payments.payments/payments"].first, 3);  // rename, cast, use, project
  EXPECT_EQ(last_step["payments.payments/payments"].second, published["payments.payments/payments"]);
}

}  // namespace
}  // namespace plexus::observe
