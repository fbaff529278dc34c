// CDC outputs with processor steps (filter, rename, cast, hash, project) and lookups on the
// change rows (cdc_row_steps.h, cdc_lookup.h), applied by CdcApplier against a real DuckDB.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "plexus/pipeline/cdc_apply.h"
#include "plexus/pipeline/cdc_apply_fixture.h"
#include "plexus/pipeline/cdc_lookup.h"
#include "plexus/pipeline/cdc_parse.h"
#include "plexus/pipeline/cdc_row_steps.h"

namespace plexus::pipeline {
namespace {

// Processor steps on a CDC output: the source's row images (id, cust, amount as text, email,
// status) go through filter, rename, cast, hash and project before the contract's cast.
std::string SourceEvent(const std::string& op, int id, const std::string& cust,
                        const std::string& amount, const std::string& status, int64_t lsn) {
  std::string row = "{\"id\": " + std::to_string(id) + ", \"cust\": \"" + cust +
                    "\", \"amount\": \"" + amount + "\", \"email\": \"" + cust +
                    "@example.org\", \"status\": \"" + status + "\"}";
  std::string key = "{\"id\": " + std::to_string(id) + "}";  // a delete carries its key only
  return "{\"op\": \"" + op + "\", \"before\": " + (op == "d" ? key : "null") +
         ", \"after\": " + (op == "d" ? "null" : row) + ", \"source\": {\"lsn\": " +
         std::to_string(lsn) + "}, \"ts_ms\": 1700000000000}";
}

spec::ProcessorStep StepOf(const std::string& kind, spec::StepValue value, int line) {
  spec::ProcessorStep step;
  step.kind = kind;
  step.value = std::move(value);
  step.location = spec::SourceLocation{"pipeline.yaml", line, 7};
  return step;
}

spec::StepValue TextValue(const std::string& text) {
  spec::StepValue v;
  v.text = text;
  return v;
}

spec::StepValue MapValue(const std::vector<std::pair<std::string, std::string>>& fields) {
  spec::StepValue v;
  v.kind = spec::StepValue::Kind::kMap;
  for (const auto& [key, text] : fields) v.fields.emplace_back(key, TextValue(text));
  return v;
}

spec::StepValue ListValue(const std::vector<std::string>& items) {
  spec::StepValue v;
  v.kind = spec::StepValue::Kind::kList;
  for (const auto& item : items) v.items.push_back(TextValue(item));
  return v;
}

class CdcStepsTest : public CdcApplyTest {
 protected:
  void SetUp() override {
    steps_ = {StepOf("filter", TextValue("status <> 'cancelled'"), 10),
              StepOf("rename", MapValue({{"id", "order_id"}, {"cust", "customer"}}), 11),
              StepOf("cast", MapValue({{"amount", "DECIMAL(10,2)"}}), 12),
              StepOf("hash", ListValue({"email"}), 13),
              StepOf("project", ListValue({"order_id", "customer", "amount", "email"}), 14)};
    plain_applier_ = false;
    CdcApplyTest::SetUp();
    OpenWithSteps();
  }

  Result<std::unique_ptr<CdcApplier>> OpenApplier() {
    auto port = internal::OrdersPort({{"order_id", "BIGINT", true, true},
                                      {"customer", "VARCHAR", false, true},
                                      {"amount", "DECIMAL(10,2)", false, false},
                                      {"email", "VARCHAR", false, false}});
    CdcSteps steps;
    for (const auto& s : steps_) steps.by_port["orders"].push_back(ChainStep{s, ""});
    steps.salt = "test-salt";
    return CdcApplier::Open(conn_.get(), "sales", "orders", "changes", spec_, {port}, steps);
  }

  /// Reopens the engine and the applier, with the steps.
  void OpenWithSteps() {
    Reopen();
    auto applier = OpenApplier();
    ASSERT_TRUE(applier.ok()) << applier.status().ToString();
    applier_ = std::move(applier).value();
  }

  std::string Orders() {
    return Scalar("SELECT coalesce(string_agg(order_id || ':' || customer || ':' || amount, ',' "
                  "ORDER BY order_id), '') FROM plx_sales.main.orders__orders__v1");
  }

  std::vector<spec::ProcessorStep> steps_;
};

TEST_F(CdcStepsTest, InsertsUpdatesAndDeletesGoThroughTheSteps) {
  ApplyReport r = Apply({SourceEvent("c", 1, "ann", "12.5", "open", 10),
                         SourceEvent("c", 2, "bob", "3", "open", 11),
                         SourceEvent("c", 3, "cy", "1.25", "open", 12)});
  EXPECT_EQ(r.upserted, 3);
  EXPECT_EQ(Orders(), "1:ann:12.50,2:bob:3.00,3:cy:1.25");
  // The email is hashed: not the source's value, the same hash for the same value.
  EXPECT_EQ(Scalar("SELECT count(*) FROM plx_sales.main.orders__orders__v1 WHERE email LIKE "
                   "'%@%' OR email IS NULL"), "0");
  EXPECT_EQ(Scalar("SELECT count(DISTINCT email) FROM plx_sales.main.orders__orders__v1"), "3");
  // An update, and a delete whose before image holds only the source's key (`id`): the
  // renamed key (`order_id`) finds the row.
  r = Apply({SourceEvent("u", 2, "bob", "5", "open", 13), SourceEvent("d", 3, "", "", "", 14)});
  EXPECT_EQ(r.upserted, 1);
  EXPECT_EQ(r.deleted, 1);
  EXPECT_EQ(Orders(), "1:ann:12.50,2:bob:5.00");
  // No new column was proposed: the project keeps the contract's columns only.
  EXPECT_TRUE(r.new_columns.empty());
  // After a restart, a batch of deletes only (no row image shows the source's columns) binds
  // the steps to the columns seen before.
  OpenWithSteps();
  r = Apply({SourceEvent("d", 1, "", "", "", 15)});
  EXPECT_EQ(r.deleted, 1);
  EXPECT_EQ(Orders(), "2:bob:5.00");
}

TEST_F(CdcStepsTest, AFilteredOutImageRemovesTheOldRow) {
  Apply({SourceEvent("c", 1, "ann", "1", "open", 10), SourceEvent("c", 2, "bob", "2", "open", 11),
         SourceEvent("c", 3, "cy", "3", "cancelled", 12)});
  EXPECT_EQ(Orders(), "1:ann:1.00,2:bob:2.00");
  // An update whose new image the filter drops: the old row goes.
  Apply({SourceEvent("u", 1, "ann", "1", "cancelled", 20)});
  EXPECT_EQ(Orders(), "2:bob:2.00");
  // Out of order: the newer (filtered) image wins over an older one arriving later.
  Apply({SourceEvent("u", 2, "bob", "9", "cancelled", 31),
         SourceEvent("u", 2, "bob", "8", "open", 30)});
  ApplyReport r = Apply({SourceEvent("u", 2, "bob", "7", "open", 29)});
  EXPECT_EQ(r.stale, 1);
  EXPECT_EQ(Orders(), "");
  // It comes back when a newer image passes the filter.
  Apply({SourceEvent("u", 1, "ann", "4", "open", 40)});
  EXPECT_EQ(Orders(), "1:ann:4.00");
}

TEST_F(CdcStepsTest, BadRowsAfterTheStepsAreDeadLettered) {
  spec_.max_error_rate = 1.0;
  OpenWithSteps();
  ApplyReport r = Apply({SourceEvent("c", 1, "ann", "1", "open", 10),
                         SourceEvent("c", 2, "bob", "abc", "open", 11),
                         R"({"op":"c","after":{"cust":"nokey","amount":"1"},"ts_ms":5})",
                         R"({"op":"c","after":{"id":4,"amount":"1","status":"open"},"ts_ms":6})",
                         "{not json"});
  EXPECT_EQ(r.upserted, 1);
  EXPECT_EQ(r.dead_lettered, 4);
  EXPECT_EQ(Orders(), "1:ann:1.00");
  std::string reasons = DeadLetterReasons();
  EXPECT_NE(reasons.find("type mismatch in a cast step: column amount ('abc' is not "
                         "DECIMAL(10,2))"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("missing key: order_id"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("required column NULL: customer"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("malformed JSON"), std::string::npos) << reasons;
}

TEST_F(CdcStepsTest, SourceTypesComeFromEveryEventWhenTheSampleIsNotEnough) {
  // The source columns are typed from every 16th event: event 0 has an integer amount, event 5
  // a decimal one, which must widen the type rather than dead-letter the event.
  std::vector<std::string> events;
  for (int i = 0; i < 20; i++) {
    events.push_back("{\"op\":\"c\",\"after\":{\"id\":" + std::to_string(i + 1) +
                     ",\"cust\":\"c\",\"amount\":" + (i == 5 ? "1.5" : "12") +
                     ",\"status\":\"open\",\"email\":\"e\"},\"source\":{\"lsn\":" +
                     std::to_string(i + 1) + "}}");
  }
  ApplyReport r = Apply(events);
  EXPECT_EQ(r.dead_lettered, 0);
  EXPECT_EQ(r.upserted, 20);
  EXPECT_EQ(Scalar("SELECT amount FROM plx_sales.main.orders__orders__v1 WHERE order_id = 6"),
            "1.50");
}

TEST_F(CdcStepsTest, StepsThatReadTheWholeRelationAreRefused) {
  for (const char* kind : {"dedupe", "union", "sql"}) {
    steps_ = {StepOf("rename", MapValue({{"id", "order_id"}}), 8), StepOf(kind, TextValue("x"), 9)};
    auto refused = OpenApplier();
    ASSERT_FALSE(refused.ok()) << kind;
    EXPECT_NE(refused.status().message().find("step 2 (" + std::string(kind) +
                                              " at pipeline.yaml:9)"),
              std::string::npos)
        << refused.status().message();
  }
  // A step whose column the source does not have fails the batch, naming the step.
  steps_ = {StepOf("rename", MapValue({{"nope", "order_id"}}), 8)};
  OpenWithSteps();
  auto failed = applier_->Apply({SourceEvent("c", 1, "ann", "1", "open", 10)}, {});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("step 1 (rename at pipeline.yaml:8): column nope"),
            std::string::npos) << failed.status().message();
}

// A lookup on change rows: the pipeline's other inputs, here one table of the engine named
// `customers` (what cdc_lookup.h's LookupInputs resolves a file input or an input port to).
class TestLookups final : public internal::LookupRelations {
 public:
  const std::vector<std::string>& names() const override { return names_; }
  Result<uint64_t> Refresh() override { return uint64_t{1}; }
  Result<access::ResolvedRelation> Resolve(const access::TableName& name) const override {
    if (name.catalog.empty() && name.table == "customers") {
      access::ResolvedRelation out;
      out.catalog = "plx_sales";
      out.schema = "main";
      out.table = "crm_customers";
      out.logical_name = "customers";
      return out;
    }
    return PermissionDenied(name.ToString() + " is not an input");
  }

 private:
  std::vector<std::string> names_{"customers"};
};

/// An order's change: `customer` is the lookup's key; a delete's before holds only the key.
std::string OrderEvent(const std::string& op, int id, int customer, int64_t lsn) {
  std::string row = "{\"id\": " + std::to_string(id) + ", \"customer_id\": " +
                    std::to_string(customer) + "}";
  return "{\"op\": \"" + op + "\", \"before\": " +
         (op == "d" ? "{\"id\": " + std::to_string(id) + "}" : "null") +
         ", \"after\": " + (op == "d" ? "null" : row) + ", \"source\": {\"lsn\": " +
         std::to_string(lsn) + "}}";
}

class CdcLookupTest : public CdcApplyTest {
 protected:
  void SetUp() override {
    plain_applier_ = false;
    CdcApplyTest::SetUp();
    ASSERT_TRUE(conn_->Execute("CREATE TABLE plx_sales.main.crm_customers (customer_id BIGINT, "
                               "country VARCHAR, tier VARCHAR); INSERT INTO "
                               "plx_sales.main.crm_customers VALUES (10, 'FR', 'gold'), "
                               "(11, 'DE', 'silver')").ok());
    auto applier = Open("customers");
    ASSERT_TRUE(applier.ok()) << applier.status().ToString();
    applier_ = std::move(applier).value();
  }

  Result<std::unique_ptr<CdcApplier>> Open(const std::string& input) {
    auto port = internal::OrdersPort({{"id", "BIGINT", true, true},
                                      {"customer_id", "BIGINT", false, false},
                                      {"country", "VARCHAR", false, false}});
    spec::StepValue lookup = MapValue({{"input", input}, {"on", "customer_id"}});
    lookup.fields.emplace_back("columns", ListValue({"country"}));
    CdcSteps steps;
    steps.by_port["orders"].push_back(ChainStep{StepOf("lookup", lookup, 9), ""});
    steps.lookups = std::make_shared<TestLookups>();
    return CdcApplier::Open(conn_.get(), "sales", "orders", "changes", spec_, {port}, steps);
  }

  std::string Orders() {
    return Scalar("SELECT coalesce(string_agg(id || ':' || customer_id || ':' || "
                  "coalesce(country, 'NULL'), ',' ORDER BY id), '') FROM "
                  "plx_sales.main.orders__orders__v1");
  }
};

TEST_F(CdcLookupTest, EachChangeIsEnrichedWithTheLookupsCurrentRows) {
  int64_t fast = internal::FastBatchesTaken();
  ApplyReport r = Apply({OrderEvent("c", 1, 10, 1), OrderEvent("c", 2, 11, 2),
                         OrderEvent("c", 3, 99, 3)});
  EXPECT_EQ(r.upserted, 3);
  EXPECT_EQ(Orders(), "1:10:FR,2:11:DE,3:99:NULL");  // no match: NULL
  // A later change of the lookup input does not rewrite the rows applied before; the next
  // change of a row takes the lookup's rows as they are then.
  ASSERT_TRUE(conn_->Execute("UPDATE plx_sales.main.crm_customers SET country = 'BE' WHERE "
                             "customer_id = 10").ok());
  Apply({OrderEvent("c", 4, 10, 4)});
  EXPECT_EQ(Orders(), "1:10:FR,2:11:DE,3:99:NULL,4:10:BE");
  Apply({OrderEvent("u", 1, 10, 5)});
  EXPECT_EQ(Orders(), "1:10:BE,2:11:DE,3:99:NULL,4:10:BE");
  // `columns` brings only what it lists (no tier column, no new column proposed).
  EXPECT_EQ(Scalar("SELECT count(*) FROM duckdb_columns() WHERE table_name = "
                   "'orders__orders__v1' AND column_name = 'tier'"), "0");
  EXPECT_EQ(internal::FastBatchesTaken(), fast);  // the fast path stays off
}

TEST_F(CdcLookupTest, ADeleteWithOnlyItsKeyStillDeletes) {
  Apply({OrderEvent("c", 1, 10, 1), OrderEvent("c", 2, 11, 2)});
  // The before image holds the key only: no lookup key, no match, still a delete of id 2.
  ApplyReport r = Apply({OrderEvent("d", 2, 0, 3)});
  EXPECT_EQ(r.deleted, 1);
  EXPECT_EQ(r.dead_lettered, 0);
  EXPECT_EQ(Orders(), "1:10:FR");
  // After a restart, a batch of such deletes alone still binds the lookup (columns kept).
  Reopen();
  auto applier = Open("customers");
  ASSERT_TRUE(applier.ok()) << applier.status().ToString();
  applier_ = std::move(applier).value();
  r = Apply({OrderEvent("d", 1, 0, 4)});
  EXPECT_EQ(r.deleted, 1);
  EXPECT_EQ(Orders(), "");
}

TEST_F(CdcLookupTest, ARepeatedLookupKeyDeadLettersTheChangesThatMeetIt) {
  spec_.max_error_rate = 0.5;
  auto applier = Open("customers");
  ASSERT_TRUE(applier.ok()) << applier.status().ToString();
  applier_ = std::move(applier).value();
  Apply({OrderEvent("c", 1, 11, 1)});
  ASSERT_TRUE(conn_->Execute("INSERT INTO plx_sales.main.crm_customers VALUES (11, 'AT', "
                             "'gold')").ok());
  // Customer 11 is now on two rows: its insert and update are dead letters, never two rows;
  // its delete (which needs only the key) and the other changes are applied.
  ApplyReport r = Apply({OrderEvent("c", 2, 11, 2), OrderEvent("c", 3, 10, 3),
                         OrderEvent("c", 4, 10, 4), OrderEvent("u", 1, 11, 5)});
  EXPECT_EQ(r.dead_lettered, 2);
  EXPECT_EQ(r.upserted, 2);
  EXPECT_EQ(Orders(), "1:11:DE,3:10:FR,4:10:FR");
  EXPECT_EQ(Scalar("SELECT string_agg(DISTINCT reason, ' | ') FROM "
                   "plx_sales.main.orders__changes__dead_letters"),
            "repeated key in a lookup: customer_id 11 is on 2 rows of customers");
  r = Apply({"{\"op\": \"d\", \"before\": {\"id\": 1, \"customer_id\": 11}, \"source\": "
             "{\"lsn\": 6}}"});
  EXPECT_EQ(r.deleted, 1);
  EXPECT_EQ(Orders(), "3:10:FR,4:10:FR");
  // Past maxErrorRate the batch pauses the pipeline, as for any bad event.
  r = Apply({OrderEvent("c", 5, 11, 7)});
  EXPECT_TRUE(r.paused);
  EXPECT_NE(r.pause_reason.find("repeated key in a lookup"), std::string::npos) << r.pause_reason;
}

TEST_F(CdcLookupTest, ALookupOfAnInputThatIsNotThereFailsTheBatchNamingTheStep) {
  auto applier = Open("clients");
  ASSERT_TRUE(applier.ok()) << applier.status().ToString();
  applier_ = std::move(applier).value();
  auto failed = applier_->Apply({OrderEvent("c", 1, 10, 1)}, {});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("step 1 (lookup at pipeline.yaml:9): clients is not "
                                           "an input of the pipeline (inputs: customers)"),
            std::string::npos) << failed.status().message();
  EXPECT_EQ(Orders(), "");
}

}  // namespace
}  // namespace plexus::pipeline
