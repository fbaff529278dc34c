// The scheduler's rules on a fake clock: interval and cron times, onUpstream, the retry
// backoff, the limit on runs at once, and never two runs of one product.
#include "plexus/pipeline/scheduler.h"

#include <gtest/gtest.h>

namespace plexus::pipeline {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using Time = RunPlanner::Time;

/// 2026-11-25 10:00:00 UTC.
Time Start() { return std::chrono::system_clock::from_time_t(1795600800); }

ProductSchedule Every(const std::string& product, double seconds_between) {
  ProductSchedule s;
  s.product = product;
  s.schedule.every_s = seconds_between;
  return s;
}

std::vector<std::string> Names(const std::vector<PlannedRun>& runs) {
  std::vector<std::string> names;
  for (const auto& r : runs) names.push_back(r.product);
  return names;
}

TEST(RunPlanner, IntervalRunsAtOnceThenEveryPeriodFromTheRunsStart) {
  RunPlanner planner(2);
  Time t = Start();
  planner.SetSchedules({Every("a.a", 60)}, t);
  auto due = planner.TakeDue(t);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].trigger, RunTrigger::kSchedule);
  EXPECT_EQ(due[0].attempt, 1);
  planner.Finished(due[0], true, t + seconds(5));
  EXPECT_TRUE(planner.TakeDue(t + seconds(59)).empty());
  EXPECT_EQ(planner.NextWake(), t + seconds(60));
  EXPECT_EQ(planner.TakeDue(t + seconds(60)).size(), 1u);
}

TEST(RunPlanner, IntervalCountsFromTheLastRunAcrossARestart) {
  RunPlanner planner(2);
  Time t = Start();
  ProductSchedule s = Every("a.a", 3600);
  s.last_started = t - minutes(10);
  planner.SetSchedules({s}, t);
  EXPECT_TRUE(planner.TakeDue(t).empty());
  EXPECT_EQ(planner.NextWake(), t + minutes(50));
  s.last_started = t - hours(2);  // overdue: at once, not twice
  RunPlanner late(2);
  late.SetSchedules({s}, t);
  EXPECT_EQ(late.TakeDue(t).size(), 1u);
}

TEST(RunPlanner, MissedIntervalsDoNotPileUp) {
  RunPlanner planner(2);
  Time t = Start();
  planner.SetSchedules({Every("a.a", 1)}, t);
  auto due = planner.TakeDue(t);
  planner.Finished(due[0], true, t + seconds(10));  // a run longer than the interval
  EXPECT_EQ(planner.TakeDue(t + seconds(10)).size(), 1u);
  EXPECT_TRUE(planner.TakeDue(t + seconds(10)).empty());
}

TEST(RunPlanner, CronRunsAtItsNextMinuteInUtc) {
  RunPlanner planner(2);
  Time t = Start() + seconds(30);  // 10:00:30
  ProductSchedule s;
  s.product = "a.a";
  s.schedule.cron = "*/15 * * * *";
  auto cron = spec::ParseCron(s.schedule.cron);
  ASSERT_TRUE(cron.ok()) << cron.status().message();
  s.cron = *cron;
  planner.SetSchedules({s}, t);
  EXPECT_EQ(planner.NextWake(), Start() + minutes(15));
  EXPECT_TRUE(planner.TakeDue(Start() + minutes(14)).empty());
  auto due = planner.TakeDue(Start() + minutes(15));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].trigger, RunTrigger::kCron);
  planner.Finished(due[0], true, Start() + minutes(15) + seconds(3));
  EXPECT_EQ(planner.NextWake(), Start() + minutes(30));
}

TEST(RunPlanner, UpstreamPublicationRunsOnUpstreamConsumersOnly) {
  RunPlanner planner(2);
  Time t = Start();
  ProductSchedule consumer;
  consumer.product = "m.clv";
  consumer.schedule.on_upstream = true;
  consumer.upstream = {"o.orders", "c.customers"};
  ProductSchedule other;
  other.product = "x.other";
  other.upstream = {"o.orders"};  // reads it, but is not onUpstream
  other.schedule.every_s = 3600;
  planner.SetSchedules({consumer, other}, t);
  auto first = planner.TakeDue(t);
  ASSERT_EQ(Names(first), std::vector<std::string>{"x.other"});
  planner.Finished(first[0], true, t);
  EXPECT_EQ(planner.NextRunOf("m.clv"), Time::max());
  planner.Published("o.orders", t + seconds(1));
  auto due = planner.TakeDue(t + seconds(1));
  ASSERT_EQ(Names(due), std::vector<std::string>{"m.clv"});
  EXPECT_EQ(due[0].trigger, RunTrigger::kUpstream);
  planner.Published("c.customers", t + seconds(2));  // while it runs: runs again after
  EXPECT_TRUE(planner.TakeDue(t + seconds(2)).empty());
  planner.Finished(due[0], true, t + seconds(3));
  EXPECT_EQ(planner.TakeDue(t + seconds(3)).size(), 1u);
  planner.Published("z.unrelated", t + seconds(4));
  EXPECT_TRUE(planner.TakeDue(t + seconds(4)).empty());
}

TEST(RetryDelay, DoublesFromTheBackoffUpToTheMaximum) {
  spec::RetryPolicy policy;
  policy.backoff_s = 10;
  policy.max_backoff_s = 60;
  EXPECT_EQ(RetryDelay(policy, 1), seconds(10));
  EXPECT_EQ(RetryDelay(policy, 2), seconds(20));
  EXPECT_EQ(RetryDelay(policy, 3), seconds(40));
  EXPECT_EQ(RetryDelay(policy, 4), seconds(60));
  EXPECT_EQ(RetryDelay(policy, 10), seconds(60));
  policy.backoff_s = 0.5;
  EXPECT_EQ(RetryDelay(policy, 1), milliseconds(500));
}

TEST(RunPlanner, FailedScheduledRunIsRetriedWithBackoffUntilTheAttemptsAreSpent) {
  RunPlanner planner(2);
  Time t = Start();
  ProductSchedule s = Every("a.a", 3600);
  s.retries.attempts = 3;
  s.retries.backoff_s = 2;
  s.retries.max_backoff_s = 600;
  planner.SetSchedules({s}, t);
  auto run = planner.TakeDue(t);
  ASSERT_EQ(run.size(), 1u);
  planner.Finished(run[0], false, t);
  EXPECT_EQ(planner.NextWake(), t + seconds(2));
  EXPECT_TRUE(planner.TakeDue(t + seconds(1)).empty());
  auto second = planner.TakeDue(t + seconds(2));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].trigger, RunTrigger::kRetry);
  EXPECT_EQ(second[0].attempt, 2);
  planner.Finished(second[0], false, t + seconds(2));
  EXPECT_EQ(planner.NextWake(), t + seconds(6));  // 4 s: doubled
  auto third = planner.TakeDue(t + seconds(6));
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].attempt, 3);
  planner.Finished(third[0], false, t + seconds(6));
  // Three runs in all: the next is the regular one.
  EXPECT_EQ(planner.NextWake(), t + hours(1));
}

TEST(RunPlanner, SuccessEndsTheRetriesAndManualRunsAreNotRetried) {
  RunPlanner planner(2);
  Time t = Start();
  ProductSchedule s = Every("a.a", 3600);
  s.retries.backoff_s = 1;
  planner.SetSchedules({s}, t);
  auto run = planner.TakeDue(t);
  planner.Finished(run[0], false, t);
  auto retry = planner.TakeDue(t + seconds(1));
  ASSERT_EQ(retry.size(), 1u);
  planner.Finished(retry[0], true, t + seconds(1));
  EXPECT_EQ(planner.NextWake(), t + hours(1));
  ASSERT_TRUE(planner.Begin({"a.a"}));
  planner.Finished({"a.a", RunTrigger::kManual, 1}, false, t + seconds(2));
  EXPECT_EQ(planner.NextWake(), t + hours(1));
}

TEST(RunPlanner, NoMoreThanMaxRunsAtOnceAndTheRestWaitTheirTurn) {
  RunPlanner planner(2);
  Time t = Start();
  planner.SetSchedules({Every("a.a", 60), Every("b.b", 60), Every("c.c", 60)}, t);
  auto first = planner.TakeDue(t);
  EXPECT_EQ(first.size(), 2u);
  EXPECT_EQ(planner.running(), 2);
  EXPECT_TRUE(planner.TakeDue(t + seconds(1)).empty());
  planner.Finished(first[0], true, t + seconds(2));
  auto next = planner.TakeDue(t + seconds(2));
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].product, "c.c");
}

TEST(RunPlanner, ManualRunsWaitOnlyForTheSameProductAndCountAgainstTheLimit) {
  RunPlanner planner(1);
  Time t = Start();
  planner.SetSchedules({Every("a.a", 60), Every("b.b", 60)}, t);
  auto first = planner.TakeDue(t);
  ASSERT_EQ(first.size(), 1u);
  std::string busy = first[0].product;
  std::string free = busy == "a.a" ? "b.b" : "a.a";
  EXPECT_FALSE(planner.Begin({busy}));
  EXPECT_FALSE(planner.Begin({free, busy}));  // all or nothing
  EXPECT_FALSE(planner.IsRunning(free));
  EXPECT_TRUE(planner.Begin({free}));  // the limit does not hold a manual run back
  EXPECT_EQ(planner.running(), 2);
  planner.Finished(first[0], true, t + seconds(1));
  // The free product is due on its schedule, but it runs by hand: not twice at once.
  EXPECT_TRUE(planner.TakeDue(t + seconds(1)).empty());
  planner.Finished({free, RunTrigger::kManual, 1}, true, t + seconds(2));
  EXPECT_EQ(Names(planner.TakeDue(t + seconds(2))), std::vector<std::string>{free});
}

TEST(RunPlanner, AnUnchangedScheduleKeepsItsTimesAndAChangedOneStartsAfresh) {
  RunPlanner planner(2);
  Time t = Start();
  planner.SetSchedules({Every("a.a", 60)}, t);
  auto run = planner.TakeDue(t);
  planner.Finished(run[0], true, t);
  planner.SetSchedules({Every("a.a", 60)}, t + seconds(10));
  EXPECT_EQ(planner.NextWake(), t + seconds(60));
  planner.SetSchedules({Every("a.a", 30)}, t + seconds(10));
  EXPECT_EQ(planner.NextWake(), t + seconds(10));
  planner.SetSchedules({}, t + seconds(11));
  EXPECT_EQ(planner.NextWake(), Time::max());
}

}  // namespace
}  // namespace plexus::pipeline
