#pragma once
// Desired account state: what one HR record should look like in the directory under a policy.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/hr/hr_record.h"

namespace tenure::lifecycle {

// Where and how accounts are placed. An empty leavers_ou keeps leavers where they are.
struct AccountPolicy {
  std::string users_ou;    // e.g. "OU=Staff,DC=example,DC=test"
  std::string leavers_ou;  // e.g. "OU=Leavers,DC=example,DC=test", or empty
  std::string upn_suffix;  // e.g. "example.test"
};

// The directory attributes Tenure owns on a user (besides `manager`, which needs resolving).
// Attributes not listed here are never read for comparison and never written on an existing account.
inline constexpr const char* kOwnedAttributes[] = {
    "givenName", "sn",         "displayName", "department", "title", "physicalDeliveryOfficeName",
    "employeeID", "employeeType"};
inline constexpr const char* kManagerAttribute = "manager";

struct DesiredAccount {
  std::string employee_id;
  std::string status;  // active | leave | terminated (normalized HR status)
  std::string sam_base;
  std::string sam_account_name;  // the candidate in use (starts as the base)
  std::string upn_suffix;
  std::string upn;                // sam_account_name@upn_suffix
  std::string cn;                 // displayName, unescaped
  std::string cn_alternate;       // "displayName (employee_id)" for a CN clash in the OU
  std::string parent_ou;          // where the account belongs now
  std::string users_ou;
  std::string leavers_ou;
  bool enabled = true;
  // Owned attributes in kOwnedAttributes order; an empty value means "should not be set".
  std::vector<std::pair<std::string, std::string>> attributes;
  std::string manager_employee_id;
  // The manager's DN once resolved: "" means no manager; nullopt means not resolved (yet), and the
  // planner leaves `manager` alone.
  std::optional<std::string> manager_dn;

  // Candidate n (1-based) of the sAMAccountName.
  std::string samCandidate(int n) const;
  // Switches to candidate n (updates the UPN too).
  void useSamCandidate(int n);
  void useAlternateCn() { cn = cn_alternate; }
  // "CN=<escaped cn>,<parent_ou>"
  std::string dn() const;
  // Value of an owned attribute ("" when it should not be set).
  const std::string& attribute(const std::string& name) const;
};

DesiredAccount desiredAccount(const hr::HrRecord& r, const AccountPolicy& policy);

}  // namespace tenure::lifecycle
