#include "common/lifecycle/desired_account.h"

#include <map>
#include <optional>
#include <unordered_map>

#include "common/ldap/escape.h"
#include "common/lifecycle/dn_util.h"
#include "common/policy/name_template.h"

namespace tenure::lifecycle {

struct NamingRules {
  policy::CompiledNameRule sam;
  policy::CompiledNameRule upn;
  policy::CompiledNameRule mail;
  policy::CompiledNameRule display;
  policy::CompiledNameRule cn;
  std::string upn_suffix;
  std::string mail_domain;
  // upn_suffix and mail_domain for the templates, shared by every person's context.
  std::map<std::string, std::string, std::less<>> shared;

  policy::NameContext contextFor(const hr::HrRecord& r) const {
    policy::NameContext ctx;
    ctx.record = &r;
    ctx.shared = &shared;
    return ctx;
  }
};

struct RuleTexts {
  std::vector<std::string> placement_reasons;  // per placement rule
  // The placement rules' conditions, then the group rules'.
  std::optional<policy::ConditionSet> conditions;
  struct GroupRule {
    std::string reason;               // "group rule 2 (department=Engineering)"
    std::vector<std::string> groups;  // as the rule names them
    std::vector<std::string> keys;    // their dnKey
    std::vector<size_t> group_ids;    // same DN (dnKey) ⇔ same id
  };
  std::vector<GroupRule> group_rules;
  size_t distinct_groups = 0;
  // Per placement choice (0: the default OU, i + 1: rule i): its OU, the rule OUs strictly below
  // it, and whether it lies within the leavers OU.
  std::vector<std::string> placement_ous;
  std::vector<std::vector<std::string>> nested_ous;
  std::vector<char> in_leavers;
  std::string leavers_ou;  // "" when leavers stay in place
  std::string remote_routing_domain;
};

namespace {

Result<policy::CompiledNameRule> compileNamed(const policy::NameRule& rule, const char* name) {
  auto compiled = policy::compileRule(rule);
  if (!compiled.isOk()) {
    return configError(std::string("naming.") + name + ": " + compiled.status().message());
  }
  return compiled;
}

// The mail local part for `sam` (the default mail rule falls back to the sAMAccountName).
std::string mailBaseFor(const NamingRules& n, const hr::HrRecord& r, const std::string& display,
                        const std::string& sam) {
  if (n.mail_domain.empty()) return "";
  policy::NameContext ctx = n.contextFor(r);
  ctx.display_name = &display;
  ctx.sam_account_name = &sam;
  return policy::applyRule(n.mail, ctx);
}

}  // namespace

std::string describeCondition(const policy::Condition& c) {
  if (c.equals.empty()) return "everyone";
  std::string out;
  for (const auto& [field, values] : c.equals) {
    if (!out.empty()) out += ", ";
    out += field + "=";
    for (size_t i = 0; i < values.size(); ++i) out += (i ? "|" : "") + values[i];
  }
  return out;
}

std::string DesiredAccount::samCandidate(int n) const {
  return policy::numberedCandidate(naming->sam.rule, sam_base, n);
}

std::string DesiredAccount::upnFor(const std::string& sam) const {
  policy::NameContext ctx = naming->contextFor(*record);
  ctx.display_name = &display_name;
  ctx.sam_account_name = &sam;
  return policy::applyRule(naming->upn, ctx);
}

void DesiredAccount::useSamCandidate(int n) {
  sam_account_name = samCandidate(n);
  upn = upnFor(sam_account_name);
  // A mail rule may fall back to the sAMAccountName.
  const std::string base = mailBaseFor(*naming, *record, display_name, sam_account_name);
  if (base != mail_base) {
    mail_base = base;
    useMailCandidate(1);
  }
}

std::string DesiredAccount::mailCandidate(int n) const {
  if (mail_base.empty() || mail_domain.empty()) return "";
  // One string: the number takes at most a few digits.
  std::string out;
  out.reserve(mail_base.size() + 4 + 1 + mail_domain.size());
  policy::appendNumberedCandidate(naming->mail.rule, mail_base, n, out);
  out += '@';
  out += mail_domain;
  return out;
}

void DesiredAccount::useMailCandidate(int n) { mail = mailCandidate(n); }

std::string DesiredAccount::dn() const {
  std::string out = "CN=" + ldap::escapeDnValue(cn) + ",";
  out += parent_ou;
  return out;
}

const std::string& DesiredAccount::attribute(const std::string& name) const {
  static const std::string kEmpty;
  for (size_t i = 0; i < owned_values.size(); ++i) {
    if (name == kOwnedAttributes[i]) return owned_values[i];
  }
  return kEmpty;
}

Result<AccountBuilder> AccountBuilder::create(const policy::Policy& policy,
                                              DesiredContext context) {
  auto n = std::make_shared<NamingRules>();
  const policy::NamingPolicy& np = policy.naming;
  ASSIGN_OR_RETURN(n->sam, compileNamed(np.sam_account_name, "sam_account_name"));
  ASSIGN_OR_RETURN(n->upn, compileNamed(np.user_principal_name, "user_principal_name"));
  ASSIGN_OR_RETURN(n->mail, compileNamed(np.mail, "mail"));
  ASSIGN_OR_RETURN(n->display, compileNamed(np.display_name, "display_name"));
  ASSIGN_OR_RETURN(n->cn, compileNamed(np.cn, "cn"));
  const std::string default_ou =
      policy.placement.default_ou.empty() ? context.users_ou : policy.placement.default_ou;
  if (default_ou.empty()) return configError("no users OU: the policy and the agent name none");
  n->upn_suffix = !np.upn_suffix.empty()        ? np.upn_suffix
                  : !context.upn_suffix.empty() ? context.upn_suffix
                                                : dnsDomainOf(default_ou);
  n->mail_domain = np.mail_domain;
  n->shared = {{"upn_suffix", n->upn_suffix}, {"mail_domain", n->mail_domain}};

  AccountBuilder b;
  b.policy_ = std::make_shared<const policy::Policy>(policy);
  b.naming_ = std::move(n);
  b.context_ = std::move(context);
  b.managed_groups_ = std::make_shared<const std::vector<std::string>>(policy.managedGroups());
  auto texts = std::make_shared<RuleTexts>();
  texts->placement_ous.push_back(default_ou);
  for (size_t i = 0; i < policy.placement.rules.size(); ++i) {
    const policy::PlacementRule& rule = policy.placement.rules[i];
    texts->placement_ous.push_back(rule.ou);
    texts->placement_reasons.push_back("placement rule " + std::to_string(i + 1) + " (" +
                                   describeCondition(rule.when) + ")");
  }
  if (policy.lifecycle.leaver_move_to_leavers_ou) {
    texts->leavers_ou =
        policy.placement.leavers_ou.empty() ? b.context_.leavers_ou : policy.placement.leavers_ou;
  }
  if (policy.mailbox.kind == "remote") {
    texts->remote_routing_domain = policy.mailbox.remote_routing_domain;
  }
  for (const std::string& ou : texts->placement_ous) {
    std::vector<std::string> nested;
    for (const std::string& other : texts->placement_ous) {
      if (!dnSame(other, ou) && dnIsWithin(other, ou)) nested.push_back(other);
    }
    texts->nested_ous.push_back(std::move(nested));
    texts->in_leavers.push_back(!texts->leavers_ou.empty() && dnIsWithin(ou, texts->leavers_ou));
  }
  std::unordered_map<std::string, size_t> ids;  // dnKey → id
  for (size_t i = 0; i < policy.groups.size(); ++i) {
    const policy::GroupRule& rule = policy.groups[i];
    RuleTexts::GroupRule c;
    c.reason = "group rule " + std::to_string(i + 1) + " (" + describeCondition(rule.when) + ")";
    for (const std::string& g : rule.groups) {
      c.groups.push_back(g);
      c.keys.push_back(dnKey(g));
      c.group_ids.push_back(ids.emplace(c.keys.back(), ids.size()).first->second);
    }
    texts->group_rules.push_back(std::move(c));
  }
  texts->distinct_groups = ids.size();
  std::vector<const policy::Condition*> conditions;
  for (const auto& rule : policy.placement.rules) conditions.push_back(&rule.when);
  for (const auto& rule : policy.groups) conditions.push_back(&rule.when);
  texts->conditions.emplace(conditions);
  b.rule_texts_ = std::move(texts);
  return b;
}

Result<DesiredAccount> AccountBuilder::build(const hr::HrRecord& r) const {
  return build(std::make_shared<const hr::HrRecord>(r));
}

Result<DesiredAccount> AccountBuilder::build(std::shared_ptr<const hr::HrRecord> record,
                                             const ExistingNames* existing) const {
  DesiredAccount d;
  RETURN_IF_ERROR(buildInto(std::move(record), existing, d));
  return d;
}

Status AccountBuilder::buildInto(std::shared_ptr<const hr::HrRecord> record,
                                 const ExistingNames* existing, DesiredAccount& d) const {
  const policy::Policy& p = *policy_;
  const hr::HrRecord& r = *record;
  d.naming = naming_;
  d.rule_texts = rule_texts_;
  d.record = std::move(record);
  d.employee_id = r.employee_id;
  ASSIGN_OR_RETURN(d.state, evaluateState(r, p, context_.now_unix, context_.time_zone));
  d.enabled = d.state.enabled;
  d.evaluated_at = context_.now_unix;
  d.delete_after_days = p.lifecycle.delete_after_days;
  d.time_zone = context_.time_zone;

  // Names, in the order name_template.h prescribes.
  policy::NameContext ctx = naming_->contextFor(r);
  d.display_name = policy::applyRule(naming_->display, ctx);
  ctx.display_name = &d.display_name;
  d.mail_domain = naming_->mail_domain;
  if (existing && !existing->sam_account_name.empty()) {
    d.sam_account_name = existing->sam_account_name;
    d.upn = existing->upn;
    ctx.sam_account_name = &d.sam_account_name;
  } else {
    d.sam_base = policy::applyRule(naming_->sam, ctx);
    if (d.sam_base.empty()) {
      return dataError("cannot derive an account name from the names or employee_id");
    }
    d.sam_account_name = d.samCandidate(1);
    ctx.sam_account_name = &d.sam_account_name;
    d.upn = policy::applyRule(naming_->upn, ctx);
  }
  // mailBaseFor, with the context at hand (display_name and sam_account_name are set).
  if (!naming_->mail_domain.empty()) d.mail_base = policy::applyRule(naming_->mail, ctx);
  d.useMailCandidate(1);
  d.cn = policy::applyRule(naming_->cn, ctx);
  if (d.cn.empty()) d.cn = d.sam_account_name;
  d.cn_alternate = d.cn + " (" + r.employee_id + ")";

  // Placement: first matching rule, else the default OU. Every rule's condition is matched at
  // once (build is const, and may run on several threads: hence the storage per thread).
  const RuleTexts& texts = *rule_texts_;
  thread_local std::vector<uint32_t> matched;
  texts.conditions->matchAll(r, matched);
  const size_t placement_rules = p.placement.rules.size();
  size_t choice = 0;  // see RuleTexts::placement_ous
  d.placement_reason = "default OU";
  for (size_t i = 0; i < placement_rules; ++i) {
    if (matched[i]) {
      choice = i + 1;
      d.placement_reason = texts.placement_reasons[i];
      break;
    }
  }
  d.active_ou = texts.placement_ous[choice];
  d.nested_ous = texts.nested_ous[choice];
  d.active_ou_in_leavers = texts.in_leavers[choice] != 0;
  d.leavers_ou = texts.leavers_ou;
  d.parent_ou = d.terminated() && !d.leavers_ou.empty() ? d.leavers_ou : d.active_ou;

  // Built in place: an initializer list copies every name and value twice more.
  const std::string* values[] = {&r.given_name, &r.family_name, &d.display_name, &r.department,
                                 &r.title,      &r.location,    &r.employee_id,  &r.employment_type};
  static_assert(std::size(values) == std::size(kOwnedAttributes));
  for (size_t i = 0; i < std::size(values); ++i) {
    d.owned_values[i] = *values[i];
  }
  if (r.employment_type.empty()) d.owned_values.back() = "employee";
  if (d.state.account_expires) {
    d.account_expires = std::to_string(unixToFileTime(*d.state.account_expires));
  }

  // Groups.
  d.managed_groups = managed_groups_;
  if (d.terminated()) {
    if (p.lifecycle.leaver_remove_rule_groups) {
      d.group_removal_reason = d.state.reason + ": rule groups removed";
    } else {
      d.manage_groups = false;
    }
  } else {
    thread_local std::vector<char> seen;  // by group id: the groups so far
    seen.assign(texts.distinct_groups, 0);
    size_t at_most = 0;
    for (size_t i = 0; i < p.groups.size(); ++i) {
      if (matched[placement_rules + i]) at_most += texts.group_rules[i].groups.size();
    }
    d.groups.reserve(at_most);
    for (size_t i = 0; i < p.groups.size(); ++i) {
      if (!matched[placement_rules + i]) continue;
      const RuleTexts::GroupRule& rule = texts.group_rules[i];
      for (size_t k = 0; k < rule.groups.size(); ++k) {
        if (seen[rule.group_ids[k]]) continue;
        seen[rule.group_ids[k]] = 1;
        d.groups.push_back({rule.groups[k], rule.reason, rule.keys[k]});
      }
    }
  }

  // Mailbox.
  if (p.mailbox.mode == "auto" && !d.mail_domain.empty()) {
    d.mailbox_managed = context_.exchange_available;
    d.mailbox_unavailable = !context_.exchange_available;
  }
  d.remote_routing_domain = texts.remote_routing_domain;
  d.keep_old_addresses = p.mailbox.keep_old_addresses;
  d.hidden_from_address_lists = d.terminated() && p.lifecycle.leaver_hide_from_address_lists;

  d.manager_employee_id = r.manager_id;
  if (r.manager_id.empty()) d.manager_dn = std::string();
  return Status::ok();
}

Result<DesiredAccount> desiredAccount(const hr::HrRecord& r, const policy::Policy& policy,
                                      const DesiredContext& context) {
  ASSIGN_OR_RETURN(AccountBuilder b, AccountBuilder::create(policy, context));
  return b.build(r);
}

}  // namespace tenure::lifecycle
