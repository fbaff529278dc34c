// PostgreSQL encodings of DuckDB values. The expected strings are what PostgreSQL 15.18 itself
// printed for the same values (psql -At, encode(*_send(...), 'hex'), COPY ... TO STDOUT) with
// TimeZone UTC, DateStyle ISO, IntervalStyle postgres, extra_float_digits 1.
#include "plexus/server/pg_types.h"

#include <gtest/gtest.h>

namespace plexus::server::pg {
namespace {

struct Query {
  std::unique_ptr<engine::Database> db;
  std::unique_ptr<engine::Connection> conn;
  std::unique_ptr<engine::QueryResult> result;
  std::unique_ptr<engine::DataChunk> chunk;
};

Query RunQuery(std::string_view sql) {
  Query q;
  q.db = std::move(engine::Database::Open({})).value();
  q.conn = std::move(q.db->Connect()).value();
  auto result = q.conn->Query(sql);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok()) return q;
  q.result = std::move(result).value();
  auto chunk = q.result->Fetch();
  EXPECT_TRUE(chunk.ok() && *chunk);
  if (chunk.ok()) q.chunk = std::move(chunk).value();
  return q;
}

// The text format of every column of the first row, joined by '|' as psql -At does.
std::string TextRow(std::string_view sql) {
  Query q = RunQuery(sql);
  if (!q.chunk) return "<no result>";
  std::string out;
  for (size_t c = 0; c < q.chunk->column_count(); c++) {
    if (c > 0) out.push_back('|');
    engine::VectorRef v = q.chunk->Column(c);
    if (!v.IsNull(0)) AppendTextValue(v, 0, out);
  }
  return out;
}

std::string Hex(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) out.push_back(kHex[c >> 4]), out.push_back(kHex[c & 15]);
  return out;
}

// The binary format of every column of the first row, in hex, joined by '|'.
std::string BinaryRow(std::string_view sql) {
  Query q = RunQuery(sql);
  if (!q.chunk) return "<no result>";
  std::string out;
  for (size_t c = 0; c < q.chunk->column_count(); c++) {
    if (c > 0) out.push_back('|');
    std::string bytes;
    AppendBinaryValue(q.chunk->Column(c), 0, bytes);
    out += Hex(bytes);
  }
  return out;
}

TEST(PgTypesTest, FloatsAsPostgresPrintsThem) {
  EXPECT_EQ(TextRow("SELECT 1e20::DOUBLE, 1e15::DOUBLE, 1e14::DOUBLE, 123456789012345.6::DOUBLE, "
                    "0.0001::DOUBLE, 0.00001::DOUBLE, 1.5::DOUBLE, '-0.0'::DOUBLE, 'NaN'::DOUBLE, "
                    "'-Infinity'::DOUBLE, 1e6::FLOAT, 100000::FLOAT, 0.1::FLOAT, 1.0::DOUBLE, "
                    "2.5e-300::DOUBLE, 1.7976931348623157e308::DOUBLE, 3.4028235e38::FLOAT, "
                    "1.23456789e-7::DOUBLE, 1e100::DOUBLE, -1.5e-10::FLOAT, 123456.7::FLOAT, "
                    "1234567::FLOAT"),
            "1e+20|1e+15|100000000000000|123456789012345.6|0.0001|1e-05|1.5|-0|NaN|-Infinity|"
            "1e+06|100000|0.1|1|2.5e-300|1.7976931348623157e+308|3.4028235e+38|1.23456789e-07|"
            "1e+100|-1.5e-10|123456.7|1.234567e+06");
}

TEST(PgTypesTest, NumbersDatesAndTimes) {
  EXPECT_EQ(TextRow("SELECT true, false, -5::TINYINT, 200::UTINYINT, 12.50::DECIMAL(10,2), "
                    "-0.05::DECIMAL(18,3), 0::DECIMAL(5,2), 18446744073709551615::UBIGINT, "
                    "-170141183460469231731687303715884105727::HUGEINT"),
            "t|f|-5|200|12.50|-0.050|0.00|18446744073709551615|"
            "-170141183460469231731687303715884105727");
  EXPECT_EQ(TextRow("SELECT DATE '0044-03-15', TIMESTAMP '0044-03-15 12:00:00', "
                    "make_date(-43, 3, 15), make_timestamp(-43, 3, 15, 12, 0, 0.25), "
                    "'infinity'::DATE, '-infinity'::TIMESTAMP, "
                    "TIMESTAMPTZ '2024-01-31 12:34:56.5+00', TIMETZ '10:00:00+05:30', "
                    "TIMETZ '10:00:00-08', TIME '01:02:03.5', "
                    "TIMESTAMP_NS '2024-01-31 12:34:56.123456789'"),
            "0044-03-15|0044-03-15 12:00:00|0044-03-15 BC|0044-03-15 12:00:00.25 BC|infinity|"
            "-infinity|2024-01-31 12:34:56.5+00|10:00:00+05:30|10:00:00-08|01:02:03.5|"
            "2024-01-31 12:34:56.123456");
  EXPECT_EQ(TextRow("SELECT to_timestamp(epoch(make_timestamp(-43, 3, 15, 12, 0, 0)))"),
            "0044-03-15 12:00:00+00 BC");
}

TEST(PgTypesTest, IntervalsInPostgresStyle) {
  EXPECT_EQ(
      TextRow("SELECT INTERVAL '1 year 2 months 3 days 04:05:06.5', "
              "-INTERVAL '14 months' + INTERVAL '3 days' - INTERVAL '04:05:06', "
              "INTERVAL '0 seconds', INTERVAL '1 month', INTERVAL '-1 day', "
              "INTERVAL '100 hours', -INTERVAL '0.5 seconds', "
              "INTERVAL '1 day' - INTERVAL '1 second', -INTERVAL '1 year' + INTERVAL '1 day'"),
      "1 year 2 mons 3 days 04:05:06.5|-1 years -2 mons +3 days -04:05:06|00:00:00|1 mon|"
      "-1 days|100:00:00|-00:00:00.5|1 day -00:00:01|-1 years +1 day");
}

TEST(PgTypesTest, ByteaUuidTextAndArrays) {
  EXPECT_EQ(TextRow("SELECT '\\x00\\xFF\\x41'::BLOB, [1, 2, NULL], "
                    "['a', '', 'NULL', 'null', 'a b', 'x\"y', 'b\\\\c', '{', 'x,y', chr(9)], "
                    "[true, false], [TIMESTAMP '2024-01-01 00:00:00'], [1.5::DOUBLE], []::INT[], "
                    "[1.50::DECIMAL(5,2)], [DATE '2024-01-01'], "
                    "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::UUID, 'héllo', '{\"a\": 1}'::JSON"),
            "\\x00ff41|{1,2,NULL}|"
            "{a,\"\",\"NULL\",\"null\",\"a b\",\"x\\\"y\",\"b\\\\\\\\c\",\"{\",\"x,y\",\"\t\"}|"
            "{t,f}|{\"2024-01-01 00:00:00\"}|{1.5}|{}|{1.50}|{2024-01-01}|"
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|héllo|{\"a\": 1}");
  // Nested values PostgreSQL has no type for are text in DuckDB's rendering.
  EXPECT_EQ(TextRow("SELECT {'a': 1}, [[1, 2], [3]], MAP {'k': 1}"),
            "{'a': 1}|[[1, 2], [3]]|{k=1}");
}

TEST(PgTypesTest, BinaryFormatMatchesPostgresSendFunctions) {
  EXPECT_EQ(BinaryRow("SELECT 12.50::DECIMAL(10,2), -0.050::DECIMAL(18,3), 0::DECIMAL(5,2), "
                      "123456789012345678901234567890::HUGEINT, 10000::HUGEINT, "
                      "0.0001::DECIMAL(5,4), 1234567.891::DECIMAL(38,3)"),
            "0002000000000002000c1388|0001ffff4000000301f4|0000000000000002|"
            "0008000700000000000c0d801ed204d2162e23340d801ed2|00010001000000000001|"
            "0001ffff000000040001|0003000100000003007b11d722ce");
  EXPECT_EQ(BinaryRow("SELECT DATE '2024-01-31', DATE '1999-12-31', "
                      "TIMESTAMP '2024-01-31 12:34:56.5', TIMESTAMPTZ '2024-01-31 12:34:56.5+00', "
                      "TIME '01:02:03.5', TIMETZ '10:00:00+05:30', "
                      "INTERVAL '1 year 2 months 3 days 04:05:06.5', 'infinity'::DATE, "
                      "'-infinity'::TIMESTAMP"),
            "0000225c|ffffffff|0002b33be0083d20|0002b33be0083d20|00000000ddf019e0|"
            "0000000861c46800ffffb2a8|000000036c9361a0000000030000000e|7fffffff|"
            "8000000000000000");
  EXPECT_EQ(BinaryRow("SELECT [1, 2, NULL]::INT[], []::BIGINT[], ['a', 'bc'], 1.5::DOUBLE, "
                      "1.5::FLOAT, true, -2::SMALLINT, -2::INT, -2::BIGINT, "
                      "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID, 'x'::BLOB"),
            "000000010000000100000017000000030000000100000004000000010000000400000002ffffffff|"
            "000000000000000000000014|"
            "00000001000000000000001900000002000000010000000161000000026263|"
            "3ff8000000000000|3fc00000|01|fffe|fffffffe|fffffffffffffffe|"
            "a0eebc999c0b4ef8bb6d6bb9bd380a11|78");
}

TEST(PgTypesTest, ColumnTypesForRowDescription) {
  Query q = RunQuery(
      "SELECT 1::BOOLEAN, 1::TINYINT, 1::INT, 1::BIGINT, 1::UBIGINT, 1.5::DECIMAL(10,2), "
      "'x', '{}'::JSON, 'x'::BLOB, [1], ['x'], [[1]], {'a': 1}, 1::FLOAT, "
      "TIMESTAMPTZ '2024-01-01', 'a'::ENUM('a'), [1.5::DECIMAL(6,1)]");
  ASSERT_TRUE(q.result);
  std::vector<int32_t> oids;
  for (const auto& c : q.result->columns()) oids.push_back(TypeOid(c));
  EXPECT_EQ(oids, (std::vector<int32_t>{16, 21, 23, 20, 1700, 1700, 25, 114, 17, 1007, 1009, 25, 25,
                                        700, 1184, 25, 1231}));
  PgColumnType decimal = ColumnType(q.result->columns()[5]);
  EXPECT_EQ(decimal.typmod, (10 << 16 | 2) + 4);  // what PostgreSQL sends for numeric(10,2)
  EXPECT_EQ(decimal.size, -1);
  EXPECT_EQ(ColumnType(q.result->columns()[3]).size, 8);
  EXPECT_EQ(ColumnType(q.result->columns()[16]).typmod, (6 << 16 | 1) + 4);
  EXPECT_EQ(TypeName(oid::kInt8Array), "bigint[]");
  EXPECT_EQ(ParameterOid(engine::TypeId::kUnknown), 0);
  EXPECT_EQ(ParameterOid(engine::TypeId::kDate), oid::kDate);
}

TEST(PgTypesTest, DataRowMessagesFrameEachCell) {
  Query q = RunQuery("SELECT * FROM (VALUES (1, 'ab', NULL), (2, NULL, 1.5::DOUBLE)) t(a, b, c)");
  ASSERT_TRUE(q.chunk);
  RowEncoder text(q.result->columns(), {});
  std::string out;
  text.AppendDataRows(*q.chunk, 0, 2, out);
  std::string want = std::string("D\0\0\0\x15\0\x03", 7) +
                     std::string(
                         "\0\0\0\x01"
                         "1",
                         5) +
                     std::string(
                         "\0\0\0\x02"
                         "ab",
                         6) +
                     std::string("\xff\xff\xff\xff", 4) + std::string("D\0\0\0\x16\0\x03", 7) +
                     std::string(
                         "\0\0\0\x01"
                         "2",
                         5) +
                     std::string("\xff\xff\xff\xff", 4) +
                     std::string(
                         "\0\0\0\x03"
                         "1.5",
                         7);
  EXPECT_EQ(Hex(out), Hex(want));

  RowEncoder mixed(q.result->columns(), {1, 0, 1});
  EXPECT_EQ(mixed.formats(), (std::vector<int16_t>{1, 0, 1}));
  out.clear();
  mixed.AppendDataRow(*q.chunk, 1, out);
  EXPECT_EQ(Hex(out),
            "440000001e0003"
            "00000004"
            "00000002"
            "ffffffff"
            "00000008"
            "3ff8000000000000");
  EXPECT_FALSE(RowEncoder::ValidFormats({0, 1}, 3));
  EXPECT_FALSE(RowEncoder::ValidFormats({2}, 3));
  EXPECT_TRUE(RowEncoder::ValidFormats({1}, 3));
  EXPECT_EQ(RowEncoder(q.result->columns(), {2}).formats(), (std::vector<int16_t>{0, 0, 0}));
}

TEST(PgTypesTest, CopyTextAndCsvAsPostgresWritesThem) {
  Query q = RunQuery(
      "SELECT 1, 'a b', 'x' || chr(9) || 'y\\z' || chr(10) || 'w', NULL, '', '\"q\"', "
      "'a,b', [1, 2], 1.5::DOUBLE, '\\.'");
  ASSERT_TRUE(q.chunk);
  RowEncoder encoder(q.result->columns(), {});
  std::string out;
  encoder.AppendCopyRow(*q.chunk, 0, CopyOptions::Text(), out);
  EXPECT_EQ(out, "1\ta b\tx\\ty\\\\z\\nw\t\\N\t\t\"q\"\ta,b\t{1,2}\t1.5\t\\\\.\n");
  out.clear();
  encoder.AppendCopyRow(*q.chunk, 0, CopyOptions::Csv(), out);
  EXPECT_EQ(out, "1,a b,\"x\ty\\z\nw\",,\"\",\"\"\"q\"\"\",\"a,b\",\"{1,2}\",1.5,\\.\n");
  out.clear();
  encoder.AppendCopyData(*q.chunk, 0, 1, CopyOptions::Csv(), out);
  ASSERT_GT(out.size(), 5u);
  EXPECT_EQ(out[0], 'd');
  EXPECT_EQ(static_cast<size_t>(static_cast<uint8_t>(out[4])), out.size() - 1);

  Query one = RunQuery("SELECT '\\.' AS \"a,b\"");
  RowEncoder single(one.result->columns(), {});
  out.clear();
  single.AppendCsvHeader(CopyOptions::Csv(), out);
  single.AppendCopyRow(*one.chunk, 0, CopyOptions::Csv(), out);
  EXPECT_EQ(out, "\"a,b\"\n\"\\.\"\n");
}

std::string Decoded(int32_t type_oid, int16_t format, std::optional<std::string_view> bytes) {
  auto v = DecodeParameter(type_oid, format, bytes);
  if (!v.ok()) return "error: " + v.status().message();
  switch (v->kind) {
    case engine::ParameterValue::Kind::kNull:
      return "null";
    case engine::ParameterValue::Kind::kBool:
      return v->bool_value ? "bool:true" : "bool:false";
    case engine::ParameterValue::Kind::kInt64:
      return "int:" + std::to_string(v->int_value);
    case engine::ParameterValue::Kind::kDouble:
      return "double:" + std::to_string(v->double_value);
    case engine::ParameterValue::Kind::kText:
      return "text:" + v->bytes;
    case engine::ParameterValue::Kind::kBlob:
      return "blob:" + Hex(v->bytes);
  }
  return "?";
}

TEST(PgTypesTest, DecodesBindParametersInTextAndBinary) {
  using std::string_view;
  EXPECT_EQ(Decoded(0, 0, "2024-01-31"), "text:2024-01-31");
  EXPECT_EQ(Decoded(oid::kInt4, 0, " 42 "), "int:42");
  EXPECT_EQ(Decoded(oid::kInt8, 0, "-9223372036854775808"), "int:-9223372036854775808");
  EXPECT_EQ(Decoded(oid::kInt2, 0, "40000"),
            "error: value \"40000\" is out of range for type smallint");
  EXPECT_EQ(Decoded(oid::kInt4, 0, "12abc"),
            "error: invalid input syntax for type integer: \"12abc\"");
  EXPECT_EQ(Decoded(oid::kFloat8, 0, "1.5"), "double:1.500000");
  EXPECT_EQ(Decoded(oid::kFloat8, 0, "-Infinity"), "double:-inf");
  EXPECT_EQ(Decoded(oid::kFloat8, 0, "x"),
            "error: invalid input syntax for type double precision: \"x\"");
  EXPECT_EQ(Decoded(oid::kBool, 0, "t"), "bool:true");
  EXPECT_EQ(Decoded(oid::kBool, 0, "OFF"), "bool:false");
  EXPECT_EQ(Decoded(oid::kBool, 0, "maybe"),
            "error: invalid input syntax for type boolean: \"maybe\"");
  EXPECT_EQ(Decoded(oid::kBytea, 0, "\\x00ff"), "blob:00ff");
  EXPECT_EQ(Decoded(oid::kBytea, 0, "a\\\\b\\001"), "blob:615c6201");
  EXPECT_EQ(Decoded(oid::kBytea, 0, "\\xzz"),
            "error: invalid input syntax for type bytea: \"\\xzz\"");
  EXPECT_EQ(Decoded(oid::kText, 0, std::nullopt), "null");
  EXPECT_EQ(Decoded(oid::kInt4, 1, std::nullopt), "null");

  EXPECT_EQ(Decoded(oid::kInt4, 1, string_view("\xff\xff\xff\xfe", 4)), "int:-2");
  EXPECT_EQ(Decoded(oid::kInt2, 1, string_view("\x01\x00", 2)), "int:256");
  EXPECT_EQ(Decoded(oid::kInt8, 1, string_view("\0\0\0\0\0\0\0\x07", 8)), "int:7");
  EXPECT_EQ(Decoded(oid::kInt8, 1, string_view("\0\0\0", 3)),
            "error: binary parameter of type bigint must be 8 bytes, got 3");
  EXPECT_EQ(Decoded(oid::kFloat8, 1, string_view("\x3f\xf8\0\0\0\0\0\0", 8)), "double:1.500000");
  EXPECT_EQ(Decoded(oid::kFloat4, 1, string_view("\x3f\xc0\0\0", 4)), "double:1.500000");
  EXPECT_EQ(Decoded(oid::kBool, 1, string_view("\x01", 1)), "bool:true");
  EXPECT_EQ(Decoded(oid::kText, 1, "abc"), "text:abc");
  EXPECT_EQ(Decoded(oid::kDate, 1, string_view("\0\0\x22\x5c", 4)), "text:2024-01-31");
  EXPECT_EQ(Decoded(oid::kTimestamp, 1, string_view("\x00\x02\xb3\x3b\xe0\x08\x3d\x20", 8)),
            "text:2024-01-31 12:34:56.5");
  EXPECT_EQ(Decoded(oid::kTimestampTz, 1, string_view("\x00\x02\xb3\x3b\xe0\x08\x3d\x20", 8)),
            "text:2024-01-31 12:34:56.5+00");
  EXPECT_EQ(
      Decoded(oid::kUuid, 1,
              string_view("\xa0\xee\xbc\x99\x9c\x0b\x4e\xf8\xbb\x6d\x6b\xb9\xbd\x38\x0a\x11", 16)),
      "text:a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(Decoded(oid::kNumeric, 1, string_view("\0\x02\0\0\0\0\0\x02\0\x0c\x13\x88", 12)),
            "text:12.50");
  EXPECT_EQ(Decoded(oid::kNumeric, 1, string_view("\0\x01\xff\xff\x40\0\0\x03\x01\xf4", 10)),
            "text:-0.050");
  EXPECT_EQ(Decoded(oid::kNumeric, 1, string_view("\0\x01\0\x01\0\0\0\0\0\x01", 10)), "text:10000");
  EXPECT_EQ(Decoded(oid::kNumeric, 1, string_view("\0\x05\0\0", 4)),
            "error: malformed binary numeric parameter");
  EXPECT_EQ(
      Decoded(oid::kInterval, 1, string_view("\0\0\0\x03\x6c\x93\x61\xa0\0\0\0\x03\0\0\0\x0e", 16)),
      "text:14 months 3 days 14706500000 microseconds");
  EXPECT_EQ(Decoded(oid::kInt4Array, 1, "x"),
            "error: binary format is not supported for parameters of type integer[] (oid 1007)");
  EXPECT_EQ(Decoded(oid::kInt4, 2, "1"), "error: unsupported parameter format code 2");
}

TEST(PgTypesTest, DecodedParametersBindThroughDuckDb) {
  auto db = std::move(engine::Database::Open({})).value();
  auto conn = std::move(db->Connect()).value();
  ASSERT_TRUE(
      conn->Execute("CREATE TABLE t AS SELECT DATE '2024-01-31' AS d, "
                    "TIMESTAMPTZ '2024-01-31 12:34:56.5+00' AS ts, 12.50::DECIMAL(10,2) AS n, "
                    "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS u")
          .ok());
  auto stmt =
      conn->Prepare("SELECT count(*) FROM t WHERE d = $1 AND ts = $2 AND n = $3 AND u = $4");
  ASSERT_TRUE(stmt.ok()) << stmt.status().ToString();
  auto bind = [&](size_t i, int32_t type_oid, std::string_view bytes) {
    auto v = DecodeParameter(type_oid, 1, bytes);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    ASSERT_TRUE((*stmt)->Bind(i, *v).ok());
  };
  bind(1, oid::kDate, std::string_view("\0\0\x22\x5c", 4));
  bind(2, oid::kTimestampTz, std::string_view("\x00\x02\xb3\x3b\xe0\x08\x3d\x20", 8));
  bind(3, oid::kNumeric, std::string_view("\0\x02\0\0\0\0\0\x02\0\x0c\x13\x88", 12));
  bind(4, oid::kUuid,
       std::string_view("\xa0\xee\xbc\x99\x9c\x0b\x4e\xf8\xbb\x6d\x6b\xb9\xbd\x38\x0a\x11", 16));
  auto result = (*stmt)->Execute();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  auto chunk = (*result)->Fetch();
  ASSERT_TRUE(chunk.ok() && *chunk);
  EXPECT_EQ((*chunk)->Text(0, 0), "1");
}

}  // namespace
}  // namespace plexus::server::pg
