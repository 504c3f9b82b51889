#include <boost/json.hpp>

#include "common/base/json_fields.h"
#include "common/hr/hr_record.h"

namespace tenure::hr {

namespace bj = boost::json;

bj::value toJson(const HrRecord& r) {
  bj::object o;
  o["employee_id"] = r.employee_id;
  o["given_name"] = r.given_name;
  o["family_name"] = r.family_name;
  o["preferred_name"] = r.preferred_name;
  o["department"] = r.department;
  o["title"] = r.title;
  o["location"] = r.location;
  o["manager_id"] = r.manager_id;
  o["employment_type"] = r.employment_type;
  o["start_date"] = r.start_date;
  o["end_date"] = r.end_date;
  o["status"] = r.status;
  bj::object custom;
  for (const auto& [k, v] : r.custom) custom[k] = v;
  o["custom"] = std::move(custom);
  return o;
}

Result<HrRecord> hrRecordFromJson(const bj::value& v) {
  ASSIGN_OR_RETURN(const bj::object* o, json::asObject(v, "HR record"));
  HrRecord r;
  ASSIGN_OR_RETURN(r.employee_id, json::optionalString(*o, "employee_id"));
  ASSIGN_OR_RETURN(r.given_name, json::optionalString(*o, "given_name"));
  ASSIGN_OR_RETURN(r.family_name, json::optionalString(*o, "family_name"));
  ASSIGN_OR_RETURN(r.preferred_name, json::optionalString(*o, "preferred_name"));
  ASSIGN_OR_RETURN(r.department, json::optionalString(*o, "department"));
  ASSIGN_OR_RETURN(r.title, json::optionalString(*o, "title"));
  ASSIGN_OR_RETURN(r.location, json::optionalString(*o, "location"));
  ASSIGN_OR_RETURN(r.manager_id, json::optionalString(*o, "manager_id"));
  ASSIGN_OR_RETURN(r.employment_type, json::optionalString(*o, "employment_type"));
  ASSIGN_OR_RETURN(r.start_date, json::optionalString(*o, "start_date"));
  ASSIGN_OR_RETURN(r.end_date, json::optionalString(*o, "end_date"));
  ASSIGN_OR_RETURN(r.status, json::optionalString(*o, "status"));
  if (auto it = o->find("custom"); it != o->end() && !it->value().is_null()) {
    if (!it->value().is_object()) return dataError("field 'custom' must be an object");
    for (const auto& kv : it->value().get_object()) {
      if (!kv.value().is_string()) {
        return dataError("custom attribute '" + std::string(kv.key()) + "' must be a string");
      }
      r.custom[std::string(kv.key())] = std::string(kv.value().get_string());
    }
  }
  return r;
}

}  // namespace tenure::hr
