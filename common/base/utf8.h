#pragma once
// Minimal UTF-8 helpers shared by HR input validation and the naming rules. Strict decoding: overlong
// forms, surrogates and code points above U+10FFFF are invalid, as RFC 3629 requires.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tenure {

// Decodes the code point starting at s[i] and advances i; nullopt (i unchanged) when invalid.
std::optional<char32_t> decodeUtf8(std::string_view s, size_t& i);
void appendUtf8(std::string& out, char32_t cp);

bool isValidUtf8(std::string_view s);
// Number of code points; only meaningful for valid UTF-8.
size_t utf8Length(std::string_view s);
// White space trimmed at both ends: ASCII white space and the Unicode spaces a spreadsheet may leave
// (NBSP, figure/narrow spaces, ideographic space, BOM / zero width space).
std::string trimUnicodeSpace(std::string_view s);
// First C0/C1 control character or DEL, if any.
std::optional<char32_t> findControlCharacter(std::string_view s);

std::string asciiLower(std::string_view s);

}  // namespace tenure
