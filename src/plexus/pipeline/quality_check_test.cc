#include "plexus/pipeline/quality_check.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "plexus/spec/parse.h"

namespace plexus::pipeline {
namespace {

using catalog::QualityResultRecord;
using spec::QualityRule;

// Ten people; the port hr.staff.people is the table plx_hr.main.people, and
// another table, plx_hr.main.salaries, sits beside it (a rule must not read
// it).
//   email: one NULL, one '', one 'N/A' (pii: never in samples)
//   status: 'bogus' once, otherwise active / gone
//   name: 'ann' twice
class QualityCheckTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto db = engine::Database::Open({});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(conn).value();
    Status s = conn_->Execute(
        "ATTACH ':memory:' AS plx_hr;"
        "CREATE TABLE plx_hr.main.people (id BIGINT, name VARCHAR, email "
        "VARCHAR,"
        "  status VARCHAR, score DOUBLE);"
        "INSERT INTO plx_hr.main.people VALUES"
        "  (1, 'ann', 'a@x', 'active', 1), (2, 'bob', NULL, 'active', 2),"
        "  (3, 'cid', '', 'gone', 3), (4, 'dan', 'N/A', 'active', NULL),"
        "  (5, 'eve', 'e@x', 'bogus', 5), (6, 'fay', 'f@x', 'active', 6),"
        "  (7, 'gus', 'g@x', 'active', 7), (8, 'hal', 'h@x', 'active', 8),"
        "  (9, 'ivy', 'i@x', 'active', 9), (10, 'ann', 'j@x', 'active', 10);"
        "CREATE TABLE plx_hr.main.salaries AS SELECT 1 AS id, 100000 AS "
        "salary;");
    ASSERT_TRUE(s.ok()) << s.ToString();
    guard_ = std::make_unique<access::SqlGuard>();
    port_.product_id = "staff-id";
    port_.domain = "hr";
    port_.product = "staff";
    port_.name = "people";
    port_.major = 1;
    port_.columns = {Column("id", "BIGINT", "internal"),
                     Column("name", "VARCHAR", "public"),
                     Column("email", "VARCHAR", "pii"),
                     Column("status", "VARCHAR", "internal"),
                     Column("score", "DOUBLE", "confidential")};
  }

  void TearDown() override {
    guard_.reset();
    conn_.reset();
    db_.reset();
  }

  static catalog::ColumnRecord Column(const std::string &name,
                                      const std::string &type,
                                      const std::string &classification) {
    catalog::ColumnRecord c;
    c.name = name;
    c.engine_type = type;
    c.classification = classification;
    return c;
  }

  static QualityRule Library(const std::string &metric,
                             const std::string &column, const std::string &op,
                             std::vector<double> operands,
                             const std::string &unit = "rows") {
    QualityRule r;
    r.type = "library";
    r.metric = metric;
    r.column = column;
    r.op = op;
    r.operands = std::move(operands);
    r.unit = unit;
    r.severity = "error";
    return r;
  }

  static QualityRule Sql(const std::string &query, const std::string &column,
                         const std::string &op, double operand) {
    QualityRule r;
    r.type = "sql";
    r.query = query;
    r.column = column;
    r.op = op;
    r.operands = {operand};
    r.severity = "error";
    return r;
  }

  std::vector<QualityResultRecord>
  Evaluate(const std::vector<QualityRule> &rules) {
    access::ResolvedRelation table;
    table.catalog = "plx_hr";
    table.schema = "main";
    table.table = "people";
    table.logical_name = "hr.staff.people";
    auto results = EvaluateQuality(*conn_, *guard_, port_, table, rules);
    EXPECT_TRUE(results.ok()) << results.status().ToString();
    if (!results.ok())
      return {};
    EXPECT_EQ(results->size(), rules.size());
    return *results;
  }

  QualityResultRecord EvaluateOne(const QualityRule &rule) {
    auto results = Evaluate({rule});
    return results.empty() ? QualityResultRecord{} : results.front();
  }

  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> conn_;
  std::unique_ptr<access::SqlGuard> guard_;
  catalog::OutputPortRecord port_;
};

TEST_F(QualityCheckTest, NullValuesCountsNulls) {
  auto r = EvaluateOne(Library("nullValues", "email", "mustBe", {1}));
  EXPECT_EQ(r.status, "passed") << r.message;
  EXPECT_TRUE(r.has_measured);
  EXPECT_EQ(r.measured, 1);
  EXPECT_EQ(r.unit, "rows");
  EXPECT_EQ(r.threshold, "mustBe "); // operand_text empty: built by hand here
}

TEST_F(QualityCheckTest, MissingValuesDefaultsToNullAndEmptyText) {
  auto r = EvaluateOne(Library("missingValues", "email", "mustBe", {2}));
  EXPECT_EQ(r.status, "passed") << r.message;
  EXPECT_EQ(r.measured, 2);
}

TEST_F(QualityCheckTest, MissingValuesUsesTheListedValuesAndNull) {
  QualityRule rule = Library("missingValues", "email", "mustBe", {3});
  rule.missing_values = {"", "N/A"};
  rule.has_missing_values = true;
  auto r = EvaluateOne(rule);
  EXPECT_EQ(r.status, "passed") << r.message;
  EXPECT_EQ(r.measured, 3);
}

TEST_F(QualityCheckTest, InvalidValuesWithValidValuesIgnoresNull) {
  QualityRule rule = Library("invalidValues", "status", "mustBe", {0});
  rule.valid_values = {"active", "gone"};
  auto r = EvaluateOne(rule);
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(r.measured, 1);
  EXPECT_NE(r.samples.find("\"bogus\""), std::string::npos) << r.samples;
}

TEST_F(QualityCheckTest, InvalidValuesOfANumberColumnCompareAsNumbers) {
  QualityRule rule = Library("invalidValues", "score", "mustBe", {6});
  rule.valid_values = {"1.0", "2", "3"}; // NULL is not invalid: 5..10 are
  auto r = EvaluateOne(rule);
  EXPECT_EQ(r.status, "passed") << r.message << " measured " << r.measured;
}

TEST_F(QualityCheckTest, InvalidValuesWithAPattern) {
  QualityRule rule = Library("invalidValues", "email", "mustBe", {2});
  rule.pattern = "^[a-z]@x$";
  auto r = EvaluateOne(rule);
  EXPECT_EQ(r.status, "passed") << r.message;
  EXPECT_EQ(r.measured, 2); // '' and 'N/A'; NULL is missing, not invalid
}

TEST_F(QualityCheckTest, InvalidValuesWithoutArgumentsIsNotEvaluated) {
  auto r = EvaluateOne(Library("invalidValues", "status", "mustBe", {0}));
  EXPECT_EQ(r.status, "not_evaluated");
  EXPECT_NE(r.message.find("validValues"), std::string::npos);
}

TEST_F(QualityCheckTest, ABadPatternFailsOnlyItsRule) {
  QualityRule bad = Library("invalidValues", "email", "mustBe", {0});
  bad.pattern = "([";
  auto results = Evaluate({bad, Library("rowCount", "", "mustBe", {10})});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].status, "failed");
  EXPECT_NE(results[0].message.find("could not run"), std::string::npos);
  EXPECT_EQ(results[1].status, "passed");
}

TEST_F(QualityCheckTest, DuplicateValuesOfAProperty) {
  auto r = EvaluateOne(Library("duplicateValues", "name", "mustBe", {0}));
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(r.measured, 1);
  // Both 'ann' rows are samples.
  EXPECT_NE(r.samples.find("\"id\":1,"), std::string::npos) << r.samples;
  EXPECT_NE(r.samples.find("\"id\":10,"), std::string::npos) << r.samples;
}

TEST_F(QualityCheckTest, DuplicateValuesOfASchemaOverSeveralProperties) {
  QualityRule one = Library("duplicateValues", "", "mustBe", {1});
  one.properties = {"name"};
  QualityRule two = Library("duplicateValues", "", "mustBe", {0});
  two.properties = {"id", "name"};
  QualityRule all = Library("duplicateValues", "", "mustBe", {0}); // whole rows
  QualityRule unknown = Library("duplicateValues", "", "mustBe", {0});
  unknown.properties = {"nope"};
  auto results = Evaluate({one, two, all, unknown});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].status, "passed") << results[0].message;
  EXPECT_EQ(results[1].status, "passed") << results[1].message;
  EXPECT_EQ(results[2].status, "passed") << results[2].message;
  EXPECT_EQ(results[3].status, "not_evaluated");
}

TEST_F(QualityCheckTest, EveryOperator) {
  struct Case {
    std::string op;
    std::vector<double> operands;
    bool passes;
  };
  // rowCount is 10.
  std::vector<Case> cases = {
      {"mustBe", {10}, true},
      {"mustBe", {9}, false},
      {"mustNotBe", {10}, false},
      {"mustNotBe", {9}, true},
      {"mustBeGreaterThan", {9}, true},
      {"mustBeGreaterThan", {10}, false},
      {"mustBeGreaterOrEqualTo", {10}, true},
      {"mustBeGreaterOrEqualTo", {11}, false},
      {"mustBeLessThan", {11}, true},
      {"mustBeLessThan", {10}, false},
      {"mustBeLessOrEqualTo", {10}, true},
      {"mustBeLessOrEqualTo", {9}, false},
      {"mustBeBetween", {5, 15}, true},
      {"mustBeBetween",
       {10, 15},
       false}, // ODCS: mustBeGreaterThan and mustBeLessThan
      {"mustBeBetween", {15, 5}, true}, // bounds in either order
      {"mustNotBeBetween", {11, 20}, true},
      {"mustNotBeBetween", {10, 20}, true},
      {"mustNotBeBetween", {5, 15}, false},
  };
  std::vector<QualityRule> rules;
  for (const auto &c : cases)
    rules.push_back(Library("rowCount", "", c.op, c.operands));
  auto results = Evaluate(rules);
  ASSERT_EQ(results.size(), cases.size());
  for (size_t i = 0; i < cases.size(); i++) {
    EXPECT_EQ(results[i].status, cases[i].passes ? "passed" : "failed")
        << cases[i].op << " " << cases[i].operands.front();
    EXPECT_EQ(results[i].measured, 10);
  }
}

TEST_F(QualityCheckTest, PercentIsOfTheTablesRows) {
  auto fails = Library("nullValues", "email", "mustBeLessThan", {5}, "percent");
  auto passes =
      Library("nullValues", "email", "mustBeLessOrEqualTo", {10}, "percent");
  auto dupes =
      Library("duplicateValues", "name", "mustBeLessThan", {11}, "percent");
  auto rows = Library("rowCount", "", "mustBe", {10},
                      "percent"); // a count, not a share
  auto results = Evaluate({fails, passes, dupes, rows});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].status, "failed");
  EXPECT_EQ(results[0].measured, 10);
  EXPECT_EQ(results[0].unit, "percent");
  EXPECT_EQ(results[1].status, "passed");
  EXPECT_EQ(results[2].status, "passed");
  EXPECT_EQ(results[2].measured, 10);
  EXPECT_EQ(results[3].status, "passed");
  EXPECT_EQ(results[3].unit, "rows");
}

TEST_F(QualityCheckTest, ACountingMetricWithoutOperatorMeansNone) {
  QualityRule rule = Library("nullValues", "email", "", {});
  auto r = EvaluateOne(rule);
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(r.threshold, "mustBe 0");
  auto count = EvaluateOne(Library("rowCount", "", "", {}));
  EXPECT_EQ(count.status, "not_evaluated");
}

TEST_F(QualityCheckTest, SamplesLeaveOutSensitiveColumns) {
  auto r = EvaluateOne(Library("nullValues", "score", "mustBe", {0}));
  ASSERT_EQ(r.status, "failed");
  EXPECT_NE(r.samples.find("\"name\":\"dan\""), std::string::npos) << r.samples;
  EXPECT_NE(r.samples.find("\"status\""), std::string::npos) << r.samples;
  EXPECT_EQ(r.samples.find("email"), std::string::npos) << r.samples; // pii
  EXPECT_EQ(r.samples.find("N/A"), std::string::npos) << r.samples;
  EXPECT_EQ(r.samples.find("score"), std::string::npos)
      << r.samples; // confidential
}

TEST_F(QualityCheckTest, SamplesAreAtMostFive) {
  auto r = EvaluateOne(Library("rowCount", "", "mustBe", {3}));
  EXPECT_EQ(r.samples, "[]"); // rowCount has no failing rows
  QualityRule rule = Library("invalidValues", "status", "mustBe", {0});
  rule.valid_values = {"gone"}; // 9 rows are invalid
  auto many = EvaluateOne(rule);
  ASSERT_EQ(many.status, "failed");
  EXPECT_EQ(many.measured, 9);
  size_t objects = 0;
  for (size_t at = many.samples.find('{'); at != std::string::npos;
       at = many.samples.find('{', at + 1)) {
    objects++;
  }
  EXPECT_EQ(objects, 5u) << many.samples;
}

TEST_F(QualityCheckTest, IsSampleableOnlyForPublicAndInternal) {
  EXPECT_TRUE(IsSampleable("public"));
  EXPECT_TRUE(IsSampleable("Internal"));
  for (const char *c : {"pii", "confidential", "restricted", "sensitive", ""}) {
    EXPECT_FALSE(IsSampleable(c)) << c;
  }
}

TEST_F(QualityCheckTest, PlaceholdersAreRewritten) {
  EXPECT_EQ(
      ExpandPlaceholders("SELECT count(*) FROM ${object} WHERE ${property} < 0",
                         "\"t\"", "\"c\""),
      "SELECT count(*) FROM \"t\" WHERE \"c\" < 0");
  EXPECT_EQ(
      ExpandPlaceholders(
          "SELECT count(*) FROM {object} WHERE {property} IS NULL", "T", "C"),
      "SELECT count(*) FROM T WHERE C IS NULL");
  EXPECT_EQ(ExpandPlaceholders(
                "SELECT 1 FROM {table} WHERE {column} = '{column}'", "T", "C"),
            "SELECT 1 FROM T WHERE C = 'C'");
}

TEST_F(QualityCheckTest, SqlRuleReadsItsOwnTable) {
  auto by_placeholder =
      Sql("SELECT count(*) FROM {object} WHERE {property} > 5", "score",
          "mustBe", 5);
  auto by_port_name =
      Sql("SELECT max(score) FROM people", "", "mustBeLessOrEqualTo", 10);
  auto by_sql_name =
      Sql("SELECT count(*) FROM hr.staff.people p WHERE p.status = 'gone'", "",
          "mustBe", 1);
  auto boolean = Sql("SELECT count(*) = 10 FROM ${object}", "", "mustBe", 1);
  auto failing = Sql("SELECT count(*) FROM ${object}", "", "mustBeLessThan", 3);
  auto results =
      Evaluate({by_placeholder, by_port_name, by_sql_name, boolean, failing});
  ASSERT_EQ(results.size(), 5u);
  for (size_t i = 0; i < 4; i++) {
    EXPECT_EQ(results[i].status, "passed") << i << ": " << results[i].message;
  }
  EXPECT_EQ(results[4].status, "failed");
  EXPECT_EQ(results[4].measured, 10);
  EXPECT_EQ(results[4].threshold, "mustBeLessThan ");
}

TEST_F(QualityCheckTest, SqlRuleReadingAnotherTableIsRefused) {
  auto other = Sql("SELECT count(*) FROM salaries", "", "mustBe", 1);
  auto qualified =
      Sql("SELECT count(*) FROM plx_hr.main.salaries", "", "mustBe", 1);
  auto physical =
      Sql("SELECT count(*) FROM plx_hr.main.people", "", "mustBe", 10);
  auto file =
      Sql("SELECT count(*) FROM read_csv('/etc/passwd')", "", "mustBe", 0);
  auto write = Sql("DELETE FROM {object}", "", "mustBe", 0);
  auto results = Evaluate({other, qualified, physical, file, write});
  ASSERT_EQ(results.size(), 5u);
  for (const auto &r : results) {
    EXPECT_EQ(r.status, "failed");
    EXPECT_NE(r.message.find("refused by the SQL guard"), std::string::npos)
        << r.message;
  }
  EXPECT_NE(results[0].message.find("may read only its own table"),
            std::string::npos);
  EXPECT_NE(results[3].message.find("read_csv is not allowed"),
            std::string::npos)
      << results[3].message;
  auto count = conn_->QueryScalar("SELECT count(*) FROM plx_hr.main.people");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, "10"); // the DELETE never ran
}

TEST_F(QualityCheckTest, SqlRuleWithoutAValueFails) {
  auto r = EvaluateOne(
      Sql("SELECT score FROM {object} WHERE id = 4", "", "mustBe", 0));
  EXPECT_EQ(r.status, "failed");
  EXPECT_NE(r.message.find("no value"), std::string::npos);
}

TEST_F(QualityCheckTest, CustomAndTextRulesAreNotEvaluated) {
  QualityRule custom;
  custom.type = "custom";
  custom.engine = "soda";
  custom.implementation = "type: duplicate_percent";
  QualityRule text;
  text.type = "text";
  text.description = "Emails are verified.";
  auto results = Evaluate({custom, text});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].status, "not_evaluated");
  EXPECT_NE(results[0].message.find("soda"), std::string::npos);
  EXPECT_EQ(results[1].status, "not_evaluated");
  EXPECT_EQ(results[1].rule, "Emails are verified.");
  EXPECT_TRUE(QualityVerdict(results).ok());
}

TEST_F(QualityCheckTest, OnlyErrorSeverityFailuresStopAPublish) {
  QualityRule warning = Library("rowCount", "", "mustBe", {3});
  warning.severity = "warning";
  warning.name = "about three people";
  auto results = Evaluate({warning});
  EXPECT_TRUE(QualityVerdict(results).ok());
  QualityRule error = warning;
  error.severity = "error";
  results = Evaluate({warning, error});
  Status verdict = QualityVerdict(results);
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(verdict.message().find(
                "quality rule 'about three people' (rowCount, severity error) "
                "failed: measured 10 rows, expected mustBe "),
            std::string::npos)
      << verdict.message();
}

// The model as parse_contract_rules.cc fills it from a contract file.
TEST(QualityRuleParse, FillsTheModel) {
  namespace fs = std::filesystem;
  fs::path file =
      fs::temp_directory_path() / "plexus_quality_parse_test.odcs.yaml";
  std::ofstream(file) << R"(apiVersion: v3.0.2
kind: DataContract
id: people-contract
version: 1.0.0
status: active
schema:
  - name: people
    quality:
      - rule: rowCount
        mustBeBetween: [100, 120]
        severity: warning
      - type: sql
        name: no negative scores
        query: SELECT count(*) FROM {object} WHERE score < 0
        mustBe: 0
    properties:
      - name: status
        logicalType: string
        quality:
          - metric: invalidValues
            arguments:
              validValues: [active, gone, null]
              pattern: '^[a-z]+$'
            mustBeLessThan: 5
            unit: percent
          - metric: missingValues
            arguments:
              missingValues: [null, '', 'N/A']
          - type: custom
            engine: soda
            implementation:
              type: duplicate_percent
)";
  std::vector<spec::Diagnostic> problems;
  auto contract = spec::ParseContractFile(file.string(), &problems);
  fs::remove(file);
  ASSERT_TRUE(contract.ok()) << contract.status().ToString();
  ASSERT_EQ(contract->schema.size(), 1u);
  const auto &table = contract->schema.front();
  ASSERT_EQ(table.quality.size(), 2u);
  EXPECT_EQ(table.quality[0].type, "library");
  EXPECT_EQ(table.quality[0].metric, "rowCount"); // v3.0's `rule`
  EXPECT_EQ(table.quality[0].op, "mustBeBetween");
  EXPECT_EQ(table.quality[0].operands, (std::vector<double>{100, 120}));
  EXPECT_EQ(table.quality[0].severity, "warning");
  EXPECT_EQ(table.quality[0].column, "");
  EXPECT_EQ(table.quality[1].type, "sql");
  EXPECT_EQ(table.quality[1].name, "no negative scores");
  EXPECT_EQ(table.quality[1].severity, "error"); // the default
  ASSERT_EQ(table.properties.size(), 1u);
  const auto &rules = table.properties[0].quality;
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].column, "status");
  EXPECT_EQ(rules[0].valid_values,
            (std::vector<std::string>{"active", "gone"}));
  EXPECT_EQ(rules[0].pattern, "^[a-z]+$");
  EXPECT_EQ(rules[0].unit, "percent");
  EXPECT_EQ(rules[0].op, "mustBeLessThan");
  EXPECT_EQ(rules[1].missing_values, (std::vector<std::string>{"", "N/A"}));
  EXPECT_TRUE(rules[1].has_missing_values);
  EXPECT_EQ(rules[1].unit, "rows");
  EXPECT_EQ(rules[2].type, "custom");
  EXPECT_EQ(rules[2].engine, "soda");
  EXPECT_NE(rules[2].implementation.find("duplicate_percent"),
            std::string::npos);
}

} // namespace
} // namespace plexus::pipeline
