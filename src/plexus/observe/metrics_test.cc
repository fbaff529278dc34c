// Run metrics (issue 9): exact counts per port and processor step through real pipeline runs
// of a copy of the example mesh, CDC figures, the history's compaction, and the Prometheus
// exposition of it all.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "plexus/catalog/catalog.h"
#include "plexus/engine/engine.h"
#include "plexus/observe/metrics.h"
#include "plexus/observe/observe_home_test_util.h"
#include "plexus/pipeline/run_metrics.h"
#include "plexus/pipeline/runner.h"
#include "plexus/spec/parse.h"

namespace plexus::observe {
namespace {

namespace fs = std::filesystem;


void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}


/// One value of an independent query (the oracle) on a plain DuckDB.
int64_t Oracle(const std::string& sql) {
  auto db = engine::Database::Open({});
  EXPECT_TRUE(db.ok());
  auto conn = (*db)->Connect();
  EXPECT_TRUE(conn.ok());
  auto value = (*conn)->QueryScalar(sql);
  EXPECT_TRUE(value.ok()) << value.status().message() << "\n" << sql;
  return value.ok() ? std::stoll(*value) : -1;
}

// Payments through every kind of step: union (+ extra rows), filter, dedupe, then the
// example's 1:1 steps (rename, cast, the mesh's cents_to_units sql processor, project).
constexpr const char* kChainPipeline = R"(apiVersion: plexus/v1
kind: Pipeline
inputs:
  - name: raw_payments
    file: data/payments.json
    format: json
  - name: extra_payments
    file: data/extra.json
    format: json
outputs:
  - port: payments
    from: raw_payments
    steps:
      - union: [extra_payments]
      - filter: amount > 500
      - dedupe: {key: [id], latest: amount}
      - rename: {id: payment_id}
      - cast: {payment_id: BIGINT, order_id: BIGINT}
      - use: cents_to_units
        with: {column: amount}
      - project: [payment_id, order_id, payment_method, amount]
)";

constexpr const char* kExtra = R"([
  {"id": 1, "order_id": 1, "payment_method": "coupon", "amount": 9999},
  {"id": 2, "order_id": 1, "payment_method": "coupon", "amount": 10},
  {"id": 3, "order_id": 2, "payment_method": "coupon", "amount": 700},
  {"id": 100001, "order_id": 2, "payment_method": "coupon", "amount": 800},
  {"id": 100002, "order_id": 2, "payment_method": "coupon", "amount": 0}
])";

std::map<std::pair<std::string, int>, catalog::RunMetricRecord> ByPosition(
    const std::vector<catalog::RunMetricRecord>& records) {
  std::map<std::pair<std::string, int>, catalog::RunMetricRecord> out;
  for (const auto& r : records) out[{r.port, r.position}] = r;
  return out;
}

TEST(RunMetricsTest, StepCountsAreExactThroughUnionFilterDedupeAndOneToOneSteps) {
  fs::path product;
  testing::AppliedMesh mesh = testing::ApplyExampleFiles([&product](const fs::path& dir) {
    product = dir / "domains/payments/payments";
    Write(product / "pipeline.yaml", kChainPipeline);
    Write(product / "data/extra.json", kExtra);
  });
  pipeline::PipelineRunner runner(mesh.home, mesh.catalog.get());
  auto reports = runner.Run({"payments.payments"});
  ASSERT_TRUE(reports.ok()) << reports.status().message();
  ASSERT_EQ(reports->size(), 1u);
  const auto& report = reports->front();
  ASSERT_EQ(report.status, "succeeded") << report.reason;

  std::string raw = "read_json('" + (product / "data/payments.json").string() + "')";
  std::string extra = "read_json('" + (product / "data/extra.json").string() + "')";
  std::string all = "(SELECT * FROM " + raw + " UNION ALL BY NAME SELECT * FROM " + extra + ")";
  int64_t raw_rows = Oracle("SELECT count(*) FROM " + raw);
  int64_t union_rows = Oracle("SELECT count(*) FROM " + all);
  int64_t kept = Oracle("SELECT count(*) FROM " + all + " WHERE amount > 500");
  int64_t distinct = Oracle("SELECT count(DISTINCT id) FROM " + all + " WHERE amount > 500");
  ASSERT_GT(union_rows, raw_rows);
  ASSERT_LT(kept, union_rows);
  ASSERT_LT(distinct, kept);

  auto stored = mesh.catalog->ListRunMetrics(report.run_id);
  ASSERT_TRUE(stored.ok());
  auto m = ByPosition(*stored);
  ASSERT_EQ(m.size(), 8u);  // the port and its 7 written steps
  const auto& port = m[{"payments", -1}];
  EXPECT_EQ(port.rows_in, raw_rows);
  EXPECT_EQ(port.rows_out, distinct);
  EXPECT_EQ(port.rows_out, report.rows.at("payments"));
  EXPECT_EQ(port.rows_rejected, 0);
  EXPECT_EQ(port.bytes_in, static_cast<int64_t>(fs::file_size(product / "data/payments.json") +
                                                fs::file_size(product / "data/extra.json")));
  EXPECT_GT(port.bytes_out, 0);
  EXPECT_GT(port.seconds, 0);
  std::vector<std::tuple<std::string, int64_t, int64_t>> expected = {
      {"union", raw_rows, union_rows},   {"filter", union_rows, kept},
      {"dedupe", kept, distinct},        {"rename", distinct, distinct},
      {"cast", distinct, distinct},      {"cents_to_units", distinct, distinct},
      {"project", distinct, distinct}};
  for (int i = 0; i < 7; ++i) {
    const auto& step = m[{"payments", i}];
    EXPECT_EQ(step.processor, std::get<0>(expected[i])) << i;
    EXPECT_EQ(step.rows_in, std::get<1>(expected[i])) << step.processor;
    EXPECT_EQ(step.rows_out, std::get<2>(expected[i])) << step.processor;
    EXPECT_EQ(step.run_id, report.run_id);
  }
}

TEST(RunMetricsTest, TheExampleChainOfOneToOneStepsCountsNothing) {
  testing::AppliedMesh mesh = testing::ApplyExampleFiles([](const fs::path&) {});
  auto pipeline_text = mesh.catalog->GetProduct("payments.payments");
  ASSERT_TRUE(pipeline_text.ok());
  std::vector<spec::Diagnostic> problems;
  auto pipeline = spec::ParsePipelineText(pipeline_text->pipeline_text, "pipeline.yaml", &problems);
  ASSERT_TRUE(pipeline.ok());
  const auto& steps = pipeline->outputs.front().steps;
  auto processors = mesh.catalog->Processors("mesh");
  ASSERT_TRUE(processors.ok());
  auto expanded = pipeline::ExpandChain(steps, {}, *processors);
  ASSERT_TRUE(expanded.ok());
  pipeline::ChainCounter counter(steps, *expanded, std::vector<std::string>(expanded->size()),
                                 "SELECT * FROM raw_payments");
  auto db = engine::Database::Open({});
  ASSERT_TRUE(db.ok());
  auto conn = (*db)->Connect();
  ASSERT_TRUE(counter.Classify(**conn, *expanded).ok());
  EXPECT_EQ(counter.CountSelect(), "");  // no query: every count is the published rows
  auto figures = counter.Figures(42);
  ASSERT_EQ(figures.size(), 4u);
  for (const auto& f : figures) EXPECT_EQ(f.rows_in, 42);
  EXPECT_EQ(figures[2].processor, "cents_to_units");
  EXPECT_EQ(counter.RowsIn(42), 42);
}

TEST(RunMetricsTest, SqlStepsKeepRowsOnlyWhenPlainSelectsOfScalars) {
  auto db = engine::Database::Open({});
  ASSERT_TRUE(db.ok());
  auto conn = (*db)->Connect();
  ASSERT_TRUE(conn.ok());
  std::vector<std::pair<std::string, bool>> cases = {
      {"SELECT * REPLACE (CAST(amount / 100.0 AS DECIMAL(12,2)) AS amount) FROM input", true},
      {"SELECT a, lower(b) AS b, row_number() OVER (ORDER BY a) AS n FROM input ORDER BY a", true},
      {"SELECT * FROM input WHERE a > 1", false},
      {"SELECT count(*) FROM input", false},
      {"SELECT sum(a) OVER () + max(a) FROM input", false},
      {"SELECT DISTINCT a FROM input", false},
      {"SELECT * FROM input LIMIT 3", false},
      {"SELECT unnest([1, 2]) AS x, a FROM input", false},
      {"SELECT input.* FROM input JOIN input AS other USING (a)", false},
      {"SELECT a FROM input UNION ALL SELECT a FROM input", false},
      {"SELECT a, (SELECT max(a) FROM input) AS m FROM input", false},
      {"SELECT a FROM input GROUP BY a", false},
      {"SELECT * FROM other", false},
      {"not sql at all", false}};
  for (const auto& [sql, keeps] : cases) {
    auto result = pipeline::SqlStepKeepsRows(**conn, sql);
    ASSERT_TRUE(result.ok()) << sql << ": " << result.status().message();
    EXPECT_EQ(*result, keeps) << sql;
  }
}

TEST(RunMetricsTest, AContractFailureRejectsItsRowsAndMetricsOffRecordsNothing) {
  testing::AppliedMesh mesh = testing::ApplyExampleFiles([](const fs::path& dir) {
    // payment_id must be unique (primary key): the union repeats every row.
    Write(dir / "domains/payments/payments/pipeline.yaml", R"(apiVersion: plexus/v1
kind: Pipeline
inputs:
  - name: raw_payments
    file: data/payments.json
    format: json
outputs:
  - port: payments
    from: raw_payments
    steps:
      - union: [raw_payments]
      - rename: {id: payment_id}
      - project: [payment_id, order_id, payment_method, amount]
)");
  });
  pipeline::PipelineRunner runner(mesh.home, mesh.catalog.get());
  auto reports = runner.Run({"payments.payments"});
  ASSERT_TRUE(reports.ok());
  const auto& report = reports->front();
  ASSERT_EQ(report.status, "failed");
  auto stored = mesh.catalog->ListRunMetrics(report.run_id);
  ASSERT_TRUE(stored.ok());
  auto m = ByPosition(*stored);
  ASSERT_TRUE(m.count({"payments", -1}));
  const auto& port = m[{"payments", -1}];
  int64_t rows = Oracle("SELECT count(*) FROM read_json('" +
                        (mesh.mesh_dir / "domains/payments/payments/data/payments.json").string() +
                        "')");
  EXPECT_EQ(port.rows_rejected, 2 * rows) << report.reason;
  EXPECT_EQ(port.rows_out, 0);

  pipeline::RunOptions off;
  off.metrics = false;
  pipeline::PipelineRunner quiet(mesh.home, mesh.catalog.get(), off);
  auto again = quiet.Run({"customers.customers"});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->front().metrics.empty());
  auto none = mesh.catalog->ListRunMetrics(again->front().run_id);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace plexus::observe
