// Predicates the guard copies into a secured relation's derived table (predicate_copy.h):
// which are copied, which are not, and that no copy changes an answer or lets a predicate see
// a masked column's raw value or a hidden row, against a real in-memory DuckDB.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "plexus/access/guard_test_fixture.h"
#include "plexus/access/masks.h"
#include "plexus/access/sql_guard.h"

namespace plexus::access {
namespace {

constexpr std::string_view kSalt = "s3cr3t-salt-7Hq";

// crm.customers.customers (id, email hashed, region, amount, since DATE), rows filtered to the
// reader's region, the clear columns offered for copies as the access policy offers them.
class CopyResolver : public RelationResolver {
 public:
  Result<ResolvedRelation> Resolve(const TableName& name) const override {
    if (name.catalog != "crm" || name.schema != "customers" || name.table != "customers") {
      return NotFound("unknown product port " + name.ToString());
    }
    std::vector<ColumnView> columns = {{"id", "INTEGER", ""},
                                       {"email", "VARCHAR", "hash"},
                                       {"region", "VARCHAR", ""},
                                       {"amount", "INTEGER", ""},
                                       {"since", "DATE", ""}};
    ResolvedRelation relation{"plx_crm", "main", "customers__customers__v1", name.ToString(), ""};
    PLEXUS_ASSIGN_OR_RETURN(relation.secured_select,
                            SecuredSelect(relation.catalog, relation.schema, relation.table,
                                          columns, row_filter, kSalt));
    relation.principal = std::make_shared<PrincipalContext>(
        PrincipalContext{"ada", {{"region", "EU"}}, {}});
    for (const ColumnView& column : columns) {
      if (column.mask.empty()) relation.clear_columns.push_back({column.name, column.engine_type});
    }
    return relation;
  }

  std::string row_filter = "region = principal_attr('region')";
};

class PredicateCopyTest : public GuardFixture {
 protected:
  void SetUp() override {
    OpenEngine(
        "ATTACH ':memory:' AS plx_crm;"
        "CREATE TABLE plx_crm.main.customers__customers__v1 ("
        "  id INTEGER, email VARCHAR, region VARCHAR, amount INTEGER, since DATE);"
        "INSERT INTO plx_crm.main.customers__customers__v1 VALUES"
        "  (1, 'alice@example.com', 'EU', 10, '2020-01-01'),"
        "  (2, 'bob@example.com', 'US', 20, '2020-02-01'),"
        "  (3, 'zoe@example.com', 'EU', 30, '2020-03-01'),"
        "  (4, 'carl@example.com', 'US', 40, '2020-04-01'),"
        "  (5, NULL, 'EU', 50, NULL);");
  }

  // Guards and runs `sql`: its rows as "a|b" strings, or "ERROR: <consumer's message>".
  std::vector<std::string> Run(std::string_view sql) {
    auto guarded = guard_->Check(sql, resolver_);
    EXPECT_TRUE(guarded.ok()) << sql << ": " << guarded.status().ToString();
    if (!guarded.ok()) return {};
    rewritten_ = guarded->sql;
    return RunRaw(rewritten_);
  }

  // Runs `sql` as is on the engine (no guard).
  std::vector<std::string> RunRaw(const std::string& sql) {
    auto result = conn_->Query(sql);
    std::vector<std::string> rows;
    while (result.ok()) {
      auto chunk = (*result)->Fetch();
      if (!chunk.ok()) result = chunk.status();
      if (!chunk.ok() || !*chunk) break;
      for (size_t r = 0; r < (*chunk)->size(); r++) {
        std::string row;
        for (size_t c = 0; c < (*chunk)->column_count(); c++) {
          row += (c > 0 ? "|" : "") + ((*chunk)->IsNull(c, r) ? "NULL" : (*chunk)->Text(c, r));
        }
        rows.push_back(row);
      }
    }
    if (!result.ok()) return {"ERROR: " + ConsumerErrorMessage(result.status().message())};
    return rows;
  }

  // How often `text` occurs in the last rewritten SQL: 2 when a predicate was copied.
  int Occurrences(std::string_view text) const {
    int n = 0;
    for (size_t at = rewritten_.find(text); at != std::string::npos;
         at = rewritten_.find(text, at + 1)) {
      ++n;
    }
    return n;
  }

  using Rows = std::vector<std::string>;
  CopyResolver resolver_;
  std::string rewritten_;
};

TEST_F(PredicateCopyTest, CopiesSimpleComparisonsOfClearColumns) {
  EXPECT_EQ(Run("SELECT c.id FROM crm.customers.customers c WHERE c.id BETWEEN 2 AND 4"),
            Rows{"3"});
  EXPECT_EQ(Occurrences("BETWEEN 2 AND 4"), 2) << rewritten_;
  EXPECT_EQ(Run("SELECT id FROM crm.customers.customers WHERE 2 <= id AND region IN ('EU', 'US') "
                "AND amount IS NOT NULL AND since >= DATE '2020-02-15' ORDER BY id"),
            Rows{"3"});
  EXPECT_EQ(Occurrences("'US'"), 2) << rewritten_;
  EXPECT_EQ(Occurrences("'2020-02-15'"), 2) << rewritten_;
  // The point of the copy: DuckDB filters the scan with it (zone maps), on the raw column.
  Run("SELECT c.id FROM crm.customers.customers c WHERE c.id BETWEEN 2 AND 4");
  Rows plan = RunRaw("EXPLAIN " + rewritten_);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_NE(plan[0].find("id>=2 AND id<=4"), std::string::npos) << plan[0];
}

TEST_F(PredicateCopyTest, NeverCopiesAPredicateOnAMaskedColumn) {
  EXPECT_EQ(Run("SELECT count(*) FROM crm.customers.customers c "
                "WHERE c.email = 'alice@example.com'"),
            Rows{"0"});
  EXPECT_EQ(Occurrences("'alice@example.com'"), 1) << rewritten_;
  // Every hash sorts before 'g', zoe@example.com does not: a copy on the raw value would say 1.
  EXPECT_EQ(Run("SELECT count(*) FROM crm.customers.customers WHERE email < 'g'"), Rows{"2"});
  EXPECT_EQ(Occurrences("'g'"), 1) << rewritten_;
}

TEST_F(PredicateCopyTest, NeverCopiesWhatCouldFailOrChangeTheAnswer) {
  // A number against a text column: DuckDB would cast the column, over hidden rows too.
  Rows cast = Run("SELECT count(*) FROM crm.customers.customers WHERE region = 5");
  ASSERT_EQ(cast.size(), 1u);
  EXPECT_EQ(cast[0].find("US"), std::string::npos) << cast[0];
  EXPECT_EQ(Occurrences("= 5"), 1) << rewritten_;
  // An OR, a function of the column, a non-constant side: left where they are.
  EXPECT_EQ(Run("SELECT id FROM crm.customers.customers c WHERE c.id = 2 OR c.id = 3"),
            Rows{"3"});
  EXPECT_EQ(Occurrences("= 2"), 1) << rewritten_;
  EXPECT_EQ(Run("SELECT id FROM crm.customers.customers c WHERE abs(c.id) = 2"), Rows{});
  EXPECT_EQ(Occurrences("= 2"), 1) << rewritten_;
  // The nullable side of an outer join: the WHERE keeps unmatched rows there.
  EXPECT_EQ(Run("SELECT count(*) FROM (VALUES (1)) v(x) LEFT JOIN crm.customers.customers c "
                "ON true WHERE c.id IS NULL"),
            Rows{"0"});
  EXPECT_EQ(Occurrences("id IS NULL"), 1) << rewritten_;
  // An unqualified name beside another FROM item may be that item's.
  EXPECT_EQ(Run("SELECT count(*) FROM crm.customers.customers c, (VALUES (3)) v(k) "
                "WHERE amount = 30"),
            Rows{"1"});
  EXPECT_EQ(Occurrences("= 30"), 1) << rewritten_;
  // An impossible date is DuckDB's bind error, copied or not.
  Rows date = Run("SELECT count(*) FROM crm.customers.customers WHERE since = DATE '2020-02-30'");
  ASSERT_EQ(date.size(), 1u);
  EXPECT_EQ(Occurrences("'2020-02-30'"), 1) << rewritten_;
}

TEST_F(PredicateCopyTest, ACopyNeverLetsAPredicateSeeAHiddenRow) {
  ASSERT_TRUE(SqlGuard::IsAllowedFunction("error"));
  EXPECT_EQ(Run("SELECT count(*) FROM crm.customers.customers c WHERE c.id BETWEEN 1 AND 5 "
                "AND CASE WHEN c.region = 'US' THEN error('saw US') ELSE true END"),
            Rows{"3"});
  EXPECT_EQ(Occurrences("BETWEEN 1 AND 5"), 2) << rewritten_;
  EXPECT_EQ(Run("SELECT count(*) FROM crm.customers.customers c WHERE c.id IN (2, 4) "
                "AND CAST(c.email AS INT) = 1"),
            Rows{"0"});
  // A select-list alias named like a column: WHERE's name is still the port's column.
  EXPECT_EQ(Run("SELECT email AS id FROM crm.customers.customers WHERE id = 2"), Rows{});
  EXPECT_EQ(Run("SELECT (SELECT count(*) FROM crm.customers.customers c WHERE c.id = o.k) "
                "FROM (VALUES (2), (3)) o(k) ORDER BY o.k"),
            (Rows{"0", "1"}));
}

TEST_F(PredicateCopyTest, WithoutARowFilterTheCopyIsTheDerivedTablesWhere) {
  resolver_.row_filter.clear();  // a reader exempt from the filter, emails still hashed
  EXPECT_EQ(Run("SELECT count(*) FROM crm.customers.customers c WHERE c.id BETWEEN 2 AND 4"),
            Rows{"3"});
  EXPECT_EQ(Occurrences("BETWEEN 2 AND 4"), 2) << rewritten_;
}

}  // namespace
}  // namespace plexus::access
