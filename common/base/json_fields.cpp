#include "common/base/json_fields.h"

namespace tenure::json {

namespace bj = boost::json;

Result<const bj::object*> asObject(const bj::value& v, std::string_view what) {
  if (!v.is_object()) return dataError(std::string(what) + " must be a JSON object");
  return &v.get_object();
}

Result<std::string> requireString(const bj::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return dataError("missing field '" + std::string(key) + "'");
  if (!it->value().is_string()) return dataError("field '" + std::string(key) + "' must be a string");
  return std::string(it->value().get_string());
}

Result<std::string> optionalString(const bj::object& o, std::string_view key, std::string fallback) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return fallback;
  if (!it->value().is_string()) return dataError("field '" + std::string(key) + "' must be a string");
  return std::string(it->value().get_string());
}

Result<int64_t> optionalInt(const bj::object& o, std::string_view key, int64_t fallback) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return fallback;
  const auto& v = it->value();
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX))
    return static_cast<int64_t>(v.get_uint64());
  return dataError("field '" + std::string(key) + "' must be an integer");
}

Result<bool> optionalBool(const bj::object& o, std::string_view key, bool fallback) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return fallback;
  if (!it->value().is_bool()) return dataError("field '" + std::string(key) + "' must be a boolean");
  return it->value().get_bool();
}

Result<std::vector<std::string>> optionalStringArray(const bj::object& o, std::string_view key) {
  std::vector<std::string> out;
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return out;
  if (!it->value().is_array()) return dataError("field '" + std::string(key) + "' must be an array");
  for (const auto& e : it->value().get_array()) {
    if (!e.is_string()) return dataError("field '" + std::string(key) + "' must hold strings");
    out.emplace_back(e.get_string());
  }
  return out;
}

bj::array toJsonArray(const std::vector<std::string>& v) {
  bj::array a;
  a.reserve(v.size());
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

}  // namespace tenure::json
