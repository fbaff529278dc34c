#include "plexus/observe/progress.h"

#include <gtest/gtest.h>

namespace plexus::observe {
namespace {

TEST(ProgressBar, FillsItsWidthInProportion) {
  EXPECT_EQ(FormatBar(0, 10), "[..........]");
  EXPECT_EQ(FormatBar(0.5, 10), "[#####.....]");
  EXPECT_EQ(FormatBar(0.99, 10), "[#########.]");
  EXPECT_EQ(FormatBar(1, 10), "[##########]");
  EXPECT_EQ(FormatBar(1.7, 4), "[####]");   // clamped
  EXPECT_EQ(FormatBar(-0.2, 4), "[....]");  // clamped
  EXPECT_EQ(FormatBar(0.5, 0), "");
  EXPECT_EQ(FormatBar(0.25, 40).size(), 42u);
}

TEST(ProgressBar, CountsRatesAndDurationsReadShort) {
  EXPECT_EQ(FormatCount(950), "950");
  EXPECT_EQ(FormatCount(12345), "12.3k");
  EXPECT_EQ(FormatCount(4500000), "4.5M");
  EXPECT_EQ(FormatCount(350000), "350k");
  EXPECT_EQ(FormatRate(700000, 2, "rows"), "350k rows/s");
  EXPECT_EQ(FormatRate(10, 0.05, "rows"), "");  // too early to tell
  EXPECT_EQ(FormatDuration(12.4), "12s");
  EXPECT_EQ(FormatDuration(185), "3m05s");
  EXPECT_EQ(FormatDuration(7620), "2h07m");
}

TEST(ProgressBar, EtaFollowsThePaceSoFar) {
  EXPECT_DOUBLE_EQ(EstimateRemaining(0.25, 10), 30);
  EXPECT_DOUBLE_EQ(EstimateRemaining(1, 10), 0);
  EXPECT_LT(EstimateRemaining(0, 10), 0);     // nothing done: unknown
  EXPECT_LT(EstimateRemaining(0.5, 0.1), 0);  // too early
}

TEST(ProgressBar, TheWholeLine) {
  ProgressFigures f;
  f.fraction = 0.5;
  f.done = 1200000;
  f.total = 2400000;
  f.elapsed_s = 4;
  EXPECT_EQ(FormatProgress(f, 10), "[#####.....]  50%  1.2M/2.4M rows  300k rows/s  ETA 4s");

  ProgressFigures rate_only;  // stdin: nothing known of the whole
  rate_only.done = 5000;
  rate_only.elapsed_s = 2;
  rate_only.unit = "events";
  EXPECT_EQ(FormatProgress(rate_only, 10), "5.0k events  2.5k events/s");

  ProgressFigures estimated;  // from the previous run's duration
  estimated.fraction = 0.2;
  estimated.elapsed_s = 2;
  estimated.eta_s = 75;
  EXPECT_EQ(FormatProgress(estimated, 5), "[#....]  20%  ETA 1m15s");

  EXPECT_EQ(FormatProgress(ProgressFigures(), 10), "");
}

}  // namespace
}  // namespace plexus::observe
