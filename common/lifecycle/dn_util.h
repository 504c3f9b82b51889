#pragma once
// DN questions the lifecycle engine asks beyond common/ldap/escape.h: containment and the domain.

#include <span>
#include <string>
#include <string_view>

namespace tenure::lifecycle {

// True when `dn` equals `base` or lies below it (compared as ldap::dnEquals compares).
bool dnIsWithin(std::string_view dn, std::string_view base);
// dnIsWithin(dn, base) for some base, `dn` parsed once.
bool dnIsWithinAny(std::string_view dn, std::span<const std::string> bases);
// A key two DNs share exactly when ldap::dnEquals says they are equal: for checking one DN against
// many (group memberships) with one parse each instead of one per pair.
std::string dnKey(std::string_view dn);
// dnKey without the copy: a view of the cached key, or of `storage` when the cache is full (the
// view then lives as long as `storage` is neither changed nor moved).
std::string_view dnKeyView(std::string_view dn, std::string& storage);
// ldap::dnEquals, through the same parsed-once DNs as dnKey.
bool dnSame(std::string_view a, std::string_view b);
// "OU=Users,DC=example,DC=test" → "example.test"; "" when there are no DC= parts.
std::string dnsDomainOf(std::string_view dn);
// "OU=Users,DC=example,DC=test" → "DC=example,DC=test"; "" when there are no DC= parts.
std::string domainRootOf(std::string_view dn);

}  // namespace tenure::lifecycle
