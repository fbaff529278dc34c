// CdcApplier against a real DuckDB: upserts, deletes, out-of-order events, a stale replay after
// a crash between commit and acknowledge, dead letters per reason, the error-rate pause, a new
// column, the envelope with and without its schema/payload wrapper; and the files source.
#include "plexus/pipeline/cdc_apply.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

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
    auto db = engine::Database::Open({});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(conn).value();
    ASSERT_TRUE(conn_->Execute("ATTACH " + engine::QuoteLiteral((dir_ / "sales.duckdb").string()) +
                               " AS plx_sales").ok());
    catalog::OutputPortRecord port;
    port.domain = "sales";
    port.product = "orders";
    port.name = "orders";
    port.major = 1;
    port.version = "1.0.0";
    port.contract_version = "1.0.0";
    catalog::ColumnRecord id;
    id.name = "id";
    id.engine_type = "BIGINT";
    id.primary_key = true;
    id.required = true;
    catalog::ColumnRecord name;
    name.name = "name";
    name.engine_type = "VARCHAR";
    name.required = required_name_;
    port.columns = {id, name};
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
