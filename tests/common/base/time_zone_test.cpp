// TimeZone against the system's tzdata. Expected instants were computed once with python3's
// zoneinfo (and, for the POSIX "n" rule format, with glibc's `TZ=... date`, because CPython counts
// that format from 1 instead of 0) and checked by hand at the transitions; they are constants here.
#include "common/base/time_zone.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace tenure {
namespace {

TimeZone zone(const std::string& name) {
  auto tz = TimeZone::load(name);
  EXPECT_TRUE(tz.isOk()) << tz.status().toString();
  return tz.isOk() ? *tz : TimeZone::utc();
}

int64_t startOf(const TimeZone& tz, const char* date) {
  auto t = tz.startOfLocalDay(date);
  EXPECT_TRUE(t.isOk()) << t.status().toString();
  return t.isOk() ? *t : -1;
}

int64_t at(const TimeZone& tz, const char* date, int hour, int minute) {
  auto t = tz.localToUtc(date, hour, minute);
  EXPECT_TRUE(t.isOk()) << t.status().toString();
  return t.isOk() ? *t : -1;
}

// A TZif v2 file without transitions: only the footer rule says what the offsets are.
std::string footerOnlyTzif(const std::string& footer, int32_t utoff) {
  auto u32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  std::string header = std::string("TZif2") + std::string(15, '\0');
  for (uint32_t count : {0u, 0u, 0u, 0u, 1u, 4u}) header += u32(count);  // 1 type, 4 chars
  const std::string data = u32(static_cast<uint32_t>(utoff)) + std::string("\0\0XXX\0", 6);
  return header + data + header + data + "\n" + footer + "\n";
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tz-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(CivilDaysTest, RoundTripsAcrossEraAndLeapBoundaries) {
  EXPECT_EQ(daysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(daysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(daysFromCivil(1969, 12, 31), -1);
  for (int64_t d : {-800000, -1, 0, 11016, 11017, 19782, 2932896}) {
    const CivilDate c = civilFromDays(d);
    EXPECT_EQ(daysFromCivil(c.year, c.month, c.day), d);
  }
  EXPECT_EQ(formatIsoDate(daysFromCivil(2024, 2, 29)), "2024-02-29");
}

TEST(CivilDaysTest, ParseIsoDateAcceptsOnlyRealCalendarDays) {
  EXPECT_EQ(*parseIsoDate("2024-02-29"), daysFromCivil(2024, 2, 29));
  for (const char* bad : {"2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "2024-1-01",
                          "2024/01/01", "20240101", "", "2024-01-01T00:00", "+024-01-01"}) {
    auto r = parseIsoDate(bad);
    ASSERT_FALSE(r.isOk()) << bad;
    EXPECT_EQ(r.status().errorClass(), ErrorClass::kData);
  }
}

TEST(TimeZoneTest, UtcWorksWithoutAnyZoneFiles) {
  auto tz = TimeZone::load("UTC", "/nonexistent-zoneinfo");
  ASSERT_TRUE(tz.isOk()) << tz.status().toString();
  EXPECT_EQ(tz->name(), "UTC");
  EXPECT_EQ(tz->utcOffsetAt(1'700'000'000), 0);
  EXPECT_EQ(tz->localDate(1'700'000'000), "2023-11-14");
  EXPECT_EQ(startOf(*tz, "2024-03-31"), 1711843200);
  EXPECT_EQ(at(*tz, "1969-12-31", 23, 59), -60);
  EXPECT_EQ(TimeZone::utc().localDate(-1), "1969-12-31");
}

TEST(TimeZoneTest, BerlinSwitchesToSummerTimeAtOneUtc) {
  const TimeZone tz = zone("Europe/Berlin");
  EXPECT_EQ(tz.name(), "Europe/Berlin");
  EXPECT_EQ(tz.utcOffsetAt(1711846799), 3600);       // 2024-03-31T00:59:59Z
  EXPECT_EQ(tz.utcOffsetAt(1711846800), 7200);       // 2024-03-31T01:00:00Z
  EXPECT_EQ(startOf(tz, "2024-03-31"), 1711839600);  // 2024-03-30T23:00Z
  // 02:30 does not exist that night: the gap ends at 03:00 CEST.
  EXPECT_EQ(at(tz, "2024-03-31", 2, 30), 1711846800);
  // 02:30 happens twice in October: the earlier (CEST) one.
  EXPECT_EQ(at(tz, "2024-10-27", 2, 30), 1729989000);
  EXPECT_EQ(at(tz, "2024-10-27", 3, 0), 1729994400);
  EXPECT_EQ(tz.localDate(1711839599), "2024-03-30");
  EXPECT_EQ(tz.localDate(1711839600), "2024-03-31");
}

TEST(TimeZoneTest, BerlinBeforeRailwayTimeUsesLocalMeanTime) {
  EXPECT_EQ(zone("Europe/Berlin").utcOffsetAt(-2524521600), 3208);  // 1890-01-01, LMT +0:53:28
}

TEST(TimeZoneTest, NewYorkGapAndOverlap) {
  const TimeZone tz = zone("America/New_York");
  EXPECT_EQ(at(tz, "2024-03-10", 2, 30), 1710054000);  // gap: 03:00 EDT
  EXPECT_EQ(at(tz, "2024-11-03", 1, 30), 1730611800);  // overlap: 01:30 EDT
  EXPECT_EQ(startOf(tz, "2024-11-03"), 1730606400);
  EXPECT_EQ(tz.utcOffsetAt(-5364662400), -17762);  // 1800: LMT -4:56:02
  EXPECT_EQ(tz.localDate(-5364662400), "1799-12-31");
}

TEST(TimeZoneTest, LordHoweShiftsByHalfAnHour) {
  const TimeZone tz = zone("Australia/Lord_Howe");
  EXPECT_EQ(tz.utcOffsetAt(1704067200), 39600);        // January: +11
  EXPECT_EQ(tz.utcOffsetAt(1719792000), 37800);        // July: +10:30
  EXPECT_EQ(at(tz, "2024-04-07", 1, 45), 1712414700);  // overlap 01:30-02:00: the +11 one
  EXPECT_EQ(startOf(tz, "2024-10-06"), 1728135000);
  EXPECT_EQ(at(tz, "2024-10-06", 2, 15), 1728142200);  // gap 02:00-02:30 ends at 02:30 +11
  EXPECT_EQ(tz.utcOffsetAt(3786912000), 39600);        // 2090-01-01: footer rule
}

TEST(TimeZoneTest, SaoPauloDayThatBeganAtOneInTheMorning) {
  const TimeZone tz = zone("America/Sao_Paulo");
  // 2018-11-04: clocks jumped from 00:00 to 01:00, so the day began at 01:00 -02 = 03:00Z.
  EXPECT_EQ(startOf(tz, "2018-11-04"), 1541300400);
  EXPECT_EQ(tz.utcOffsetAt(1541300399), -10800);
  EXPECT_EQ(tz.utcOffsetAt(1541300400), -7200);
  EXPECT_EQ(tz.localDate(1541300399), "2018-11-03");
  EXPECT_EQ(tz.localDate(1541300400), "2018-11-04");
  // 2019-02-17: clocks went back from 00:00 to 23:00, so 23:30 on the 16th happened twice.
  EXPECT_EQ(at(tz, "2019-02-16", 23, 30), 1550367000);
  EXPECT_EQ(startOf(tz, "2019-02-17"), 1550372400);
  // Brazil has had no DST since 2019.
  EXPECT_EQ(startOf(tz, "2024-11-03"), 1730602800);
}

TEST(TimeZoneTest, KolkataHasAHalfHourOffsetAllYear) {
  const TimeZone tz = zone("Asia/Kolkata");
  EXPECT_EQ(tz.utcOffsetAt(1717200000), 19800);
  EXPECT_EQ(tz.utcOffsetAt(-933638400), 19800);      // 1940
  EXPECT_EQ(startOf(tz, "2024-01-01"), 1704047400);  // 2023-12-31T18:30Z
  EXPECT_EQ(tz.localDate(1704047399), "2023-12-31");
}

TEST(TimeZoneTest, FarFutureDatesFollowTheFooterRule) {
  const TimeZone berlin = zone("Europe/Berlin");
  EXPECT_EQ(berlin.utcOffsetAt(4118083200), 7200);  // 2100-07-01
  EXPECT_EQ(berlin.utcOffsetAt(4131302400), 3600);  // 2100-12-01
  EXPECT_EQ(startOf(berlin, "2100-03-28"), 4109871600);
  EXPECT_EQ(at(berlin, "2100-03-28", 2, 30), 4109878800);  // gap ends 01:00Z
  EXPECT_EQ(at(berlin, "2100-10-31", 2, 30), 4128625800);
  const TimeZone ny = zone("America/New_York");
  EXPECT_EQ(ny.utcOffsetAt(10429732800), -14400);      // 2300-07-04
  EXPECT_EQ(at(ny, "2200-03-09", 2, 30), 7263932400);  // gap
  const TimeZone sydney = zone("Australia/Sydney");
  EXPECT_EQ(sydney.utcOffsetAt(5680281600), 39600);  // 2150-01-01: southern summer
  EXPECT_EQ(sydney.utcOffsetAt(5688374399), 39600);
  EXPECT_EQ(sydney.utcOffsetAt(5688374400), 36000);  // 2150-04-05 03:00 -> 02:00
  EXPECT_EQ(at(sydney, "2150-04-05", 2, 30), 5688372600);
  EXPECT_EQ(sydney.utcOffsetAt(5704099200), 39600);  // 2150-10-04 02:00 -> 03:00
  // Instants no calendar reaches still get an answer from the rule's 400-year cycle.
  const int64_t cycle = int64_t{146097} * 86400;
  EXPECT_EQ(berlin.utcOffsetAt(4118083200 + cycle * 1'000'000), 7200);
  EXPECT_EQ(berlin.utcOffsetAt(4131302400 + cycle * 1'000'000), 3600);
  for (int64_t extreme : {INT64_MAX, INT64_MIN}) {
    const int64_t offset = ny.utcOffsetAt(extreme);
    EXPECT_TRUE(offset == -14400 || offset == -18000 || offset == -17762) << offset;
  }
}

TEST(TimeZoneTest, FooterRulesWithJulianZeroBasedAndOutOfDayTimes) {
  // J60 is 1 March in every year; 300 (zero-based, counting 29 February) is 28 October in 2023
  // and 27 October in 2024; "/-1" is 23:00 the day before.
  auto tz = TimeZone::fromTzif("Test/J", footerOnlyTzif("AAA3BBB,J60/1,300/-1", -10800));
  ASSERT_TRUE(tz.isOk()) << tz.status().toString();
  EXPECT_EQ(tz->utcOffsetAt(1677643199), -10800);
  EXPECT_EQ(tz->utcOffsetAt(1677643200), -7200);  // 2023-03-01T04:00Z
  EXPECT_EQ(tz->utcOffsetAt(1709265600), -7200);  // 2024-03-01T04:00Z
  EXPECT_EQ(tz->utcOffsetAt(1698454799), -7200);
  EXPECT_EQ(tz->utcOffsetAt(1698454800), -10800);  // 2023-10-28T01:00Z
  EXPECT_EQ(tz->utcOffsetAt(1729990799), -7200);
  EXPECT_EQ(tz->utcOffsetAt(1729990800), -10800);  // 2024-10-27T01:00Z

  // Quoted names, minutes in offsets, and v3 times beyond 24 h and below 0.
  tz = TimeZone::fromTzif("Test/M",
                          footerOnlyTzif("<-0330>3:30<-0230>,M3.5.0/-2,M10.1.6/26", -12600));
  ASSERT_TRUE(tz.isOk()) << tz.status().toString();
  EXPECT_EQ(tz->utcOffsetAt(1679794199), -12600);
  EXPECT_EQ(tz->utcOffsetAt(1679794200), -9000);  // 2023-03-26T01:30Z
  EXPECT_EQ(tz->utcOffsetAt(1696739399), -9000);
  EXPECT_EQ(tz->utcOffsetAt(1696739400), -12600);  // 2023-10-08T04:30Z
  EXPECT_EQ(tz->utcOffsetAt(1728189000), -12600);  // 2024-10-06T04:30Z

  tz = TimeZone::fromTzif("Test/Fixed", footerOnlyTzif("<+0545>-5:45", 20700));
  ASSERT_TRUE(tz.isOk()) << tz.status().toString();
  EXPECT_EQ(tz->utcOffsetAt(4'000'000'000), 20700);
}

TEST(TimeZoneTest, LocalToUtcRejectsBadInput) {
  const TimeZone tz = zone("Europe/Berlin");
  EXPECT_EQ(tz.localToUtc("2024-02-30", 0, 0).status().errorClass(), ErrorClass::kData);
  EXPECT_EQ(tz.localToUtc("2024-02-10", 24, 0).status().errorClass(), ErrorClass::kData);
  EXPECT_EQ(tz.localToUtc("2024-02-10", 12, 60).status().errorClass(), ErrorClass::kData);
  EXPECT_EQ(tz.localToUtc("2024-02-10", -1, 0).status().errorClass(), ErrorClass::kData);
}

TEST(TimeZoneTest, NamesThatEscapeTheZoneDirectoryAreRejected) {
  for (const char* name : {"../../etc/passwd", "/etc/localtime", "Europe/../../etc/passwd", "",
                           "Europe/Berlin/", "Europe/Ber lin"}) {
    auto tz = TimeZone::load(name);
    ASSERT_FALSE(tz.isOk()) << name;
    EXPECT_EQ(tz.status().errorClass(), ErrorClass::kConfig) << name;
  }
}

TEST(TimeZoneTest, UnknownZoneIsNotFound) {
  auto tz = TimeZone::load("Europe/Atlantis");
  ASSERT_FALSE(tz.isOk());
  EXPECT_EQ(tz.status().errorClass(), ErrorClass::kNotFound);
}

TEST(TimeZoneTest, MalformedAndTruncatedFilesAreConfigErrors) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::string berlin;
  {
    std::ifstream in("/usr/share/zoneinfo/Europe/Berlin", std::ios::binary);
    berlin.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(berlin.size(), 100u);
  const std::pair<const char*, std::string> files[] = {
      {"Garbage", "this is not a zone file at all, but long enough to hold a header........"},
      {"Truncated", berlin.substr(0, berlin.size() / 2)},
      {"NoFooter", berlin.substr(0, berlin.find_last_of('\n', berlin.size() - 2))},
      {"BadRule", footerOnlyTzif("CET-1CEST,M13.5.0,M10.5.0/3", 3600)},
  };
  for (const auto& [name, content] : files) {
    std::ofstream(dir.path() + "/" + name, std::ios::binary) << content;
    auto tz = TimeZone::load(name, dir.path());
    ASSERT_FALSE(tz.isOk()) << name;
    EXPECT_EQ(tz.status().errorClass(), ErrorClass::kConfig)
        << name << ": " << tz.status().toString();
  }
  // The same bytes, intact, load from any directory.
  std::ofstream(dir.path() + "/Intact", std::ios::binary) << berlin;
  auto tz = TimeZone::load("Intact", dir.path());
  ASSERT_TRUE(tz.isOk()) << tz.status().toString();
  EXPECT_EQ(tz->utcOffsetAt(1711846800), 7200);
}

}  // namespace
}  // namespace tenure
