#include "agent/directory/ldap_errors.h"

namespace tenure::agent {

int normalizeLdapCode(int rc) {
  // OpenLDAP numbers its client-side errors -1..-11 where RFC 1823 / wldap32 use 0x51..0x5b.
  if (rc <= -1 && rc >= -11) return 0x50 - rc;
  return rc;
}

Status ldapStatus(int code, std::string message) {
  switch (code) {
    case 0:
      return Status::ok();
    case 68:  // already exists
    case 20:  // type or value exists
      return conflictError(std::move(message), code);
    case 49:  // invalid credentials
    case 50:  // insufficient access
      return permissionError(std::move(message), code);
    case 32:  // no such object
      return notFoundError(std::move(message), code);
    case 51:  // busy
    case 52:  // unavailable
    case 81:  // server down
    case 85:  // timeout
    case 91:  // connect error
      return transientError(std::move(message), code);
    case 19:  // constraint violation
    case 21:  // invalid syntax
    case 53:  // unwilling to perform
    case 64:  // naming violation
    case 65:  // object class violation
      return dataError(std::move(message), code);
    default:
      return internalError(std::move(message), code);
  }
}

}  // namespace tenure::agent
