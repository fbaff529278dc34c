// File: tools/contract_tools_test.cc
//
// plexus contract export / infer: the DDL runs in DuckDB and builds the tables the contract
// describes, PostgreSQL gets its own spellings, the JSON Schema describes a row, and a contract
// drafted from CSV, NDJSON or Parquet validates and says what the data holds.
#include "tools/contract_tools.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "plexus/engine/engine.h"
#include "plexus/spec/parse.h"

namespace plexus::tools {
namespace {

namespace fs = std::filesystem;

fs::path RealWorld(const std::string& name) {
  return fs::path(PLEXUS_SOURCE_DIR) / "src/plexus/spec/testdata/real_world" / name;
}

spec::Contract Load(const std::string& name) {
  std::vector<spec::Diagnostic> problems;
  Result<spec::Contract> contract = spec::ParseContractFile(RealWorld(name).string(), &problems);
  EXPECT_TRUE(contract.ok()) << contract.status().ToString();
  return contract.ok() ? *contract : spec::Contract{};
}

fs::path Scratch() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path dir = fs::path(::testing::TempDir()) / "plexus_contract_tools" / info->name();
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string Write(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

/// Rows of a one-column query, as text.
std::vector<std::string> Column(engine::Connection& conn, const std::string& sql) {
  std::vector<std::string> out;
  auto result = conn.Query(sql);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok()) return out;
  while (true) {
    auto chunk = (*result)->Fetch();
    if (!chunk.ok() || !*chunk) break;
    for (size_t row = 0; row < (*chunk)->size(); ++row) out.push_back((*chunk)->Text(0, row));
  }
  return out;
}

TEST(ContractExportTest, DuckDbDdlBuildsTheTablesTheContractDescribes) {
  std::string ddl = ContractDdl(Load("entropy_data_payments.odcs.yaml"), DdlDialect::kDuckDb);
  auto db = engine::Database::Open({});
  ASSERT_TRUE(db.ok());
  auto conn = (*db)->Connect();
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->Execute(ddl).ok()) << ddl;
  EXPECT_EQ(Column(**conn, "SELECT column_name || ' ' || data_type || ' ' || is_nullable "
                           "FROM information_schema.columns WHERE table_name = "
                           "'fct_settled_payments' ORDER BY ordinal_position"),
            (std::vector<std::string>{
                "payment_id VARCHAR NO", "order_id VARCHAR NO", "amount_minor BIGINT NO",
                "currency VARCHAR YES", "settled_at TIMESTAMP YES", "card JSON YES",
                "labels JSON YES"}));
  // The primary key holds.
  std::string insert = "INSERT INTO fct_settled_payments (payment_id, order_id, amount_minor) "
                       "VALUES ('pay_1', 'o1', 5)";
  ASSERT_TRUE((*conn)->Execute(insert).ok());
  EXPECT_FALSE((*conn)->Execute(insert).ok());
  EXPECT_EQ(Column(**conn, "SELECT comment FROM duckdb_tables() WHERE table_name = "
                           "'fct_settled_payments'"),
            (std::vector<std::string>{"One row per settled payment."}));
}

TEST(ContractExportTest, PostgresDdlUsesPostgresTypes) {
  std::string ddl = ContractDdl(Load("collibra_customer.odcs.yaml"), DdlDialect::kPostgres);
  EXPECT_NE(ddl.find("CREATE TABLE \"dim_customer\" (\n"
                     "  \"customer_id\" numeric(38,0) NOT NULL,\n"
                     "  \"full_name\" varchar(200),\n"
                     "  \"signup_date\" date,\n"
                     "  \"lifetime_value\" numeric(18,2),\n"
                     "  \"is_active\" boolean,\n"
                     "  PRIMARY KEY (\"customer_id\")\n);\n"),
            std::string::npos)
      << ddl;
  EXPECT_NE(ddl.find("COMMENT ON COLUMN \"dim_customer\".\"lifetime_value\" IS 'Sum of all"),
            std::string::npos)
      << ddl;
  spec::Property text;
  text.physical_type = "text";
  EXPECT_EQ(ColumnType(text, DdlDialect::kPostgres), "text");
  spec::Property list;
  list.physical_type = "BIGINT[]";
  EXPECT_EQ(ColumnType(list, DdlDialect::kPostgres), "bigint[]");
  spec::Property logical;
  logical.logical_type = "timestamp";
  EXPECT_EQ(ColumnType(logical, DdlDialect::kDuckDb), "TIMESTAMP");
}

TEST(ContractExportTest, JsonSchemaDescribesOneRow) {
  spec::Contract contract = Load("datacontract_cli_orders.odcs.yaml");
  Result<std::string> text = ContractJsonSchema(contract, "");
  ASSERT_TRUE(text.ok());
  nlohmann::json schema = nlohmann::json::parse(*text);
  EXPECT_EQ(schema["$schema"], "https://json-schema.org/draft/2019-09/schema");
  EXPECT_EQ(schema["type"], "object");
  EXPECT_EQ(schema["additionalProperties"], false);
  EXPECT_EQ(schema["required"], nlohmann::json({"order_id", "order_timestamp", "order_total",
                                                "customer_email_address"}));
  EXPECT_EQ(schema["properties"]["order_total"]["type"], "integer");
  EXPECT_EQ(schema["properties"]["order_timestamp"]["format"], "date");
  EXPECT_EQ(schema["properties"]["customer_id"]["type"], nlohmann::json({"string", "null"}));
  EXPECT_EQ(ContractJsonSchema(contract, "nope").status().code(), StatusCode::kNotFound);
}

/// Infers a contract from `file`, checks it validates, and returns its only schema object.
spec::SchemaObject InferAndParse(const std::string& file, const InferOptions& options) {
  Result<std::string> yaml = InferContract(file, options);
  EXPECT_TRUE(yaml.ok()) << yaml.status().ToString();
  if (!yaml.ok()) return {};
  std::string path = Write(fs::path(file).parent_path() / "drafted.odcs.yaml", *yaml);
  std::vector<spec::Diagnostic> problems;
  Result<spec::Contract> contract = spec::ParseContractFile(path, &problems);
  EXPECT_TRUE(contract.ok()) << *yaml;
  if (!contract.ok() || contract->schema.size() != 1) return {};
  EXPECT_EQ(contract->api_version, "v3.1.0");
  EXPECT_EQ(contract->status, "draft");
  return contract->schema[0];
}

std::string Describe(const spec::SchemaObject& object) {
  std::string out;
  for (const spec::Property& p : object.properties) {
    out += p.name + ":" + p.logical_type + ":" + p.physical_type + (p.required ? ":req" : "") +
           " ";
  }
  return out;
}

TEST(ContractInferTest, DraftsFromCsvWithRequiredWhereThereIsNoNull) {
  fs::path dir = Scratch();
  std::string csv = Write(dir / "Order Lines.csv",
                          "id,sku,price,ordered_on,gift\n1,A-1,9.5,2024-01-02,true\n"
                          "2,,12.25,2024-01-03,false\n");
  spec::SchemaObject object = InferAndParse(csv, {});
  EXPECT_EQ(object.name, "order_lines");
  EXPECT_EQ(Describe(object),
            "id:integer:BIGINT:req sku:string:VARCHAR price:number:DOUBLE:req "
            "ordered_on:date:DATE:req gift:boolean:BOOLEAN:req ");
}

TEST(ContractInferTest, DraftsFromNdjsonAndParquet) {
  fs::path dir = Scratch();
  std::string ndjson = Write(dir / "events.ndjson",
                             "{\"user\": \"a\", \"at\": \"2024-01-01 10:00:00\", \"tags\": [\"x\"]}\n"
                             "{\"user\": \"b\", \"at\": null, \"tags\": []}\n");
  spec::SchemaObject events = InferAndParse(ndjson, {.name = "events", .id = "ev-1", .format = ""});
  EXPECT_EQ(Describe(events),
            "user:string:VARCHAR:req at:timestamp:TIMESTAMP tags:array:VARCHAR[]:req ");

  auto db = engine::Database::Open({});
  ASSERT_TRUE(db.ok());
  auto conn = (*db)->Connect();
  ASSERT_TRUE(conn.ok());
  std::string parquet = (dir / "amounts.parquet").string();
  ASSERT_TRUE((*conn)->Execute("COPY (SELECT 1::INTEGER AS n, 2.50::DECIMAL(10,2) AS amount, "
                               "{'a': 1} AS detail) TO " + engine::QuoteLiteral(parquet) +
                               " (FORMAT parquet)").ok());
  EXPECT_EQ(Describe(InferAndParse(parquet, {})),
            "n:integer:INTEGER:req amount:number:DECIMAL(10,2):req "
            "detail:object:STRUCT(a INTEGER):req ");
}

TEST(ContractInferTest, RefusesWhatItCannotRead) {
  EXPECT_EQ(InferContract("/nonexistent/x.csv", {}).status().code(), StatusCode::kNotFound);
  fs::path dir = Scratch();
  std::string odd = Write(dir / "data.xlsx", "x");
  Result<std::string> unknown = InferContract(odd, {});
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("--format"), std::string::npos);
}

}  // namespace
}  // namespace plexus::tools
