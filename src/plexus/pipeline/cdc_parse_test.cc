// The CDC fast path (cdc_parse.h): the parser takes only events it can prove good and type
// exactly, and then the applier stores what the SQL path (json_transform) stores. The
// differential tests apply the same batches with the fast path on and off, into two data
// files, and compare the tables, the key state, the dead letters and the reports.
#include "plexus/pipeline/cdc_parse.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "plexus/pipeline/cdc_apply.h"
#include "plexus/pipeline/cdc_test_port.h"

namespace plexus::pipeline::internal {
namespace {

std::vector<ChangeColumn> Columns() {
  return {{"id", "BIGINT", true, true},    {"i", "INTEGER", false, false},
          {"s", "SMALLINT", false, false}, {"t", "TINYINT", false, false},
          {"d", "DOUBLE", false, false},   {"b", "BOOLEAN", false, false},
          {"v", "VARCHAR", false, false},  {"r", "VARCHAR", false, true}};
}

/// Parses one event; nullopt when the parser refuses it.
std::optional<ParsedChanges> ParseOne(const std::string& line) {
  ParsedChanges out(Columns());
  EnvelopeParser parser(Columns());
  if (!parser.Parse(line, out)) return std::nullopt;
  return out;
}

TEST(CdcParseTest, BothEnvelopeFormsGiveTheSameChange) {
  std::string payload =
      R"({"op":"u","before":{"id":7},"after":{"id":7,"i":-5,"d":2.5,"b":true,"v":"x","r":"y"},)"
      R"("source":{"lsn":"0/16B3748","table":"t"},"ts_ms":1700000000123})";
  for (const std::string& line :
       {payload, R"({"schema":{"type":"struct","fields":[]},"payload":)" + payload + "}"}) {
    auto p = ParseOne(line);
    ASSERT_TRUE(p) << line;
    EXPECT_EQ(p->op[0], 'u');
    EXPECT_EQ(p->position[0], 0x16B3748);
    EXPECT_EQ(p->newest_ts_ms, 1700000000123);
    EXPECT_EQ(p->columns[0].ints[0], 7);
    EXPECT_EQ(p->columns[1].ints[0], -5);
    EXPECT_FALSE(p->columns[2].valid[0]);  // absent: NULL
    EXPECT_EQ(p->columns[4].doubles[0], 2.5);
    EXPECT_EQ(p->columns[5].ints[0], 1);
    EXPECT_EQ(p->columns[6].texts[0], "x");
  }
}

TEST(CdcParseTest, PositionsFollowLsnThenPosThenTsMs) {
  auto lsn = ParseOne(R"({"op":"c","after":{"id":1,"r":"a"},"source":{"lsn":"2/A"},"ts_ms":9})");
  ASSERT_TRUE(lsn);
  EXPECT_EQ(lsn->position[0], (int64_t{2} << 32) + 10);
  auto pos = ParseOne(R"({"op":"c","after":{"id":1,"r":"a"},"source":{"pos":"123"},"ts_ms":9})");
  ASSERT_TRUE(pos);
  EXPECT_EQ(pos->position[0], 123);
  auto ts = ParseOne(R"({"op":"c","after":{"id":1,"r":"a"},"source":{"lsn":null},"ts_ms":9})");
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->position[0], 9);
}

TEST(CdcParseTest, UnicodeAndEscapesAreDecoded) {
  auto p = ParseOne(
      R"({"op":"c","after":{"id":1,"v":"na\u00efve \"q\" \\ \/ \t \ud83d\ude00 ü","r":"a"},"ts_ms":1})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->columns[6].texts[0], "na\xc3\xafve \"q\" \\ / \t \xf0\x9f\x98\x80 \xc3\xbc");
}

TEST(CdcParseTest, NumbersAtTheTypesLimits) {
  auto row = [](const std::string& values) {
    return R"({"op":"c","after":{"id":1,"r":"a",)" + values + R"(},"ts_ms":1})";
  };
  auto p = ParseOne(row(R"("i":2147483647,"s":-32768,"t":127,"d":1.7976931348623157e308)"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->columns[1].ints[0], 2147483647);
  EXPECT_EQ(p->columns[2].ints[0], -32768);
  EXPECT_EQ(p->columns[3].ints[0], 127);
  EXPECT_EQ(p->columns[4].doubles[0], 1.7976931348623157e308);
  EXPECT_TRUE(ParseOne(R"({"op":"c","after":{"id":-9223372036854775808,"r":"a"},"ts_ms":1})"));
  // Out of range, or a cast the SQL path decides (rounding, text to number): refused.
  for (const char* values : {R"("i":2147483648)", R"("s":32768)", R"("t":-129)", R"("t":1.5)",
                             R"("i":"12")", R"("d":"1.5")", R"("d":1e400)", R"("b":1)",
                             R"("v":12)", R"("v":{"a":1})", R"("v":"nul\u0000")"}) {
    EXPECT_FALSE(ParseOne(row(values))) << values;
  }
  EXPECT_FALSE(ParseOne(R"({"op":"c","after":{"id":9223372036854775808,"r":"a"},"ts_ms":1})"));
}

TEST(CdcParseTest, EveryDeadLetterReasonIsRefused) {
  for (const char* line : {
           "{not json",                                                   // malformed JSON
           "[1, 2]",                                                      // not an object
           R"({"op":"c","after":5,"ts_ms":1})",                           // envelope shape
           R"({"payload":"x"})",                                          // envelope shape
           R"({"op":"x","after":{"id":1,"r":"a"},"ts_ms":1})",            // unknown op
           R"({"after":{"id":1,"r":"a"},"ts_ms":1})",                     // missing op
           R"({"op":"c","after":{"id":1,"r":"a"}})",                      // no position
           R"({"op":"c","after":{"id":1,"r":"a"},"source":{"lsn":"FFFFFFFF/0"}})",
           R"({"op":"c","after":{"id":1,"r":"a"},"source":{"lsn":"zz"},"ts_ms":1})",
           R"({"op":"c","before":{"id":1},"ts_ms":1})",                   // missing after
           R"({"op":"d","ts_ms":1})",                                     // missing before
           R"({"op":"c","after":{"r":"a"},"ts_ms":1})",                   // missing key
           R"({"op":"c","after":{"id":"abc","r":"a"},"ts_ms":1})",        // type mismatch
           R"({"op":"c","after":{"id":1,"r":null},"ts_ms":1})",           // required NULL
           R"({"op":"c","after":{"id":1},"ts_ms":1})",                    // required NULL
       }) {
    EXPECT_FALSE(ParseOne(line)) << line;
  }
}

TEST(CdcParseTest, ShapesTheSqlPathMightReadOtherwiseAreRefused) {
  for (const char* line : {
           R"({"op":"c","op":"u","after":{"id":1,"r":"a"},"ts_ms":1})",    // duplicate field
           R"({"op":"c","after":{"id":1,"id":2,"r":"a"},"ts_ms":1})",      // duplicate column
           R"({"op":"c","after":{"id":1,"R":"a","r":"a"},"ts_ms":1})",     // case variant
           R"({"OP":"c","op":"c","after":{"id":1,"r":"a"},"ts_ms":1})",    // case variant
           R"({"op":"c","after":{"id":1,"r":"a","vip":true},"ts_ms":1})",  // a new column
           R"({"payload":{"op":"c","after":{"id":1,"r":"a"},"ts_ms":1},"op":"c"})",
           R"({"op":"c","after":{"id":1,"r":"a"},"ts_ms":1.5})",
       }) {
    EXPECT_FALSE(ParseOne(line)) << line;
  }
}

TEST(CdcParseTest, DeletesReadOnlyTheKeyOfBeforeElseAfter) {
  auto p = ParseOne(R"({"op":"d","before":{"id":4,"i":"not read","extra":1},"after":null,"ts_ms":2})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->op[0], 'd');
  EXPECT_EQ(p->columns[0].ints[0], 4);
  EXPECT_FALSE(p->columns[1].valid[0]);
  auto from_after = ParseOne(R"({"op":"d","before":null,"after":{"id":5,"r":"a"},"ts_ms":2})");
  ASSERT_TRUE(from_after);
  EXPECT_EQ(from_after->columns[0].ints[0], 5);
  EXPECT_FALSE(ParseOne(R"({"op":"d","before":{"i":1},"ts_ms":2})"));  // no key
}

TEST(CdcParseTest, LatestPerKeyByPositionThenArrivalInKeyOrder) {
  std::vector<ChangeColumn> cols = {{"k", "VARCHAR", true, true}, {"n", "INTEGER", true, true}};
  ParsedChanges batch(cols);
  EnvelopeParser parser(cols);
  for (const char* line : {
           R"({"op":"c","after":{"k":"b","n":1},"ts_ms":5})",  // 0
           R"({"op":"u","after":{"k":"b","n":1},"ts_ms":3})",  // 1: older
           R"({"op":"c","after":{"k":"a","n":2},"ts_ms":1})",  // 2
           R"({"op":"u","after":{"k":"a","n":2},"ts_ms":1})",  // 3: same position, later
           R"({"op":"c","after":{"k":"a","n":1},"ts_ms":1})",  // 4
       }) {
    ASSERT_TRUE(parser.Parse(line, batch)) << line;
  }
  EXPECT_EQ(LatestPerKey(batch), (std::vector<uint32_t>{4, 3, 0}));
}

TEST(CdcParseTest, TheAppenderOfAnAttachedTableWritesInTheOpenTransaction) {
  auto dir = std::filesystem::temp_directory_path() /
             ("cdc_parse_appender_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto db = engine::Database::Open({}).value();
  auto conn = db->Connect().value();
  ASSERT_TRUE(conn->Execute("ATTACH " + engine::QuoteLiteral((dir / "d.duckdb").string()) +
                            " AS plx_d; CREATE TABLE plx_d.main.t (a INTEGER, b SMALLINT, "
                            "c TINYINT)").ok());
  using T = engine::ChunkAppender::Type;
  auto append = [&](int rows) {
    auto appender = conn->MakeChunkAppender("plx_d", "main", "t",
                                            {T::kInteger, T::kSmallint, T::kTinyint});
    ASSERT_TRUE(appender.ok()) << appender.status().ToString();
    for (int i = 0; i < rows; i++) {
      (*appender)->SetInt32(0, -2147483647 - 1 + i);
      (*appender)->SetInt16(1, static_cast<int16_t>(32767 - i));
      if (i % 2) (*appender)->SetNull(2); else (*appender)->SetInt8(2, -128);
      ASSERT_TRUE((*appender)->EndRow().ok());
    }
    ASSERT_TRUE((*appender)->Close().ok());
  };
  ASSERT_TRUE(conn->Execute("BEGIN TRANSACTION").ok());
  append(3000);
  ASSERT_TRUE(conn->Execute("ROLLBACK").ok());
  EXPECT_EQ(conn->QueryScalar("SELECT count(*) FROM plx_d.main.t").value(), "0");
  ASSERT_TRUE(conn->Execute("BEGIN TRANSACTION").ok());
  append(3000);
  ASSERT_TRUE(conn->Execute("COMMIT").ok());
  EXPECT_EQ(conn->QueryScalar("SELECT min(a) || ' ' || max(b) || ' ' || count(c) || ' ' || "
                              "min(c) FROM plx_d.main.t").value(),
            "-2147483648 32767 1500 -128");
  conn.reset();
  db.reset();
  std::filesystem::remove_all(dir);
}

/// Applies batches through CdcApplier with the fast path on or off; the state as text.
class CdcFastPathTest : public ::testing::Test {
 protected:
  void TearDown() override { SetFastPathEnabled(true); }

  std::string Run(const std::vector<std::vector<std::string>>& batches, bool fast,
                  int64_t* taken = nullptr) {
    SetFastPathEnabled(fast);
    auto dir = std::filesystem::temp_directory_path() /
               ("cdc_parse_test_" + std::to_string(::getpid()) + (fast ? "_fast" : "_sql"));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto db = engine::Database::Open({}).value();
    auto conn = db->Connect().value();
    EXPECT_TRUE(conn->Execute("ATTACH " + engine::QuoteLiteral((dir / "d.duckdb").string()) +
                              " AS plx_sales").ok());
    catalog::OutputPortRecord port = OrdersPort(columns_);
    spec::CdcSpec spec;
    spec.max_error_rate = 1.0;
    auto applier = CdcApplier::Open(conn.get(), "sales", "orders", "changes", spec, {port});
    EXPECT_TRUE(applier.ok()) << applier.status().ToString();
    int64_t before = FastBatchesTaken();
    std::string out;
    for (const auto& batch : batches) {
      auto r = (*applier)->Apply(batch, {{"file", "f:" + std::to_string(out.size())}});
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) continue;
      out += "report " + std::to_string(r->events) + " " + std::to_string(r->upserted) + " " +
             std::to_string(r->deleted) + " " + std::to_string(r->stale) + " " +
             std::to_string(r->dead_lettered) + " " + std::to_string(r->newest_event_ms) + "\n";
    }
    if (taken) *taken = FastBatchesTaken() - before;
    for (const char* sql :
         {"SELECT * FROM plx_sales.main.orders__orders__v1 ORDER BY ALL",
          "SELECT * FROM plx_sales.main.orders__orders__v1__cdc_keys ORDER BY ALL",
          "SELECT source_position, reason, event FROM "
          "plx_sales.main.orders__changes__dead_letters ORDER BY ALL",
          "SELECT * FROM plx_sales.main.plexus_cdc_offsets ORDER BY ALL"}) {
      auto result = conn->Query(sql).value();
      while (auto chunk = result->Fetch().value()) {
        for (size_t r = 0; r < chunk->size(); r++) {
          for (size_t c = 0; c < chunk->column_count(); c++) {
            out += (chunk->IsNull(c, r) ? "NULL" : chunk->Text(c, r)) + "|";
          }
          out += "\n";
        }
      }
      out += "--\n";
    }
    applier->reset();
    std::filesystem::remove_all(dir);
    return out;
  }

  /// Both paths give the same state; returns how many batches the fast path took.
  int64_t ExpectSame(const std::vector<std::vector<std::string>>& batches) {
    int64_t taken = 0;
    std::string sql = Run(batches, false), fast = Run(batches, true, &taken);
    EXPECT_EQ(sql, fast);
    return taken;
  }

  std::vector<ChangeColumn> columns_ = Columns();  ///< the port's
};

std::string Row(const std::string& op, const std::string& image, const std::string& position) {
  std::string key = op == "d" ? "before" : "after";
  return R"({"op":")" + op + R"(",")" + key + R"(":)" + image + R"(,"source":)" + position +
         R"(,"ts_ms":1700000000000})";
}

TEST_F(CdcFastPathTest, GoodBatchesStoreWhatTheSqlPathStores) {
  std::vector<std::vector<std::string>> batches = {
      {
          Row("c", R"({"id":1,"i":2147483647,"s":-32768,"t":127,"d":0.1,"b":true,"v":"na\u00efve \"q\"","r":"x"})", R"({"lsn":"0/16B3748"})"),
          Row("c", R"({"id":2,"d":1e308,"v":"\ud83d\ude00","r":"y"})", R"({"lsn":"0/16B3749"})"),
          Row("c", R"({"id":3,"d":-0.0,"r":"z"})", R"({"lsn":"1/0"})"),
          Row("c", R"({"id":8,"d":12345678901234567,"r":"z"})", R"({"lsn":"1/1"})"),
          Row("c", R"({"id":9,"d":0.30000000000000004,"r":"z"})", R"({"lsn":"1/2"})"),
          Row("c", R"({"id":10,"d":5e-324,"r":"z"})", R"({"lsn":"1/3"})"),
          Row("c", R"({"id":11,"d":123456789.123456789,"r":"z"})", R"({"lsn":"1/4"})"),
          R"({"schema":{"type":"struct"},"payload":{"op":"c","after":{"id":4,"b":false,"r":"w"},"source":{"pos":"77"},"ts_ms":1700000000001}})",
          R"({"op":"r","after":{"id":5,"r":"snap"},"ts_ms":17})",
          Row("u", R"({"id":1,"i":1,"r":"old"})", R"({"lsn":"0/1"})"),  // older: loses
          Row("d", R"({"id":3,"extra":1})", R"({"lsn":"1/5"})"),
          Row("d", R"({"id":6})", R"({"lsn":"1/6"})"),  // never seen: a tombstone
          R"({"op":"d","before":null,"after":{"id":2,"r":"y"},"source":{"lsn":"1/7"},"ts_ms":1})",
      },
      {
          Row("u", R"({"id":1,"i":7,"r":"stale"})", R"({"lsn":"0/2"})"),  // older than stored
          Row("c", R"({"id":3,"r":"back"})", R"({"lsn":"1/8"})"),           // after its delete
          Row("c", R"({"id":6,"r":"late"})", R"({"lsn":"1/0"})"),           // before its delete
          Row("u", R"({"id":4,"b":true,"r":"w2"})", R"({"pos":78})"),
          Row("u", R"({"id":4,"b":null,"r":"w3"})", R"({"pos":78})"),       // tie: later wins
      },
  };
  EXPECT_EQ(ExpectSame(batches), 2);
}

TEST_F(CdcFastPathTest, EachTrickyEventAloneEitherMatchesOrFallsBack) {
  std::vector<std::string> tricky = {
      "{not json", R"({"op":"x","after":{"id":1,"r":"a"},"ts_ms":1})",
      R"({"op":"c","after":{"id":1,"t":1.5,"r":"a"},"ts_ms":1})",
      R"({"op":"c","after":{"id":1,"i":"12","r":"a"},"ts_ms":1})",
      R"({"op":"c","after":{"id":1,"i":2147483648,"r":"a"},"ts_ms":1})",
      R"({"op":"c","after":{"id":1,"v":12,"r":"a"},"ts_ms":1})",
      R"({"op":"c","after":{"id":1,"b":"true","r":"a"},"ts_ms":1})",
      R"({"op":"c","after":{"id":1,"r":null},"ts_ms":1})",
      R"({"op":"c","after":{"id":1,"r":"a"},"source":{"lsn":"7FFFFFFF/0"}})",
      R"({"op":"c","after":{"id":1,"r":"a"},"source":{"lsn":"80000000/0"}})",
      R"({"op":"c","after":{"id":1,"r":"a"},"source":{"lsn":-5}})",
      R"({"op":"c","after":{"id":1,"r":"a"},"source":{"pos":"0012"}})",
      R"({"op":"c","after":{"id":1,"r":"a","extra":[1,2]},"ts_ms":1})",
      R"({"op":"d","before":{"id":1,"ID":2},"ts_ms":1})",
      R"({"op":"d","before":{"id":1,"i":"x"},"after":{"id":9},"ts_ms":1})",
      R"({"op":"c","after":{"id":1,"d":-1.5e-7,"r":"a"},"ts_ms":1,"transaction":null})",
      R"({"op":"c","after":{"id":1,"d":-0,"r":"a"},"ts_ms":1})",
      R"({"op":"c","after":{"id":1,"d":1E2,"r":"a"},"ts_ms":1})",
      R"({"op":"c","after":{"id":1,"d":18446744073709551615,"r":"a"},"ts_ms":1})",
      R"({"op":"c","after":{"id":1,"v":"\ud800","r":"a"},"ts_ms":1})",
      R"({"op":"c","after":{"id":1,"v":"tab	here","r":"a"},"ts_ms":1})",
      R"({"op":"u","before":{"id":1},"after":{"id":1,"v":"\u0041\n\\","r":"a"},"ts_ms":-3})",
  };
  int64_t taken = 0;
  for (const auto& line : tricky) {
    taken += ExpectSame({{R"({"op":"c","after":{"id":1,"r":"first"},"ts_ms":0})"}, {line}}) - 1;
  }
  EXPECT_GE(taken, 5);  // the good ones above went the fast way
}

TEST_F(CdcFastPathTest, BatchesTheSqlPathTakesBetweenFastOnesKeepTheKeyStateExact) {
  // The fast batches read the key state from memory: it must follow the SQL path's merges.
  std::vector<std::vector<std::string>> batches = {
      {Row("c", R"({"id":1,"r":"a"})", R"({"lsn":10})"),
       Row("c", R"({"id":2,"r":"b"})", R"({"lsn":11})"),
       Row("c", R"({"id":3,"r":"c"})", R"({"lsn":12})")},
      {"{not json",  // the whole batch takes the SQL path
       Row("d", R"({"id":2})", R"({"lsn":30})"), Row("u", R"({"id":3,"r":"c2"})", R"({"lsn":31})"),
       Row("c", R"({"id":4,"r":"d"})", R"({"lsn":32})")},
      {Row("u", R"({"id":2,"r":"late"})", R"({"lsn":20})"),  // older than its delete: stale
       Row("u", R"({"id":3,"r":"old"})", R"({"lsn":25})"),   // older than c2: stale
       Row("u", R"({"id":4,"r":"d2"})", R"({"lsn":40})"),     // a key the SQL path added
       Row("c", R"({"id":5,"r":"e"})", R"({"lsn":41})")},
      {Row("c", R"({"id":2,"r":"back"})", R"({"lsn":50})"), Row("d", R"({"id":4})", R"({"lsn":51})")},
  };
  EXPECT_EQ(ExpectSame(batches), 3);
}

TEST_F(CdcFastPathTest, TextAndCompositeKeysStoreWhatTheSqlPathStores) {
  columns_ = {{"k", "VARCHAR", true, true}, {"n", "INTEGER", true, true},
              {"v", "VARCHAR", false, false}};
  auto row = [](const std::string& op, const std::string& image, int lsn) {
    return Row(op, image, R"({"lsn":)" + std::to_string(lsn) + "}");
  };
  std::vector<std::vector<std::string>> batches = {
      {row("c", R"({"k":"a","n":1,"v":"x"})", 1), row("c", R"({"k":"a","n":2,"v":"y"})", 2),
       row("c", R"({"k":"b","n":1,"v":"z"})", 3)},
      {row("u", R"({"k":"a","n":1,"v":"x2"})", 4), row("d", R"({"k":"b","n":1})", 5),
       row("u", R"({"k":"a","n":2,"v":"stale"})", 1)},
  };
  EXPECT_EQ(ExpectSame(batches), 2);
}

TEST_F(CdcFastPathTest, PositionsAndKeysBeyondADoubleAreExactOnBothPaths) {
  // 7FFFFFFF/FFFFFFFF is the largest BIGINT position, and keys above 2^53 differ from their
  // neighbours only in a BIGINT: nothing overflows or rounds on either path, nor in the key
  // state the fast path holds in memory after an SQL batch (the second: it has a bad event).
  const std::string odd = "9007199254740993", even = "9007199254740992";
  auto row = [](const std::string& op, const std::string& id, const std::string& r,
                const std::string& lsn) {
    std::string image = R"({"id":)" + id + (r.empty() ? "" : R"(,"r":")" + r + "\"") + "}";
    return Row(op, image, R"({"lsn":")" + lsn + R"("})");
  };
  std::vector<std::vector<std::string>> batches = {
      {row("c", odd, "odd", "0/1"), row("c", even, "even", "7FFFFFFF/FFFFFFF0"),
       row("c", "3", "top", "7FFFFFFF/FFFFFFFF")},
      {"{not json", row("u", odd, "odd2", "7FFFFFFF/FFFFFFFE"),
       row("d", "3", "", "7FFFFFFF/FFFFFFFF")},
      {row("u", odd, "stale", "7FFFFFFF/FFFFFFFD"), row("u", even, "even2", "7FFFFFFF/FFFFFFFF"),
       row("c", "4", "new", "7FFFFFFF/FFFFFFFF")},
      {row("c", "3", "back", "7FFFFFFF/FFFFFFFF")},  // a tie: the later arrival wins
  };
  EXPECT_EQ(ExpectSame(batches), 3);
}

TEST(CdcKeyStateTest, FindsWhatWasSetAcrossMerges) {
  IntKeyState state;
  std::map<int64_t, std::pair<int64_t, bool>> expected;
  std::mt19937_64 rng(3);
  for (int round = 0; round < 40; round++) {
    std::set<int64_t> picked;
    while (picked.size() < 700) picked.insert(static_cast<int64_t>(rng() % 20000) - 10000);
    std::vector<int64_t> keys(picked.begin(), picked.end()), positions;
    std::vector<uint8_t> deleted, skip;
    std::vector<KeyLookup> found = state.Find(keys);
    for (size_t i = 0; i < keys.size(); i++) {
      auto it = expected.find(keys[i]);
      ASSERT_EQ(found[i].known, it != expected.end()) << keys[i];
      if (found[i].known) {
        EXPECT_EQ(found[i].position, it->second.first);
        EXPECT_EQ(found[i].deleted, it->second.second);
      }
      positions.push_back(round * 1000 + static_cast<int64_t>(i));
      deleted.push_back(rng() % 3 == 0);
      skip.push_back(rng() % 5 == 0);
      if (!skip.back()) expected[keys[i]] = {positions.back(), deleted.back() != 0};
    }
    state.Set(keys, found, positions, deleted, skip);
    EXPECT_EQ(state.size(), expected.size());
  }
}

TEST(CdcKeyStateTest, AnotherApplierOfTheSameTableIsSeen) {
  // Two appliers of one table in one process (plexus serve's stream and a scheduled catch-up):
  // what one writes, the other's key state in memory must not hide.
  auto dir = std::filesystem::temp_directory_path() /
             ("cdc_key_state_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto db = engine::Database::Open({}).value();
  auto conn = db->Connect().value();
  ASSERT_TRUE(conn->Execute("ATTACH " + engine::QuoteLiteral((dir / "d.duckdb").string()) +
                            " AS plx_sales").ok());
  auto port = OrdersPort({{"id", "BIGINT", true, true}, {"r", "VARCHAR", false, false}});
  auto first = CdcApplier::Open(conn.get(), "sales", "orders", "changes", {}, {port}).value();
  auto second = CdcApplier::Open(conn.get(), "sales", "orders", "changes", {}, {port}).value();
  int64_t before = FastBatchesTaken();
  ASSERT_TRUE(first->Apply({Row("c", R"({"id":1,"r":"a"})", R"({"lsn":10})")}, {}).ok());
  ASSERT_TRUE(second->Apply({Row("d", R"({"id":1})", R"({"lsn":20})")}, {}).ok());
  auto late = first->Apply({Row("u", R"({"id":1,"r":"late"})", R"({"lsn":15})")}, {});
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  EXPECT_EQ(FastBatchesTaken() - before, 3);
  EXPECT_EQ(late->stale, 1);  // not a resurrection of the deleted row
  EXPECT_EQ(conn->QueryScalar("SELECT count(*) FROM plx_sales.main.orders__orders__v1").value(),
            "0");
  first.reset();
  second.reset();
  conn.reset();
  db.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace plexus::pipeline::internal
