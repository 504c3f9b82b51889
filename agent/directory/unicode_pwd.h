#pragma once
// AD takes a new password as the unicodePwd attribute: the password in double quotes, UTF-16LE.

#include <string>
#include <string_view>

namespace tenure::agent {

// The unicodePwd value for `utf8` (bytes, not text). Ill-formed UTF-8 sequences are encoded as
// U+FFFD, so callers that cannot vouch for their input should check it first (isWellFormedUtf8).
std::string encodeUnicodePwd(std::string_view utf8);

bool isWellFormedUtf8(std::string_view s);

}  // namespace tenure::agent
