#pragma once
// The tenant policy: how HR records become directory state. A JSON document, versioned in the
// tenant store, validated with errors that name the JSON path. Everything here is pure data;
// common/lifecycle applies it. docs/policy.md documents every field.

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/base/status.h"
#include "common/base/zone_database.h"
#include "common/hr/hr_record.h"
#include "common/hr/validation.h"

namespace tenure::policy {

// One naming rule: a template plus the post-processing and limits of the target attribute.
// Template syntax (docs/policy.md): literal text with `{expr}` parts (`{{` and `}}` are literal
// braces); expr is a field name (any canonical HR field: employee_id, given_name, family_name,
// preferred_name, department, title, location, manager_id, employment_type, start_date, end_date,
// status; custom.<name>; and the computed sam_account_name, display_name, upn_suffix,
// mail_domain) or a function call: coalesce(a, b, ...) (first non-empty), first(x, n), last(x, n)
// (code points), lower(x), upper(x), ascii(x) (transliterate), alnum(x) (keep [A-Za-z0-9]),
// strip(x, "chars") (remove those characters), replace(x, "from", "to"), trim(x) (ends trimmed,
// inner white space collapsed). String literals in double quotes (\" and \\ escape).
// name_template.h compiles and applies rules and says in which order the names are computed.
struct NameRule {
  std::string template_text;
  // Applied in order after the template: "transliterate", "lower", "upper", "alnum",
  // "strip_spaces", "trim" (ends trimmed, inner white space collapsed), "mail_local" (keep
  // [a-z0-9._-] after lower-casing, collapse runs of dots, no dot at either end).
  std::vector<std::string> transforms;
  // Code points; 0: no limit. A policy document needs 1 up to the attribute's directory limit
  // (sAMAccountName 20, userPrincipalName 1024, mail local part 64, displayName 256, cn 64).
  size_t max_length = 0;
  // Code points; a shorter result counts as empty and the fallback is used. The default
  // sAMAccountName rule needs 2, so "Liam 王" (a family name with no Latin letters) gets
  // "u<employee_id>" rather than a bare "l" that a hundred such people would exhaust.
  size_t min_length = 1;
  // Numbered 2, 3, ... on collision, cutting the name part to stay within max_length. For mail
  // the template yields the local part only: the number goes before the '@' that the caller
  // appends together with mail_domain.
  bool unique = false;
  std::string fallback_template;  // used when the result is empty (e.g. a name in Chinese script)

  bool operator==(const NameRule&) const = default;
};

struct NamingPolicy {
  // default: first letter of coalesce(preferred, given) + family; transliterate lower alnum; 20;
  // unique; fallback "u{employee_id}"
  NameRule sam_account_name;
  NameRule user_principal_name;  // default: "{sam_account_name}@{upn_suffix}" (not numbered)
  // default local part "{given}.{family}" (ASCII letters and digits), mail_local, 64, unique;
  // fallback "{sam_account_name}"
  NameRule mail;
  NameRule display_name;    // default "{coalesce(preferred_name, given_name)} {family_name}"
  NameRule cn;              // default "{display_name}", 64, unique within its OU
  std::string upn_suffix;   // empty: from the DC= parts of the users OU
  std::string mail_domain;  // empty: no mail address is managed

  bool operator==(const NamingPolicy&) const = default;
};

// A condition on HR fields. Every listed field must match (AND); a field matches when its value
// equals (case-insensitively) one of the listed values. An empty condition matches everyone.
// Field names: any canonical HR field but the names and dates (department, title, location,
// employment_type, status, manager_id, employee_id) and custom.<name>. Case-insensitive covers
// ASCII and the Latin letters U+00C0..U+017F.
struct Condition {
  std::map<std::string, std::vector<std::string>> equals;
  bool matches(const hr::HrRecord& r) const;

  bool operator==(const Condition&) const = default;
};

// A Condition prepared for matching many records (the field names resolved and the ASCII values
// trimmed and lower-cased once); matches exactly what Condition::matches matches.
class CompiledCondition {
 public:
  explicit CompiledCondition(const Condition& c);
  bool matches(const hr::HrRecord& r) const;

 private:
  struct Value {
    std::string text;    // as written
    bool ascii = false;  // then `folded` is trimmed and lower-cased
    std::string folded;
  };
  struct Field {
    std::string name;
    std::string hr::HrRecord::*member = nullptr;  // null: custom.<name> or unknown
    std::vector<Value> values;
  };
  std::vector<Field> fields_;
};

// Many conditions matched against one record at once (a policy's placement and group rules). The
// ASCII values they test are indexed by field, so a record costs one hash lookup per field tested
// instead of a comparison per rule and value (comparing every person with every rule showed in
// profiles, docs/benchmarks.md). Matches exactly what CompiledCondition::matches matches.
class ConditionSet {
 public:
  explicit ConditionSet(const std::vector<const Condition*>& conditions);
  size_t size() const { return conditions_.size(); }
  // matched[i] becomes 1 when condition i matches `r`, else 0 (the vector is resized; passing the
  // same one for every record reuses its storage).
  void matchAll(const hr::HrRecord& r, std::vector<uint32_t>& matched) const;

 private:
  // A clause is one field of one condition.
  struct ViewHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct FieldIndex {
    std::string hr::HrRecord::*member = nullptr;
    std::vector<uint32_t> clauses;       // every clause on this field
    std::vector<uint32_t> slow_clauses;  // those with a value not in ASCII
    // Trimmed, lower-cased ASCII value → the clauses without non-ASCII values it satisfies.
    std::unordered_map<std::string, std::vector<uint32_t>, ViewHash, std::equal_to<>> by_value;
  };
  std::vector<CompiledCondition> conditions_;     // for the conditions not indexed
  std::vector<char> indexed_;                     // per condition: every field is a record member
  std::vector<uint32_t> clause_count_;            // per condition
  std::vector<uint32_t> clause_condition_;        // per clause
  std::vector<CompiledCondition> clause_checks_;  // per clause: its field alone
  std::vector<FieldIndex> fields_;
};

struct PlacementRule {
  Condition when;
  std::string ou;  // DN of the OU

  bool operator==(const PlacementRule&) const = default;
};

struct PlacementPolicy {
  std::string default_ou;            // empty: the agent's users_base_dn
  std::vector<PlacementRule> rules;  // first match wins
  std::string leavers_ou;            // empty: the agent's leavers_ou (or stay in place)
  bool create_missing_ous = false;   // otherwise a missing OU is a config error for that person

  bool operator==(const PlacementPolicy&) const = default;
};

struct GroupRule {
  Condition when;
  std::vector<std::string> groups;  // group DNs

  bool operator==(const GroupRule&) const = default;
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

  bool operator==(const LifecyclePolicy&) const = default;
};

// Rules for one employment type (contractor, intern, vendor, volunteer, partner; employee too).
struct EmploymentTypePolicy {
  bool end_date_required = false;  // default true for every type but employee
  // start_date..end_date may not exceed this many days. Defaults: contractor 730, intern 365,
  // vendor 730, volunteer 365, partner 730, employee none.
  std::optional<int> max_days;

  bool operator==(const EmploymentTypePolicy&) const = default;
};

struct MailboxPolicy {
  // "auto": managed where the directory has the Exchange attributes; "off": never.
  std::string mode = "auto";
  std::string kind = "remote";  // remote (Exchange Online, targetAddress) | attributes (mail only)
  std::string remote_routing_domain;  // e.g. contoso.mail.onmicrosoft.com, for targetAddress
  bool keep_old_addresses = true;     // old primary becomes a secondary smtp: proxyAddress

  bool operator==(const MailboxPolicy&) const = default;
};

// A run over any limit is held until an operator approves or rejects it.
struct Threshold {
  std::optional<int> max_count;
  std::optional<double> max_percent;  // of the accounts the run covers

  bool operator==(const Threshold&) const = default;
};

// Limits across runs: the disables (deletes) of every run let through the plan gate in the last
// `minutes`, plus the run's own, over max_disables (max_deletes) hold the run. Catches a real-time
// source (SCIM: one run per write) taking many people out one run at a time.
struct WindowThreshold {
  int minutes = 60;                     // 1..10080 (a week)
  std::optional<int> max_disables = 50;  // null: no limit
  std::optional<int> max_deletes = 10;

  bool operator==(const WindowThreshold&) const = default;
};

struct ThresholdPolicy {
  Threshold disables;        // default: 50 or 10 %
  Threshold deletes;         // default: 10 or 2 %
  Threshold moves;           // default: 100 or 20 %
  Threshold group_removals;  // default: 200 or 20 %
  int min_population_for_percent =
      50;  // percentages apply only to runs covering at least this many
  std::optional<WindowThreshold> window;  // default: WindowThreshold{}; nullopt: off

  bool operator==(const ThresholdPolicy&) const = default;
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

  // Every group some rule names: the only groups Tenure adds or removes members of. In rule
  // order, each DN once (DNs compared as the directory does: case-insensitively, escapes undone).
  std::vector<std::string> managedGroups() const;

  bool operator==(const Policy&) const = default;
};

// One problem in a policy document: the JSON path ("/groups/2/when/department") and the reason.
struct PolicyError {
  std::string path;
  std::string reason;

  bool operator==(const PolicyError&) const = default;
  std::string toString() const { return path + ": " + reason; }
};

// The documented default policy (docs/policy.md).
Policy defaultPolicy();

// Parses and validates a policy document. Missing fields take their defaults (field by field: a
// naming rule that gives only "template" keeps the default transforms and limits); unknown fields
// are errors. On failure, `errors` (may be null) lists every problem found (not just the first)
// and the Status is a kData error whose message joins them. Time zones are checked against
// `zones` (default: systemZoneDatabase(), i.e. $TZDIR or /usr/share/zoneinfo on POSIX): "UTC"
// always passes; where the database is not complete (no tz database, as on Windows) a zone it
// lacks is checked for its name's form only.
Result<Policy> parsePolicy(const boost::json::value& doc, std::vector<PolicyError>* errors);
Result<Policy> parsePolicy(const boost::json::value& doc, std::vector<PolicyError>* errors,
                           const ZoneDatabase& zones);
// Validates a policy built in code (the same checks as parsePolicy, e.g. for defaultPolicy()).
std::vector<PolicyError> validatePolicy(const Policy& p);
std::vector<PolicyError> validatePolicy(const Policy& p, const ZoneDatabase& zones);
// The policy as a JSON document (every field, defaults included); parsePolicy(toJson(p)) == p.
boost::json::value toJson(const Policy& p);
// The first run of the cron expression `cron` after `after_ms`, in the policy's time zone (ms).
// Data error for a bad expression, not_found when it never runs.
Result<int64_t> nextCronRunMs(const Policy& p, const std::string& cron, int64_t after_ms);
// The policy's employment-type rules in the form the HR validator applies them.
hr::EmploymentRules employmentRules(const Policy& p);
// The policy an agent is sent with a job: everything it applies, without what only the control
// plane judges (thresholds.window, counted across runs). Agents released before the window
// existed refuse a policy with a field they do not know.
Policy agentPolicy(const Policy& p);

}  // namespace tenure::policy
