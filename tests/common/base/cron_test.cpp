// CronExpression against the system's tzdata. Expected instants were worked out by hand from the
// zones' rules (Europe/Berlin: CET+1/CEST+2, switching at 01:00 UTC on the last Sundays of March
// and October; Australia/Lord_Howe: +10:30/+11, switching at 02:00 local on the first Sundays of
// October and April) and are constants here.
#include "common/base/cron.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "common/base/clock.h"

namespace tenure {
namespace {

// "YYYY-MM-DDTHH:MM:SSZ" -> Unix seconds.
int64_t utc(const std::string& iso) {
  const int64_t days = daysFromCivil(std::stoll(iso.substr(0, 4)),
                                     static_cast<unsigned>(std::stoi(iso.substr(5, 2))),
                                     static_cast<unsigned>(std::stoi(iso.substr(8, 2))));
  return days * 86400 + std::stoll(iso.substr(11, 2)) * 3600 + std::stoll(iso.substr(14, 2)) * 60 +
         std::stoll(iso.substr(17, 2));
}

TimeZone zone(const std::string& name) {
  auto tz = TimeZone::load(name);
  EXPECT_TRUE(tz.isOk()) << tz.status().toString();
  return tz.isOk() ? *tz : TimeZone::utc();
}

struct NextCase {
  const char* cron;
  const char* zone;
  const char* after;     // UTC
  const char* expected;  // UTC
  const char* why;
};

class CronNextRun : public ::testing::TestWithParam<NextCase> {};

TEST_P(CronNextRun, IsTheFirstMatchingInstantAfterT) {
  const NextCase& c = GetParam();
  auto expr = CronExpression::parse(c.cron);
  ASSERT_TRUE(expr.isOk()) << expr.status().toString();
  auto next = expr->nextAfter(utc(c.after), zone(c.zone));
  ASSERT_TRUE(next.isOk()) << next.status().toString();
  EXPECT_EQ(formatIso8601Utc(*next), c.expected) << c.why;
}

INSTANTIATE_TEST_SUITE_P(
    Table, CronNextRun,
    ::testing::Values(
        // UTC basics.
        NextCase{"* * * * *", "UTC", "2026-05-10T10:00:00Z", "2026-05-10T10:01:00Z",
                 "strictly after T"},
        NextCase{"* * * * *", "UTC", "2026-05-10T10:00:30Z", "2026-05-10T10:01:00Z",
                 "whole minutes"},
        NextCase{"*/15 9-17 * * MON-FRI", "UTC", "2026-05-08T17:50:00Z", "2026-05-11T09:00:00Z",
                 "Friday evening -> Monday morning"},
        NextCase{"0 0 31 * *", "UTC", "2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z",
                 "February has no 31st"},
        NextCase{"0 0 31 * *", "UTC", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z",
                 "April has no 31st"},
        NextCase{"0 12 29 2 *", "UTC", "2026-01-01T00:00:00Z", "2028-02-29T12:00:00Z",
                 "next leap day"},
        NextCase{"0 12 29 2 *", "UTC", "2096-03-01T00:00:00Z", "2104-02-29T12:00:00Z",
                 "2100 is not a leap year: 8 years"},
        NextCase{"0 0 * * 7", "UTC", "2026-02-02T00:00:00Z", "2026-02-08T00:00:00Z",
                 "7 is Sunday"},
        NextCase{"0 0 * * 0", "UTC", "2026-02-02T00:00:00Z", "2026-02-08T00:00:00Z",
                 "0 is Sunday"},
        NextCase{"0 0 * * 5-7", "UTC", "2026-02-02T00:00:00Z", "2026-02-06T00:00:00Z",
                 "5-7 is Friday to Sunday"},
        NextCase{"0 0 * jul sun", "UTC", "2026-01-01T00:00:00Z", "2026-07-05T00:00:00Z",
                 "names, any case"},
        NextCase{"0 0 1 * MON", "UTC", "2026-02-02T00:00:00Z", "2026-02-09T00:00:00Z",
                 "both day fields restricted: a Monday matches"},
        NextCase{"0 0 1 * MON", "UTC", "2026-02-23T00:00:00Z", "2026-03-01T00:00:00Z",
                 "both day fields restricted: the 1st (a Sunday) matches"},
        NextCase{"0 0 1 * *", "UTC", "2026-02-02T00:00:00Z", "2026-03-01T00:00:00Z",
                 "only day of month restricted"},
        NextCase{"0 0 */1 * MON", "UTC", "2026-02-23T00:00:00Z", "2026-03-02T00:00:00Z",
                 "a day field starting with * is unrestricted (Vixie): AND"},
        NextCase{"5/20 * * * *", "UTC", "2026-05-10T10:46:00Z", "2026-05-10T11:05:00Z",
                 "a/n runs from a to the end of the field"},
        NextCase{"@daily", "UTC", "2026-05-10T10:00:00Z", "2026-05-11T00:00:00Z", "macro"},
        // Europe/Berlin, spring forward on 2026-03-29: 02:00-02:59 local does not exist.
        NextCase{"30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z",
                 "02:30 is in the gap: runs at 03:00 CEST, the first minute after it"},
        NextCase{"30 2 * * *", "Europe/Berlin", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z",
                 "next day at 02:30 CEST"},
        NextCase{"*/15 2 * * *", "Europe/Berlin", "2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z",
                 "every slot in the gap collapses into one run at the gap's end"},
        NextCase{"*/15 2 * * *", "Europe/Berlin", "2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z",
                 "and runs only once there"},
        NextCase{"0 3 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z",
                 "03:00 exists and is the gap's end"},
        NextCase{"0 9 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T07:00:00Z",
                 "09:00 CEST after the change"},
        // Europe/Berlin, fall back on 2026-10-25: 02:00-02:59 local happens twice.
        NextCase{"30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z",
                 "first occurrence (CEST)"},
        NextCase{"30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z",
                 "the second occurrence (CET) is skipped"},
        NextCase{"0 * * * *", "Europe/Berlin", "2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z",
                 "hourly: 02:00 CET (second occurrence) skipped, next is 03:00 CET"},
        NextCase{"0 9 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", "2026-10-25T08:00:00Z",
                 "09:00 CET after the change"},
        // Australia/Lord_Howe: half-hour DST.
        NextCase{"15 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00Z",
                 "2026-10-03T15:30:00Z", "02:15 is in the 02:00-02:30 gap: runs at 02:30 +11"},
        NextCase{"45 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00Z",
                 "2026-10-03T15:45:00Z", "02:45 exists (+11)"},
        NextCase{"45 1 * * *", "Australia/Lord_Howe", "2026-04-04T12:00:00Z",
                 "2026-04-04T14:45:00Z", "01:45 happens twice: first occurrence (+11)"},
        NextCase{"45 1 * * *", "Australia/Lord_Howe", "2026-04-04T14:45:00Z",
                 "2026-04-05T15:15:00Z", "the second occurrence (+10:30) is skipped"}));

TEST(CronExpression, ThatNeverMatchesIsNotFound) {
  auto expr = CronExpression::parse("0 0 30 2 *");
  ASSERT_TRUE(expr.isOk());
  auto next = expr->nextAfter(utc("2026-01-01T00:00:00Z"), TimeZone::utc());
  ASSERT_FALSE(next.isOk());
  EXPECT_EQ(next.status().errorClass(), ErrorClass::kNotFound);
}

struct ErrorCase {
  const char* cron;
  size_t position;
  const char* reason_contains;
};

class CronParseError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(CronParseError, NamesThePositionAndTheReason) {
  const ErrorCase& c = GetParam();
  CronError err;
  auto expr = CronExpression::parse(c.cron, &err);
  ASSERT_FALSE(expr.isOk()) << c.cron;
  EXPECT_EQ(expr.status().errorClass(), ErrorClass::kData);
  EXPECT_EQ(err.position, c.position) << c.cron << ": " << err.reason;
  EXPECT_NE(err.reason.find(c.reason_contains), std::string::npos) << err.reason;
  EXPECT_NE(expr.status().message().find("position " + std::to_string(c.position)),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CronParseError,
    ::testing::Values(ErrorCase{"", 1, "empty"}, ErrorCase{"   ", 1, "empty"},
                      ErrorCase{"60 * * * *", 1, "minute 60 out of range 0-59"},
                      ErrorCase{"* 24 * * *", 3, "hour 24 out of range 0-23"},
                      ErrorCase{"* * 0 * *", 5, "day of month 0 out of range 1-31"},
                      ErrorCase{"* * * 13 *", 7, "month 13 out of range"},
                      ErrorCase{"* * * * 8", 9, "day of week 8 out of range 0-7"},
                      ErrorCase{"* * * FOO *", 7, "unknown name 'FOO'"},
                      ErrorCase{"* * * * MON-FOO", 13, "unknown name"},
                      ErrorCase{"* * * JAN *x", 12, "unexpected 'x'"},
                      ErrorCase{"* * * * * *", 11, "expected 5 fields"},
                      ErrorCase{"* * *", 6, "expected 5 fields"},
                      ErrorCase{"5-1 * * * *", 1, "runs backwards"},
                      ErrorCase{"*/0 * * * *", 3, "step 0"},
                      ErrorCase{"*/ * * * *", 3, "step needs a number"},
                      ErrorCase{"1,,2 * * * *", 3, "unexpected ','"},
                      ErrorCase{"1, * * * *", 3, "may not end"},
                      ErrorCase{"*-5 * * * *", 2, "unexpected '-'"},
                      ErrorCase{"@fortnightly", 1, "unknown macro"}));

TEST(CronExpression, KeepsItsText) {
  auto expr = CronExpression::parse("0 2 * * *");
  ASSERT_TRUE(expr.isOk());
  EXPECT_EQ(expr->text(), "0 2 * * *");
}

}  // namespace
}  // namespace tenure
