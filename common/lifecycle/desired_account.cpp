#include "common/lifecycle/desired_account.h"

#include "common/ldap/escape.h"
#include "common/lifecycle/dn_util.h"
#include "common/lifecycle/naming.h"

namespace tenure::lifecycle {

std::string DesiredAccount::samCandidate(int n) const { return samAccountCandidate(sam_base, n); }

void DesiredAccount::useSamCandidate(int n) {
  sam_account_name = samCandidate(n);
  upn = upn_suffix.empty() ? sam_account_name : sam_account_name + "@" + upn_suffix;
}

std::string DesiredAccount::dn() const {
  return "CN=" + ldap::escapeDnValue(cn) + "," + parent_ou;
}

const std::string& DesiredAccount::attribute(const std::string& name) const {
  static const std::string kEmpty;
  for (const auto& [k, v] : attributes) {
    if (k == name) return v;
  }
  return kEmpty;
}

DesiredAccount desiredAccount(const hr::HrRecord& r, const AccountPolicy& policy) {
  DesiredAccount d;
  d.employee_id = r.employee_id;
  d.status = r.status.empty() ? "active" : r.status;
  d.sam_base = samAccountBase(r);
  d.upn_suffix = policy.upn_suffix;
  d.useSamCandidate(1);
  d.cn = displayNameOf(r);
  d.cn_alternate = d.cn + " (" + r.employee_id + ")";
  d.users_ou = policy.users_ou;
  d.leavers_ou = policy.leavers_ou;
  d.enabled = d.status == "active";
  d.parent_ou = (d.status == "terminated" && !policy.leavers_ou.empty()) ? policy.leavers_ou
                                                                         : policy.users_ou;
  d.attributes = {
      {"givenName", r.given_name},
      {"sn", r.family_name},
      {"displayName", displayNameOf(r)},
      {"department", r.department},
      {"title", r.title},
      {"physicalDeliveryOfficeName", r.location},
      {"employeeID", r.employee_id},
      {"employeeType", r.employment_type.empty() ? "employee" : r.employment_type},
  };
  d.manager_employee_id = r.manager_id;
  if (r.manager_id.empty()) d.manager_dn = std::string();
  return d;
}

}  // namespace tenure::lifecycle
