#pragma once
// LDAP string representations: escaping of DN attribute values (RFC 4514) and filter assertion
// values (RFC 4515), and a small DN parser so DNs returned by a server can be compared with DNs
// we built. Pure functions; values are byte strings (UTF-8 passes through unchanged).

#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace tenure::ldap {

// One relative distinguished name, e.g. {"CN", "Doe, Jane"} for "CN=Doe\, Jane". Values are
// unescaped. Multi-valued RDNs ("CN=a+UID=b") are not supported (AD does not use them).
struct Rdn {
  std::string type;
  std::string value;
  bool operator==(const Rdn&) const = default;
};

// Escapes an attribute value for use in a DN (RFC 4514): `, + " \ < > ; =` get a backslash, as do
// a leading space or '#' and a trailing space; NUL and other control characters become \XX.
std::string escapeDnValue(std::string_view value);

// Escapes an assertion value for use in a search filter (RFC 4515): `* ( ) \ NUL` become
// \2a \28 \29 \5c \00; bytes that are not valid UTF-8 become \XX so binary values stay exact.
std::string escapeFilterValue(std::string_view value);

// Escapes every byte as \XX (for binary attributes such as objectGUID in a filter).
std::string escapeFilterBytes(std::string_view value);

// "CN=" + escapeDnValue(value); type is used verbatim.
std::string makeRdn(std::string_view type, std::string_view value);

// Parses a DN in either escape form (\, and \2C) into its RDNs, most specific first. Whitespace
// around separators is ignored. The empty DN parses to no RDNs. Errors are class data.
Result<std::vector<Rdn>> parseDn(std::string_view dn);

// The DN without its first RDN, as written (still escaped); "" for a one-RDN or malformed DN.
std::string parentDn(std::string_view dn);

// The first RDN as written (still escaped, trimmed), e.g. "CN=Doe\, Jane".
std::string rdnOf(std::string_view dn);

// True when both DNs name the same entry: attribute types and values compare case-insensitively
// (ASCII) after unescaping; whitespace around separators is ignored. Unparsable DNs compare as
// exact strings.
bool dnEquals(std::string_view a, std::string_view b);

}  // namespace tenure::ldap
