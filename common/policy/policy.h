#pragma once
// The tenant policy: how HR records become directory state. A JSON document, versioned in the
// tenant store, validated with errors that name the JSON path. Everything here is pure data;
// common/lifecycle applies it. docs/policy.md documents every field.

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/hr/hr_record.h"

namespace tenure::policy {

// One naming rule: a template plus the post-processing and limits of the target attribute.
// Template syntax (docs/policy.md): literal text with `{expr}` parts; expr is a field name
// (employee_id, given_name, family_name, preferred_name, department, title, location,
// employment_type, custom.<name>, and the computed sam_account_name, display_name, upn_suffix,
// mail_domain) or a function call: coalesce(a, b, ...), first(x, n), last(x, n), lower(x),
// upper(x), ascii(x) (transliterate), alnum(x) (keep [A-Za-z0-9]), strip(x, "chars") (remove
// those characters), replace(x, "from", "to"), trim(x). String literals in double quotes.
struct NameRule {
  std::string template_text;
  // Applied in order after the template: "transliterate", "lower", "upper", "alnum",
  // "strip_spaces", "mail_local" (keep [a-z0-9._-], collapse dots).
  std::vector<std::string> transforms;
  size_t max_length = 0;     // 0: no limit
  bool unique = false;       // numbered 2, 3, ... on collision, truncating to stay within max_length
  std::string fallback_template;  // used when the result is empty (e.g. a name in Chinese script)
};

struct NamingPolicy {
  NameRule sam_account_name;   // default: first(coalesce(preferred,given),1)+family; ascii lower alnum, 20, unique
  NameRule user_principal_name;  // default: "{sam_account_name}@{upn_suffix}"
  NameRule mail;               // default local part "{given_name}.{family_name}", mail_local, unique
  NameRule display_name;       // default "{coalesce(preferred_name, given_name)} {family_name}"
  NameRule cn;                 // default "{display_name}"
  std::string upn_suffix;      // empty: from the DC= parts of the users OU
  std::string mail_domain;     // empty: no mail address is managed
};

// A condition on HR fields. Every listed field must match (AND); a field matches when its value
// equals (case-insensitively) one of the listed values. An empty condition matches everyone.
// Field names: department, title, location, employment_type, status, custom.<name>.
struct Condition {
  std::map<std::string, std::vector<std::string>> equals;
  bool matches(const hr::HrRecord& r) const;
};

struct PlacementRule {
  Condition when;
  std::string ou;  // DN of the OU
};

struct PlacementPolicy {
  std::string default_ou;  // empty: the agent's users_base_dn
  std::vector<PlacementRule> rules;  // first match wins
  std::string leavers_ou;  // empty: the agent's leavers_ou (or stay in place)
  bool create_missing_ous = false;  // otherwise a missing OU is a config error for that person
};

struct GroupRule {
  Condition when;
  std::vector<std::string> groups;  // group DNs
};

// What happens at each state. Defaults in parentheses.
struct LifecyclePolicy {
  std::string time_zone = "UTC";  // IANA name; effective dates are evaluated in it
  int prehire_days = 7;           // created disabled this many days before start_date
  // Leave: disabled (true); groups kept.
  bool leave_disables = true;
  // Terminated:
  bool leaver_remove_rule_groups = true;
  bool leaver_move_to_leavers_ou = true;
  bool leaver_hide_from_address_lists = true;
  bool leaver_set_account_expires = true;
  std::optional<int> delete_after_days;  // nullopt: never delete
  // A leaver's sAMAccountName, UPN and mail are not given to anyone else for this long after the
  // account is deleted; nullopt: never reused.
  std::optional<int> name_reuse_days;
};

// Rules for one employment type (contractor, intern, vendor, volunteer, partner; employee too).
struct EmploymentTypePolicy {
  bool end_date_required = false;  // default true for every type but employee
  std::optional<int> max_days;     // start_date..end_date may not exceed this
};

struct MailboxPolicy {
  // "auto": managed where the directory has the Exchange attributes; "off": never.
  std::string mode = "auto";
  std::string kind = "remote";  // remote (Exchange Online, targetAddress) | attributes (mail only)
  std::string remote_routing_domain;  // e.g. contoso.mail.onmicrosoft.com, for targetAddress
  bool keep_old_addresses = true;     // old primary becomes a secondary smtp: proxyAddress
};

// A run over any limit is held until an operator approves or rejects it.
struct Threshold {
  std::optional<int> max_count;
  std::optional<double> max_percent;  // of the accounts the run covers
};

struct ThresholdPolicy {
  Threshold disables;  // default: 50 or 10 %
  Threshold deletes;   // default: 10 or 2 %
  Threshold moves;     // default: 100 or 20 %
  Threshold group_removals;  // default: 200 or 20 %
  int min_population_for_percent = 50;  // percentages apply only to runs covering at least this many
};

struct Policy {
  int version = 0;  // set by the store when saved
  NamingPolicy naming;
  PlacementPolicy placement;
  std::vector<GroupRule> groups;
  LifecyclePolicy lifecycle;
  std::map<std::string, EmploymentTypePolicy> employment_types;
  MailboxPolicy mailbox;
  ThresholdPolicy thresholds;

  // Every group some rule names: the only groups Tenure adds or removes members of.
  std::vector<std::string> managedGroups() const;
};

// One problem in a policy document: the JSON path ("/groups/2/when/department") and the reason.
struct PolicyError {
  std::string path;
  std::string reason;
};

// The documented default policy (docs/policy.md).
Policy defaultPolicy();

// Parses and validates a policy document. Missing fields take their defaults. On failure,
// `errors` lists every problem found (not just the first) and the Status is a kData error.
Result<Policy> parsePolicy(const boost::json::value& doc, std::vector<PolicyError>* errors);
// The policy as a JSON document (every field, defaults included); parsePolicy(toJson(p)) == p.
boost::json::value toJson(const Policy& p);

}  // namespace tenure::policy
