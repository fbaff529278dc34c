// File: plexus/spec/validate_test.cc
//
// LoadMesh and ValidateMesh: the mini mesh in testdata/ loads clean; each cross-reference
// problem is caught and named by file (relative to the mesh), line and field.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "plexus/spec/parse.h"
#include "plexus/spec/spec_test_util.h"

namespace plexus::spec {
namespace {

namespace fs = std::filesystem;
using testing::CopyMiniMesh;
using testing::Dump;
using testing::MiniMeshDir;
using testing::ScratchDir;
using testing::WithField;
using testing::WriteFile;

constexpr char kOrdersProduct[] = "domains/orders/orders/product.odps.yaml";
constexpr char kOrdersContract[] = "domains/orders/orders/contracts/orders.odcs.yaml";
constexpr char kOrdersPipeline[] = "domains/orders/orders/pipeline.yaml";
constexpr char kCustomersContract[] = "domains/customers/customers/contracts/customers.odcs.yaml";

/// Replaces `from` (a regex) with `to` in the file `mesh/relative`; the pattern must match.
void Edit(const fs::path& mesh, const std::string& relative, const std::string& from,
          const std::string& to) {
  fs::path path = mesh / relative;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string before = text.str();
  std::string after = std::regex_replace(before, std::regex(from), to);
  ASSERT_NE(before, after) << "pattern " << from << " not found in " << relative;
  WriteFile(path, after);
}

/// Loads `mesh`, expecting it to fail; returns the problems.
std::vector<Diagnostic> LoadProblems(const fs::path& mesh) {
  std::vector<Diagnostic> problems;
  Result<Mesh> loaded = LoadMesh(mesh.string(), &problems);
  EXPECT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
  if (!problems.empty()) {
    EXPECT_EQ(loaded.status().message().rfind(problems[0].ToString(), 0), 0u);
  }
  return problems;
}

/// Expects exactly one problem on `field` in `file` (relative to the mesh) at `line`.
void ExpectProblem(const std::vector<Diagnostic>& problems, const std::string& file,
                   const std::string& field, int line, const std::string& words) {
  std::vector<Diagnostic> found;
  for (const Diagnostic& d : WithField(problems, field)) {
    if (d.location.file == file) found.push_back(d);
  }
  ASSERT_EQ(found.size(), 1u) << "field " << field << " of " << file << " in:\n" << Dump(problems);
  EXPECT_EQ(found[0].location.file, file) << found[0].ToString();
  EXPECT_EQ(found[0].location.line, line) << found[0].ToString();
  EXPECT_NE(found[0].message.find(words), std::string::npos) << found[0].ToString();
}

TEST(SpecMeshTest, MiniMeshLoadsClean) {
  std::vector<Diagnostic> problems;
  Result<Mesh> mesh = LoadMesh(MiniMeshDir().string(), &problems);
  ASSERT_TRUE(mesh.ok()) << mesh.status().ToString() << "\n" << Dump(problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(mesh->name, "jaffle-mini");
  EXPECT_TRUE(fs::path(mesh->dir).is_absolute());
  ASSERT_EQ(mesh->domains.size(), 2u);
  const Domain& customers = mesh->domains[0];
  EXPECT_EQ(customers.name, "customers");
  EXPECT_EQ(customers.owners, std::vector<std::string>{"alice"});
  EXPECT_EQ(fs::path(customers.dir), fs::path(mesh->dir) / "domains/customers");
  ASSERT_EQ(customers.products.size(), 1u);
  const ProductBundle& bundle = mesh->domains[1].products.at(0);
  EXPECT_EQ(bundle.product.name, "orders");
  EXPECT_EQ(fs::path(bundle.dir), fs::path(mesh->dir) / "domains/orders/orders");
  ASSERT_EQ(bundle.contracts.count("orders-orders-v1"), 1u);
  EXPECT_EQ(bundle.contracts.at("orders-orders-v1").schema.at(0).properties.size(), 4u);
  ASSERT_TRUE(bundle.pipeline.has_value());
  EXPECT_EQ(bundle.pipeline->inputs.size(), 2u);
  EXPECT_TRUE(ValidateMesh(*mesh, nullptr).ok());
}

TEST(SpecMeshTest, NoMeshYamlIsNotFound) {
  Result<Mesh> mesh = LoadMesh(ScratchDir().string(), nullptr);
  EXPECT_EQ(mesh.status().code(), StatusCode::kNotFound);
  EXPECT_NE(mesh.status().message().find("mesh.yaml"), std::string::npos);
}

TEST(SpecMeshTest, PortContractReferencesAreChecked) {
  fs::path mesh = CopyMiniMesh();
  Edit(mesh, kOrdersProduct, "contractId: customers-customers-v1", "contractId: nobody-v1");
  Edit(mesh, kOrdersProduct, "contractId: orders-orders-v1", "contractId: orders-orders-v9");
  std::vector<Diagnostic> problems = LoadProblems(mesh);
  ExpectProblem(problems, kOrdersProduct, "inputPorts[0].contractId", 11, "nobody-v1");
  ExpectProblem(problems, kOrdersProduct, "outputPorts[0].contractId", 15,
                "no contract with id 'orders-orders-v9'");
  EXPECT_EQ(problems.size(), 2u) << Dump(problems);
}

TEST(SpecMeshTest, MissingOutputContractIdIsReportedAtThePort) {
  fs::path mesh = CopyMiniMesh();
  Edit(mesh, kOrdersProduct, "    contractId: orders-orders-v1\n", "");
  std::vector<Diagnostic> problems = LoadProblems(mesh);
  ExpectProblem(problems, kOrdersProduct, "outputPorts[0].contractId", 15,
                "required field is missing");
  EXPECT_EQ(problems[0].ToString(),
            std::string(kOrdersProduct) +
                ":15:5: outputPorts[0].contractId: required field is missing");
}

TEST(SpecMeshTest, InputPortMayNotReadItsOwnProduct) {
  fs::path mesh = CopyMiniMesh();
  Edit(mesh, kOrdersProduct, "contractId: customers-customers-v1", "contractId: orders-orders-v1");
  std::vector<Diagnostic> problems = LoadProblems(mesh);
  ExpectProblem(problems, kOrdersProduct, "inputPorts[0].contractId", 11, "this same product");
}

TEST(SpecMeshTest, NamesFoldersAndDomainsAreChecked) {
  fs::path mesh = CopyMiniMesh();
  Edit(mesh, "domains/customers/domain.yaml", "name: customers", "name: Customers");
  Edit(mesh, kOrdersProduct, "domain: orders", "domain: sales");
  Edit(mesh, kOrdersProduct, "  - name: orders", "  - name: orders__all");
  Edit(mesh, kOrdersPipeline, "port: orders", "port: orders__all");
  Edit(mesh, kOrdersProduct, "name: orders\n", "name: order_facts\n");
  std::vector<Diagnostic> problems = LoadProblems(mesh);
  std::vector<Diagnostic> domain_names = WithField(problems, "name");
  // 'Customers' is no SQL name and is not its folder's name; order_facts is in folder orders.
  ASSERT_EQ(domain_names.size(), 3u) << Dump(problems);
  EXPECT_EQ(domain_names[0].location.file, "domains/customers/domain.yaml");
  EXPECT_EQ(domain_names[0].location.line, 3);
  EXPECT_EQ(domain_names[2].location.line, 4);
  EXPECT_NE(domain_names[0].message.find("not a valid domain name"), std::string::npos);
  EXPECT_NE(domain_names[1].message.find("same name, not 'customers'"), std::string::npos);
  EXPECT_NE(domain_names[2].message.find("folder of the same name, not 'orders'"),
            std::string::npos);
  ExpectProblem(problems, kOrdersProduct, "domain", 7, "'sales' does not match");
  ExpectProblem(problems, kOrdersProduct, "outputPorts[0].name", 15, "not a valid output port");
}

TEST(SpecMeshTest, ContractRulesAreChecked) {
  fs::path mesh = CopyMiniMesh();
  Edit(mesh, kOrdersContract, "        required: true\n        primaryKey: true",
       "        primaryKey: true");
  Edit(mesh, kOrdersContract, "name: order_date", "name: customer_id");
  Edit(mesh, kOrdersContract, "status: active", "status: production");
  Edit(mesh, kCustomersContract, "id: customers-customers-v1", "id: orders-orders-v1");
  std::vector<Diagnostic> problems = LoadProblems(mesh);
  ExpectProblem(problems, kOrdersContract, "schema[0].properties[0].required", 11,
                "primary key column 'order_id' must be required");
  ExpectProblem(problems, kOrdersContract, "schema[0].properties[2].name", 19,
                "'customer_id' is declared twice");
  ExpectProblem(problems, kOrdersContract, "status", 6, "'production' is not a Plexus status");
  // The customers contract now reuses the orders contract's id.
  std::vector<Diagnostic> ids = WithField(problems, "id");
  ASSERT_EQ(ids.size(), 1u) << Dump(problems);
  EXPECT_NE(ids[0].message.find("already used by " + std::string(kCustomersContract)),
            std::string::npos)
      << ids[0].ToString();
  EXPECT_EQ(ids[0].location.line, 3);
}

TEST(SpecMeshTest, PortTableMustBeFoundInItsContract) {
  fs::path mesh = CopyMiniMesh();
  Edit(mesh, kOrdersContract, "  - name: orders\n", "  - name: order_lines\n");
  Edit(mesh, kOrdersContract, "$", "  - name: extra\n");
  std::vector<Diagnostic> problems = LoadProblems(mesh);
  ExpectProblem(problems, kOrdersContract, "schema", 8,
                "no schema object for output port 'orders'");
  EXPECT_EQ(problems.size(), 1u) << Dump(problems);
}

TEST(SpecMeshTest, PipelineReferencesAreChecked) {
  fs::path mesh = CopyMiniMesh();
  Edit(mesh, kOrdersPipeline, "file: data/orders.ndjson", "file: data/missing.ndjson");
  Edit(mesh, kOrdersPipeline, "inputPort: customers", "inputPort: clients");
  Edit(mesh, kOrdersPipeline, "port: orders", "port: order_lines");
  Edit(mesh, kOrdersPipeline, "name: raw_orders", "name: RawOrders");
  std::vector<Diagnostic> problems = LoadProblems(mesh);
  ExpectProblem(problems, kOrdersPipeline, "inputs[0].file", 4,
                "no such file: domains/orders/orders/data/missing.ndjson");
  ExpectProblem(problems, kOrdersPipeline, "inputs[0].name", 4, "not a valid pipeline input");
  ExpectProblem(problems, kOrdersPipeline, "inputs[1].inputPort", 6, "'clients'");
  ExpectProblem(problems, kOrdersPipeline, "outputs[0].port", 9, "'order_lines'");
  ExpectProblem(problems, kOrdersPipeline, "outputs", 8,
                "output port 'orders' has no pipeline output");
  EXPECT_EQ(problems.size(), 5u) << Dump(problems);
}

TEST(SpecMeshTest, ProblemsOfEveryFileAreCollectedOnce) {
  fs::path mesh = CopyMiniMesh();
  Edit(mesh, kOrdersContract, "logicalType: date", "logicalType: day");
  Edit(mesh, kCustomersContract, "status: active", "status: [active]");
  Edit(mesh, "domains/customers/customers/pipeline.yaml", "format: csv", "format: tsv");
  WriteFile(mesh / "domains/orders/refunds/README.md", "not a product yet\n");
  std::vector<Diagnostic> problems = LoadProblems(mesh);
  // The bad logical type is reported by the parser; ValidateMesh's identical finding is dropped.
  ExpectProblem(problems, kOrdersContract, "schema[0].properties[2].logicalType", 21, "'day'");
  ExpectProblem(problems, kCustomersContract, "status", 6, "expected text, found a list");
  ExpectProblem(problems, "domains/customers/customers/pipeline.yaml", "inputs[0].format", 6,
                "'tsv'");
  std::vector<Diagnostic> whole_file = WithField(problems, "");
  ASSERT_EQ(whole_file.size(), 1u) << Dump(problems);
  EXPECT_EQ(whole_file[0].location.file, "domains/orders/refunds/product.odps.yaml");
  EXPECT_EQ(problems.size(), 4u) << Dump(problems);
}

TEST(SpecMeshTest, ValidateMeshWorksOnAModelBuiltInCode) {
  Mesh mesh;
  Domain domain;
  domain.name = "sales";
  ProductBundle bundle;
  bundle.product.name = "daily";
  bundle.product.domain = "sales";
  OutputPort port;
  port.name = "daily";
  port.contract_id = "c1";
  bundle.product.output_ports.push_back(port);
  Contract contract;
  contract.id = "c1";
  contract.status = "active";
  SchemaObject table;
  table.name = "daily";
  Property column;
  column.name = "day";
  column.logical_type = "date";
  column.physical_type = "   ";
  table.properties.push_back(column);
  contract.schema.push_back(table);
  bundle.contracts["c1"] = contract;
  domain.products.push_back(bundle);
  mesh.domains.push_back(domain);
  std::vector<Diagnostic> problems;
  Status status = ValidateMesh(mesh, &problems);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(problems.size(), 1u) << Dump(problems);
  EXPECT_EQ(problems[0].field, "schema[0].properties[0].physicalType");
  mesh.domains[0].products[0].contracts["c1"].schema[0].properties[0].physical_type = "DATE";
  EXPECT_TRUE(ValidateMesh(mesh, nullptr).ok());
}

TEST(SpecMeshTest, SqlNames) {
  EXPECT_TRUE(IsSqlName("orders"));
  EXPECT_TRUE(IsSqlName("orders_v2"));
  EXPECT_TRUE(IsSqlName(std::string(63, 'a')));
  EXPECT_FALSE(IsSqlName(std::string(64, 'a')));
  EXPECT_FALSE(IsSqlName(""));
  EXPECT_FALSE(IsSqlName("Orders"));
  EXPECT_FALSE(IsSqlName("2orders"));
  EXPECT_FALSE(IsSqlName("_orders"));
  EXPECT_FALSE(IsSqlName("orders__v1"));
  EXPECT_FALSE(IsSqlName("order-lines"));
}

}  // namespace
}  // namespace plexus::spec
