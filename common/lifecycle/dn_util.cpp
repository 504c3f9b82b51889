#include "common/lifecycle/dn_util.h"

#include <algorithm>

#include "common/ldap/escape.h"

namespace tenure::lifecycle {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool rdnEquals(const ldap::Rdn& a, const ldap::Rdn& b) {
  return lower(a.type) == lower(b.type) && lower(a.value) == lower(b.value);
}

}  // namespace

bool dnIsWithin(std::string_view dn, std::string_view base) {
  auto d = ldap::parseDn(dn);
  auto b = ldap::parseDn(base);
  if (!d.isOk() || !b.isOk()) return false;
  if (b->size() > d->size()) return false;
  return std::equal(b->rbegin(), b->rend(), d->rbegin(), rdnEquals);
}

std::string dnKey(std::string_view dn) {
  auto rdns = ldap::parseDn(dn);
  // dnEquals compares unparsable DNs as text; the marker keeps them apart from parsed keys.
  if (!rdns.isOk()) return '\x01' + std::string(dn);
  std::string key(1, '\x02');
  for (const auto& rdn : *rdns) {
    // Length-prefixed: unescaped values may hold any byte.
    for (const std::string* part : {&rdn.type, &rdn.value}) {
      key += std::to_string(part->size());
      key += ':';
      key += lower(*part);
    }
  }
  return key;
}

std::string dnsDomainOf(std::string_view dn) {
  auto rdns = ldap::parseDn(dn);
  if (!rdns.isOk()) return {};
  std::string out;
  for (const auto& rdn : *rdns) {
    if (lower(rdn.type) != "dc") continue;
    if (!out.empty()) out += '.';
    out += lower(rdn.value);
  }
  return out;
}

std::string domainRootOf(std::string_view dn) {
  auto rdns = ldap::parseDn(dn);
  if (!rdns.isOk()) return {};
  std::string out;
  for (const auto& rdn : *rdns) {
    if (lower(rdn.type) != "dc") continue;
    if (!out.empty()) out += ',';
    out += ldap::makeRdn("DC", rdn.value);
  }
  return out;
}

}  // namespace tenure::lifecycle
