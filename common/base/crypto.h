#pragma once
// Small OpenSSL wrappers: secure random tokens and hashing of secrets before they are stored.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tenure {

// The platform primitives (OpenSSL on Linux: posix/crypto_openssl.cpp; CNG on Windows:
// windows/crypto.cpp). Both throw std::runtime_error only when the OS cannot provide them.
std::vector<unsigned char> randomBytes(size_t n);
std::array<unsigned char, 32> sha256(std::string_view data);

// `bytes` random bytes from the OS CSPRNG, hex encoded (2*bytes characters).
std::string randomHex(size_t bytes);
// A URL-safe random token with `bytes` bytes of entropy (base64url, no padding).
std::string randomToken(size_t bytes = 32);
// Lowercase hex SHA-256 of `data`.
std::string sha256Hex(std::string_view data);
// Constant-time comparison of two strings of equal length (false when lengths differ).
bool constantTimeEquals(std::string_view a, std::string_view b);

}  // namespace tenure
