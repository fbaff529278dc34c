// The PostgreSQL change source against a real PostgreSQL 15 server with wal2json, started on
// 127.0.0.1 by the test (tests/cdc/pg_test_server.h). No server, no pass.
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "pg_test_server.h"
#include "plexus/pipeline/cdc.h"
#include "plexus/pipeline/cdc_postgres_internal.h"

namespace plexus::pipeline {
namespace {

using Json = nlohmann::json;
using plexus::testing::PgTestServer;
using namespace std::chrono_literals;

class PostgresSourceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    server_ = PgTestServer::Start(&error).release();
    start_error_ = error;
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr) << "PostgreSQL did not start: " << start_error_;
  }

  void Sql(const std::string& sql) { ASSERT_EQ(server_->Sql(sql), "") << sql; }

  std::unique_ptr<ChangeSource> Source(const std::string& table, const std::string& slot,
                                       bool snapshot) {
    spec::CdcSpec spec;
    spec.source = "postgres";
    spec.dsn = server_->Dsn();
    spec.table = table;
    spec.snapshot = snapshot;
    auto source = MakePostgresSource(spec, slot);
    EXPECT_TRUE(source.ok()) << source.status().ToString();
    return source.ok() ? std::move(source).value() : nullptr;
  }

  /// Reads until `n` events came (or 5 s passed).
  static std::vector<Json> ReadEvents(ChangeSource* source, size_t n, SourceOffsets* offsets,
                                      size_t max_events = 1000) {
    std::vector<Json> events;
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (events.size() < n && std::chrono::steady_clock::now() < deadline) {
      auto batch = source->Read(max_events, 200ms);
      EXPECT_TRUE(batch.ok()) << batch.status().ToString();
      if (!batch.ok()) break;
      for (const auto& e : batch->events) events.push_back(Json::parse(e));
      *offsets = batch->offsets;
    }
    return events;
  }

  static PgTestServer* server_;
  static std::string start_error_;
};

PgTestServer* PostgresSourceTest::server_ = nullptr;
std::string PostgresSourceTest::start_error_;

TEST_F(PostgresSourceTest, InsertsUpdatesAndDeletesBecomeDebeziumEnvelopes) {
  Sql("CREATE TABLE orders (id int PRIMARY KEY, customer text, amount numeric(10,2), "
      "paid boolean, placed_at timestamp, big numeric(30,10), weight float8)");
  auto source = Source("public.orders", "t_envelopes", /*snapshot=*/false);
  ASSERT_TRUE(source->Open({}).ok());
  Sql("INSERT INTO orders VALUES (1, 'ann', 12.50, true, '2024-03-01 10:00:00', "
      "12345678901234567890.0123456789, 0.25), (2, NULL, NULL, NULL, NULL, NULL, NULL)");
  Sql("UPDATE orders SET customer = 'bob', paid = false WHERE id = 1");
  Sql("DELETE FROM orders WHERE id = 2");
  Sql("CREATE TABLE unrelated (x int); INSERT INTO unrelated VALUES (1)");
  SourceOffsets offsets;
  auto events = ReadEvents(source.get(), 4, &offsets);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0]["op"], "c");
  EXPECT_EQ(events[0]["before"], nullptr);
  const Json& after = events[0]["after"];
  EXPECT_EQ(after["id"], 1);
  EXPECT_EQ(after["customer"], "ann");
  EXPECT_TRUE(after["amount"].is_number());
  EXPECT_DOUBLE_EQ(after["amount"].get<double>(), 12.5);
  EXPECT_EQ(after["paid"], true);
  EXPECT_EQ(after["placed_at"], "2024-03-01 10:00:00");
  EXPECT_EQ(after["big"], "12345678901234567890.0123456789");  // exact, as text
  EXPECT_DOUBLE_EQ(after["weight"].get<double>(), 0.25);
  EXPECT_EQ(events[1]["after"]["customer"], nullptr);
  EXPECT_EQ(events[2]["op"], "u");
  EXPECT_EQ(events[2]["before"]["id"], 1);
  EXPECT_EQ(events[2]["after"]["customer"], "bob");
  EXPECT_EQ(events[2]["after"]["paid"], false);
  EXPECT_EQ(events[3]["op"], "d");
  EXPECT_EQ(events[3]["before"]["id"], 2);
  EXPECT_EQ(events[3]["after"], nullptr);
  uint64_t last = 0;
  for (const auto& e : events) {
    EXPECT_EQ(e["source"]["table"], "orders");
    EXPECT_EQ(e["source"]["schema"], "public");
    EXPECT_EQ(e["source"]["db"], "postgres");
    EXPECT_GT(e["source"]["lsn"].get<uint64_t>(), last);  // positions order the changes
    last = e["source"]["lsn"].get<uint64_t>();
    EXPECT_GT(e["ts_ms"].get<int64_t>(), 1700000000000);
  }
  ASSERT_TRUE(offsets.count("lsn"));
  EXPECT_FALSE(offsets.count("snapshot"));
  // Nothing more: the unrelated table's changes are not events.
  auto more = source->Read(100, 300ms);
  ASSERT_TRUE(more.ok());
  EXPECT_TRUE(more->events.empty());
}

TEST_F(PostgresSourceTest, ANewColumnAppearsInAfter) {
  Sql("CREATE TABLE evolving (id int PRIMARY KEY, name text)");
  auto source = Source("evolving", "t_new_column", false);
  ASSERT_TRUE(source->Open({}).ok());
  Sql("INSERT INTO evolving VALUES (1, 'a')");
  Sql("ALTER TABLE evolving ADD COLUMN score int");
  Sql("INSERT INTO evolving VALUES (2, 'b', 7)");
  Sql("UPDATE evolving SET score = 3 WHERE id = 1");
  SourceOffsets offsets;
  auto events = ReadEvents(source.get(), 3, &offsets);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_FALSE(events[0]["after"].contains("score"));
  EXPECT_EQ(events[1]["after"]["score"], 7);
  EXPECT_EQ(events[2]["after"]["score"], 3);
  EXPECT_EQ(events[2]["after"]["name"], "a");
}

TEST_F(PostgresSourceTest, SnapshotThenStreamingWithoutGap) {
  Sql("CREATE TABLE snap (id int PRIMARY KEY, v text); "
      "INSERT INTO snap SELECT i, 'v' || i FROM generate_series(1, 5) i");
  auto source = Source("public.snap", "t_snapshot", true);
  ASSERT_TRUE(source->Open({}).ok());
  // Changes after the slot exists but before the snapshot is read: replayed afterwards.
  Sql("INSERT INTO snap VALUES (6, 'v6')");
  Sql("UPDATE snap SET v = 'changed' WHERE id = 1");
  Sql("DELETE FROM snap WHERE id = 2");
  std::map<int, std::string> table;  // the state the events build, applied by position
  std::vector<std::string> ops;
  bool snapshot_seen_running = false;
  SourceOffsets offsets;
  for (int i = 0; i < 20; ++i) {
    auto batch = source->Read(2, 200ms);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    EXPECT_LE(batch->events.size(), 2u);
    if (batch->offsets.count("snapshot")) snapshot_seen_running = true;
    offsets = batch->offsets;
    for (const auto& text : batch->events) {
      Json e = Json::parse(text);
      ops.push_back(e["op"]);
      if (e["op"] == "r") {
        EXPECT_EQ(e["source"]["lsn"], 0);
      }
      if (e["op"] == "d") {
        table.erase(e["before"]["id"].get<int>());
      } else {
        table[e["after"]["id"].get<int>()] = e["after"]["v"];
      }
    }
    if (batch->events.empty() && !offsets.count("snapshot")) break;
  }
  EXPECT_TRUE(snapshot_seen_running);
  EXPECT_FALSE(offsets.count("snapshot"));
  ASSERT_GE(ops.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(ops[i], "r") << i;  // snapshot rows first
  std::map<int, std::string> expected = {
      {1, "changed"}, {3, "v3"}, {4, "v4"}, {5, "v5"}, {6, "v6"}};
  EXPECT_EQ(table, expected);
  // Later changes stream.
  Sql("INSERT INTO snap VALUES (7, 'v7')");
  auto events = ReadEvents(source.get(), 1, &offsets);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["op"], "c");
  EXPECT_EQ(events[0]["after"]["id"], 7);
}

TEST_F(PostgresSourceTest, ReopeningResumesFromTheCommittedPosition) {
  Sql("CREATE TABLE resume (id int PRIMARY KEY)");
  SourceOffsets start, first;
  {
    auto source = Source("resume", "t_resume", false);
    ASSERT_TRUE(source->Open({}).ok());
    auto empty = source->Read(10, 0ms);
    ASSERT_TRUE(empty.ok());
    start = empty->offsets;
    Sql("INSERT INTO resume VALUES (1); INSERT INTO resume VALUES (2)");
    auto events = ReadEvents(source.get(), 2, &first);
    ASSERT_EQ(events.size(), 2u);
    // Not acknowledged: a crash before the commit.
  }
  {  // Re-opened at what was committed before the batch: the batch comes again.
    auto source = Source("resume", "t_resume", false);
    ASSERT_TRUE(source->Open(start).ok());
    SourceOffsets again;
    auto events = ReadEvents(source.get(), 2, &again);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0]["after"]["id"], 1);
    EXPECT_EQ(again, first);
  }
  {  // Committed but not acknowledged (a crash in between): skipped by position.
    Sql("INSERT INTO resume VALUES (3)");
    auto source = Source("resume", "t_resume", false);
    ASSERT_TRUE(source->Open(first).ok());
    SourceOffsets after_three;
    auto events = ReadEvents(source.get(), 1, &after_three);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0]["after"]["id"], 3);
    ASSERT_TRUE(source->Acknowledge(after_three).ok());
    first = after_three;
  }
  std::vector<std::vector<std::string>> rows;
  ASSERT_EQ(server_->Query("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE "
                           "slot_name = 't_resume'",
                           &rows),
            "");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], first.at("lsn"));  // the slot released what was committed
  {                                        // Acknowledged: re-opening does not repeat anything.
    Sql("INSERT INTO resume VALUES (4)");
    auto source = Source("resume", "t_resume", false);
    ASSERT_TRUE(source->Open(first).ok());
    SourceOffsets offsets;
    auto events = ReadEvents(source.get(), 1, &offsets);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0]["after"]["id"], 4);
    auto more = source->Read(10, 200ms);
    ASSERT_TRUE(more.ok());
    EXPECT_TRUE(more->events.empty());
  }
}

TEST_F(PostgresSourceTest, BatchesHoldWholeTransactionsAndReadOnlyOnce) {
  Sql("CREATE TABLE batches (id int PRIMARY KEY)");
  auto source = Source("batches", "t_batches", false);
  ASSERT_TRUE(source->Open({}).ok());
  Sql("INSERT INTO batches SELECT generate_series(1, 3)");  // one transaction of 3
  Sql("INSERT INTO batches VALUES (4)");
  Sql("INSERT INTO batches VALUES (5)");
  std::vector<int> ids;
  for (int i = 0; i < 10 && ids.size() < 5; ++i) {
    auto batch = source->Read(2, 200ms);
    ASSERT_TRUE(batch.ok());
    for (const auto& e : batch->events) ids.push_back(Json::parse(e)["after"]["id"]);
    if (i == 0) {
      EXPECT_EQ(batch->events.size(), 3u);  // a transaction is never split
    }
  }
  EXPECT_EQ(ids, (std::vector<int>{1, 2, 3, 4, 5}));
}

TEST_F(PostgresSourceTest, OtherTablesTrafficReleasesTheSlot) {
  Sql("CREATE TABLE quiet (id int PRIMARY KEY); CREATE TABLE busy (x int)");
  auto source = Source("quiet", "t_quiet", false);
  ASSERT_TRUE(source->Open({}).ok());
  std::vector<std::vector<std::string>> before, after;
  ASSERT_EQ(server_->Query("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE "
                           "slot_name = 't_quiet'",
                           &before),
            "");
  Sql("INSERT INTO busy VALUES (1)");
  auto batch = source->Read(10, 300ms);
  ASSERT_TRUE(batch.ok());
  EXPECT_TRUE(batch->events.empty());
  ASSERT_EQ(server_->Query("SELECT confirmed_flush_lsn > '" + before[0][0] +
                               "'::pg_lsn FROM pg_replication_slots WHERE slot_name = 't_quiet'",
                           &after),
            "");
  EXPECT_EQ(after[0][0], "t");
}

TEST_F(PostgresSourceTest, ClearErrors) {
  auto missing = Source("public.nope", "t_errors", false);
  Status status = missing->Open({});
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_NE(status.message().find("public.nope"), std::string::npos) << status.message();

  Sql("CREATE TABLE keyless (x int)");
  status = Source("keyless", "t_errors", false)->Open({});
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("primary key"), std::string::npos) << status.message();

  spec::CdcSpec spec;
  spec.source = "postgres";
  spec.dsn = server_->Dsn();
  spec.table = "orders";
  auto named = MakePostgresSource(spec, "plexus_Sales-Dept_orders_changes");
  ASSERT_TRUE(named.ok());  // the default slot is made a valid name
  EXPECT_NE((*named)->Describe().find("slot plexus_sales_dept_orders_changes"), std::string::npos)
      << (*named)->Describe();
  spec.slot = "Bad-Slot";
  auto bad_slot = MakePostgresSource(spec, "unused");
  EXPECT_EQ(bad_slot.status().code(), StatusCode::kInvalidArgument);
  spec.slot.clear();
  spec.dsn = "host=127.0.0.1 port=1 user=postgres connect_timeout=2";
  auto unreachable = MakePostgresSource(spec, "t_unreachable");
  ASSERT_TRUE(unreachable.ok());
  status = (*unreachable)->Open({});
  EXPECT_EQ(status.code(), StatusCode::kIOError);
  EXPECT_NE(status.message().find("cannot connect"), std::string::npos) << status.message();
}

TEST(PostgresValuesTest, LsnsNumbersAndTimestamps) {
  using namespace postgres_internal;
  auto lsn = ParseLsn("16/B374D848");
  ASSERT_TRUE(lsn.ok());
  EXPECT_EQ(*lsn, (0x16ULL << 32) | 0xB374D848ULL);
  EXPECT_EQ(FormatLsn(*lsn), "16/B374D848");
  EXPECT_FALSE(ParseLsn("16B374D848").ok());
  EXPECT_FALSE(ParseLsn("1/x").ok());
  EXPECT_EQ(NumberFromText("-42"), -42);
  EXPECT_EQ(NumberFromText("12.50"), 12.5);
  EXPECT_EQ(NumberFromText("99999999999999999999"), "99999999999999999999");  // past int64
  EXPECT_EQ(NumberFromText("1234567890.1234567"), "1234567890.1234567");      // 17 digits
  EXPECT_EQ(NumberFromText("NaN"), nullptr);
  const char* kText = R"({"a":0.1,"b":123456789012345678.5,"c":7})";
  auto parsed = ParseExact(kText, std::strlen(kText));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ((*parsed)["a"], 0.1);
  EXPECT_EQ((*parsed)["b"], "123456789012345678.5");
  EXPECT_EQ((*parsed)["c"], 7);
  EXPECT_EQ(TimestampMillis("2024-01-01 00:00:01.5+00"), 1704067201500);
  EXPECT_EQ(TimestampMillis("nonsense"), 0);
  EXPECT_EQ(Wal2JsonName("my.table"), "my\\.table");
}

TEST(PostgresSourceWalLevelTest, ReplicaWalLevelIsAClearError) {
  std::string error;
  auto server = PgTestServer::Start(&error, "replica");
  ASSERT_TRUE(server) << "PostgreSQL did not start: " << error;
  ASSERT_EQ(server->Sql("CREATE TABLE t (id int PRIMARY KEY)"), "");
  spec::CdcSpec spec;
  spec.source = "postgres";
  spec.dsn = server->Dsn();
  spec.table = "t";
  auto source = MakePostgresSource(spec, "t_replica");
  ASSERT_TRUE(source.ok());
  Status status = (*source)->Open({});
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("wal_level = logical"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace plexus::pipeline
