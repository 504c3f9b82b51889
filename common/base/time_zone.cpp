#include "common/base/time_zone.h"

#include "common/base/zone_database.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <optional>
#include <vector>

namespace tenure {

namespace {

constexpr int64_t kSecondsPerDay = 86400;
// Offsets beyond ±26 h do not occur (RFC 8536 allows -89999..93599 s).
constexpr int64_t kMaxOffset = 26 * 3600;

int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

bool isLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned daysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && isLeapYear(y) ? 29 : kDays[m - 1];
}

// 0 = Sunday.
unsigned weekdayOfDays(int64_t days) {
  return static_cast<unsigned>(days + 4 - floorDiv(days + 4, 7) * 7);  // 1970-01-01 was a Thursday
}

// One side of a POSIX TZ rule: when DST starts or ends, as a day of the year and a local time.
struct RuleDate {
  enum class Kind { kJulianNoLeap, kZeroBasedDay, kMonthWeekDay } kind = Kind::kMonthWeekDay;
  int day = 0;  // Jn: 1-365; n: 0-365; Mm.w.d: d (0 = Sunday)
  int month = 0;
  int week = 0;                // 1-5, 5 = last
  int64_t time_of_day = 7200;  // seconds after local midnight; may be negative or > 24 h (v3)

  int64_t dayOfYear(int64_t year) const {
    const int64_t jan1 = daysFromCivil(year, 1, 1);
    switch (kind) {
      case Kind::kJulianNoLeap:
        return jan1 + day - 1 + (isLeapYear(year) && day >= 60 ? 1 : 0);
      case Kind::kZeroBasedDay:
        return jan1 + day;
      case Kind::kMonthWeekDay: {
        const unsigned m = static_cast<unsigned>(month);
        const int64_t first = daysFromCivil(year, m, 1);
        int64_t dom =
            1 + (static_cast<int64_t>(day) - weekdayOfDays(first) + 7) % 7 + (week - 1) * 7;
        while (dom > daysInMonth(year, m)) dom -= 7;
        return first + dom - 1;
      }
    }
    return jan1;
  }
};

// The POSIX TZ string of a TZif footer, e.g. "CET-1CEST,M3.5.0,M10.5.0/3".
struct PosixRule {
  int64_t std_offset = 0;  // seconds east of UTC
  bool has_dst = false;
  int64_t dst_offset = 0;
  RuleDate start, end;

  // Transitions of `year`, in UTC, each with the offset in effect from then on.
  void transitionsOfYear(int64_t year, std::vector<std::pair<int64_t, int64_t>>& out) const {
    if (!has_dst) return;
    // The start time is given in standard time, the end time in daylight time.
    out.emplace_back(start.dayOfYear(year) * kSecondsPerDay + start.time_of_day - std_offset,
                     dst_offset);
    out.emplace_back(end.dayOfYear(year) * kSecondsPerDay + end.time_of_day - dst_offset,
                     std_offset);
  }

  int64_t offsetAt(int64_t t) const {
    if (!has_dst) return std_offset;
    // The rule repeats every 400 years (146097 days, a whole number of weeks); folding far-off
    // instants into range keeps the arithmetic below from overflowing.
    constexpr int64_t kCycle = 146097 * kSecondsPerDay;
    constexpr int64_t kFar = int64_t{1} << 50;
    if (t > kFar || t < -kFar) t -= (t / kCycle) * kCycle;
    const int64_t year = civilFromDays(floorDiv(t + std_offset, kSecondsPerDay)).year;
    std::vector<std::pair<int64_t, int64_t>> ts;
    for (int64_t y = year - 1; y <= year + 1; ++y) transitionsOfYear(y, ts);
    std::sort(ts.begin(), ts.end());
    int64_t offset = std_offset;
    for (const auto& [at, off] : ts) {
      if (at > t) break;
      offset = off;
    }
    return offset;
  }
};

class PosixParser {
 public:
  explicit PosixParser(std::string_view s) : s_(s) {}

  std::optional<PosixRule> parse() {
    PosixRule r;
    if (!name()) return std::nullopt;
    auto std_off = offset(24);
    if (!std_off) return std::nullopt;
    r.std_offset = -*std_off;  // POSIX counts west of UTC
    if (atEnd()) return r;
    if (!name()) return std::nullopt;
    r.has_dst = true;
    r.dst_offset = r.std_offset + 3600;
    if (!atEnd() && s_[pos_] != ',') {
      auto dst_off = offset(24);
      if (!dst_off) return std::nullopt;
      r.dst_offset = -*dst_off;
    }
    if (atEnd()) {  // POSIX leaves the default rule to the implementation; use the US one
      r.start = {.kind = RuleDate::Kind::kMonthWeekDay, .day = 0, .month = 3, .week = 2};
      r.end = {.kind = RuleDate::Kind::kMonthWeekDay, .day = 0, .month = 11, .week = 1};
      return r;
    }
    if (!eat(',')) return std::nullopt;
    auto start = ruleDate();
    if (!start || !eat(',')) return std::nullopt;
    auto end = ruleDate();
    if (!end || !atEnd()) return std::nullopt;
    r.start = *start;
    r.end = *end;
    return r;
  }

 private:
  bool atEnd() const { return pos_ >= s_.size(); }
  bool eat(char c) {
    if (atEnd() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  static bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
  static bool isDigit(char c) { return c >= '0' && c <= '9'; }

  bool name() {
    if (eat('<')) {
      const size_t close = s_.find('>', pos_);
      if (close == std::string_view::npos || close == pos_) return false;
      pos_ = close + 1;
      return true;
    }
    const size_t begin = pos_;
    while (!atEnd() && isAlpha(s_[pos_])) ++pos_;
    return pos_ - begin >= 3;
  }

  std::optional<int64_t> number(int64_t max) {
    if (atEnd() || !isDigit(s_[pos_])) return std::nullopt;
    int64_t v = 0;
    while (!atEnd() && isDigit(s_[pos_])) {
      v = v * 10 + (s_[pos_++] - '0');
      if (v > max) return std::nullopt;
    }
    return v;
  }

  // [+-]hh[:mm[:ss]] in seconds.
  std::optional<int64_t> offset(int64_t max_hours) {
    int64_t sign = 1;
    if (eat('-')) {
      sign = -1;
    } else {
      eat('+');
    }
    auto h = number(max_hours);
    if (!h) return std::nullopt;
    int64_t secs = *h * 3600;
    if (eat(':')) {
      auto m = number(59);
      if (!m) return std::nullopt;
      secs += *m * 60;
      if (eat(':')) {
        auto s = number(59);
        if (!s) return std::nullopt;
        secs += *s;
      }
    }
    return sign * secs;
  }

  std::optional<RuleDate> ruleDate() {
    RuleDate d;
    if (eat('M')) {
      auto m = number(12);
      if (!m || *m < 1 || !eat('.')) return std::nullopt;
      auto w = number(5);
      if (!w || *w < 1 || !eat('.')) return std::nullopt;
      auto wd = number(6);
      if (!wd) return std::nullopt;
      d = {.kind = RuleDate::Kind::kMonthWeekDay,
           .day = static_cast<int>(*wd),
           .month = static_cast<int>(*m),
           .week = static_cast<int>(*w)};
    } else if (eat('J')) {
      auto n = number(365);
      if (!n || *n < 1) return std::nullopt;
      d = {.kind = RuleDate::Kind::kJulianNoLeap, .day = static_cast<int>(*n)};
    } else {
      auto n = number(365);
      if (!n) return std::nullopt;
      d = {.kind = RuleDate::Kind::kZeroBasedDay, .day = static_cast<int>(*n)};
    }
    if (eat('/')) {
      auto t = offset(167);  // RFC 8536 (v3) extends the time to -167..167 hours
      if (!t) return std::nullopt;
      d.time_of_day = *t;
    }
    return d;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}
  bool has(size_t n) const { return data_.size() - pos_ >= n; }
  size_t pos() const { return pos_; }
  void skip(size_t n) { pos_ += n; }
  std::string_view rest() const { return data_.substr(pos_); }
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(data_[pos_++]);
    return v;
  }
  int64_t s32() { return static_cast<int32_t>(u32()); }
  int64_t s64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(data_[pos_++]);
    return static_cast<int64_t>(v);
  }
  uint8_t u8() { return static_cast<uint8_t>(data_[pos_++]); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

struct TzifHeader {
  char version = 0;
  uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;

  size_t dataSize(size_t time_size) const {
    return size_t{timecnt} * time_size + timecnt + size_t{typecnt} * 6 + charcnt +
           size_t{leapcnt} * (time_size + 4) + isstdcnt + isutcnt;
  }
};

std::optional<TzifHeader> readHeader(ByteReader& r) {
  if (!r.has(44) || r.rest().substr(0, 4) != "TZif") return std::nullopt;
  TzifHeader h;
  r.skip(4);
  h.version = static_cast<char>(r.u8());
  r.skip(15);
  h.isutcnt = r.u32();
  h.isstdcnt = r.u32();
  h.leapcnt = r.u32();
  h.timecnt = r.u32();
  h.typecnt = r.u32();
  h.charcnt = r.u32();
  // Counts are bounded by the format (types are indexed by a byte) and by any sane file.
  if (h.typecnt == 0 || h.typecnt > 256 || h.charcnt == 0 || h.timecnt > 1'000'000 ||
      h.leapcnt > 100'000 || (h.isutcnt != 0 && h.isutcnt != h.typecnt) ||
      (h.isstdcnt != 0 && h.isstdcnt != h.typecnt)) {
    return std::nullopt;
  }
  return h;
}

}  // namespace

struct TimeZone::Data {
  std::string name;
  std::vector<int64_t> transition_at;  // ascending
  std::vector<int64_t> offset_after;   // offset from transition_at[i] on
  int64_t offset_before_first = 0;     // offset before the first transition
  std::optional<PosixRule> footer;     // for instants after the last transition

  int64_t offsetAt(int64_t t) const {
    if (transition_at.empty() || t >= transition_at.back()) {
      if (footer) return footer->offsetAt(t);
      return transition_at.empty() ? offset_before_first : offset_after.back();
    }
    auto it = std::upper_bound(transition_at.begin(), transition_at.end(), t);
    if (it == transition_at.begin()) return offset_before_first;
    return offset_after[static_cast<size_t>(std::distance(transition_at.begin(), it)) - 1];
  }

  // The instants in (t0, t1] at which the offset may change, ascending.
  std::vector<int64_t> transitionsIn(int64_t t0, int64_t t1) const {
    std::vector<int64_t> out;
    auto it = std::upper_bound(transition_at.begin(), transition_at.end(), t0);
    for (; it != transition_at.end() && *it <= t1; ++it) out.push_back(*it);
    if (footer && footer->has_dst) {
      const int64_t last = transition_at.empty() ? INT64_MIN : transition_at.back();
      std::vector<std::pair<int64_t, int64_t>> rule;
      const int64_t y0 = civilFromDays(floorDiv(t0, kSecondsPerDay)).year - 1;
      const int64_t y1 = civilFromDays(floorDiv(t1, kSecondsPerDay)).year + 1;
      for (int64_t y = y0; y <= y1; ++y) footer->transitionsOfYear(y, rule);
      for (const auto& [at, off] : rule) {
        if (at > t0 && at <= t1 && at > last) out.push_back(at);
      }
      std::sort(out.begin(), out.end());
    }
    return out;
  }
};

int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's algorithm (days_from_civil).
  y -= m <= 2 ? 1 : 0;
  const int64_t era = floorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t mp = (static_cast<int64_t>(m) + 9) % 12;
  const int64_t doy = (153 * mp + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate civilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = floorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const auto d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const auto m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  return {.year = yoe + era * 400 + (m <= 2 ? 1 : 0), .month = m, .day = d};
}

Result<int64_t> parseIsoDate(std::string_view date) {
  auto bad = [&] {
    return dataError("not a calendar date (want YYYY-MM-DD): '" + std::string(date) + "'");
  };
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return bad();
  int64_t parts[3] = {0, 0, 0};
  const std::pair<size_t, size_t> fields[] = {{0, 4}, {5, 2}, {8, 2}};
  for (int i = 0; i < 3; ++i) {
    for (size_t k = 0; k < fields[i].second; ++k) {
      const char c = date[fields[i].first + k];
      if (c < '0' || c > '9') return bad();
      parts[i] = parts[i] * 10 + (c - '0');
    }
  }
  const auto m = static_cast<unsigned>(parts[1]);
  const auto d = static_cast<unsigned>(parts[2]);
  if (m < 1 || m > 12 || d < 1 || d > daysInMonth(parts[0], m)) return bad();
  return daysFromCivil(parts[0], m, d);
}

std::string formatIsoDate(int64_t days) {
  const CivilDate c = civilFromDays(days);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u", static_cast<long long>(c.year), c.month,
                c.day);
  return buf;
}

Result<TimeZone> TimeZone::fromTzif(const std::string& name, std::string_view tzif) {
  auto malformed = [&](const std::string& why) {
    return configError("time zone file for '" + name + "' is malformed: " + why);
  };
  ByteReader r(tzif);
  auto h = readHeader(r);
  if (!h) return malformed("bad header");
  size_t time_size = 4;
  if (h->version != '\0') {
    // Skip the 32-bit section; the 64-bit one after it covers all times.
    if (!r.has(h->dataSize(4))) return malformed("truncated");
    r.skip(h->dataSize(4));
    h = readHeader(r);
    if (!h) return malformed("bad second header");
    time_size = 8;
  }
  if (!r.has(h->dataSize(time_size))) return malformed("truncated");
  if (h->leapcnt != 0)
    return configError("time zone '" + name + "' counts leap seconds (unsupported)");

  auto data = std::make_shared<Data>();
  data->name = name;
  std::vector<uint8_t> type_of(h->timecnt);
  data->transition_at.reserve(h->timecnt);
  for (uint32_t i = 0; i < h->timecnt; ++i) {
    const int64_t at = time_size == 8 ? r.s64() : r.s32();
    if (!data->transition_at.empty() && at <= data->transition_at.back()) {
      return malformed("transitions out of order");
    }
    data->transition_at.push_back(at);
  }
  for (uint32_t i = 0; i < h->timecnt; ++i) {
    type_of[i] = r.u8();
    if (type_of[i] >= h->typecnt) return malformed("bad local time type index");
  }
  std::vector<int64_t> type_offset(h->typecnt);
  for (uint32_t i = 0; i < h->typecnt; ++i) {
    type_offset[i] = r.s32();
    r.skip(2);  // isdst, abbreviation index
    if (type_offset[i] <= -kMaxOffset || type_offset[i] >= kMaxOffset)
      return malformed("bad offset");
  }
  r.skip(h->charcnt + size_t{h->isstdcnt} + h->isutcnt);
  data->offset_before_first = type_offset[0];
  data->offset_after.reserve(h->timecnt);
  for (uint8_t t : type_of) data->offset_after.push_back(type_offset[t]);

  if (time_size == 8) {
    std::string_view rest = r.rest();
    if (rest.size() < 2 || rest[0] != '\n') return malformed("missing footer");
    const size_t nl = rest.find('\n', 1);
    if (nl == std::string_view::npos) return malformed("unterminated footer");
    const std::string_view footer = rest.substr(1, nl - 1);
    if (!footer.empty()) {
      data->footer = PosixParser(footer).parse();
      if (!data->footer) return malformed("bad TZ rule '" + std::string(footer) + "'");
    }
  }
  return TimeZone(std::move(data));
}

Result<TimeZone> TimeZone::load(const std::string& iana_name, const std::string& zoneinfo_dir) {
  return loadZone(ZoneinfoDirectory(zoneinfo_dir), iana_name);
}

TimeZone TimeZone::utc() {
  static const auto kUtc = [] {
    auto d = std::make_shared<Data>();
    d->name = "UTC";
    return std::shared_ptr<const Data>(std::move(d));
  }();
  return TimeZone(kUtc);
}

const std::string& TimeZone::name() const { return data_->name; }

int64_t TimeZone::utcOffsetAt(int64_t unix_seconds) const { return data_->offsetAt(unix_seconds); }

std::string TimeZone::localDate(int64_t unix_seconds) const {
  return formatIsoDate(floorDiv(unix_seconds + utcOffsetAt(unix_seconds), kSecondsPerDay));
}

Result<int64_t> TimeZone::startOfLocalDay(std::string_view date) const {
  return localToUtc(date, 0, 0);
}

Result<int64_t> TimeZone::startOfLocalDayNumber(int64_t days) const {
  return localDaysToUtc(days, 0, 0);
}

Result<int64_t> TimeZone::localToUtc(std::string_view date, int hour, int minute) const {
  ASSIGN_OR_RETURN(const int64_t days, parseIsoDate(date));
  return localDaysToUtc(days, hour, minute);
}

Result<int64_t> TimeZone::localDaysToUtc(int64_t days, int hour, int minute) const {
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59) {
    return dataError("not a time of day: " + std::to_string(hour) + ":" + std::to_string(minute));
  }
  const int64_t local = days * kSecondsPerDay + hour * 3600 + minute * 60;
  // Walk the stretches of constant offset around the wall time: each covers the local times
  // [start + offset, end + offset). The earliest stretch holding `local` gives the answer; when
  // none does, `local` falls in a gap, and the first stretch starting after it is where the gap
  // ends.
  const int64_t t0 = local - kMaxOffset, t1 = local + kMaxOffset;
  // The stretches start at t0 and at each transition in between (no vector of them: this runs
  // for every date of every person a job plans).
  const std::vector<int64_t> inner = data_->transitionsIn(t0, t1);
  auto start = [&](size_t i) { return i == 0 ? t0 : inner[i - 1]; };
  const size_t count = inner.size() + 1;
  for (size_t i = 0; i < count; ++i) {
    const int64_t offset = data_->offsetAt(start(i));
    const int64_t end = i + 1 < count ? start(i + 1) : t1 + 1;
    const int64_t candidate = local - offset;
    if (candidate >= start(i) && candidate < end) return candidate;
    if (i > 0 && start(i) + offset > local) return start(i);
  }
  return internalError("no instant found for " + formatIsoDate(days) + " in " + name());
}

}  // namespace tenure
