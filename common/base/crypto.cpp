#include "common/base/crypto.h"

#include <cstdint>

namespace tenure {

namespace {
constexpr char kHex[] = "0123456789abcdef";

template <typename Bytes>
std::string toHex(const Bytes& bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}
}  // namespace

std::string randomHex(size_t bytes) { return toHex(randomBytes(bytes)); }

std::string randomToken(size_t bytes) {
  static constexpr char kB64[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  auto buf = randomBytes(bytes);
  std::string out;
  size_t i = 0;
  for (; i + 2 < buf.size(); i += 3) {
    uint32_t v = (buf[i] << 16) | (buf[i + 1] << 8) | buf[i + 2];
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i < buf.size()) {
    uint32_t v = buf[i] << 16;
    if (i + 1 < buf.size()) v |= buf[i + 1] << 8;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    if (i + 1 < buf.size()) out += kB64[(v >> 6) & 63];
  }
  return out;
}

std::string sha256Hex(std::string_view data) { return toHex(sha256(data)); }

bool constantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  // Every byte is compared whatever the earlier ones were, so timing says nothing of where they
  // differ; volatile keeps the compiler from stopping early.
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace tenure
