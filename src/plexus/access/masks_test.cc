// Mask specs and the secured SELECT: each mask kind evaluated by a real DuckDB,
// per type.
#include "plexus/access/masks.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "plexus/engine/engine.h"

namespace plexus::access {
namespace {

constexpr std::string_view kSalt = "pepper";

class MaskExpressionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = engine::Database::Open({});
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(conn).value();
  }
  void TearDown() override {
    conn_.reset();
    db_.reset();
  }

  // The masked value of `literal` (a SQL literal of `type`) as text, "NULL" for
  // NULL, and its type after the mask, as "value :: TYPE".
  std::string Masked(std::string_view mask, std::string_view type, std::string_view literal) {
    auto expression = MaskExpression(mask, "the col", type, kSalt);
    EXPECT_TRUE(expression.ok()) << mask << " " << type << ": " << expression.status().ToString();
    if (!expression.ok()) return "";
    std::string sql =
        "SELECT coalesce(CAST(m AS VARCHAR), 'NULL') || ' :: ' "
        "|| typeof(m) FROM "
        "(SELECT " +
        *expression + " AS m FROM (SELECT CAST(" + std::string(literal) + " AS " +
        std::string(type) + ") AS \"the col\"))";
    auto value = conn_->QueryScalar(sql);
    EXPECT_TRUE(value.ok()) << sql << ": " << value.status().ToString();
    return value.ok() ? *value : "";
  }

  std::string Sha256(std::string_view text) {
    auto value = conn_->QueryScalar("SELECT sha256(" + engine::QuoteLiteral(text) + ")");
    return value.ok() ? *value : "";
  }

  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> conn_;
};

TEST_F(MaskExpressionTest, Redact) {
  EXPECT_EQ(Masked("redact", "VARCHAR", "'ada@x.org'"), "**** :: VARCHAR");
  EXPECT_EQ(Masked("REDACT", "varchar(20)", "'ada'"), "**** :: VARCHAR");
  EXPECT_EQ(Masked("redact", "VARCHAR", "NULL"), "NULL :: VARCHAR");
  EXPECT_EQ(Masked("redact", "BIGINT", "42"), "NULL :: BIGINT");
  EXPECT_EQ(Masked("redact", "DATE", "'2020-02-02'"), "NULL :: DATE");
  EXPECT_EQ(Masked("redact", "DECIMAL(10,2)", "1.5"), "NULL :: DECIMAL(10,2)");
}

TEST_F(MaskExpressionTest, HashIsSaltedSha256OfTheText) {
  EXPECT_EQ(Masked("hash", "VARCHAR", "'ada@x.org'"), Sha256("pepperada@x.org") + " :: VARCHAR");
  EXPECT_EQ(Masked("Hash", "BIGINT", "42"), Sha256("pepper42") + " :: VARCHAR");
  EXPECT_EQ(Masked("hash", "DATE", "'2020-02-02'"), Sha256("pepper2020-02-02") + " :: VARCHAR");
  EXPECT_EQ(Masked("hash", "VARCHAR", "NULL"), "NULL :: VARCHAR");
}

TEST_F(MaskExpressionTest, PartialKeepsTheLastCharacters) {
  EXPECT_EQ(Masked("partial(4)", "VARCHAR", "'4111222233334444'"), "************4444 :: VARCHAR");
  EXPECT_EQ(Masked("partial( 4 )", "VARCHAR", "'ab'"), "ab :: VARCHAR");
  EXPECT_EQ(Masked("partial(0)", "VARCHAR", "'abc'"), "*** :: VARCHAR");
  EXPECT_EQ(Masked("PARTIAL(2)", "INTEGER", "123456"), "****56 :: VARCHAR");
  EXPECT_EQ(Masked("partial(2)", "VARCHAR", "NULL"), "NULL :: VARCHAR");
}

TEST_F(MaskExpressionTest, NullKeepsTheType) {
  EXPECT_EQ(Masked("null", "VARCHAR", "'x'"), "NULL :: VARCHAR");
  EXPECT_EQ(Masked("NULL", "INTEGER", "1"), "NULL :: INTEGER");
  EXPECT_EQ(Masked("null", "TIMESTAMP", "'2020-01-01 10:00:00'"), "NULL :: TIMESTAMP");
}

TEST_F(MaskExpressionTest, YearTruncatesAndKeepsTheType) {
  EXPECT_EQ(Masked("year", "DATE", "'2021-06-15'"), "2021-01-01 :: DATE");
  EXPECT_EQ(Masked("year", "TIMESTAMP", "'2021-06-15 10:11:12'"),
            "2021-01-01 00:00:00 :: TIMESTAMP");
  EXPECT_EQ(Masked("Year", "TIMESTAMP WITH TIME ZONE", "'2021-06-15 10:11:12+00'"),
            "2021-01-01 00:00:00+00 :: TIMESTAMP WITH TIME ZONE");
  EXPECT_EQ(Masked("year", "DATE", "NULL"), "NULL :: DATE");
}

TEST_F(MaskExpressionTest, SqlReplacesTheColumnPlaceholder) {
  EXPECT_EQ(Masked("sql(upper({column}))", "VARCHAR", "'ada'"), "ADA :: VARCHAR");
  EXPECT_EQ(Masked("SQL(left({column}, 1) || '…' || length({column}))", "VARCHAR", "'ada'"),
            "a…3 :: VARCHAR");
  EXPECT_EQ(Masked("sql({column} // 10 * 10)", "INTEGER", "1234"), "1230 :: INTEGER");
}

TEST(ValidateMaskSpecTest, AcceptsEachKindOnFittingTypes) {
  for (std::string_view mask : {"redact", "hash", "null", "partial(0)", "partial(64)",
                                "sql(lower({column}))", " Hash ", "sql('a;b' || {column})"}) {
    EXPECT_TRUE(ValidateMaskSpec(mask, "VARCHAR").ok()) << mask;
  }
  for (std::string_view type : {"DATE", "TIMESTAMP", "timestamp with time zone", "TIMESTAMPTZ",
                                "TIMESTAMP_MS", "DATETIME"}) {
    EXPECT_TRUE(ValidateMaskSpec("year", type).ok()) << type;
  }
  EXPECT_TRUE(ValidateMaskSpec("year", "").ok());  // form only: a mesh-wide rule
}

TEST(ValidateMaskSpecTest, RefusesBadFormsAndTypes) {
  struct Case {
    std::string_view mask;
    std::string_view type;
    std::string_view message;
  };
  for (const Case &c : std::initializer_list<Case>{
           {"year", "VARCHAR", "needs a DATE or TIMESTAMP column"},
           {"year", "BIGINT", "needs a DATE or TIMESTAMP column"},
           {"year", "TIME", "needs a DATE or TIMESTAMP column"},
           {"partial(65)", "VARCHAR", "at most 64"},
           {"partial(x)", "VARCHAR", "whole number"},
           {"partial()", "VARCHAR", "partial(N)"},
           {"partial(-1)", "VARCHAR", "whole number"},
           {"bogus", "VARCHAR", "unknown mask"},
           {"", "VARCHAR", "unknown mask"},
           {"hash(1)", "VARCHAR", "unknown mask"},
           {"sql()", "VARCHAR", "needs an expression"},
           {"sql(1); DROP TABLE x", "VARCHAR", "unknown mask"},
           {"sql(1; DROP TABLE x)", "VARCHAR", "may not hold ';'"},
           {"sql({column} -- x)", "VARCHAR", "comment"},
           {"sql({column} /* x */)", "VARCHAR", "comment"},
           {"sql('a)", "VARCHAR", "unbalanced"},
           {"sql(a) FROM t WHERE (b)", "VARCHAR", "unbalanced"},
           {"null", "INT); DROP TABLE x; (", "a column type"},
       }) {
    Status status = ValidateMaskSpec(c.mask, c.type);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << c.mask << " on " << c.type;
    EXPECT_NE(status.message().find(c.message), std::string::npos)
        << c.mask << " on " << c.type << ": " << status.message();
  }
}

TEST(SecuredSelectTest, WritesGuardedColumnsAndTheFilter) {
  auto select =
      SecuredSelect("plx_c", "main", "t", {{"id", "BIGINT", ""}, {"e", "VARCHAR", "hash"}},
                    "region = 'EU'", "s'alt");
  ASSERT_TRUE(select.ok()) << select.status().ToString();
  // The filter once, in an inner projection of the raw columns; every column guarded by it.
  EXPECT_EQ(*select,
            "SELECT CASE WHEN plx_row_visible THEN \"id\" END AS \"id\", "
            "CASE WHEN plx_row_visible THEN sha256('s''alt' || CAST(\"e\" AS "
            "VARCHAR)) END AS \"e\" "
            "FROM (SELECT \"id\", \"e\", (region = 'EU') AS plx_row_visible "
            "FROM \"plx_c\".\"main\".\"t\") WHERE plx_row_visible");
  auto plain = SecuredSelect("plx_c", "main", "t", {{"id", "BIGINT", ""}}, "", "s");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, "SELECT \"id\" AS \"id\" FROM \"plx_c\".\"main\".\"t\"");
}

TEST(SecuredSelectTest, RefusesAColumnNamedLikeTheFiltersVerdictOnlyWithAFilter) {
  std::vector<ColumnView> columns = {{"id", "BIGINT", ""}, {"PLX_Row_Visible", "BOOLEAN", ""}};
  auto filtered = SecuredSelect("c", "s", "t", columns, "id > 0", "x");
  EXPECT_EQ(filtered.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(filtered.status().message().find("plx_row_visible"), std::string::npos)
      << filtered.status().message();
  EXPECT_TRUE(SecuredSelect("c", "s", "t", columns, "", "x").ok());
}

TEST(SecuredSelectTest, RefusesFragmentsThatLeaveTheirBrackets) {
  std::vector<ColumnView> columns = {{"id", "BIGINT", ""}};
  for (std::string_view filter : {"true) OR (1 = 1", "true --", "true; DROP TABLE t", "'a"}) {
    EXPECT_EQ(SecuredSelect("c", "s", "t", columns, filter, "x").status().code(),
              StatusCode::kInvalidArgument)
        << filter;
  }
  EXPECT_FALSE(SecuredSelect("c", "s", "t", {}, "", "x").ok());
  EXPECT_FALSE(SecuredSelect("c", "s", "t", {{"d", "VARCHAR", "year"}}, "", "x").ok());
}

}  // namespace
}  // namespace plexus::access
