#include <gtest/gtest.h>

#include "controlplane/audit/identity_events.h"

namespace tenure::cp {
namespace {

TEST(ParseInstantTest, AcceptsRfc3339WithZoneAndFractionAndEpochMillis) {
  EXPECT_EQ(parseInstant("2026-03-02T09:00:00Z").value(), 1772442000000);
  EXPECT_EQ(parseInstant("2026-03-02t09:00:00.25z").value(), 1772442000250);
  EXPECT_EQ(parseInstant("2026-03-02T10:30:00+01:30").value(), 1772442000000);
  EXPECT_EQ(parseInstant("2026-03-02T04:00:00-05:00").value(), 1772442000000);
  EXPECT_EQ(parseInstant("1772442000000").value(), 1772442000000);
}

TEST(ParseInstantTest, RefusesAnythingElse) {
  for (const char* bad : {"", "yesterday", "2026-03-02", "2026-03-02T09:00:00", "2026-02-30T00:00:00Z",
                          "2026-03-02T25:00:00Z", "2026-03-02T09:00:00+0100", "-5",
                          "2026-03-02T09:00:00Zjunk", "12345678901234567890"}) {
    EXPECT_FALSE(parseInstant(bad).isOk()) << bad;
  }
}

}  // namespace
}  // namespace tenure::cp
