#include "common/lifecycle/dn_util.h"

#include <algorithm>
#include <functional>
#include <unordered_map>
#include <vector>

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

// A DN parsed once, with types and values lower-cased the way ldap::dnEquals compares them.
struct NormalizedDn {
  bool parsed = false;
  std::vector<ldap::Rdn> rdns;  // lower-cased
  std::string key;              // see dnKey
};

void normalize(std::string_view dn, NormalizedDn& out) {
  auto rdns = ldap::parseDn(dn);
  // dnEquals compares unparsable DNs as text; the marker keeps them apart from parsed keys.
  if (!rdns.isOk()) {
    out.parsed = false;
    out.rdns.clear();
    out.key = '\x01' + std::string(dn);
    return;
  }
  out.parsed = true;
  out.rdns.clear();
  out.rdns.reserve(rdns->size());
  out.key.assign(1, '\x02');
  for (const auto& rdn : *rdns) {
    out.rdns.push_back({lower(rdn.type), lower(rdn.value)});
    // Length-prefixed: unescaped values may hold any byte.
    for (const std::string* part : {&out.rdns.back().type, &out.rdns.back().value}) {
      out.key += std::to_string(part->size());
      out.key += ':';
      out.key += *part;
    }
  }
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Planning asks about the same few DNs (the policy's OUs and groups, the OUs accounts sit in) for
// every person; parsing them on every question was a quarter of planning time
// (docs/benchmarks.md). The cache is per thread and stops growing at kMaxCached entries, after
// which new DNs are parsed into `scratch` as before; entries are never evicted, so a returned
// reference stays valid.
constexpr size_t kMaxCached = 16384;

const NormalizedDn& normalized(std::string_view dn, NormalizedDn& scratch) {
  thread_local std::unordered_map<std::string, NormalizedDn, StringHash, std::equal_to<>> cache;
  if (auto it = cache.find(dn); it != cache.end()) return it->second;
  if (cache.size() >= kMaxCached) {
    normalize(dn, scratch);
    return scratch;
  }
  NormalizedDn n;
  normalize(dn, n);
  return cache.emplace(std::string(dn), std::move(n)).first->second;
}

}  // namespace

bool dnIsWithin(std::string_view dn, std::string_view base) {
  NormalizedDn d_scratch;
  NormalizedDn b_scratch;
  const NormalizedDn& d = normalized(dn, d_scratch);
  const NormalizedDn& b = normalized(base, b_scratch);
  if (!d.parsed || !b.parsed) return false;
  if (b.rdns.size() > d.rdns.size()) return false;
  return std::equal(b.rdns.rbegin(), b.rdns.rend(), d.rdns.rbegin());
}

bool dnIsWithinAny(std::string_view dn, std::span<const std::string> bases) {
  if (bases.empty()) return false;
  NormalizedDn d_scratch;
  const NormalizedDn& d = normalized(dn, d_scratch);
  if (!d.parsed) return false;
  return std::any_of(bases.begin(), bases.end(), [&](const std::string& base) {
    NormalizedDn b_scratch;
    const NormalizedDn& b = normalized(base, b_scratch);
    return b.parsed && b.rdns.size() <= d.rdns.size() &&
           std::equal(b.rdns.rbegin(), b.rdns.rend(), d.rdns.rbegin());
  });
}

bool dnSame(std::string_view a, std::string_view b) {
  NormalizedDn a_scratch;
  NormalizedDn b_scratch;
  return normalized(a, a_scratch).key == normalized(b, b_scratch).key;
}

std::string dnKey(std::string_view dn) {
  NormalizedDn scratch;
  return normalized(dn, scratch).key;
}

std::string_view dnKeyView(std::string_view dn, std::string& storage) {
  NormalizedDn scratch;
  const NormalizedDn& n = normalized(dn, scratch);
  if (&n != &scratch) return n.key;
  storage = std::move(scratch.key);
  return storage;
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
