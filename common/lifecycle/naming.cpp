#include "common/lifecycle/naming.h"

#include "common/base/utf8.h"

namespace tenure::lifecycle {

namespace {

std::string lowerAlnum(std::string_view ascii) {
  std::string out;
  for (char c : ascii) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out += c;
  }
  return out;
}

}  // namespace


const std::string& firstNameOf(const hr::HrRecord& r) {
  return r.preferred_name.empty() ? r.given_name : r.preferred_name;
}

std::string samAccountBase(const hr::HrRecord& r) {
  const std::string first = lowerAlnum(transliterate(firstNameOf(r)));
  std::string base = first.empty() ? std::string() : first.substr(0, 1);
  base += lowerAlnum(transliterate(r.family_name));
  if (base.empty()) base = lowerAlnum(r.employee_id).empty() ? "" : "u" + lowerAlnum(r.employee_id);
  if (base.size() > kMaxSamLength) base.resize(kMaxSamLength);
  return base;
}

std::string samAccountCandidate(std::string_view base, int n) {
  if (n <= 1) return std::string(base.substr(0, kMaxSamLength));
  const std::string suffix = std::to_string(n);
  const size_t keep = suffix.size() >= kMaxSamLength ? 0 : kMaxSamLength - suffix.size();
  return std::string(base.substr(0, keep)) + suffix;
}

std::string displayNameOf(const hr::HrRecord& r) {
  const std::string& first = firstNameOf(r);
  if (first.empty()) return r.family_name;
  if (r.family_name.empty()) return first;
  return first + " " + r.family_name;
}

}  // namespace tenure::lifecycle
