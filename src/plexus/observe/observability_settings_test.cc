// mesh.yaml `observability`: read into the model, every bad value an error naming the file,
// line and field, kept by `plexus fmt`, and stored by apply (defaults when never applied).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <sqlite3.h>

#include "plexus/catalog/catalog.h"
#include "plexus/observe/service.h"
#include "plexus/observe/observe_home_test_util.h"
#include "plexus/spec/format.h"
#include "plexus/spec/parse.h"

namespace plexus::observe {
namespace {

constexpr const char* kHeader =
    "apiVersion: plexus/v1\n"
    "kind: Mesh\n"
    "name: shop\n";

/// Loads a mesh whose mesh.yaml is kHeader + `section`; the problems, one per line.
Result<spec::Mesh> LoadWith(const std::string& section, std::string* problems_text) {
  auto dir = testing::ScratchDir() / "mesh";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "mesh.yaml") << kHeader << section;
  std::vector<spec::Diagnostic> problems;
  auto mesh = spec::LoadMesh(dir.string(), &problems);
  problems_text->clear();
  for (const auto& p : problems) *problems_text += p.ToString() + "\n";
  return mesh;
}

TEST(ObservabilitySettingsTest, ReadsEverySetting) {
  std::string problems;
  auto mesh = LoadWith(
      "observability:\n"
      "  enabled: true\n"
      "  sloInterval: 5m\n"
      "  openlineage:\n"
      "    url: https://marquez.example.com/api/v1/lineage\n"
      "    file: lineage/events.ndjson\n"
      "    namespace: shop-prod\n"
      "  alerts:\n"
      "    webhook: http://127.0.0.1:9000/hooks/plexus\n"
      "    log: false\n"
      "  runHistory:\n"
      "    retention: 45d\n"
      "    perProduct: 500\n",
      &problems);
  ASSERT_TRUE(mesh.ok()) << problems;
  const auto& o = mesh->observability;
  EXPECT_TRUE(o.enabled);
  EXPECT_EQ(o.slo_interval_s, 300);
  EXPECT_EQ(o.openlineage_url, "https://marquez.example.com/api/v1/lineage");
  EXPECT_EQ(o.openlineage_file, "lineage/events.ndjson");
  EXPECT_EQ(o.openlineage_namespace, "shop-prod");
  EXPECT_EQ(o.alerts_webhook, "http://127.0.0.1:9000/hooks/plexus");
  EXPECT_FALSE(o.alerts_log);
  EXPECT_EQ(o.run_retention_s, 45 * 86400.0);
  EXPECT_EQ(o.runs_per_product, 500);
  EXPECT_EQ(o.location.line, 5);  // the section's first key
}

TEST(ObservabilitySettingsTest, AbsentMeansTheDefaults) {
  std::string problems;
  auto mesh = LoadWith("", &problems);
  ASSERT_TRUE(mesh.ok()) << problems;
  EXPECT_TRUE(mesh->observability.enabled);
  EXPECT_TRUE(mesh->observability.alerts_log);
  EXPECT_EQ(mesh->observability.slo_interval_s, 60);
  EXPECT_TRUE(mesh->observability.openlineage_url.empty());
  EXPECT_EQ(mesh->observability.run_retention_s, 90 * 86400.0);
  EXPECT_EQ(mesh->observability.runs_per_product, 10000);
}

TEST(ObservabilitySettingsTest, EveryBadValueNamesTheFileLineAndField) {
  struct Case {
    std::string section;
    std::string expected;  ///< a part of the one problem
  };
  std::vector<Case> cases = {
      {"observability:\n  openlineage:\n    url: ftp://lineage.example.com\n",
       "mesh.yaml:6:10: observability.openlineage.url: expected an http:// or https:// URL"},
      {"observability:\n  alerts:\n    webhook: localhost:9000/hook\n",
       "mesh.yaml:6:14: observability.alerts.webhook: expected an http:// or https:// URL"},
      {"observability:\n  sloInterval: 5x\n",
       "mesh.yaml:5:16: observability.sloInterval: expected a duration of at least 1s"},
      {"observability:\n  enabled: perhaps\n",
       "mesh.yaml:5:12: observability.enabled: expected true or false, found 'perhaps'"},
      {"observability:\n  alerts:\n    log: 3\n",
       "mesh.yaml:6:10: observability.alerts.log: expected true or false"},
      {"observability:\n  openlinage:\n    url: http://x\n",
       "mesh.yaml:5:3: observability.openlinage"},
      {"observability:\n  openlineage:\n    endpoint: http://x\n",
       "mesh.yaml:6:5: observability.openlineage.endpoint"},
      {"observability: yes\n", "mesh.yaml:4:16: observability: expected a map"},
      {"observability:\n  runHistory:\n    retention: 7d\n",
       "mesh.yaml:6:16: observability.runHistory.retention: expected a duration of at least "
       "31d (the SLO and trust windows read 30 days), found '7d'"},
      {"observability:\n  runHistory:\n    perProduct: 10\n",
       "mesh.yaml:6:17: observability.runHistory.perProduct: expected at least 100 runs, found 10"},
      {"observability:\n  runHistory:\n    perProduct: many\n",
       "mesh.yaml:6:17: observability.runHistory.perProduct: expected an integer, found 'many'"},
      {"observability:\n  runHistory:\n    keep: 90d\n",
       "mesh.yaml:6:5: observability.runHistory.keep"},
  };
  for (const auto& c : cases) {
    std::string problems;
    auto mesh = LoadWith(c.section, &problems);
    EXPECT_FALSE(mesh.ok()) << c.section;
    EXPECT_NE(problems.find(c.expected), std::string::npos)
        << "section:\n" << c.section << "problems:\n" << problems;
  }
}

TEST(ObservabilitySettingsTest, FmtKeepsTheSection) {
  std::string text = std::string(kHeader) +
                     "observability:\n"
                     "  sloInterval: 30s\n"
                     "  openlineage:\n"
                     "    url: http://127.0.0.1:5000/api/v1/lineage\n"
                     "  alerts:\n"
                     "    log: false\n";
  std::vector<spec::Diagnostic> problems;
  auto formatted = spec::FormatText(text, "mesh.yaml", &problems);
  ASSERT_TRUE(formatted.ok()) << formatted.status().message();
  EXPECT_NE(formatted->find("observability:\n  sloInterval: 30s\n  openlineage:\n    url: "
                            "http://127.0.0.1:5000/api/v1/lineage\n  alerts:\n    log: false\n"),
            std::string::npos)
      << *formatted;
}

TEST(ObservabilitySettingsTest, ApplyStoresThemAndANewHomeHasTheDefaults) {
  auto dir = testing::ScratchDir();
  auto home = catalog::Home::Prepare((dir / "home").string());
  ASSERT_TRUE(home.ok());
  auto catalog = catalog::Catalog::Open(*home);
  ASSERT_TRUE(catalog.ok());
  auto defaults = (*catalog)->ObservabilitySettings();
  ASSERT_TRUE(defaults.ok());
  EXPECT_TRUE(defaults->enabled);
  EXPECT_EQ(defaults->slo_interval_s, 60);
  EXPECT_TRUE(defaults->alerts_log);

  spec::Mesh mesh;
  mesh.name = "shop";
  mesh.observability.openlineage_file = "events.ndjson";
  mesh.observability.alerts_webhook = "http://127.0.0.1:1/hook";
  mesh.observability.alerts_log = false;
  mesh.observability.slo_interval_s = 15;
  mesh.observability.enabled = false;
  mesh.observability.run_retention_s = 40 * 86400.0;
  mesh.observability.runs_per_product = 300;
  ASSERT_TRUE((*catalog)->Apply(mesh).ok());
  catalog->reset();
  auto reopened = catalog::Catalog::Open(*home);
  ASSERT_TRUE(reopened.ok());
  auto stored = (*reopened)->ObservabilitySettings();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->openlineage_file, "events.ndjson");
  EXPECT_EQ(stored->openlineage_namespace, "shop");  // the mesh's name when not set
  EXPECT_EQ(stored->alerts_webhook, "http://127.0.0.1:1/hook");
  EXPECT_FALSE(stored->alerts_log);
  EXPECT_EQ(stored->slo_interval_s, 15);
  EXPECT_FALSE(stored->enabled);
  EXPECT_EQ(stored->run_retention_s, 40 * 86400.0);
  EXPECT_EQ(stored->runs_per_product, 300);
}

TEST(ObservabilitySettingsTest, AnOlderCatalogGetsTheRunHistoryDefaults) {
  auto dir = testing::ScratchDir();
  auto home = catalog::Home::Prepare((dir / "home").string());
  ASSERT_TRUE(home.ok());
  {
    auto catalog = catalog::Catalog::Open(*home);
    ASSERT_TRUE(catalog.ok());
    spec::Mesh mesh;
    mesh.name = "shop";
    mesh.observability.slo_interval_s = 15;
    ASSERT_TRUE((*catalog)->Apply(mesh).ok());
  }
  // As a catalog written before run retention: the settings table without its two columns.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "home" / "catalog.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "ALTER TABLE observability_settings DROP COLUMN run_retention_s;"
                         "ALTER TABLE observability_settings DROP COLUMN runs_per_product;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto reopened = catalog::Catalog::Open(*home);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto stored = (*reopened)->ObservabilitySettings();
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->slo_interval_s, 15);  // what was applied survives
  EXPECT_EQ(stored->run_retention_s, 90 * 86400.0);
  EXPECT_EQ(stored->runs_per_product, 10000);
}

TEST(ObservabilitySettingsTest, ServeKeepsTheNewestRunsOfEachProduct) {
  auto applied = testing::ApplyExampleMesh([](spec::Mesh& mesh) {
    mesh.observability.runs_per_product = 100;
  });
  const std::string product = "urn:test:continuous";
  for (int i = 0; i < 150; i++) {
    auto run = applied.catalog->StartRun(product, "continuous");
    ASSERT_TRUE(run.ok());
    ASSERT_TRUE(applied.catalog->FinishRun(*run, "succeeded", "", 1).ok());
  }
  ObserveOptions options;
  options.evaluate = false;  // this test evaluates, not the worker
  auto service = ObserveService::Start(applied.home, applied.catalog.get(), options);
  ASSERT_TRUE(service.ok()) << service.status().ToString();
  ASSERT_TRUE((*service)->EvaluateNow().ok());
  catalog::RunQuery query;
  query.products = std::set<std::string>{product};
  query.limit = 1000;
  auto left = applied.catalog->ListRuns(query);
  ASSERT_TRUE(left.ok()) << left.status().ToString();
  EXPECT_EQ(left->size(), 101u);  // the newest 100 and the first
}

}  // namespace
}  // namespace plexus::observe
