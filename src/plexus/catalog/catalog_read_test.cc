// File: plexus/catalog/catalog_read_test.cc
//
// ListProductsWithoutColumns: what a run's dependency order, the scheduler and the SLO
// evaluation read. The same products, ports (publication and lifecycle) and inputs as
// ListProducts, without the columns, which are most of a large catalog. ListPublications: what
// a refresh of the access policy reads when only publications changed (its access generation).
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

TEST_F(CatalogTest, PublicationsLeaveTheAccessGenerationAloneAnythingElseMovesIt) {
  auto product = catalog_->GetProduct("sales.orders");
  ASSERT_TRUE(product.ok()) << product.status().ToString();
  auto before = catalog_->ListPublications();
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_TRUE(before->publications.empty());
  auto listing = catalog_->ListOutputPortSummaries();
  ASSERT_TRUE(listing.ok()) << listing.status().ToString();
  EXPECT_EQ(listing->access_generation, before->access_generation);

  auto run = catalog_->StartRun(product->id);
  ASSERT_TRUE(run.ok());
  for (const auto& port : product->outputs) {  // lines, then orders
    ASSERT_TRUE(catalog_->RecordPublication(port, port.name == "orders" ? 42 : 7, *run).ok());
  }
  ASSERT_TRUE(catalog_->RecordPublication(product->outputs.back(), 43, *run).ok());  // again
  auto published = catalog_->ListPublications();
  ASSERT_TRUE(published.ok()) << published.status().ToString();
  EXPECT_EQ(published->access_generation, before->access_generation);
  EXPECT_EQ(published->columns_generation, before->columns_generation);
  ASSERT_EQ(published->publications.size(), 2u);
  EXPECT_EQ(published->publications[0].port, "lines");  // sorted by product, port, major
  EXPECT_EQ(published->publications[0].rows, 7);
  EXPECT_EQ(published->publications[1].port, "orders");
  EXPECT_EQ(published->publications[1].rows, 43);

  GrantRecord grant;
  grant.grantee = "analysts";
  grant.grantee_kind = "group";
  grant.target = "sales.orders";
  grant.purpose = "churn model";
  auto id = catalog_->CreateGrant(grant, "Carol");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto granted = catalog_->ListPublications();
  ASSERT_TRUE(granted.ok());
  EXPECT_GT(granted->access_generation, published->access_generation);
  auto raw = testing::OpenRaw(home_);
  ASSERT_EQ(testing::Exec(raw, "UPDATE port_versions SET end_of_life = '2030-01-01'"), "");
  auto lifecycle = catalog_->ListPublications();
  ASSERT_TRUE(lifecycle.ok());
  EXPECT_GT(lifecycle->access_generation, granted->access_generation);
}

}  // namespace
}  // namespace plexus::catalog
