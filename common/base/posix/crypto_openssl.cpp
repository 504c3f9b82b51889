// common/base/crypto.h primitives on Linux: OpenSSL.

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "common/base/crypto.h"

namespace tenure {

std::vector<unsigned char> randomBytes(size_t n) {
  std::vector<unsigned char> buf(n);
  if (n > 0 && RAND_bytes(buf.data(), static_cast<int>(n)) != 1) {
    // Without entropy nothing secret can be made; this is not recoverable.
    throw std::runtime_error("RAND_bytes failed");
  }
  return buf;
}

std::array<unsigned char, 32> sha256(std::string_view data) {
  std::array<unsigned char, 32> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != md.size()) {
    throw std::runtime_error("SHA-256 failed");
  }
  return md;
}

}  // namespace tenure
