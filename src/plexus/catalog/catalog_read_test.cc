// File: plexus/catalog/catalog_read_test.cc
//
// ListProductsWithoutColumns: what a run's dependency order, the scheduler and the SLO
// evaluation read. The same products, ports (publication and lifecycle) and inputs as
// ListProducts, without the columns, which are most of a large catalog.
#include <gtest/gtest.h>

#include "plexus/catalog/catalog_test_util.h"

namespace plexus::catalog {
namespace {

using testing::CatalogTest;

TEST_F(CatalogTest, ListsProductsWithoutColumnsAsListProductsDoesWithThem) {
  auto product = catalog_->GetProduct("sales.orders");
  ASSERT_TRUE(product.ok()) << product.status().ToString();
  auto run = catalog_->StartRun(product->id);
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(catalog_->RecordPublication(product->outputs.front(), 42, *run).ok());

  auto whole = catalog_->ListProducts();
  auto light = catalog_->ListProductsWithoutColumns();
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  ASSERT_TRUE(light.ok()) << light.status().ToString();
  ASSERT_EQ(light->size(), whole->size());
  ASSERT_EQ(light->size(), 1u);
  const ProductRecord& w = whole->front();
  const ProductRecord& l = light->front();
  EXPECT_EQ(l.id, w.id);
  EXPECT_EQ(l.QualifiedName(), "sales.orders");
  EXPECT_EQ(l.inputs.size(), w.inputs.size());
  ASSERT_EQ(l.outputs.size(), 2u);
  ASSERT_EQ(l.outputs.size(), w.outputs.size());
  bool published = false;
  for (size_t i = 0; i < l.outputs.size(); ++i) {
    EXPECT_EQ(l.outputs[i].name, w.outputs[i].name);
    EXPECT_EQ(l.outputs[i].major, w.outputs[i].major);
    EXPECT_EQ(l.outputs[i].rows, w.outputs[i].rows);
    EXPECT_EQ(l.outputs[i].published_at, w.outputs[i].published_at);
    EXPECT_EQ(l.outputs[i].visibility, w.outputs[i].visibility);
    EXPECT_EQ(w.outputs[i].columns.size(), 3u) << "ListProducts reads the columns";
    EXPECT_TRUE(l.outputs[i].columns.empty()) << "ListProductsWithoutColumns reads none";
    if (l.outputs[i].rows == 42) published = true;
  }
  EXPECT_TRUE(published) << "the publication is listed";
}

}  // namespace
}  // namespace plexus::catalog
