// PostgreSQL's text of the common scalar types written straight into a byte buffer
// (pg_types_internal.h: Put*, RawTextWriterFor). The DataRow encoder runs these for every cell
// of a result, so they write through a pointer into room the caller reserved, with no
// std::string bookkeeping per piece; the Append* forms in pg_types_text.cc wrap them.
#include <charconv>
#include <cstring>

#include "plexus/server/pg_types.h"
#include "plexus/server/pg_types_internal.h"

namespace plexus::server::pg::internal {
namespace {

using engine::TypeId;
using engine::VectorRef;

constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

char* PutTwo(char* p, unsigned v) {  // v < 100
  std::memcpy(p, kDigitPairs + 2 * v, 2);
  return p + 2;
}

// A non-negative number, zero-padded to at least `width` digits.
char* PutDigits(char* p, uint64_t v, int width) {
  char buf[24];
  char* end = buf + sizeof(buf);
  char* q = end;
  do {
    *--q = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (end - q < width) *--q = '0';
  std::memcpy(p, q, end - q);
  return p + (end - q);
}

// Proleptic Gregorian date of a day number (days since 1970-01-01); year 0 is 1 BC.
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  if (m <= 2) y++;
}

// "YYYY-MM-DD"; *bc tells whether the year is BC (the caller appends " BC" at the very end).
char* PutYmdUncached(char* p, int64_t days, bool* bc) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  *bc = y <= 0;
  uint64_t year = static_cast<uint64_t>(*bc ? 1 - y : y);
  if (year < 10000) {
    p = PutTwo(p, static_cast<unsigned>(year / 100));
    p = PutTwo(p, static_cast<unsigned>(year % 100));
  } else {
    p = PutDigits(p, year, 4);
  }
  *p++ = '-';
  p = PutTwo(p, m);
  *p++ = '-';
  return PutTwo(p, d);
}

// PutYmdUncached with the last day's text kept per thread: the timestamps of a result tend to
// fall on few days (a day of one-second steps is 86,400 rows), so most rows copy 16 bytes.
// `p` needs room for 16 bytes whatever the date's length (every Put* bound is at least that).
char* PutYmd(char* p, int64_t days, bool* bc) {
  struct Cached {
    int64_t days = INT64_MIN;
    char text[16] = {};
    size_t size = 0;
    bool bc = false;
  };
  thread_local Cached cached;
  if (days != cached.days) {
    cached.size = static_cast<size_t>(PutYmdUncached(cached.text, days, &cached.bc) - cached.text);
    cached.days = days;
  }
  std::memcpy(p, cached.text, sizeof(cached.text));
  *bc = cached.bc;
  return p + cached.size;
}

char* PutText(char* p, std::string_view text) {
  std::memcpy(p, text.data(), text.size());
  return p + text.size();
}

// ---- raw cell writers ------------------------------------------------------------------

char* RawBool(const VectorRef& v, size_t row, char* p) {
  *p = v.Bool(row) ? 't' : 'f';
  return p + 1;
}
char* RawInt(const VectorRef& v, size_t row, char* p) { return PutPgInt(p, v.Int64(row)); }
char* RawNumeric(const VectorRef& v, size_t row, char* p) {
  engine::DecimalValue d = v.Decimal(row);
  return PutPgNumeric(p, d.unscaled, d.scale);
}
char* RawDate(const VectorRef& v, size_t row, char* p) { return PutPgDate(p, v.Date(row)); }
char* RawTime(const VectorRef& v, size_t row, char* p) { return PutPgTime(p, v.Micros(row)); }
char* RawTimestamp(const VectorRef& v, size_t row, char* p) {
  return PutPgTimestamp(p, v.Micros(row), false);
}
char* RawTimestampTz(const VectorRef& v, size_t row, char* p) {
  return PutPgTimestamp(p, v.Micros(row), true);
}
char* RawUuid(const VectorRef& v, size_t row, char* p) {
  uint8_t bytes[16];
  v.Uuid(row, bytes);
  return PutPgUuid(p, bytes);
}

}  // namespace

char* PutPgInt(char* p, int64_t v) { return std::to_chars(p, p + kMaxIntText, v).ptr; }

char* PutPgNumeric(char* p, __int128 unscaled, uint8_t scale) {
  bool negative = unscaled < 0;
  unsigned __int128 magnitude =
      negative ? static_cast<unsigned __int128>(0) - static_cast<unsigned __int128>(unscaled)
               : static_cast<unsigned __int128>(unscaled);
  // Backwards from the last digit; the point goes in once `scale` digits are written.
  char buf[kMaxNumericText];
  char* end = buf + sizeof(buf);
  char* q = end;
  int digits = 0;
  auto put = [&](int digit) {
    if (scale > 0 && digits == scale) *--q = '.';
    *--q = static_cast<char>('0' + digit);
    ++digits;
  };
  if (magnitude <= UINT64_MAX) {  // 64-bit division: 128-bit division is a library call
    auto small = static_cast<uint64_t>(magnitude);
    do {
      put(static_cast<int>(small % 10));
      small /= 10;
    } while (small > 0);
  } else {
    do {
      put(static_cast<int>(magnitude % 10));
      magnitude /= 10;
    } while (magnitude > 0);
  }
  while (digits <= scale) put(0);  // at least one digit before the point
  if (negative) *--q = '-';
  std::memcpy(p, q, end - q);
  return p + (end - q);
}

char* PutPgDate(char* p, int32_t days) {
  if (days == INT32_MAX) return PutText(p, "infinity");
  if (days == -INT32_MAX || days == INT32_MIN) return PutText(p, "-infinity");
  bool bc;
  p = PutYmd(p, days, &bc);
  return bc ? PutText(p, " BC") : p;
}

char* PutPgTime(char* p, int64_t micros) {  // micros >= 0
  uint64_t seconds = static_cast<uint64_t>(micros) / 1000000;
  auto fraction = static_cast<unsigned>(static_cast<uint64_t>(micros) % 1000000);
  uint64_t hours = seconds / 3600;
  p = hours < 100 ? PutTwo(p, static_cast<unsigned>(hours)) : PutDigits(p, hours, 2);
  *p++ = ':';
  p = PutTwo(p, static_cast<unsigned>((seconds / 60) % 60));
  *p++ = ':';
  p = PutTwo(p, static_cast<unsigned>(seconds % 60));
  return PutPgFraction(p, fraction);
}

char* PutPgFraction(char* p, unsigned micros) {
  if (micros == 0) return p;  // PostgreSQL drops the trailing zeros, and a whole point
  char buf[6];
  for (int i = 5; i >= 0; i--) {
    buf[i] = static_cast<char>('0' + micros % 10);
    micros /= 10;
  }
  int n = 6;
  while (buf[n - 1] == '0') n--;
  *p++ = '.';
  std::memcpy(p, buf, n);
  return p + n;
}

char* PutPgTimestamp(char* p, int64_t micros, bool with_time_zone) {
  if (micros == INT64_MAX) return PutText(p, "infinity");
  if (micros == -INT64_MAX || micros == INT64_MIN) return PutText(p, "-infinity");
  constexpr int64_t kDay = 86400000000;
  int64_t days = micros / kDay;
  int64_t rest = micros % kDay;
  if (rest < 0) rest += kDay, days--;
  bool bc;
  p = PutYmd(p, days, &bc);
  *p++ = ' ';
  p = PutPgTime(p, rest);
  if (with_time_zone) p = PutText(p, "+00");
  return bc ? PutText(p, " BC") : p;
}

char* PutPgUuid(char* p, const uint8_t bytes[16]) {
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
    *p++ = kHex[bytes[i] >> 4];
    *p++ = kHex[bytes[i] & 15];
  }
  return p;
}

RawTextWriter RawTextWriterFor(const engine::ColumnInfo& column) {
  switch (TextKindOf(column.type_id)) {
    case TextKind::kBool: return {RawBool, 1};
    case TextKind::kInt: return {RawInt, kMaxIntText};
    case TextKind::kNumeric: return {RawNumeric, kMaxNumericText};
    case TextKind::kDate: return {RawDate, kMaxDateText};
    case TextKind::kTime: return {RawTime, kMaxTimeText};
    case TextKind::kTimestamp: return {RawTimestamp, kMaxTimestampText};
    case TextKind::kTimestampTz: return {RawTimestampTz, kMaxTimestampText};
    case TextKind::kUuid: return {RawUuid, kUuidText};
    default: return {};  // strings, floats, intervals, nested: the cell writers
  }
}

}  // namespace plexus::server::pg::internal
