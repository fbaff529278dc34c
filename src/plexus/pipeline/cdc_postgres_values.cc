// File: plexus/pipeline/cdc_postgres_values.cc
//
// The PostgreSQL source's small conversions: LSNs, wal2json's JSON with exact numbers, the
// commit timestamps, add-tables names (see cdc_postgres_internal.h).
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "plexus/pipeline/cdc_postgres_internal.h"

namespace plexus::pipeline::postgres_internal {

namespace {
using Json = nlohmann::json;
constexpr int kExactDoubleDigits = 15;
}  // namespace

/// "16/B374D848" -> its 64-bit value.
Result<uint64_t> ParseLsn(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size()) {
    return InvalidArgument("not a PostgreSQL LSN (expected X/Y in hex): '" + std::string(text) +
                           "'");
  }
  uint64_t hi = 0, lo = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == slash) continue;
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    int digit = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
                                                            : -1;
    if (digit < 0) return InvalidArgument("not a PostgreSQL LSN: '" + std::string(text) + "'");
    uint64_t& part = i < slash ? hi : lo;
    part = part * 16 + static_cast<uint64_t>(digit);
  }
  if (hi > 0xffffffffULL || lo > 0xffffffffULL) {
    return InvalidArgument("PostgreSQL LSN out of range: '" + std::string(text) + "'");
  }
  return (hi << 32) | lo;
}

std::string FormatLsn(uint64_t lsn) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(lsn >> 32),
                static_cast<unsigned>(lsn & 0xffffffffULL));
  return buf;
}

static int SignificantDigits(std::string_view number) {
  int digits = 0;
  bool leading = true;
  for (char c : number) {
    if (c == 'e' || c == 'E') break;
    if (!std::isdigit(static_cast<unsigned char>(c))) continue;
    if (leading && c == '0') continue;
    leading = false;
    ++digits;
  }
  return digits;
}

/// A number's text as JSON: an integer, a double when it holds the value exactly, else the
/// text (NaN and infinities: null).
Json NumberFromText(const std::string& text) {
  if (text == "NaN" || text == "Infinity" || text == "-Infinity") return nullptr;
  bool integral = !text.empty() && text.find_first_of(".eE") == std::string::npos;
  if (integral) {
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(text.c_str(), &end, 10);
    if (errno == 0 && end && *end == '\0') return static_cast<int64_t>(v);
    return text;
  }
  if (SignificantDigits(text) > kExactDoubleDigits) return text;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (!end || *end != '\0') return text;
  return v;
}

/// Parses wal2json's output keeping numbers exact: a float with more significant digits than a
/// double holds becomes its text (a string).
namespace {
class ExactNumberParser : public nlohmann::detail::json_sax_dom_parser<Json> {
 public:
  using Base = nlohmann::detail::json_sax_dom_parser<Json>;
  explicit ExactNumberParser(Json& root) : Base(root, false) {}
  bool number_float(double value, const std::string& text) {
    if (SignificantDigits(text) > kExactDoubleDigits) {
      std::string copy = text;
      return Base::string(copy);
    }
    return Base::number_float(value, text);
  }
};
}  // namespace

Result<Json> ParseExact(const char* data, size_t size) {
  Json root;
  ExactNumberParser sax(root);
  if (!Json::sax_parse(data, data + size, &sax) || root.is_discarded()) {
    return Internal("wal2json wrote a change that is not JSON: " +
                    std::string(data, std::min<size_t>(size, 200)));
  }
  return root;
}

/// "2026-11-25 20:48:26.077566+00" (UTC session) -> milliseconds since the epoch; 0 if not one.
int64_t TimestampMillis(const std::string& text) {
  std::tm tm{};
  int micros_digits = 0;
  long frac = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return 0;
  }
  auto dot = text.find('.');
  if (dot != std::string::npos) {
    for (size_t i = dot + 1; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]));
         ++i) {
      if (micros_digits < 3) frac = frac * 10 + (text[i] - '0');
      ++micros_digits;
    }
    for (int i = micros_digits; i < 3; ++i) frac *= 10;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + frac;
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// wal2json's add-tables wants '.', ',', ' ', '\'' and '*' in names escaped.
std::string Wal2JsonName(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '.' || c == ',' || c == ' ' || c == '\'' || c == '*' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace plexus::pipeline::postgres_internal
