#pragma once
// The HR record: one person as the HR system of record describes them. `employee_id` is the anchor
// that ties the person to exactly one directory account for life.

#include <boost/json/fwd.hpp>

#include <map>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace tenure::hr {

// Canonical CSV column order (the header row names them; order in a file may differ).
inline constexpr const char* kCanonicalColumns[] = {
    "employee_id", "given_name", "family_name", "preferred_name", "department", "title",
    "location",    "manager_id", "employment_type", "start_date", "end_date",  "status"};

struct HrRecord {
  std::string employee_id;
  std::string given_name;
  std::string family_name;
  std::string preferred_name;
  std::string department;
  std::string title;
  std::string location;
  std::string manager_id;
  std::string employment_type;  // employee | contractor | intern | vendor | volunteer | partner
  std::string start_date;       // YYYY-MM-DD, may be empty
  std::string end_date;         // YYYY-MM-DD, may be empty
  std::string status;           // active | leave | terminated
  std::map<std::string, std::string> custom;  // unknown columns, kept verbatim

  bool operator==(const HrRecord&) const = default;
};

// The HrRecord member for a canonical field name (lower case), or nullptr for any other name.
std::string HrRecord::*canonicalField(std::string_view lower_name);

// JSON form: an object with the canonical fields (strings) and `custom` (object of strings).
boost::json::value toJson(const HrRecord& r);
Result<HrRecord> hrRecordFromJson(const boost::json::value& v);

}  // namespace tenure::hr
