#pragma once
// LDAP result codes → Status, the same on every platform (libldap on Linux, wldap32 on Windows).
// Each platform's errorFromLdap builds the message from its own API and classifies with ldapStatus.

#include <string>
#include <string_view>

#include "common/base/status.h"

namespace tenure::agent {

// The C-API (positive) number for a result code: OpenLDAP's negative client-side codes -1..-11
// become 81..91 (-1 -> 81 server down, -5 -> 85 timeout, -11 -> 91 connect error); others unchanged.
int normalizeLdapCode(int rc);

// The Status for a normalized result code (see DirectoryClient for the classes): 0 is ok;
// 68/20 conflict, 49/50 permission, 32 not_found, 51/52/81/85/91 transient,
// 19/21/53/64/65 data, anything else internal. `message` is kept, the code is the native code.
Status ldapStatus(int code, std::string message);

// Maps an LDAP result code to a Status whose message holds `context`, the code's text and the
// server's diagnostic (for AD, "... data 52e, ..."). Defined by each platform's client.
Status errorFromLdap(int rc, std::string_view diagnostic, std::string_view context = "");

}  // namespace tenure::agent
