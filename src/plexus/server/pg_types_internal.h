// File: plexus/server/pg_types_internal.h (server-internal)
//
// The pieces pg_types.cc, pg_types_text.cc and pg_types_binary.cc share: big-endian writers,
// PostgreSQL's text of dates, times, intervals, numerics and floats, and the per-type cell
// writers the RowEncoder picks once per column.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "plexus/engine/engine.h"

namespace plexus::server::pg::internal {

using CellWriter = void (*)(const engine::VectorRef&, size_t, std::string&);

/// Microseconds and days between 1970-01-01 and PostgreSQL's epoch, 2000-01-01.
inline constexpr int64_t kPgEpochMicros = 946684800000000;
inline constexpr int32_t kPgEpochDays = 10957;

inline void AppendBE16(std::string& out, int16_t v) {
  auto u = static_cast<uint16_t>(v);
  char b[2] = {static_cast<char>(u >> 8), static_cast<char>(u)};
  out.append(b, 2);
}
inline void AppendBE32(std::string& out, int32_t v) {
  auto u = static_cast<uint32_t>(v);
  char b[4] = {static_cast<char>(u >> 24), static_cast<char>(u >> 16), static_cast<char>(u >> 8),
               static_cast<char>(u)};
  out.append(b, 4);
}
inline void AppendBE64(std::string& out, int64_t v) {
  AppendBE32(out, static_cast<int32_t>(static_cast<uint64_t>(v) >> 32));
  AppendBE32(out, static_cast<int32_t>(static_cast<uint64_t>(v)));
}
inline void PutBE32(std::string& out, size_t pos, int32_t v) {
  auto u = static_cast<uint32_t>(v);
  out[pos] = static_cast<char>(u >> 24);
  out[pos + 1] = static_cast<char>(u >> 16);
  out[pos + 2] = static_cast<char>(u >> 8);
  out[pos + 3] = static_cast<char>(u);
}
inline char* PutBE16(char* p, int16_t v) {
  auto u = static_cast<uint16_t>(v);
  p[0] = static_cast<char>(u >> 8);
  p[1] = static_cast<char>(u);
  return p + 2;
}
inline char* PutBE32(char* p, int32_t v) {
  auto u = static_cast<uint32_t>(v);
  p[0] = static_cast<char>(u >> 24);
  p[1] = static_cast<char>(u >> 16);
  p[2] = static_cast<char>(u >> 8);
  p[3] = static_cast<char>(u);
  return p + 4;
}
inline int64_t ReadBE(std::string_view bytes, size_t pos, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) v = (v << 8) | static_cast<uint8_t>(bytes[pos + i]);
  // sign-extend
  if (n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);
  return static_cast<int64_t>(v);
}

// PostgreSQL's text of one value of each kind (DateStyle ISO, IntervalStyle postgres, UTC).
void AppendPgInt(std::string& out, int64_t v);
void AppendPgNumeric(std::string& out, __int128 unscaled, uint8_t scale);
void AppendPgFloat8(std::string& out, double v);
void AppendPgFloat4(std::string& out, float v);
void AppendPgDate(std::string& out, int32_t days_since_1970);
void AppendPgTime(std::string& out, int64_t micros_of_day);
void AppendPgTimeTz(std::string& out, int64_t micros_of_day, int32_t offset_seconds_east);
void AppendPgTimestamp(std::string& out, int64_t micros_since_1970, bool with_time_zone);
void AppendPgInterval(std::string& out, int32_t months, int32_t days, int64_t micros);
void AppendPgUuid(std::string& out, const uint8_t bytes[16]);
void AppendPgByteaHex(std::string& out, std::string_view bytes);

// The same texts written at `p`, which has room for the kMax*Text bound of the kind; each
// returns the end of what it wrote (pg_types_raw.cc). The Append* forms wrap these.
inline constexpr size_t kMaxIntText = 20;        // -9223372036854775808
inline constexpr size_t kMaxNumericText = 48;    // 39 digits, sign, point, leading zero
inline constexpr size_t kMaxDateText = 20;       // year 5881580 BC, -infinity
inline constexpr size_t kMaxTimeText = 32;       // any int64 of micros
inline constexpr size_t kMaxTimestampText = 48;  // year 294247 BC, +00, fraction
inline constexpr size_t kUuidText = 36;
char* PutPgInt(char* p, int64_t v);
char* PutPgNumeric(char* p, __int128 unscaled, uint8_t scale);
char* PutPgDate(char* p, int32_t days_since_1970);
char* PutPgTime(char* p, int64_t micros_of_day);
/// ".ffffff" of a second's microseconds (< 1,000,000) as PostgreSQL prints it: trailing
/// zeros dropped, nothing when 0.
char* PutPgFraction(char* p, unsigned micros);
char* PutPgTimestamp(char* p, int64_t micros_since_1970, bool with_time_zone);
char* PutPgUuid(char* p, const uint8_t bytes[16]);

/// Writes the text of the non-NULL value at `row` at `p` and returns its end.
using RawWriter = char* (*)(const engine::VectorRef&, size_t, char*);
/// A raw writer and the most bytes it writes for one value.
struct RawTextWriter {
  RawWriter write = nullptr;  ///< nullptr: the type has none (strings, floats, nested, ...)
  size_t bound = 0;
};
/// How PostgreSQL's text output writes a DuckDB scalar type: the one grouping of types both
/// text writers (the cell writers and the raw DataRow writers) switch on.
enum class TextKind {
  kBool, kInt, kNumeric, kFloat4, kFloat8, kString, kBytea, kDate, kTime, kTimeTz,
  kTimestamp, kTimestampTz, kInterval, kUuid,
  kOther,  ///< nested and rare types: DuckDB's own text
};
TextKind TextKindOf(engine::TypeId type);
/// The raw text writer of a column of this type, if it is a fixed-bound scalar (booleans,
/// integers, numerics, dates, times, timestamps, uuids).
RawTextWriter RawTextWriterFor(const engine::ColumnInfo& column);

/// The text and binary writers of a column of this type.
CellWriter TextWriterFor(const engine::ColumnInfo& column);
CellWriter BinaryWriterFor(const engine::ColumnInfo& column);
/// Same, from a vector's type alone (list elements, AppendTextValue).
CellWriter TextWriterForType(engine::TypeId type);
CellWriter BinaryWriterForType(engine::TypeId type);

/// True when the element type of a LIST/ARRAY maps to a PostgreSQL array element.
bool IsArrayElement(engine::TypeId element);
/// The PostgreSQL OID of a scalar of this DuckDB type (text for the rest).
int32_t ScalarOid(engine::TypeId type);

}  // namespace plexus::server::pg::internal
