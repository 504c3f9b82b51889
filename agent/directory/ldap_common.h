#pragma once
// What the two LDAP clients share (OpenLDAP's libldap on Linux: ldap_directory_client.cpp, wldap32
// on Windows: windows/wldap_directory_client.cpp). Both C APIs spell search scopes and modification
// operations with the same macro names, so this header is included after the platform's LDAP
// header and maps the seam's types onto them once.

#ifndef LDAP_SCOPE_SUBTREE
#error "include the platform's LDAP header (<ldap.h> or <winldap.h>) before ldap_common.h"
#endif

#include "agent/directory/directory_client.h"
#include "common/base/status.h"

namespace tenure::agent::ldap_common {

// The status of a call's outcome, for code that retries Status and Result<T> calls alike.
inline const Status& statusOf(const Status& s) { return s; }
template <typename T>
const Status& statusOf(const Result<T>& r) {
  return r.status();
}

inline int scopeOf(SearchScope s) {
  switch (s) {
    case SearchScope::kBase:
      return LDAP_SCOPE_BASE;
    case SearchScope::kOneLevel:
      return LDAP_SCOPE_ONELEVEL;
    case SearchScope::kSubtree:
      return LDAP_SCOPE_SUBTREE;
  }
  return LDAP_SCOPE_SUBTREE;
}

inline int modOpOf(Modification::Op op) {
  switch (op) {
    case Modification::Op::kAdd:
      return LDAP_MOD_ADD;
    case Modification::Op::kDelete:
      return LDAP_MOD_DELETE;
    case Modification::Op::kReplace:
      return LDAP_MOD_REPLACE;
  }
  return LDAP_MOD_REPLACE;
}

}  // namespace tenure::agent::ldap_common
