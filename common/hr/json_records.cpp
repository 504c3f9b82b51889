#include "common/hr/json_records.h"

#include <boost/json.hpp>

#include "common/base/utf8.h"

namespace tenure::hr {

namespace bj = boost::json;

namespace {


// A scalar as text; nullopt for types that cannot be a field value.
std::optional<std::string> scalarText(const bj::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return std::string();
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  return std::nullopt;
}

}  // namespace

Result<ParsedBatch> parseJsonRecords(std::string_view text) {
  boost::system::error_code ec;
  bj::value root = bj::parse(text, ec);
  if (ec) return dataError("the body is not valid JSON: " + ec.message());
  if (!root.is_array()) return dataError("the body must be a JSON array of HR records");

  BatchValidator validator;
  int row = 0;
  for (const bj::value& element : root.get_array()) {
    ++row;
    if (!element.is_object()) {
      validator.reject(RowError{row, "", "", rowReason(row, "", "is not a JSON object")});
      continue;
    }
    const bj::object& o = element.get_object();
    std::string id;
    for (const auto& kv : o) {
      if (asciiLower(trimUnicodeSpace(kv.key())) == "employee_id") {
        id = trimUnicodeSpace(scalarText(kv.value()).value_or(""));
      }
    }
    HrRecord r;
    std::vector<RowError> errors;
    std::vector<std::string> seen;
    auto fail = [&](const std::string& field, const std::string& message) {
      errors.push_back(RowError{row, id, field, rowReason(row, field, message)});
    };
    for (const auto& kv : o) {
      const std::string key = trimUnicodeSpace(kv.key());
      const std::string lower = asciiLower(key);
      if (std::find(seen.begin(), seen.end(), lower) != seen.end()) {
        fail(key, "appears more than once");
        continue;
      }
      seen.push_back(lower);
      if (lower == "custom") {
        if (kv.value().is_null()) continue;
        if (!kv.value().is_object()) {
          fail("custom", "must be an object of strings");
          continue;
        }
        for (const auto& ckv : kv.value().get_object()) {
          auto text_value = scalarText(ckv.value());
          if (!text_value) {
            fail(std::string(ckv.key()), "must be a string");
          } else {
            r.custom[std::string(ckv.key())] = std::move(*text_value);
          }
        }
        continue;
      }
      auto text_value = scalarText(kv.value());
      if (!text_value) {
        fail(canonicalField(lower) != nullptr ? lower : key, "must be a string");
        continue;
      }
      if (auto member = canonicalField(lower)) {
        r.*member = std::move(*text_value);
      } else {
        r.custom[key] = std::move(*text_value);
      }
    }
    if (!errors.empty()) {
      for (auto& e : errors) validator.reject(std::move(e));
      continue;
    }
    validator.addRecord(row, std::move(r));
  }
  return std::move(validator).finish();
}

}  // namespace tenure::hr
