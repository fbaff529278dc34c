// Processor chains compiled to one SELECT, run on a real in-memory DuckDB
// through the SQL guard, as the runner runs them.
#include "plexus/pipeline/processors.h"

#include <gtest/gtest.h>

#include <map>

#include "plexus/access/sql_guard.h"
#include "plexus/engine/engine.h"
#include "plexus/pipeline/column_lineage.h"

namespace plexus::pipeline {
namespace {

using spec::ProcessorStep;
using spec::StepValue;

StepValue Text(std::string text) {
  StepValue v;
  v.text = std::move(text);
  return v;
}

StepValue List(std::vector<std::string> items) {
  StepValue v;
  v.kind = StepValue::Kind::kList;
  for (auto &item : items)
    v.items.push_back(Text(std::move(item)));
  return v;
}

StepValue Map(std::vector<std::pair<std::string, StepValue>> fields) {
  StepValue v;
  v.kind = StepValue::Kind::kMap;
  v.fields = std::move(fields);
  return v;
}

StepValue TextMap(std::vector<std::pair<std::string, std::string>> fields) {
  StepValue v;
  v.kind = StepValue::Kind::kMap;
  for (auto &[key, text] : fields)
    v.fields.emplace_back(key, Text(text));
  return v;
}

/// A step as the parser makes it, at pipeline.yaml:<line>.
ProcessorStep Step(std::string kind, StepValue value, int line = 7) {
  ProcessorStep step;
  step.kind = std::move(kind);
  step.value = std::move(value);
  step.location = spec::SourceLocation{"pipeline.yaml", line, 7};
  return step;
}

/// The test's inputs live in an attached database under other names: only the
/// guard's rewrite makes the chain's SQL find them.
class TestInputs : public access::RelationResolver {
public:
  Result<access::ResolvedRelation>
  Resolve(const access::TableName &name) const override {
    static const std::map<std::string, std::string> kTables = {
        {"orders", "t_orders"},
        {"customers", "t_customers"},
        {"eu", "t_eu"},
        {"us", "t_us"},
        {"dup_customers", "t_dup"}};
    auto it = kTables.find(name.table);
    if (!name.schema.empty() || it == kTables.end()) {
      return PermissionDenied("pipeline SQL may read only its inputs; " +
                              name.ToString() + " is not one of them");
    }
    return access::ResolvedRelation{"plx_t", "main", it->second, name.table,
                                    ""};
  }
};

constexpr char kSetup[] = R"sql(
ATTACH ':memory:' AS plx_t;
CREATE TABLE plx_t.t_orders (order_id INTEGER, customer_id INTEGER, status VARCHAR,
                             amount_cents INTEGER, updated_at INTEGER);
INSERT INTO plx_t.t_orders VALUES (1, 10, 'placed', 1000, 1), (1, 10, 'shipped', 1000, 2),
  (2, 20, 'test', 500, 1), (3, 10, 'placed', 250, 1), (4, 30, 'placed', 75, NULL);
CREATE TABLE plx_t.t_customers (customer_id INTEGER, country VARCHAR, email VARCHAR);
INSERT INTO plx_t.t_customers VALUES (10, 'FR', 'ann@example.org'), (20, 'DE', 'bob@example.org');
CREATE TABLE plx_t.t_eu (order_id INTEGER, status VARCHAR);
INSERT INTO plx_t.t_eu VALUES (100, 'placed');
CREATE TABLE plx_t.t_us (region VARCHAR, order_id INTEGER);
INSERT INTO plx_t.t_us VALUES ('ca', 200);
CREATE TABLE plx_t.t_dup (customer_id INTEGER, country VARCHAR);
INSERT INTO plx_t.t_dup VALUES (10, 'FR'), (10, 'BE');
)sql";

class ProcessorsTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto db = engine::Database::Open({});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    conn_ = db_->Connect().value();
    Status setup = conn_->Execute(kSetup);
    ASSERT_TRUE(setup.ok()) << setup.ToString();
    guard_ = std::make_unique<access::SqlGuard>();
    probe_ = std::make_unique<GuardedProbe>(*conn_, *guard_, inputs_);
    context_.salt = "pepper";
    context_.inputs = {"orders", "customers", "eu", "us", "dup_customers"};
    context_.probe = probe_.get();
  }

  void TearDown() override {
    probe_.reset();
    guard_.reset();
    conn_.reset();
    db_.reset();
  }

  /// The chain over `start`, checked by the guard and run: one "a|b|c" per row,
  /// sorted.
  Result<std::vector<std::string>>
  Run(const std::vector<ProcessorStep> &steps,
      const std::string &start = "SELECT * FROM orders") {
    PLEXUS_ASSIGN_OR_RETURN(std::string sql,
                            CompileChain(start, steps, context_));
    return RunSql(sql);
  }

  Result<std::vector<std::string>> RunSql(const std::string &sql) {
    PLEXUS_ASSIGN_OR_RETURN(access::GuardedQuery guarded,
                            guard_->Check(sql, inputs_));
    PLEXUS_ASSIGN_OR_RETURN(
        auto result,
        conn_->Query("SELECT * FROM (" + guarded.sql + ") ORDER BY ALL"));
    std::vector<std::string> rows;
    while (true) {
      PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
      if (!chunk)
        break;
      for (size_t r = 0; r < chunk->size(); ++r) {
        std::string row;
        for (size_t c = 0; c < chunk->column_count(); ++c) {
          row += (c ? "|" : "") +
                 (chunk->IsNull(c, r) ? "NULL" : chunk->Text(c, r));
        }
        rows.push_back(row);
      }
    }
    return rows;
  }

  /// The columns of the chain's result: "name TYPE" each.
  std::vector<std::string>
  Columns(const std::vector<ProcessorStep> &steps,
          const std::string &start = "SELECT * FROM orders") {
    auto sql = CompileChain(start, steps, context_);
    EXPECT_TRUE(sql.ok()) << sql.status().ToString();
    if (!sql.ok())
      return {};
    auto columns = probe_->Columns(*sql);
    EXPECT_TRUE(columns.ok()) << columns.status().ToString();
    std::vector<std::string> out;
    if (columns.ok()) {
      for (const auto &c : *columns)
        out.push_back(c.name + " " + c.type);
    }
    return out;
  }

  /// The message of a chain that must fail.
  std::string Error(const std::vector<ProcessorStep> &steps,
                    const std::string &start = "SELECT * FROM orders") {
    auto rows = Run(steps, start);
    EXPECT_FALSE(rows.ok());
    return rows.ok() ? "" : rows.status().message();
  }

  using Rows = std::vector<std::string>;

  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> conn_;
  std::unique_ptr<access::SqlGuard> guard_;
  TestInputs inputs_;
  std::unique_ptr<GuardedProbe> probe_;
  ChainContext context_;
};

TEST_F(ProcessorsTest, NoStepsLeavesTheStartAsWritten) {
  auto sql = CompileChain("SELECT order_id FROM orders",
                          std::vector<ProcessorStep>{}, context_);
  ASSERT_TRUE(sql.ok());
  EXPECT_EQ(*sql, "SELECT order_id FROM orders");
}

TEST_F(ProcessorsTest, ChainStartIsTheSqlTheFromInputOrTheOnlyInput) {
  spec::PipelineOutput output;
  output.port = "orders";
  output.from = "Customers";
  EXPECT_EQ(ChainStart(output, {"orders", "customers"}).value(),
            "SELECT * FROM \"customers\"");
  output.from = "nope";
  EXPECT_NE(ChainStart(output, {"orders"})
                .status()
                .message()
                .find("nope is not an input"),
            std::string::npos);
  output.from.clear();
  EXPECT_EQ(ChainStart(output, {"orders"}).value(), "SELECT * FROM \"orders\"");
  EXPECT_FALSE(ChainStart(output, {"orders", "customers"}).ok());
  output.sql = "SELECT 1";
  EXPECT_EQ(ChainStart(output, {"orders", "customers"}).value(), "SELECT 1");
}

TEST_F(ProcessorsTest, FilterKeepsTheRowsThatHold) {
  auto rows =
      Run({Step("filter", Text("status <> 'test' AND amount_cents >= 250"))});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, (Rows{"1|10|placed|1000|1", "1|10|shipped|1000|2",
                         "3|10|placed|250|1"}));
}

TEST_F(ProcessorsTest, ProjectTakesNamesAndExpressions) {
  auto rows = Run(
      {Step("project", List({"order_id", "amount_cents / 100 AS amount"}))});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, (Rows{"1|10.0", "1|10.0", "2|5.0", "3|2.5", "4|0.75"}));
}

TEST_F(ProcessorsTest, RenameKeepsTheOtherColumnsAndTheirOrder) {
  EXPECT_EQ(Columns({Step("rename",
                          TextMap({{"order_id", "id"}, {"status", "state"}}))}),
            (Rows{"id INTEGER", "customer_id INTEGER", "state VARCHAR",
                  "amount_cents INTEGER", "updated_at INTEGER"}));
  // A later step names the new column.
  auto rows =
      Run({Step("rename", TextMap({{"order_id", "id"}})),
           Step("filter", Text("id = 3")), Step("project", List({"id"}))});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, Rows{"3"});
}

TEST_F(ProcessorsTest, CastChangesTheTypeInPlace) {
  EXPECT_EQ(Columns({Step("cast", TextMap({{"amount_cents", "DECIMAL(12,2)"},
                                           {"order_id", "VARCHAR"}}))}),
            (Rows{"order_id VARCHAR", "customer_id INTEGER", "status VARCHAR",
                  "amount_cents DECIMAL(12,2)", "updated_at INTEGER"}));
}

TEST_F(ProcessorsTest, DedupeKeepsTheLatestRowOfEachKey) {
  auto rows = Run({Step("dedupe", Map({{"key", List({"order_id"})},
                                       {"latest", Text("updated_at")}}))});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, (Rows{"1|10|shipped|1000|2", "2|20|test|500|1",
                         "3|10|placed|250|1", "4|30|placed|75|NULL"}));
  // By customer: a NULL `latest` loses to any value, and no `latest` is still
  // deterministic.
  rows = Run({Step("dedupe", Map({{"key", Text("customer_id")},
                                  {"latest", Text("updated_at")}})),
              Step("project", List({"customer_id", "status"}))});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, (Rows{"10|shipped", "20|test", "30|placed"}));
  rows = Run({Step("dedupe", Map({{"key", Text("customer_id")}})),
              Step("project", List({"customer_id", "order_id", "status"}))});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, (Rows{"10|1|placed", "20|2|test", "30|4|placed"}));
}

TEST_F(ProcessorsTest, MaskAndHashUseTheAccessLayersMasksWithTheSalt) {
  std::string start = "SELECT * FROM customers";
  auto rows = Run(
      {Step("mask", TextMap({{"email", "partial(4)"}, {"country", "redact"}})),
       Step("project", List({"customer_id", "country", "email"}))},
      start);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows,
            (Rows{"10|****|***********.org", "20|****|***********.org"}));
  // hash: the salted SHA-256 consumers see, the same on every run.
  rows = Run({Step("hash", List({"email"})), Step("project", List({"email"}))},
             start);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  auto expected =
      conn_->QueryScalar("SELECT sha256('pepper' || 'ann@example.org')");
  ASSERT_TRUE(expected.ok());
  EXPECT_NE(std::find(rows->begin(), rows->end(), *expected), rows->end());
  EXPECT_EQ(*rows, Run({Step("mask", TextMap({{"email", "hash"}})),
                        Step("project", List({"email"}))},
                       start)
                       .value());
  // A mask that does not fit the column's type names the column.
  std::string message =
      Error({Step("mask", TextMap({{"email", "year"}}), 9)}, start);
  EXPECT_NE(message.find("step 1 (mask at pipeline.yaml:9)"), std::string::npos)
      << message;
  EXPECT_NE(message.find("column email: mask 'year' needs a DATE"),
            std::string::npos)
      << message;
  EXPECT_NE(Error({Step("mask", TextMap({{"email", "scramble"}}))}, start)
                .find("unknown mask"),
            std::string::npos);
}

TEST_F(ProcessorsTest, UnionMatchesColumnsByName) {
  auto rows = Run({Step("union", List({"eu", "us"}))},
                  "SELECT order_id, status FROM orders WHERE order_id = 3");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, (Rows{"3|placed|NULL", "100|placed|NULL", "200|NULL|ca"}));
  std::string message = Error({Step("union", List({"eu", "secrets"}))});
  EXPECT_NE(
      message.find(
          "secrets is not an input of the pipeline (inputs: orders, customers"),
      std::string::npos)
      << message;
}

TEST_F(ProcessorsTest, LookupLeftJoinsTheOtherInput) {
  auto rows = Run({Step("lookup", Map({{"input", Text("customers")},
                                       {"on", List({"customer_id"})},
                                       {"columns", List({"country"})}})),
                   Step("project", List({"order_id", "country"}))});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  // Every row stays, with NULL where the lookup has no match (customer 30).
  EXPECT_EQ(*rows, (Rows{"1|FR", "1|FR", "2|DE", "3|FR", "4|NULL"}));
  // Without `columns`: every column of the lookup but the keys.
  EXPECT_EQ(Columns({Step("lookup", Map({{"input", Text("customers")},
                                         {"on", Text("customer_id")}}))}),
            (Rows{"order_id INTEGER", "customer_id INTEGER", "status VARCHAR",
                  "amount_cents INTEGER", "updated_at INTEGER",
                  "country VARCHAR", "email VARCHAR"}));
}

TEST_F(ProcessorsTest, LookupRefusesAKeyThatWouldRepeatRows) {
  std::string message = Error({Step(
      "lookup",
      Map({{"input", Text("dup_customers")}, {"on", Text("customer_id")}}),
      12)});
  EXPECT_NE(message.find("step 1 (lookup at pipeline.yaml:12)"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("1 value(s) of (customer_id) are on more than one row "
                         "of dup_customers"),
            std::string::npos)
      << message;
  message = Error({Step("lookup", Map({{"input", Text("customers")},
                                       {"on", Text("customer_id")},
                                       {"columns", List({"customer_id"})}}))},
                  "SELECT order_id AS customer_id, 1 AS x FROM orders");
  EXPECT_NE(message.find(
                "column customer_id is both in the relation and in customers"),
            std::string::npos)
      << message;
}

TEST_F(ProcessorsTest, SqlStepReadsThePreviousStepAsInput) {
  auto rows = Run(
      {Step("filter", Text("status <> 'test'")),
       Step("sql",
            Text("WITH s AS (SELECT status FROM input)\n"
                 "SELECT status, count(*) AS n FROM s GROUP BY status;\n"))});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, (Rows{"placed|3", "shipped|1"}));
  // It may join the pipeline's other inputs, and nothing else.
  rows = Run({Step(
      "sql",
      Text("SELECT c.country, count(*) AS n FROM input JOIN customers AS c "
           "USING (customer_id) GROUP BY ALL"))});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, (Rows{"DE|1", "FR|3"}));
  auto refused =
      Run({Step("sql", Text("SELECT * FROM input, duckdb_settings()"))});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  refused = Run({Step("sql", Text("SELECT * FROM plx_t.main.t_orders"))});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(ProcessorsTest, AChainOfEveryKind) {
  auto rows = Run({
      Step("union", List({"eu"})),
      Step("filter", Text("status IS DISTINCT FROM 'test'")),
      Step("dedupe",
           Map({{"key", Text("order_id")}, {"latest", Text("updated_at")}})),
      Step("rename", TextMap({{"order_id", "id"}})),
      Step("cast", TextMap({{"amount_cents", "BIGINT"}})),
      Step("lookup",
           Map({{"input", Text("customers")}, {"on", Text("customer_id")}})),
      Step("hash", List({"email"})),
      Step("mask", TextMap({{"country", "partial(1)"}})),
      Step("project",
           List({"id", "country", "status", "amount_cents * 2 AS doubled",
                 "email IS NOT NULL AS has_email"})),
      Step("sql", Text("SELECT * FROM input WHERE id < 100")),
  });
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, (Rows{"1|*R|shipped|2000|true", "3|*R|placed|500|true",
                         "4|NULL|placed|150|false"}));
}

TEST_F(ProcessorsTest, ABadArgumentNamesTheStepAndItsLine) {
  std::string message = Error({Step("filter", Text("true"), 5),
                               Step("rename", TextMap({{"nope", "id"}}), 6)});
  EXPECT_NE(
      message.find(
          "step 2 (rename at pipeline.yaml:6): column nope does not exist "
          "(columns: order_id, customer_id, status, amount_cents, updated_at)"),
      std::string::npos)
      << message;
  message = Error({Step("rename", TextMap({{"order_id", "status"}}))});
  EXPECT_NE(message.find("would make two columns status"), std::string::npos)
      << message;
  message =
      Error({Step("cast", TextMap({{"status", "INTEGER) AS x, (SELECT 1"}}))});
  EXPECT_NE(message.find("is not a type name"), std::string::npos) << message;
  // A type DuckDB does not know fails at its step, not at the end.
  message = Error({Step("cast", TextMap({{"status", "NOTATYPE"}}), 8),
                   Step("filter", Text("true"), 9)});
  EXPECT_NE(message.find("step 1 (cast at pipeline.yaml:8)"), std::string::npos)
      << message;
  EXPECT_NE(message.find("NOTATYPE"), std::string::npos) << message;
  message = Error({Step("filter", Text("no_such_column > 1"))});
  EXPECT_NE(message.find("step 1 (filter at pipeline.yaml:7): Binder Error"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("LINE 1"), std::string::npos)
      << message; // no SQL echoed
  message =
      Error({Step("filter", Text("true) UNION SELECT * FROM customers --"))});
  EXPECT_NE(message.find("the condition has unbalanced quotes or brackets"),
            std::string::npos)
      << message;
  message = Error({Step(
      "dedupe", Map({{"key", Text("order_id")}, {"latest", Text("nope")}}))});
  EXPECT_NE(message.find("column nope does not exist (latest)"),
            std::string::npos)
      << message;
  message = Error({Step("project", Map({}))});
  EXPECT_NE(message.find("expected a list of columns"), std::string::npos)
      << message;
  message = Error({Step("use", Text("clean"))});
  EXPECT_NE(message.find("must be expanded"), std::string::npos) << message;
}

TEST_F(ProcessorsTest, RowStepsRefuseStepsThatReadTheWholeRelation) {
  auto sql =
      CompileRowSteps("SELECT * FROM orders",
                      {Step("filter", Text("status <> 'test'")),
                       Step("rename", TextMap({{"order_id", "id"}})),
                       Step("lookup", Map({{"input", Text("customers")},
                                           {"on", Text("customer_id")},
                                           {"columns", List({"country"})}}))},
                      context_);
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  auto rows = RunSql("SELECT id, country FROM (" + *sql + ")");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, (Rows{"1|FR", "1|FR", "3|FR", "4|NULL"}));
  for (const char *kind : {"dedupe", "union", "sql"}) {
    auto refused = CompileRowSteps(
        "SELECT * FROM orders",
        {Step("filter", Text("true")), Step(kind, Text("x"), 4)}, context_);
    ASSERT_FALSE(refused.ok()) << kind;
    EXPECT_NE(refused.status().message().find(
                  "step 2 (" + std::string(kind) + " at pipeline.yaml:4): a " +
                  kind + " step reads the whole relation"),
              std::string::npos)
        << refused.status().message();
  }
}

TEST_F(ProcessorsTest, NamedProcessorsExpandWithTheirParameters) {
  spec::ProcessorDefinition keep;
  keep.name = "keep_status";
  keep.scope = "sales";
  keep.parameters = {
      spec::ProcessorParameter{"status", std::nullopt, "", {}},
      spec::ProcessorParameter{"column", std::string("status"), "", {}}};
  keep.steps = {Step("filter", Text("${column} = '${status}'"), 30)};
  keep.steps[0].location.file = "domain.yaml";
  ProcessorStep use = Step("use", Text("keep_status"), 14);
  use.with = {{"status", Text("placed")}};
  auto steps =
      ExpandChain({use, Step("project", List({"order_id"}))}, {keep}, {});
  ASSERT_TRUE(steps.ok()) << steps.status().ToString();
  ASSERT_EQ(steps->size(), 2u);
  auto sql = CompileChain("SELECT * FROM orders", *steps, context_);
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  EXPECT_EQ(RunSql(*sql).value(), (Rows{"1", "3", "4"}));
  // An error inside names the processor's step and the use it came from.
  (*steps)[0].step.value = Text("nope = 1");
  sql = CompileChain("SELECT * FROM orders", *steps, context_);
  ASSERT_FALSE(sql.ok());
  EXPECT_NE(
      sql.status().message().find(
          "step 1 (filter at domain.yaml:30, from the use of keep_status at "
          "pipeline.yaml:14)"),
      std::string::npos)
      << sql.status().message();
  EXPECT_FALSE(ExpandChain({Step("use", Text("missing"))}, {keep}, {}).ok());
}

/// "out: in.col, in.col(filter)" per output column of the chain's lineage.
std::vector<std::string>
TraceChain(const std::vector<ProcessorStep> &steps,
           const std::string &start = "SELECT * FROM orders") {
  ChainContext context;
  context.inputs = {"orders", "customers", "raw"};
  auto sql = CompileChain(start, steps, context);
  EXPECT_TRUE(sql.ok()) << sql.status().ToString();
  auto parser = LineageParser::Open();
  EXPECT_TRUE(parser.ok());
  if (!sql.ok() || !parser.ok())
    return {};
  auto columns = (*parser)->Compute(
      *sql, {{"orders", {"order_id", "customer_id", "status"}},
             {"customers", {"customer_id", "name", "email"}},
             {"raw", {}}});
  EXPECT_TRUE(columns.ok()) << columns.status().ToString();
  std::vector<std::string> out;
  for (const auto &c : columns.ok() ? *columns : std::vector<OutputColumn>{}) {
    std::string line = c.name + ":";
    for (const auto &s : c.sources)
      line += " " + s.input + "." + s.column + (s.direct ? "" : "(filter)");
    out.push_back(line);
  }
  return out;
}

TEST(ProcessorLineageTest,
     RenamedProjectedAndLookedUpColumnsTraceToWhatTheyRead) {
  EXPECT_EQ(
      TraceChain(
          {Step("rename", TextMap({{"order_id", "id"}})),
           Step("lookup", Map({{"input", Text("customers")},
                               {"on", Text("customer_id")},
                               {"columns", List({"name"})}})),
           Step("hash", List({"name"})),
           Step("project", List({"id", "upper(name) AS who", "status"}))}),
      (std::vector<std::string>{"id: customers.customer_id(filter) "
                                "orders.customer_id(filter) orders.order_id",
                                "who: customers.customer_id(filter) "
                                "customers.name orders.customer_id(filter)",
                                "status: customers.customer_id(filter) "
                                "orders.customer_id(filter) orders.status"}));
  // Without `columns`, a lookup brings every column but the keys; a cast keeps
  // the column.
  EXPECT_EQ(TraceChain({Step("cast", TextMap({{"status", "VARCHAR"}})),
                        Step("lookup", Map({{"input", Text("customers")},
                                            {"on", Text("customer_id")}})),
                        Step("project", List({"status", "email"}))}),
            (std::vector<std::string>{
                "status: customers.customer_id(filter) "
                "orders.customer_id(filter) orders.status",
                "email: customers.customer_id(filter) customers.email "
                "orders.customer_id(filter)"}));
}

TEST(ProcessorLineageTest, UnionByNameAndRenamesOverFilesOfUnknownColumns) {
  EXPECT_EQ(TraceChain({Step("union", List({"raw"})),
                        Step("rename", TextMap({{"status", "state"}})),
                        Step("project", List({"order_id", "state"}))}),
            (std::vector<std::string>{"order_id: orders.order_id raw.order_id",
                                      "state: orders.status raw.status"}));
  EXPECT_EQ(TraceChain({Step("rename", TextMap({{"id", "order_id"}})),
                        Step("dedupe", Map({{"key", Text("order_id")},
                                            {"latest", Text("ts")}})),
                        Step("project", List({"order_id", "amount"}))},
                       "SELECT * FROM raw"),
            (std::vector<std::string>{"order_id: raw.id raw.ts(filter)",
                                      "amount: raw.amount"}));
}

TEST_F(ProcessorsTest, WithoutAProbeTheChainIsWrittenForLineage) {
  context_.probe = nullptr;
  auto sql = CompileChain("SELECT * FROM orders",
                          {Step("mask", TextMap({{"email", "hash"}})),
                           Step("lookup", Map({{"input", Text("customers")},
                                               {"on", Text("customer_id")}}))},
                          context_);
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  EXPECT_NE(sql->find("* REPLACE (\"email\" AS \"email\")"), std::string::npos)
      << *sql;
  EXPECT_NE(sql->find("lookup.* EXCLUDE (\"customer_id\")"), std::string::npos)
      << *sql;
  EXPECT_EQ(sql->find("pepper"), std::string::npos);
}

} // namespace
} // namespace plexus::pipeline
