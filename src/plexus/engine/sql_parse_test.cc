#include "plexus/engine/sql_parse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plexus/engine/engine.h"

namespace plexus::engine {
namespace {

// The SQL functions the in-process parser must equal, byte for byte.
class SqlParseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open({});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(conn).value();
  }

  std::string CallSql(std::string_view call, std::string_view argument) {
    auto statement = conn_->Prepare(call);
    EXPECT_TRUE(statement.ok()) << statement.status().ToString();
    EXPECT_TRUE((*statement)->BindText(1, argument).ok());
    auto result = (*statement)->Execute();
    if (!result.ok()) return "query error: " + result.status().message();
    auto chunk = (*result)->Fetch();
    EXPECT_TRUE(chunk.ok() && *chunk && (*chunk)->size() == 1);
    return (*chunk)->Text(0, 0);
  }

  std::unique_ptr<Database> db_;
  std::unique_ptr<Connection> conn_;
};

const std::vector<std::string> kCorpus = {
    "SELECT 1",
    "select a, b AS \"Mixed Case\", 'it''s' FROM x.y.z t WHERE a BETWEEN 1 AND 2 ORDER BY 1 "
    "LIMIT 3",
    "WITH c AS (SELECT * FROM t), d AS MATERIALIZED (SELECT 2) SELECT * FROM c JOIN d USING (k)",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r",
    "SELECT sum(x) OVER (PARTITION BY y ORDER BY z ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), "
    "list_transform([1, 2], v -> v * 2), {'a': 1}.a, CAST(NULL AS DECIMAL(9, 2)), 1.5, "
    "'\\u00e9t\u00e9', DATE '2024-01-01', INTERVAL 3 DAY FROM t",
    "SELECT 1e400",
    "FROM t SELECT a WHERE b IN (SELECT c FROM u) QUALIFY row_number() OVER () = 1",
    "SELECT * EXCLUDE (a) REPLACE (b + 1 AS b), COLUMNS('x.*') FROM t NATURAL JOIN u",
    "PIVOT t ON k IN ('a', 'b') USING sum(v) GROUP BY g",
    "SELECT $1, ?, $name FROM range(10) r(i) TABLESAMPLE 10%",
    "SELECT 1 UNION BY NAME SELECT 2 EXCEPT SELECT 3 INTERSECT ALL SELECT 4",
    "SELECT 1; SELECT 2",
    "",
    "-- only a comment",
    "INSERT INTO t VALUES (1)",
    "SELECT 1; DROP TABLE t",
    "SELEC 1",
    "SELECT (1",
    "SELECT 'unterminated",
};

TEST_F(SqlParseTest, SerializeEqualsJsonSerializeSql) {
  for (const std::string& sql : kCorpus) {
    auto fast = SerializeSql(sql);
    ASSERT_TRUE(fast.ok()) << sql << ": " << fast.status().ToString();
    EXPECT_EQ(*fast, CallSql("SELECT json_serialize_sql($1::VARCHAR)", sql)) << sql;
  }
}

TEST_F(SqlParseTest, DeserializeEqualsJsonDeserializeSql) {
  for (const std::string& sql : kCorpus) {
    auto json = SerializeSql(sql);
    ASSERT_TRUE(json.ok());
    if (json->starts_with("{\"error\":true") || json->find("\"statements\":[]") != std::string::npos) {
      EXPECT_FALSE(DeserializeSql(*json).ok()) << sql;
      continue;
    }
    auto fast = DeserializeSql(*json);
    std::string slow = CallSql("SELECT json_deserialize_sql($1::JSON)", *json);
    if (!fast.ok()) {  // e.g. 1e400: infinity does not read back, for DuckDB's function either
      EXPECT_TRUE(slow.starts_with("query error: ")) << sql << ": " << slow;
      continue;
    }
    EXPECT_EQ(*fast, slow) << sql;
  }
}

TEST_F(SqlParseTest, BadInputIsRefusedNotCrashed) {
  EXPECT_EQ(SerializeSql("SELECT '\xff'").status().code(), StatusCode::kInvalidArgument);
  for (std::string_view json : {"", "not json", "{\"error\":false}", "{\"error\":false,"
                                "\"statements\":[{\"node\":{\"type\":\"NO_SUCH_NODE\"}}]}",
                                "{\"error\":true,\"error_type\":\"parser\"}", "[1,2]"}) {
    auto result = DeserializeSql(json);
    EXPECT_FALSE(result.ok()) << json;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << json;
  }
}

}  // namespace
}  // namespace plexus::engine
