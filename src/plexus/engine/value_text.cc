#include "plexus/engine/value_text.h"

#include "plexus/engine/result_writer.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>

namespace plexus::engine::internal {
namespace {

struct LogicalType {  // owns a duckdb_logical_type
  duckdb_logical_type type;
  explicit LogicalType(duckdb_logical_type t) : type(t) {}
  ~LogicalType() { duckdb_destroy_logical_type(&type); }
  LogicalType(const LogicalType&) = delete;
  LogicalType& operator=(const LogicalType&) = delete;
};

std::string TakeCString(char* s) {
  std::string out = s ? s : "";
  duckdb_free(s);
  return out;
}

template <typename T>
void AppendInteger(std::string& out, T value) {
  char buf[48];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, end);
}

void AppendInt128(std::string& out, __int128 value) {
  if (value == 0) {
    out.push_back('0');
    return;
  }
  bool negative = value < 0;
  unsigned __int128 magnitude =
      negative ? static_cast<unsigned __int128>(-(value + 1)) + 1 : static_cast<unsigned __int128>(value);
  char buf[48];
  int pos = sizeof(buf);
  while (magnitude > 0) {
    buf[--pos] = static_cast<char>('0' + static_cast<int>(magnitude % 10));
    magnitude /= 10;
  }
  if (negative) buf[--pos] = '-';
  out.append(buf + pos, sizeof(buf) - pos);
}

template <typename T>
void AppendFloat(std::string& out, T value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  std::string_view text(buf, end - buf);
  out.append(text);
  // DuckDB writes whole floats as 1.0; keep that so results read the same in every client.
  if (text.find_first_of(".eEn") == std::string_view::npos) out.append(".0");
}

void AppendScaled(std::string& out, __int128 value, uint8_t scale) {
  std::string digits;
  bool negative = value < 0;
  AppendInt128(digits, negative ? -value : value);
  if (scale > 0) {
    if (digits.size() <= scale) digits.insert(0, scale - digits.size() + 1, '0');
    digits.insert(digits.size() - scale, 1, '.');
  }
  if (negative) out.push_back('-');
  out.append(digits);
}

__int128 HugeToInt128(duckdb_hugeint h) {
  return (static_cast<__int128>(h.upper) << 64) | static_cast<__int128>(h.lower);
}

void AppendTwoDigits(std::string& out, int v) {
  out.push_back(static_cast<char>('0' + v / 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

void AppendDate(std::string& out, duckdb_date date) {
  if (date.days == INT32_MAX) return out.append("infinity"), void();
  if (date.days == -INT32_MAX) return out.append("-infinity"), void();
  duckdb_date_struct d = duckdb_from_date(date);
  char buf[32];
  int n = d.year > 0 ? std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", d.year, d.month, d.day)
                     : std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d (BC)", 1 - d.year,
                                     d.month, d.day);
  out.append(buf, n);
}

void AppendTimeOfDay(std::string& out, int64_t micros) {
  int64_t seconds = micros / 1000000;
  int64_t fraction = micros % 1000000;
  AppendTwoDigits(out, static_cast<int>(seconds / 3600));
  out.push_back(':');
  AppendTwoDigits(out, static_cast<int>((seconds / 60) % 60));
  out.push_back(':');
  AppendTwoDigits(out, static_cast<int>(seconds % 60));
  if (fraction != 0) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "%06lld", static_cast<long long>(fraction));
    std::string_view f(buf, 6);
    while (!f.empty() && f.back() == '0') f.remove_suffix(1);
    out.push_back('.');
    out.append(f);
  }
}

void AppendTimestampMicros(std::string& out, int64_t micros) {
  if (micros == INT64_MAX) return out.append("infinity"), void();
  if (micros == -INT64_MAX) return out.append("-infinity"), void();
  int64_t days = micros / 86400000000LL;
  int64_t rest = micros % 86400000000LL;
  if (rest < 0) {
    rest += 86400000000LL;
    days -= 1;
  }
  AppendDate(out, duckdb_date{static_cast<int32_t>(days)});
  out.push_back(' ');
  AppendTimeOfDay(out, rest);
}

void AppendInterval(std::string& out, duckdb_interval iv) {
  bool any = false;
  auto part = [&](int64_t n, const char* unit) {
    if (n == 0) return;
    if (any) out.push_back(' ');
    AppendInteger(out, n);
    out.push_back(' ');
    out.append(unit);
    if (n != 1 && n != -1) out.push_back('s');
    any = true;
  };
  part(iv.months / 12, "year");
  part(iv.months % 12, "month");
  part(iv.days, "day");
  if (iv.micros != 0 || !any) {
    if (any) out.push_back(' ');
    int64_t m = iv.micros;
    if (m < 0) {
      out.push_back('-');
      m = -m;
    }
    AppendTimeOfDay(out, m);
  }
}

void AppendUuid(std::string& out, duckdb_hugeint h) {
  uint64_t upper = static_cast<uint64_t>(h.upper) ^ (uint64_t{1} << 63);
  uint64_t lower = h.lower;
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(upper >> 32),
                static_cast<unsigned long long>((upper >> 16) & 0xffff),
                static_cast<unsigned long long>(upper & 0xffff),
                static_cast<unsigned long long>(lower >> 48),
                static_cast<unsigned long long>(lower & 0xffffffffffffULL));
  out.append(buf);
}

void AppendBlob(std::string& out, std::string_view bytes) {
  static const char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : bytes) {
    if (c >= 32 && c < 127 && c != '\\' && c != '\'' && c != '"') {
      out.push_back(static_cast<char>(c));
    } else {
      out.append("\\x");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

std::string_view StringAt(duckdb_vector vector, idx_t row) {
  auto* strings = static_cast<duckdb_string_t*>(duckdb_vector_get_data(vector));
  duckdb_string_t* s = &strings[row];
  return {duckdb_string_t_data(s), duckdb_string_t_length(*s)};
}

bool RowValid(duckdb_vector vector, idx_t row) {
  uint64_t* validity = duckdb_vector_get_validity(vector);
  return validity == nullptr || duckdb_validity_row_is_valid(validity, row);
}

void AppendNested(duckdb_vector vector, duckdb_logical_type child_type, idx_t row,
                  std::string& out) {
  if (!RowValid(vector, row)) return out.append("NULL"), void();
  AppendVectorValue(vector, child_type, row, out, true);
}

void AppendQuotedIfText(duckdb_vector vector, duckdb_logical_type type, idx_t row,
                        std::string& out) {
  duckdb_type id = duckdb_get_type_id(type);
  bool text = id == DUCKDB_TYPE_VARCHAR && RowValid(vector, row);
  if (text) out.push_back('\'');
  AppendNested(vector, type, row, out);
  if (text) out.push_back('\'');
}

template <typename T>
T At(duckdb_vector vector, idx_t row) {
  return static_cast<T*>(duckdb_vector_get_data(vector))[row];
}

/// The entries of the MAP value at `row`: entry i is row `first + i` of `keys` and `values`.
struct MapRow {
  MapRow(duckdb_vector vector, duckdb_logical_type type, idx_t row)
      : first(At<duckdb_list_entry>(vector, row).offset),
        size(At<duckdb_list_entry>(vector, row).length),
        keys(duckdb_struct_vector_get_child(duckdb_list_vector_get_child(vector), 0)),
        values(duckdb_struct_vector_get_child(duckdb_list_vector_get_child(vector), 1)),
        key_type(duckdb_map_type_key_type(type)),
        value_type(duckdb_map_type_value_type(type)) {}
  idx_t first, size;
  duckdb_vector keys, values;
  LogicalType key_type, value_type;
};

}  // namespace

void AppendVectorValue(duckdb_vector vector, duckdb_logical_type type, idx_t row,
                       std::string& out, bool nested) {
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_BOOLEAN:
      out.append(At<bool>(vector, row) ? "true" : "false");
      return;
    case DUCKDB_TYPE_TINYINT: return AppendInteger(out, At<int8_t>(vector, row));
    case DUCKDB_TYPE_SMALLINT: return AppendInteger(out, At<int16_t>(vector, row));
    case DUCKDB_TYPE_INTEGER: return AppendInteger(out, At<int32_t>(vector, row));
    case DUCKDB_TYPE_BIGINT: return AppendInteger(out, At<int64_t>(vector, row));
    case DUCKDB_TYPE_UTINYINT: return AppendInteger(out, At<uint8_t>(vector, row));
    case DUCKDB_TYPE_USMALLINT: return AppendInteger(out, At<uint16_t>(vector, row));
    case DUCKDB_TYPE_UINTEGER: return AppendInteger(out, At<uint32_t>(vector, row));
    case DUCKDB_TYPE_UBIGINT: return AppendInteger(out, At<uint64_t>(vector, row));
    case DUCKDB_TYPE_HUGEINT:
      return AppendInt128(out, HugeToInt128(At<duckdb_hugeint>(vector, row)));
    case DUCKDB_TYPE_UHUGEINT: {
      auto h = At<duckdb_uhugeint>(vector, row);
      unsigned __int128 v = (static_cast<unsigned __int128>(h.upper) << 64) | h.lower;
      std::string digits;
      do {
        digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
        v /= 10;
      } while (v > 0);
      out.append(digits);
      return;
    }
    case DUCKDB_TYPE_FLOAT: return AppendFloat(out, At<float>(vector, row));
    case DUCKDB_TYPE_DOUBLE: return AppendFloat(out, At<double>(vector, row));
    case DUCKDB_TYPE_DECIMAL: {
      uint8_t scale = duckdb_decimal_scale(type);
      switch (duckdb_decimal_internal_type(type)) {
        case DUCKDB_TYPE_SMALLINT: return AppendScaled(out, At<int16_t>(vector, row), scale);
        case DUCKDB_TYPE_INTEGER: return AppendScaled(out, At<int32_t>(vector, row), scale);
        case DUCKDB_TYPE_BIGINT: return AppendScaled(out, At<int64_t>(vector, row), scale);
        default:
          return AppendScaled(out, HugeToInt128(At<duckdb_hugeint>(vector, row)), scale);
      }
    }
    case DUCKDB_TYPE_VARCHAR:
      out.append(StringAt(vector, row));
      return;
    case DUCKDB_TYPE_BLOB:
      return AppendBlob(out, StringAt(vector, row));
    case DUCKDB_TYPE_DATE: return AppendDate(out, At<duckdb_date>(vector, row));
    case DUCKDB_TYPE_TIME: return AppendTimeOfDay(out, At<duckdb_time>(vector, row).micros);
    case DUCKDB_TYPE_TIMESTAMP:
      return AppendTimestampMicros(out, At<duckdb_timestamp>(vector, row).micros);
    case DUCKDB_TYPE_TIMESTAMP_TZ:
      AppendTimestampMicros(out, At<duckdb_timestamp>(vector, row).micros);
      out.append("+00");
      return;
    case DUCKDB_TYPE_TIMESTAMP_S:
      return AppendTimestampMicros(out, At<int64_t>(vector, row) * 1000000);
    case DUCKDB_TYPE_TIMESTAMP_MS:
      return AppendTimestampMicros(out, At<int64_t>(vector, row) * 1000);
    case DUCKDB_TYPE_TIMESTAMP_NS:
      return AppendTimestampMicros(out, At<int64_t>(vector, row) / 1000);
    case DUCKDB_TYPE_INTERVAL: return AppendInterval(out, At<duckdb_interval>(vector, row));
    case DUCKDB_TYPE_UUID: return AppendUuid(out, At<duckdb_hugeint>(vector, row));
    case DUCKDB_TYPE_ENUM: {
      uint64_t index = 0;
      switch (duckdb_enum_internal_type(type)) {
        case DUCKDB_TYPE_UTINYINT: index = At<uint8_t>(vector, row); break;
        case DUCKDB_TYPE_USMALLINT: index = At<uint16_t>(vector, row); break;
        default: index = At<uint32_t>(vector, row); break;
      }
      out.append(TakeCString(duckdb_enum_dictionary_value(type, index)));
      return;
    }
    case DUCKDB_TYPE_LIST: {
      auto entry = At<duckdb_list_entry>(vector, row);
      duckdb_vector child = duckdb_list_vector_get_child(vector);
      LogicalType child_type(duckdb_list_type_child_type(type));
      out.push_back('[');
      for (idx_t i = 0; i < entry.length; i++) {
        if (i > 0) out.append(", ");
        AppendQuotedIfText(child, child_type.type, entry.offset + i, out);
      }
      out.push_back(']');
      return;
    }
    case DUCKDB_TYPE_ARRAY: {
      idx_t size = duckdb_array_type_array_size(type);
      duckdb_vector child = duckdb_array_vector_get_child(vector);
      LogicalType child_type(duckdb_array_type_child_type(type));
      out.push_back('[');
      for (idx_t i = 0; i < size; i++) {
        if (i > 0) out.append(", ");
        AppendQuotedIfText(child, child_type.type, row * size + i, out);
      }
      out.push_back(']');
      return;
    }
    case DUCKDB_TYPE_STRUCT: {
      idx_t n = duckdb_struct_type_child_count(type);
      out.push_back('{');
      for (idx_t i = 0; i < n; i++) {
        if (i > 0) out.append(", ");
        out.push_back('\'');
        out.append(TakeCString(duckdb_struct_type_child_name(type, i)));
        out.append("': ");
        LogicalType child_type(duckdb_struct_type_child_type(type, i));
        AppendQuotedIfText(duckdb_struct_vector_get_child(vector, i), child_type.type, row, out);
      }
      out.push_back('}');
      return;
    }
    case DUCKDB_TYPE_MAP: {
      MapRow map(vector, type, row);
      out.push_back('{');
      for (idx_t i = map.first; i < map.first + map.size; i++) {
        if (i > map.first) out.append(", ");
        AppendNested(map.keys, map.key_type.type, i, out);
        out.push_back('=');
        AppendNested(map.values, map.value_type.type, i, out);
      }
      out.push_back('}');
      return;
    }
    default:
      (void)nested;
      out.append("<").append(TypeName(type)).append(">");
      return;
  }
}

std::string TypeName(duckdb_logical_type type) {
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_BOOLEAN: return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT: return "TINYINT";
    case DUCKDB_TYPE_SMALLINT: return "SMALLINT";
    case DUCKDB_TYPE_INTEGER: return "INTEGER";
    case DUCKDB_TYPE_BIGINT: return "BIGINT";
    case DUCKDB_TYPE_UTINYINT: return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT: return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER: return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT: return "UBIGINT";
    case DUCKDB_TYPE_HUGEINT: return "HUGEINT";
    case DUCKDB_TYPE_UHUGEINT: return "UHUGEINT";
    case DUCKDB_TYPE_FLOAT: return "FLOAT";
    case DUCKDB_TYPE_DOUBLE: return "DOUBLE";
    case DUCKDB_TYPE_DECIMAL:
      return "DECIMAL(" + std::to_string(duckdb_decimal_width(type)) + "," +
             std::to_string(duckdb_decimal_scale(type)) + ")";
    case DUCKDB_TYPE_VARCHAR: return "VARCHAR";
    case DUCKDB_TYPE_BLOB: return "BLOB";
    case DUCKDB_TYPE_DATE: return "DATE";
    case DUCKDB_TYPE_TIME: return "TIME";
    case DUCKDB_TYPE_TIME_TZ: return "TIME WITH TIME ZONE";
    case DUCKDB_TYPE_TIMESTAMP: return "TIMESTAMP";
    case DUCKDB_TYPE_TIMESTAMP_TZ: return "TIMESTAMP WITH TIME ZONE";
    case DUCKDB_TYPE_TIMESTAMP_S: return "TIMESTAMP_S";
    case DUCKDB_TYPE_TIMESTAMP_MS: return "TIMESTAMP_MS";
    case DUCKDB_TYPE_TIMESTAMP_NS: return "TIMESTAMP_NS";
    case DUCKDB_TYPE_INTERVAL: return "INTERVAL";
    case DUCKDB_TYPE_UUID: return "UUID";
    case DUCKDB_TYPE_ENUM: return "ENUM";
    case DUCKDB_TYPE_BIT: return "BIT";
    case DUCKDB_TYPE_LIST: {
      LogicalType child(duckdb_list_type_child_type(type));
      return TypeName(child.type) + "[]";
    }
    case DUCKDB_TYPE_ARRAY: {
      LogicalType child(duckdb_array_type_child_type(type));
      return TypeName(child.type) + "[" + std::to_string(duckdb_array_type_array_size(type)) + "]";
    }
    case DUCKDB_TYPE_MAP: {
      LogicalType k(duckdb_map_type_key_type(type));
      LogicalType v(duckdb_map_type_value_type(type));
      return "MAP(" + TypeName(k.type) + ", " + TypeName(v.type) + ")";
    }
    case DUCKDB_TYPE_STRUCT: {
      std::string name = "STRUCT(";
      for (idx_t i = 0; i < duckdb_struct_type_child_count(type); i++) {
        if (i > 0) name += ", ";
        LogicalType child(duckdb_struct_type_child_type(type, i));
        name += TakeCString(duckdb_struct_type_child_name(type, i)) + " " + TypeName(child.type);
      }
      return name + ")";
    }
    case DUCKDB_TYPE_UNION: return "UNION";
    case DUCKDB_TYPE_SQLNULL: return "NULL";
    default: return "UNKNOWN";
  }
}

void AppendJsonValue(duckdb_vector vector, duckdb_logical_type type, idx_t row, std::string& out) {
  if (!RowValid(vector, row)) return out.append("null"), void();
  auto elements = [&](duckdb_vector child, duckdb_logical_type child_type, idx_t from, idx_t n) {
    out.push_back('[');
    for (idx_t i = 0; i < n; i++) {
      if (i > 0) out.push_back(',');
      AppendJsonValue(child, child_type, from + i, out);
    }
    out.push_back(']');
  };
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_LIST: {
      auto entry = At<duckdb_list_entry>(vector, row);
      LogicalType child_type(duckdb_list_type_child_type(type));
      return elements(duckdb_list_vector_get_child(vector), child_type.type, entry.offset,
                      entry.length);
    }
    case DUCKDB_TYPE_ARRAY: {
      idx_t size = duckdb_array_type_array_size(type);
      LogicalType child_type(duckdb_array_type_child_type(type));
      return elements(duckdb_array_vector_get_child(vector), child_type.type, row * size, size);
    }
    case DUCKDB_TYPE_STRUCT: {
      out.push_back('{');
      for (idx_t i = 0, n = duckdb_struct_type_child_count(type); i < n; i++) {
        if (i > 0) out.push_back(',');
        AppendJsonString(TakeCString(duckdb_struct_type_child_name(type, i)), out);
        out.push_back(':');
        LogicalType child_type(duckdb_struct_type_child_type(type, i));
        AppendJsonValue(duckdb_struct_vector_get_child(vector, i), child_type.type, row, out);
      }
      out.push_back('}');
      return;
    }
    case DUCKDB_TYPE_MAP: {
      MapRow map(vector, type, row);
      std::string key;
      out.push_back('{');
      for (idx_t i = map.first; i < map.first + map.size; i++) {
        if (i > map.first) out.push_back(',');
        key.clear();
        AppendVectorValue(map.keys, map.key_type.type, i, key, true);
        AppendJsonString(key, out);
        out.push_back(':');
        AppendJsonValue(map.values, map.value_type.type, i, out);
      }
      out.push_back('}');
      return;
    }
    default:
      break;
  }
  std::string text;
  AppendVectorValue(vector, type, row, text, true);
  JsonKind kind = JsonKindOf(type);
  bool finite = text != "inf" && text != "-inf" && text != "nan" && text != "-nan";
  if (kind == JsonKind::kString || !finite) return AppendJsonString(text, out);
  out.append(text);
}

JsonKind JsonKindOf(duckdb_logical_type type) {
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_BOOLEAN: return JsonKind::kBoolean;
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT:
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_DECIMAL: return JsonKind::kNumber;
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY:
    case DUCKDB_TYPE_STRUCT:
    case DUCKDB_TYPE_MAP: return JsonKind::kNested;
    default: return JsonKind::kString;
  }
}

double NumericValue(duckdb_vector vector, duckdb_logical_type type, idx_t row) {
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_BOOLEAN: return At<bool>(vector, row) ? 1 : 0;
    case DUCKDB_TYPE_TINYINT: return At<int8_t>(vector, row);
    case DUCKDB_TYPE_SMALLINT: return At<int16_t>(vector, row);
    case DUCKDB_TYPE_INTEGER: return At<int32_t>(vector, row);
    case DUCKDB_TYPE_BIGINT: return static_cast<double>(At<int64_t>(vector, row));
    case DUCKDB_TYPE_UTINYINT: return At<uint8_t>(vector, row);
    case DUCKDB_TYPE_USMALLINT: return At<uint16_t>(vector, row);
    case DUCKDB_TYPE_UINTEGER: return At<uint32_t>(vector, row);
    case DUCKDB_TYPE_UBIGINT: return static_cast<double>(At<uint64_t>(vector, row));
    case DUCKDB_TYPE_HUGEINT:
      return static_cast<double>(HugeToInt128(At<duckdb_hugeint>(vector, row)));
    case DUCKDB_TYPE_FLOAT: return At<float>(vector, row);
    case DUCKDB_TYPE_DOUBLE: return At<double>(vector, row);
    case DUCKDB_TYPE_DECIMAL: {
      double scale = 1;
      for (int i = 0; i < duckdb_decimal_scale(type); i++) scale *= 10;
      switch (duckdb_decimal_internal_type(type)) {
        case DUCKDB_TYPE_SMALLINT: return At<int16_t>(vector, row) / scale;
        case DUCKDB_TYPE_INTEGER: return At<int32_t>(vector, row) / scale;
        case DUCKDB_TYPE_BIGINT: return static_cast<double>(At<int64_t>(vector, row)) / scale;
        default:
          return static_cast<double>(HugeToInt128(At<duckdb_hugeint>(vector, row))) / scale;
      }
    }
    default: return 0;
  }
}

int64_t IntegerValue(duckdb_vector vector, duckdb_logical_type type, idx_t row) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_BIGINT: return At<int64_t>(vector, row);
    case DUCKDB_TYPE_UBIGINT: {
      uint64_t value = At<uint64_t>(vector, row);
      return value > static_cast<uint64_t>(kMax) ? kMax : static_cast<int64_t>(value);
    }
    case DUCKDB_TYPE_HUGEINT: {
      __int128 value = HugeToInt128(At<duckdb_hugeint>(vector, row));
      return value > kMax ? kMax : value < kMin ? kMin : static_cast<int64_t>(value);
    }
    default: {
      double value = NumericValue(vector, type, row);  // exact for the narrower integers
      if (value != value) return 0;                    // NaN
      if (value >= 9223372036854775808.0) return kMax;
      if (value < -9223372036854775808.0) return kMin;
      return static_cast<int64_t>(value);
    }
  }
}

}  // namespace plexus::engine::internal
