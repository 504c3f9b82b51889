// common/base/crypto.h on Windows: random bytes and SHA-256 from CNG (BCrypt), the OS's own
// FIPS-validated provider, so the Windows agent carries no OpenSSL.

#include "common/base/crypto.h"

#include <windows.h>
#include <bcrypt.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace tenure {

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

std::array<unsigned char, 32> sha256(std::string_view data) {
  // One provider handle for the process: opening it is the expensive part, and it is thread-safe.
  static const BCRYPT_ALG_HANDLE alg = [] {
    BCRYPT_ALG_HANDLE h = nullptr;
    if (!BCRYPT_SUCCESS(BCryptOpenAlgorithmProvider(&h, BCRYPT_SHA256_ALGORITHM, nullptr, 0))) {
      throw std::runtime_error("BCryptOpenAlgorithmProvider(SHA-256) failed");
    }
    return h;
  }();
  std::array<unsigned char, 32> md{};
  BCRYPT_HASH_HANDLE hash = nullptr;
  bool ok = BCRYPT_SUCCESS(BCryptCreateHash(alg, &hash, nullptr, 0, nullptr, 0, 0));
  ok = ok && BCRYPT_SUCCESS(BCryptHashData(
                 hash, reinterpret_cast<PUCHAR>(const_cast<char*>(data.data())),
                 static_cast<ULONG>(data.size()), 0));
  ok = ok && BCRYPT_SUCCESS(BCryptFinishHash(hash, md.data(), static_cast<ULONG>(md.size()), 0));
  if (hash != nullptr) BCryptDestroyHash(hash);
  if (!ok) throw std::runtime_error("BCrypt SHA-256 failed");
  return md;
}

}  // namespace tenure
