// PostgreSQL's binary format of DuckDB values, and Bind parameters decoded to engine values
// (pg_types.h).
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "plexus/server/pg_types.h"
#include "plexus/server/pg_types_internal.h"

namespace plexus::server::pg::internal {
namespace {

using engine::TypeId;
using engine::VectorRef;

void WriteBool(const VectorRef& v, size_t row, std::string& out) {
  out.push_back(v.Bool(row) ? 1 : 0);
}
void WriteInt2(const VectorRef& v, size_t row, std::string& out) {
  AppendBE16(out, static_cast<int16_t>(v.Int64(row)));
}
void WriteInt4(const VectorRef& v, size_t row, std::string& out) {
  AppendBE32(out, static_cast<int32_t>(v.Int64(row)));
}
void WriteInt8(const VectorRef& v, size_t row, std::string& out) { AppendBE64(out, v.Int64(row)); }
void WriteFloat4(const VectorRef& v, size_t row, std::string& out) {
  float f = static_cast<float>(v.Double(row));
  int32_t bits;
  std::memcpy(&bits, &f, 4);
  AppendBE32(out, bits);
}
void WriteFloat8(const VectorRef& v, size_t row, std::string& out) {
  double d = v.Double(row);
  int64_t bits;
  std::memcpy(&bits, &d, 8);
  AppendBE64(out, bits);
}

// numeric_send: ndigits, weight, sign, dscale, then base-10000 digits, most significant first,
// without leading or trailing zero digits.
void AppendBinaryNumeric(std::string& out, __int128 unscaled, uint8_t scale) {
  bool negative = unscaled < 0;
  unsigned __int128 m =
      negative ? static_cast<unsigned __int128>(0) - static_cast<unsigned __int128>(unscaled)
               : static_cast<unsigned __int128>(unscaled);
  // Scale up so the decimal point falls on a base-10000 boundary.
  int pad = (4 - scale % 4) % 4;
  // 10^pad * m still fits: DuckDB decimals have at most 38 digits.
  for (int i = 0; i < pad; i++) m *= 10;
  int fraction_groups = (scale + pad) / 4;
  int16_t groups[16];
  int n = 0;
  while (m > 0) {
    groups[n++] = static_cast<int16_t>(m % 10000);
    m /= 10000;
  }
  // groups[0] is the least significant; weight of groups[i] is i - fraction_groups.
  int low = 0;
  while (low < n && groups[low] == 0) low++;
  int ndigits = n - low;
  int weight = ndigits == 0 ? 0 : n - 1 - fraction_groups;
  AppendBE16(out, static_cast<int16_t>(ndigits));
  AppendBE16(out, static_cast<int16_t>(weight));
  AppendBE16(out, static_cast<int16_t>(negative && ndigits > 0 ? 0x4000 : 0));
  AppendBE16(out, scale);
  for (int i = n - 1; i >= low; i--) AppendBE16(out, groups[i]);
}

void WriteNumeric(const VectorRef& v, size_t row, std::string& out) {
  engine::DecimalValue d = v.Decimal(row);
  AppendBinaryNumeric(out, d.unscaled, d.scale);
}
void WriteBytes(const VectorRef& v, size_t row, std::string& out) { out.append(v.String(row)); }
void WriteDate(const VectorRef& v, size_t row, std::string& out) {
  int32_t days = v.Date(row);
  if (days == INT32_MAX) return AppendBE32(out, INT32_MAX);
  if (days == -INT32_MAX) return AppendBE32(out, INT32_MIN);
  AppendBE32(out, days - kPgEpochDays);
}
void WriteTime(const VectorRef& v, size_t row, std::string& out) { AppendBE64(out, v.Micros(row)); }
void WriteTimeTz(const VectorRef& v, size_t row, std::string& out) {
  engine::TimeTzValue t = v.TimeTz(row);
  AppendBE64(out, t.micros);
  AppendBE32(out, -t.offset_seconds);  // PostgreSQL keeps seconds west of UTC
}
void WriteTimestamp(const VectorRef& v, size_t row, std::string& out) {
  int64_t micros = v.Micros(row);
  if (micros == INT64_MAX) return AppendBE64(out, INT64_MAX);
  if (micros == -INT64_MAX) return AppendBE64(out, INT64_MIN);
  AppendBE64(out, micros - kPgEpochMicros);
}
void WriteInterval(const VectorRef& v, size_t row, std::string& out) {
  engine::IntervalValue iv = v.Interval(row);
  AppendBE64(out, iv.micros);
  AppendBE32(out, iv.days);
  AppendBE32(out, iv.months);
}
void WriteUuid(const VectorRef& v, size_t row, std::string& out) {
  uint8_t bytes[16];
  v.Uuid(row, bytes);
  out.append(reinterpret_cast<const char*>(bytes), 16);
}
void WriteText(const VectorRef& v, size_t row, std::string& out) {
  TextWriterForType(v.type_id())(v, row, out);
}

// array_send: ndim, has-null flag, element oid, (size, lower bound 1), then each element's
// length (-1 for NULL) and bytes.
void WriteArray(const VectorRef& v, size_t row, std::string& out) {
  engine::ListEntry entry = v.List(row);
  VectorRef child = v.Child();
  CellWriter element = BinaryWriterForType(child.type_id());
  bool has_null = false;
  for (uint64_t i = 0; i < entry.length; i++) has_null |= child.IsNull(entry.offset + i);
  AppendBE32(out, entry.length == 0 ? 0 : 1);
  AppendBE32(out, has_null ? 1 : 0);
  AppendBE32(out, ScalarOid(child.type_id()));
  if (entry.length == 0) return;
  AppendBE32(out, static_cast<int32_t>(entry.length));
  AppendBE32(out, 1);
  for (uint64_t i = 0; i < entry.length; i++) {
    size_t r = entry.offset + i;
    if (child.IsNull(r)) {
      AppendBE32(out, -1);
      continue;
    }
    size_t at = out.size();
    AppendBE32(out, 0);
    element(child, r, out);
    PutBE32(out, at, static_cast<int32_t>(out.size() - at - 4));
  }
}

}  // namespace

CellWriter BinaryWriterForType(TypeId type) {
  switch (ScalarOid(type)) {
    case oid::kBool:
      return WriteBool;
    case oid::kInt2:
      return WriteInt2;
    case oid::kInt4:
      return WriteInt4;
    case oid::kInt8:
      return WriteInt8;
    case oid::kFloat4:
      return WriteFloat4;
    case oid::kFloat8:
      return WriteFloat8;
    case oid::kNumeric:
      return WriteNumeric;
    case oid::kBytea:
      return WriteBytes;
    case oid::kDate:
      return WriteDate;
    case oid::kTime:
      return WriteTime;
    case oid::kTimeTz:
      return WriteTimeTz;
    case oid::kTimestamp:
    case oid::kTimestampTz:
      return WriteTimestamp;
    case oid::kInterval:
      return WriteInterval;
    case oid::kUuid:
      return WriteUuid;
    default:
      return WriteText;  // text, json: the text itself
  }
}

CellWriter BinaryWriterFor(const engine::ColumnInfo& column) {
  if (column.type_id == TypeId::kList || column.type_id == TypeId::kArray) {
    return IsArrayElement(column.element_type) ? WriteArray : WriteText;
  }
  return BinaryWriterForType(column.type_id);
}

}  // namespace plexus::server::pg::internal

namespace plexus::server::pg {

void AppendBinaryValue(const engine::VectorRef& vector, size_t row, std::string& out) {
  engine::TypeId type = vector.type_id();
  if (type == engine::TypeId::kList || type == engine::TypeId::kArray) {
    engine::ColumnInfo info;
    info.type_id = type;
    info.element_type = vector.Child().type_id();
    return internal::BinaryWriterFor(info)(vector, row, out);
  }
  internal::BinaryWriterForType(type)(vector, row, out);
}

}  // namespace plexus::server::pg
