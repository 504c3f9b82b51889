#pragma once
// Validation of HR input (CSV uploads and JSON pushes share it): every value is trimmed, checked for
// valid UTF-8 and control characters, the enums are lower-cased and defaulted, dates are checked,
// and duplicate employee IDs within one upload are rejected. A bad row is reported, never applied.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/hr/hr_record.h"

namespace tenure::hr {

// One problem with one row. `row` is the 1-based data row (CSV: rows after the header; JSON: the
// array index + 1). `reason` is a complete, human-readable sentence that names the row and field,
// e.g. `row 7: start_date: "2025-13-01" is not a valid date (YYYY-MM-DD)`. A row may have several.
struct RowError {
  int row = 0;
  std::string employee_id;  // as given (trimmed), may be empty
  std::string field;        // canonical field name, or "" for structural problems
  std::string reason;

  bool operator==(const RowError&) const = default;
};

// The outcome of parsing one upload: accepted records (normalized) with their row numbers, in input
// order, and the rejected rows with reasons.
struct ParsedBatch {
  std::vector<HrRecord> accepted;
  std::vector<int> accepted_rows;
  std::vector<RowError> rejected;
};

inline constexpr size_t kMaxEmployeeIdLength = 64;
inline constexpr size_t kMaxNameLength = 64;

inline constexpr const char* kEmploymentTypes[] = {"employee",  "contractor", "intern",
                                                   "vendor",    "volunteer",  "partner"};
// rescinded: a hire cancelled before the start date (the account, if made, is deleted).
inline constexpr const char* kStatuses[] = {"active", "leave", "terminated", "rescinded"};

// True for a real calendar date written YYYY-MM-DD (2024-02-29 yes, 2025-02-30 no).
bool isValidIsoDate(std::string_view s);

// Formats a RowError reason: `row N: field: message` (field omitted when empty).
std::string rowReason(int row, std::string_view field, std::string_view message);

// Trims, lower-cases and defaults the fields of `r` in place and returns every problem found
// (empty when the record is acceptable). Does not check duplicates (see BatchValidator).
std::vector<RowError> normalizeAndValidate(HrRecord& r, int row);

// Accumulates rows of one upload in order: validates each, rejects later duplicates of an
// employee_id (compared case-insensitively, as AD compares employeeID), and builds the batch.
class BatchValidator {
 public:
  void addRecord(int row, HrRecord r);
  // A row the reader could not even turn into a record (structure, wrong JSON type).
  void reject(RowError e);
  ParsedBatch finish() &&;

 private:
  ParsedBatch batch_;
  std::unordered_map<std::string, int> first_row_by_id_;  // lower-cased id → first row
};

// What a tenant's policy asks of a record of one employment type beyond its own fields.
struct EmploymentRule {
  bool end_date_required = false;
  std::optional<int> max_days;  // end_date - start_date (or today) may not exceed this
};

// The rules per employment type (policy.employment_types). A type not listed needs an end date
// unless it is "employee", with no maximum; a record without a type is an employee.
struct EmploymentRules {
  std::unordered_map<std::string, EmploymentRule> by_type;
};

// Moves the accepted records of `batch` that break `rules` to its rejected rows (kept sorted by
// row): such a record is never applied. `today_days` is today's date in the tenant's time zone
// (days since 1970-01-01): a record without a start date is measured from it, as its account
// would exist from now on.
void applyEmploymentRules(ParsedBatch& batch, const EmploymentRules& rules, int64_t today_days);

}  // namespace tenure::hr
