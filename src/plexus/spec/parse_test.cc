// File: plexus/spec/parse_test.cc
//
// Per-file parsing: each kind of problem names the right file, 1-based line and column, and
// field; every problem of a file is collected; valid files fill the model.
#include <gtest/gtest.h>

#include <filesystem>

#include "plexus/spec/parse.h"
#include "plexus/spec/spec_test_util.h"

namespace plexus::spec {
namespace {

namespace fs = std::filesystem;
using testing::Dump;
using testing::MiniMeshDir;
using testing::Problem;
using testing::ScratchDir;
using testing::WithField;
using testing::WriteFile;

/// Expects exactly one problem on `field`, at `line`:`column` of `file`.
void ExpectProblem(const std::vector<Diagnostic>& problems, const std::string& file,
                   const std::string& field, int line, int column, const std::string& words) {
  std::vector<Diagnostic> found = WithField(problems, field);
  ASSERT_EQ(found.size(), 1u) << "field " << field << " in:\n" << Dump(problems);
  EXPECT_EQ(found[0].location.file, file);
  EXPECT_EQ(found[0].location.line, line) << found[0].ToString();
  if (column > 0) {
    EXPECT_EQ(found[0].location.column, column) << found[0].ToString();
  }
  EXPECT_NE(found[0].message.find(words), std::string::npos) << found[0].ToString();
}

TEST(SpecParseTest, DiagnosticToStringIsFileLineColumnFieldMessage) {
  Diagnostic d = Problem("domains/orders/orders/product.odps.yaml", 12, 5,
                         "outputPorts[0].contractId", "required field is missing");
  EXPECT_EQ(d.ToString(),
            "domains/orders/orders/product.odps.yaml:12:5: outputPorts[0].contractId: required "
            "field is missing");
  EXPECT_EQ(Problem("m.yaml", 0, 0, "", "no such file").ToString(), "m.yaml: no such file");
}

TEST(SpecParseTest, StatusNamesTheFirstProblemAndCountsTheOthers) {
  std::vector<Diagnostic> problems = {
      Problem("a.yaml", 1, 1, "id", "required field is missing"),
      Problem("a.yaml", 1, 1, "status", "required field is missing"),
      Problem("a.yaml", 3, 1, "kind", "bad")};
  Status status = ProblemsStatus(problems);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "a.yaml:1:1: id: required field is missing (and 2 more problems)");
  EXPECT_EQ(ProblemsStatus(problems, 2).message(), "a.yaml:3:1: kind: bad");
  EXPECT_TRUE(ProblemsStatus(problems, 3).ok());
}

TEST(SpecParseTest, ValidProductFillsTheModel) {
  std::string path = (MiniMeshDir() / "domains/orders/orders/product.odps.yaml").string();
  std::vector<Diagnostic> problems;
  Result<Product> product = ParseProductFile(path, &problems);
  ASSERT_TRUE(product.ok()) << product.status().ToString();
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(product->api_version, "v1.0.0");
  EXPECT_EQ(product->name, "orders");
  EXPECT_EQ(product->domain, "orders");
  EXPECT_EQ(product->status, "active");
  EXPECT_EQ(product->purpose, "One row per order.");
  ASSERT_EQ(product->input_ports.size(), 1u);
  EXPECT_EQ(product->input_ports[0].contract_id, "customers-customers-v1");
  EXPECT_EQ(product->input_ports[0].location.line, 11);
  ASSERT_EQ(product->output_ports.size(), 1u);
  EXPECT_EQ(product->output_ports[0].contract_id, "orders-orders-v1");
  EXPECT_EQ(product->location.file, path);
  EXPECT_NE(product->source_text.find("kind: DataProduct"), std::string::npos);
}

TEST(SpecParseTest, ProductCollectsEveryProblem) {
  std::string path = WriteFile(ScratchDir() / "product.odps.yaml",
                               "apiVersion: v0.8.0\n"       // 1: unsupported
                               "kind: DataProdukt\n"        // 2: wrong kind
                               "name: orders\n"             // 3
                               "status: shipped\n"          // 4: bad status
                               "outputPort: []\n"           // 5: unknown key (typo)
                               "inputPorts:\n"              // 6
                               "  - name: customers\n"      // 7: version, contractId missing
                               "    tags: {a: b}\n"         // 8: map instead of list
                               "team: [alice]\n");          // 9: list instead of map
  std::vector<Diagnostic> problems;
  Result<Product> product = ParseProductFile(path, &problems);
  ASSERT_FALSE(product.ok());
  EXPECT_EQ(product.status().code(), StatusCode::kInvalidArgument);
  ExpectProblem(problems, path, "apiVersion", 1, 13, "v1.0.0");
  ExpectProblem(problems, path, "kind", 2, 7, "DataProduct");
  ExpectProblem(problems, path, "id", 1, 1, "required field is missing");
  ExpectProblem(problems, path, "status", 4, 9, "shipped");
  ExpectProblem(problems, path, "outputPort", 5, 1, "did you mean 'outputPorts'?");
  ExpectProblem(problems, path, "inputPorts[0].version", 7, 5, "required field is missing");
  ExpectProblem(problems, path, "inputPorts[0].contractId", 7, 5, "required field is missing");
  ExpectProblem(problems, path, "inputPorts[0].tags", 8, 11, "expected a list, found a map");
  ExpectProblem(problems, path, "team", 9, 7, "expected a map, found a list");
  EXPECT_EQ(problems.size(), 9u) << Dump(problems);
  EXPECT_NE(product.status().message().find("(and 8 more problems)"), std::string::npos)
      << product.status().ToString();
}

TEST(SpecParseTest, YamlSyntaxErrorIsReportedOneBased) {
  std::string path = WriteFile(ScratchDir() / "broken.odps.yaml",
                               "apiVersion: v1.0.0\n"
                               "kind: DataProduct\n"
                               "  id: x\n");  // the ':' of an over-indented key
  std::vector<Diagnostic> problems;
  Result<Product> product = ParseProductFile(path, &problems);
  ASSERT_FALSE(product.ok());
  ASSERT_EQ(problems.size(), 1u) << Dump(problems);
  EXPECT_EQ(problems[0].location.line, 3);
  EXPECT_EQ(problems[0].location.column, 5);  // yaml-cpp's mark is 0-based 2:4
  EXPECT_NE(problems[0].message.find("YAML syntax error"), std::string::npos);
  EXPECT_EQ(product.status().message(), problems[0].ToString());
}

TEST(SpecParseTest, DuplicateKeysAndEmptyDocumentsAreRefused) {
  std::string dup = WriteFile(ScratchDir() / "dup.odps.yaml",
                              "apiVersion: v1.0.0\nkind: DataProduct\nid: a\nstatus: draft\n"
                              "id: b\n");
  std::vector<Diagnostic> problems;
  EXPECT_FALSE(ParseProductFile(dup, &problems).ok());
  ExpectProblem(problems, dup, "id", 5, 1, "duplicate key (first at line 3)");

  std::string empty = WriteFile(ScratchDir() / "empty.odps.yaml", "# nothing\n");
  problems.clear();
  EXPECT_FALSE(ParseProductFile(empty, &problems).ok());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].location.line, 1);
  EXPECT_NE(problems[0].message.find("empty"), std::string::npos);
}

TEST(SpecParseTest, MissingFileIsNotFoundNamingThePath) {
  std::string path = (ScratchDir() / "nope.odps.yaml").string();
  Result<Product> product = ParseProductFile(path, nullptr);
  ASSERT_FALSE(product.ok());
  EXPECT_EQ(product.status().code(), StatusCode::kNotFound);
  EXPECT_NE(product.status().message().find(path), std::string::npos);
  Result<Contract> contract = ParseContractFile(ScratchDir().string(), nullptr);
  EXPECT_EQ(contract.status().code(), StatusCode::kIOError);
}

TEST(SpecParseTest, ValidContractFillsTheModel) {
  std::string path = (MiniMeshDir() / "domains/customers/customers/contracts/customers.odcs.yaml")
                         .string();
  Result<Contract> contract = ParseContractFile(path, nullptr);
  ASSERT_TRUE(contract.ok()) << contract.status().ToString();
  EXPECT_EQ(contract->id, "customers-customers-v1");
  EXPECT_EQ(contract->api_version, "v3.1.0");
  EXPECT_EQ(contract->description, "One row per customer.");
  ASSERT_EQ(contract->schema.size(), 1u);
  const SchemaObject& table = contract->schema[0];
  EXPECT_EQ(table.name, "customers");
  ASSERT_EQ(table.properties.size(), 3u);
  EXPECT_EQ(table.properties[0].name, "customer_id");
  EXPECT_EQ(table.properties[0].physical_type, "BIGINT");
  EXPECT_TRUE(table.properties[0].primary_key);
  EXPECT_TRUE(table.properties[0].required);
  EXPECT_EQ(table.properties[0].primary_key_position, 1);
  EXPECT_EQ(table.properties[1].classification, "pii");
  EXPECT_EQ(table.properties[1].location.line, 20);
  EXPECT_NE(contract->source_text.find("DataContract"), std::string::npos);
}

TEST(SpecParseTest, ContractPropertyProblemsNameTheirPath) {
  std::string path = WriteFile(ScratchDir() / "c.odcs.yaml",
                               "apiVersion: v3.1.0\n"                 // 1
                               "kind: DataContract\n"                 // 2
                               "id: c1\n"                             // 3
                               "version: 1.0.0\n"                     // 4
                               "status: active\n"                     // 5
                               "schema:\n"                            // 6
                               "  - name: orders\n"                   // 7
                               "    properties:\n"                    // 8
                               "      - name: id\n"                   // 9
                               "        primaryKey: yes please\n"     // 10: not a boolean
                               "      - name: total\n"                // 11
                               "        logicalType: money\n"         // 12: not an ODCS type
                               "        physicalType: ''\n"           // 13: empty
                               "      - logicalType: string\n"        // 14: name missing
                               "        colour: red\n"                // 15: unknown key
                               "        quality:\n"                   // 16
                               "          - type: sql\n"              // 17: query missing
                               "            mustBe: 0\n"              // 18
                               "            mustBeLessThan: 3\n");    // 19: two operators
  std::vector<Diagnostic> problems;
  Result<Contract> contract = ParseContractFile(path, &problems);
  ASSERT_FALSE(contract.ok());
  ExpectProblem(problems, path, "schema[0].properties[0].primaryKey", 10, 21, "true or false");
  ExpectProblem(problems, path, "schema[0].properties[1].logicalType", 12, 22, "'money'");
  ExpectProblem(problems, path, "schema[0].properties[1].physicalType", 13, 23, "empty");
  ExpectProblem(problems, path, "schema[0].properties[2].name", 14, 9, "required field");
  ExpectProblem(problems, path, "schema[0].properties[2].colour", 15, 9, "unknown field");
  ExpectProblem(problems, path, "schema[0].properties[2].quality[0].query", 17, 13, "type sql");
  ExpectProblem(problems, path, "schema[0].properties[2].quality[0]", 17, 13, "at most one");
  EXPECT_EQ(problems.size(), 7u) << Dump(problems);
}

TEST(SpecParseTest, ContractHeaderIsChecked) {
  std::string path = WriteFile(ScratchDir() / "c.odcs.yaml",
                               "apiVersion: v2.2.2\n"
                               "kind: DataContract\n"
                               "id: c1\n"
                               "status: active\n"
                               "schema: {name: orders}\n"
                               "servers:\n"
                               "  - server: prod\n"
                               "    type: postgres\n"
                               "    host: db\n");
  std::vector<Diagnostic> problems;
  ASSERT_FALSE(ParseContractFile(path, &problems).ok());
  ExpectProblem(problems, path, "apiVersion", 1, 13, "unsupported ODCS version 'v2.2.2'");
  ExpectProblem(problems, path, "version", 1, 1, "required field is missing");
  ExpectProblem(problems, path, "schema", 5, 9, "expected a list, found a map");
  ExpectProblem(problems, path, "servers[0].database", 7, 5, "type postgres");
  ExpectProblem(problems, path, "servers[0].port", 7, 5, "type postgres");
}

TEST(SpecParseTest, ValidPipelineFillsTheModel) {
  std::string path = (MiniMeshDir() / "domains/customers/customers/pipeline.yaml").string();
  Result<Pipeline> pipeline = ParsePipelineFile(path, nullptr);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
  ASSERT_EQ(pipeline->inputs.size(), 1u);
  EXPECT_EQ(pipeline->inputs[0].name, "raw_customers");
  EXPECT_EQ(pipeline->inputs[0].file, "data/customers.csv");
  EXPECT_EQ(pipeline->inputs[0].format, "csv");
  EXPECT_EQ(pipeline->inputs[0].options.at("delim"), ",");
  EXPECT_EQ(pipeline->inputs[0].options.at("header"), "true");
  ASSERT_EQ(pipeline->outputs.size(), 1u);
  EXPECT_EQ(pipeline->outputs[0].port, "customers");
  EXPECT_NE(pipeline->outputs[0].sql.find("FROM raw_customers"), std::string::npos);
  EXPECT_EQ(pipeline->outputs[0].location.line, 11);
}

TEST(SpecParseTest, PipelineProblemsAreCollected) {
  std::string path = WriteFile(ScratchDir() / "pipeline.yaml",
                               "apiVersion: plexus/v2\n"           // 1: wrong version
                               "kind: Pipeline\n"                  // 2
                               "inputs:\n"                         // 3
                               "  - name: a\n"                     // 4: both file and port
                               "    file: a.csv\n"                 // 5
                               "    inputPort: up\n"               // 6
                               "  - name: b\n"                     // 7: neither
                               "    format: xlsx\n"                // 8: bad format
                               "    options: [x]\n"                // 9: not a map
                               "output:\n"                         // 10: typo, outputs missing
                               "  - port: x\n");
  std::vector<Diagnostic> problems;
  ASSERT_FALSE(ParsePipelineFile(path, &problems).ok());
  ExpectProblem(problems, path, "apiVersion", 1, 13, "plexus/v1");
  ExpectProblem(problems, path, "inputs[0]", 4, 5, "not several");
  ExpectProblem(problems, path, "inputs[1].file", 7, 5, "or inputPort, or cdc");
  ExpectProblem(problems, path, "inputs[1].format", 8, 13, "xlsx");
  ExpectProblem(problems, path, "inputs[1].options", 9, 14, "expected a map");
  ExpectProblem(problems, path, "output", 10, 1, "did you mean 'outputs'?");
  ExpectProblem(problems, path, "outputs", 1, 1, "required field is missing");
  EXPECT_EQ(problems.size(), 7u) << Dump(problems);
}

TEST(SpecParseTest, StreamingPipelineFillsTheModel) {
  std::string path = WriteFile(ScratchDir() / "pipeline.yaml",
                               "apiVersion: plexus/v1\n"                             // 1
                               "kind: Pipeline\n"                                    // 2
                               "inputs:\n"                                           // 3
                               "  - name: changes\n"                                 // 4
                               "    cdc:\n"                                          // 5
                               "      source: postgres\n"                            // 6
                               "      dsn: host=127.0.0.1 dbname=shop\n"             // 7
                               "      table: public.orders\n"                        // 8
                               "      snapshot: false\n"                             // 9
                               "      maxErrorRate: 0.01\n"                          // 10
                               "      newColumns: pause\n"                           // 11
                               "  - name: customers\n"                               // 12
                               "    inputPort: customers\n"                          // 13
                               "  - name: events\n"                                  // 14
                               "    cdc: {source: kafka, brokers: 'b:9092', topic: t,"
                               " options: {group.id: g}, compactAt: 0.25}\n"         // 15
                               "outputs:\n"                                          // 16
                               "  - port: orders\n"                                  // 17
                               "    from: changes\n"                                 // 18
                               "    steps:\n"                                        // 19
                               "      - filter: \"status <> 'test'\"\n"              // 20
                               "      - project: [id, 'amount * 100 AS cents']\n"    // 21
                               "      - rename: {id: order_id, cents: amount}\n"     // 22
                               "      - lookup: {input: customers, on: [customer_id],"
                               " columns: [country]}\n"                              // 23
                               "      - use: clean_emails\n"                         // 24
                               "        with: {column: email, keep: 007}\n"          // 25
                               "schedule:\n"                                         // 26
                               "  every: 15m\n"                                      // 27
                               "  cron: '0 * * * *'\n"                               // 28
                               "  onUpstream: true\n"                                // 29
                               "  continuous: true\n"                                // 30
                               "  maxLatency: 500ms\n"                               // 31
                               "  maxBatchEvents: 5000\n"                            // 32
                               "retries: {attempts: 5, backoff: 30, maxBackoff: 1h}\n");
  std::vector<Diagnostic> problems;
  Result<Pipeline> pipeline = ParsePipelineFile(path, &problems);
  ASSERT_TRUE(pipeline.ok()) << Dump(problems);
  ASSERT_EQ(pipeline->inputs.size(), 3u);
  ASSERT_TRUE(pipeline->inputs[0].cdc.has_value());
  const CdcSpec& pg = *pipeline->inputs[0].cdc;
  EXPECT_EQ(pg.source, "postgres");
  EXPECT_EQ(pg.dsn, "host=127.0.0.1 dbname=shop");
  EXPECT_EQ(pg.table, "public.orders");
  EXPECT_FALSE(pg.snapshot);
  EXPECT_DOUBLE_EQ(pg.max_error_rate, 0.01);
  EXPECT_DOUBLE_EQ(pg.compact_at, 0.5);  // the default
  EXPECT_EQ(pg.new_columns, "pause");
  EXPECT_EQ(pg.location.line, 6);
  EXPECT_FALSE(pipeline->inputs[1].cdc.has_value());
  const CdcSpec& kafka = *pipeline->inputs[2].cdc;
  EXPECT_EQ(kafka.topic, "t");
  EXPECT_EQ(kafka.options.at("group.id"), "g");
  EXPECT_EQ(kafka.new_columns, "add");
  EXPECT_DOUBLE_EQ(kafka.compact_at, 0.25);
  const PipelineOutput& out = pipeline->outputs[0];
  EXPECT_EQ(out.from, "changes");
  EXPECT_TRUE(out.sql.empty());
  ASSERT_EQ(out.steps.size(), 5u);
  EXPECT_EQ(out.steps[0].kind, "filter");
  EXPECT_EQ(out.steps[0].value.text, "status <> 'test'");
  EXPECT_EQ(out.steps[0].location.line, 20);
  EXPECT_EQ(out.steps[1].value.kind, StepValue::Kind::kList);
  EXPECT_EQ(out.steps[1].value.items[1].text, "amount * 100 AS cents");
  EXPECT_EQ(out.steps[1].value.items[1].location.line, 21);
  ASSERT_EQ(out.steps[2].value.fields.size(), 2u);
  EXPECT_EQ(out.steps[2].value.fields[1].first, "cents");  // written order
  EXPECT_EQ(out.steps[2].value.fields[1].second.text, "amount");
  EXPECT_EQ(out.steps[3].value.Field("on")->items[0].text, "customer_id");
  EXPECT_EQ(out.steps[4].kind, "use");
  EXPECT_EQ(out.steps[4].value.text, "clean_emails");
  ASSERT_EQ(out.steps[4].with.size(), 2u);
  EXPECT_EQ(out.steps[4].with[1].second.text, "007");  // scalars keep their text
  const Schedule& s = pipeline->schedule;
  EXPECT_DOUBLE_EQ(s.every_s, 900);
  EXPECT_EQ(s.cron, "0 * * * *");
  EXPECT_TRUE(s.on_upstream);
  EXPECT_TRUE(s.continuous);
  EXPECT_DOUBLE_EQ(s.max_latency_s, 0.5);
  EXPECT_EQ(s.max_batch_events, 5000);
  EXPECT_EQ(pipeline->retries.attempts, 5);
  EXPECT_DOUBLE_EQ(pipeline->retries.backoff_s, 30);
  EXPECT_DOUBLE_EQ(pipeline->retries.max_backoff_s, 3600);
}

TEST(SpecParseTest, PipelineWithoutScheduleKeepsTheDefaults) {
  std::string path = (MiniMeshDir() / "domains/customers/customers/pipeline.yaml").string();
  Result<Pipeline> pipeline = ParsePipelineFile(path, nullptr);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
  EXPECT_EQ(pipeline->schedule.every_s, 0);
  EXPECT_TRUE(pipeline->schedule.cron.empty());
  EXPECT_FALSE(pipeline->schedule.continuous);
  EXPECT_DOUBLE_EQ(pipeline->schedule.max_latency_s, 1);
  EXPECT_EQ(pipeline->retries.attempts, 3);
  EXPECT_TRUE(pipeline->outputs[0].steps.empty());
}

TEST(SpecParseTest, Durations) {
  EXPECT_EQ(ParseDurationSeconds("500ms"), 0.5);
  EXPECT_EQ(ParseDurationSeconds("30s"), 30);
  EXPECT_EQ(ParseDurationSeconds("15m"), 900);
  EXPECT_EQ(ParseDurationSeconds("2h"), 7200);
  EXPECT_EQ(ParseDurationSeconds("1d"), 86400);
  EXPECT_EQ(ParseDurationSeconds("90"), 90);
  EXPECT_EQ(ParseDurationSeconds("1.5"), 1.5);
  EXPECT_EQ(ParseDurationSeconds("1.5m"), 90);
  EXPECT_FALSE(ParseDurationSeconds("").has_value());
  EXPECT_FALSE(ParseDurationSeconds("m").has_value());
  EXPECT_FALSE(ParseDurationSeconds("-5s").has_value());
  EXPECT_FALSE(ParseDurationSeconds("5 min").has_value());
  EXPECT_FALSE(ParseDurationSeconds("5w").has_value());
}

TEST(SpecParseTest, StreamingPipelineProblemsAreLocated) {
  std::string path = WriteFile(ScratchDir() / "pipeline.yaml",
                               "apiVersion: plexus/v1\n"                             // 1
                               "kind: Pipeline\n"                                    // 2
                               "inputs:\n"                                           // 3
                               "  - name: a\n"                                       // 4
                               "    file: a.csv\n"                                   // 5
                               "    cdc: {source: files, folder: in}\n"              // 6
                               "  - name: b\n"                                       // 7
                               "    cdc:\n"                                          // 8
                               "      source: postgres\n"                            // 9
                               "      folder: in\n"                                  // 10
                               "      maxErrorRate: 5%\n"                            // 11
                               "      newColumns: keep\n"                            // 12
                               "  - name: c\n"                                       // 13
                               "    cdc: {source: ftp, compactAt: 2}\n"              // 14
                               "    options: {x: y}\n"                               // 15
                               "outputs:\n"                                          // 16
                               "  - port: x\n"                                       // 17
                               "    sql: SELECT 1\n"                                 // 18
                               "    from: a\n"                                       // 19
                               "    steps:\n"                                        // 20
                               "      - filtr: x > 1\n"                              // 21
                               "      - {filter: a, project: [b]}\n"                 // 22
                               "      - use: Bad-Name\n"                             // 23
                               "        with: [x]\n"                                 // 24
                               "      - dedupe:\n"                                   // 25
                               "schedule:\n"                                         // 26
                               "  every: soon\n"                                     // 27
                               "  cron: '61 * * * *'\n"                              // 28
                               "  maxBatchEvents: 0\n"                               // 29
                               "  continous: true\n"                                 // 30
                               "retries: {attempts: 2, backoff: 1m, maxBackoff: 10s}\n");  // 31
  std::vector<Diagnostic> problems;
  ASSERT_FALSE(ParsePipelineFile(path, &problems).ok());
  ExpectProblem(problems, path, "inputs[0]", 4, 5, "not several");
  ExpectProblem(problems, path, "inputs[1].cdc.folder", 10, 15, "applies to source files only");
  ExpectProblem(problems, path, "inputs[1].cdc.dsn", 9, 7, "required field is missing");
  ExpectProblem(problems, path, "inputs[1].cdc.table", 9, 7, "source postgres needs it");
  ExpectProblem(problems, path, "inputs[1].cdc.maxErrorRate", 11, 21, "between 0 and 1");
  ExpectProblem(problems, path, "inputs[1].cdc.newColumns", 12, 19, "'keep' is not allowed");
  ExpectProblem(problems, path, "inputs[2].cdc.source", 14, 19, "'ftp' is not allowed");
  ExpectProblem(problems, path, "inputs[2].cdc.compactAt", 14, 35, "between 0 and 1");
  ExpectProblem(problems, path, "outputs[0].from", 19, 11, "not both");
  ExpectProblem(problems, path, "outputs[0].steps[0]", 21, 9, "unknown step 'filtr'");
  ExpectProblem(problems, path, "outputs[0].steps[1]", 22, 9, "a map of one key");
  ExpectProblem(problems, path, "outputs[0].steps[2].use", 23, 14, "a processor's name");
  ExpectProblem(problems, path, "outputs[0].steps[2].with", 24, 15, "expected a map");
  ExpectProblem(problems, path, "schedule.every", 27, 10, "expected a duration");
  ExpectProblem(problems, path, "schedule.cron", 28, 9, "minute 61 is out of range");
  ExpectProblem(problems, path, "schedule.maxBatchEvents", 29, 19, "whole number above 0");
  ExpectProblem(problems, path, "schedule.continous", 30, 3, "did you mean 'continuous'?");
  ExpectProblem(problems, path, "retries.maxBackoff", 31, 49, "not be shorter than backoff");
  ExpectProblem(problems, path, "inputs[2].options", 15, 14, "a file reader's");
  EXPECT_EQ(problems.size(), 19u) << Dump(problems);
}

TEST(SpecParseTest, ProcessorsOfDomainAndMeshFillTheModel) {
  fs::path dir = ScratchDir();
  WriteFile(dir / "mesh.yaml",
            "apiVersion: plexus/v1\n"                          // 1
            "kind: Mesh\n"                                     // 2
            "name: m\n"                                        // 3
            "processors:\n"                                    // 4
            "  clean_emails:\n"                                // 5
            "    description: Drops rows without an email.\n"  // 6
            "    parameters:\n"                                // 7
            "      column: {default: email, description: the email column}\n"  // 8
            "      limit:\n"                                   // 9
            "    steps:\n"                                     // 10
            "      - filter: \"${column} LIKE '%@%'\"\n"       // 11
            "      - hash: ['${column}']\n");                  // 12
  WriteFile(dir / "domains/sales/domain.yaml",
            "apiVersion: plexus/v1\n"
            "kind: Domain\n"
            "name: sales\n"
            "processors:\n"
            "  Latest: {steps: [{dedupe: {key: id}}]}\n"  // 5: bad name
            "  empty: {steps: []}\n"                      // 6: no steps
            "  nosteps: {description: x}\n");             // 7: steps missing
  std::vector<Diagnostic> problems;
  Result<Mesh> mesh = LoadMesh(dir.string(), &problems);
  ASSERT_FALSE(mesh.ok());
  ExpectProblem(problems, "domains/sales/domain.yaml", "processors.Latest", 5, 3,
                "not a valid processor name");
  ExpectProblem(problems, "domains/sales/domain.yaml", "processors.empty.steps", 6, 18,
                "at least one step");
  ExpectProblem(problems, "domains/sales/domain.yaml", "processors.nosteps.steps", 7, 12,
                "required field is missing");
  EXPECT_EQ(problems.size(), 3u) << Dump(problems);
  fs::remove_all(dir / "domains");
  problems.clear();
  mesh = LoadMesh(dir.string(), &problems);
  ASSERT_TRUE(mesh.ok()) << Dump(problems);
  ASSERT_EQ(mesh->processors.size(), 1u);
  const ProcessorDefinition& p = mesh->processors[0];
  EXPECT_EQ(p.name, "clean_emails");
  EXPECT_EQ(p.scope, "mesh");
  EXPECT_EQ(p.description, "Drops rows without an email.");
  EXPECT_EQ(p.location.line, 5);
  ASSERT_EQ(p.parameters.size(), 2u);
  EXPECT_EQ(p.parameters[0].default_value, std::optional<std::string>("email"));
  EXPECT_EQ(p.parameters[0].description, "the email column");
  EXPECT_FALSE(p.parameters[1].default_value.has_value());
  ASSERT_EQ(p.steps.size(), 2u);
  EXPECT_EQ(p.steps[1].kind, "hash");
  EXPECT_EQ(p.steps[1].value.items[0].text, "${column}");
}

TEST(SpecParseTest, AppendsToExistingProblemsAndCountsOnlyItsOwn) {
  std::vector<Diagnostic> problems = {Problem("earlier.yaml", 1, 1, "", "an earlier problem")};
  std::string path = WriteFile(ScratchDir() / "p.odps.yaml", "apiVersion: v1.0.0\n");
  Result<Product> product = ParseProductFile(path, &problems);
  ASSERT_FALSE(product.ok());
  EXPECT_EQ(problems.size(), 4u) << Dump(problems);  // + kind, id, status
  EXPECT_EQ(product.status().message().rfind(path, 0), 0u) << product.status().message();
  EXPECT_NE(product.status().message().find("(and 2 more problems)"), std::string::npos);
}

TEST(SpecParseTest, AccessCustomPropertiesFillTheModel) {
  std::string path = WriteFile(ScratchDir() / "access.odcs.yaml",
                               "apiVersion: v3.1.0\n"                                  // 1
                               "kind: DataContract\n"                                  // 2
                               "id: c1\n"                                              // 3
                               "version: 1.0.0\n"                                      // 4
                               "status: active\n"                                      // 5
                               "customProperties:\n"                                   // 6
                               "  - property: visibility\n"                            // 7
                               "    value: public\n"                                   // 8
                               "  - property: rowFilter\n"                             // 9
                               "    value: region = principal_attr('region')\n"        // 10
                               "  - property: rowFilterExempt\n"                       // 11
                               "    value: [admin, auditors]\n"                        // 12
                               "  - property: somebodyElses\n"                         // 13
                               "    value: {any: thing}\n"                             // 14
                               "schema:\n"                                             // 15
                               "  - name: orders\n"                                    // 16
                               "    properties:\n"                                     // 17
                               "      - name: email\n"                                 // 18
                               "        classification: pii\n"                         // 19
                               "        customProperties:\n"                           // 20
                               "          - property: mask\n"                          // 21
                               "            value: partial(4)\n");                     // 22
  std::vector<Diagnostic> problems;
  Result<Contract> contract = ParseContractFile(path, &problems);
  ASSERT_TRUE(contract.ok()) << Dump(problems);
  EXPECT_EQ(contract->visibility, "public");
  EXPECT_EQ(contract->row_filter, "region = principal_attr('region')");
  EXPECT_EQ(contract->row_filter_location.line, 10);
  EXPECT_EQ(contract->row_filter_exempt, (std::vector<std::string>{"admin", "auditors"}));
  EXPECT_EQ(contract->schema[0].properties[0].mask, "partial(4)");

  MeshAccess access;
  access.masks["pii"] = MaskRule{"hash", {"privacy"}, {}};
  std::vector<std::string> clear_for;
  EXPECT_EQ(EffectiveMask(access, contract->schema[0].properties[0], &clear_for), "partial(4)");
  EXPECT_EQ(clear_for, std::vector<std::string>{"privacy"});
  Property plain = contract->schema[0].properties[0];
  plain.mask.clear();
  plain.classification = "PII";
  EXPECT_EQ(EffectiveMask(access, plain, nullptr), "hash");
  plain.classification = "internal";
  EXPECT_EQ(EffectiveMask(access, plain, &clear_for), "");
  EXPECT_TRUE(clear_for.empty());
  EXPECT_EQ(EffectiveVisibility(access, Contract{}), "restricted");  // deny by default
}

TEST(SpecParseTest, BadVisibilityNamesItsLine) {
  std::string path = WriteFile(ScratchDir() / "vis.odcs.yaml",
                               "apiVersion: v3.1.0\n"                 // 1
                               "kind: DataContract\n"                 // 2
                               "id: c1\n"                             // 3
                               "version: 1.0.0\n"                     // 4
                               "status: active\n"                     // 5
                               "customProperties:\n"                  // 6
                               "  - property: visibility\n"           // 7
                               "    value: everyone\n"                // 8
                               "  - property: rowFilter\n"            // 9
                               "    value: ''\n");                    // 10
  std::vector<Diagnostic> problems;
  Result<Contract> contract = ParseContractFile(path, &problems);
  ASSERT_FALSE(contract.ok());
  ExpectProblem(problems, path, "customProperties.visibility", 8, 12, "public, restricted, private");
  ExpectProblem(problems, path, "customProperties[1].value", 10, 12, "empty");
  EXPECT_EQ(problems.size(), 2u) << Dump(problems);
}

}  // namespace
}  // namespace plexus::spec
