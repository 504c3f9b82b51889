#pragma once
// What to do about a failure: a table from the error class, the directory's result code (LDAP rc)
// and well-known markers in the message to an actionable hint for the tenant's IT.

#include <string>
#include <string_view>
#include <vector>

namespace tenure::cp {

struct ErrorContext {
  std::string_view error_class;  // errorClassName(): transient, permission, data, conflict, ...
  int directory_code = 0;        // LDAP result code, 0 when none
  std::string_view message;      // the directory's (or agent's) own message
  std::string_view dn;           // the entry the failing operation acted on, when known
  std::vector<std::string> changes;  // the outcome's changes (e.g. "manager_unresolved")
};

// A sentence saying how to fix the failure; never empty (a generic hint when nothing matches).
std::string errorHint(const ErrorContext& e);

}  // namespace tenure::cp
