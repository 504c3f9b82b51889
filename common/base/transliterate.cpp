#include "common/base/transliterate.h"

#include "common/base/utf8.h"

namespace tenure {

namespace {

// U+00C0..U+00FF. Multi-letter forms per the naming policy (German umlauts, ligatures, thorn).
constexpr const char* kLatin1[64] = {
    "A", "A", "A", "A", "Ae", "A", "Ae", "C", "E", "E", "E", "E", "I", "I", "I", "I",  // C0
    "D", "N", "O", "O", "O",  "O", "Oe", "",  "O", "U", "U", "U", "Ue", "Y", "Th", "ss",  // D0
    "a", "a", "a", "a", "ae", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",  // E0
    "d", "n", "o", "o", "o",  "o", "oe", "",  "o", "u", "u", "u", "ue", "y", "th", "y",   // F0
};

// U+0100..U+017F, one base letter each; '?' marks the ligatures handled separately.
constexpr std::string_view kLatinExtendedA =
    "AaAaAaCcCcCcCcDd"
    "DdEeEeEeEeEeGgGg"
    "GgGgHhHhIiIiIiIi"
    "Ii??JjKkkLlLlLlL"
    "lLlNnNnNnnNnOoOo"
    "Oo??RrRrRrSsSsSs"
    "SsTtTtTtUuUuUuUu"
    "UuUuWwYyYZzZzZzs";

// Returns the ASCII for one code point, or nullptr to drop it.
const char* asciiFor(char32_t cp, char* buf) {
  if (cp < 0x80) {
    buf[0] = static_cast<char>(cp);
    buf[1] = '\0';
    return buf;
  }
  if (cp >= 0xC0 && cp <= 0xFF) return kLatin1[cp - 0xC0];
  if (cp >= 0x100 && cp <= 0x17F) {
    switch (cp) {
      case 0x132: return "IJ";
      case 0x133: return "ij";
      case 0x152: return "Oe";
      case 0x153: return "oe";
      default: break;
    }
    buf[0] = kLatinExtendedA[cp - 0x100];
    buf[1] = '\0';
    return buf;
  }
  auto alternate = [&](char upper, char lower) {
    buf[0] = (cp % 2 == 0) ? upper : lower;
    buf[1] = '\0';
    return buf;
  };
  switch (cp) {
    case 0x1A0: return "O";  // Ơ (Vietnamese)
    case 0x1A1: return "o";
    case 0x1AF: return "U";  // Ư
    case 0x1B0: return "u";
    case 0x218: return "S";  // Ș (Romanian)
    case 0x219: return "s";
    case 0x21A: return "T";  // Ț
    case 0x21B: return "t";
    case 0x18F: return "E";  // Ə (Azerbaijani)
    case 0x259: return "e";
    case 0x1E9E: return "SS";  // ẞ
    default: break;
  }
  // Latin Extended Additional: the Vietnamese letters come in upper/lower pairs.
  if (cp >= 0x1EA0 && cp <= 0x1EB7) return alternate('A', 'a');
  if (cp >= 0x1EB8 && cp <= 0x1EC7) return alternate('E', 'e');
  if (cp >= 0x1EC8 && cp <= 0x1ECB) return alternate('I', 'i');
  if (cp >= 0x1ECC && cp <= 0x1EE3) return alternate('O', 'o');
  if (cp >= 0x1EE4 && cp <= 0x1EF1) return alternate('U', 'u');
  if (cp >= 0x1EF2 && cp <= 0x1EF9) return alternate('Y', 'y');
  return nullptr;
}

}  // namespace

std::string transliterate(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  size_t i = 0;
  char buf[2];
  char prev = '\0';  // last ASCII letter written, for decomposed umlauts
  while (i < utf8.size()) {
    const size_t start = i;
    auto cp = decodeUtf8(utf8, i);
    if (!cp) {
      i = start + 1;
      continue;
    }
    if (*cp >= 0x300 && *cp <= 0x36F) {
      // A combining diaeresis on a/o/u is an umlaut written in decomposed form.
      if (*cp == 0x308 && std::string_view("aouAOU").find(prev) != std::string_view::npos) {
        out += 'e';
      }
      prev = '\0';
      continue;
    }
    const char* ascii = asciiFor(*cp, buf);
    if (ascii == nullptr) {
      prev = '\0';
      continue;
    }
    out += ascii;
    prev = (ascii[0] != '\0' && ascii[1] == '\0') ? ascii[0] : '\0';
  }
  return out;
}

}  // namespace tenure
