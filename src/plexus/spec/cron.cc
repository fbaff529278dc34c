// File: plexus/spec/cron.cc
//
// ParseCron and CronSchedule::NextAfter (cron.h).
#include "plexus/spec/cron.h"

#include <array>
#include <charconv>
#include <vector>

#include "plexus/common/text.h"

namespace plexus::spec {
namespace {

/// One of the five fields: its name for messages, its range and its value names.
struct FieldSpec {
  std::string_view name;
  int low;
  int high;
  const std::array<std::string_view, 12>* names;  ///< names[i] is value low + i; may be null
};

constexpr std::array<std::string_view, 12> kMonthNames = {
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 12> kDayNames = {"sun", "mon", "tue", "wed",
                                                        "thu", "fri", "sat"};

constexpr FieldSpec kFields[5] = {{"minute", 0, 59, nullptr},
                                  {"hour", 0, 23, nullptr},
                                  {"day of month", 1, 31, nullptr},
                                  {"month", 1, 12, &kMonthNames},
                                  {"day of week", 0, 7, &kDayNames}};

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

/// A value of the field: a number in range, or one of its names.
Result<int> Value(const FieldSpec& field, std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) {
    if (value < field.low || value > field.high) {
      return InvalidArgument(std::string(field.name) + " " + std::string(text) +
                             " is out of range (" + std::to_string(field.low) + "-" +
                             std::to_string(field.high) + ")");
    }
    return value;
  }
  if (field.names != nullptr) {
    std::string lower = AsciiLower(text);
    for (size_t i = 0; i < field.names->size(); ++i) {
      if (!(*field.names)[i].empty() && (*field.names)[i] == lower) {
        return field.low + static_cast<int>(i);
      }
    }
  }
  return InvalidArgument("'" + std::string(text) + "' is not a " + std::string(field.name));
}

/// Sets the values of one comma-separated item (`*`, `a`, `a-b`, `*/n`, `a-b/n`) in `out`.
Status Item(const FieldSpec& field, std::string_view item, std::vector<bool>* out) {
  int low = field.low;
  int high = field.high;
  int step = 1;
  std::string_view range = item;
  if (size_t slash = item.find('/'); slash != std::string_view::npos) {
    range = item.substr(0, slash);
    std::string_view step_text = item.substr(slash + 1);
    auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
    if (step_text.empty() || ec != std::errc() || end != step_text.data() + step_text.size() ||
        step < 1) {
      return InvalidArgument("step '" + std::string(step_text) + "' of the " +
                             std::string(field.name) + " is not a whole number above 0");
    }
    if (range != "*" && range.find('-') == std::string_view::npos) {
      return InvalidArgument("a step needs * or a range before it in the " +
                             std::string(field.name) + " ('" + std::string(item) + "')");
    }
  }
  if (range != "*") {
    size_t dash = range.find('-');
    PLEXUS_ASSIGN_OR_RETURN(low, Value(field, range.substr(0, dash)));
    high = low;
    if (dash != std::string_view::npos) {
      PLEXUS_ASSIGN_OR_RETURN(high, Value(field, range.substr(dash + 1)));
      if (high < low) {
        return InvalidArgument("range " + std::string(range) + " of the " +
                               std::string(field.name) + " runs backwards");
      }
    }
  } else if (field.high == 7) {
    high = 6;  // `*` in the day of week: 0..6 (7 is Sunday again)
  }
  for (int v = low; v <= high; v += step) (*out)[static_cast<size_t>(v)] = true;
  return Status::OK();
}

Status Field(const FieldSpec& field, std::string_view text, std::vector<bool>* out) {
  out->assign(static_cast<size_t>(field.high) + 1, false);
  for (std::string_view item : Split(text, ',')) {
    if (item.empty()) {
      return InvalidArgument("empty item in the " + std::string(field.name) + " ('" +
                             std::string(text) + "')");
    }
    PLEXUS_RETURN_IF_ERROR(Item(field, item, out));
  }
  return Status::OK();
}

template <size_t N>
void Copy(const std::vector<bool>& values, std::bitset<N>* out) {
  for (size_t i = 0; i < N && i < values.size(); ++i) out->set(i, values[i]);
}

}  // namespace

Result<CronSchedule> ParseCron(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) parts.push_back(text.substr(start, i - start));
  }
  if (parts.size() != 5) {
    return InvalidArgument("cron '" + std::string(text) + "' has " +
                           std::to_string(parts.size()) +
                           " fields; expected 5 (minute hour day-of-month month day-of-week)");
  }
  CronSchedule cron;
  cron.text = std::string(text);
  std::vector<bool> values[5];
  for (size_t f = 0; f < 5; ++f) {
    Status status = Field(kFields[f], parts[f], &values[f]);
    if (!status.ok()) {
      return InvalidArgument("cron '" + std::string(text) + "': " + status.message());
    }
  }
  Copy(values[0], &cron.minutes);
  Copy(values[1], &cron.hours);
  Copy(values[2], &cron.days_of_month);
  Copy(values[3], &cron.months);
  Copy(values[4], &cron.days_of_week);
  if (values[4][7]) cron.days_of_week.set(0);
  cron.day_of_month_star = parts[2].front() == '*';
  cron.day_of_week_star = parts[4].front() == '*';
  return cron;
}

std::chrono::system_clock::time_point CronSchedule::NextAfter(
    std::chrono::system_clock::time_point after) const {
  namespace sc = std::chrono;
  auto t = sc::floor<sc::minutes>(after) + sc::minutes(1);
  const auto limit = t + sc::days(8 * 366);
  while (t < limit) {
    sc::sys_days day = sc::floor<sc::days>(t);
    sc::year_month_day ymd(day);
    if (!months[static_cast<unsigned>(ymd.month())]) {
      sc::year_month next = sc::year_month(ymd.year(), ymd.month()) + sc::months(1);
      t = sc::sys_days(next / 1);
      continue;
    }
    bool dom = days_of_month[static_cast<unsigned>(ymd.day())];
    bool dow = days_of_week[sc::weekday(day).c_encoding()];
    bool day_matches = (day_of_month_star || day_of_week_star) ? (dom && dow) : (dom || dow);
    if (!day_matches) {
      t = day + sc::days(1);
      continue;
    }
    sc::hh_mm_ss<sc::minutes> time(t - day);
    if (!hours[static_cast<size_t>(time.hours().count())]) {
      t = sc::floor<sc::hours>(t) + sc::hours(1);
      continue;
    }
    if (!minutes[static_cast<size_t>(time.minutes().count())]) {
      t += sc::minutes(1);
      continue;
    }
    return sc::time_point_cast<sc::system_clock::duration>(t);
  }
  return sc::system_clock::time_point::max();
}

}  // namespace plexus::spec
