#include <boost/json.hpp>

#include "common/base/json_fields.h"
#include "common/hr/hr_record.h"

namespace tenure::hr {

namespace bj = boost::json;

std::string HrRecord::*canonicalField(std::string_view lower_name) {
  static constexpr std::pair<const char*, std::string HrRecord::*> kMap[] = {
      {"employee_id", &HrRecord::employee_id},
      {"given_name", &HrRecord::given_name},
      {"family_name", &HrRecord::family_name},
      {"preferred_name", &HrRecord::preferred_name},
      {"department", &HrRecord::department},
      {"title", &HrRecord::title},
      {"location", &HrRecord::location},
      {"manager_id", &HrRecord::manager_id},
      {"employment_type", &HrRecord::employment_type},
      {"start_date", &HrRecord::start_date},
      {"end_date", &HrRecord::end_date},
      {"status", &HrRecord::status},
  };
  for (const auto& [name, member] : kMap) {
    if (lower_name == name) return member;
  }
  return nullptr;
}

bj::value toJson(const HrRecord& r) {
  bj::object o;
  for (const char* name : kCanonicalColumns) o[name] = r.*canonicalField(name);
  bj::object custom;
  for (const auto& [k, v] : r.custom) custom[k] = v;
  o["custom"] = std::move(custom);
  return o;
}

Result<HrRecord> hrRecordFromJson(const bj::value& v) {
  ASSIGN_OR_RETURN(const bj::object* o, json::asObject(v, "HR record"));
  HrRecord r;
  for (const char* name : kCanonicalColumns) {
    ASSIGN_OR_RETURN(r.*canonicalField(name), json::optionalString(*o, name));
  }
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
