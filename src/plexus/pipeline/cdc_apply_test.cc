// CdcApplier against a real DuckDB: upserts, deletes, out-of-order events, a stale replay after
// a crash between commit and acknowledge, dead letters per reason, the error-rate pause, a new
// column, the envelope with and without its schema/payload wrapper, compaction; reading ahead;
// and the files source. Processor steps and lookups on change rows: cdc_steps_test.cc.
#include "plexus/pipeline/cdc_apply.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "plexus/pipeline/cdc_apply_fixture.h"
#include "plexus/pipeline/cdc_parse.h"

namespace plexus::pipeline {
namespace {

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
  std::string reasons = DeadLetterReasons();
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

}  // namespace
}  // namespace plexus::pipeline
