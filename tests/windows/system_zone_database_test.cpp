// The Windows agent has no tz database of its own: the zone a job carries is its only source, and
// "UTC" needs none.
#include <gtest/gtest.h>

#include "common/base/zone_database.h"

namespace tenure {
namespace {

TEST(WindowsSystemZoneDatabaseTest, HoldsNoZonesAndKnowsItIsIncomplete) {
  const ZoneDatabase& system = systemZoneDatabase();
  EXPECT_FALSE(system.complete());
  EXPECT_EQ(system.tzif("Europe/Berlin").status().errorClass(), ErrorClass::kNotFound);
  auto utc = loadZone(system, "UTC");
  ASSERT_TRUE(utc.isOk()) << utc.status().toString();
  EXPECT_EQ(utc->utcOffsetAt(1'736'895'600), 0);
}

}  // namespace
}  // namespace tenure
