// The business glossary in the catalog: Apply stores the mesh's terms and the columns linked to
// them, the reads find them (by id or name), and the links follow the mesh from apply to apply.
#include <gtest/gtest.h>

#include "plexus/catalog/catalog_test_util.h"

namespace plexus::catalog {
namespace {

using testing::CatalogTest;
using testing::OpenRaw;
using testing::QueryInt;

spec::GlossaryTerm Term(const std::string& id, const std::string& name,
                        std::vector<std::string> synonyms = {}) {
  spec::GlossaryTerm term;
  term.id = id;
  term.name = name;
  term.definition = "What " + name + " means.";
  term.owners = {"carol"};
  term.synonyms = std::move(synonyms);
  return term;
}

/// The shop mesh with a glossary: `email` linked to email-address by its authoritative
/// definition, `amount` to order-amount by its business name (a synonym), on both ports.
spec::Mesh GlossaryMesh() {
  spec::Mesh mesh = testing::ShopMesh();
  mesh.glossary_file = "glossary.yaml";
  mesh.glossary = {Term("email-address", "Email address"),
                   Term("order-amount", "Order amount", {"Amount paid"}),
                   Term("customer", "Customer")};
  mesh.glossary[0].url = "https://wiki.example.com/email";
  mesh.glossary[0].related = {"customer"};
  for (auto& [id, contract] : mesh.domains[0].products[0].contracts) {
    for (auto& property : contract.schema[0].properties) {
      if (property.name == "email") {
        spec::AuthoritativeDefinition definition;
        definition.type = "businessDefinition";
        definition.url = "glossary:email-address";
        property.authoritative_definitions.push_back(definition);
      }
      if (property.name == "amount") property.business_name = "AMOUNT PAID";
    }
  }
  return mesh;
}

class CatalogGlossaryTest : public CatalogTest {
 protected:
  void SetUp() override {
    CatalogTest::SetUp();
    auto applied = catalog_->Apply(GlossaryMesh(), "ops");
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  }
};

TEST_F(CatalogGlossaryTest, ListsAndGetsTerms) {
  auto terms = catalog_->ListGlossaryTerms();
  ASSERT_TRUE(terms.ok()) << terms.status().ToString();
  ASSERT_EQ(terms->size(), 3u);
  EXPECT_EQ((*terms)[0].id, "customer");  // by id
  const GlossaryTermRecord& email = (*terms)[1];
  EXPECT_EQ(email.id, "email-address");
  EXPECT_EQ(email.name, "Email address");
  EXPECT_EQ(email.definition, "What Email address means.");
  EXPECT_EQ(email.owners, std::vector<std::string>{"carol"});
  EXPECT_EQ(email.url, "https://wiki.example.com/email");
  EXPECT_EQ(email.related, std::vector<std::string>{"customer"});
  EXPECT_FALSE(email.applied_at.empty());
  EXPECT_EQ((*terms)[2].synonyms, std::vector<std::string>{"Amount paid"});

  auto by_id = catalog_->GetGlossaryTerm("order-amount");
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  EXPECT_EQ(by_id->name, "Order amount");
  auto by_name = catalog_->GetGlossaryTerm("EMAIL ADDRESS");
  ASSERT_TRUE(by_name.ok()) << by_name.status().ToString();
  EXPECT_EQ(by_name->id, "email-address");
  EXPECT_EQ(catalog_->GetGlossaryTerm("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(CatalogGlossaryTest, LinksColumnsOfEveryPort) {
  auto links = catalog_->ListColumnTerms("email-address");
  ASSERT_TRUE(links.ok()) << links.status().ToString();
  ASSERT_EQ(links->size(), 2u);
  const ColumnTermRecord& lines = (*links)[0];  // by product, then port
  EXPECT_EQ(lines.product_id, "urn:shop:sales:orders");
  EXPECT_EQ(lines.product, "sales.orders");
  EXPECT_EQ(lines.port, "lines");
  EXPECT_EQ(lines.major, 1);
  EXPECT_EQ(lines.column, "email");
  EXPECT_EQ(lines.link, "authoritativeDefinition");
  EXPECT_EQ(lines.QualifiedColumn(), "sales.orders.lines.email");
  EXPECT_EQ((*links)[1].port, "orders");

  auto by_name = catalog_->ListColumnTerms("order-amount");
  ASSERT_TRUE(by_name.ok());
  ASSERT_EQ(by_name->size(), 2u);
  EXPECT_EQ((*by_name)[0].column, "amount");
  EXPECT_EQ((*by_name)[0].link, "businessName");
  auto all = catalog_->ListColumnTerms();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 4u);
  EXPECT_TRUE(catalog_->ListColumnTerms("customer")->empty());
}

TEST_F(CatalogGlossaryTest, ColumnsCarryTheirTerms) {
  auto product = catalog_->GetProduct("sales.orders");
  ASSERT_TRUE(product.ok()) << product.status().ToString();
  for (const auto& port : product->outputs) {
    for (const auto& column : port.columns) {
      std::vector<std::string> expected;
      if (column.name == "email") expected = {"email-address"};
      if (column.name == "amount") expected = {"order-amount"};
      EXPECT_EQ(column.terms, expected) << port.name << "." << column.name;
    }
  }
}

TEST_F(CatalogGlossaryTest, ReapplyFollowsTheMesh) {
  spec::Mesh mesh = GlossaryMesh();
  mesh.glossary.erase(mesh.glossary.begin());  // email-address leaves the glossary
  mesh.glossary[0].synonyms.clear();           // amount no longer matches order-amount
  mesh.glossary.push_back(Term("identifier", "Identifier"));
  for (auto& [id, contract] : mesh.domains[0].products[0].contracts) {
    contract.schema[0].properties[0].business_name = "identifier";
  }
  auto applied = catalog_->Apply(mesh, "ops");
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  auto terms = catalog_->ListGlossaryTerms();
  ASSERT_TRUE(terms.ok());
  ASSERT_EQ(terms->size(), 3u);
  EXPECT_EQ((*terms)[0].id, "customer");
  EXPECT_EQ((*terms)[1].id, "identifier");
  auto all = catalog_->ListColumnTerms();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  for (const auto& link : *all) {
    EXPECT_EQ(link.term_id, "identifier");
    EXPECT_EQ(link.column, "id");
  }
  EXPECT_EQ(catalog_->GetGlossaryTerm("email-address").status().code(), StatusCode::kNotFound);
}

TEST_F(CatalogGlossaryTest, MeshWithoutGlossaryClearsIt) {
  auto applied = catalog_->Apply(testing::ShopMesh(), "ops");
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_TRUE(catalog_->ListGlossaryTerms()->empty());
  EXPECT_TRUE(catalog_->ListColumnTerms()->empty());
}

TEST_F(CatalogGlossaryTest, TablesAsTheSearchIndexReadsThem) {
  auto raw = OpenRaw(home_);
  EXPECT_EQ(QueryInt(raw, "SELECT count(*) FROM glossary_terms WHERE owners = '[\"carol\"]' AND "
                          "synonyms LIKE '[%' AND related LIKE '[%' AND url IS NOT NULL"),
            3);
  EXPECT_EQ(QueryInt(raw, "SELECT count(*) FROM column_terms WHERE column_name = 'email' AND "
                          "term_id = 'email-address' AND link = 'authoritativeDefinition' AND "
                          "major = 1"),
            2);
}

TEST_F(CatalogGlossaryTest, GlossaryChangesMoveTheGeneration) {
  auto before = catalog_->Generation();
  ASSERT_TRUE(before.ok());
  auto raw = OpenRaw(home_);  // another connection changes only the glossary
  ASSERT_EQ(testing::Exec(raw, "UPDATE glossary_terms SET definition = 'x' WHERE id = 'customer'"),
            "");
  auto after = catalog_->Generation();
  ASSERT_TRUE(after.ok());
  EXPECT_NE(before->first, after->first);
  ASSERT_EQ(testing::Exec(raw, "DELETE FROM column_terms"), "");
  EXPECT_NE(catalog_->Generation()->first, after->first);
}

}  // namespace
}  // namespace plexus::catalog
