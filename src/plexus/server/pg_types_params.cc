// Bind parameters (PostgreSQL text or binary format) to engine values (pg_types.h).
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "plexus/server/pg_types.h"
#include "plexus/server/pg_types_internal.h"

namespace plexus::server::pg {
namespace {

using engine::ParameterValue;
using internal::ReadBE;

Status Malformed(int32_t type_oid, std::string_view what) {
  return InvalidArgument("invalid input syntax for type " + std::string(TypeName(type_oid)) +
                         ": \"" + std::string(what.substr(0, 64)) + "\"");
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

Result<ParameterValue> TextInteger(int32_t type_oid, std::string_view text) {
  std::string_view t = Trim(text);
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size()) {
    return ec == std::errc::result_out_of_range
               ? InvalidArgument("value \"" + std::string(text.substr(0, 64)) +
                                 "\" is out of range for type " + std::string(TypeName(type_oid)))
               : Malformed(type_oid, text);
  }
  int64_t limit = type_oid == oid::kInt2   ? INT16_MAX
                  : type_oid == oid::kInt4 ? INT32_MAX
                  : type_oid == oid::kOid  ? UINT32_MAX
                                           : INT64_MAX;
  int64_t floor = type_oid == oid::kOid ? 0 : -limit - 1;
  if (v > limit || v < floor) {
    return InvalidArgument("value \"" + std::string(text.substr(0, 64)) +
                           "\" is out of range for type " + std::string(TypeName(type_oid)));
  }
  return ParameterValue::Int64(v);
}

Result<ParameterValue> TextFloat(int32_t type_oid, std::string_view text) {
  std::string t(Trim(text));
  if (t.empty()) return Malformed(type_oid, text);
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return Malformed(type_oid, text);
  return ParameterValue::Double(v);
}

Result<ParameterValue> TextBool(std::string_view text) {
  std::string t(Trim(text));
  for (char& c : t) c = static_cast<char>(c | 0x20);
  for (const char* yes : {"t", "true", "y", "yes", "on", "1"}) {
    if (t == yes) return ParameterValue::Bool(true);
  }
  for (const char* no : {"f", "false", "n", "no", "off", "0"}) {
    if (t == no) return ParameterValue::Bool(false);
  }
  return Malformed(oid::kBool, text);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// bytea's text input: \x followed by hex pairs, or the escape format (\\ and \ooo).
Result<ParameterValue> TextBytea(std::string_view text) {
  std::string bytes;
  if (text.substr(0, 2) == "\\x") {
    std::string_view hex = text.substr(2);
    for (size_t i = 0; i < hex.size();) {
      if (hex[i] == ' ' || hex[i] == '\n' || hex[i] == '\t') {
        i++;
        continue;
      }
      int hi = HexValue(hex[i]), lo = i + 1 < hex.size() ? HexValue(hex[i + 1]) : -1;
      if (hi < 0 || lo < 0) return Malformed(oid::kBytea, text);
      bytes.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
    return ParameterValue::Blob(std::move(bytes));
  }
  for (size_t i = 0; i < text.size(); i++) {
    if (text[i] != '\\') {
      bytes.push_back(text[i]);
    } else if (i + 1 < text.size() && text[i + 1] == '\\') {
      bytes.push_back('\\');
      i++;
    } else if (i + 3 < text.size() + 0 && text[i + 1] >= '0' && text[i + 1] <= '3' &&
               text[i + 2] >= '0' && text[i + 2] <= '7' && text[i + 3] >= '0' &&
               text[i + 3] <= '7') {
      bytes.push_back(static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 +
                                        (text[i + 3] - '0')));
      i += 3;
    } else {
      return Malformed(oid::kBytea, text);
    }
  }
  return ParameterValue::Blob(std::move(bytes));
}

Result<ParameterValue> DecodeText(int32_t type_oid, std::string_view text) {
  switch (type_oid) {
    case oid::kInt2:
    case oid::kInt4:
    case oid::kInt8:
    case oid::kOid:
      return TextInteger(type_oid, text);
    case oid::kFloat4:
    case oid::kFloat8:
      return TextFloat(type_oid, text);
    case oid::kBool:
      return TextBool(text);
    case oid::kBytea:
      return TextBytea(text);
    default:
      return ParameterValue::Text(std::string(text));
  }
}

// numeric_recv's layout to PostgreSQL's text of the number.
Result<ParameterValue> BinaryNumeric(std::string_view b) {
  if (b.size() < 8) return InvalidArgument("malformed binary numeric parameter");
  int64_t ndigits = ReadBE(b, 0, 2), weight = ReadBE(b, 2, 2);
  auto sign = static_cast<uint16_t>(ReadBE(b, 4, 2));
  int64_t dscale = ReadBE(b, 6, 2);
  if (ndigits < 0 || b.size() != 8 + 2 * static_cast<size_t>(ndigits) || dscale < 0 ||
      dscale > 1000) {
    return InvalidArgument("malformed binary numeric parameter");
  }
  if (sign == 0xC000) return ParameterValue::Text("NaN");
  if (sign == 0xD000) return ParameterValue::Text("Infinity");
  if (sign == 0xF000) return ParameterValue::Text("-Infinity");
  if (sign != 0 && sign != 0x4000) return InvalidArgument("malformed binary numeric parameter");
  auto digit = [&](int64_t i) -> int64_t {  // i-th base-10000 digit, 0 outside
    return i >= 0 && i < ndigits ? ReadBE(b, 8 + 2 * static_cast<size_t>(i), 2) : 0;
  };
  for (int64_t i = 0; i < ndigits; i++) {
    if (digit(i) < 0 || digit(i) >= 10000)
      return InvalidArgument("malformed binary numeric parameter");
  }
  if (weight > 1000 || weight < -1000) return InvalidArgument("numeric parameter out of range");
  std::string text = sign == 0x4000 ? "-" : "";
  if (weight < 0) {
    text += "0";
  } else {
    for (int64_t i = 0; i <= weight; i++) {
      std::string group = std::to_string(digit(i));
      if (i > 0) group.insert(0, 4 - group.size(), '0');
      text += group;
    }
  }
  if (dscale > 0) {
    std::string fraction;
    for (int64_t i = weight + 1; static_cast<int64_t>(fraction.size()) < dscale; i++) {
      std::string group = std::to_string(digit(i));
      fraction += std::string(4 - group.size(), '0') + group;
    }
    text += "." + fraction.substr(0, static_cast<size_t>(dscale));
  }
  return ParameterValue::Text(std::move(text));
}

Result<ParameterValue> DecodeBinary(int32_t type_oid, std::string_view b) {
  auto need = [&](size_t n) -> Status {
    if (b.size() == n) return Status::OK();
    return InvalidArgument("binary parameter of type " + std::string(TypeName(type_oid)) +
                           " must be " + std::to_string(n) + " bytes, got " +
                           std::to_string(b.size()));
  };
  std::string text;
  switch (type_oid) {
    case oid::kBool:
      PLEXUS_RETURN_IF_ERROR(need(1));
      return ParameterValue::Bool(b[0] != 0);
    case oid::kInt2:
      PLEXUS_RETURN_IF_ERROR(need(2));
      return ParameterValue::Int64(ReadBE(b, 0, 2));
    case oid::kInt4:
      PLEXUS_RETURN_IF_ERROR(need(4));
      return ParameterValue::Int64(ReadBE(b, 0, 4));
    case oid::kOid:
      PLEXUS_RETURN_IF_ERROR(need(4));
      return ParameterValue::Int64(static_cast<uint32_t>(ReadBE(b, 0, 4)));
    case oid::kInt8:
      PLEXUS_RETURN_IF_ERROR(need(8));
      return ParameterValue::Int64(ReadBE(b, 0, 8));
    case oid::kFloat4: {
      PLEXUS_RETURN_IF_ERROR(need(4));
      auto bits = static_cast<uint32_t>(ReadBE(b, 0, 4));
      float f;
      std::memcpy(&f, &bits, 4);
      return ParameterValue::Double(f);
    }
    case oid::kFloat8: {
      PLEXUS_RETURN_IF_ERROR(need(8));
      int64_t bits = ReadBE(b, 0, 8);
      double d;
      std::memcpy(&d, &bits, 8);
      return ParameterValue::Double(d);
    }
    case oid::kUnspecified:
    case oid::kUnknown:
    case oid::kText:
    case oid::kVarchar:
    case oid::kBpchar:
    case 19:  // name
    case oid::kJson:
      return ParameterValue::Text(std::string(b));
    case oid::kJsonb:
      if (b.empty() || b[0] != 1) return InvalidArgument("unsupported binary jsonb version");
      return ParameterValue::Text(std::string(b.substr(1)));
    case oid::kBytea:
      return ParameterValue::Blob(std::string(b));
    case oid::kDate: {
      PLEXUS_RETURN_IF_ERROR(need(4));
      int64_t days = ReadBE(b, 0, 4);
      if (days == INT32_MAX) return ParameterValue::Text("infinity");
      if (days == INT32_MIN) return ParameterValue::Text("-infinity");
      internal::AppendPgDate(text, static_cast<int32_t>(days + internal::kPgEpochDays));
      return ParameterValue::Text(std::move(text));
    }
    case oid::kTime: {
      PLEXUS_RETURN_IF_ERROR(need(8));
      int64_t micros = ReadBE(b, 0, 8);
      if (micros < 0 || micros > int64_t{86400} * 1000000) return Malformed(type_oid, "binary");
      internal::AppendPgTime(text, micros);
      return ParameterValue::Text(std::move(text));
    }
    case oid::kTimestamp:
    case oid::kTimestampTz: {
      PLEXUS_RETURN_IF_ERROR(need(8));
      int64_t micros = ReadBE(b, 0, 8);
      if (micros == INT64_MAX) return ParameterValue::Text("infinity");
      if (micros == INT64_MIN) return ParameterValue::Text("-infinity");
      if (micros > INT64_MAX / 2 || micros < INT64_MIN / 2) return Malformed(type_oid, "binary");
      internal::AppendPgTimestamp(text, micros + internal::kPgEpochMicros,
                                  type_oid == oid::kTimestampTz);
      return ParameterValue::Text(std::move(text));
    }
    case oid::kInterval:
      PLEXUS_RETURN_IF_ERROR(need(16));
      return ParameterValue::Text(std::to_string(ReadBE(b, 12, 4)) + " months " +
                                  std::to_string(ReadBE(b, 8, 4)) + " days " +
                                  std::to_string(ReadBE(b, 0, 8)) + " microseconds");
    case oid::kUuid:
      PLEXUS_RETURN_IF_ERROR(need(16));
      internal::AppendPgUuid(text, reinterpret_cast<const uint8_t*>(b.data()));
      return ParameterValue::Text(std::move(text));
    case oid::kNumeric:
      return BinaryNumeric(b);
    default:
      return InvalidArgument("binary format is not supported for parameters of type " +
                             std::string(TypeName(type_oid)) + " (oid " + std::to_string(type_oid) +
                             ")");
  }
}

}  // namespace

Result<engine::ParameterValue> DecodeParameter(int32_t type_oid, int16_t format,
                                               std::optional<std::string_view> bytes) {
  if (format != 0 && format != 1) {
    return InvalidArgument("unsupported parameter format code " + std::to_string(format));
  }
  if (!bytes) return ParameterValue::Null();
  return format == 0 ? DecodeText(type_oid, *bytes) : DecodeBinary(type_oid, *bytes);
}

}  // namespace plexus::server::pg
