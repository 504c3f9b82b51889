#pragma once
// Transliteration of Latin text to ASCII for account names and mail addresses.

#include <string>
#include <string_view>

namespace tenure {

// ä→ae, ö→oe, ü→ue, ß→ss, æ→ae, ø→o, å→a, ł→l, đ→d, þ→th, œ→oe, other letters with diacritics →
// base letter (upper case kept: Ä→Ae). ASCII is kept as is; anything else (e.g. CJK) is dropped.
// Decomposed input (base letter + combining mark) is handled.
std::string transliterate(std::string_view utf8);

}  // namespace tenure
