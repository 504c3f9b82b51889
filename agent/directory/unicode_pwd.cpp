#include "agent/directory/unicode_pwd.h"

#include <cstdint>

namespace tenure::agent {

namespace {

constexpr uint32_t kReplacement = 0xFFFD;

// Decodes one code point at s[i]; advances i. Ill-formed input yields U+FFFD and skips one byte.
uint32_t decodeOne(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  size_t len;
  uint32_t min;
  uint32_t cp;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, cp = b0 & 0x07;
  } else {
    ++i;
    return kReplacement;
  }
  if (i + len > s.size()) {
    ++i;
    return kReplacement;
  }
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return kReplacement;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return kReplacement;
  }
  i += len;
  return cp;
}

void appendUtf16Le(std::string& out, uint32_t cp) {
  auto unit = [&out](uint32_t u) {
    out += static_cast<char>(u & 0xFF);
    out += static_cast<char>((u >> 8) & 0xFF);
  };
  if (cp >= 0x10000) {
    cp -= 0x10000;
    unit(0xD800 + (cp >> 10));
    unit(0xDC00 + (cp & 0x3FF));
  } else {
    unit(cp);
  }
}

}  // namespace

std::string encodeUnicodePwd(std::string_view utf8) {
  std::string out;
  out.reserve((utf8.size() + 2) * 2);
  appendUtf16Le(out, '"');
  for (size_t i = 0; i < utf8.size();) appendUtf16Le(out, decodeOne(utf8, i));
  appendUtf16Le(out, '"');
  return out;
}

bool isWellFormedUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t before = i;
    const uint32_t cp = decodeOne(s, i);
    // A literal U+FFFD is three bytes; a replacement for bad input advances by one.
    if (cp == kReplacement && i - before == 1) return false;
  }
  return true;
}

}  // namespace tenure::agent
