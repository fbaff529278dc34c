// File: plexus/spec/cron.h
//
// Five-field cron expressions (pipeline.yaml `schedule.cron`), evaluated in UTC:
//
//   minute hour day-of-month month day-of-week
//   "*/15 * * * *"   every 15 minutes        "0 6 * * mon-fri"  06:00 on weekdays
//   "30 2 1 * *"     02:30 on the 1st        "0 0 1,15 * 5"     midnight on the 1st, the 15th
//                                                                and every Friday
//
// Each field is `*`, a value, a range `a-b`, a step `*/n` or `a-b/n`, or a comma list of those.
// Months may be written jan..dec and days of the week sun..sat (case-insensitive); day of week
// 0 and 7 are both Sunday. As in Vixie cron, when both day-of-month and day-of-week are
// restricted (neither field starts with `*`) a day matches when EITHER matches; otherwise both
// must (the `*` one always does).
//
// Thread safety: values; parse and evaluate from any thread.
#pragma once

#include <bitset>
#include <chrono>
#include <string>
#include <string_view>

#include "plexus/common/status.h"

namespace plexus::spec {

/// A parsed cron expression.
struct CronSchedule {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  ///< 1..31
  std::bitset<13> months;         ///< 1..12
  std::bitset<7> days_of_week;    ///< 0 (Sunday) .. 6
  bool day_of_month_star = false;  ///< the field starts with `*`
  bool day_of_week_star = false;
  std::string text;  ///< as written

  /// The first whole minute strictly after `after` that matches, in UTC;
  /// time_point::max() when none comes within the next 8 years (e.g. "0 0 30 2 *").
  std::chrono::system_clock::time_point NextAfter(
      std::chrono::system_clock::time_point after) const;
};

/// Parses a five-field expression; kInvalidArgument naming the field and what is wrong.
Result<CronSchedule> ParseCron(std::string_view text);

}  // namespace plexus::spec
