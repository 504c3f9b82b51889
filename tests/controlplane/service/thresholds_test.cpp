#include "controlplane/service/thresholds.h"

#include <gtest/gtest.h>

namespace tenure::cp {
namespace {

policy::ThresholdPolicy thresholds() {
  policy::ThresholdPolicy t;
  t.disables = policy::Threshold{.max_count = 50, .max_percent = 10.0};
  t.deletes = policy::Threshold{.max_count = 10, .max_percent = 2.0};
  t.moves = policy::Threshold{.max_count = 100, .max_percent = 20.0};
  t.group_removals = policy::Threshold{.max_count = 200, .max_percent = 20.0};
  t.min_population_for_percent = 50;
  return t;
}

protocol::PlanSummary plan(int population, std::map<std::string, int> counts) {
  protocol::PlanSummary p;
  p.population = population;
  p.counts = std::move(counts);
  return p;
}

TEST(EvaluateThresholds, CountOverTheAbsoluteLimitHoldsTheRun) {
  auto d = evaluateThresholds(thresholds(), plan(10'000, {{"disable", 60}}));
  EXPECT_FALSE(d.proceed);
  EXPECT_TRUE(d.held);
  EXPECT_EQ(d.reason, "disable: 60 > 50 (max_count)");
}

TEST(EvaluateThresholds, CountAtTheLimitProceeds) {
  auto d = evaluateThresholds(thresholds(), plan(10'000, {{"disable", 50}, {"delete", 10}}));
  EXPECT_TRUE(d.proceed);
  EXPECT_FALSE(d.held);
  EXPECT_EQ(d.reason, "");
}

TEST(EvaluateThresholds, ShareOverThePercentLimitHoldsTheRun) {
  auto d = evaluateThresholds(thresholds(), plan(100, {{"delete", 3}}));
  EXPECT_TRUE(d.held);
  EXPECT_EQ(d.reason, "delete: 3 > 2% of 100 (max_percent)");
}

TEST(EvaluateThresholds, ShareExactlyAtThePercentLimitProceeds) {
  EXPECT_TRUE(evaluateThresholds(thresholds(), plan(100, {{"delete", 2}})).proceed);
}

TEST(EvaluateThresholds, PercentLimitsIgnoreSmallPopulations) {
  // 3 of 49 deletes is 6 %, but a run covering fewer than 50 people is judged by counts only.
  EXPECT_TRUE(evaluateThresholds(thresholds(), plan(49, {{"delete", 3}})).proceed);
  EXPECT_TRUE(evaluateThresholds(thresholds(), plan(50, {{"delete", 3}})).held);
}

TEST(EvaluateThresholds, EveryThresholdCrossedIsNamed) {
  auto d = evaluateThresholds(
      thresholds(), plan(2'000, {{"disable", 250}, {"remove_member", 201}, {"move", 10}}));
  EXPECT_TRUE(d.held);
  EXPECT_EQ(d.reason,
            "disable: 250 > 50 (max_count); disable: 250 > 10% of 2000 (max_percent); "
            "remove_member: 201 > 200 (max_count)");
}

TEST(EvaluateThresholds, UncountedKindsNeverHold) {
  EXPECT_TRUE(evaluateThresholds(thresholds(), plan(100, {{"create", 100'000}})).proceed);
}

TEST(EvaluateThresholds, MissingLimitsDoNotHold) {
  policy::ThresholdPolicy t;  // no limits at all
  EXPECT_TRUE(evaluateThresholds(t, plan(100, {{"delete", 100}})).proceed);
}


const std::optional<policy::WindowThreshold> kWindow =
    policy::WindowThreshold{.minutes = 60, .max_disables = 25, .max_deletes = 10};

TEST(EvaluateWindow, RunThatTakesTheWindowOverItsLimitIsHeld) {
  auto d = evaluateWindow(kWindow, WindowTotals{.disables = 25}, plan(1, {{"disable", 1}}));
  EXPECT_TRUE(d.held);
  EXPECT_FALSE(d.proceed);
  EXPECT_EQ(d.reason, "disable: 26 > 25 in 60 min (window.max_disables; 25 by earlier runs)");
}

TEST(EvaluateWindow, RunThatReachesTheLimitExactlyProceeds) {
  EXPECT_TRUE(evaluateWindow(kWindow, WindowTotals{.disables = 24, .deletes = 9},
                             plan(1, {{"disable", 1}, {"delete", 1}}))
                  .proceed);
}

TEST(EvaluateWindow, RunAddingNothingOfAnOverfullKindIsNotHeld) {
  // The window is already over for disables; a run that only creates people is not held for it.
  auto d = evaluateWindow(kWindow, WindowTotals{.disables = 40, .deletes = 11},
                          plan(5, {{"create", 5}, {"disable", 0}}));
  EXPECT_TRUE(d.proceed);
  EXPECT_TRUE(evaluateWindow(kWindow, WindowTotals{.deletes = 10}, plan(1, {{"delete", 1}})).held);
}

TEST(EvaluateWindow, NoWindowOrNoLimitNeverHolds) {
  EXPECT_TRUE(evaluateWindow(std::nullopt, WindowTotals{.disables = 1000},
                             plan(1, {{"disable", 1}}))
                  .proceed);
  auto unlimited = kWindow;
  unlimited->max_disables.reset();
  EXPECT_TRUE(
      evaluateWindow(unlimited, WindowTotals{.disables = 1000}, plan(1, {{"disable", 1}})).proceed);
}

TEST(CombineDecisions, EitherHoldingHoldsAndEveryReasonIsKept) {
  protocol::PlanDecision go;
  auto a = evaluateThresholds(thresholds(), plan(10'000, {{"disable", 60}}));
  auto b = evaluateWindow(kWindow, WindowTotals{.disables = 1}, plan(10'000, {{"disable", 60}}));
  EXPECT_FALSE(combineDecisions(go, go).held);
  EXPECT_EQ(combineDecisions(go, b).reason, b.reason);
  EXPECT_EQ(combineDecisions(a, go).reason, a.reason);
  auto both = combineDecisions(a, b);
  EXPECT_TRUE(both.held);
  EXPECT_EQ(both.reason, "disable: 60 > 50 (max_count); disable: 61 > 25 in 60 min "
                         "(window.max_disables; 1 by earlier runs)");
}

TEST(EvaluateWindow, RunAloneIsLeftToThePerRunThresholds) {
  EXPECT_TRUE(evaluateWindow(kWindow, WindowTotals{}, plan(10'000, {{"disable", 60}})).proceed);
}

}  // namespace
}  // namespace tenure::cp
