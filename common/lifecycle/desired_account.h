#pragma once
// Desired account state: what one HR record should look like in the directory under the tenant's
// policy at a given instant (names, place, groups, state, mail). Pure. Uniqueness of names against
// the directory is the job planner's part (job_planner.h): it walks the candidates this offers.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/time_zone.h"
#include "common/hr/hr_record.h"
#include "common/lifecycle/lifecycle_state.h"
#include "common/policy/policy.h"

namespace tenure::lifecycle {

// What the agent supplies besides the policy: its fallbacks, the evaluation instant and the zone.
struct DesiredContext {
  std::string
      users_ou;  // default OU when the policy names none, e.g. "OU=Staff,DC=example,DC=test"
  std::string leavers_ou;  // leavers OU when the policy names none; empty: leavers stay in place
  std::string upn_suffix;  // when the policy names none; empty: from the DC= parts of the users OU
  int64_t now_unix = 0;    // the evaluation instant
  TimeZone time_zone = TimeZone::utc();
  bool exchange_available = false;  // the directory schema has the Exchange attributes
};

// The HR attributes Tenure owns on every user it manages (besides `manager`, which needs
// resolving).
inline constexpr const char* kOwnedAttributes[] = {
    "givenName",  "sn",          "displayName", "department", "title", "physicalDeliveryOfficeName",
    "employeeID", "employeeType"};
inline constexpr const char* kManagerAttribute = "manager";
inline constexpr const char* kMailAttribute = "mail";
inline constexpr const char* kAccountExpiresAttribute = "accountExpires";

// A group the person belongs in, with the rule that says so: "group rule 2
// (department=Engineering)".
// Views of the policy's compiled rules (the DesiredAccount's `rule_texts` keeps them alive): a
// copy of each group's DN and reason per person cost about 1 KB each (docs/benchmarks.md).
struct DesiredGroup {
  std::string_view dn;
  std::string_view reason;
  // dnKey(dn), worked out once per policy; empty when not known (the planner works it out).
  std::string_view key;
};

// The rule texts of one policy (placement and group reasons, group DNs), shared by every
// DesiredAccount built from it.
struct RuleTexts;

// The compiled naming rules of one policy (shared by every DesiredAccount built from it).
struct NamingRules;

struct DesiredAccount {
  std::string employee_id;
  StateDecision state;
  bool enabled = true;

  // Names. sam_account_name / upn / mail are the candidates in use (the first ones to start with).
  std::string sam_base;
  std::string sam_account_name;
  std::string upn;
  std::string display_name;
  std::string cn;            // unescaped
  std::string cn_alternate;  // "<cn> (<employee_id>)", for a CN clash in the OU
  std::string mail_base;     // the local part before numbering; empty when mail is not managed
  std::string mail;          // local@mail_domain, or "" when mail is not managed
  std::string mail_domain;

  // Placement.
  // The OUs and the routing domain are views of the policy's strings, kept alive by rule_texts
  // (a copy of each per person was five allocations and about 200 bytes).
  std::string_view parent_ou;  // where the account belongs now (leavers OU when terminated)
  // "placement rule 1 (department=Sales)", "default OU" (a view like DesiredGroup's).
  std::string_view placement_reason;
  std::string_view active_ou;   // where it belongs while not terminated
  std::string_view leavers_ou;  // "" when leavers stay in place
  // The OUs of other placement rules strictly below active_ou: an account there belongs to the
  // more specific rule. Worked out once per policy (asking the DN cache about every rule's OU for
  // every person showed in profiles); a view into rule_texts.
  std::span<const std::string> nested_ous;
  bool active_ou_in_leavers = false;  // active_ou lies within leavers_ou

  // The values of the owned HR attributes, in kOwnedAttributes order; an empty value means
  // "should not be set". Held in place: a vector of name/value pairs was a 512-byte allocation
  // per person and a copy of every name.
  std::array<std::string, std::size(kOwnedAttributes)> owned_values;
  // accountExpires as AD stores it (FILETIME decimal, or "0" for never).
  std::string account_expires = "0";

  // Groups: the rule groups this person belongs in (among managed_groups). When manage_groups is
  // false (a leaver whose policy keeps groups) memberships are left as they are.
  std::vector<DesiredGroup> groups;
  // Shared by every account built from one policy (one copy per person cost ~3 KB each with a few
  // dozen rule groups); null means none.
  std::shared_ptr<const std::vector<std::string>> managed_groups;
  bool manage_groups = true;
  std::string group_removal_reason;  // set for leavers: "terminated: rule groups removed"

  // Mailbox (Exchange attribute mode).
  bool mailbox_managed = false;      // policy mode auto and the schema has the attributes
  bool mailbox_unavailable = false;  // the policy wants it, the schema does not have it
  std::string_view remote_routing_domain;  // a view like parent_ou's
  bool keep_old_addresses = true;
  bool hidden_from_address_lists = false;

  // Manager: "" means no manager; nullopt means not resolved (yet): the planner leaves it alone.
  std::string manager_employee_id;
  std::optional<std::string> manager_dn;

  int64_t evaluated_at = 0;              // the instant the state was evaluated at (unix)
  std::optional<int> delete_after_days;  // terminated accounts are deleted after this long
  TimeZone time_zone = TimeZone::utc();  // for dates in reasons

  std::shared_ptr<const NamingRules> naming;
  std::shared_ptr<const RuleTexts> rule_texts;  // what placement_reason and groups view
  // Normalized, for re-evaluating name templates; shared with the job planner's PersonPlan.
  std::shared_ptr<const hr::HrRecord> record;

  // Candidate n (1-based) of the sAMAccountName; switching also recomputes the UPN.
  std::string samCandidate(int n) const;
  void useSamCandidate(int n);
  // The UPN for a given sAMAccountName.
  std::string upnFor(const std::string& sam) const;
  // Candidate n of the mail address ("" when mail is not managed).
  std::string mailCandidate(int n) const;
  void useMailCandidate(int n);
  void useAlternateCn() { cn = cn_alternate; }
  // "CN=<escaped cn>,<parent_ou>"
  std::string dn() const;
  const std::string& attribute(const std::string& name) const;
  bool terminated() const { return state.state == LifecycleState::kTerminated; }
};

// The names of an account that already exists. They never change after creation, so the builder
// takes them rather than deriving candidates that the planner would throw away (98% of a typical
// job); later names (mail, cn) see this sAMAccountName.
struct ExistingNames {
  std::string_view sam_account_name;
  std::string_view upn;
};

// Builds desired accounts for one policy; compiles the naming templates once.
class AccountBuilder {
 public:
  // Config error when a naming template does not compile.
  static Result<AccountBuilder> create(const policy::Policy& policy, DesiredContext context);
  // Data errors: invalid dates, an external without an end date, no usable account name.
  Result<DesiredAccount> build(const hr::HrRecord& r) const;
  // The same, keeping `r` rather than a copy. With `existing` (an account with a non-empty
  // sAMAccountName), sam_base is left empty and no sAMAccountName or UPN is derived.
  Result<DesiredAccount> build(std::shared_ptr<const hr::HrRecord> r,
                               const ExistingNames* existing = nullptr) const;
  // The same, filling `d` (default-constructed) in place: the job planner builds into its plan of
  // the person (moving a whole DesiredAccount per person showed in profiles). On error `d` is
  // left partly filled.
  Status buildInto(std::shared_ptr<const hr::HrRecord> r, const ExistingNames* existing,
                   DesiredAccount& d) const;
  const DesiredContext& context() const { return context_; }
  const policy::Policy& policy() const { return *policy_; }

 private:
  AccountBuilder() = default;
  std::shared_ptr<const policy::Policy> policy_;
  std::shared_ptr<const NamingRules> naming_;
  DesiredContext context_;
  std::shared_ptr<const std::vector<std::string>> managed_groups_;
  std::shared_ptr<const RuleTexts> rule_texts_;
};

// One-shot convenience: AccountBuilder::create(policy, context) then build(r).
Result<DesiredAccount> desiredAccount(const hr::HrRecord& r, const policy::Policy& policy,
                                      const DesiredContext& context);

// "department=Engineering, location=Berlin|Munich"; "everyone" for an empty condition.
std::string describeCondition(const policy::Condition& c);

}  // namespace tenure::lifecycle
