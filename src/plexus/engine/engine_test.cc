#include "plexus/engine/engine.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <sstream>

#include "plexus/engine/result_writer.h"

namespace plexus::engine {
namespace {

std::unique_ptr<Connection> Connect(Database& db) {
  auto conn = db.Connect();
  EXPECT_TRUE(conn.ok()) << conn.status().ToString();
  return std::move(conn).value();
}

std::vector<std::vector<std::string>> Rows(Connection& conn, std::string_view sql) {
  auto result = conn.Query(sql);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  std::vector<std::vector<std::string>> rows;
  if (!result.ok()) return rows;
  while (true) {
    auto chunk = (*result)->Fetch();
    EXPECT_TRUE(chunk.ok());
    if (!chunk.ok() || !*chunk) break;
    for (size_t r = 0; r < (*chunk)->size(); r++) {
      std::vector<std::string> row;
      for (size_t c = 0; c < (*chunk)->column_count(); c++) {
        row.push_back((*chunk)->IsNull(c, r) ? "NULL" : (*chunk)->Text(c, r));
      }
      rows.push_back(row);
    }
  }
  return rows;
}

TEST(EngineTest, RendersEveryCommonTypeAsDuckDbDoes) {
  auto db = Database::Open({});
  ASSERT_TRUE(db.ok());
  auto conn = Connect(**db);
  auto rows = Rows(*conn,
                   "SELECT 42::INT, -7::BIGINT, 12.50::DECIMAL(10,2), -0.05::DECIMAL(18,3), "
                   "1.5::DOUBLE, 2::DOUBLE, 'héllo', NULL::INT, true, DATE '2024-01-31', "
                   "TIMESTAMP '2024-01-31 12:34:56.5', TIME '01:02:03', "
                   "INTERVAL '1 year 2 days 3 seconds', "
                   "'550e8400-e29b-41d4-a716-446655440000'::UUID, [1, 2, 3], "
                   "{'a': 1, 'b': 'x'}, MAP {'k': 1}, 123456789012345678901234567890::HUGEINT, "
                   "['x', NULL], '\\x01ab'::BLOB, 1234567.891::DECIMAL(38,3)");
  ASSERT_EQ(rows.size(), 1u);
  std::vector<std::string> want = {"42", "-7", "12.50", "-0.050", "1.5", "2.0", "héllo", "NULL",
                                   "true", "2024-01-31", "2024-01-31 12:34:56.5", "01:02:03",
                                   "1 year 2 days 00:00:03",
                                   "550e8400-e29b-41d4-a716-446655440000", "[1, 2, 3]",
                                   "{'a': 1, 'b': 'x'}", "{k=1}",
                                   "123456789012345678901234567890", "['x', NULL]",
                                   "\\x01ab", "1234567.891"};
  EXPECT_EQ(rows[0], want);
}

TEST(EngineTest, JsonWritesNestedValuesAsArraysAndObjects) {
  auto db = Database::Open({});
  ASSERT_TRUE(db.ok());
  auto conn = Connect(**db);
  auto result = conn->Query(
      "SELECT [1, NULL] AS l, {'a': 1.5, 'b': 'x\"y', 'c': [true]} AS s, MAP {'k': 2, 'j': NULL} AS m, "
      "[[DATE '2024-01-31']] AS d, ['inf'::DOUBLE]::DOUBLE[1] AS a, NULL::INT[] AS n, "
      "MAP {1: 'one'} AS mi");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  std::ostringstream out;
  auto rows = WriteResult(**result, ResultFormat::kNdjson, out);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(out.str(),
            "{\"l\":[1,null],\"s\":{\"a\":1.5,\"b\":\"x\\\"y\",\"c\":[true]},"
            "\"m\":{\"k\":2,\"j\":null},\"d\":[[\"2024-01-31\"]],\"a\":[\"inf\"],\"n\":null,"
            "\"mi\":{\"1\":\"one\"}}\n");
}

TEST(EngineTest, StreamsLargeResultsChunkByChunk) {
  auto db = Database::Open({});
  ASSERT_TRUE(db.ok());
  auto conn = Connect(**db);
  auto result = conn->Query("SELECT i, i * 2 AS twice FROM range(100000) t(i)");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ((*result)->columns()[1].name, "twice");
  EXPECT_EQ((*result)->columns()[1].type_name, "BIGINT");
  EXPECT_EQ((*result)->columns()[1].json_kind, JsonKind::kNumber);
  size_t chunks = 0, rows = 0;
  int64_t sum = 0;
  while (true) {
    auto chunk = (*result)->Fetch();
    ASSERT_TRUE(chunk.ok());
    if (!*chunk) break;
    chunks++;
    for (size_t r = 0; r < (*chunk)->size(); r++) sum += (*chunk)->GetInt64(1, r);
    rows += (*chunk)->size();
  }
  EXPECT_EQ(rows, 100000u);
  EXPECT_GT(chunks, 1u);
  EXPECT_EQ(sum, int64_t{99999} * 100000);
}

TEST(EngineTest, GetInt64IsExactForLargeIntegers) {
  auto db = Database::Open({});
  ASSERT_TRUE(db.ok());
  auto conn = Connect(**db);
  // 2^53 + 1 and INT64's bounds have no exact double; UBIGINT and HUGEINT beyond INT64 clamp.
  auto result = conn->Query(
      "SELECT 9007199254740993::BIGINT, 9223372036854775807::BIGINT, "
      "(-9223372036854775807 - 1)::BIGINT, 18446744073709551615::UBIGINT, "
      "(-170141183460469231731687303715884105727)::HUGEINT, 9007199254740993::HUGEINT, "
      "-7::TINYINT, 12.9::DOUBLE, true");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  auto chunk = (*result)->Fetch();
  ASSERT_TRUE(chunk.ok() && *chunk);
  const DataChunk& c = **chunk;
  EXPECT_EQ(c.GetInt64(0, 0), int64_t{9007199254740993});
  EXPECT_EQ(c.GetInt64(1, 0), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(c.GetInt64(2, 0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(c.GetInt64(3, 0), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(c.GetInt64(4, 0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(c.GetInt64(5, 0), int64_t{9007199254740993});
  EXPECT_EQ(c.GetInt64(6, 0), -7);
  EXPECT_EQ(c.GetInt64(7, 0), 12);
  EXPECT_EQ(c.GetInt64(8, 0), 1);
}

TEST(EngineTest, ErrorsCarryACodeAndDuckDbsMessage) {
  auto db = Database::Open({});
  ASSERT_TRUE(db.ok());
  auto conn = Connect(**db);
  auto missing = conn->Query("SELECT * FROM no_such_table");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("no_such_table"), std::string::npos);
  auto syntax = conn->Query("SELEC 1");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.status().code(), StatusCode::kInvalidArgument);
}

TEST(EngineTest, PreparedStatementsAndAppender) {
  auto db = Database::Open({});
  ASSERT_TRUE(db.ok());
  auto conn = Connect(**db);
  ASSERT_TRUE(conn->Execute("CREATE TABLE t (id BIGINT, name VARCHAR, score DOUBLE)").ok());
  {
    auto app = conn->MakeAppender("", "main", "t");
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    for (int i = 0; i < 3; i++) {
      ASSERT_TRUE((*app)->AppendInt64(i).ok());
      ASSERT_TRUE((*app)->AppendText("n" + std::to_string(i)).ok());
      ASSERT_TRUE((i == 1 ? (*app)->AppendNull() : (*app)->AppendDouble(i * 1.5)).ok());
      ASSERT_TRUE((*app)->EndRow().ok());
    }
    ASSERT_TRUE((*app)->Close().ok());
  }
  auto stmt = conn->Prepare("SELECT name, score FROM t WHERE id >= $1 ORDER BY id");
  ASSERT_TRUE(stmt.ok());
  EXPECT_EQ((*stmt)->parameter_count(), 1u);
  ASSERT_TRUE((*stmt)->BindInt64(1, 1).ok());
  auto result = (*stmt)->Execute();
  ASSERT_TRUE(result.ok());
  auto chunk = (*result)->Fetch();
  ASSERT_TRUE(chunk.ok() && *chunk);
  ASSERT_EQ((*chunk)->size(), 2u);
  EXPECT_EQ((*chunk)->Text(0, 0), "n1");
  EXPECT_TRUE((*chunk)->IsNull(1, 0));
  EXPECT_DOUBLE_EQ((*chunk)->GetDouble(1, 1), 3.0);
}

TEST(EngineTest, HardenedDatabaseReadsOnlyAllowedDirectoriesAndLocks) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("plexus_engine_test_" + std::to_string(getpid()));
  fs::create_directories(dir / "allowed");
  {
    auto setup = Database::Open({});
    ASSERT_TRUE(setup.ok());
    auto c = Connect(**setup);
    ASSERT_TRUE(c->Execute("COPY (SELECT 1 AS x) TO '" + (dir / "allowed/a.csv").string() + "'").ok());
    ASSERT_TRUE(c->Execute("COPY (SELECT 2 AS x) TO '" + (dir / "outside.csv").string() + "'").ok());
  }
  DatabaseOptions options;
  options.hardened = true;
  options.allowed_directories = {(dir / "allowed").string()};
  auto db = Database::Open(options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto conn = Connect(**db);
  EXPECT_EQ(*conn->QueryScalar("SELECT x FROM read_csv('" + (dir / "allowed/a.csv").string() + "')"),
            "1");
  auto outside = conn->QueryScalar("SELECT x FROM read_csv('" + (dir / "outside.csv").string() + "')");
  EXPECT_FALSE(outside.ok());
  auto escape = conn->QueryScalar("SELECT x FROM read_csv('" + (dir / "allowed/../outside.csv").string() + "')");
  EXPECT_FALSE(escape.ok());
  ASSERT_TRUE(conn->LockConfiguration().ok());
  EXPECT_FALSE(conn->Execute("SET enable_external_access = true").ok());
  EXPECT_FALSE(conn->Execute("SET allowed_directories = ['/']").ok());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace plexus::engine
