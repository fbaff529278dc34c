// Column lineage from DuckDB's parse tree: one test per SQL shape.
#include "plexus/pipeline/column_lineage.h"

#include <gtest/gtest.h>

namespace plexus::pipeline {
namespace {

class ColumnLineageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parser = LineageParser::Open();
    ASSERT_TRUE(parser.ok()) << parser.status().ToString();
    parser_ = std::move(parser).value();
  }

  /// "out: in.col, in.col(filter)" per output column, one string per column.
  std::vector<std::string> Trace(const std::string& sql, std::vector<std::string> outputs = {}) {
    auto columns = parser_->Compute(sql, inputs_, outputs);
    EXPECT_TRUE(columns.ok()) << columns.status().ToString();
    std::vector<std::string> out;
    if (!columns.ok()) return out;
    for (const auto& c : *columns) {
      std::string line = c.name + ":";
      for (const auto& s : c.sources) {
        line += " " + s.input + "." + s.column + (s.direct ? "" : "(filter)");
      }
      out.push_back(line);
    }
    return out;
  }

  std::map<std::string, std::vector<std::string>> inputs_ = {
      {"orders", {"order_id", "customer_id", "order_date", "status"}},
      {"customers", {"customer_id", "name"}},
      {"raw", {}},  // a file: columns unknown
  };
  std::unique_ptr<LineageParser> parser_;
};

using Lines = std::vector<std::string>;

TEST_F(ColumnLineageTest, PlainColumnsAndAliases) {
  EXPECT_EQ(Trace("SELECT order_id, order_date AS placed_on FROM orders"),
            (Lines{"order_id: orders.order_id", "placed_on: orders.order_date"}));
}

TEST_F(ColumnLineageTest, ExpressionsReadEveryColumnTheyName) {
  EXPECT_EQ(Trace("SELECT CAST(order_id AS VARCHAR) || '-' || upper(status) AS code FROM orders o"),
            (Lines{"code: orders.order_id orders.status"}));
}

TEST_F(ColumnLineageTest, AggregatesAndGroupingKeys) {
  EXPECT_EQ(Trace("SELECT customer_id, min(order_date) AS first_order, count(*) AS n "
                  "FROM orders GROUP BY customer_id"),
            (Lines{"customer_id: orders.customer_id",
                   "first_order: orders.customer_id(filter) orders.order_date",
                   "n: orders.customer_id(filter)"}));
}

TEST_F(ColumnLineageTest, JoinsQualifyColumnsAndReadTheirKeys) {
  EXPECT_EQ(Trace("SELECT c.name, o.order_date FROM orders AS o JOIN customers AS c "
                  "ON c.customer_id = o.customer_id WHERE o.status <> 'returned'"),
            (Lines{"name: customers.customer_id(filter) customers.name "
                   "orders.customer_id(filter) orders.status(filter)",
                   "order_date: customers.customer_id(filter) orders.customer_id(filter) "
                   "orders.order_date orders.status(filter)"}));
}

TEST_F(ColumnLineageTest, JoinUsing) {
  EXPECT_EQ(Trace("SELECT name FROM orders JOIN customers USING (customer_id)"),
            (Lines{"name: customers.customer_id(filter) customers.name orders.customer_id(filter)"}));
}

TEST_F(ColumnLineageTest, SubqueryInFromCarriesItsColumns) {
  EXPECT_EQ(Trace("SELECT x.first_day FROM (SELECT min(order_date) AS first_day FROM orders) AS x"),
            (Lines{"first_day: orders.order_date"}));
  EXPECT_EQ(Trace("SELECT d FROM (SELECT order_date FROM orders) AS x(d)"),
            (Lines{"d: orders.order_date"}));
}

TEST_F(ColumnLineageTest, CtesAndScalarSubqueries) {
  EXPECT_EQ(Trace("WITH o AS (SELECT customer_id AS who FROM orders) "
                  "SELECT who, (SELECT max(name) FROM customers) AS top FROM o"),
            (Lines{"who: orders.customer_id", "top: customers.name"}));
}

TEST_F(ColumnLineageTest, StarExpandsKnownColumnsAndHonoursExclude) {
  EXPECT_EQ(Trace("SELECT * EXCLUDE (status, order_date) FROM orders"),
            (Lines{"order_id: orders.order_id", "customer_id: orders.customer_id"}));
  EXPECT_EQ(Trace("SELECT c.* FROM orders o JOIN customers c USING (customer_id)"),
            (Lines{"customer_id: customers.customer_id orders.customer_id(filter)",
                   "name: customers.customer_id(filter) customers.name orders.customer_id(filter)"}));
}

TEST_F(ColumnLineageTest, StarOverAFileIsTracedByName) {
  EXPECT_EQ(Trace("SELECT * FROM raw", {"id", "amount"}),
            (Lines{"id: raw.id", "amount: raw.amount"}));
  EXPECT_EQ(Trace("SELECT id AS order_id FROM raw"), (Lines{"order_id: raw.id"}));
}

TEST_F(ColumnLineageTest, ColumnsTheInputNoLongerListsAreTracedByName) {
  // Impact analysis traces the pipeline against the new upstream contract, which may have
  // dropped the very column the pipeline reads.
  EXPECT_EQ(Trace("SELECT min(discount) AS d, o.coupon FROM orders AS o"),
            (Lines{"d: orders.discount", "coupon: orders.coupon"}));
  EXPECT_EQ(Trace("SELECT discount FROM orders JOIN customers USING (customer_id)"),
            (Lines{"discount: customers.* customers.customer_id(filter) orders.* "
                   "orders.customer_id(filter)"}));
}

TEST_F(ColumnLineageTest, UnionsMergeByPosition) {
  EXPECT_EQ(Trace("SELECT customer_id AS id FROM orders UNION ALL SELECT customer_id FROM customers"),
            (Lines{"id: customers.customer_id orders.customer_id"}));
}

TEST_F(ColumnLineageTest, SelectAliasesReusedLater) {
  EXPECT_EQ(Trace("SELECT order_id + 1 AS next_id, next_id * 2 AS doubled FROM orders"),
            (Lines{"next_id: orders.order_id", "doubled: orders.order_id"}));
}

TEST_F(ColumnLineageTest, WhenUnsureTheWholeInput) {
  // A PIVOT is not traced: every column reads the whole of each input it names.
  EXPECT_EQ(Trace("SELECT * FROM (PIVOT orders ON status IN ('placed') USING count(*))",
                  {"customer_id", "placed"}),
            (Lines{"customer_id: orders.*", "placed: orders.*"}));
  // A contract column the SELECT does not produce.
  EXPECT_EQ(Trace("SELECT order_id FROM orders", {"order_id", "other"}),
            (Lines{"order_id: orders.order_id", "other: orders.*"}));
}

TEST_F(ColumnLineageTest, TheExampleMeshLifetimeValue) {
  std::string sql = R"(
      SELECT c.customer_id, o.first_order_date,
             CAST(COALESCE(v.lifetime_value, 0) AS DECIMAL(12,2)) AS lifetime_value
      FROM customers AS c
      LEFT JOIN (SELECT customer_id, MIN(order_date) AS first_order_date FROM orders
                 GROUP BY customer_id) AS o ON o.customer_id = c.customer_id
      LEFT JOIN (SELECT kept.customer_id, SUM(kept.order_id) AS lifetime_value FROM orders AS kept
                 WHERE kept.status NOT IN ('returned') GROUP BY kept.customer_id) AS v
        ON v.customer_id = c.customer_id)";
  Lines lines = Trace(sql);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[1].find("first_order_date:"), std::string::npos);
  EXPECT_NE(lines[1].find(" orders.order_date"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[2].find(" orders.order_date"), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find("orders.status(filter)"), std::string::npos) << lines[2];
}

TEST_F(ColumnLineageTest, NotASelectIsAnError) {
  EXPECT_FALSE(parser_->Compute("DELETE FROM orders", inputs_).ok());
}

}  // namespace
}  // namespace plexus::pipeline
