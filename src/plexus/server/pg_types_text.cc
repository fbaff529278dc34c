// PostgreSQL's text format of DuckDB values (pg_types.h): what PostgreSQL 15 prints with
// DateStyle ISO, IntervalStyle postgres, TimeZone UTC and extra_float_digits >= 1.
#include <charconv>
#include <cstring>
#include <limits>

#include "plexus/server/pg_types.h"
#include "plexus/server/pg_types_internal.h"

namespace plexus::server::pg::internal {
namespace {

using engine::TypeId;
using engine::VectorRef;

// A non-negative number, zero-padded to `width`: built backwards in a buffer, appended once
// (this runs for every field of every date and timestamp sent).
void AppendDigits(std::string& out, int64_t v, int width) {
  char buf[24];
  char* end = buf + sizeof(buf);
  char* p = end;
  auto u = static_cast<uint64_t>(v);
  do {
    *--p = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u > 0);
  while (end - p < width) *--p = '0';
  out.append(p, end);
}

// Seconds with the fraction PostgreSQL prints: trailing zeros dropped, none when whole.
void AppendSeconds(std::string& out, int64_t seconds, int64_t fraction_micros) {
  AppendDigits(out, seconds, 2);
  char buf[8];
  out.append(buf, PutPgFraction(buf, static_cast<unsigned>(fraction_micros)));
}

// Shortest round-trip digits, laid out as PostgreSQL does: fixed notation when the decimal
// exponent is in [-4, fixed_limit), else d.ddde+XX.
template <typename T>
void AppendPgFloat(std::string& out, T v, int fixed_limit) {
  if (v != v) return out.append("NaN"), void();
  if (v == std::numeric_limits<T>::infinity()) return out.append("Infinity"), void();
  if (v == -std::numeric_limits<T>::infinity()) return out.append("-Infinity"), void();
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view text(buf, end - buf);
  size_t e_pos = text.find('e');
  std::string_view mantissa = text.substr(0, e_pos);
  int exponent = 0;
  std::from_chars(text.data() + e_pos + 1 + (text[e_pos + 1] == '+'), end, exponent);
  if (!mantissa.empty() && mantissa[0] == '-') {
    out.push_back('-');
    mantissa.remove_prefix(1);
  }
  char digits[32];
  int n = 0;
  for (char c : mantissa) {
    if (c != '.') digits[n++] = c;
  }
  if (exponent < -4 || exponent >= fixed_limit) {
    out.push_back(digits[0]);
    if (n > 1) out.push_back('.'), out.append(digits + 1, n - 1);
    out.push_back('e');
    out.push_back(exponent < 0 ? '-' : '+');
    AppendDigits(out, exponent < 0 ? -exponent : exponent, 2);
  } else if (exponent < 0) {
    out.append("0.");
    out.append(-exponent - 1, '0');
    out.append(digits, n);
  } else if (n <= exponent + 1) {
    out.append(digits, n);
    out.append(exponent + 1 - n, '0');
  } else {
    out.append(digits, exponent + 1);
    out.push_back('.');
    out.append(digits + exponent + 1, n - exponent - 1);
  }
}

// ---- cell writers --------------------------------------------------------------------

void WriteBool(const VectorRef& v, size_t row, std::string& out) {
  out.push_back(v.Bool(row) ? 't' : 'f');
}
void WriteInt(const VectorRef& v, size_t row, std::string& out) { AppendPgInt(out, v.Int64(row)); }
void WriteNumeric(const VectorRef& v, size_t row, std::string& out) {
  engine::DecimalValue d = v.Decimal(row);
  AppendPgNumeric(out, d.unscaled, d.scale);
}
void WriteFloat4(const VectorRef& v, size_t row, std::string& out) {
  AppendPgFloat4(out, static_cast<float>(v.Double(row)));
}
void WriteFloat8(const VectorRef& v, size_t row, std::string& out) {
  AppendPgFloat8(out, v.Double(row));
}
void WriteString(const VectorRef& v, size_t row, std::string& out) { out.append(v.String(row)); }
void WriteBytea(const VectorRef& v, size_t row, std::string& out) {
  AppendPgByteaHex(out, v.String(row));
}
void WriteDate(const VectorRef& v, size_t row, std::string& out) { AppendPgDate(out, v.Date(row)); }
void WriteTime(const VectorRef& v, size_t row, std::string& out) {
  AppendPgTime(out, v.Micros(row));
}
void WriteTimeTz(const VectorRef& v, size_t row, std::string& out) {
  engine::TimeTzValue t = v.TimeTz(row);
  AppendPgTimeTz(out, t.micros, t.offset_seconds);
}
void WriteTimestamp(const VectorRef& v, size_t row, std::string& out) {
  AppendPgTimestamp(out, v.Micros(row), false);
}
void WriteTimestampTz(const VectorRef& v, size_t row, std::string& out) {
  AppendPgTimestamp(out, v.Micros(row), true);
}
void WriteInterval(const VectorRef& v, size_t row, std::string& out) {
  engine::IntervalValue iv = v.Interval(row);
  AppendPgInterval(out, iv.months, iv.days, iv.micros);
}
void WriteUuid(const VectorRef& v, size_t row, std::string& out) {
  uint8_t bytes[16];
  v.Uuid(row, bytes);
  AppendPgUuid(out, bytes);
}
void WriteDuckDbText(const VectorRef& v, size_t row, std::string& out) { v.AppendText(row, out); }

// array_out's rule: quote an element that is empty, NULL in any case, or holds a quote,
// backslash, brace, comma or white space.
bool ArrayElementNeedsQuotes(std::string_view text) {
  if (text.empty()) return true;
  if (text.size() == 4 && (text[0] | 0x20) == 'n' && (text[1] | 0x20) == 'u' &&
      (text[2] | 0x20) == 'l' && (text[3] | 0x20) == 'l') {
    return true;
  }
  for (char c : text) {
    if (c == '"' || c == '\\' || c == '{' || c == '}' || c == ',' || c == ' ' || c == '\t' ||
        c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      return true;
    }
  }
  return false;
}

void WriteArray(const VectorRef& v, size_t row, std::string& out) {
  engine::ListEntry entry = v.List(row);
  VectorRef child = v.Child();
  CellWriter element = TextWriterForType(child.type_id());
  thread_local std::string scratch;
  out.push_back('{');
  for (uint64_t i = 0; i < entry.length; i++) {
    if (i > 0) out.push_back(',');
    size_t r = entry.offset + i;
    if (child.IsNull(r)) {
      out.append("NULL");
      continue;
    }
    scratch.clear();
    element(child, r, scratch);
    if (!ArrayElementNeedsQuotes(scratch)) {
      out.append(scratch);
      continue;
    }
    out.push_back('"');
    for (char c : scratch) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
}

}  // namespace

// The fixed-bound kinds are written by pg_types_raw.cc's Put* into a stack buffer.
void AppendPgInt(std::string& out, int64_t v) {
  char buf[kMaxIntText];
  out.append(buf, PutPgInt(buf, v));
}

void AppendPgNumeric(std::string& out, __int128 unscaled, uint8_t scale) {
  char buf[kMaxNumericText];
  out.append(buf, PutPgNumeric(buf, unscaled, scale));
}

void AppendPgFloat8(std::string& out, double v) { AppendPgFloat(out, v, 15); }
void AppendPgFloat4(std::string& out, float v) { AppendPgFloat(out, v, 6); }

void AppendPgDate(std::string& out, int32_t days) {
  char buf[kMaxDateText];
  out.append(buf, PutPgDate(buf, days));
}

void AppendPgTime(std::string& out, int64_t micros) {
  char buf[kMaxTimeText];
  out.append(buf, PutPgTime(buf, micros));
}

void AppendPgTimeTz(std::string& out, int64_t micros, int32_t offset) {
  AppendPgTime(out, micros);
  out.push_back(offset < 0 ? '-' : '+');
  int32_t a = offset < 0 ? -offset : offset;
  AppendDigits(out, a / 3600, 2);
  if (a % 3600 != 0) {
    out.push_back(':');
    AppendDigits(out, (a / 60) % 60, 2);
    if (a % 60 != 0) out.push_back(':'), AppendDigits(out, a % 60, 2);
  }
}

void AppendPgTimestamp(std::string& out, int64_t micros, bool with_time_zone) {
  char buf[kMaxTimestampText];
  out.append(buf, PutPgTimestamp(buf, micros, with_time_zone));
}

void AppendPgInterval(std::string& out, int32_t months, int32_t days, int64_t micros) {
  bool is_zero = true, is_before = false;
  auto part = [&](int64_t value, const char* unit) {
    if (value == 0) return;
    if (!is_zero) out.push_back(' ');
    if (is_before && value > 0) out.push_back('+');
    AppendPgInt(out, value);
    out.push_back(' ');
    out.append(unit);
    if (value != 1) out.push_back('s');
    is_before = value < 0;
    is_zero = false;
  };
  part(months / 12, "year");
  part(months % 12, "mon");
  part(days, "day");
  if (!is_zero && micros == 0) return;
  if (!is_zero) out.push_back(' ');
  if (micros < 0) {
    out.push_back('-');
  } else if (is_before) {
    out.push_back('+');
  }
  uint64_t a = micros < 0 ? 0 - static_cast<uint64_t>(micros) : static_cast<uint64_t>(micros);
  uint64_t seconds = a / 1000000;
  AppendDigits(out, static_cast<int64_t>(seconds / 3600), 2);
  out.push_back(':');
  AppendDigits(out, static_cast<int64_t>((seconds / 60) % 60), 2);
  out.push_back(':');
  AppendSeconds(out, static_cast<int64_t>(seconds % 60), static_cast<int64_t>(a % 1000000));
}

void AppendPgUuid(std::string& out, const uint8_t bytes[16]) {
  char buf[kUuidText];
  out.append(buf, PutPgUuid(buf, bytes));
}

void AppendPgByteaHex(std::string& out, std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  size_t pos = out.size();
  out.resize(pos + 2 + 2 * bytes.size());
  out[pos++] = '\\';
  out[pos++] = 'x';
  for (unsigned char c : bytes) {
    out[pos++] = kHex[c >> 4];
    out[pos++] = kHex[c & 15];
  }
}

TextKind TextKindOf(TypeId type) {
  switch (type) {
    case TypeId::kBoolean:
      return TextKind::kBool;
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kInteger:
    case TypeId::kBigInt:
    case TypeId::kUTinyInt:
    case TypeId::kUSmallInt:
    case TypeId::kUInteger:
      return TextKind::kInt;
    case TypeId::kUBigInt:
    case TypeId::kHugeInt:
    case TypeId::kUHugeInt:
    case TypeId::kDecimal:
      return TextKind::kNumeric;
    case TypeId::kFloat:
      return TextKind::kFloat4;
    case TypeId::kDouble:
      return TextKind::kFloat8;
    case TypeId::kVarchar:
    case TypeId::kJson:
    case TypeId::kEnum:
      return TextKind::kString;
    case TypeId::kBlob:
      return TextKind::kBytea;
    case TypeId::kDate:
      return TextKind::kDate;
    case TypeId::kTime:
      return TextKind::kTime;
    case TypeId::kTimeTz:
      return TextKind::kTimeTz;
    case TypeId::kTimestamp:
    case TypeId::kTimestampNs:
      return TextKind::kTimestamp;
    case TypeId::kTimestampTz:
      return TextKind::kTimestampTz;
    case TypeId::kInterval:
      return TextKind::kInterval;
    case TypeId::kUuid:
      return TextKind::kUuid;
    default:
      return TextKind::kOther;
  }
}

CellWriter TextWriterForType(TypeId type) {
  switch (TextKindOf(type)) {
    case TextKind::kBool: return WriteBool;
    case TextKind::kInt: return WriteInt;
    case TextKind::kNumeric: return WriteNumeric;
    case TextKind::kFloat4: return WriteFloat4;
    case TextKind::kFloat8: return WriteFloat8;
    case TextKind::kString: return WriteString;
    case TextKind::kBytea: return WriteBytea;
    case TextKind::kDate: return WriteDate;
    case TextKind::kTime: return WriteTime;
    case TextKind::kTimeTz: return WriteTimeTz;
    case TextKind::kTimestamp: return WriteTimestamp;
    case TextKind::kTimestampTz: return WriteTimestampTz;
    case TextKind::kInterval: return WriteInterval;
    case TextKind::kUuid: return WriteUuid;
    case TextKind::kOther: break;
  }
  return WriteDuckDbText;
}

CellWriter TextWriterFor(const engine::ColumnInfo& column) {
  if (column.type_id == TypeId::kList || column.type_id == TypeId::kArray) {
    return IsArrayElement(column.element_type) ? WriteArray : WriteDuckDbText;
  }
  return TextWriterForType(column.type_id);
}

}  // namespace plexus::server::pg::internal

namespace plexus::server::pg {

void AppendTextValue(const engine::VectorRef& vector, size_t row, std::string& out) {
  engine::TypeId type = vector.type_id();
  if (type == engine::TypeId::kList || type == engine::TypeId::kArray) {
    engine::ColumnInfo info;
    info.type_id = type;
    info.element_type = vector.Child().type_id();
    return internal::TextWriterFor(info)(vector, row, out);
  }
  internal::TextWriterForType(type)(vector, row, out);
}

}  // namespace plexus::server::pg
