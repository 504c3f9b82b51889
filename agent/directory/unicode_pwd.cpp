#include "agent/directory/unicode_pwd.h"

#include <cstdint>

#include "common/base/utf8.h"

namespace tenure::agent {

namespace {

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
  for (size_t i = 0; i < utf8.size();) {
    // Ill-formed input becomes U+FFFD, one byte at a time (callers validate first).
    auto cp = decodeUtf8(utf8, i);
    if (!cp) ++i;
    appendUtf16Le(out, cp.value_or(U'\uFFFD'));
  }
  appendUtf16Le(out, '"');
  return out;
}

bool isWellFormedUtf8(std::string_view s) { return isValidUtf8(s); }

}  // namespace tenure::agent
