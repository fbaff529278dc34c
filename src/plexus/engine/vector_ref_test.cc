// Typed access to result cells (VectorRef) and prepared statement metadata and binding.
#include <gtest/gtest.h>

#include "plexus/engine/engine.h"

namespace plexus::engine {
namespace {

struct Fixture {
  std::unique_ptr<Database> db;
  std::unique_ptr<Connection> conn;
  std::unique_ptr<QueryResult> result;
  std::unique_ptr<DataChunk> chunk;
};

// Runs `sql` and keeps its first chunk.
Fixture FirstChunk(std::string_view sql) {
  Fixture f;
  f.db = std::move(Database::Open({})).value();
  f.conn = std::move(f.db->Connect()).value();
  auto result = f.conn->Query(sql);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok()) return f;
  f.result = std::move(result).value();
  auto chunk = f.result->Fetch();
  EXPECT_TRUE(chunk.ok() && *chunk);
  if (chunk.ok()) f.chunk = std::move(chunk).value();
  return f;
}

std::string Hex(const uint8_t* bytes, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; i++) {
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 15]);
  }
  return out;
}

TEST(VectorRefTest, ColumnInfoCarriesTypeIdDecimalShapeAndElementType) {
  auto f = FirstChunk(
      "SELECT true a, 1::TINYINT b, 1::SMALLINT c, 1::INT d, 1::BIGINT e, 1::HUGEINT f, "
      "1::UBIGINT g, 1::FLOAT h, 1::DOUBLE i, 1.5::DECIMAL(12,3) j, 'x' k, '{}'::JSON l, "
      "'x'::BLOB m, DATE '2024-01-01' n, TIME '01:02:03' o, TIMETZ '01:02:03+02' p, "
      "TIMESTAMP '2024-01-01' q, TIMESTAMP_NS '2024-01-01' r, TIMESTAMPTZ '2024-01-01' s, "
      "INTERVAL 1 DAY t, uuid() u, [1.5::DECIMAL(5,1)] v, [1,2]::INT[2] w, {'a': 1} x, "
      "MAP {'k': 1} y, 'a'::ENUM('a','b') z, TIMESTAMP_S '2024-01-01' aa, NULL bb");
  ASSERT_TRUE(f.result);
  const auto& c = f.result->columns();
  std::vector<TypeId> want = {
      TypeId::kBoolean,   TypeId::kTinyInt,     TypeId::kSmallInt,    TypeId::kInteger,
      TypeId::kBigInt,    TypeId::kHugeInt,     TypeId::kUBigInt,     TypeId::kFloat,
      TypeId::kDouble,    TypeId::kDecimal,     TypeId::kVarchar,     TypeId::kJson,
      TypeId::kBlob,      TypeId::kDate,        TypeId::kTime,        TypeId::kTimeTz,
      TypeId::kTimestamp, TypeId::kTimestampNs, TypeId::kTimestampTz, TypeId::kInterval,
      TypeId::kUuid,      TypeId::kList,        TypeId::kArray,       TypeId::kStruct,
      TypeId::kMap,       TypeId::kEnum,        TypeId::kTimestamp,   TypeId::kInteger};
  ASSERT_EQ(c.size(), want.size());
  for (size_t i = 0; i < want.size() - 1; i++) {
    EXPECT_EQ(c[i].type_id, want[i]) << c[i].name << " " << c[i].type_name;
  }
  EXPECT_EQ(c[9].width, 12);
  EXPECT_EQ(c[9].scale, 3);
  EXPECT_EQ(c[21].element_type, TypeId::kDecimal);
  EXPECT_EQ(c[21].width, 5);
  EXPECT_EQ(c[21].scale, 1);
  EXPECT_EQ(c[22].element_type, TypeId::kInteger);
  EXPECT_EQ(c[0].element_type, TypeId::kOther);
}

TEST(VectorRefTest, ScalarsReadStraightFromTheVector) {
  auto f = FirstChunk(
      "SELECT * FROM (VALUES (true, -5::TINYINT, 300::SMALLINT, -70000::INT, 9007199254740993, "
      "2.5::FLOAT, -0.1::DOUBLE, 'héllo', '\\x00\\xFF'::BLOB, 'b'::ENUM('a','b')), "
      "(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL))");
  ASSERT_TRUE(f.chunk);
  ASSERT_EQ(f.chunk->size(), 2u);
  EXPECT_TRUE(f.chunk->Column(0).Bool(0));
  EXPECT_EQ(f.chunk->Column(1).Int64(0), -5);
  EXPECT_EQ(f.chunk->Column(2).Int64(0), 300);
  EXPECT_EQ(f.chunk->Column(3).Int64(0), -70000);
  EXPECT_EQ(f.chunk->Column(4).Int64(0), 9007199254740993);
  EXPECT_EQ(f.chunk->Column(5).Double(0), 2.5);
  EXPECT_EQ(f.chunk->Column(6).Double(0), -0.1);
  EXPECT_EQ(f.chunk->Column(7).String(0), "héllo");
  EXPECT_EQ(f.chunk->Column(8).String(0), std::string_view("\0\xff", 2));
  EXPECT_EQ(f.chunk->Column(9).String(0), "b");
  for (size_t c = 0; c < 10; c++) {
    EXPECT_FALSE(f.chunk->Column(c).IsNull(0)) << c;
    EXPECT_TRUE(f.chunk->Column(c).IsNull(1)) << c;
  }
  // A long string (not inlined by DuckDB) comes back whole, without a copy.
  auto g = FirstChunk("SELECT repeat('ab', 40)");
  std::string want;
  for (int i = 0; i < 40; i++) want += "ab";
  EXPECT_EQ(g.chunk->Column(0).String(0), want);
}

TEST(VectorRefTest, DecimalsAndWideIntegersGiveTheUnscaledInteger) {
  auto f = FirstChunk(
      "SELECT -12.5::DECIMAL(4,1), 123456.789::DECIMAL(9,3), -1.05::DECIMAL(18,2), "
      "12345678901234567890.123456::DECIMAL(38,6), "
      "-170141183460469231731687303715884105727::HUGEINT, 18446744073709551615::UBIGINT");
  ASSERT_TRUE(f.chunk);
  auto d0 = f.chunk->Column(0).Decimal(0);
  EXPECT_EQ(static_cast<int64_t>(d0.unscaled), -125);
  EXPECT_EQ(d0.scale, 1);
  EXPECT_EQ(static_cast<int64_t>(f.chunk->Column(1).Decimal(0).unscaled), 123456789);
  EXPECT_EQ(static_cast<int64_t>(f.chunk->Column(2).Decimal(0).unscaled), -105);
  auto d3 = f.chunk->Column(3).Decimal(0);
  EXPECT_TRUE(d3.unscaled == static_cast<__int128>(12345678901234567890ULL) * 1000000 + 123456);
  EXPECT_EQ(d3.scale, 6);
  constexpr __int128 kHugeMax = static_cast<__int128>(~static_cast<unsigned __int128>(0) >> 1);
  EXPECT_TRUE(f.chunk->Column(4).Decimal(0).unscaled == -kHugeMax);
  EXPECT_TRUE(f.chunk->Column(5).Decimal(0).unscaled == static_cast<__int128>(UINT64_MAX));
  EXPECT_DOUBLE_EQ(f.chunk->Column(1).Double(0), 123456.789);
}

TEST(VectorRefTest, DatesTimesIntervalsAndUuids) {
  auto f = FirstChunk(
      "SELECT DATE '1970-01-02', DATE '1969-12-31', TIME '01:02:03.5', "
      "TIMESTAMP '2000-01-01 00:00:01', TIMESTAMP_S '2000-01-01 00:00:01', "
      "TIMESTAMP_MS '2000-01-01 00:00:01.25', TIMESTAMP_NS '2000-01-01 00:00:01.123456789', "
      "TIMESTAMPTZ '2000-01-01 02:00:00+02', TIMETZ '10:00:00+05:30', "
      "INTERVAL '1 year 2 months 3 days 04:05:06.5', "
      "'550e8400-e29b-41d4-a716-446655440000'::UUID, '00000000-0000-0000-0000-000000000001'::UUID, "
      "'infinity'::DATE, '-infinity'::TIMESTAMP");
  ASSERT_TRUE(f.chunk);
  auto& c = *f.chunk;
  EXPECT_EQ(c.Column(0).Date(0), 1);
  EXPECT_EQ(c.Column(1).Date(0), -1);
  EXPECT_EQ(c.Column(2).Micros(0), 3723500000);
  constexpr int64_t k2000 = 946684800000000;
  EXPECT_EQ(c.Column(3).Micros(0), k2000 + 1000000);
  EXPECT_EQ(c.Column(4).Micros(0), k2000 + 1000000);
  EXPECT_EQ(c.Column(5).Micros(0), k2000 + 1250000);
  EXPECT_EQ(c.Column(6).Micros(0), k2000 + 1123456);
  EXPECT_EQ(c.Column(7).Micros(0), k2000);  // UTC
  auto tz = c.Column(8).TimeTz(0);
  EXPECT_EQ(tz.micros, int64_t{36000} * 1000000);
  EXPECT_EQ(tz.offset_seconds, 5 * 3600 + 1800);
  auto iv = c.Column(9).Interval(0);
  EXPECT_EQ(iv.months, 14);
  EXPECT_EQ(iv.days, 3);
  EXPECT_EQ(iv.micros, int64_t{14706} * 1000000 + 500000);
  uint8_t uuid[16];
  c.Column(10).Uuid(0, uuid);
  EXPECT_EQ(Hex(uuid, 16), "550e8400e29b41d4a716446655440000");
  c.Column(11).Uuid(0, uuid);
  EXPECT_EQ(Hex(uuid, 16), "00000000000000000000000000000001");
  EXPECT_EQ(c.Column(12).Date(0), INT32_MAX);
  EXPECT_EQ(c.Column(13).Micros(0), -INT64_MAX);
}

TEST(VectorRefTest, ListsArraysAndStructsExposeTheirChildren) {
  auto f = FirstChunk(
      "SELECT * FROM (VALUES ([1, NULL, 3], ['a', NULL], [1.5, 2.5]::DOUBLE[2], "
      "{'x': 7, 'y': 'z'}, MAP {'k': 1}), (NULL, [], NULL, NULL, NULL), "
      "([4], ['b'], [3, 4]::DOUBLE[2], {'x': 8, 'y': NULL}, MAP {}))");
  ASSERT_TRUE(f.chunk);
  auto& c = *f.chunk;
  VectorRef ints = c.Column(0);
  VectorRef ints_child = ints.Child();
  auto e0 = ints.List(0);
  ASSERT_EQ(e0.length, 3u);
  EXPECT_EQ(ints_child.Int64(e0.offset), 1);
  EXPECT_TRUE(ints_child.IsNull(e0.offset + 1));
  EXPECT_EQ(ints_child.Int64(e0.offset + 2), 3);
  EXPECT_TRUE(ints.IsNull(1));
  auto e2 = ints.List(2);
  ASSERT_EQ(e2.length, 1u);
  EXPECT_EQ(ints_child.Int64(e2.offset), 4);

  VectorRef texts = c.Column(1);
  EXPECT_EQ(texts.List(1).length, 0u);
  EXPECT_FALSE(texts.IsNull(1));
  EXPECT_EQ(texts.Child().String(texts.List(0).offset), "a");
  EXPECT_TRUE(texts.Child().IsNull(texts.List(0).offset + 1));

  VectorRef arr = c.Column(2);
  auto a2 = arr.List(2);
  EXPECT_EQ(a2.length, 2u);
  EXPECT_EQ(arr.Child().Double(a2.offset + 1), 4.0);

  VectorRef st = c.Column(3);
  EXPECT_EQ(st.Child(0).Int64(2), 8);
  EXPECT_TRUE(st.Child(1).IsNull(2));
  EXPECT_EQ(st.Child(1).String(0), "z");
  EXPECT_EQ(st.Child(9).type_id(), TypeId::kOther);  // out of range: an empty view

  std::string text;
  c.Column(4).AppendText(0, text);
  EXPECT_EQ(text, "{k=1}");
  text.clear();
  st.AppendText(0, text);
  EXPECT_EQ(text, "{'x': 7, 'y': 'z'}");
  EXPECT_EQ(c.Column(4).List(2).length, 0u);
}

TEST(VectorRefTest, AccessorsOfAnotherTypeReturnZeroNotGarbage) {
  auto f = FirstChunk("SELECT 'text' AS s, 42 AS i");
  ASSERT_TRUE(f.chunk);
  EXPECT_EQ(f.chunk->Column(0).Int64(0), 0);
  EXPECT_EQ(f.chunk->Column(0).Date(0), 0);
  EXPECT_EQ(f.chunk->Column(1).String(0), "");
  EXPECT_EQ(f.chunk->Column(1).List(0).length, 0u);
  EXPECT_EQ(f.chunk->Column(1).Child().type_id(), TypeId::kOther);
  EXPECT_EQ(f.chunk->Column(1).Double(0), 42.0);
}

TEST(PreparedStatementTest, ColumnsAndParameterTypesWithoutRunning) {
  auto db = std::move(Database::Open({})).value();
  auto conn = std::move(db->Connect()).value();
  ASSERT_TRUE(conn->Execute("CREATE TABLE t (id BIGINT, d DATE, amount DECIMAL(10,2), "
                            "tags VARCHAR[])")
                  .ok());
  auto stmt = conn->Prepare("SELECT id, amount, tags FROM t WHERE d = $1 AND id > $2");
  ASSERT_TRUE(stmt.ok()) << stmt.status().ToString();
  auto cols = (*stmt)->columns();
  ASSERT_EQ(cols.size(), 3u);
  EXPECT_EQ(cols[0].name, "id");
  EXPECT_EQ(cols[0].type_id, TypeId::kBigInt);
  EXPECT_EQ(cols[1].type_id, TypeId::kDecimal);
  EXPECT_EQ(cols[1].scale, 2);
  EXPECT_EQ(cols[2].type_id, TypeId::kList);
  EXPECT_EQ(cols[2].element_type, TypeId::kVarchar);
  EXPECT_EQ((*stmt)->parameter_type(1), TypeId::kDate);
  EXPECT_EQ((*stmt)->parameter_type(2), TypeId::kBigInt);
  EXPECT_EQ((*stmt)->parameter_type(3), TypeId::kUnknown);  // out of range

  auto any = conn->Prepare("SELECT $1");
  ASSERT_TRUE(any.ok());
  EXPECT_EQ((*any)->parameter_type(1), TypeId::kUnknown);
}

// Runs a one-value prepared statement and returns DuckDB's text of the first cell.
std::string BindAndRun(Connection& conn, std::string_view sql, const ParameterValue& value) {
  auto stmt = conn.Prepare(sql);
  EXPECT_TRUE(stmt.ok()) << stmt.status().ToString();
  if (!stmt.ok()) return "<prepare failed>";
  Status bound = (*stmt)->Bind(1, value);
  if (!bound.ok()) return "<bind: " + bound.ToString() + ">";
  auto result = (*stmt)->Execute();
  if (!result.ok()) return "<error: " + result.status().ToString() + ">";
  auto chunk = (*result)->Fetch();
  if (!chunk.ok() || !*chunk || (*chunk)->size() == 0) return "<no rows>";
  return (*chunk)->IsNull(0, 0) ? "NULL" : (*chunk)->Text(0, 0);
}

TEST(PreparedStatementTest, BindsEveryParameterKindAndCastsText) {
  auto db = std::move(Database::Open({})).value();
  auto conn = std::move(db->Connect()).value();
  ASSERT_TRUE(conn->Execute("CREATE TABLE t AS SELECT DATE '2024-01-31' AS d, 'x' AS name, "
                            "12.50::DECIMAL(10,2) AS amount")
                  .ok());
  EXPECT_EQ(
      BindAndRun(*conn, "SELECT name FROM t WHERE d = $1", ParameterValue::Text("2024-01-31")),
      "x");
  EXPECT_EQ(
      BindAndRun(*conn, "SELECT count(*) FROM t WHERE d = $1", ParameterValue::Text("2024-02-01")),
      "0");
  EXPECT_EQ(BindAndRun(*conn, "SELECT name FROM t WHERE amount = $1", ParameterValue::Text("12.5")),
            "x");
  EXPECT_EQ(BindAndRun(*conn, "SELECT $1", ParameterValue::Text("free text")), "free text");
  EXPECT_EQ(BindAndRun(*conn, "SELECT $1 + 1", ParameterValue::Int64(41)), "42");
  EXPECT_EQ(BindAndRun(*conn, "SELECT $1 * 2", ParameterValue::Double(1.25)), "2.5");
  EXPECT_EQ(BindAndRun(*conn, "SELECT NOT $1", ParameterValue::Bool(true)), "false");
  EXPECT_EQ(
      BindAndRun(*conn, "SELECT octet_length($1)", ParameterValue::Blob(std::string("\0\1\2", 3))),
      "3");
  EXPECT_EQ(BindAndRun(*conn, "SELECT $1::INT", ParameterValue::Null()), "NULL");
  // Text that does not fit the parameter's type is an error, not a crash.
  std::string bad =
      BindAndRun(*conn, "SELECT name FROM t WHERE d = $1", ParameterValue::Text("not a date"));
  EXPECT_EQ(bad.rfind("<", 0), 0u) << bad;
}

}  // namespace
}  // namespace plexus::engine
