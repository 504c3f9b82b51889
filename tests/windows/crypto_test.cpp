// The BCrypt crypto backend (common/base/windows/crypto.cpp) gives the same answers as OpenSSL.

#include <gtest/gtest.h>

#include <set>

#include "common/base/crypto.h"

namespace tenure {
namespace {

TEST(WindowsCrypto, Sha256MatchesKnownVectors) {
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256Hex(std::string(1000, 'a')),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

TEST(WindowsCrypto, RandomHexHasRequestedLengthAndDiffers) {
  const std::string a = randomHex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) seen.insert(randomHex(16));
  EXPECT_EQ(seen.size(), 50u);
}

TEST(WindowsCrypto, RandomTokenIsUrlSafeWithoutPadding) {
  const std::string t = randomToken(32);
  EXPECT_EQ(t.size(), 43u);  // 32 bytes -> 43 base64url characters
  EXPECT_EQ(t.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
}

TEST(WindowsCrypto, ConstantTimeEqualsComparesContentAndLength) {
  EXPECT_TRUE(constantTimeEquals("secret", "secret"));
  EXPECT_FALSE(constantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(constantTimeEquals("secret", "secret1"));
}

}  // namespace
}  // namespace tenure
