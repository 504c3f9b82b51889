// common/base/crypto.h on Windows: random bytes and SHA-256 from CNG (BCrypt), the OS's own
// FIPS-validated provider, so the Windows agent carries no OpenSSL.

#include "common/base/crypto.h"

#include <windows.h>
#include <bcrypt.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace tenure {

namespace {

std::vector<unsigned char> randomBytes(size_t n) {
  std::vector<unsigned char> buf(n);
  if (n == 0) return buf;
  NTSTATUS st = BCryptGenRandom(nullptr, buf.data(), static_cast<ULONG>(n),
                                BCRYPT_USE_SYSTEM_PREFERRED_RNG);
  if (!BCRYPT_SUCCESS(st)) {
    // Without entropy nothing secret can be made; this is not recoverable (as on Linux).
    throw std::runtime_error("BCryptGenRandom failed");
  }
  return buf;
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

std::string randomHex(size_t bytes) {
  auto buf = randomBytes(bytes);
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char c : buf) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

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

std::string sha256Hex(std::string_view data) {
  // One provider handle for the process: opening it is the expensive part, and it is thread-safe.
  static const BCRYPT_ALG_HANDLE alg = [] {
    BCRYPT_ALG_HANDLE h = nullptr;
    if (!BCRYPT_SUCCESS(BCryptOpenAlgorithmProvider(&h, BCRYPT_SHA256_ALGORITHM, nullptr, 0))) {
      throw std::runtime_error("BCryptOpenAlgorithmProvider(SHA-256) failed");
    }
    return h;
  }();
  unsigned char md[32];
  BCRYPT_HASH_HANDLE hash = nullptr;
  bool ok = BCRYPT_SUCCESS(BCryptCreateHash(alg, &hash, nullptr, 0, nullptr, 0, 0));
  ok = ok && BCRYPT_SUCCESS(BCryptHashData(
                 hash, reinterpret_cast<PUCHAR>(const_cast<char*>(data.data())),
                 static_cast<ULONG>(data.size()), 0));
  ok = ok && BCRYPT_SUCCESS(BCryptFinishHash(hash, md, sizeof md, 0));
  if (hash != nullptr) BCryptDestroyHash(hash);
  if (!ok) throw std::runtime_error("BCrypt SHA-256 failed");
  std::string out;
  out.reserve(64);
  for (unsigned char c : md) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace tenure
