#pragma once
// Naming rules: how a person's HR names become an sAMAccountName, UPN, displayName and CN.
// Pure functions; collision handling against the live directory is done by the caller, which walks
// the candidates in order.

#include <string>
#include <string_view>

#include "common/base/transliterate.h"
#include "common/hr/hr_record.h"

namespace tenure::lifecycle {

inline constexpr size_t kMaxSamLength = 20;  // AD's sAMAccountName limit for users

using ::tenure::transliterate;  // common/base/transliterate.h

// The first name a person goes by: preferred_name when given, else given_name.
const std::string& firstNameOf(const hr::HrRecord& r);

// First letter of the first name + family name, transliterated, lower-case [a-z0-9] only, at most
// 20 characters; "u" + the filtered employee_id when the names yield nothing (e.g. Chinese script).
std::string samAccountBase(const hr::HrRecord& r);

// Candidate n (1-based) for a base: base, base2, base3, ... each at most 20 characters.
std::string samAccountCandidate(std::string_view base, int n);

// "<preferred or given> <family>" in the original script.
std::string displayNameOf(const hr::HrRecord& r);

}  // namespace tenure::lifecycle
