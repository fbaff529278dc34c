// SLO evaluation against a real catalog: each property met, at risk, breached and unknown, with
// `now` chosen after the runs the test makes; the history of status changes and its bounds.
#include "plexus/observe/slo.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>

#include "plexus/engine/engine.h"
#include "plexus/observe/slo_test_util.h"

namespace plexus::observe {
namespace {

using testing::Sla;
using testing::SloTest;

constexpr double kHour = 3600;
constexpr double kDay = 86400;

TEST(SloTimeTest, ParsesIsoTimesAndUnits) {
  EXPECT_EQ(ParseTime("1970-01-02"), 86400.0);
  EXPECT_EQ(ParseTime("1970-01-01T01:00:00Z"), 3600.0);
  EXPECT_EQ(ParseTime("1970-01-01 02:00:00.500+01:00"), 3600.5);
  EXPECT_EQ(ParseTime("1970-01-01T00:30-00:30"), 3600.0);
  EXPECT_FALSE(ParseTime("yesterday"));
  EXPECT_FALSE(ParseTime("2026-13-01"));
  EXPECT_EQ(FormatTime(3600.25), "1970-01-01T01:00:00.250Z");
  EXPECT_EQ(UnitSeconds("d"), 86400.0);
  EXPECT_EQ(UnitSeconds("Hours"), 3600.0);
  EXPECT_EQ(UnitSeconds(""), 86400.0);
  EXPECT_EQ(UnitSeconds("m"), 60.0);
  EXPECT_FALSE(UnitSeconds("fortnights"));
}

TEST_F(SloTest, LatencyIsMetThenAtRiskThenBreachedAsTheDataAges) {
  Apply({Sla("latency", "1", "h")});
  auto never = Evaluate(At(0), "latency");
  EXPECT_EQ(never.status, "unknown");
  EXPECT_NE(never.detail.find("never published"), std::string::npos) << never.detail;
  Publish();
  auto fresh = Evaluate(At(600), "latency");
  EXPECT_EQ(fresh.status, "met") << fresh.detail;
  EXPECT_EQ(fresh.objective, "1 h");
  EXPECT_EQ(fresh.objective_value, 3600);
  EXPECT_TRUE(fresh.has_observed);
  EXPECT_NEAR(fresh.observed, 600, 30);
  EXPECT_EQ(Evaluate(At(50 * 60), "latency").status, "at_risk");  // past 48 minutes
  auto stale = Evaluate(At(2 * kHour), "latency");
  EXPECT_EQ(stale.status, "breached");
  EXPECT_NE(stale.detail.find("more than the 1 hour allowed"), std::string::npos)
      << stale.detail;
  EXPECT_EQ(stale.since, At(2 * kHour));
  // Unchanged: `since` stays, no new change is kept.
  auto still = Evaluate(At(3 * kHour), "latency");
  EXPECT_EQ(still.since, At(2 * kHour));
  EXPECT_EQ(still.evaluated_at, At(3 * kHour));
  auto history = catalog_->ListSloHistory("urn:shop:sales:orders", "");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 4u);
  EXPECT_EQ((*history)[0].status, "unknown");
  EXPECT_EQ((*history)[1].status, "met");
  EXPECT_EQ((*history)[2].status, "at_risk");
  EXPECT_EQ((*history)[3].status, "breached");
  EXPECT_EQ((*history)[3].since, At(2 * kHour));
  auto recent = catalog_->ListSloHistory("urn:shop:sales:orders", At(kHour));
  ASSERT_TRUE(recent.ok());
  EXPECT_EQ(recent->size(), 1u);
  // A new publication makes it fresh again.
  Publish();
  EXPECT_EQ(Evaluate(At(60), "latency").status, "met");
}

TEST_F(SloTest, AUnitNotUnderstoodIsUnknown) {
  Apply({Sla("freshness", "2", "fortnights"), Sla("latency", "soon", "h")});
  Publish();
  auto freshness = Evaluate(At(10), "freshness");
  EXPECT_EQ(freshness.status, "unknown");
  EXPECT_NE(freshness.detail.find("'fortnights' is not understood"), std::string::npos);
  EXPECT_EQ(Evaluate(At(10), "latency").status, "unknown");
}

TEST_F(SloTest, FrequencyReadsTheGapsBetweenSuccessfulRuns) {
  Apply({Sla("frequency", "1", "hour")});
  EXPECT_EQ(Evaluate(At(0), "frequency").status, "unknown");
  Publish();
  Fail();  // a failed run is no publication
  EXPECT_EQ(Evaluate(At(30 * 60), "frequency").status, "met");
  EXPECT_EQ(Evaluate(At(55 * 60), "frequency").status, "at_risk");
  auto late = Evaluate(At(2 * kHour), "frequency");
  EXPECT_EQ(late.status, "breached") << late.detail;
  EXPECT_NEAR(late.observed, 2 * kHour, 30);
}

TEST_F(SloTest, AvailabilityIsTheShareOfEvaluationsAtWhichThePortWasServable) {
  Apply({Sla("availability", "0.8")});  // a ratio: 80%
  auto unpublished = Evaluate(At(0), "availability");
  EXPECT_EQ(unpublished.status, "breached") << unpublished.detail;
  EXPECT_EQ(unpublished.objective_value, 80);
  EXPECT_NE(unpublished.detail.find("never published"), std::string::npos);
  Publish();
  catalog::SloStatusRecord s;
  for (int i = 1; i <= 4; ++i) s = Evaluate(At(i), "availability");
  EXPECT_EQ(s.observed, 80);  // 4 of 5: met, but the whole budget is used
  EXPECT_EQ(s.status, "at_risk") << s.detail;
  for (int i = 5; i <= 9; ++i) s = Evaluate(At(i), "availability");
  EXPECT_EQ(s.observed, 90);
  EXPECT_EQ(s.status, "met") << s.detail;
}

TEST_F(SloTest, AvailabilityCountsAQuarantinedPortAsNotServable) {
  Apply({Sla("availability", "99.9", "percent")});
  Publish();
  EXPECT_EQ(Evaluate(At(1), "availability").status, "met");
  catalog::GovernanceEvaluationRecord evaluation;
  evaluation.at = At(2);
  evaluation.trigger = "test";
  evaluation.actor = "ops";
  catalog::PolicyViolationRecord violation;
  violation.policy = "owners-required";
  violation.severity = "block";
  violation.domain = "sales";
  violation.product = "sales.orders";
  violation.entity = "sales.orders";
  violation.message = "no owner";
  violation.quarantine = true;
  evaluation.violations.push_back(violation);
  ASSERT_TRUE(catalog_->RecordGovernanceEvaluation(evaluation).ok());
  auto s = Evaluate(At(3), "availability");
  EXPECT_EQ(s.status, "breached") << s.detail;
  EXPECT_EQ(s.observed, 50);
  EXPECT_NE(s.detail.find("quarantined"), std::string::npos) << s.detail;
}

TEST_F(SloTest, ErrorRateIsTheShareOfFailedRunsIn30Days) {
  Apply({Sla("errorRate", "25", "percent")});
  EXPECT_EQ(Evaluate(At(0), "errorRate").status, "unknown");
  for (int i = 0; i < 3; ++i) Publish();
  Fail();
  auto quarter = Evaluate(At(10), "errorRate");
  EXPECT_EQ(quarter.observed, 25);
  EXPECT_EQ(quarter.status, "at_risk") << quarter.detail;
  Publish();
  EXPECT_EQ(Evaluate(At(20), "errorRate").status, "met");
  Fail();
  auto third = Evaluate(At(30), "errorRate");
  EXPECT_EQ(third.status, "breached") << third.detail;
  // 31 days later the runs are out of the window.
  EXPECT_EQ(Evaluate(At(31 * kDay), "errorRate").status, "unknown");
}

TEST_F(SloTest, RetentionReadsTheOldestValueOfTheNamedColumn) {
  Apply({Sla("retention", "30", "d", "orders.placed_at"), Sla("retention", "1", "y")});
  Publish();
  auto write = [&](const std::string& oldest_sql) {
    engine::DatabaseOptions options;
    options.path = home_->DomainDataPath("sales");
    auto db = engine::Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto conn = (*db)->Connect();
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE((*conn)->Execute("CREATE OR REPLACE TABLE orders__orders__v1 (id VARCHAR, "
                                 "email VARCHAR, amount VARCHAR, placed_at DATE); "
                                 "INSERT INTO orders__orders__v1 VALUES ('1', '', '', (" +
                                 oldest_sql + ") + INTERVAL 1 DAY), ('2', '', '', " + oldest_sql + ")")
                    .ok());
  };
  const std::string kOnDate = "30 d on orders.placed_at";
  EXPECT_EQ(Evaluate(At(1), kOnDate, SloOptions{PublishedDataReader(*home_)}).status,
            "unknown");  // no data file yet
  SloOptions options{PublishedDataReader(*home_)};
  write("current_date - INTERVAL 40 DAY");
  auto kept = Evaluate(At(2), kOnDate, options);
  EXPECT_EQ(kept.status, "met") << kept.detail;
  EXPECT_EQ(kept.objective, "30 d on orders.placed_at");
  EXPECT_GT(kept.observed, 39 * kDay);
  // Younger than its retention, but nothing since its first run is gone.
  write("current_date - INTERVAL 3 DAY");
  auto young = Evaluate(At(10 * kDay), kOnDate, options);
  EXPECT_EQ(young.status, "met") << young.detail;
  // Values from the first run's day on are gone (the oldest is later): breached.
  write("current_date + INTERVAL 3 DAY");
  auto removed = Evaluate(At(10 * kDay), kOnDate, options);
  EXPECT_EQ(removed.status, "breached") << removed.detail;
  // Not read (no reader), and no column named: unknown.
  EXPECT_EQ(Evaluate(At(3), kOnDate).status, "unknown");
  auto statuses = catalog_->ListSloStatus("urn:shop:sales:orders");
  ASSERT_TRUE(statuses.ok());
  int unknown_without_element = 0;
  for (const auto& s : *statuses) {
    if (s.objective == "1 y" && s.status == "unknown") unknown_without_element++;
  }
  EXPECT_EQ(unknown_without_element, 1);
}

/// A UTC offset that makes the test's start 10:00 local (to the minute), as "+HH:MM".
std::string OffsetForTen(double start, double* offset_seconds) {
  double tod = start - std::floor(start / kDay) * kDay;
  double offset = std::round((10 * kHour - tod) / 60) * 60;
  if (offset > 12 * kHour) offset -= kDay;
  if (offset <= -12 * kHour) offset += kDay;
  *offset_seconds = offset;
  int minutes = static_cast<int>(std::fabs(offset) / 60);
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%c%02d:%02d", offset < 0 ? '-' : '+', minutes / 60,
                minutes % 60);
  return buf;
}

TEST_F(SloTest, TimeOfAvailabilityWantsTodaysDataByTheTime) {
  double offset = 0;
  std::string zone = OffsetForTen(start_, &offset);
  Apply({Sla("timeOfAvailability", "11:00" + zone), Sla("timeOfAvailability", "09:00", zone)});
  EXPECT_EQ(Evaluate(At(0), "timeOfAvailability").status, "unknown");
  Publish();  // at about 10:00 local
  auto statuses = EvaluateSlos(*catalog_, At(60));
  ASSERT_TRUE(statuses.ok());
  std::map<std::string, std::string> by_objective;
  for (const auto& s : *statuses) by_objective[s.objective] = s.status + ": " + s.detail;
  EXPECT_EQ(by_objective["11:00" + zone].substr(0, 3), "met") << by_objective["11:00" + zone];
  EXPECT_EQ(by_objective["09:00 " + zone].substr(0, 8), "breached");
  // The next day, local: 01:00 (both due later: met), 10:30 (11:00 due in 30 minutes).
  EXPECT_EQ(Evaluate(At(15 * kHour), "09:00 " + zone).status, "met");
  auto next = EvaluateSlos(*catalog_, At(24 * kHour + 30 * 60));
  ASSERT_TRUE(next.ok());
  for (const auto& s : *next) {
    if (s.objective == "11:00" + zone) {
      EXPECT_EQ(s.status, "at_risk") << s.detail;
    }
    if (s.objective == "09:00 " + zone) {
      EXPECT_EQ(s.status, "breached") << s.detail;
    }
  }
  auto early = EvaluateSlos(*catalog_, At(15 * kHour));
  ASSERT_TRUE(early.ok());
  for (const auto& s : *early) {
    if (s.objective == "11:00" + zone) {
      EXPECT_EQ(s.status, "met") << s.detail;
    }
  }
}

TEST_F(SloTest, OnlyDeclaredMeasuredObjectivesAreKept) {
  Apply({Sla("latency", "1", "d"), Sla("generalAvailability", "2026-01-01")});
  Publish();
  ASSERT_TRUE(EvaluateSlos(*catalog_, At(1)).ok());
  auto first = catalog_->ListSloStatus();
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].property, "latency");
  EXPECT_EQ((*first)[0].product, "sales.orders");
  Apply({Sla("frequency", "1", "d")});
  ASSERT_TRUE(EvaluateSlos(*catalog_, At(2)).ok());
  auto second = catalog_->ListSloStatus();
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ((*second)[0].property, "frequency");
}

TEST_F(SloTest, HistoryAndDayCountsOlderThan90DaysArePruned) {
  Apply({Sla("latency", "1", "h")});
  Publish();
  Evaluate(At(60), "latency");
  auto attained = catalog_->SloAttainment(At(-kDay));
  ASSERT_TRUE(attained.ok());
  EXPECT_EQ(attained->at("urn:shop:sales:orders"), 1.0);
  Evaluate(At(100 * kDay), "latency");
  attained = catalog_->SloAttainment(At(-kDay));
  ASSERT_TRUE(attained.ok());
  EXPECT_EQ(attained->at("urn:shop:sales:orders"), 0.0);  // the met day is gone
  auto history = catalog_->ListSloHistory("urn:shop:sales:orders", "");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].status, "breached");
}

TEST_F(SloTest, ABadTimeIsRefused) {
  Apply({Sla("latency", "1", "h")});
  auto refused = EvaluateSlos(*catalog_, "now-ish");
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("not an ISO 8601 time"), std::string::npos);
}

}  // namespace
}  // namespace plexus::observe
