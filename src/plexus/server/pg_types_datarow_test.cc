// DataRow messages of a whole chunk: every cell's bytes equal the value's text format
// (AppendTextValue, whose output pg_types_test.cc pins to what PostgreSQL prints) or its binary
// format, across types, NULLs, dates that change every row or stay on one day, BC years,
// infinities and strings long enough to grow the buffer several times.
#include <gtest/gtest.h>

#include "plexus/server/pg_types.h"

namespace plexus::server::pg {
namespace {

constexpr const char* kRowsSql = R"sql(
SELECT i::INT AS small, (i * 1000003 - 5000000)::BIGINT AS big,
       ((i * 31) % 100000 / 100.0)::DECIMAL(10,2) AS amount,
       (-i)::DECIMAL(38,5) AS wide, (i::HUGEINT * 1000000000000000000000) AS huge,
       CASE WHEN i % 5 = 0 THEN NULL ELSE 'order ' || i END AS note,
       CASE WHEN i % 97 = 0 THEN repeat('x', 30000 + i) ELSE 'é' END AS text_col,
       TIMESTAMP '2024-01-01' + i * INTERVAL '1 second' AS same_day,
       TIMESTAMP '2024-01-01' + i * INTERVAL '7 hours 3 seconds' AS new_days,
       CASE WHEN i % 2 = 0 THEN make_date(-43 - i, 1 + i % 12, 1 + i % 28)
            WHEN i % 7 = 1 THEN 'infinity'::DATE
            ELSE make_date(1 + i, 1 + i % 12, 1 + i % 28) END AS dates,
       CASE WHEN i % 3 = 0 THEN make_timestamp(-43, 3, 15, 12, 0, 0.25)
            WHEN i % 11 = 1 THEN '-infinity'::TIMESTAMP
            ELSE TIMESTAMP '2024-01-31 12:34:56' + i * INTERVAL '1 microsecond' END AS ts,
       TIMESTAMPTZ '2024-01-31 00:00:00+00' + i * INTERVAL '1 hour' AS tstz,
       TIME '00:00:00' + i * INTERVAL '37 seconds 250 milliseconds' AS t,
       i % 3 = 0 AS flag, (i / 7.0)::DOUBLE AS ratio, i * INTERVAL '1 day 2 hours' AS span,
       (i % 256)::UTINYINT AS tiny, [i, NULL] AS list, gen_random_uuid() AS u,
       '00000000-0000-0000-0000-00000000000' || (i % 10) ::VARCHAR AS id
FROM range(2048) r(i)
)sql";

int32_t ReadBE32(const std::string& s, size_t pos) {
  return static_cast<int32_t>((static_cast<uint32_t>(static_cast<uint8_t>(s[pos])) << 24) |
                              (static_cast<uint32_t>(static_cast<uint8_t>(s[pos + 1])) << 16) |
                              (static_cast<uint32_t>(static_cast<uint8_t>(s[pos + 2])) << 8) |
                              static_cast<uint32_t>(static_cast<uint8_t>(s[pos + 3])));
}

// Checks every DataRow in `out` (after `prefix` bytes) against the chunk's values, in the
// format each column was asked for.
void ExpectCellsMatch(const engine::DataChunk& chunk, const std::vector<int16_t>& formats,
                      const std::string& out, size_t prefix) {
  size_t pos = prefix;
  for (size_t row = 0; row < chunk.size(); row++) {
    ASSERT_LT(pos, out.size());
    ASSERT_EQ(out[pos], 'D') << "row " << row;
    size_t end = pos + 1 + static_cast<size_t>(ReadBE32(out, pos + 1));
    ASSERT_LE(end, out.size());
    ASSERT_EQ(static_cast<size_t>((static_cast<uint8_t>(out[pos + 5]) << 8) |
                                  static_cast<uint8_t>(out[pos + 6])),
              chunk.column_count());
    pos += 7;
    for (size_t c = 0; c < chunk.column_count(); c++) {
      engine::VectorRef v = chunk.Column(c);
      int32_t length = ReadBE32(out, pos);
      pos += 4;
      if (v.IsNull(row)) {
        EXPECT_EQ(length, -1) << "row " << row << " column " << c;
        continue;
      }
      std::string want;
      if (formats.size() > c && formats[c] == 1) {
        AppendBinaryValue(v, row, want);
      } else {
        AppendTextValue(v, row, want);
      }
      ASSERT_GE(length, 0) << "row " << row << " column " << c;
      EXPECT_EQ(out.substr(pos, static_cast<size_t>(length)), want)
          << "row " << row << " column " << c;
      pos += static_cast<size_t>(length);
    }
    ASSERT_EQ(pos, end) << "row " << row;
  }
  EXPECT_EQ(pos, out.size());
}

TEST(PgDataRowTest, EveryCellOfAChunkIsItsTextFormat) {
  auto db = std::move(engine::Database::Open({})).value();
  auto conn = std::move(db->Connect()).value();
  auto result = conn->Query(kRowsSql);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  auto chunk = (*result)->Fetch();
  ASSERT_TRUE(chunk.ok() && *chunk != nullptr);
  ASSERT_EQ((*chunk)->size(), 2048u);
  const auto& columns = (*result)->columns();

  RowEncoder text(columns, {});
  std::string out = "prefix";  // rows are appended to what the buffer already holds
  text.AppendDataRows(**chunk, 0, 1000, out);
  text.AppendDataRows(**chunk, 1000, 2048, out);
  ExpectCellsMatch(**chunk, {}, out, 6);
  EXPECT_EQ(out.substr(0, 6), "prefix");

  // Binary and text columns mixed in one row.
  std::vector<int16_t> formats(columns.size(), 0);
  for (size_t c = 0; c < formats.size(); c += 2) formats[c] = 1;
  RowEncoder mixed(columns, formats);
  out.clear();
  mixed.AppendDataRows(**chunk, 0, 2048, out);
  ExpectCellsMatch(**chunk, formats, out, 0);
}

TEST(PgDataRowTest, KnownValuesAsPostgresPrintsThem) {
  auto db = std::move(engine::Database::Open({})).value();
  auto conn = std::move(db->Connect()).value();
  auto result = conn->Query(
      "SELECT * FROM (VALUES (TIMESTAMP '2024-01-31 23:59:59.5', DATE '2024-01-31'), "
      "(TIMESTAMP '2024-02-01 00:00:00', make_date(-43, 3, 15)), "
      "(make_timestamp(-43, 3, 15, 12, 0, 0), DATE '2024-02-01')) t(ts, d)");
  ASSERT_TRUE(result.ok());
  auto chunk = (*result)->Fetch();
  ASSERT_TRUE(chunk.ok() && *chunk != nullptr);
  RowEncoder text((*result)->columns(), {});
  std::string out;
  text.AppendDataRows(**chunk, 0, 3, out);
  // The cells, without the framing: each day change (and back) is written anew.
  std::string cells;
  for (size_t pos = 7; pos < out.size();) {
    int32_t length = ReadBE32(out, pos);
    cells += out.substr(pos + 4, static_cast<size_t>(length)) + "|";
    pos += 4 + static_cast<size_t>(length);
    if (pos < out.size() && out[pos] == 'D') pos += 7;
  }
  EXPECT_EQ(cells,
            "2024-01-31 23:59:59.5|2024-01-31|2024-02-01 00:00:00|0044-03-15 BC|"
            "0044-03-15 12:00:00 BC|2024-02-01|");
}

}  // namespace
}  // namespace plexus::server::pg
