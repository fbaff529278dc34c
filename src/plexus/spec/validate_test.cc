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

constexpr char kOrdersDomain[] = "domains/orders/domain.yaml";

/// The mini mesh with processors in mesh.yaml and the orders domain, and `pipeline` as the
/// orders product's pipeline.yaml.
fs::path StreamingMesh(const std::string& pipeline) {
  fs::path mesh = CopyMiniMesh();
  std::ofstream(mesh / "mesh.yaml", std::ios::app)
      << "processors:\n"                                          // 6
         "  positive:\n"                                          // 7
         "    parameters:\n"                                      // 8
         "      column: {default: amount}\n"                      // 9
         "    steps:\n"                                           // 10
         "      - filter: ${column} > 0\n"                        // 11
         "  latest:\n"                                            // 12
         "    parameters: {key: {}, ts: {default: updated_at}}\n" // 13
         "    steps:\n"                                           // 14
         "      - dedupe: {key: '${key}', latest: '${ts}'}\n";    // 15
  std::ofstream(mesh / kOrdersDomain, std::ios::app)
      << "processors:\n"                                          // 7
         "  tidy:\n"                                              // 8
         "    parameters: {col: {}}\n"                            // 9
         "    steps:\n"                                           // 10
         "      - use: positive\n"                                // 11
         "        with: {column: '${col}'}\n"                     // 12
         "      - project: ['${col}', order_id]\n";               // 13
  WriteFile(mesh / kOrdersPipeline, pipeline);
  return mesh;
}

constexpr char kPipelineHead[] =
    "apiVersion: plexus/v1\n"                                         // 1
    "kind: Pipeline\n"                                                // 2
    "inputs:\n"                                                       // 3
    "  - name: changes\n"                                             // 4
    "    cdc: {source: files, folder: changes}\n"                     // 5
    "  - name: customers\n"                                           // 6
    "    inputPort: customers\n"                                      // 7
    "outputs:\n"                                                      // 8
    "  - port: orders\n"                                              // 9
    "    from: changes\n"                                             // 10
    "    steps:\n";                                                   // 11

TEST(SpecMeshTest, StreamingPipelineWithProcessorsLoadsClean) {
  fs::path mesh = StreamingMesh(std::string(kPipelineHead) +
                                "      - use: tidy\n"                              // 12
                                "        with: {col: amount}\n"                    // 13
                                "      - mask: {customer_id: hash}\n"
                                "schedule: {continuous: true, maxLatency: 200ms}\n");
  std::vector<Diagnostic> problems;
  Result<Mesh> loaded = LoadMesh(mesh.string(), &problems);
  ASSERT_TRUE(loaded.ok()) << Dump(problems);
  ASSERT_EQ(loaded->processors.size(), 2u);
  ASSERT_EQ(loaded->domains[1].processors.size(), 1u);
  EXPECT_EQ(loaded->domains[1].processors[0].scope, "orders");
}

TEST(SpecMeshTest, StepsAreCheckedAgainstInputsAndProcessors) {
  fs::path mesh = StreamingMesh(
      "apiVersion: plexus/v1\n"                                       // 1
      "kind: Pipeline\n"                                              // 2
      "inputs:\n"                                                     // 3
      "  - name: raw\n"                                               // 4
      "    file: data/orders.ndjson\n"                                // 5
      "  - name: customers\n"                                         // 6
      "    inputPort: customers\n"                                    // 7
      "outputs:\n"                                                    // 8
      "  - port: orders\n"                                            // 9
      "    from: raws\n"                                              // 10
      "    steps:\n"                                                  // 11
      "      - union: [customers, nowhere]\n"                         // 12
      "      - lookup: {input: clients, on: [id], columns: x}\n"      // 13
      "      - use: missing\n"                                        // 14
      "      - use: latest\n"                                         // 15
      "        with: {ts: changed_at, size: 3}\n"                     // 16
      "      - use: latest\n"                                         // 17
      "        with: {key: [order_id]}\n"                             // 18
      "      - dedupe: order_id\n"                                    // 19
      "schedule: {continuous: true, cron: '* * * * *'}\n");           // 20
  std::vector<Diagnostic> problems = LoadProblems(mesh);
  ExpectProblem(problems, kOrdersPipeline, "outputs[0].from", 9, "no input named 'raws'");
  ExpectProblem(problems, kOrdersPipeline, "outputs[0].steps[0].union[1]", 12,
                "union names 'nowhere', which is not an input");
  ExpectProblem(problems, kOrdersPipeline, "outputs[0].steps[1].lookup.input", 13,
                "lookup names 'clients'");
  ExpectProblem(problems, kOrdersPipeline, "outputs[0].steps[1].lookup.columns", 13,
                "expected a list of columns, found text");
  ExpectProblem(problems, kOrdersPipeline, "outputs[0].steps[2].use", 14,
                "no processor named 'missing' in domain.yaml of 'orders' or in mesh.yaml");
  ExpectProblem(problems, kOrdersPipeline, "outputs[0].steps[3].with.size", 16,
                "processor 'latest' has no parameter 'size' (its parameters: key, ts)");
  ExpectProblem(problems, kOrdersPipeline, "outputs[0].steps[3].with.key", 15,
                "needs parameter 'key' (it has no default)");
  ExpectProblem(problems, kOrdersPipeline, "outputs[0].steps[5].dedupe", 19,
                "expected a map with key, latest, found text");
  ExpectProblem(problems, kOrdersPipeline, "schedule.continuous", 20, "needs a CDC input");
  EXPECT_EQ(problems.size(), 9u) << Dump(problems);
}

TEST(SpecMeshTest, CdcOutputsTakeRowWiseStepsAndAPrimaryKey) {
  fs::path mesh = StreamingMesh(std::string(kPipelineHead) +
                                "      - filter: amount > 0\n"                     // 12
                                "      - dedupe: {key: order_id}\n"                // 13
                                "      - use: latest\n"                            // 14
                                "        with: {key: order_id}\n"                  // 15
                                "      - use: tidy\n"                              // 16
                                "        with: {col: amount}\n"                    // 17
                                "      - lookup: {input: customers, on: customer_id}\n");  // 18
  Edit(mesh, kOrdersContract, "primaryKey: true", "primaryKey: false");
  std::vector<Diagnostic> problems = LoadProblems(mesh);
  ExpectProblem(problems, kOrdersPipeline, "outputs[0].steps[1]", 13,
                "'dedupe' is not a row-wise step: an output built from the CDC input 'changes'");
  ExpectProblem(problems, kOrdersPipeline, "outputs[0].steps[2].use", 14,
                "processor 'latest': 'dedupe' is not a row-wise step");
  ExpectProblem(problems, kOrdersPipeline, "outputs[0].from", 9,
                "contract 'orders-orders-v1' needs a primary key");
  EXPECT_EQ(problems.size(), 3u) << Dump(problems);  // a lookup of an input port is row-wise
}

TEST(SpecMeshTest, ACdcOutputLooksUpAFileInputOrAnInputPortOnly) {
  fs::path mesh = StreamingMesh(std::string(kPipelineHead) +
                                "      - lookup: {input: customers, on: customer_id}\n"  // 12
                                "      - lookup: {input: clients, on: customer_id}\n"    // 13
                                "      - lookup: {input: changes, on: order_id}\n");     // 14
  std::vector<Diagnostic> problems = LoadProblems(mesh);
  ExpectProblem(problems, kOrdersPipeline, "outputs[0].steps[1].lookup.input", 13,
                "lookup names 'clients', which is not an input of this pipeline");
  ExpectProblem(problems, kOrdersPipeline, "outputs[0].steps[2].lookup.input", 14,
                "lookup names 'changes', a CDC input: a lookup reads a file input or an input "
                "port");
  EXPECT_EQ(problems.size(), 2u) << Dump(problems);
}

TEST(SpecMeshTest, ProcessorDefinitionsAreChecked) {
  fs::path mesh = StreamingMesh(std::string(kPipelineHead) + "      - filter: amount > 0\n");
  std::ofstream(mesh / kOrdersDomain, std::ios::app)
      << "  positive:\n"                                          // 14: a mesh name
         "    steps: [{filter: x}]\n"                             // 15
         "  loop_a:\n"                                            // 16
         "    steps: [{use: loop_b}]\n"                           // 17
         "  loop_b:\n"                                            // 18
         "    steps: [{use: loop_a}]\n"                           // 19
         "  broken:\n"                                            // 20
         "    parameters: {c: {}}\n"                              // 21
         "    steps:\n"                                           // 22
         "      - rename: {'${c}': '${d}'}\n"                     // 23
         "      - project: '${c}'\n"                              // 24: a whole placeholder
         "      - cast: [x]\n"                                    // 25
         "      - use: positive\n"                                // 26
         "        with: {col: x}\n";                              // 27
  std::vector<Diagnostic> problems = LoadProblems(mesh);
  ExpectProblem(problems, kOrdersDomain, "processors.positive", 14,
                "mesh.yaml already defines a processor 'positive' (mesh.yaml:7:3)");
  ExpectProblem(problems, kOrdersDomain, "processors.loop_a", 16,
                "processors use each other in a cycle (loop_a -> loop_b -> loop_a)");
  ExpectProblem(problems, kOrdersDomain, "processors.broken.steps[0]", 23,
                "${d} names no parameter of processor 'broken'");
  ExpectProblem(problems, kOrdersDomain, "processors.broken.steps[2].cast", 25,
                "expected a map of column: type, found a list");
  ExpectProblem(problems, kOrdersDomain, "processors.broken.steps[3].with.col", 27,
                "processor 'positive' has no parameter 'col'");
  // The domain's `positive` hides the mesh's (the problem above), so `tidy` now reaches it.
  ExpectProblem(problems, kOrdersDomain, "processors.tidy.steps[0].with.column", 12,
                "processor 'positive' has no parameter 'column' (it takes none)");
  EXPECT_EQ(problems.size(), 6u) << Dump(problems);
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
