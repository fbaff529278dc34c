// File: plexus/spec/glossary_test.cc
//
// The business glossary: the file parses into terms, each problem is named by file, line and
// field, mesh.yaml names the file, contracts link their columns to terms (authoritative
// definitions and business names) and an unknown `glossary:` term is refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "plexus/spec/glossary.h"
#include "plexus/spec/parse.h"
#include "plexus/spec/spec_test_util.h"

namespace plexus::spec {
namespace {

namespace fs = std::filesystem;
using testing::CopyMiniMesh;
using testing::Dump;
using testing::ScratchDir;
using testing::ExpectProblem;
using testing::WithField;
using testing::WriteFile;

constexpr char kGlossary[] = R"(apiVersion: plexus/v1
kind: Glossary
terms:
  - id: customer
    name: Customer
    definition: A person or company that has placed at least one order.
    owners: [carol]
    synonyms: [client, buyer]
    url: https://wiki.example.com/glossary/customer
    related: [order]
  - id: order
    name: Order
    definition: A request to buy jaffles, placed by a customer.
  - id: order-status
    name: Order status
    definition: Where an order stands.
    related: [order]
)";

/// Parses `text` as a glossary file; returns the problems (the parse must fail when `fails`).
std::vector<Diagnostic> GlossaryProblems(const std::string& text, bool fails = true) {
  std::string path = WriteFile(ScratchDir() / "glossary.yaml", text);
  std::vector<Diagnostic> problems;
  auto terms = ParseGlossaryFile(path, &problems);
  EXPECT_EQ(terms.ok(), !fails) << terms.status().ToString();
  return problems;
}


Property Column(const std::string& business_name, std::vector<std::string> urls = {}) {
  Property p;
  p.name = "c";
  p.business_name = business_name;
  for (const auto& url : urls) {
    AuthoritativeDefinition definition;
    definition.url = url;
    definition.type = "businessDefinition";
    p.authoritative_definitions.push_back(definition);
  }
  return p;
}

std::vector<GlossaryTerm> Terms() {
  std::string path = WriteFile(ScratchDir() / "terms.yaml", kGlossary);
  auto terms = ParseGlossaryFile(path, nullptr);
  EXPECT_TRUE(terms.ok()) << terms.status().ToString();
  return terms.ok() ? *terms : std::vector<GlossaryTerm>{};
}

// ---- The file ---------------------------------------------------------------------------------

TEST(SpecGlossaryTest, ParsesTerms) {
  std::vector<GlossaryTerm> terms = Terms();
  ASSERT_EQ(terms.size(), 3u);
  const GlossaryTerm& customer = terms[0];
  EXPECT_EQ(customer.id, "customer");
  EXPECT_EQ(customer.name, "Customer");
  EXPECT_EQ(customer.definition, "A person or company that has placed at least one order.");
  EXPECT_EQ(customer.owners, std::vector<std::string>{"carol"});
  EXPECT_EQ(customer.synonyms, (std::vector<std::string>{"client", "buyer"}));
  EXPECT_EQ(customer.url, "https://wiki.example.com/glossary/customer");
  EXPECT_EQ(customer.related, std::vector<std::string>{"order"});
  EXPECT_EQ(customer.location.line, 4);
  EXPECT_TRUE(terms[1].owners.empty());
  EXPECT_TRUE(terms[1].url.empty());
  EXPECT_EQ(terms[2].id, "order-status");
}

TEST(SpecGlossaryTest, RefusesDuplicateId) {
  auto problems = GlossaryProblems(std::string(kGlossary) +
                                   "  - id: order\n    name: Order again\n    definition: Twice.\n");
  ExpectProblem(problems, "glossary.yaml", "terms[3].id", 18, "term id 'order' is already used");
}

TEST(SpecGlossaryTest, RefusesMissingNameAndDefinition) {
  auto problems = GlossaryProblems(
      "apiVersion: plexus/v1\nkind: Glossary\nterms:\n  - id: a\n    definition: An a.\n"
      "  - id: b\n    name: B\n");
  ExpectProblem(problems, "glossary.yaml", "terms[0].name", 4, "required field is missing");
  ExpectProblem(problems, "glossary.yaml", "terms[1].definition", 6, "required field is missing");
}

TEST(SpecGlossaryTest, RefusesEmptyDefinition) {
  auto problems = GlossaryProblems(
      "apiVersion: plexus/v1\nkind: Glossary\nterms:\n  - id: a\n    name: A\n"
      "    definition: \"  \"\n");
  ExpectProblem(problems, "glossary.yaml", "terms[0].definition", 6, "must not be empty");
}

TEST(SpecGlossaryTest, RefusesBadId) {
  auto problems = GlossaryProblems(
      "apiVersion: plexus/v1\nkind: Glossary\nterms:\n  - name: A\n    id: Bad Id\n"
      "    definition: An a.\n");
  ExpectProblem(problems, "glossary.yaml", "terms[0].id", 5, "'Bad Id' is not a valid term id");
}

TEST(SpecGlossaryTest, RefusesUnknownRelatedTerm) {
  auto problems = GlossaryProblems(
      "apiVersion: plexus/v1\nkind: Glossary\nterms:\n  - id: a\n    name: A\n"
      "    definition: An a.\n    related: [b, a]\n");
  ExpectProblem(problems, "glossary.yaml", "terms[0].related[0]", 7, "unknown glossary term 'b'");
  ExpectProblem(problems, "glossary.yaml", "terms[0].related[1]", 7, "not related to itself");
}

TEST(SpecGlossaryTest, RefusesUnknownKeysAndWrongKind) {
  auto problems = GlossaryProblems(
      "apiVersion: plexus/v1\nkind: Glossery\nterms:\n  - id: a\n    name: A\n"
      "    definition: An a.\n    synonym: [x]\n");
  ExpectProblem(problems, "glossary.yaml", "kind", 2, "Glossary");
  ExpectProblem(problems, "glossary.yaml", "terms[0].synonym", 7, "did you mean 'synonyms'");
}

// ---- Linking columns --------------------------------------------------------------------------

TEST(SpecGlossaryTest, LinksByAuthoritativeDefinition) {
  std::vector<GlossaryTerm> terms = Terms();
  EXPECT_EQ(GlossaryTermsOf(terms, Column("", {"glossary:order"})),
            std::vector<std::string>{"order"});
  EXPECT_EQ(GlossaryTermsOf(terms, Column("", {"https://wiki.example.com/glossary/customer"})),
            std::vector<std::string>{"customer"});
  EXPECT_TRUE(GlossaryTermsOf(terms, Column("", {"glossary:nope", "https://elsewhere"})).empty());
  GlossaryIndex index(terms);
  auto links = index.LinksOf(Column("Order", {"glossary:order"}));  // both ways: listed once
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].link, kLinkByDefinition);
}

TEST(SpecGlossaryTest, LinksByBusinessNameOrSynonymIgnoringCase) {
  std::vector<GlossaryTerm> terms = Terms();
  GlossaryIndex index(terms);
  auto links = index.LinksOf(Column("  order STATUS "));
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].term_id, "order-status");
  EXPECT_EQ(links[0].link, kLinkByBusinessName);
  EXPECT_EQ(GlossaryTermsOf(terms, Column("Client")), std::vector<std::string>{"customer"});
  EXPECT_TRUE(GlossaryTermsOf(terms, Column("Customer id")).empty());
  EXPECT_TRUE(GlossaryTermsOf(terms, Column("")).empty());
  EXPECT_EQ(GlossaryTermsOf(terms, Column("Buyer", {"glossary:order"})),
            (std::vector<std::string>{"order", "customer"}));
}

// ---- In a mesh --------------------------------------------------------------------------------

/// The mini mesh with the glossary named from mesh.yaml (line 6) and orders.order_id linked.
fs::path MeshWithGlossary(const std::string& term_url) {
  fs::path mesh = CopyMiniMesh();
  WriteFile(mesh / "mesh.yaml",
            "apiVersion: plexus/v1\nkind: Mesh\nname: jaffle-mini\ndescription: Tests.\n"
            "policies: []\nglossary: glossary.yaml\n");
  WriteFile(mesh / "glossary.yaml", kGlossary);
  WriteFile(mesh / "domains/orders/orders/contracts/orders.odcs.yaml",
            "apiVersion: v3.1.0\nkind: DataContract\nid: orders-orders-v1\nname: orders\n"
            "version: 1.0.0\nstatus: active\ndomain: orders\nschema:\n  - name: orders\n"
            "    properties:\n"
            "      - name: order_id\n"                                    // line 11
            "        logicalType: integer\n        required: true\n        primaryKey: true\n"
            "        authoritativeDefinitions:\n"                         // line 15
            "          - type: businessDefinition\n"                      // line 16
            "            url: " + term_url + "\n"                         // line 17
            "            description: The glossary's order.\n"
            "      - name: status\n        businessName: Order status\n"
            "        logicalType: string\n");
  return mesh;
}

TEST(SpecGlossaryTest, MeshLoadsItsGlossaryAndContractLinks) {
  fs::path dir = MeshWithGlossary("glossary:order");
  std::vector<Diagnostic> problems;
  Result<Mesh> mesh = LoadMesh(dir.string(), &problems);
  ASSERT_TRUE(mesh.ok()) << mesh.status().ToString() << "\n" << Dump(problems);
  EXPECT_EQ(mesh->glossary_file, "glossary.yaml");
  ASSERT_EQ(mesh->glossary.size(), 3u);
  const Contract& contract = mesh->domains[1].products[0].contracts.at("orders-orders-v1");
  const Property& order_id = contract.schema[0].properties[0];
  ASSERT_EQ(order_id.authoritative_definitions.size(), 1u);
  EXPECT_EQ(order_id.authoritative_definitions[0].url, "glossary:order");
  EXPECT_EQ(order_id.authoritative_definitions[0].type, "businessDefinition");
  EXPECT_EQ(order_id.authoritative_definitions[0].description, "The glossary's order.");
  EXPECT_EQ(order_id.authoritative_definitions[0].location.line, 17);
  EXPECT_EQ(GlossaryTermsOf(mesh->glossary, order_id), std::vector<std::string>{"order"});
  EXPECT_EQ(GlossaryTermsOf(mesh->glossary, contract.schema[0].properties[1]),
            std::vector<std::string>{"order-status"});
}

TEST(SpecGlossaryTest, RefusesUnknownTermInContract) {
  fs::path dir = MeshWithGlossary("glossary:purchase");
  std::vector<Diagnostic> problems;
  EXPECT_FALSE(LoadMesh(dir.string(), &problems).ok());
  ExpectProblem(problems, "domains/orders/orders/contracts/orders.odcs.yaml",
                "schema[0].properties[0].authoritativeDefinitions[0].url", 17,
                "unknown glossary term 'purchase' (see glossary.yaml)");
  EXPECT_EQ(problems.size(), 1u) << Dump(problems);
}

TEST(SpecGlossaryTest, RefusesMissingGlossaryFileAtMeshYaml) {
  fs::path dir = MeshWithGlossary("https://wiki.example.com/glossary/customer");
  fs::remove(dir / "glossary.yaml");
  std::vector<Diagnostic> problems;
  EXPECT_FALSE(LoadMesh(dir.string(), &problems).ok());
  ExpectProblem(problems, "mesh.yaml", "glossary", 6, "no such glossary file: glossary.yaml");
  EXPECT_EQ(problems[0].location.file, "mesh.yaml");
}

TEST(SpecGlossaryTest, GlossaryProblemsNameTheFileInTheMesh) {
  fs::path dir = MeshWithGlossary("glossary:order");
  WriteFile(dir / "glossary.yaml", std::string(kGlossary) + "  - id: order\n    name: O\n");
  std::vector<Diagnostic> problems;
  EXPECT_FALSE(LoadMesh(dir.string(), &problems).ok());
  ExpectProblem(problems, "glossary.yaml", "terms[3].definition", 18, "required field is missing");
  ExpectProblem(problems, "glossary.yaml", "terms[3].id", 18, "already used");
  EXPECT_EQ(WithField(problems, "terms[3].id")[0].location.file, "glossary.yaml");
}

}  // namespace
}  // namespace plexus::spec
