#include <array>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/executor/job_executor.h"
#include "common/base/crypto.h"

namespace tenure::agent {

namespace {

constexpr std::string_view kUpper = "ABCDEFGHJKLMNPQRSTUVWXYZ";
constexpr std::string_view kLower = "abcdefghijkmnopqrstuvwxyz";
constexpr std::string_view kDigits = "23456789";
constexpr std::string_view kSymbols = "!#%+-.:=?@_~";
constexpr size_t kLength = 24;

// Uniform index in [0, n) from the OS CSPRNG (rejection sampling avoids modulo bias).
size_t randomIndex(size_t n) {
  const unsigned limit = 256 - (256 % n);
  for (;;) {
    // randomBytes throws when the OS has no entropy: never hand out a weak password.
    const unsigned char b = randomBytes(1)[0];
    if (b < limit) return b % n;
  }
}

}  // namespace

std::string generateInitialPassword() {
  const std::array<std::string_view, 4> classes = {kUpper, kLower, kDigits, kSymbols};
  std::string all;
  for (auto c : classes) all += c;
  std::string pw;
  for (auto c : classes) pw += c[randomIndex(c.size())];  // one of each class
  while (pw.size() < kLength) pw += all[randomIndex(all.size())];
  for (size_t i = pw.size() - 1; i > 0; --i) std::swap(pw[i], pw[randomIndex(i + 1)]);
  return pw;
}

}  // namespace tenure::agent
