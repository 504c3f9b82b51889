#include "controlplane/reports/error_hints.h"

#include <algorithm>
#include <cctype>

#include "common/ldap/escape.h"

namespace tenure::cp {

namespace {

bool contains(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) ==
                                 std::tolower(static_cast<unsigned char>(b));
                        });
  return it != haystack.end();
}

// The OU an operation needs rights on: the parent of the entry, or the entry itself when it has
// no parent in the message.
std::string ouOf(std::string_view dn) {
  if (dn.empty()) return "the target OU";
  std::string parent = ldap::parentDn(dn);
  return parent.empty() ? std::string(dn) : parent;
}

}  // namespace

std::string errorHint(const ErrorContext& e) {
  const std::string ou = ouOf(e.dn);
  const bool manager_unresolved =
      std::find(e.changes.begin(), e.changes.end(), "manager_unresolved") != e.changes.end();
  if (manager_unresolved || (contains(e.message, "manager") && contains(e.message, "not found"))) {
    return "The manager named in HR has no account (yet): check the manager's employee_id in the "
           "HR record, and that the manager is included in an upload; the link is set on the "
           "next run once the manager exists.";
  }
  if (contains(e.message, "manager") && contains(e.message, "cycle")) {
    return "The HR manager chain loops back to this person: correct manager_id in HR.";
  }
  switch (e.directory_code) {
    case 50:  // insufficientAccessRights
      return "The agent's service account may not do this: grant it 'Create/Delete User objects', "
             "'Write all properties' and 'Reset password' on " + ou +
             " (Active Directory Users and Computers → Delegate Control), then rerun.";
    case 49:  // invalidCredentials
      return "The agent could not bind: check the service account's password in the agent's "
             "password_file and that the account is neither locked nor expired.";
    case 19:  // constraintViolation
      if (contains(e.message, "password") || contains(e.message, "0000052D")) {
        return "The domain's password policy refused the initial password: relax the minimum "
               "length/history for the service-created accounts or raise the generated length.";
      }
      return "Active Directory refused a value (constraint violation): check lengths and formats "
             "of the HR fields written (e.g. title ≤ 128, sAMAccountName ≤ 20 characters) and "
             "unique attributes such as userPrincipalName or mail already used elsewhere.";
    case 32:  // noSuchObject
      return "A DN does not exist: " + ou +
             " is missing. Create the OU or fix the placement rule (or set "
             "placement.create_missing_ous) in the tenant policy.";
    case 68:  // entryAlreadyExists
    case 20:  // attributeOrValueExists
      return "An entry or value with this name already exists: an unmanaged account may hold the "
             "name; give it the person's employeeID to let Tenure adopt it, or rename it.";
    case 53:  // unwillingToPerform
      return "The domain controller refused the operation (unwilling to perform): typically the "
             "password cannot be set over an unencrypted connection — use ldaps:// or StartTLS.";
    case 21:  // invalidAttributeSyntax
    case 34:  // invalidDNSyntax
    case 64:  // namingViolation
      return "A value has an invalid syntax for Active Directory: check the HR fields for "
             "unusual characters and the naming templates in the tenant policy.";
    case 65:  // objectClassViolation
    case 17:  // undefinedAttributeType
      return "The directory schema lacks an attribute Tenure writes (e.g. Exchange attributes "
             "without the Exchange schema): remove the mailbox rule or extend the schema.";
    case 51:
    case 52:
    case 81:
    case 85:
    case 91:
      return "The domain controller was busy or unreachable: check the agent host's network path "
             "to the DC (ports 636/389); the next run retries automatically.";
    default:
      break;
  }
  if (contains(e.message, "OU") && contains(e.message, "does not exist")) {
    return "The target OU is missing: create " + ou +
           " or fix the placement rule in the tenant policy.";
  }
  const std::string_view c = e.error_class;
  if (c == "permission") {
    return "Permission denied: grant the agent's service account the needed rights on " + ou + ".";
  }
  if (c == "config") {
    return "A configuration problem stops this: check the tenant policy (OUs, templates, time "
           "zone) and the agent's configuration.";
  }
  if (c == "data") {
    return "The HR data for this person cannot be applied as is: correct the record in HR and "
           "upload it again.";
  }
  if (c == "conflict") {
    return "Another entry conflicts with this one (name or value in use): resolve the clash in "
           "the directory, then rerun.";
  }
  if (c == "transient") {
    return "A temporary failure (network, timeout, busy server): the next run retries; if it "
           "persists, check connectivity between the agent and its domain controller.";
  }
  if (c == "not_found") {
    return "Something the operation needs does not exist (OU, group or account): check the "
           "policy's OUs and groups.";
  }
  return "Unexpected error: check the agent's log around the run's time and report it to your "
         "service provider with the run id.";
}

}  // namespace tenure::cp
