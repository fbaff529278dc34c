// CdcApplier against a real DuckDB: upserts, deletes, out-of-order events, a stale replay after
// a crash between commit and acknowledge, dead letters per reason, the error-rate pause, a new
// column, the envelope with and without its schema/payload wrapper; and the files source.
#include "plexus/pipeline/cdc_apply.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "plexus/pipeline/cdc_parse.h"
#include "plexus/pipeline/cdc_row_steps.h"
#include "plexus/pipeline/cdc_test_port.h"

namespace plexus::pipeline {
namespace {

std::string Event(const std::string& op, int id, const std::string& name, int64_t lsn,
                  bool wrapped = false) {
  std::string row = "{\"id\": " + std::to_string(id) + ", \"name\": \"" + name + "\"}";
  std::string payload = "{\"op\": \"" + op + "\", \"before\": " + (op == "c" ? "null" : row) +
                        ", \"after\": " + (op == "d" ? "null" : row) +
                        ", \"source\": {\"lsn\": " + std::to_string(lsn) +
                        "}, \"ts_ms\": 1700000000000}";
  if (!wrapped) return payload;
  return "{\"schema\": {\"type\": \"struct\"}, \"payload\": " + payload + "}";
}

class CdcApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cdc_apply_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Reopen();
  }
  void TearDown() override {
    applier_.reset();
    conn_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  /// A fresh engine on the same data file (a restart).
  void Reopen() {
    applier_.reset();
    conn_.reset();
    db_.reset();
    engine::DatabaseOptions options;
    options.vacuum = false;  // as OpenRunEngine: the applier compacts
    auto db = engine::Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(conn).value();
    ASSERT_TRUE(conn_->Execute("ATTACH " + engine::QuoteLiteral((dir_ / "sales.duckdb").string()) +
                               " AS plx_sales").ok());
    if (!plain_applier_) return;
    auto port = internal::OrdersPort(
        {{"id", "BIGINT", true, true}, {"name", "VARCHAR", false, required_name_}});
    auto applier = CdcApplier::Open(conn_.get(), "sales", "orders", "changes", spec_, {port});
    ASSERT_TRUE(applier.ok()) << applier.status().ToString();
    applier_ = std::move(applier).value();
  }

  ApplyReport Apply(const std::vector<std::string>& events, const SourceOffsets& offsets = {}) {
    auto report = applier_->Apply(events, offsets);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : ApplyReport{};
  }

  /// The table as "id:name" lines, by id.
  std::string Rows(const std::string& columns = "id || ':' || coalesce(name, 'NULL')") {
    auto result = conn_->Query("SELECT string_agg(" + columns +
                               ", ',' ORDER BY id) FROM plx_sales.main.orders__orders__v1");
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    auto chunk = (*result)->Fetch();
    return (*chunk)->Text(0, 0);
  }

  std::string Scalar(const std::string& sql) {
    auto v = conn_->QueryScalar(sql);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : "";
  }

  std::filesystem::path dir_;
  spec::CdcSpec spec_;
  bool required_name_ = false;
  bool plain_applier_ = true;  ///< Reopen opens the applier of the (id, name) port
  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> conn_;
  std::unique_ptr<CdcApplier> applier_;
};

TEST_F(CdcApplyTest, UpsertsAndDeletesByKey) {
  ApplyReport r = Apply({Event("c", 1, "a", 10), Event("c", 2, "b", 11), Event("c", 3, "c", 12)});
  EXPECT_EQ(r.events, 3);
  EXPECT_EQ(r.upserted, 3);
  EXPECT_EQ(Rows(), "1:a,2:b,3:c");
  r = Apply({Event("u", 2, "b2", 13), Event("d", 3, "", 14), Event("u", 2, "b3", 15)});
  EXPECT_EQ(r.upserted, 1);
  EXPECT_EQ(r.deleted, 1);
  EXPECT_EQ(Rows(), "1:a,2:b3");
  // op r (snapshot) is an upsert too; a re-insert after a delete comes back.
  Apply({Event("r", 3, "again", 16), Event("r", 1, "snap", 17)});
  EXPECT_EQ(Rows(), "1:snap,2:b3,3:again");
}

TEST_F(CdcApplyTest, OutOfOrderEventsResolveByPosition) {
  // Within a batch: the later position wins whatever the arrival order.
  Apply({Event("u", 1, "new", 20), Event("c", 1, "old", 10)});
  EXPECT_EQ(Rows(), "1:new");
  // Across batches: an older update is stale, and never resurrects a deleted row.
  Apply({Event("d", 1, "", 30)});
  ApplyReport r = Apply({Event("u", 1, "late", 25)});
  EXPECT_EQ(r.stale, 1);
  EXPECT_EQ(Rows(), "");
  // The lsn as PostgreSQL writes it (hi/lo hex) orders too.
  std::string a = R"({"op":"c","after":{"id":7,"name":"x"},"source":{"lsn":"0/16B3748"}})";
  std::string b = R"({"op":"u","after":{"id":7,"name":"y"},"source":{"lsn":"1/0000001"}})";
  Apply({b, a});
  EXPECT_EQ(Rows(), "7:y");
}

TEST_F(CdcApplyTest, StaleReplayAfterCrashBetweenCommitAndAcknowledge) {
  std::vector<std::string> batch = {Event("c", 1, "a", 1), Event("u", 1, "b", 2),
                                    Event("c", 2, "x", 3), Event("d", 2, "", 4)};
  Apply(batch, {{"file", "a.ndjson:100"}});
  Reopen();  // the source was never acknowledged: it hands the same events again
  auto committed = applier_->Committed();
  ASSERT_TRUE(committed.ok());
  EXPECT_EQ(committed->at("file"), "a.ndjson:100");
  ApplyReport r = Apply(batch, {{"file", "a.ndjson:100"}});
  EXPECT_EQ(Rows(), "1:b");
  EXPECT_EQ(Scalar("SELECT count(*) FROM plx_sales.main.orders__orders__v1"), "1");
  (void)r;
}

TEST_F(CdcApplyTest, WrapperWithAndWithoutSchema) {
  Apply({Event("c", 1, "plain", 1), Event("c", 2, "wrapped", 2, true)});
  EXPECT_EQ(Rows(), "1:plain,2:wrapped");
}

TEST_F(CdcApplyTest, DeadLettersPerReason) {
  spec_.max_error_rate = 1.0;  // never pause here
  required_name_ = true;
  Reopen();
  std::vector<std::string> events = {
      Event("c", 1, "good", 1),
      "{not json",
      R"({"op":"x","after":{"id":2,"name":"n"},"ts_ms":5})",
      R"({"op":"c","after":{"name":"nokey"},"ts_ms":5})",
      R"({"op":"c","after":{"id":"abc","name":"n"},"ts_ms":5})",
      R"({"op":"c","after":{"id":3,"name":null},"ts_ms":5})",
      R"({"op":"c","after":{"id":4,"name":"n"}})",
  };
  ApplyReport r = Apply(events);
  EXPECT_EQ(r.dead_lettered, 6);
  EXPECT_EQ(r.upserted, 1);
  EXPECT_EQ(Rows(), "1:good");
  std::string reasons = Scalar(
      "SELECT string_agg(reason, ' | ' ORDER BY reason) FROM "
      "plx_sales.main.orders__changes__dead_letters");
  EXPECT_NE(reasons.find("malformed JSON"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("unknown op: x"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("missing key: id"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("type mismatch: column id ('abc' is not BIGINT)"), std::string::npos)
      << reasons;
  EXPECT_NE(reasons.find("required column NULL: name"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("no position"), std::string::npos) << reasons;
  EXPECT_EQ(Scalar("SELECT source_position FROM plx_sales.main.orders__changes__dead_letters "
                   "WHERE reason LIKE 'unknown op%'"),
            "5");
}

TEST_F(CdcApplyTest, AnLsnBeyondABigintIsADeadLetterNotAFailedBatch) {
  spec_.max_error_rate = 1.0;
  Reopen();
  ApplyReport r = Apply({
      R"({"op":"c","after":{"id":1,"name":"kept"},"source":{"lsn":"16/B374D848"}})",
      R"({"op":"c","after":{"id":2,"name":"lost"},"source":{"lsn":"FFFFFFFF/FFFFFFFF"}})",
  });
  EXPECT_EQ(r.upserted, 1);
  EXPECT_EQ(r.dead_lettered, 1);
  EXPECT_EQ(Rows(), "1:kept");
  EXPECT_EQ(Scalar("SELECT reason FROM plx_sales.main.orders__changes__dead_letters"),
            "no position (source.lsn, source.pos or ts_ms)");
}

TEST_F(CdcApplyTest, ErrorRatePausesAndAppliesNothing) {
  spec_.max_error_rate = 0.1;
  Reopen();
  Apply({Event("c", 1, "kept", 1)}, {{"file", "a:1"}});
  ApplyReport r = Apply({Event("u", 1, "lost", 2), "garbage", "more garbage"}, {{"file", "a:9"}});
  EXPECT_TRUE(r.paused);
  EXPECT_NE(r.pause_reason.find("2 of 3 events"), std::string::npos) << r.pause_reason;
  EXPECT_EQ(Rows(), "1:kept");
  EXPECT_EQ(applier_->Committed()->at("file"), "a:1");
  EXPECT_EQ(Scalar("SELECT count(*) FROM plx_sales.main.orders__changes__dead_letters"), "0");
}

TEST_F(CdcApplyTest, NewColumnIsAddedAndProposed) {
  Apply({Event("c", 1, "a", 1)});
  ApplyReport r = Apply({R"({"op":"c","after":{"id":2,"name":"b","vip":true},"ts_ms":2})"});
  ASSERT_EQ(r.new_columns.size(), 1u);
  EXPECT_EQ(r.new_columns[0], "vip BOOLEAN");
  ASSERT_EQ(applier_->added_columns().size(), 1u);
  EXPECT_EQ(Rows("id || ':' || coalesce(vip::VARCHAR, 'NULL')"), "1:NULL,2:true");
  EXPECT_EQ(ProposedVersion(applier_->ports()[0]), "1.1.0");
  // The next batch knows the column.
  r = Apply({R"({"op":"u","after":{"id":1,"name":"a","vip":false},"ts_ms":3})"});
  EXPECT_TRUE(r.new_columns.empty());
  EXPECT_EQ(Rows("id || ':' || coalesce(vip::VARCHAR, 'NULL')"), "1:false,2:true");
}

TEST_F(CdcApplyTest, NewColumnIgnoredOrPaused) {
  spec_.new_columns = "ignore";
  Reopen();
  Apply({R"({"op":"c","after":{"id":2,"name":"b","vip":true},"ts_ms":2})"});
  EXPECT_EQ(Rows(), "2:b");
  EXPECT_EQ(Scalar("SELECT count(*) FROM duckdb_columns() WHERE table_name = "
                   "'orders__orders__v1' AND column_name = 'vip'"),
            "0");
  spec_.new_columns = "pause";
  Reopen();
  ApplyReport r = Apply({R"({"op":"u","after":{"id":2,"name":"c","vip":true},"ts_ms":3})"});
  EXPECT_TRUE(r.paused);
  EXPECT_NE(r.pause_reason.find("vip"), std::string::npos);
  EXPECT_EQ(Rows(), "2:b");
}

TEST_F(CdcApplyTest, ResetEmptiesTableKeysAndOffsets) {
  Apply({Event("c", 1, "a", 5)}, {{"file", "a:1"}});
  ASSERT_TRUE(applier_->Reset().ok());
  EXPECT_EQ(Rows(), "");
  EXPECT_TRUE(applier_->Committed()->empty());
  Apply({Event("c", 1, "again", 1)});  // an older position is no longer stale
  EXPECT_EQ(Rows(), "1:again");
}

// Updates and deletes leave deleted rows behind (DuckDB's vacuum is off, as in plexus run):
// once they are more than compactAt of a table's stored rows, the applier rewrites it without
// them, on the fast path and the SQL path alike, and the rows stay exactly the live ones.
TEST_F(CdcApplyTest, DeletedRowsAreCompactedAwayAndTheLiveRowsStay) {
  for (bool fast : {true, false}) {
    SCOPED_TRACE(fast ? "fast path" : "SQL path");
    internal::SetFastPathEnabled(fast);
    ASSERT_TRUE(applier_->Reset().ok());
    ASSERT_TRUE(conn_->Execute("CHECKPOINT plx_sales").ok());
    auto stored = [&](const std::string& table) {
      EXPECT_TRUE(conn_->Execute("CHECKPOINT plx_sales").ok());  // drops wholly deleted groups
      return Scalar("SELECT estimated_size FROM duckdb_tables() WHERE database_name = "
                    "'plx_sales' AND table_name = '" + table + "'");
    };
    std::vector<std::string> batch;
    std::string expected;
    for (int id = 1; id <= 3000; id++) batch.push_back(Event("c", id, "a", id));
    EXPECT_EQ(Apply(batch).compacted, 0);
    batch.clear();
    for (int id = 1; id <= 3000; id++) batch.push_back(Event("u", id, "b", 10000 + id));
    // 3,000 deleted of 6,000 stored: not more than half.
    EXPECT_EQ(Apply(batch).compacted, 0);
    batch.clear();
    for (int id = 1; id <= 1000; id++) batch.push_back(Event("d", id, "", 20000 + id));
    // The table: 4,000 deleted of 6,000; the key state: 4,000 of 7,000. Both rewritten.
    ApplyReport r = Apply(batch);
    EXPECT_EQ(r.deleted, 1000);
    EXPECT_EQ(r.compacted, 8000);
    EXPECT_EQ(stored("orders__orders__v1"), "2000");
    EXPECT_EQ(stored("orders__orders__v1__cdc_keys"), "3000");
    EXPECT_EQ(Scalar("SELECT count(*) || ' ' || min(id) || ' ' || max(id) || ' ' || "
                     "count(*) FILTER (WHERE name = 'b') FROM plx_sales.main.orders__orders__v1"),
              "2000 1001 3000 2000");
    // The key state kept the deletes: an older event for a deleted key is still stale.
    EXPECT_EQ(Apply({Event("u", 5, "late", 15)}).stale, 1);
    // A restart counts the live rows again; the compacted tables go on as before.
    Reopen();
    for (int round = 0; round < 2; round++) {
      batch.clear();
      for (int id = 1001; id <= 3000; id++) {
        batch.push_back(Event("u", id, "c" + std::to_string(round), 30000 + 10000 * round + id));
      }
      r = Apply(batch);
      EXPECT_EQ(r.upserted, 2000);
      // The table: 2,000 deleted of 4,000, then 4,000 of 6,000; the key state: 2,000 of
      // 5,000, then 4,000 of 7,000.
      EXPECT_EQ(r.compacted, round == 0 ? 0 : 8000);
    }
    EXPECT_EQ(stored("orders__orders__v1"), "2000");
    EXPECT_EQ(Scalar("SELECT count(*) FILTER (WHERE name = 'c1') FROM "
                     "plx_sales.main.orders__orders__v1"),
              "2000");
  }
  internal::SetFastPathEnabled(true);
}

// A catch-up reads and parses batch N+1 while batch N is applied (CdcReadAhead).
class CdcReadAheadTest : public CdcApplyTest {
 protected:
  /// A files source over `lines` (one file), open at its start.
  std::unique_ptr<ChangeSource> Source(const std::vector<std::string>& lines) {
    std::filesystem::create_directories(dir_ / "changes");
    std::ofstream out(dir_ / "changes" / "001.ndjson");
    for (const auto& line : lines) out << line << "\n";
    out.close();
    spec::CdcSpec spec;
    spec.source = "files";
    spec.folder = "changes";
    auto source = MakeFileSource(spec, dir_.string());
    EXPECT_TRUE(source.ok());
    EXPECT_TRUE((*source)->Open({}).ok());
    return std::move(source).value();
  }
};

std::string VipEvent(const std::string& op, int id, const std::string& name, const char* vip,
                     int64_t lsn) {
  return "{\"op\": \"" + op + "\", \"after\": {\"id\": " + std::to_string(id) +
         ", \"name\": \"" + name + "\", \"vip\": " + vip + "}, \"source\": {\"lsn\": " +
         std::to_string(lsn) + "}}";
}

TEST_F(CdcReadAheadTest, ACatchUpAppliesEveryBatchInOrderThroughANewColumn) {
  std::vector<std::string> lines = {
      Event("c", 1, "a", 1), Event("c", 2, "b", 2), Event("c", 3, "c", 3),
      // The source adds a column: its batch takes the SQL path, which adds it to the table,
      // while the next batch is already parsed for the columns the table had before.
      VipEvent("u", 1, "a2", "true", 4), VipEvent("c", 4, "d", "false", 5), Event("d", 2, "", 6),
      Event("u", 1, "a3", 7), Event("c", 5, "e", 8), Event("u", 3, "c2", 9),
      Event("u", 4, "older", 2), Event("d", 5, "", 10), Event("c", 6, "f", 11)};
  auto source = Source(lines);
  int64_t fast_before = internal::FastBatchesTaken();
  CdcReadAhead reader(source.get(), applier_.get(), 3);
  ApplyReport total;
  for (int batches = 0;; batches++) {
    ASSERT_LT(batches, 10);
    auto batch = reader.Next(std::chrono::milliseconds(0), true);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    if (batch->events.empty()) break;
    auto report = reader.Apply(*batch);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    ASSERT_FALSE(report->paused) << report->pause_reason;
    total.events += report->events;
    total.stale += report->stale;
    reader.Settle();
    ASSERT_TRUE(source->Acknowledge(batch->offsets).ok());
  }
  EXPECT_EQ(total.events, 12);
  EXPECT_EQ(total.stale, 1);  // 4 at position 2 is older than its insert at 5
  EXPECT_EQ(Rows("id || ':' || name || ':' || coalesce(vip::VARCHAR, 'NULL')"),
            "1:a3:NULL,3:c2:NULL,4:d:false,6:f:NULL");
  EXPECT_EQ(applier_->added_columns().size(), 0u);  // added by the second batch, not the last
  EXPECT_GE(internal::FastBatchesTaken() - fast_before, 3);
  EXPECT_EQ(Scalar("SELECT count(*) FROM plx_sales.main.orders__orders__v1__cdc_keys"), "6");
}

TEST_F(CdcReadAheadTest, ABatchNotAppliedIsReadAgainNotTheOneReadAhead) {
  spec_.max_error_rate = 0.1;
  Reopen();
  auto source = Source({Event("c", 1, "a", 1), Event("c", 2, "b", 2), Event("u", 1, "lost", 3),
                        "garbage", Event("c", 3, "c", 4), Event("c", 4, "d", 5)});
  CdcReadAhead reader(source.get(), applier_.get(), 2);
  auto first = reader.Next(std::chrono::milliseconds(0), true);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(reader.Apply(*first).ok());
  auto bad = reader.Next(std::chrono::milliseconds(0), true);  // the third batch is read ahead
  ASSERT_TRUE(bad.ok());
  auto report = reader.Apply(*bad);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->paused);
  ASSERT_TRUE(reader.Rewind(first->offsets).ok());
  auto again = reader.Next(std::chrono::milliseconds(0), true);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->events, bad->events);
  EXPECT_EQ(again->offsets, bad->offsets);
  EXPECT_EQ(Rows(), "1:a,2:b");
}

TEST(CdcFileSourceTest, ReadsCompleteLinesInNameOrder) {
  auto dir = std::filesystem::temp_directory_path() / ("cdc_files_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "changes");
  spec::CdcSpec spec;
  spec.source = "files";
  spec.folder = "changes";
  auto source = MakeFileSource(spec, dir.string());
  ASSERT_TRUE(source.ok());
  ASSERT_TRUE((*source)->Open({}).ok());
  auto batch = (*source)->Read(10, std::chrono::milliseconds(0));
  ASSERT_TRUE(batch.ok());
  EXPECT_TRUE(batch->events.empty());
  { std::ofstream(dir / "changes" / "002.ndjson") << "b1\nb2\npart"; }
  { std::ofstream(dir / "changes" / "001.ndjson") << "a1\n\na2\n"; }
  { std::ofstream(dir / "changes" / "000.txt") << "ignored\n"; }
  batch = (*source)->Read(3, std::chrono::milliseconds(0));
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->events, (std::vector<std::string>{"a1", "a2", "b1"}));
  EXPECT_EQ(batch->offsets.at("file"), "002.ndjson:3");
  batch = (*source)->Read(10, std::chrono::milliseconds(0));
  EXPECT_EQ(batch->events, (std::vector<std::string>{"b2"}));  // "part" waits for its newline
  { std::ofstream(dir / "changes" / "002.ndjson", std::ios::app) << "ial\n"; }
  batch = (*source)->Read(10, std::chrono::milliseconds(0));
  EXPECT_EQ(batch->events, (std::vector<std::string>{"partial"}));
  // A restart at the committed offset reads only what follows.
  { std::ofstream(dir / "changes" / "003.ndjson") << "c1\n"; }
  auto again = MakeFileSource(spec, dir.string());
  ASSERT_TRUE((*again)->Open({{"file", "002.ndjson:6"}}).ok());
  batch = (*again)->Read(10, std::chrono::milliseconds(0));
  EXPECT_EQ(batch->events, (std::vector<std::string>{"partial", "c1"}));
  EXPECT_EQ(batch->offsets.at("file"), "003.ndjson:3");
  // A damaged committed offset is an error naming the source, not a crash.
  for (const char* bad : {"002.ndjson", "002.ndjson:x", "002.ndjson:6x", "002.ndjson:"}) {
    Status opened = (*again)->Open({{"file", bad}});
    EXPECT_EQ(opened.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(opened.message().find("files "), std::string::npos) << opened.message();
  }
  std::filesystem::remove_all(dir);
}

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
  std::string reasons = Scalar(
      "SELECT string_agg(reason, ' | ' ORDER BY reason) FROM "
      "plx_sales.main.orders__changes__dead_letters");
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
