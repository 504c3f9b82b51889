// ZoneDatabase implementations: the tz database on disk, zones held in memory (a job's), one
// layered over the other, and loadZone on top of them. base64 too, which carries TZif in jobs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/base/base64.h"
#include "common/base/zone_database.h"

namespace tenure {
namespace {

std::string systemBerlin() {
  std::ifstream in("/usr/share/zoneinfo/Europe/Berlin", std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

constexpr int64_t kSummer2024 = 1719835200;  // 2024-07-01T12:00:00Z

TEST(ZoneinfoDirectoryTest, ReadsTheBytesOfAZoneFile) {
  ZoneinfoDirectory dir("/usr/share/zoneinfo");
  EXPECT_TRUE(dir.complete());
  auto bytes = dir.tzif("Europe/Berlin");
  ASSERT_TRUE(bytes.isOk()) << bytes.status().toString();
  EXPECT_EQ(*bytes, systemBerlin());
}

TEST(ZoneinfoDirectoryTest, DirectoriesAndMissingZonesAreNotFoundAndBadNamesConfigErrors) {
  ZoneinfoDirectory dir("/usr/share/zoneinfo");
  EXPECT_EQ(dir.tzif("Europe").status().errorClass(), ErrorClass::kNotFound);
  EXPECT_EQ(dir.tzif("Europe/Atlantis").status().errorClass(), ErrorClass::kNotFound);
  for (const char* name : {"../etc/passwd", "/etc/localtime", "", "Europe/Berlin/", "A B"}) {
    EXPECT_EQ(dir.tzif(name).status().errorClass(), ErrorClass::kConfig) << name;
  }
}

TEST(ZoneinfoDirectoryTest, AMissingDirectoryIsNotComplete) {
  ZoneinfoDirectory dir("/nonexistent-zoneinfo");
  EXPECT_FALSE(dir.complete());
  EXPECT_EQ(dir.tzif("Europe/Berlin").status().errorClass(), ErrorClass::kNotFound);
}

TEST(InMemoryZoneDatabaseTest, HoldsOnlyWhatWasAddedAndIsNeverComplete) {
  InMemoryZoneDatabase db;
  db.add("Europe/Berlin", systemBerlin());
  EXPECT_FALSE(db.complete());
  EXPECT_EQ(db.tzif("Europe/Berlin").value(), systemBerlin());
  EXPECT_EQ(db.tzif("Europe/Paris").status().errorClass(), ErrorClass::kNotFound);
  EXPECT_EQ(db.tzif("../x").status().errorClass(), ErrorClass::kConfig);
}

TEST(LayeredZoneDatabaseTest, TheFirstWinsAndTheFallbackFillsIn) {
  InMemoryZoneDatabase first;
  first.add("Europe/Berlin", "first");
  InMemoryZoneDatabase fallback;
  fallback.add("Europe/Berlin", "fallback");
  fallback.add("Europe/Paris", "paris");
  LayeredZoneDatabase db(first, fallback);
  EXPECT_EQ(db.tzif("Europe/Berlin").value(), "first");
  EXPECT_EQ(db.tzif("Europe/Paris").value(), "paris");
  EXPECT_EQ(db.tzif("Asia/Tokyo").status().errorClass(), ErrorClass::kNotFound);
  EXPECT_FALSE(db.complete());
  ZoneinfoDirectory system("/usr/share/zoneinfo");
  EXPECT_TRUE(LayeredZoneDatabase(first, system).complete());
}

TEST(LoadZoneTest, UtcNeedsNoDataAndOtherZonesAreParsed) {
  InMemoryZoneDatabase empty;
  auto utc = loadZone(empty, "UTC");
  ASSERT_TRUE(utc.isOk());
  EXPECT_EQ(utc->utcOffsetAt(kSummer2024), 0);
  EXPECT_EQ(loadZone(empty, "Europe/Berlin").status().errorClass(), ErrorClass::kNotFound);

  InMemoryZoneDatabase db;
  db.add("Europe/Berlin", systemBerlin());
  db.add("Broken/Zone", "not a zone file at all, but long enough to hold a header.........");
  auto berlin = loadZone(db, "Europe/Berlin");
  ASSERT_TRUE(berlin.isOk()) << berlin.status().toString();
  EXPECT_EQ(berlin->name(), "Europe/Berlin");
  EXPECT_EQ(berlin->utcOffsetAt(kSummer2024), 7200);
  EXPECT_EQ(loadZone(db, "Broken/Zone").status().errorClass(), ErrorClass::kConfig);
}

TEST(SystemZoneDatabaseTest, IsTheZoneinfoDirectoryOnPosix) {
  auto bytes = systemZoneDatabase().tzif("Europe/Berlin");
  ASSERT_TRUE(bytes.isOk()) << bytes.status().toString();
  EXPECT_EQ(*bytes, systemBerlin());
}

TEST(Base64Test, RoundTripsEveryLengthAndByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n <= all.size(); n += (n < 8 ? 1 : 37)) {
    const std::string in = all.substr(0, n);
    auto out = base64Decode(base64Encode(in));
    ASSERT_TRUE(out.isOk()) << n;
    EXPECT_EQ(*out, in) << n;
  }
  EXPECT_EQ(base64Encode("TZif"), "VFppZg==");
  EXPECT_EQ(base64Encode("Ma"), "TWE=");
  EXPECT_EQ(base64Encode(""), "");
}

TEST(Base64Test, RejectsWhatIsNotStrictBase64) {
  for (const char* bad :
       {"VFppZg=", "VFp pZg==", "VFppZg=\n", "VF*pZg==", "=FppZg==", "VFppZ===", "VF==Zg=="}) {
    auto out = base64Decode(bad);
    EXPECT_FALSE(out.isOk()) << bad;
    if (!out.isOk()) {
      EXPECT_EQ(out.status().errorClass(), ErrorClass::kData) << bad;
    }
  }
}

}  // namespace
}  // namespace tenure
