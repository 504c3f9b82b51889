#include "common/base/calendar_time.h"

#include <gtest/gtest.h>

#include "common/base/clock.h"

namespace tenure {
namespace {

TEST(CalendarTimeTest, UtcCalendarTimeOfTheEpochIsNewYear1970) {
  const std::tm tm = utcCalendarTime(0);
  EXPECT_EQ(tm.tm_year, 70);
  EXPECT_EQ(tm.tm_mon, 0);
  EXPECT_EQ(tm.tm_mday, 1);
  EXPECT_EQ(tm.tm_hour, 0);
}

TEST(CalendarTimeTest, UtcCalendarTimeOfALeapDay) {
  const std::tm tm = utcCalendarTime(1709210096);  // 2024-02-29T12:34:56Z
  EXPECT_EQ(tm.tm_year, 124);
  EXPECT_EQ(tm.tm_mon, 1);
  EXPECT_EQ(tm.tm_mday, 29);
  EXPECT_EQ(tm.tm_hour, 12);
  EXPECT_EQ(tm.tm_min, 34);
  EXPECT_EQ(tm.tm_sec, 56);
  EXPECT_EQ(tm.tm_wday, 4);  // a Thursday
}

TEST(CalendarTimeTest, FormatIso8601UtcUsesIt) {
  EXPECT_EQ(formatIso8601Utc(1709210096), "2024-02-29T12:34:56Z");
}

TEST(CalendarTimeTest, LocalCalendarTimeIsADayOfTheSameYear) {
  // Whatever the zone, local time is within a day of UTC.
  const std::tm tm = localCalendarTime(1709210096);
  EXPECT_EQ(tm.tm_year, 124);
  EXPECT_TRUE((tm.tm_mon == 1 && tm.tm_mday >= 28) || (tm.tm_mon == 2 && tm.tm_mday == 1))
      << tm.tm_mon << "/" << tm.tm_mday;
}

}  // namespace
}  // namespace tenure
