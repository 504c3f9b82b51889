#include "common/base/status.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/base/crypto.h"

namespace tenure {
namespace {

Result<int> half(int x) {
  if (x % 2) return dataError("odd number " + std::to_string(x));
  return x / 2;
}

Result<int> quarter(int x) {
  ASSIGN_OR_RETURN(int h, half(x));
  ASSIGN_OR_RETURN(int q, half(h));
  return q;
}

TEST(StatusTest, OkStatusHasNoErrorClass) {
  Status s;
  EXPECT_TRUE(s.isOk());
  EXPECT_EQ(s.toString(), "ok");
}

TEST(StatusTest, ErrorKeepsClassMessageAndNativeCode) {
  Status s = conflictError("entry exists", 68);
  EXPECT_FALSE(s.isOk());
  EXPECT_EQ(s.errorClass(), ErrorClass::kConflict);
  EXPECT_EQ(s.nativeCode(), 68);
  EXPECT_EQ(s.toString(), "conflict: entry exists (code 68)");
  EXPECT_EQ(s.withContext("add CN=x").message(), "add CN=x: entry exists");
}

TEST(StatusTest, ErrorClassNamesRoundTrip) {
  for (auto c : {ErrorClass::kTransient, ErrorClass::kPermission, ErrorClass::kData,
                 ErrorClass::kConflict, ErrorClass::kConfig, ErrorClass::kNotFound,
                 ErrorClass::kInternal}) {
    EXPECT_EQ(errorClassFromName(errorClassName(c)), c);
  }
  EXPECT_FALSE(errorClassFromName("bogus").has_value());
}

TEST(ResultTest, AssignOrReturnPropagatesTheFirstError) {
  EXPECT_EQ(quarter(8).value(), 2);
  auto r = quarter(6);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().message(), "odd number 3");
}

Result<std::vector<std::string>> names() {
  return std::vector<std::string>{"a long name that lives on the heap", "another heap name"};
}

// Taken from a temporary Result, the value outlives the Result: range-for over `.value()` or
// `*` of a call is safe (under ASan a reference into the destroyed Result would be caught here).
TEST(ResultTest, ValueOfATemporaryOutlivesIt) {
  std::vector<std::string> seen;
  for (const auto& n : names().value()) seen.push_back(n);
  for (const auto& n : *names()) seen.push_back(n);
  auto&& kept = names().value();
  EXPECT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[3], "another heap name");
  EXPECT_EQ(kept.front(), "a long name that lives on the heap");
  auto r = names();
  std::vector<std::string> moved = std::move(r).value();
  EXPECT_EQ(moved.size(), 2u);
}

TEST(CryptoTest, TokensAreRandomAndHashesAreStable) {
  EXPECT_NE(randomToken(), randomToken());
  EXPECT_EQ(randomHex(16).size(), 32u);
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(constantTimeEquals("abc", "abc"));
  EXPECT_FALSE(constantTimeEquals("abc", "abd"));
  EXPECT_FALSE(constantTimeEquals("abc", "abcd"));
}

}  // namespace
}  // namespace tenure
