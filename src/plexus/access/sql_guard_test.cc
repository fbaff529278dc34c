#include "plexus/access/sql_guard.h"

#include <gtest/gtest.h>

#include "plexus/access/guard_test_fixture.h"

#include <string>
#include <vector>

namespace plexus::access {
namespace {

// Knows exactly one product port, orders.orders.orders (also as orders.orders.orders__v1).
// Compares the parts, not ToString(): "orders.orders.orders" quoted is one part.
class TestResolver : public RelationResolver {
 public:
  Result<ResolvedRelation> Resolve(const TableName& name) const override {
    if (name.catalog == "orders" && name.schema == "orders" &&
        (name.table == "orders" || name.table == "orders__v1")) {
      return ResolvedRelation{"plx_orders", "main", "orders__orders__v1", name.ToString(), ""};
    }
    return NotFound("unknown product port " + name.ToString());
  }
};

class SqlGuardTest : public GuardFixture {
 protected:
  void SetUp() override {
    OpenEngine(
        "ATTACH ':memory:' AS plx_orders;"
        "CREATE TABLE plx_orders.main.orders__orders__v1 ("
        "  id INTEGER, customer VARCHAR, amount DECIMAL(10, 2));"
        "INSERT INTO plx_orders.main.orders__orders__v1 VALUES"
        "  (1, 'ada', 10.50), (2, 'bob', 20.00), (3, 'ada', 5.25),"
        "  (4, 'cy', 40.00);"
        "CREATE TABLE secret AS SELECT 42 AS x;");
  }

  // Guards `sql`, runs the result and returns its rows as "a|b" strings.
  std::vector<std::string> Run(std::string_view sql) {
    auto guarded = guard_->Check(sql, resolver_);
    EXPECT_TRUE(guarded.ok()) << sql << ": " << guarded.status().ToString();
    if (!guarded.ok()) return {};
    last_ = *guarded;
    auto result = conn_->Query(guarded->sql);
    EXPECT_TRUE(result.ok()) << guarded->sql << ": " << result.status().ToString();
    std::vector<std::string> rows;
    while (result.ok()) {
      auto chunk = (*result)->Fetch();
      EXPECT_TRUE(chunk.ok()) << chunk.status().ToString();
      if (!chunk.ok() || !*chunk) break;
      for (size_t r = 0; r < (*chunk)->size(); r++) {
        std::string row;
        for (size_t c = 0; c < (*chunk)->column_count(); c++) {
          if (c > 0) row += "|";
          row += (*chunk)->IsNull(c, r) ? "NULL" : (*chunk)->Text(c, r);
        }
        rows.push_back(row);
      }
    }
    return rows;
  }

  // Guards `sql`, expects a refusal and returns it.
  Status Refusal(std::string_view sql) {
    auto guarded = guard_->Check(sql, resolver_);
    EXPECT_FALSE(guarded.ok()) << sql << " was accepted as: " << guarded->sql;
    return guarded.ok() ? Status::OK() : guarded.status();
  }

  void ExpectRefused(std::string_view sql, StatusCode code, std::string_view message_part) {
    Status status = Refusal(sql);
    EXPECT_EQ(status.code(), code) << sql << ": " << status.ToString();
    EXPECT_NE(status.message().find(message_part), std::string::npos)
        << sql << ": message \"" << status.message() << "\" does not name \"" << message_part
        << "\"";
  }

  void ExpectDenied(std::string_view sql, std::string_view message_part) {
    ExpectRefused(sql, StatusCode::kPermissionDenied, message_part);
  }

  using Rows = std::vector<std::string>;

  TestResolver resolver_;
  GuardedQuery last_;
};

// ---- Accepted queries: rewritten, run, right values ---------------------------------------

TEST_F(SqlGuardTest, PlainSelectReadsThePhysicalTable) {
  EXPECT_EQ(Run("SELECT id, amount FROM orders.orders.orders ORDER BY id"),
            (Rows{"1|10.50", "2|20.00", "3|5.25", "4|40.00"}));
  EXPECT_EQ(last_.relations, (std::vector<std::string>{"orders.orders.orders"}));
  EXPECT_NE(last_.sql.find("orders__orders__v1"), std::string::npos) << last_.sql;
}

TEST_F(SqlGuardTest, AliasAndQualifiedColumnsKeepWorking) {
  EXPECT_EQ(Run("SELECT o.id FROM orders.orders.orders AS o WHERE o.amount > 10 ORDER BY o.id"),
            (Rows{"1", "2", "4"}));
  EXPECT_EQ(Run("SELECT orders.id FROM orders.orders.orders WHERE orders.customer = 'ada' "
                "ORDER BY orders.id"),
            (Rows{"1", "3"}));
  EXPECT_EQ(Run("SELECT orders__v1.customer FROM orders.orders.orders__v1 WHERE id = 2"),
            (Rows{"bob"}));
  EXPECT_EQ(last_.relations, (std::vector<std::string>{"orders.orders.orders__v1"}));
}

TEST_F(SqlGuardTest, JoinsListEachRelationOnce) {
  EXPECT_EQ(Run("SELECT a.id, b.id FROM orders.orders.orders a JOIN orders.orders.orders b "
                "ON a.id = b.id + 1 ORDER BY a.id"),
            (Rows{"2|1", "3|2", "4|3"}));
  EXPECT_EQ(last_.relations, (std::vector<std::string>{"orders.orders.orders"}));
  EXPECT_EQ(Run("SELECT count(*) FROM orders.orders.orders a LEFT JOIN orders.orders.orders__v1 b "
                "USING (customer)"),
            (Rows{"6"}));
  EXPECT_EQ(last_.relations,
            (std::vector<std::string>{"orders.orders.orders", "orders.orders.orders__v1"}));
}

TEST_F(SqlGuardTest, SubqueriesInFromWhereAndSelect) {
  EXPECT_EQ(Run("SELECT count(*) FROM (SELECT * FROM orders.orders.orders WHERE amount > 10) t"),
            (Rows{"3"}));
  EXPECT_EQ(Run("SELECT id FROM orders.orders.orders "
                "WHERE amount = (SELECT max(amount) FROM orders.orders.orders)"),
            (Rows{"4"}));
  EXPECT_EQ(Run("SELECT (SELECT count(*) FROM orders.orders.orders) AS n"), (Rows{"4"}));
  EXPECT_EQ(Run("SELECT id FROM orders.orders.orders o WHERE EXISTS "
                "(SELECT 1 FROM orders.orders.orders i WHERE i.id = o.id + 3)"),
            (Rows{"1"}));
}

TEST_F(SqlGuardTest, CtesResolveToTheCteNotThroughTheResolver) {
  EXPECT_EQ(Run("WITH big AS (SELECT * FROM orders.orders.orders WHERE amount > 10) "
                "SELECT count(*) FROM big"),
            (Rows{"3"}));
  // A CTE named like the port's table part: the inner name is the port, the outer the CTE.
  EXPECT_EQ(Run("WITH orders AS (SELECT id FROM orders.orders.orders WHERE id < 3) "
                "SELECT count(*) FROM orders"),
            (Rows{"2"}));
  EXPECT_EQ(last_.relations, (std::vector<std::string>{"orders.orders.orders"}));
  EXPECT_EQ(Run("WITH a AS (SELECT id FROM orders.orders.orders), b AS (SELECT * FROM a) "
                "SELECT max(id) FROM B"),
            (Rows{"4"}));
  EXPECT_EQ(Run("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) "
                "SELECT sum(n) FROM r"),
            (Rows{"15"}));
  EXPECT_EQ(Run("WITH c AS (SELECT 2 AS x) SELECT (SELECT x FROM c) + (SELECT count(*) FROM c)"),
            (Rows{"3"}));
}

TEST_F(SqlGuardTest, SetOperations) {
  EXPECT_EQ(Run("SELECT id FROM orders.orders.orders WHERE id = 1 UNION ALL "
                "SELECT id FROM orders.orders.orders WHERE id = 2 ORDER BY 1"),
            (Rows{"1", "2"}));
  EXPECT_EQ(Run("SELECT customer FROM orders.orders.orders EXCEPT SELECT 'ada' ORDER BY 1"),
            (Rows{"bob", "cy"}));
  EXPECT_EQ(Run("WITH c AS (SELECT 1 AS x) SELECT x FROM c UNION SELECT x + 1 FROM c ORDER BY 1"),
            (Rows{"1", "2"}));
}

TEST_F(SqlGuardTest, WindowFunctions) {
  EXPECT_EQ(Run("SELECT id, row_number() OVER (ORDER BY amount DESC) AS r, "
                "sum(amount) OVER (PARTITION BY customer) AS s, "
                "lag(id) OVER (ORDER BY id) AS p FROM orders.orders.orders ORDER BY id"),
            (Rows{"1|3|15.75|NULL", "2|2|20.00|1", "3|4|15.75|2", "4|1|40.00|3"}));
  EXPECT_EQ(
      Run("SELECT id FROM orders.orders.orders "
          "QUALIFY dense_rank() OVER (PARTITION BY customer ORDER BY amount) = 1 ORDER BY id"),
      (Rows{"2", "3", "4"}));
}

TEST_F(SqlGuardTest, GroupByOrderByLimit) {
  EXPECT_EQ(Run("SELECT customer, count(*), sum(amount) FROM orders.orders.orders "
                "GROUP BY customer HAVING count(*) >= 1 ORDER BY customer LIMIT 2"),
            (Rows{"ada|2|15.75", "bob|1|20.00"}));
  EXPECT_EQ(Run("SELECT customer, avg(amount)::DECIMAL(10, 2) FROM orders.orders.orders "
                "GROUP BY ALL ORDER BY ALL DESC LIMIT 1 OFFSET 1"),
            (Rows{"bob|20.00"}));
}

TEST_F(SqlGuardTest, FromFirstSyntax) {
  EXPECT_EQ(Run("FROM orders.orders.orders SELECT count(*)"), (Rows{"4"}));
  EXPECT_EQ(Run("FROM orders.orders.orders WHERE id = 3"), (Rows{"3|ada|5.25"}));
}

TEST_F(SqlGuardTest, AllowedTableFunctions) {
  EXPECT_EQ(Run("SELECT sum(range) FROM range(5)"), (Rows{"10"}));
  EXPECT_EQ(Run("SELECT count(*) FROM generate_series(1, 3) g(i)"), (Rows{"3"}));
  EXPECT_EQ(Run("SELECT sum(x) FROM unnest([1, 2, 3]) t(x)"), (Rows{"6"}));
  EXPECT_TRUE(last_.relations.empty());
}

TEST_F(SqlGuardTest, EverydayExpressions) {
  EXPECT_EQ(Run("SELECT upper(customer) || '-' || id::VARCHAR, "
                "CASE WHEN amount BETWEEN 5 AND 11 THEN 'small' ELSE 'big' END, "
                "coalesce(NULL, round(amount * 2, 1)), customer LIKE 'a%', "
                "date_trunc('month', DATE '2024-03-15') + INTERVAL 1 DAY "
                "FROM orders.orders.orders WHERE id IN (1, 2) AND customer NOT ILIKE 'z%' "
                "ORDER BY id"),
            (Rows{"ADA-1|small|21.0|true|2024-03-02 00:00:00",
                  "BOB-2|big|40.0|false|2024-03-02 00:00:00"}));
  EXPECT_EQ(Run("SELECT list_transform([1, 2], x -> x * 10), {'a': 1}.a, [4, 5, 6][2], "
                "string_agg(customer, ',' ORDER BY customer), quantile_cont(id, 0.5), "
                "regexp_replace('abc', 'b', 'x'), md5('a')[1:4] "
                "FROM (SELECT * FROM orders.orders.orders WHERE id < 3)"),
            (Rows{"[10, 20]|1|5|ada,bob|1.5|axc|0cc1"}));
  EXPECT_EQ(Run("SELECT COLUMNS('^(id|amount)$') FROM orders.orders.orders ORDER BY id LIMIT 1"),
            (Rows{"1|10.50"}));
}

TEST_F(SqlGuardTest, ParametersAreKept) {
  auto guarded = guard_->Check("SELECT id FROM orders.orders.orders WHERE id = $1", resolver_);
  ASSERT_TRUE(guarded.ok()) << guarded.status().ToString();
  EXPECT_NE(guarded->sql.find("$1"), std::string::npos) << guarded->sql;
}

// ---- Statements other than one SELECT ---------------------------------------------------------

TEST_F(SqlGuardTest, RefusesEveryStatementButSelectNamingIt) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"INSERT INTO orders.orders.orders VALUES (9, 'x', 1)", "INSERT"},
      {"UPDATE orders.orders.orders SET amount = 0", "UPDATE"},
      {"DELETE FROM orders.orders.orders", "DELETE"},
      {"CREATE TABLE t (x INTEGER)", "CREATE"},
      {"DROP TABLE plx_orders.main.orders__orders__v1", "DROP"},
      {"ALTER TABLE t ADD COLUMN y INTEGER", "ALTER"},
      {"COPY plx_orders.main.orders__orders__v1 TO '/tmp/x.csv'", "COPY"},
      {"COPY (SELECT * FROM orders.orders.orders) TO '/tmp/x.csv'", "COPY"},
      {"ATTACH '/tmp/x.duckdb' AS x", "ATTACH"},
      {"DETACH plx_orders", "DETACH"},
      {"SET threads = 1", "SET"},
      {"SET VARIABLE v = 1", "SET"},
      {"RESET threads", "RESET"},
      {"PRAGMA enable_profiling", "PRAGMA"},
      {"INSTALL httpfs", "INSTALL"},
      {"LOAD httpfs", "LOAD"},
      {"CALL duckdb_settings()", "CALL"},
      {"EXPORT DATABASE '/tmp/export'", "EXPORT"},
      {"IMPORT DATABASE '/tmp/export'", "IMPORT"},
      {"EXPLAIN SELECT 1", "EXPLAIN"},
      {"EXPLAIN ANALYZE SELECT 1", "EXPLAIN"},
      {"PREPARE p AS SELECT 1", "PREPARE"},
      {"EXECUTE p", "EXECUTE"},
      {"USE plx_orders", "USE"},
      {"VACUUM", "VACUUM"},
      {"CHECKPOINT", "CHECKPOINT"},
      {"BEGIN TRANSACTION", "BEGIN"},
      {"COMMIT", "COMMIT"},
      {"ROLLBACK", "ROLLBACK"},
      {"CREATE MACRO m(x) AS x", "CREATE"},
      {"  /* a /* nested */ comment */ -- and a line\n  drop table t", "DROP"},
  };
  for (const auto& [sql, keyword] : cases) {
    ExpectDenied(sql, keyword + " statements are not allowed: only SELECT queries are accepted");
  }
}

TEST_F(SqlGuardTest, RefusesMoreThanOneStatement) {
  ExpectDenied("SELECT 1; SELECT 2", "only one statement is accepted");
  ExpectDenied("SELECT 1; DROP TABLE secret", "not a SELECT");
  ExpectRefused("", StatusCode::kInvalidArgument, "no SQL statement");
}

TEST_F(SqlGuardTest, SyntaxErrorIsInvalidArgumentWithDuckDbMessage) {
  ExpectRefused("SELEC 1", StatusCode::kInvalidArgument, "syntax error at or near \"SELEC\"");
  ExpectRefused("SELECT * FROM", StatusCode::kInvalidArgument, "syntax error");
  ExpectRefused("SELECT '\xff'", StatusCode::kInvalidArgument, "not valid UTF-8");
  ExpectRefused(std::string_view("SELECT 1\0; DROP TABLE secret", 28), StatusCode::kInvalidArgument,
                "NUL byte");
  // A SELECT that DuckDB cannot serialize is not mistaken for another statement.
  ExpectRefused("SELECT 1 AS x ORDER BY x USING <", StatusCode::kInvalidArgument,
                "Unimplemented order by type");
}

TEST_F(SqlGuardTest, RefusesDescribeShowSummarize) {
  ExpectDenied("DESCRIBE orders.orders.orders", "DESCRIBE, SHOW and SUMMARIZE are not allowed");
  ExpectDenied("SUMMARIZE orders.orders.orders", "DESCRIBE, SHOW and SUMMARIZE are not allowed");
  ExpectDenied("SHOW TABLES", "DESCRIBE, SHOW and SUMMARIZE are not allowed");
  ExpectDenied("SELECT * FROM (DESCRIBE orders.orders.orders)", "DESCRIBE, SHOW and SUMMARIZE");
}

TEST_F(SqlGuardTest, RefusesTimeTravel) {
  ExpectDenied("SELECT * FROM orders.orders.orders AT (VERSION => 1)", "AT clause");
}

// ---- Table names --------------------------------------------------------------------------

TEST_F(SqlGuardTest, PhysicalAndUnknownNamesGoThroughTheResolver) {
  ExpectRefused("SELECT * FROM plx_orders.main.orders__orders__v1", StatusCode::kNotFound,
                "unknown product port plx_orders.main.orders__orders__v1");
  ExpectRefused("SELECT * FROM nope", StatusCode::kNotFound, "unknown product port nope");
  ExpectRefused("SELECT x FROM secret", StatusCode::kNotFound, "unknown product port secret");
  ExpectRefused("SELECT * FROM orders.orders", StatusCode::kNotFound,
                "unknown product port orders.orders");
  // A resolver error comes back as is.
  Status status = Refusal("SELECT * FROM a.b.c");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "unknown product port a.b.c");
}

TEST_F(SqlGuardTest, QuotedNamesAreNamePartsNotPaths) {
  ExpectRefused("SELECT * FROM \"orders.orders.orders\"", StatusCode::kNotFound,
                "unknown product port orders.orders.orders");
  EXPECT_EQ(Run("SELECT count(*) FROM \"orders\".\"orders\".\"orders\""), (Rows{"4"}));
}

TEST_F(SqlGuardTest, ReplacementScansGoThroughTheResolver) {
  ExpectRefused("SELECT * FROM '/etc/passwd'", StatusCode::kNotFound,
                "unknown product port /etc/passwd");
  ExpectRefused("FROM 'data.csv'", StatusCode::kNotFound, "unknown product port data.csv");
  ExpectRefused("SELECT * FROM \"/etc/passwd\"", StatusCode::kNotFound,
                "unknown product port /etc/passwd");
}

TEST_F(SqlGuardTest, CteNamesOnlyCoverTheirScope) {
  // A CTE inside a subquery does not cover a sibling reference.
  ExpectRefused("SELECT * FROM (WITH secret AS (SELECT 1 AS x) SELECT x FROM secret) s, secret",
                StatusCode::kNotFound, "unknown product port secret");
  // A CTE does not see the ones listed after it, nor itself.
  ExpectRefused("WITH a AS (SELECT * FROM secret), secret AS (SELECT 1 AS x) SELECT * FROM a",
                StatusCode::kNotFound, "unknown product port secret");
  ExpectRefused("WITH secret AS (SELECT * FROM secret) SELECT * FROM secret", StatusCode::kNotFound,
                "unknown product port secret");
  // A qualified name never binds to a CTE.
  ExpectRefused("WITH secret AS (SELECT 1 AS x) SELECT * FROM main.secret", StatusCode::kNotFound,
                "unknown product port main.secret");
  // The anchor of a recursive CTE does not see the CTE.
  ExpectRefused(
      "WITH RECURSIVE secret(x) AS (SELECT x FROM secret UNION ALL "
      "SELECT x + 1 FROM secret WHERE x < 3) SELECT * FROM secret",
      StatusCode::kNotFound, "unknown product port secret");
}

// ---- Table functions ----------------------------------------------------------------------

TEST_F(SqlGuardTest, RefusesFileAndEngineTableFunctions) {
  const std::vector<std::string> calls = {"read_csv('/etc/passwd')",
                                          "read_csv_auto('/etc/passwd')",
                                          "read_json('/etc/passwd')",
                                          "read_json_auto('/etc/passwd')",
                                          "read_json_objects('/etc/passwd')",
                                          "read_ndjson('/etc/passwd')",
                                          "read_ndjson_auto('/etc/passwd')",
                                          "read_ndjson_objects('/etc/passwd')",
                                          "read_parquet('/x.parquet')",
                                          "read_text('/etc/passwd')",
                                          "read_blob('/etc/passwd')",
                                          "parquet_scan('/x.parquet')",
                                          "parquet_metadata('/x.parquet')",
                                          "sniff_csv('/etc/passwd')",
                                          "glob('*')",
                                          "query('SELECT 1')",
                                          "query_table('secret')",
                                          "duckdb_settings()",
                                          "duckdb_tables()",
                                          "pragma_table_info('secret')",
                                          "which_secret('s3://x', 's3')",
                                          "json_each('{}')",
                                          "test_all_types()"};
  for (const std::string& call : calls) {
    std::string name = call.substr(0, call.find('('));
    ExpectDenied("SELECT * FROM " + call, "table function " + name + " is not allowed");
  }
}

TEST_F(SqlGuardTest, RefusesEveryTableFunctionDuckDbHasButTheAllowlist) {
  auto result = conn_->Query(
      "SELECT DISTINCT function_name FROM duckdb_functions() "
      "WHERE function_type IN ('table', 'table_macro') ORDER BY 1");
  ASSERT_TRUE(result.ok());
  size_t refused = 0;
  while (true) {
    auto chunk = (*result)->Fetch();
    ASSERT_TRUE(chunk.ok());
    if (!*chunk) break;
    for (size_t r = 0; r < (*chunk)->size(); r++) {
      std::string name = (*chunk)->Text(0, r);
      if (name == "range" || name == "generate_series" || name == "unnest") continue;
      ExpectDenied("SELECT * FROM " + engine::QuoteIdentifier(name) + "()",
                   "table function " + name + " is not allowed");
      refused++;
    }
  }
  EXPECT_GT(refused, 50u);
}

TEST_F(SqlGuardTest, RefusesTableFunctionsAnywhere) {
  ExpectDenied("SELECT (SELECT count(*) FROM read_csv('/etc/passwd'))",
               "table function read_csv is not allowed");
  ExpectDenied("WITH x AS (FROM read_text('/etc/passwd')) SELECT * FROM x",
               "table function read_text is not allowed");
  ExpectDenied("SELECT * FROM orders.orders.orders o JOIN read_csv('/etc/passwd') p ON true",
               "table function read_csv is not allowed");
  ExpectDenied("SELECT * FROM orders.orders.orders WHERE id IN (SELECT 1 FROM glob('*'))",
               "table function glob is not allowed");
  ExpectDenied("SELECT * FROM range((SELECT count(*) FROM read_blob('/etc/passwd')))",
               "table function read_blob is not allowed");
}

// ---- Scalar, aggregate and window functions -----------------------------------------------

TEST_F(SqlGuardTest, RefusesFunctionsOutsideTheAllowlist) {
  ExpectDenied("SELECT current_setting('threads')", "function current_setting is not allowed");
  ExpectDenied("SELECT getvariable('v')", "function getvariable is not allowed");
  ExpectDenied("SELECT nextval('s')", "function nextval is not allowed");
  ExpectDenied("SELECT current_query()", "function current_query is not allowed");
  ExpectDenied("SELECT json_serialize_sql('SELECT 1')", "function json_serialize_sql");
  ExpectDenied("SELECT json_serialize_plan('SELECT 1')", "function json_serialize_plan");
  ExpectDenied("SELECT \"READ_CSV\"('x')", "function read_csv is not allowed");
  ExpectDenied("SELECT plx_orders.main.abs(1)", "function plx_orders.main.abs is not allowed");
  ExpectDenied("SELECT information_schema.abs(1)", "function information_schema.abs");
  ExpectDenied("SELECT ('x').getvariable()", "function getvariable is not allowed");
  ExpectDenied("SELECT x.getvariable() FROM (SELECT 'v' AS x)", "function x.getvariable");
  ExpectDenied("SELECT finalize(sum(id) EXPORT_STATE) FROM orders.orders.orders",
               "function finalize is not allowed");
}

TEST_F(SqlGuardTest, RefusesFunctionsHiddenAnywhere) {
  ExpectDenied("WITH x AS (SELECT current_setting('threads') AS s) SELECT * FROM x",
               "function current_setting is not allowed");
  ExpectDenied("SELECT list_transform([1], x -> getvariable('v'))",
               "function getvariable is not allowed");
  ExpectDenied("SELECT id FROM orders.orders.orders ORDER BY current_setting('threads')",
               "function current_setting is not allowed");
  ExpectDenied(
      "SELECT * FROM orders.orders.orders a JOIN orders.orders.orders b "
      "ON a.id = b.id AND current_setting('threads') = '1'",
      "function current_setting is not allowed");
  ExpectDenied("SELECT sum(id) FILTER (WHERE getvariable('v')) FROM orders.orders.orders",
               "function getvariable is not allowed");
  ExpectDenied("SELECT row_number() OVER (ORDER BY current_setting('x'))",
               "function current_setting is not allowed");
  ExpectDenied("SELECT * FROM orders.orders.orders GROUP BY ALL HAVING getvariable('v')",
               "function getvariable is not allowed");
  ExpectDenied("SELECT COLUMNS(c -> getvariable(c)) FROM orders.orders.orders",
               "function getvariable is not allowed");
  ExpectDenied("SELECT * REPLACE (current_setting('x') AS id) FROM orders.orders.orders",
               "function current_setting is not allowed");
  ExpectDenied("SELECT * FROM range(3) LIMIT getvariable('n')",
               "function getvariable is not allowed");
  ExpectDenied("SELECT * FROM (VALUES (current_setting('x'))) v(a)",
               "function current_setting is not allowed");
}

TEST(SqlGuardAllowlistTest, AllowsAnalyticsAndNothingDangerous) {
  for (std::string_view name : {"+", "~~", "||", "sum", "count_star", "row_number", "lag",
                                "date_trunc", "regexp_matches", "json_extract", "error"}) {
    EXPECT_TRUE(SqlGuard::IsAllowedFunction(name)) << name;
  }
  for (std::string_view name :
       {"read_csv", "current_setting", "getvariable", "nextval", "setseed", "json_serialize_sql",
        "json_deserialize_sql", "json_execute_serialized_sql", "glob", "query", "duckdb_settings",
        "which_secret", "READ_CSV", ""}) {
    EXPECT_FALSE(SqlGuard::IsAllowedFunction(name)) << name;
  }
}

// ---- Engine set-up ---------------------------------------------------------------------------

TEST_F(SqlGuardTest, GuardMayShareTheQueryConnection) {
  // Check, run on the same connection, drop the guard while the result still streams.
  auto guard = std::make_unique<SqlGuard>();
  auto first = guard->Check("SELECT id FROM orders.orders.orders ORDER BY id", resolver_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = guard->Check("SELECT count(*) FROM orders.orders.orders", resolver_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto result = conn_->Query(first->sql);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  guard.reset();
  auto chunk = (*result)->Fetch();
  ASSERT_TRUE(chunk.ok()) << chunk.status().ToString();
  ASSERT_TRUE(*chunk);
  EXPECT_EQ((*chunk)->size(), 4u);
  EXPECT_EQ((*chunk)->Text(0, 3), "4");
}

TEST(SqlGuardHardenedTest, WorksOnAHardenedLockedDatabase) {
  engine::DatabaseOptions options;
  options.hardened = true;
  auto db = engine::Database::Open(options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto parser = (*db)->Connect();
  ASSERT_TRUE(parser.ok());
  ASSERT_TRUE((*parser)->LockConfiguration().ok());
  SqlGuard guard;
  TestResolver resolver;
  auto guarded = guard.Check("SELECT sum(range) FROM range(4)", resolver);
  ASSERT_TRUE(guarded.ok()) << guarded.status().ToString();
  auto value = (*parser)->QueryScalar(guarded->sql);
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, "6");
}

}  // namespace
}  // namespace plexus::access
