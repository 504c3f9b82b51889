#pragma once
// CronExpression: classic 5-field cron (minute hour day-of-month month day-of-week) as Vixie cron
// reads it, evaluated in an IANA time zone. Schedules of tenants run on their local wall clock,
// so "0 2 * * *" is 02:00 in Berlin all year, whatever the UTC offset.
//
// Syntax per field: `*`, a number, a range `a-b`, a step `*/n`, `a-b/n` or `a/n` (a to the end of
// the field, every n), and comma-separated lists of those. Months take JAN..DEC, days of the week
// SUN..SAT (case-insensitive, also inside ranges); day of week 0 and 7 are both Sunday. Macros:
// @yearly (@annually), @monthly, @weekly, @daily (@midnight), @hourly.
//
// Day matching follows Vixie cron: when both day fields are restricted (neither starts with `*`),
// a day matches if EITHER matches ("0 0 1 * MON" = the 1st and every Monday); otherwise only the
// restricted one counts.
//
// Daylight saving time: a wall time that does not exist (clocks jump forward over it) runs at the
// first instant after the gap; a wall time that occurs twice (clocks set back) runs once, at its
// first occurrence. Several wall times in one gap collapse into one run.

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "common/base/time_zone.h"

namespace tenure {

// Where a cron expression is wrong: the 1-based character position in the text and why.
struct CronError {
  size_t position = 0;
  std::string reason;
};

class CronExpression {
 public:
  // Parses `text`; a data error (message "position N: reason") otherwise, with the details in
  // `*error` when given.
  static Result<CronExpression> parse(std::string_view text, CronError* error = nullptr);

  // The first run strictly after `after_unix_s` (Unix seconds), evaluated in `zone`, at whole
  // minutes. not_found when the expression matches no day within the next 8 years (e.g.
  // "0 0 30 2 *", which Vixie cron accepts and never runs).
  Result<int64_t> nextAfter(int64_t after_unix_s, const TimeZone& zone) const;

  // True when the local calendar day matches the month and day fields (with Vixie's OR rule).
  bool matchesDay(int64_t year, unsigned month, unsigned day, unsigned weekday) const;

  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;      // 1-31
  std::bitset<13> months_;    // 1-12
  std::bitset<7> weekdays_;   // 0 = Sunday
  bool day_star_ = false;     // the day-of-month field starts with '*'
  bool weekday_star_ = false; // the day-of-week field starts with '*'
};

}  // namespace tenure
