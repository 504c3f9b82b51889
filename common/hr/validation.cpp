#include "common/hr/validation.h"

#include <algorithm>
#include <cstdio>

#include "common/base/time_zone.h"
#include "common/base/utf8.h"

namespace tenure::hr {

namespace {

struct FieldRef {
  const char* name;
  std::string HrRecord::*member;
};

constexpr FieldRef kFields[] = {
    {"employee_id", &HrRecord::employee_id},       {"given_name", &HrRecord::given_name},
    {"family_name", &HrRecord::family_name},       {"preferred_name", &HrRecord::preferred_name},
    {"department", &HrRecord::department},         {"title", &HrRecord::title},
    {"location", &HrRecord::location},             {"manager_id", &HrRecord::manager_id},
    {"employment_type", &HrRecord::employment_type}, {"start_date", &HrRecord::start_date},
    {"end_date", &HrRecord::end_date},             {"status", &HrRecord::status},
};

// Upper bounds follow AD's attribute range limits for the attributes the fields end up in.
size_t maxLengthOf(std::string_view field) {
  if (field == "employee_id" || field == "manager_id") return kMaxEmployeeIdLength;
  if (field == "given_name" || field == "family_name" || field == "preferred_name") {
    return kMaxNameLength;
  }
  if (field == "department") return 64;
  if (field == "title" || field == "location") return 128;
  return 1024;
}

// asciiLower(s), without a copy (this runs twice for every record the job planner sees).
void lowerInPlace(std::string& s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}

// A value quoted for a message: shortened so one bad cell cannot flood a report.
std::string quoted(std::string_view v) {
  constexpr size_t kMaxShown = 40;
  std::string out = "\"";
  size_t i = 0;
  size_t n = 0;
  while (i < v.size() && n < kMaxShown) {
    size_t start = i;
    if (!decodeUtf8(v, i)) i = start + 1;
    out.append(v.substr(start, i - start));
    ++n;
  }
  if (i < v.size()) out += "...";
  out += "\"";
  return out;
}

bool isIdCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool validId(std::string_view id) {
  return !id.empty() && id.size() <= kMaxEmployeeIdLength &&
         std::all_of(id.begin(), id.end(), isIdCharacter);
}

template <size_t N>
bool oneOf(const std::string& v, const char* const (&options)[N]) {
  return std::any_of(std::begin(options), std::end(options), [&](const char* o) { return v == o; });
}

template <size_t N>
std::string joinOptions(const char* const (&options)[N]) {
  std::string out;
  for (const char* o : options) {
    if (!out.empty()) out += ", ";
    out += o;
  }
  return out;
}

std::string codePointName(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

}  // namespace

bool isValidIsoDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  auto num = [&](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  const int y = num(0, 4), m = num(5, 2), d = num(8, 2);
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  const int max = (m == 2 && leap) ? 29 : kDays[m - 1];
  return d <= max;
}

std::string rowReason(int row, std::string_view field, std::string_view message) {
  std::string out = "row " + std::to_string(row) + ": ";
  if (!field.empty()) {
    out.append(field);
    out += ": ";
  }
  out.append(message);
  return out;
}

std::vector<RowError> normalizeAndValidate(HrRecord& r, int row) {
  std::vector<RowError> errors;
  std::vector<std::string> bad_fields;  // fields already reported, to avoid piling up messages
  auto fail = [&](std::string_view field, std::string message) {
    errors.push_back(RowError{row, r.employee_id, std::string(field), rowReason(row, field, message)});
    bad_fields.emplace_back(field);
  };
  auto isBad = [&](std::string_view field) {
    return std::find(bad_fields.begin(), bad_fields.end(), field) != bad_fields.end();
  };

  // `field` is a const char* or a std::string (custom columns): made a view only when a message
  // needs it (this runs for every field of every person the job planner sees).
  auto cleanValue = [&](const auto& field, std::string& value) {
    // ASCII (nearly every value): trimUnicodeSpace trims the six ASCII spaces and the text is
    // valid UTF-8, so both are done in place; the job planner runs this for every person.
    bool ascii = true;
    bool control = false;  // meaningful for ASCII only
    for (char c : value) {
      const auto u = static_cast<unsigned char>(c);
      ascii &= u < 0x80;
      control |= u < 0x20 || u == 0x7F;
    }
    if (ascii) {
      auto space = [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
      };
      size_t b = 0;
      size_t e = value.size();
      while (b < e && space(value[b])) ++b;
      while (e > b && space(value[e - 1])) --e;
      if (b != 0 || e != value.size()) value = value.substr(b, e - b);
    } else {
      value = trimUnicodeSpace(value);
    }
    if (!ascii && !isValidUtf8(value)) {
      fail(field, "is not valid UTF-8");
      return;
    }
    // ASCII: a control character is a byte below 0x20 or 0x7F, and the length is the size (no
    // decoding; this runs for every field of every person the job planner sees).
    const auto ascii_control = [](char c) {
      return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
    };
    // Without a control character before trimming there is none after; with one, the trimmed
    // value is looked at again (\t \n \v \f \r at the ends were trimmed as spaces).
    if (ascii ? control && std::any_of(value.begin(), value.end(), ascii_control)
              : findControlCharacter(value).has_value()) {
      const auto cp = findControlCharacter(value);
      fail(field, "contains a control character (" + codePointName(*cp) + ")");
      return;
    }
    // Every limit is at least kMaxNameLength code points, so a value no longer than that in bytes
    // (nearly every one) passes without its limit being looked up by name.
    if (value.size() > kMaxNameLength &&
        (ascii ? value.size() : utf8Length(value)) > maxLengthOf(field)) {
      fail(field, "is longer than " + std::to_string(maxLengthOf(field)) + " characters");
    }
  };
  for (const auto& f : kFields) cleanValue(f.name, r.*(f.member));
  for (auto& [key, value] : r.custom) cleanValue(key, value);

  if (!isBad("employee_id")) {
    if (r.employee_id.empty()) {
      fail("employee_id", "is required");
    } else if (!validId(r.employee_id)) {
      fail("employee_id", quoted(r.employee_id) + " may only contain A-Z, a-z, 0-9, '.', '_' and '-'");
    }
  }
  if (!isBad("manager_id") && !r.manager_id.empty() && !validId(r.manager_id)) {
    fail("manager_id", quoted(r.manager_id) + " may only contain A-Z, a-z, 0-9, '.', '_' and '-'");
  }
  for (const char* f : {"given_name", "family_name"}) {
    std::string& v = f[0] == 'g' ? r.given_name : r.family_name;
    if (!isBad(f) && v.empty()) fail(f, "is required");
  }

  if (!isBad("employment_type")) {
    lowerInPlace(r.employment_type);
    if (r.employment_type.empty()) r.employment_type = "employee";
    if (!oneOf(r.employment_type, kEmploymentTypes)) {
      fail("employment_type",
           quoted(r.employment_type) + " is not one of " + joinOptions(kEmploymentTypes));
    }
  }
  if (!isBad("status")) {
    lowerInPlace(r.status);
    if (r.status.empty()) r.status = "active";
    if (!oneOf(r.status, kStatuses)) {
      fail("status", quoted(r.status) + " is not one of " + joinOptions(kStatuses));
    }
  }

  bool dates_ok = true;
  for (const char* f : {"start_date", "end_date"}) {
    const std::string& v = f[0] == 's' ? r.start_date : r.end_date;
    if (isBad(f)) {
      dates_ok = false;
    } else if (!v.empty() && !isValidIsoDate(v)) {
      fail(f, quoted(v) + " is not a valid date (YYYY-MM-DD)");
      dates_ok = false;
    }
  }
  // ISO dates of equal length compare correctly as strings.
  if (dates_ok && !r.start_date.empty() && !r.end_date.empty() && r.end_date < r.start_date) {
    fail("end_date", quoted(r.end_date) + " is before start_date " + quoted(r.start_date));
  }
  return errors;
}

void BatchValidator::addRecord(int row, HrRecord r) {
  std::vector<RowError> errors = normalizeAndValidate(r, row);
  const bool id_ok = std::none_of(errors.begin(), errors.end(),
                                  [](const RowError& e) { return e.field == "employee_id"; });
  if (id_ok) {
    auto [it, inserted] = first_row_by_id_.emplace(asciiLower(r.employee_id), row);
    if (!inserted) {
      errors.push_back(RowError{row, r.employee_id, "employee_id",
                                rowReason(row, "employee_id",
                                          quoted(r.employee_id) + " duplicates row " +
                                              std::to_string(it->second))});
    }
  }
  if (!errors.empty()) {
    for (auto& e : errors) batch_.rejected.push_back(std::move(e));
    return;
  }
  batch_.accepted.push_back(std::move(r));
  batch_.accepted_rows.push_back(row);
}

void BatchValidator::reject(RowError e) { batch_.rejected.push_back(std::move(e)); }

ParsedBatch BatchValidator::finish() && {
  std::stable_sort(batch_.rejected.begin(), batch_.rejected.end(),
                   [](const RowError& a, const RowError& b) { return a.row < b.row; });
  return std::move(batch_);
}

namespace {

// The rule `r` breaks (field, message), if any.
std::optional<std::pair<std::string, std::string>> employmentRuleViolation(
    const EmploymentRules& rules, const HrRecord& r, int64_t today_days) {
  const std::string type = r.employment_type.empty() ? "employee" : r.employment_type;
  EmploymentRule rule;
  rule.end_date_required = type != "employee";
  if (auto it = rules.by_type.find(type); it != rules.by_type.end()) rule = it->second;
  if (r.end_date.empty()) {
    if (rule.end_date_required) return std::make_pair("end_date", "required for " + type);
    return std::nullopt;
  }
  if (!rule.max_days) return std::nullopt;
  // Both dates were validated with the record; a date that still does not parse is not measured.
  auto end = parseIsoDate(r.end_date);
  auto start = r.start_date.empty() ? Result<int64_t>(today_days) : parseIsoDate(r.start_date);
  if (!start.isOk() || !end.isOk() || *end - *start <= *rule.max_days) return std::nullopt;
  return std::make_pair("end_date", std::to_string(*end - *start) + " days after " +
                                        (r.start_date.empty() ? "today" : "start_date") +
                                        " exceeds the maximum of " +
                                        std::to_string(*rule.max_days) + " days for " + type);
}

}  // namespace

void applyEmploymentRules(ParsedBatch& batch, const EmploymentRules& rules, int64_t today_days) {
  std::vector<HrRecord> kept;
  std::vector<int> kept_rows;
  for (size_t i = 0; i < batch.accepted.size(); ++i) {
    HrRecord& r = batch.accepted[i];
    const int row = i < batch.accepted_rows.size() ? batch.accepted_rows[i] : 0;
    if (auto bad = employmentRuleViolation(rules, r, today_days)) {
      batch.rejected.push_back(
          RowError{row, r.employee_id, bad->first, rowReason(row, bad->first, bad->second)});
      continue;
    }
    kept.push_back(std::move(r));
    kept_rows.push_back(row);
  }
  batch.accepted = std::move(kept);
  batch.accepted_rows = std::move(kept_rows);
  std::stable_sort(batch.rejected.begin(), batch.rejected.end(),
                   [](const RowError& a, const RowError& b) { return a.row < b.row; });
}

}  // namespace tenure::hr
