#pragma once
// FieldMapping: how one HR source's employee objects become canonical HrRecords. A source field
// maps to a canonical field (common/hr/hr_record.h) or to a custom attribute ("custom.<name>");
// values are converted on the way: the source's "no date" spellings become empty, and the
// source's status and employment-type vocabularies are translated into the canonical ones. What
// the mapping produces is then validated like any upload (BatchValidator): a row that does not
// fit is reported as rejected, never applied.

#include <boost/json/fwd.hpp>

#include <map>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/hr/hr_record.h"

namespace tenure::cp::connectors {

struct FieldMapping {
  // source field -> canonical field name or "custom.<attribute>". Several source fields may name
  // the same target: the first non-empty value wins, in `precedence` order, then name order.
  std::map<std::string, std::string> fields;
  // Source field order for resolving several sources of one target (e.g. id before
  // employeeNumber). Fields missing here come after, in name order.
  std::vector<std::string> precedence;
  // Lower-cased source value -> canonical value. A value not listed passes through lower-cased,
  // and the validator rejects it if it is not canonical.
  std::map<std::string, std::string> status_values;
  std::map<std::string, std::string> employment_type_values;
  // Date spellings that mean "no date" (BambooHR writes "0000-00-00").
  std::vector<std::string> empty_dates{"0000-00-00"};

  // The source fields to ask the API for (every mapped source field).
  std::vector<std::string> sourceFields() const;
  // Maps one employee object. Values may be strings, numbers, booleans or null; nested objects
  // and arrays are ignored (a data error names the field when it is mapped).
  Result<hr::HrRecord> map(const boost::json::object& employee) const;
};

// BambooHR's documented field names to canonical ones: id -> employee_id (employeeNumber as a
// fallback), firstName, lastName, preferredName, department, jobTitle, location,
// supervisorEId -> manager_id, hireDate -> start_date, terminationDate -> end_date,
// status (Active/Inactive) -> status, employmentHistoryStatus -> employment_type.
FieldMapping defaultBambooHrMapping();

// Applies a tenant's overrides to `base`: {"field_mapping": {src: target|""}, "status_values":
// {...}, "employment_type_values": {...}}; an empty target removes the source field. Targets are
// checked (a canonical field or custom.<name>). The overrides object itself is what is stored.
Result<FieldMapping> applyOverrides(FieldMapping base, const boost::json::object& overrides);

}  // namespace tenure::cp::connectors
