#pragma once
// Base64 (RFC 4648, standard alphabet, padded), for binary data carried in JSON (e.g. the TZif
// bytes of a job's time zone).

#include <string>
#include <string_view>

#include "common/base/status.h"

namespace tenure {

std::string base64Encode(std::string_view bytes);
// Strict: only the standard alphabet, padding to a multiple of four, no whitespace; a data error
// otherwise.
Result<std::string> base64Decode(std::string_view text);

}  // namespace tenure
