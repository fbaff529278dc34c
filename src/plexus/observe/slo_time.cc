// Times and durations as SLOs read them: ISO 8601 instants, ODCS duration units.
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>

#include "plexus/common/text.h"
#include "plexus/observe/slo.h"
#include "plexus/observe/slo_internal.h"

namespace plexus::observe {

namespace {

/// Reads `digits` decimal digits at text[pos]; -1 when they are not there.
int Digits(const std::string& text, size_t pos, size_t digits) {
  if (pos + digits > text.size()) return -1;
  int value = 0;
  for (size_t i = pos; i < pos + digits; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

std::optional<double> ParseOffset(const std::string& text, size_t pos) {
  if (pos >= text.size()) return 0.0;
  if ((text[pos] == 'Z' || text[pos] == 'z') && pos + 1 == text.size()) return 0.0;
  if (text[pos] != '+' && text[pos] != '-') return std::nullopt;
  int sign = text[pos] == '-' ? -1 : 1;
  int hours = Digits(text, pos + 1, 2);
  size_t next = pos + 3;
  if (next < text.size() && text[next] == ':') ++next;
  int minutes = next == text.size() ? 0 : Digits(text, next, 2);
  if (hours < 0 || minutes < 0 || hours > 23 || minutes > 59) return std::nullopt;
  if (next != text.size() && next + 2 != text.size()) return std::nullopt;
  return sign * (hours * 3600.0 + minutes * 60.0);
}

std::optional<double> ParseClock(const std::string& text, size_t pos, size_t* end) {
  int hour = Digits(text, pos, 2);
  if (hour < 0 || pos + 2 >= text.size() || text[pos + 2] != ':') return std::nullopt;
  int minute = Digits(text, pos + 3, 2);
  if (minute < 0) return std::nullopt;
  double seconds = 0;
  size_t at = pos + 5;
  if (at < text.size() && text[at] == ':') {
    int whole = Digits(text, at + 1, 2);
    if (whole < 0) return std::nullopt;
    seconds = whole;
    at += 3;
    if (at < text.size() && text[at] == '.') {
      double scale = 0.1;
      for (++at; at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])); ++at) {
        seconds += (text[at] - '0') * scale;
        scale /= 10;
      }
    }
  }
  if (hour > 24 || minute > 59 || seconds >= 61) return std::nullopt;
  *end = at;
  return hour * 3600.0 + minute * 60.0 + seconds;
}

std::optional<double> ParseTime(const std::string& text) {
  int year = Digits(text, 0, 4), month = Digits(text, 5, 2), day = Digits(text, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || text[4] != '-' ||
      text[7] != '-') {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  double midnight = static_cast<double>(timegm(&tm));
  if (text.size() == 10) return midnight;
  if (text[10] != 'T' && text[10] != 't' && text[10] != ' ') return std::nullopt;
  size_t end = 0;
  auto clock = ParseClock(text, 11, &end);
  if (!clock) return std::nullopt;
  auto offset = ParseOffset(text, end);
  if (!offset) return std::nullopt;
  return midnight + *clock - *offset;
}

std::string FormatTime(double epoch_seconds) {
  double whole = std::floor(epoch_seconds);
  auto millis = static_cast<int>(std::lround((epoch_seconds - whole) * 1000));
  if (millis == 1000) {
    whole += 1;
    millis = 0;
  }
  auto t = static_cast<std::time_t>(whole);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

std::optional<double> UnitSeconds(const std::string& unit) {
  static const std::map<std::string, double> kUnits = {
      {"s", 1},          {"sec", 1},        {"secs", 1},        {"second", 1},
      {"seconds", 1},    {"m", 60},         {"min", 60},        {"mins", 60},
      {"minute", 60},    {"minutes", 60},   {"h", 3600},        {"hr", 3600},
      {"hrs", 3600},     {"hour", 3600},    {"hours", 3600},    {"d", 86400},
      {"day", 86400},    {"days", 86400},   {"w", 604800},      {"week", 604800},
      {"weeks", 604800}, {"mo", 2592000},   {"month", 2592000}, {"months", 2592000},
      {"y", 31536000},   {"yr", 31536000},  {"yrs", 31536000},  {"year", 31536000},
      {"years", 31536000}};
  std::string key = AsciiLower(unit);
  if (key.empty()) key = "d";
  auto found = kUnits.find(key);
  if (found == kUnits.end()) return std::nullopt;
  return found->second;
}

std::string Human(double seconds) {
  char buf[64];
  double magnitude = std::fabs(seconds);
  // A whole number of days, hours or minutes (objectives mostly): "1 day", "4 hours".
  struct Unit {
    double size;
    const char* one;
    const char* many;
  };
  for (Unit unit : {Unit{86400, "day", "days"}, Unit{3600, "hour", "hours"},
                    Unit{60, "minute", "minutes"}}) {
    if (magnitude >= unit.size && std::fmod(magnitude, unit.size) == 0) {
      double count = seconds / unit.size;
      std::snprintf(buf, sizeof(buf), "%.0f %s", count, std::fabs(count) == 1 ? unit.one : unit.many);
      return buf;
    }
  }
  if (magnitude >= 2 * 86400) {
    std::snprintf(buf, sizeof(buf), "%.1f days", seconds / 86400);
  } else if (magnitude >= 2 * 3600) {
    std::snprintf(buf, sizeof(buf), "%.1f hours", seconds / 3600);
  } else if (magnitude >= 120) {
    std::snprintf(buf, sizeof(buf), "%.0f minutes", seconds / 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f %s", seconds,
                  std::lround(magnitude) == 1 ? "second" : "seconds");
  }
  return buf;
}

std::string ClockText(double seconds_of_day) {
  auto total = static_cast<int>(std::lround(seconds_of_day));
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%02d:%02d", (total / 3600) % 24, (total / 60) % 60);
  return buf;
}

std::string Percent(double value) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g%%", value);
  return buf;
}

}  // namespace plexus::observe
