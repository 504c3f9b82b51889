#include "controlplane/connectors/field_mapping.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <set>

namespace tenure::cp::connectors {
namespace {

namespace bj = boost::json;

constexpr std::string_view kCustomPrefix = "custom.";

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::string trim(std::string s) {
  auto notSpace = [](unsigned char ch) { return !std::isspace(ch); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), notSpace));
  s.erase(std::find_if(s.rbegin(), s.rend(), notSpace).base(), s.end());
  return s;
}

bool validTarget(const std::string& target) {
  if (target.substr(0, kCustomPrefix.size()) == kCustomPrefix) {
    return target.size() > kCustomPrefix.size();
  }
  return hr::canonicalField(target) != nullptr;
}

// A JSON scalar as text; nullopt for objects and arrays.
std::optional<std::string> scalarText(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::string:
      return std::string(v.get_string());
    case bj::kind::null:
      return std::string();
    case bj::kind::int64:
      return std::to_string(v.get_int64());
    case bj::kind::uint64:
      return std::to_string(v.get_uint64());
    case bj::kind::bool_:
      return std::string(v.get_bool() ? "true" : "false");
    case bj::kind::double_: {
      const double d = v.get_double();
      if (d == static_cast<double>(static_cast<int64_t>(d))) {
        return std::to_string(static_cast<int64_t>(d));
      }
      return bj::serialize(v);
    }
    default:
      return std::nullopt;
  }
}

Result<std::map<std::string, std::string>> stringMap(const bj::object& o, std::string_view key) {
  std::map<std::string, std::string> out;
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return out;
  if (!it->value().is_object()) return dataError(std::string(key) + " must be an object of strings");
  for (const auto& kv : it->value().get_object()) {
    if (!kv.value().is_string()) {
      return dataError(std::string(key) + "." + std::string(kv.key()) + " must be a string");
    }
    out[std::string(kv.key())] = std::string(kv.value().get_string());
  }
  return out;
}

}  // namespace

std::vector<std::string> FieldMapping::sourceFields() const {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& f : precedence) {
    if (fields.count(f) && seen.insert(f).second) out.push_back(f);
  }
  for (const auto& [f, target] : fields) {
    if (seen.insert(f).second) out.push_back(f);
  }
  return out;
}

Result<hr::HrRecord> FieldMapping::map(const bj::object& employee) const {
  hr::HrRecord r;
  for (const std::string& source : sourceFields()) {
    const std::string& target = fields.at(source);
    auto it = employee.find(source);
    if (it == employee.end()) continue;
    auto text = scalarText(it->value());
    if (!text) return dataError(source + " must be a string, number or null");
    std::string value = trim(*text);
    if (target == "start_date" || target == "end_date") {
      if (std::find(empty_dates.begin(), empty_dates.end(), value) != empty_dates.end()) {
        value.clear();
      }
    } else if (target == "status" && !value.empty()) {
      auto v = status_values.find(lower(value));
      value = v != status_values.end() ? v->second : lower(value);
    } else if (target == "employment_type" && !value.empty()) {
      auto v = employment_type_values.find(lower(value));
      value = v != employment_type_values.end() ? v->second : lower(value);
    }
    if (target.substr(0, kCustomPrefix.size()) == kCustomPrefix) {
      std::string& slot = r.custom[target.substr(kCustomPrefix.size())];
      if (slot.empty()) slot = value;
      continue;
    }
    std::string& slot = r.*hr::canonicalField(target);
    if (slot.empty()) slot = value;
  }
  return r;
}

FieldMapping defaultBambooHrMapping() {
  FieldMapping m;
  m.fields = {
      {"id", "employee_id"},
      {"employeeNumber", "employee_id"},
      {"firstName", "given_name"},
      {"lastName", "family_name"},
      {"preferredName", "preferred_name"},
      {"department", "department"},
      {"jobTitle", "title"},
      {"location", "location"},
      {"supervisorEId", "manager_id"},
      {"hireDate", "start_date"},
      {"terminationDate", "end_date"},
      {"status", "status"},
      {"employmentHistoryStatus", "employment_type"},
  };
  // id is BambooHR's own employee id, the one supervisorEId refers to; employeeNumber only
  // stands in when a report leaves id out.
  m.precedence = {"id", "employeeNumber"};
  m.status_values = {{"active", "active"}, {"inactive", "terminated"}};
  m.employment_type_values = {
      {"full-time", "employee"},     {"full time", "employee"},   {"part-time", "employee"},
      {"part time", "employee"},     {"employee", "employee"},    {"permanent", "employee"},
      {"regular", "employee"},       {"seasonal", "employee"},    {"temporary", "employee"},
      {"contractor", "contractor"},  {"contract", "contractor"},  {"freelance", "contractor"},
      {"consultant", "contractor"},  {"intern", "intern"},        {"internship", "intern"},
      {"vendor", "vendor"},          {"volunteer", "volunteer"},  {"partner", "partner"},
      // BambooHR shows a leaver's employment status as "Terminated": that says nothing about
      // the kind of employment, so the validator's default applies.
      {"terminated", ""},
  };
  return m;
}

Result<FieldMapping> applyOverrides(FieldMapping base, const bj::object& overrides) {
  ASSIGN_OR_RETURN(auto fields, stringMap(overrides, "field_mapping"));
  for (auto& [source, target] : fields) {
    if (source.empty()) return dataError("field_mapping: empty source field name");
    if (target.empty()) {
      base.fields.erase(source);
      continue;
    }
    const std::string t = target.substr(0, kCustomPrefix.size()) == kCustomPrefix
                              ? target
                              : lower(target);
    if (!validTarget(t)) {
      return dataError("field_mapping." + source + ": \"" + target +
                       "\" is not a canonical HR field or custom.<name>");
    }
    base.fields[source] = t;
  }
  bool has_id = false;
  for (const auto& [source, target] : base.fields) has_id = has_id || target == "employee_id";
  if (!has_id) return dataError("field_mapping: no source field maps to employee_id");
  ASSIGN_OR_RETURN(auto statuses, stringMap(overrides, "status_values"));
  for (auto& [k, v] : statuses) base.status_values[lower(k)] = lower(v);
  ASSIGN_OR_RETURN(auto types, stringMap(overrides, "employment_type_values"));
  for (auto& [k, v] : types) base.employment_type_values[lower(k)] = lower(v);
  return base;
}

}  // namespace tenure::cp::connectors
