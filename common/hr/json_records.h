#pragma once
// HR records pushed as JSON: an array of objects with the canonical field names (matched
// case-insensitively), unknown keys and an optional "custom" object kept as custom attributes.

#include <string_view>

#include "common/base/status.h"
#include "common/hr/validation.h"

namespace tenure::hr {

// Malformed JSON or a body that is not an array is a whole-upload data error; an element that is
// not an object, or has a non-string value, rejects that element only. Values may be strings,
// integers (taken as their decimal text) or null (empty).
Result<ParsedBatch> parseJsonRecords(std::string_view text);

}  // namespace tenure::hr
