// File: plexus/catalog/catalog_processors_test.cc
//
// Catalog::Processors: the processors of mesh.yaml and of each domain.yaml as last applied, read
// back from the applied text for a run (issue #7), replaced by every apply.
#include <gtest/gtest.h>

#include "plexus/catalog/catalog_test_util.h"
#include "plexus/spec/parse.h"
#include "plexus/spec/processors.h"

namespace plexus::catalog {
namespace {

using testing::CatalogTest;

constexpr char kMeshYaml[] =
    "apiVersion: plexus/v1\n"
    "kind: Mesh\n"
    "name: shop\n"
    "processors:\n"
    "  positive:\n"
    "    parameters: {column: {default: amount}}\n"
    "    steps: [{filter: '${column} > 0'}]\n";
constexpr char kSalesYaml[] =
    "apiVersion: plexus/v1\n"
    "kind: Domain\n"
    "name: sales\n"
    "processors:\n"
    "  tidy:\n"
    "    description: Positive amounts, hashed emails.\n"
    "    steps:\n"
    "      - use: positive\n"
    "      - hash: [email]\n";

/// The shop mesh as if loaded from /meshes/shop, with the processors above.
spec::Mesh ProcessorMesh() {
  spec::Mesh mesh = testing::ShopMesh();
  mesh.dir = "/meshes/shop";
  mesh.location.file = "/meshes/shop/mesh.yaml";
  mesh.source_text = kMeshYaml;
  mesh.processors = *spec::ParseProcessorsText(kMeshYaml, mesh.location.file, "mesh", nullptr);
  spec::Domain& sales = mesh.domains[0];
  sales.location.file = "/meshes/shop/domains/sales/domain.yaml";
  sales.source_text = kSalesYaml;
  sales.processors = *spec::ParseProcessorsText(kSalesYaml, sales.location.file, "sales", nullptr);
  return mesh;
}

class CatalogProcessorsTest : public CatalogTest {};

TEST_F(CatalogProcessorsTest, AppliedProcessorsAreReadBackByScope) {
  auto none = catalog_->Processors("sales");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());  // the shop mesh applied by the fixture has none

  ASSERT_TRUE(catalog_->Apply(ProcessorMesh(), "ops").ok());
  auto mesh = catalog_->Processors("mesh");
  ASSERT_TRUE(mesh.ok()) << mesh.status().ToString();
  ASSERT_EQ(mesh->size(), 1u);
  EXPECT_EQ((*mesh)[0].name, "positive");
  EXPECT_EQ((*mesh)[0].scope, "mesh");
  EXPECT_EQ((*mesh)[0].location.file, "mesh.yaml");  // relative to the mesh folder
  EXPECT_EQ((*mesh)[0].location.line, 5);
  auto sales = catalog_->Processors("sales");
  ASSERT_TRUE(sales.ok()) << sales.status().ToString();
  ASSERT_EQ(sales->size(), 1u);
  EXPECT_EQ((*sales)[0].description, "Positive amounts, hashed emails.");
  EXPECT_EQ((*sales)[0].location.file, "domains/sales/domain.yaml");
  EXPECT_TRUE(catalog_->Processors("marketing")->empty());

  // What a run does with them: the product's chain, expanded.
  spec::ProcessorStep use;
  use.kind = "use";
  use.value.text = "tidy";
  auto steps = spec::ExpandSteps({use}, *sales, *mesh);
  ASSERT_TRUE(steps.ok()) << steps.status().ToString();
  ASSERT_EQ(steps->size(), 2u);
  EXPECT_EQ((*steps)[0].value.text, "amount > 0");
  EXPECT_EQ((*steps)[1].kind, "hash");
}

TEST_F(CatalogProcessorsTest, EachApplyReplacesThem) {
  ASSERT_TRUE(catalog_->Apply(ProcessorMesh(), "ops").ok());
  spec::Mesh without = ProcessorMesh();
  without.domains[0].processors.clear();
  ASSERT_TRUE(catalog_->Apply(without, "ops").ok());
  EXPECT_TRUE(catalog_->Processors("sales")->empty());
  EXPECT_EQ(catalog_->Processors("mesh")->size(), 1u);
}

TEST_F(CatalogProcessorsTest, AFailedApplyKeepsThePreviousOnes) {
  ASSERT_TRUE(catalog_->Apply(ProcessorMesh(), "ops").ok());
  spec::Mesh broken = testing::ShopMesh();  // no processors ...
  broken.domains[0].owners = {"not a valid name!"};  // ... and an apply that fails
  EXPECT_FALSE(catalog_->Apply(broken, "ops").ok());
  EXPECT_EQ(catalog_->Processors("sales")->size(), 1u);
}

}  // namespace
}  // namespace plexus::catalog
