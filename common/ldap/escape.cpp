#include "common/ldap/escape.h"

#include "common/base/utf8.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace tenure::ldap {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";
constexpr char kHexLower[] = "0123456789abcdef";

void appendHex(std::string& out, unsigned char c, const char* digits) {
  out += '\\';
  out += digits[c >> 4];
  out += digits[c & 0xF];
}

// Length of the well-formed UTF-8 sequence starting at s[i] (1..4), or 0 when it is not one.
size_t utf8SequenceLength(std::string_view s, size_t i) {
  size_t next = i;
  return decodeUtf8(s, next) ? next - i : 0;
}

bool isControl(unsigned char c) { return c < 0x20 || c == 0x7F; }

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isDnSpecial(char c) {
  switch (c) {
    case ' ':
    case '"':
    case '#':
    case '+':
    case ',':
    case ';':
    case '<':
    case '=':
    case '>':
    case '\\':
      return true;
    default:
      return false;
  }
}

bool isSpace(char c) { return c == ' '; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Drops leading spaces and trailing spaces that are not escaped ("CN=x\\ " keeps its space).
std::string_view trimDnPart(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  size_t end = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      end = std::min(i + 2, s.size());
      ++i;
    } else if (!isSpace(s[i])) {
      end = i + 1;
    }
  }
  return s.substr(0, end);
}

// Index of the first ',' (or ';') that is not escaped, or npos.
size_t firstSeparator(std::string_view dn) {
  for (size_t i = 0; i < dn.size(); ++i) {
    if (dn[i] == '\\') {
      ++i;  // whatever follows is part of an escape (\, or the first digit of \2C)
    } else if (dn[i] == ',' || dn[i] == ';') {
      return i;
    }
  }
  return std::string_view::npos;
}

std::string asciiLower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status malformed(std::string_view dn, std::string_view why) {
  return dataError("malformed DN \"" + std::string(dn) + "\": " + std::string(why));
}

}  // namespace

std::string escapeDnValue(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 8);
  for (size_t i = 0; i < value.size();) {
    const char c = value[i];
    const auto uc = static_cast<unsigned char>(c);
    if (uc >= 0x80) {
      const size_t len = utf8SequenceLength(value, i);
      if (len == 0) {
        appendHex(out, uc, kHex);
        ++i;
      } else {
        out.append(value.substr(i, len));
        i += len;
      }
      continue;
    }
    if (isControl(uc)) {
      appendHex(out, uc, kHex);
    } else if (c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' ||
               c == '=') {
      out += '\\';
      out += c;
    } else if ((c == ' ' || c == '#') && i == 0) {
      out += '\\';
      out += c;
    } else if (c == ' ' && i + 1 == value.size()) {
      out += "\\ ";
    } else {
      out += c;
    }
    ++i;
  }
  return out;
}

std::string escapeFilterValue(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 8);
  for (size_t i = 0; i < value.size();) {
    const char c = value[i];
    const auto uc = static_cast<unsigned char>(c);
    if (uc >= 0x80) {
      const size_t len = utf8SequenceLength(value, i);
      if (len == 0) {
        appendHex(out, uc, kHexLower);
        ++i;
      } else {
        out.append(value.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '*':
        out += "\\2a";
        break;
      case '(':
        out += "\\28";
        break;
      case ')':
        out += "\\29";
        break;
      case '\\':
        out += "\\5c";
        break;
      case '\0':
        out += "\\00";
        break;
      default:
        out += c;
    }
    ++i;
  }
  return out;
}

std::string escapeFilterBytes(std::string_view value) {
  std::string out;
  out.reserve(value.size() * 3);
  for (char c : value) appendHex(out, static_cast<unsigned char>(c), kHexLower);
  return out;
}

std::string makeRdn(std::string_view type, std::string_view value) {
  std::string out(type);
  out += '=';
  out += escapeDnValue(value);
  return out;
}

Result<std::vector<Rdn>> parseDn(std::string_view dn) {
  std::vector<Rdn> rdns;
  const size_t n = dn.size();
  size_t i = 0;
  auto skipSpaces = [&] {
    while (i < n && isSpace(dn[i])) ++i;
  };
  skipSpaces();
  if (i == n) return rdns;
  while (true) {
    skipSpaces();
    const size_t type_start = i;
    while (i < n && dn[i] != '=' && dn[i] != ',' && dn[i] != ';' && dn[i] != '+') ++i;
    if (i == n || dn[i] != '=') return malformed(dn, "expected '=' after an attribute type");
    const std::string_view type = trim(dn.substr(type_start, i - type_start));
    if (type.empty()) return malformed(dn, "empty attribute type");
    for (char c : type) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') {
        return malformed(dn, "invalid character in attribute type");
      }
    }
    ++i;  // '='
    skipSpaces();
    if (i < n && dn[i] == '#') {
      return malformed(dn, "hex-encoded (#...) attribute values are not supported");
    }
    std::string value;
    size_t significant = 0;  // value length without unescaped trailing spaces
    while (i < n && dn[i] != ',' && dn[i] != ';' && dn[i] != '+') {
      const char c = dn[i];
      if (c != '\\') {
        value += c;
        if (!isSpace(c)) significant = value.size();
        ++i;
        continue;
      }
      if (i + 1 >= n) return malformed(dn, "dangling backslash");
      const int hi = hexValue(dn[i + 1]);
      const int lo = i + 2 < n ? hexValue(dn[i + 2]) : -1;
      if (hi >= 0 && lo >= 0) {
        value += static_cast<char>((hi << 4) | lo);
        i += 3;
      } else if (isDnSpecial(dn[i + 1])) {
        value += dn[i + 1];
        i += 2;
      } else {
        return malformed(dn, "invalid escape sequence");
      }
      significant = value.size();
    }
    if (i < n && dn[i] == '+') return malformed(dn, "multi-valued RDNs are not supported");
    value.resize(significant);
    rdns.push_back(Rdn{std::string(type), std::move(value)});
    if (i == n) break;
    ++i;  // ',' or ';'
    skipSpaces();
    if (i == n) return malformed(dn, "trailing separator");
  }
  return rdns;
}

std::string parentDn(std::string_view dn) {
  const size_t sep = firstSeparator(dn);
  if (sep == std::string_view::npos) return "";
  return std::string(trimDnPart(dn.substr(sep + 1)));
}

std::string rdnOf(std::string_view dn) {
  const size_t sep = firstSeparator(dn);
  return std::string(trimDnPart(dn.substr(0, sep)));
}

bool dnEquals(std::string_view a, std::string_view b) {
  // The same text is the same DN, parsable or not; planning compares a DN with its own copy often
  // enough (an account's DN with its planned final DN) for the parse to show.
  if (a == b) return true;
  auto pa = parseDn(a);
  auto pb = parseDn(b);
  if (!pa.isOk() || !pb.isOk()) return a == b;
  if (pa->size() != pb->size()) return false;
  for (size_t k = 0; k < pa->size(); ++k) {
    const Rdn& x = (*pa)[k];
    const Rdn& y = (*pb)[k];
    if (asciiLower(x.type) != asciiLower(y.type) || asciiLower(x.value) != asciiLower(y.value)) {
      return false;
    }
  }
  return true;
}

}  // namespace tenure::ldap
