// File: plexus/spec/cron_test.cc
//
// ParseCron and CronSchedule::NextAfter: the field forms, names, errors, and the next firing
// time in UTC across hour, day, month and year boundaries, with Vixie cron's day-of-month /
// day-of-week OR rule.
#include "plexus/spec/cron.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

namespace plexus::spec {
namespace {

namespace sc = std::chrono;

/// A UTC time from its parts.
sc::system_clock::time_point At(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return sc::sys_days(sc::year(y) / sc::month(mo) / sc::day(d)) + sc::hours(h) + sc::minutes(mi) +
         sc::seconds(s);
}

std::string Show(sc::system_clock::time_point t) {
  if (t == sc::system_clock::time_point::max()) return "never";
  auto day = sc::floor<sc::days>(t);
  sc::year_month_day ymd(day);
  sc::hh_mm_ss<sc::seconds> time(sc::floor<sc::seconds>(t - day));
  char out[64];
  std::snprintf(out, sizeof out, "%04d-%02u-%02u %02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()));
  return out;
}

std::string Next(const std::string& expression, sc::system_clock::time_point after) {
  Result<CronSchedule> cron = ParseCron(expression);
  if (!cron.ok()) return "error: " + cron.status().message();
  return Show(cron->NextAfter(after));
}

TEST(SpecCronTest, EveryMinuteIsTheNextWholeMinute) {
  EXPECT_EQ(Next("* * * * *", At(2026, 11, 25, 20, 59, 30)), "2026-11-25 21:00");
  // Strictly after: a time exactly on a minute moves to the following one.
  EXPECT_EQ(Next("* * * * *", At(2026, 11, 25, 20, 59, 0)), "2026-11-25 21:00");
  EXPECT_EQ(Next("* * * * *", At(2026, 11, 25, 21, 0, 0)), "2026-11-25 21:01");
}

TEST(SpecCronTest, StepsRangesAndLists) {
  EXPECT_EQ(Next("*/15 * * * *", At(2026, 11, 25, 20, 46)), "2026-11-25 21:00");
  EXPECT_EQ(Next("*/15 * * * *", At(2026, 11, 25, 21, 0)), "2026-11-25 21:15");
  EXPECT_EQ(Next("10-20/5 * * * *", At(2026, 11, 25, 20, 16)), "2026-11-25 20:20");
  EXPECT_EQ(Next("10-20/5 * * * *", At(2026, 11, 25, 20, 20)), "2026-11-25 21:10");
  EXPECT_EQ(Next("0 9,17 * * *", At(2026, 11, 25, 9, 0)), "2026-11-25 17:00");
  EXPECT_EQ(Next("0 9,17 * * *", At(2026, 11, 25, 17, 0)), "2026-11-26 09:00");
  EXPECT_EQ(Next("5,0-2 0 * * *", At(2026, 11, 25, 12, 0)), "2026-11-26 00:00");
}

TEST(SpecCronTest, HourlyDailyMonthlyAcrossYearEnd) {
  EXPECT_EQ(Next("0 * * * *", At(2026, 12, 31, 23, 30)), "2027-01-01 00:00");
  EXPECT_EQ(Next("30 2 1 * *", At(2026, 12, 1, 2, 30)), "2027-01-01 02:30");
  EXPECT_EQ(Next("0 0 1 jan *", At(2026, 1, 1, 0, 0)), "2027-01-01 00:00");
}

TEST(SpecCronTest, MonthAndDayNames) {
  // 2026-11-25 is a Wednesday.
  EXPECT_EQ(Next("0 6 * * mon-fri", At(2026, 11, 27, 7, 0)), "2026-11-30 06:00");
  EXPECT_EQ(Next("0 6 * * SAT", At(2026, 11, 25)), "2026-11-28 06:00");
  EXPECT_EQ(Next("0 0 1 feb,Aug *", At(2026, 3, 1)), "2026-08-01 00:00");
  // 7 is Sunday, like 0.
  EXPECT_EQ(Next("0 0 * * 7", At(2026, 11, 25)), "2026-11-29 00:00");
  EXPECT_EQ(Next("0 0 * * 0", At(2026, 11, 25)), "2026-11-29 00:00");
}

TEST(SpecCronTest, DayOfMonthOrDayOfWeekWhenBothAreRestricted) {
  // The 1st and 15th, or any Friday: from Wed 2026-11-25, Friday the 27th comes first.
  EXPECT_EQ(Next("0 0 1,15 * 5", At(2026, 11, 25)), "2026-11-27 00:00");
  // ... and from Sat the 28th, Tuesday December 1st comes before Friday the 4th.
  EXPECT_EQ(Next("0 0 1,15 * 5", At(2026, 11, 28)), "2026-12-01 00:00");
  // A star in one field: only the other decides (day 13 of the month, any weekday).
  EXPECT_EQ(Next("0 0 13 * *", At(2026, 11, 25)), "2026-12-13 00:00");
  // A field starting with `*` (even */2) counts as unrestricted: both must match, as in Vixie
  // cron. Odd days of the month that are Mondays: Mon 2026-12-07.
  EXPECT_EQ(Next("0 0 */2 * mon", At(2026, 11, 25)), "2026-12-07 00:00");
}

TEST(SpecCronTest, LeapDayAndImpossibleDates) {
  EXPECT_EQ(Next("0 0 29 2 *", At(2026, 3, 1)), "2028-02-29 00:00");
  EXPECT_EQ(Next("0 0 30 2 *", At(2026, 3, 1)), "never");
  EXPECT_EQ(Next("0 0 31 4 *", At(2026, 3, 1)), "never");
}

TEST(SpecCronTest, BadExpressionsNameTheField) {
  auto message = [](const std::string& text) {
    Result<CronSchedule> cron = ParseCron(text);
    return cron.ok() ? std::string("ok") : cron.status().message();
  };
  EXPECT_NE(message("* * * *").find("has 4 fields; expected 5"), std::string::npos);
  EXPECT_NE(message("* * * * * *").find("has 6 fields"), std::string::npos);
  EXPECT_NE(message("60 * * * *").find("minute 60 is out of range (0-59)"), std::string::npos);
  EXPECT_NE(message("* 24 * * *").find("hour 24 is out of range"), std::string::npos);
  EXPECT_NE(message("* * 0 * *").find("day of month 0 is out of range (1-31)"),
            std::string::npos);
  EXPECT_NE(message("* * * 13 *").find("month 13"), std::string::npos);
  EXPECT_NE(message("* * * * 8").find("day of week 8"), std::string::npos);
  EXPECT_NE(message("* * * * fry").find("'fry' is not a day of week"), std::string::npos);
  EXPECT_NE(message("*/0 * * * *").find("not a whole number above 0"), std::string::npos);
  EXPECT_NE(message("5/10 * * * *").find("needs * or a range"), std::string::npos);
  EXPECT_NE(message("20-10 * * * *").find("runs backwards"), std::string::npos);
  EXPECT_NE(message("1,,2 * * * *").find("empty item"), std::string::npos);
  EXPECT_NE(message("jan * * * *").find("'jan' is not a minute"), std::string::npos);
  EXPECT_EQ(message("  0   6 * * mon-fri "), "ok");
}

}  // namespace
}  // namespace plexus::spec
