// File: plexus/catalog/catalog_runs_test.cc
//
// Run history read in pages: ListRuns(RunQuery) filters by product set and start time and pages
// in SQL, GetRun finds one run, LatestFinishedRuns gives each product's newest finished run.
// A continuous CDC input records a run per micro-batch, so none of these may read the whole
// history to answer, and PruneRuns (observability.runHistory) bounds it.
#include <gtest/gtest.h>

#include "plexus/catalog/catalog_test_util.h"

namespace plexus::catalog {
namespace {

using testing::CatalogTest;
using testing::Exec;
using testing::OpenRaw;
using testing::QueryInt;
using testing::RawDb;

class CatalogRunsTest : public CatalogTest {
 protected:
  /// Records a finished run of `product` and returns its id.
  int64_t Run(const std::string& product, const std::string& status) {
    auto id = catalog_->StartRun(product, "continuous");
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    EXPECT_TRUE(catalog_->FinishRun(*id, status, "", 7).ok());
    return *id;
  }
};

std::vector<int64_t> Ids(const std::vector<RunRecord>& runs) {
  std::vector<int64_t> ids;
  for (const auto& r : runs) ids.push_back(r.id);
  return ids;
}

TEST_F(CatalogRunsTest, PagesNewestFirstAndFiltersByProducts) {
  const std::string orders = "urn:shop:sales:orders";
  int64_t a = Run(orders, "succeeded");
  int64_t b = Run("urn:other", "failed");
  int64_t c = Run(orders, "succeeded");
  int64_t d = Run(orders, "failed");

  RunQuery all;
  all.limit = 2;
  EXPECT_EQ(Ids(*catalog_->ListRuns(all)), (std::vector<int64_t>{d, c}));
  all.offset = 2;
  EXPECT_EQ(Ids(*catalog_->ListRuns(all)), (std::vector<int64_t>{b, a}));

  RunQuery mine;
  mine.products = std::set<std::string>{orders};
  mine.limit = -1;
  EXPECT_EQ(Ids(*catalog_->ListRuns(mine)), (std::vector<int64_t>{d, c, a}));
  auto first = catalog_->ListRuns(mine)->front();
  EXPECT_EQ(first.product, "sales.orders");
  EXPECT_EQ(first.trigger, "continuous");
  EXPECT_EQ(first.rows, 7);

  RunQuery nothing;  // a caller who may see no product sees no run
  nothing.products.emplace();
  EXPECT_TRUE(catalog_->ListRuns(nothing)->empty());

  RunQuery future;
  future.since = "2999-01-01T00:00:00";
  EXPECT_TRUE(catalog_->ListRuns(future)->empty());
  future.since = "2000-01-01T00:00:00";
  EXPECT_EQ(catalog_->ListRuns(future)->size(), 4u);
}

TEST_F(CatalogRunsTest, GetsOneRunAndEachProductsLatestFinished) {
  const std::string orders = "urn:shop:sales:orders";
  Run(orders, "succeeded");
  int64_t failed = Run(orders, "failed");
  int64_t other = Run("urn:other", "succeeded");
  auto running = catalog_->StartRun(orders);  // not finished: not the latest finished
  ASSERT_TRUE(running.ok());

  auto run = catalog_->GetRun(failed);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->status, "failed");
  EXPECT_EQ(run->product_id, orders);
  EXPECT_EQ(catalog_->GetRun(*running + 100).status().code(), StatusCode::kNotFound);

  auto latest = catalog_->LatestFinishedRuns();
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(Ids(*latest), (std::vector<int64_t>{other, failed}));
}

/// The ids of the runs left, oldest first.
std::vector<int64_t> RunsLeft(const RawDb& db) {
  std::vector<int64_t> ids;
  for (int64_t after = 0;;) {
    int64_t next = QueryInt(db, "SELECT min(id) FROM runs WHERE id > " + std::to_string(after));
    if (next <= 0) return ids;
    ids.push_back(next);
    after = next;
  }
}

TEST_F(CatalogRunsTest, PrunesOldRunsButKeepsWhatReadersNeed) {
  const std::string orders = "urn:shop:sales:orders";
  int64_t first = Run(orders, "succeeded");
  int64_t published = Run(orders, "succeeded");
  int64_t old_ok = Run(orders, "succeeded");
  int64_t old_failed = Run(orders, "failed");
  int64_t last_ok = Run(orders, "succeeded");
  int64_t last = Run(orders, "failed");
  auto running = catalog_->StartRun(orders);
  ASSERT_TRUE(running.ok());
  RawDb db = OpenRaw(home_);
  // Everything finished long ago; one run is still named by a publication, two have results.
  ASSERT_EQ(Exec(db, "UPDATE runs SET finished_at = '2001-01-01T00:00:00.000Z' "
                     "WHERE status != 'running'"), "");
  ASSERT_EQ(Exec(db, "INSERT INTO publications (product_id, port, major, rows, run_id) "
                     "VALUES ('" + orders + "', 'orders', 1, 7, " + std::to_string(published) +
                     ")"), "");
  for (int64_t run : {old_ok, last_ok}) {
    ASSERT_EQ(Exec(db, "INSERT INTO quality_results (run_id, product_id, port, major, "
                       "rule_position, status) VALUES (" + std::to_string(run) + ", '" +
                       orders + "', 'orders', 1, 0, 'passed')"), "");
  }

  auto deleted = catalog_->PruneRuns("2020-01-01T00:00:00.000Z", 10000);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(*deleted, 2);
  EXPECT_EQ(RunsLeft(db), (std::vector<int64_t>{first, published, last_ok, last, *running}));
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM quality_results"), 1);  // last_ok's
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM quality_results WHERE run_id = " +
                             std::to_string(old_ok)), 0);
  EXPECT_EQ(*catalog_->PruneRuns("2020-01-01T00:00:00.000Z", 10000), 0);  // nothing more
  EXPECT_EQ(catalog_->GetRun(old_failed).status().code(), StatusCode::kNotFound);
}

TEST_F(CatalogRunsTest, KeepsTheNewestRunsOfEachProductInBatches) {
  const std::string orders = "urn:shop:sales:orders";
  std::vector<int64_t> ids;
  for (int i = 0; i < 12; i++) ids.push_back(Run(orders, "succeeded"));
  int64_t other = Run("urn:other", "succeeded");
  RawDb db = OpenRaw(home_);

  // Recent runs (the cutoff is in the past) beyond the newest 4 of orders go, 3 at a time.
  auto first_batch = catalog_->PruneRuns("2000-01-01T00:00:00.000Z", 4, 3);
  ASSERT_TRUE(first_batch.ok()) << first_batch.status().ToString();
  EXPECT_EQ(*first_batch, 3);
  EXPECT_EQ(catalog_->GetRun(ids[1]).status().code(), StatusCode::kNotFound);  // oldest first
  EXPECT_TRUE(catalog_->GetRun(ids[4]).ok());
  int64_t total = *first_batch;
  while (true) {
    auto batch = catalog_->PruneRuns("2000-01-01T00:00:00.000Z", 4, 3);
    ASSERT_TRUE(batch.ok());
    if (*batch == 0) break;
    total += *batch;
  }
  EXPECT_EQ(total, 7);  // 12 - the newest 4 - the first run
  EXPECT_EQ(RunsLeft(db), (std::vector<int64_t>{ids[0], ids[8], ids[9], ids[10], ids[11], other}));
  EXPECT_FALSE(catalog_->PruneRuns("2000-01-01T00:00:00.000Z", 0).ok());
}

}  // namespace
}  // namespace plexus::catalog
