// File: plexus/catalog/catalog_runs_test.cc
//
// Run history read in pages: ListRuns(RunQuery) filters by product set and start time and pages
// in SQL, GetRun finds one run, LatestFinishedRuns gives each product's newest finished run.
// A continuous CDC input records a run per micro-batch, so none of these may read the whole
// history to answer.
#include <gtest/gtest.h>

#include "plexus/catalog/catalog_test_util.h"

namespace plexus::catalog {
namespace {

using testing::CatalogTest;

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

}  // namespace
}  // namespace plexus::catalog
