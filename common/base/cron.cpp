#include "common/base/cron.h"

#include <array>
#include <cctype>
#include <vector>

namespace tenure {

namespace {

constexpr int64_t kSecondsPerDay = 86'400;
// Feb 29 on a given weekday, or a leap day after a skipped century leap year, can be 8 years away.
constexpr int64_t kSearchDays = 366 * 8 + 2;

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const std::array<std::string_view, 12>* names;  // names[i] is min + i; null: numbers only
  size_t name_count;
};

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 12> kWeekdayNames = {"SUN", "MON", "TUE", "WED",
                                                            "THU", "FRI", "SAT"};

const FieldSpec kFields[5] = {
    {"minute", 0, 59, nullptr, 0},
    {"hour", 0, 23, nullptr, 0},
    {"day of month", 1, 31, nullptr, 0},
    {"month", 1, 12, &kMonthNames, 12},
    {"day of week", 0, 7, &kWeekdayNames, 7},
};

class FieldParser {
 public:
  // `text` is the field, `offset` its 0-based position in the whole expression.
  FieldParser(const FieldSpec& spec, std::string_view text, size_t offset)
      : spec_(spec), text_(text), offset_(offset) {}

  // Sets bit v for each value v the field matches (day of week 7 lands on 0).
  Status parse(std::vector<bool>& bits, CronError& err) {
    bits.assign(static_cast<size_t>(spec_.max) + 1, false);
    while (true) {
      RETURN_IF_ERROR(item(bits, err));
      if (pos_ == text_.size()) return Status::ok();
      if (text_[pos_] != ',') return fail(err, "unexpected '" + std::string(1, text_[pos_]) + "'");
      ++pos_;
      if (pos_ == text_.size()) return fail(err, "a list may not end with ','");
    }
  }

 private:
  Status item(std::vector<bool>& bits, CronError& err) {
    int lo = spec_.min, hi = spec_.max;
    const size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '*') {
      ++pos_;
    } else {
      RETURN_IF_ERROR(value(lo, err));
      hi = lo;
      if (pos_ < text_.size() && text_[pos_] == '-') {
        ++pos_;
        RETURN_IF_ERROR(value(hi, err));
        if (hi < lo) {
          pos_ = start;
          return fail(err, "range " + std::to_string(lo) + "-" + std::to_string(hi) +
                               " runs backwards");
        }
      } else if (pos_ < text_.size() && text_[pos_] == '/') {
        hi = spec_.max;  // "a/n": from a to the end of the field (cronie's reading)
      }
    }
    int step = 1;
    if (pos_ < text_.size() && text_[pos_] == '/') {
      ++pos_;
      const size_t at = pos_;
      if (!number(step)) return fail(err, "a step needs a number after '/'");
      if (step <= 0 || step > spec_.max) {
        pos_ = at;
        return fail(err, "step " + std::to_string(step) + " out of range 1-" +
                             std::to_string(spec_.max));
      }
    }
    for (int v = lo; v <= hi; v += step) bits[static_cast<size_t>(v)] = true;
    return Status::ok();
  }

  Status value(int& out, CronError& err) {
    const size_t at = pos_;
    if (pos_ < text_.size() && std::isalpha(static_cast<unsigned char>(text_[pos_]))) {
      size_t n = 0;
      while (pos_ + n < text_.size() && std::isalpha(static_cast<unsigned char>(text_[pos_ + n]))) {
        ++n;
      }
      std::string word(text_.substr(pos_, n));
      for (auto& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (spec_.names != nullptr) {
        for (size_t i = 0; i < spec_.name_count; ++i) {
          if ((*spec_.names)[i] == word) {
            out = spec_.min + static_cast<int>(i);
            pos_ += n;
            return Status::ok();
          }
        }
      }
      return fail(err, "unknown name '" + std::string(text_.substr(at, n)) + "' in " + spec_.name);
    }
    if (!number(out)) {
      return fail(err, pos_ < text_.size()
                           ? "unexpected '" + std::string(1, text_[pos_]) + "' in " + spec_.name
                           : std::string("missing value in ") + spec_.name);
    }
    if (out < spec_.min || out > spec_.max) {
      pos_ = at;
      return fail(err, std::string(spec_.name) + " " + std::to_string(out) + " out of range " +
                           std::to_string(spec_.min) + "-" + std::to_string(spec_.max));
    }
    return Status::ok();
  }

  bool number(int& out) {
    size_t n = 0;
    long v = 0;
    while (pos_ + n < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_ + n]))) {
      if (v < 1000) v = v * 10 + (text_[pos_ + n] - '0');
      ++n;
    }
    if (n == 0) return false;
    pos_ += n;
    out = static_cast<int>(v);
    return true;
  }

  Status fail(CronError& err, std::string reason) {
    err.position = offset_ + pos_ + 1;
    err.reason = std::move(reason);
    return dataError("position " + std::to_string(err.position) + ": " + err.reason);
  }

  const FieldSpec& spec_;
  std::string_view text_;
  size_t offset_;
  size_t pos_ = 0;
};

std::string_view expandMacro(std::string_view t) {
  if (t == "@yearly" || t == "@annually") return "0 0 1 1 *";
  if (t == "@monthly") return "0 0 1 * *";
  if (t == "@weekly") return "0 0 * * 0";
  if (t == "@daily" || t == "@midnight") return "0 0 * * *";
  if (t == "@hourly") return "0 * * * *";
  return {};
}

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

Result<CronExpression> CronExpression::parse(std::string_view text, CronError* error) {
  CronError local;
  CronError& err = error != nullptr ? *error : local;
  auto fail = [&](size_t position, std::string reason) -> Status {
    err.position = position;
    err.reason = std::move(reason);
    return dataError("position " + std::to_string(position) + ": " + err.reason);
  };
  CronExpression c;
  c.text_ = std::string(text);

  size_t lead = 0;
  while (lead < text.size() && std::isspace(static_cast<unsigned char>(text[lead]))) ++lead;
  std::string_view trimmed = text.substr(lead);
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) {
    trimmed.remove_suffix(1);
  }
  if (trimmed.empty()) return fail(1, "empty cron expression");
  if (trimmed.front() == '@') {
    std::string_view expanded = expandMacro(trimmed);
    if (expanded.empty()) return fail(lead + 1, "unknown macro '" + std::string(trimmed) + "'");
    CronError inner;
    auto parsed = parse(expanded, &inner);
    if (!parsed.isOk()) return parsed.status();
    parsed->text_ = std::string(text);
    return parsed;
  }

  // Split into fields, remembering where each starts.
  std::vector<std::pair<std::string_view, size_t>> fields;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i == text.size()) break;
    size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    fields.emplace_back(text.substr(i, j - i), i);
    i = j;
  }
  if (fields.size() != 5) {
    const size_t at = fields.size() > 5 ? fields[5].second + 1 : text.size() + 1;
    return fail(at, "expected 5 fields (minute hour day-of-month month day-of-week), got " +
                        std::to_string(fields.size()));
  }

  std::vector<bool> bits;
  for (size_t f = 0; f < 5; ++f) {
    FieldParser p(kFields[f], fields[f].first, fields[f].second);
    RETURN_IF_ERROR(p.parse(bits, err));
    for (size_t v = 0; v < bits.size(); ++v) {
      if (!bits[v]) continue;
      switch (f) {
        case 0: c.minutes_.set(v); break;
        case 1: c.hours_.set(v); break;
        case 2: c.days_.set(v); break;
        case 3: c.months_.set(v); break;
        case 4: c.weekdays_.set(v % 7); break;
      }
    }
  }
  c.day_star_ = fields[2].first.front() == '*';
  c.weekday_star_ = fields[4].first.front() == '*';
  return c;
}

bool CronExpression::matchesDay(int64_t /*year*/, unsigned month, unsigned day,
                                unsigned weekday) const {
  if (!months_.test(month)) return false;
  const bool dom = days_.test(day);
  const bool dow = weekdays_.test(weekday);
  if (day_star_ || weekday_star_) return dom && dow;
  return dom || dow;
}

Result<int64_t> CronExpression::nextAfter(int64_t after_unix_s, const TimeZone& zone) const {
  const int64_t local_day =
      floorDiv(after_unix_s + zone.utcOffsetAt(after_unix_s), kSecondsPerDay);
  // Start a day early: a wall time in a gap at the end of the previous day maps into today.
  for (int64_t d = local_day - 1; d <= local_day + kSearchDays; ++d) {
    const CivilDate civil = civilFromDays(d);
    const unsigned weekday = static_cast<unsigned>(((d % 7) + 11) % 7);  // 1970-01-01: Thursday
    if (!matchesDay(civil.year, civil.month, civil.day, weekday)) continue;
    const std::string date = formatIsoDate(d);
    for (int h = 0; h < 24; ++h) {
      if (!hours_.test(static_cast<size_t>(h))) continue;
      for (int m = 0; m < 60; ++m) {
        if (!minutes_.test(static_cast<size_t>(m))) continue;
        ASSIGN_OR_RETURN(int64_t at, zone.localToUtc(date, h, m));
        if (at > after_unix_s) return at;
      }
    }
  }
  return notFoundError("cron expression '" + text_ + "' matches no day in the next 8 years");
}

}  // namespace tenure
