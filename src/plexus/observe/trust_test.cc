// The trust score: its formula part by part, and computed from a real catalog (a stale product's
// score drops; quality, documentation and history come from the catalog's records). Quality
// history and its trends.
#include "plexus/observe/trust.h"

#include <gtest/gtest.h>

#include "plexus/observe/slo_test_util.h"

namespace plexus::observe {
namespace {

using testing::Sla;
using testing::SloTest;

constexpr double kHour = 3600;
constexpr double kDay = 86400;

TrustInputs Perfect() {
  TrustInputs in;
  in.slo_attainment = 1;
  in.slo_statuses = {"met", "met"};
  in.quality_pass_rate = 1;
  in.purpose = in.port_descriptions = in.column_descriptions = in.owners = in.business = 1;
  in.readers = 7;
  return in;
}

TEST(TrustFormulaTest, EveryPartFullGives100) {
  auto r = ScoreTrust(Perfect());
  EXPECT_EQ(r.score, 100);
  EXPECT_EQ(r.slo, 1);
  EXPECT_EQ(r.quality, 1);
  EXPECT_EQ(r.stability, 1);
  EXPECT_EQ(r.documentation, 1);
  EXPECT_EQ(r.consumers, 1);
}

TEST(TrustFormulaTest, PartsWithoutDataAreNeutral) {
  TrustInputs nothing;  // no SLO, no quality check, no docs, no readers, stable
  auto r = ScoreTrust(nothing);
  EXPECT_EQ(r.slo, kTrustNeutral);
  EXPECT_EQ(r.quality, kTrustNeutral);
  EXPECT_EQ(r.stability, 1);
  EXPECT_EQ(r.documentation, 0);
  EXPECT_EQ(r.consumers, 0);
  EXPECT_DOUBLE_EQ(r.score, 42.5);  // 100 * (0.3 * 0.5 + 0.25 * 0.5 + 0.15)
  // Unknown statuses (never published) are no data either.
  nothing.slo_statuses = {"unknown"};
  EXPECT_EQ(ScoreTrust(nothing).slo, kTrustNeutral);
}

TEST(TrustFormulaTest, ABreachLowersTheSloPartAtOnce) {
  TrustInputs in = Perfect();
  in.slo_statuses = {"breached", "met"};
  EXPECT_EQ(ScoreTrust(in).slo, 0.75);  // half 30-day attainment, half the share met now
  in.slo_statuses = {"at_risk"};
  EXPECT_EQ(ScoreTrust(in).slo, 0.75);  // at risk counts half
  in.slo_statuses = {"breached"};
  in.slo_attainment = 0.5;
  EXPECT_EQ(ScoreTrust(in).slo, 0.25);
  EXPECT_DOUBLE_EQ(ScoreTrust(in).score, 77.5);  // 100 - 30 * 0.75
  in.slo_statuses.clear();
  EXPECT_EQ(ScoreTrust(in).slo, 0.5);  // attainment alone
}

TEST(TrustFormulaTest, StabilityDocumentationAndConsumers) {
  TrustInputs in = Perfect();
  in.breaking_changes = 1;
  EXPECT_EQ(ScoreTrust(in).stability, 0.75);
  in.deprecated = true;
  EXPECT_EQ(ScoreTrust(in).stability, 0.25);
  in.breaking_changes = 9;
  EXPECT_EQ(ScoreTrust(in).stability, 0);
  in = Perfect();
  in.retired = true;
  EXPECT_EQ(ScoreTrust(in).stability, 0);
  in = Perfect();
  in.column_descriptions = 0.5;
  in.business = 0;
  EXPECT_DOUBLE_EQ(ScoreTrust(in).documentation, 0.7);
  in.readers = 2;
  EXPECT_DOUBLE_EQ(ScoreTrust(in).consumers, 0.4);
  in.quality_pass_rate = 0.9;
  EXPECT_DOUBLE_EQ(ScoreTrust(in).quality, 0.9);
}

TEST_F(SloTest, AStaleProductsTrustScoreDrops) {
  Apply({Sla("latency", "1", "h")});
  Publish();
  ASSERT_TRUE(EvaluateSlos(*catalog_, At(60)).ok());
  auto fresh = ComputeTrustScores(*catalog_, At(60));
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  ASSERT_EQ(fresh->size(), 1u);
  EXPECT_EQ((*fresh)[0].product, "sales.orders");
  EXPECT_EQ((*fresh)[0].slo, 1);
  ASSERT_TRUE(EvaluateSlos(*catalog_, At(3 * kHour)).ok());
  auto stale = ComputeTrustScores(*catalog_, At(3 * kHour));
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ((*stale)[0].slo, 0.25);  // attainment 1 of 2, breached now
  EXPECT_LT((*stale)[0].score, (*fresh)[0].score);
  EXPECT_DOUBLE_EQ((*fresh)[0].score - (*stale)[0].score, 22.5);
  auto history = catalog_->TrustHistory("urn:shop:sales:orders", 10);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].computed_at, At(3 * kHour));  // newest first
  EXPECT_EQ((*history)[1].score, (*fresh)[0].score);
  // The same score again keeps no new history row the same day.
  ASSERT_TRUE(ComputeTrustScores(*catalog_, At(3 * kHour + 60)).ok());
  EXPECT_EQ(catalog_->TrustHistory("urn:shop:sales:orders", 0)->size(), 2u);
  auto current = catalog_->ListTrustScores();
  ASSERT_TRUE(current.ok());
  ASSERT_EQ(current->size(), 1u);
  EXPECT_EQ((*current)[0].computed_at, At(3 * kHour + 60));
}

catalog::QualityResultRecord Check(const std::string& at, const std::string& status,
                                   double measured, int position = 0) {
  catalog::QualityResultRecord r;
  r.product_id = "urn:shop:sales:orders";
  r.port = "orders";
  r.major = 1;
  r.rule_position = position;
  r.rule = position == 0 ? "no null ids" : "few refunds";
  r.column = "id";
  r.check = "nullValues";
  r.status = status;
  r.has_measured = true;
  r.measured = measured;
  r.unit = "rows";
  r.threshold = "mustBe 0";
  r.severity = "error";
  r.checked_at = at;
  return r;
}

TEST_F(SloTest, TrustReadsQualityDocumentationAndReaders) {
  spec::Mesh mesh = testing::SloMesh({});
  auto& product = mesh.domains[0].products[0].product;
  product.purpose = "Orders placed in the shop";
  spec::TeamMember owner;
  owner.username = "carol";
  owner.role = "owner";
  product.team.push_back(owner);
  ASSERT_TRUE(catalog_->Apply(mesh, "ops").ok());
  ASSERT_TRUE(catalog_->RecordQualityResults({Check(At(-kDay), "passed", 0),
                                              Check(At(-kDay), "failed", 3, 1),
                                              Check(At(-40 * kDay), "failed", 9)}).ok());
  auto inputs = GatherTrustInputs(*catalog_, At(0));
  ASSERT_TRUE(inputs.ok()) << inputs.status().ToString();
  const TrustInputs& in = inputs->at("urn:shop:sales:orders");
  EXPECT_EQ(in.quality_pass_rate, 0.5);  // the 40-day-old check is out of the window
  EXPECT_EQ(in.purpose, 1);
  EXPECT_EQ(in.owners, 1);
  EXPECT_EQ(in.port_descriptions, 0);
  EXPECT_EQ(in.readers, 0);
  EXPECT_EQ(in.breaking_changes, 0);
  auto scores = ComputeTrustScores(*catalog_, At(0));
  ASSERT_TRUE(scores.ok());
  EXPECT_EQ((*scores)[0].quality, 0.5);
  EXPECT_DOUBLE_EQ((*scores)[0].documentation, 0.4);
}

TEST_F(SloTest, QualityHistoryKeepsEveryCheckWithItsTrend) {
  Apply({});
  ASSERT_TRUE(catalog_->RecordQualityResults({
      Check(At(-10 * kDay), "passed", 0), Check(At(-9 * kDay), "passed", 0),
      Check(At(-2 * kDay), "failed", 4), Check(At(-1 * kDay), "passed", 0),
      Check(At(-12 * kDay), "failed", 10, 1), Check(At(-1 * kDay), "failed", 2, 1),
      Check(At(-30 * kDay), "passed", 0, 1)}).ok());
  auto history = catalog_->QualityHistory("urn:shop:sales:orders", At(-20 * kDay), At(0));
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->size(), 2u);
  const auto& ids = (*history)[0];
  EXPECT_EQ(ids.rule, "no null ids");
  ASSERT_EQ(ids.points.size(), 4u);
  EXPECT_EQ(ids.points[0].checked_at, At(-10 * kDay));  // oldest first
  EXPECT_EQ(ids.points[2].status, "failed");
  EXPECT_EQ(ids.points[2].measured, 4);
  EXPECT_EQ(ids.pass_rate_recent, 0.5);
  EXPECT_EQ(ids.pass_rate_before, 1);
  EXPECT_EQ(ids.trend, "declining");
  EXPECT_EQ(ids.measured_trend, "rising");
  const auto& refunds = (*history)[1];
  ASSERT_EQ(refunds.points.size(), 2u);  // the one 30 days ago is before `since`
  EXPECT_EQ(refunds.trend, "steady");    // failed both weeks
  EXPECT_EQ(refunds.measured_trend, "falling");
  auto recent = catalog_->QualityHistory("urn:shop:sales:orders", At(-1.5 * kDay), At(0));
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->size(), 2u);
  EXPECT_EQ((*recent)[0].points.size(), 1u);
  EXPECT_EQ((*recent)[0].trend, "declining");  // the trend still reads 14 days
}

}  // namespace
}  // namespace plexus::observe
