#pragma once
// TimeZone: IANA time zones read from TZif files (GCC 12's libstdc++ has no std::chrono::tzdb).
// Effective dates in HR data are local calendar days of the tenant's zone; this turns them into
// instants. Times after the file's last transition follow its POSIX TZ footer rule, so dates
// decades ahead are right too. Copies are cheap (the parsed data is shared and immutable).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace tenure {

// Days since 1970-01-01 of a proleptic Gregorian date (m 1-12, d 1-31); negative before 1970.
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d);

struct CivilDate {
  int64_t year;
  unsigned month;  // 1-12
  unsigned day;    // 1-31
};
// The inverse of daysFromCivil.
CivilDate civilFromDays(int64_t days);

// Parses a strict "YYYY-MM-DD" (a real calendar day) into days since 1970-01-01; data error
// otherwise.
Result<int64_t> parseIsoDate(std::string_view date);
// "YYYY-MM-DD" of days since 1970-01-01.
std::string formatIsoDate(int64_t days);

class TimeZone {
 public:
  // Reads <zoneinfo_dir>/<iana_name> (e.g. "Europe/Berlin"); ZoneinfoDirectory and loadZone
  // (zone_database.h) do the work. "UTC" always works, even without files. Names must be relative and free of ".." (config error otherwise); a missing zone is
  // not_found; a malformed file is a config error.
  static Result<TimeZone> load(const std::string& iana_name,
                               const std::string& zoneinfo_dir = "/usr/share/zoneinfo");
  // Parses TZif data (v1, v2 or v3; the 64-bit section and footer are used when present).
  static Result<TimeZone> fromTzif(const std::string& name, std::string_view tzif);
  static TimeZone utc();

  const std::string& name() const;
  // Seconds east of UTC in effect at `unix_seconds`.
  int64_t utcOffsetAt(int64_t unix_seconds) const;
  // The local calendar day ("YYYY-MM-DD") at `unix_seconds`.
  std::string localDate(int64_t unix_seconds) const;
  // The first instant of the local calendar day `date` ("YYYY-MM-DD"): local midnight, or the first
  // existing local time after it when a DST gap swallows midnight.
  Result<int64_t> startOfLocalDay(std::string_view date) const;
  // The same for a day number (days since 1970-01-01), without formatting it as text to parse
  // again (evaluating every person's dates did that several times each).
  Result<int64_t> startOfLocalDayNumber(int64_t days) const;
  // The instant of local wall time `date` hour:minute (hour 0-23, minute 0-59). A time that occurs
  // twice (clocks set back) gives the earlier instant; a time a DST gap skips gives the instant the
  // gap ends (the first local time that exists after it), as startOfLocalDay does for midnight.
  Result<int64_t> localToUtc(std::string_view date, int hour, int minute) const;

  struct Data;

 private:
  Result<int64_t> localDaysToUtc(int64_t days, int hour, int minute) const;
  explicit TimeZone(std::shared_ptr<const Data> data) : data_(std::move(data)) {}
  std::shared_ptr<const Data> data_;
};

}  // namespace tenure
