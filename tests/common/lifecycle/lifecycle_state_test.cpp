#include "common/lifecycle/lifecycle_state.h"

#include <gtest/gtest.h>

namespace tenure::lifecycle {
namespace {

int64_t utc(int y, unsigned m, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return daysFromCivil(y, m, d) * 86400 + h * 3600 + mi * 60 + s;
}

hr::HrRecord person() {
  hr::HrRecord r;
  r.employee_id = "E1";
  r.given_name = "Ann";
  r.family_name = "Able";
  r.employment_type = "employee";
  r.status = "active";
  return r;
}

StateDecision at(const hr::HrRecord& r, int64_t now, const TimeZone& tz = TimeZone::utc()) {
  auto d = evaluateState(r, policy::defaultPolicy(), now, tz);
  EXPECT_TRUE(d.isOk()) << d.status().toString();
  return d.isOk() ? *d : StateDecision{};
}

TEST(AccountExpires, ConvertsBetweenUnixAndFileTime) {
  EXPECT_EQ(unixToFileTime(0), 116444736000000000);
  EXPECT_EQ(fileTimeToUnix(unixToFileTime(1'750'000'000)), 1'750'000'000);
  EXPECT_EQ(accountExpiresToUnix("0"), std::nullopt);
  EXPECT_EQ(accountExpiresToUnix("9223372036854775807"), std::nullopt);
  EXPECT_EQ(accountExpiresToUnix(""), std::nullopt);
  EXPECT_EQ(accountExpiresToUnix(std::to_string(unixToFileTime(1'750'000'000))), 1'750'000'000);
}

TEST(LifecycleState, TerminationWithFutureEndDateStaysActiveUntilTheDayAfter) {
  hr::HrRecord r = person();
  r.status = "terminated";
  r.end_date = "2026-11-30";
  StateDecision before = at(r, utc(2026, 11, 30, 23, 59, 59));
  EXPECT_EQ(before.state, LifecycleState::kActive);
  EXPECT_TRUE(before.enabled);
  EXPECT_EQ(before.account_expires, utc(2026, 12, 1));
  StateDecision after = at(r, utc(2026, 12, 1));
  EXPECT_EQ(after.state, LifecycleState::kTerminated);
  EXPECT_EQ(after.reason, "terminated: end date 2026-11-30 passed");
  EXPECT_EQ(after.terminated_at, utc(2026, 12, 1));
}

TEST(LifecycleState, EndDateInBerlinTakesEffectAtLocalMidnight) {
  auto berlin = TimeZone::load("Europe/Berlin");
  ASSERT_TRUE(berlin.isOk());
  hr::HrRecord r = person();
  r.employment_type = "contractor";
  r.end_date = "2026-01-31";
  // CET (+1): local midnight of 1 February is 23:00 UTC on 31 January.
  EXPECT_EQ(at(r, utc(2026, 1, 31, 22, 59, 59), *berlin).state, LifecycleState::kActive);
  EXPECT_EQ(at(r, utc(2026, 1, 31, 23), *berlin).state, LifecycleState::kTerminated);
}

TEST(LifecycleState, PreHireWindowOpensPrehireDaysBeforeTheStart) {
  hr::HrRecord r = person();
  r.start_date = "2026-12-08";
  EXPECT_EQ(at(r, utc(2026, 11, 30, 23, 59, 59)).state, LifecycleState::kNotYet);
  StateDecision pre = at(r, utc(2026, 12, 1));
  EXPECT_EQ(pre.state, LifecycleState::kPreHire);
  EXPECT_EQ(pre.reason, "pre-hire: starts 2026-12-08");
  EXPECT_FALSE(pre.enabled);
  EXPECT_TRUE(pre.may_create);
  EXPECT_EQ(at(r, utc(2026, 12, 8)).state, LifecycleState::kActive);
}

TEST(LifecycleState, EndBeforeStartIsADataError) {
  hr::HrRecord r = person();
  r.start_date = "2026-12-08";
  r.end_date = "2026-12-01";
  auto d = evaluateState(r, policy::defaultPolicy(), utc(2026, 1, 1), TimeZone::utc());
  ASSERT_FALSE(d.isOk());
  EXPECT_EQ(d.status().errorClass(), ErrorClass::kData);
}

TEST(LifecycleState, TerminatedExternalWithoutEndDateIsAcceptedAsALeaver) {
  hr::HrRecord r = person();
  r.employment_type = "vendor";
  r.status = "terminated";
  EXPECT_EQ(at(r, utc(2026, 1, 1)).state, LifecycleState::kTerminated);
}

TEST(LifecycleState, StatusRescindedDeletesAndNeverCreates) {
  hr::HrRecord r = person();
  r.status = "rescinded";
  r.start_date = "2026-12-08";
  StateDecision d = at(r, utc(2026, 12, 1));
  EXPECT_EQ(d.state, LifecycleState::kRescinded);
  EXPECT_TRUE(d.delete_account);
  EXPECT_FALSE(d.may_create);
  EXPECT_EQ(d.reason, "rescinded: hire cancelled");
}

}  // namespace
}  // namespace tenure::lifecycle
