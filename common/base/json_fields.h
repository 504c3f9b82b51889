#pragma once
// Typed, non-throwing field access on Boost.JSON objects. Errors name the field.

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace tenure::json {

Result<const boost::json::object*> asObject(const boost::json::value& v, std::string_view what);

// Required string field; empty allowed.
Result<std::string> requireString(const boost::json::object& o, std::string_view key);
// Optional string: `fallback` when missing or null; an error when present with another type.
Result<std::string> optionalString(const boost::json::object& o, std::string_view key,
                                   std::string fallback = "");
Result<int64_t> optionalInt(const boost::json::object& o, std::string_view key, int64_t fallback);
Result<bool> optionalBool(const boost::json::object& o, std::string_view key, bool fallback);
Result<std::vector<std::string>> optionalStringArray(const boost::json::object& o,
                                                     std::string_view key);

boost::json::array toJsonArray(const std::vector<std::string>& v);

}  // namespace tenure::json
