#include "common/lifecycle/planner.h"

#include <algorithm>
#include <unordered_set>

#include "common/base/utf8.h"
#include "common/ldap/escape.h"
#include "common/lifecycle/dn_util.h"
#include "common/lifecycle/mailbox.h"

namespace tenure::lifecycle {

namespace {

constexpr int64_t kSecondsPerDay = 86400;
const std::vector<std::string> kNoGroups;

std::string shown(const std::string& v) { return v.empty() ? "(none)" : v; }

// asciiLower(a) == asciiLower(b) without the copies. Equal text is the usual case when the
// sizes match, so that is tried first (one memcmp rather than a loop folding every byte).
bool sameText(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a == b) return true;
  auto low = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return std::equal(a.begin(), a.end(), b.begin(),
                    [&](char x, char y) { return low(x) == low(y); });
}

Operation uacChange(const std::string& dn, uint32_t uac, bool enable, const std::string& reason) {
  Operation op;
  op.kind = enable ? OperationKind::kEnable : OperationKind::kDisable;
  op.dn = dn;
  const uint32_t next = enable ? (uac & ~kUacAccountDisable) : (uac | kUacAccountDisable);
  op.modifications.push_back(
      {AttributeChange::Op::kReplace, "userAccountControl", {std::to_string(next)}});
  op.reason = reason;
  op.changes = {enable ? "enable" : "disable"};
  return op;
}

Operation memberOp(OperationKind kind, const std::string& dn, std::string_view group,
                   std::string_view reason) {
  Operation op;
  op.kind = kind;
  op.dn = dn;
  op.target = group;
  op.reason = reason;
  op.changes = {"member"};
  return op;
}

// The value of the first RDN: only that RDN is parsed (the rest of the DN is the parent's, and a
// whole-DN parse per person showed in profiles).
std::string rdnValueOf(const std::string& dn) {
  auto rdns = ldap::parseDn(ldap::rdnOf(dn));
  if (!rdns.isOk() || rdns->empty()) return "";
  return std::move(rdns->front().value);
}

bool isSpaceByte(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The first RDN's text up to its first separator when it is plain: no escapes, quotes, '+' or
// space at either end ("CN=Jane Doe" as Tenure writes names); empty otherwise.
std::string_view plainFirstRdn(std::string_view dn) {
  size_t end = 0;
  for (; end < dn.size() && dn[end] != ',' && dn[end] != ';'; ++end) {
    if (dn[end] == '\\' || dn[end] == '"' || dn[end] == '+') return {};
  }
  const std::string_view rdn = dn.substr(0, end);
  if (rdn.empty() || isSpaceByte(rdn.front()) || isSpaceByte(rdn.back())) return {};
  return rdn;
}

// rdnValueOf without the parse for a plain RDN whose type is letters and digits: its value is the
// text after '=' as written (a whole-RDN parse per person showed in profiles).
std::string_view rdnValueView(const std::string& dn, std::string& storage) {
  const std::string_view rdn = plainFirstRdn(dn);
  const size_t eq = rdn.find('=');
  if (eq != std::string_view::npos && eq > 0 && eq + 1 < rdn.size() &&
      std::all_of(rdn.begin(), rdn.begin() + static_cast<std::ptrdiff_t>(eq),
                  [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9');
                  }) &&
      rdn[eq + 1] != '#' && !isSpaceByte(rdn[eq + 1]) && rdn.find('=', eq + 1) == rdn.npos) {
    return rdn.substr(eq + 1);
  }
  storage = rdnValueOf(dn);
  return storage;
}

// ldap::parentDn as a view of `dn` when nothing needs trimming, else of `storage`.
std::string_view parentView(const std::string& dn, std::string& storage) {
  const size_t sep = dn.find_first_of(",;");
  if (sep != std::string::npos && !plainFirstRdn(dn).empty()) {
    const std::string_view parent = std::string_view(dn).substr(sep + 1);
    if (!parent.empty() && !isSpaceByte(parent.front()) && !isSpaceByte(parent.back())) {
      return parent;
    }
  }
  storage = ldap::parentDn(dn);
  return storage;
}

// The reason attached to accountExpires changes.
std::string expiryReason(const DesiredAccount& d) {
  if (d.terminated()) return d.state.reason + ": account expires";
  if (!d.state.end_date.empty() && d.state.account_expires) {
    return "end date " + d.state.end_date + ": expires at the start of " +
           d.time_zone.localDate(*d.state.account_expires) + " (" + d.time_zone.name() + ")";
  }
  return "no end date: never expires";
}

// True when the account already sits where the desired state wants it. Accounts an admin put in a
// sub-OU of their target OU stay there, unless that sub-OU is itself the target of another rule.
bool placementSatisfied(const DesiredAccount& d, std::string_view live_parent, bool in_leavers) {
  if (d.terminated()) return d.leavers_ou.empty() || in_leavers;
  if (in_leavers && !d.active_ou_in_leavers) return false;
  if (!dnIsWithin(live_parent, d.active_ou)) return false;
  return !dnIsWithinAny(live_parent, d.nested_ous);  // a more specific rule's OU
}

std::string_view smtpPart(std::string_view proxy) {
  return proxy.size() >= 5 && sameText(proxy.substr(0, 5), "smtp:") ? proxy.substr(5)
                                                                     : std::string_view();
}

bool holdsAddress(const std::vector<std::string>& proxies, std::string_view address) {
  return std::any_of(proxies.begin(), proxies.end(),
                     [&](const std::string& v) { return sameText(smtpPart(v), address); });
}

// True when mailboxModify would change nothing on `live` (the usual case), decided on views
// without building the mailbox state; false when unsure. Mirrors mailboxFor and
// proxyAddressChange (common/lifecycle/mailbox.cpp).
bool mailboxUnchanged(const DesiredAccount& d, const LiveAccount& l) {
  if (d.mail.empty()) return false;  // rare: the full path decides
  const std::string_view mail = d.mail;
  if (l.attribute(kMailNickname) != l.sam_account_name) return false;
  bool primary_present = false;
  for (const std::string& v : l.proxy_addresses) {
    const std::string_view addr = smtpPart(v);
    if (addr.empty()) continue;
    if (sameText(addr, mail)) {
      // Exactly "SMTP:<mail>": anything else is a secondary (or differently written primary).
      if (std::string_view(v).substr(0, 5) != "SMTP:" || addr != mail) return false;
      primary_present = true;
    } else if (std::string_view(v).substr(0, 5) == "SMTP:") {
      return false;  // another primary to demote
    }
  }
  if (!primary_present) return false;
  const std::string& live_mail = l.attribute(kMailAttribute);
  if (d.keep_old_addresses && !live_mail.empty() && !sameText(live_mail, mail) &&
      !holdsAddress(l.proxy_addresses, live_mail)) {
    return false;
  }
  if (!d.remote_routing_domain.empty()) {
    // The routing address local@routing_domain: a secondary and the target address.
    const size_t at = mail.find('@');
    const std::string_view local = at == std::string_view::npos ? mail : mail.substr(0, at);
    const std::string_view domain = d.remote_routing_domain;
    auto isRouting = [&](std::string_view addr) {
      return addr.size() == local.size() + 1 + domain.size() &&
             sameText(addr.substr(0, local.size()), local) && addr[local.size()] == '@' &&
             sameText(addr.substr(local.size() + 1), domain);
    };
    if (!std::any_of(l.proxy_addresses.begin(), l.proxy_addresses.end(),
                     [&](const std::string& v) { return isRouting(smtpPart(v)); })) {
      return false;
    }
    const std::string& target = l.attribute(kTargetAddress);
    if (std::string_view(target).substr(0, 5) != "SMTP:" ||
        !isRouting(std::string_view(target).substr(5))) {
      return false;
    }
  }
  const bool hidden = sameText(l.attribute(kHideFromAddressLists), "TRUE");
  if (d.hidden_from_address_lists && !hidden) return false;
  if (!d.hidden_from_address_lists && hidden && !d.terminated()) return false;
  return true;
}

// The mailbox attribute changes (Exchange attribute mode) on an existing or new account.
Operation mailboxModify(const DesiredAccount& d, const LiveAccount* live, const std::string& dn) {
  Operation op;
  op.kind = OperationKind::kModify;
  op.dn = dn;
  const std::string sam = live ? live->sam_account_name : d.sam_account_name;
  const MailboxState m =
      mailboxFor(sam, d.mail, d.remote_routing_domain, d.hidden_from_address_lists);
  std::vector<std::string> reasons;
  static const LiveAccount kNone;
  const LiveAccount& l = live ? *live : kNone;
  if (!m.primary.empty()) {
    if (l.attribute(kMailNickname) != m.mail_nickname) {
      op.modifications.push_back({AttributeChange::Op::kReplace, kMailNickname, {m.mail_nickname}});
      op.changes.push_back(kMailNickname);
    }
    const ProxyAddressChange pc =
        proxyAddressChange(l.proxy_addresses, m, l.attribute(kMailAttribute), d.keep_old_addresses);
    if (!pc.empty()) {
      if (!pc.remove.empty()) {
        op.modifications.push_back({AttributeChange::Op::kDelete, kProxyAddresses, pc.remove});
      }
      if (!pc.add.empty()) {
        op.modifications.push_back({AttributeChange::Op::kAdd, kProxyAddresses, pc.add});
      }
      op.changes.push_back(kProxyAddresses);
      reasons.push_back("primary address " + smtpAddressOf(m.primary) +
                        (pc.remove.empty() ? "" : ", old address kept as secondary"));
    }
    if (!m.target_address.empty() && !sameText(l.attribute(kTargetAddress), m.target_address)) {
      op.modifications.push_back(
          {AttributeChange::Op::kReplace, kTargetAddress, {m.target_address}});
      op.changes.push_back(kTargetAddress);
      reasons.push_back("remote mailbox routed to " + smtpAddressOf(m.target_address));
    }
  }
  const bool hidden = sameText(l.attribute(kHideFromAddressLists), "TRUE");
  if (m.hidden && !hidden) {
    op.modifications.push_back({AttributeChange::Op::kReplace, kHideFromAddressLists, {"TRUE"}});
    op.changes.push_back(kHideFromAddressLists);
    reasons.push_back(d.state.reason + ": hidden from address lists");
  } else if (!m.hidden && hidden && !d.terminated()) {
    op.modifications.push_back({AttributeChange::Op::kDelete, kHideFromAddressLists, {}});
    op.changes.push_back(kHideFromAddressLists);
    reasons.push_back(d.state.reason + ": shown in address lists again");
  }
  std::string reason = "mailbox";
  for (size_t i = 0; i < reasons.size(); ++i) reason += (i ? "; " : ": ") + reasons[i];
  op.reason = reason;
  return op;
}

std::string createReason(const DesiredAccount& d) {
  switch (d.state.state) {
    case LifecycleState::kPreHire:
      return "new hire (" + d.state.reason + ", created disabled)";
    case LifecycleState::kLeave:
      return d.enabled ? "new hire (on leave)" : "new hire (on leave, created disabled)";
    default:
      return "new hire";
  }
}

Plan planCreate(const DesiredAccount& d) {
  Plan p;
  p.state = std::string(stateName(d.state.state));
  if (!d.state.may_create) {
    p.note = d.state.reason + "; no account is created";
    return p;
  }
  Operation op;
  op.kind = OperationKind::kCreate;
  op.dn = d.dn();
  auto add = [&](const std::string& attr, std::vector<std::string> values) {
    op.modifications.push_back({AttributeChange::Op::kAdd, attr, std::move(values)});
  };
  add("objectClass", {"user"});
  add("sAMAccountName", {d.sam_account_name});
  add("userPrincipalName", {d.upn});
  for (size_t i = 0; i < d.owned_values.size(); ++i) {
    if (!d.owned_values[i].empty()) add(kOwnedAttributes[i], {d.owned_values[i]});
  }
  if (!d.mail.empty()) add(kMailAttribute, {d.mail});
  if (d.account_expires != kAccountNeverExpires) add(kAccountExpiresAttribute, {d.account_expires});
  if (d.manager_dn && !d.manager_dn->empty()) add(kManagerAttribute, {*d.manager_dn});
  add(kPasswordAttribute, {});
  add("userAccountControl",
      {std::to_string(d.enabled ? kUacNormalAccount : (kUacNormalAccount | kUacAccountDisable))});
  add("pwdLastSet", {"0"});  // must change the password at first logon
  op.reason = createReason(d);
  op.changes = {"create"};
  p.operations.push_back(std::move(op));

  for (const DesiredGroup& g : d.groups) {
    p.operations.push_back(memberOp(OperationKind::kAddMember, d.dn(), g.dn, g.reason));
  }
  if (d.mailbox_managed && !d.mail.empty()) {
    Operation mb = mailboxModify(d, nullptr, d.dn());
    if (!mb.changes.empty()) p.operations.push_back(std::move(mb));
  }
  if (d.mailbox_unavailable) p.notes.push_back(kMailboxUnavailable);
  p.final_dn = d.dn();
  return p;
}

}  // namespace

AttributeMap::AttributeMap(std::initializer_list<value_type> init) {
  for (const auto& [name, value] : init) (*this)[name] = value;
}

namespace {
// e.first < n, deciding on the first byte when it differs (most names differ there) before
// comparing the rest: lookups run a few dozen times per person.
bool nameLess(const AttributeMap::value_type& e, std::string_view n) {
  if (!e.first.empty() && !n.empty() && e.first[0] != n[0]) {
    return static_cast<unsigned char>(e.first[0]) < static_cast<unsigned char>(n[0]);
  }
  return std::string_view(e.first) < n;
}
}  // namespace

std::vector<AttributeMap::value_type>::iterator AttributeMap::lowerBound(std::string_view name) {
  return std::lower_bound(items_.begin(), items_.end(), name, nameLess);
}

// Length and the first, middle and last bytes: enough to tell the attribute names the planner
// reads apart, and cheap enough to work out on every lookup (a hash over the whole name was most
// of a lookup's instructions). A shared tag only costs a comparison of the names.
uint32_t AttributeMap::tagOf(std::string_view name) {
  if (name.empty()) return 0;
  const auto byte = [&](size_t i) {
    return static_cast<uint32_t>(static_cast<unsigned char>(name[i]));
  };
  return (static_cast<uint32_t>(name.size()) & 0xff) | byte(0) << 8 | byte(name.size() / 2) << 16 |
         byte(name.size() - 1) << 24;
}

std::string& AttributeMap::operator[](std::string_view name) {
  auto it = lowerBound(name);
  if (it == items_.end() || it->first != name) {
    const size_t k = static_cast<size_t>(it - items_.begin());
    it = items_.emplace(it, std::string(name), "");
    if (k < kTagged) {
      std::copy_backward(tags_.begin() + k, tags_.end() - 1, tags_.end());
      tags_[k] = tagOf(name);
    }
  }
  return it->second;
}

const std::string* AttributeMap::find(std::string_view name) const {
  const uint32_t tag = tagOf(name);
  const size_t tagged = std::min(items_.size(), kTagged);
  for (size_t i = 0; i < tagged; ++i) {
    if (tags_[i] == tag && items_[i].first == name) return &items_[i].second;
  }
  if (items_.size() <= kTagged) return nullptr;
  // The rest, sorted among themselves.
  auto it = std::lower_bound(items_.begin() + kTagged, items_.end(), name, nameLess);
  return it == items_.end() || it->first != name ? nullptr : &it->second;
}

size_t AttributeMap::erase(std::string_view name) {
  auto it = lowerBound(name);
  if (it == items_.end() || it->first != name) return 0;
  const size_t k = static_cast<size_t>(it - items_.begin());
  items_.erase(it);
  if (k < kTagged) {
    std::copy(tags_.begin() + k + 1, tags_.end(), tags_.begin() + k);
    tags_.back() = items_.size() >= kTagged ? tagOf(items_[kTagged - 1].first) : 0;
  }
  return 1;
}

const std::string& LiveAccount::attribute(std::string_view name) const {
  static const std::string kEmpty;
  const std::string* v = attributes.find(name);
  return v ? *v : kEmpty;
}

std::vector<std::string> liveAccountAttributes() {
  std::vector<std::string> out(std::begin(kOwnedAttributes), std::end(kOwnedAttributes));
  for (const char* a : {kManagerAttribute, "userAccountControl", "memberOf", "sAMAccountName",
                        "userPrincipalName", "cn", kMailAttribute, kAccountExpiresAttribute,
                        kMailNickname, kProxyAddresses, kTargetAddress, kHideFromAddressLists}) {
    out.emplace_back(a);
  }
  return out;
}

std::string_view operationKindName(OperationKind k) {
  switch (k) {
    case OperationKind::kCreate:
      return "create";
    case OperationKind::kModify:
      return "modify";
    case OperationKind::kEnable:
      return "enable";
    case OperationKind::kDisable:
      return "disable";
    case OperationKind::kMove:
      return "move";
    case OperationKind::kRename:
      return "rename";
    case OperationKind::kAddMember:
      return "add_member";
    case OperationKind::kRemoveMember:
      return "remove_member";
    case OperationKind::kDelete:
      return "delete";
  }
  return "unknown";
}

std::optional<Operation> planManager(const std::string& dn, const std::string& live_manager_dn,
                                     const std::string& desired_manager_dn) {
  // Most people keep their manager: decide before building anything.
  if (desired_manager_dn.empty() ? live_manager_dn.empty()
                                 : !live_manager_dn.empty() &&
                                       ldap::dnEquals(live_manager_dn, desired_manager_dn)) {
    return std::nullopt;
  }
  Operation op;
  op.kind = OperationKind::kModify;
  op.dn = dn;
  op.changes = {kManagerAttribute};
  if (desired_manager_dn.empty()) {
    op.modifications.push_back({AttributeChange::Op::kDelete, kManagerAttribute, {}});
    op.reason = "HR removed the manager";
    return op;
  }
  op.modifications.push_back(
      {AttributeChange::Op::kReplace, kManagerAttribute, {desired_manager_dn}});
  op.reason = "HR changed manager";
  return op;
}

Plan plan(const DesiredAccount& d, const LiveAccount* live) {
  if (!live) return planCreate(d);

  Plan p;
  p.state = std::string(stateName(d.state.state));
  std::string parent_storage;
  const std::string_view live_parent = parentView(live->dn, parent_storage);
  const bool in_leavers = !d.leavers_ou.empty() && dnIsWithin(live_parent, d.leavers_ou);

  if (d.state.state == LifecycleState::kNotYet) {
    p.note = d.state.reason + "; the account is left as it is";
    p.final_dn = live->dn;
    return p;
  }
  if (d.state.delete_account) {
    Operation del;
    del.kind = OperationKind::kDelete;
    del.dn = live->dn;
    del.reason = d.state.reason + ": the account is deleted";
    del.changes = {"delete"};
    p.operations.push_back(std::move(del));
    return p;
  }
  if (d.terminated() && d.delete_after_days) {
    std::optional<int64_t> since = d.state.terminated_at;
    if (!since) {
      auto expired = accountExpiresToUnix(live->attribute(kAccountExpiresAttribute));
      if (expired && *expired <= d.evaluated_at) since = expired;
    }
    if (since && d.evaluated_at >= *since + int64_t{*d.delete_after_days} * kSecondsPerDay) {
      Operation del;
      del.kind = OperationKind::kDelete;
      del.dn = live->dn;
      del.reason = d.state.reason + "; terminated since " + d.time_zone.localDate(*since) +
                   ", retention of " + std::to_string(*d.delete_after_days) + " days passed";
      del.changes = {"delete"};
      p.operations.push_back(std::move(del));
      return p;
    }
  }
  const auto live_expires = accountExpiresToUnix(live->attribute(kAccountExpiresAttribute));
  const bool rehire = !d.terminated() && d.state.state != LifecycleState::kRescinded &&
                      (in_leavers || live_expires.value_or(d.evaluated_at + 1) <= d.evaluated_at);
  if (rehire) p.state = "rehire";

  // Owned HR attributes.
  Operation modify;
  modify.kind = OperationKind::kModify;
  std::vector<std::string> hr_changes;  // "department: Sales → Marketing"
  auto change = [&](const std::string& name, const std::string& value, const std::string& current) {
    modify.modifications.push_back(
        value.empty() ? AttributeChange{AttributeChange::Op::kDelete, name, {}}
                      : AttributeChange{AttributeChange::Op::kReplace, name, {value}});
    modify.changes.push_back(name);
  };
  for (size_t i = 0; i < d.owned_values.size(); ++i) {
    const std::string& value = d.owned_values[i];
    const std::string& current = live->attribute(kOwnedAttributes[i]);
    if (value == current) continue;
    const std::string name = kOwnedAttributes[i];
    change(name, value, current);
    hr_changes.push_back(name + ": " + shown(current) + " → " + shown(value));
  }
  std::vector<std::string> reasons;
  if (!hr_changes.empty()) {
    std::string r = "HR changed ";
    for (size_t i = 0; i < hr_changes.size(); ++i) r += (i ? "; " : "") + hr_changes[i];
    reasons.push_back(r);
  }
  const std::string hr_summary = reasons.empty() ? "" : reasons.front();
  if (const std::string& live_mail = live->attribute(kMailAttribute);
      !d.mail_domain.empty() && !d.mail.empty() && !sameText(live_mail, d.mail)) {
    change(kMailAttribute, d.mail, live_mail);
    reasons.push_back("mail: " + shown(live_mail) + " → " + d.mail);
  }
  {
    const auto want = d.state.account_expires;
    // A termination without an end date takes effect "now": an expiry already in the past stands.
    const bool keep =
        d.terminated() && !d.state.terminated_at && live_expires && *live_expires <= d.evaluated_at;
    const bool same = (!live_expires && !want) || (live_expires && want && *live_expires == *want);
    if (!keep && !same) {
      modify.modifications.push_back(
          {AttributeChange::Op::kReplace, kAccountExpiresAttribute, {d.account_expires}});
      modify.changes.push_back(kAccountExpiresAttribute);
      reasons.push_back(expiryReason(d));
    }
  }
  if (d.manager_dn) {
    if (auto m = planManager(live->dn, live->attribute(kManagerAttribute), *d.manager_dn)) {
      for (auto& mod : m->modifications) modify.modifications.push_back(std::move(mod));
      modify.changes.push_back(kManagerAttribute);
      reasons.push_back(m->reason);
    }
  }
  for (size_t i = 0; i < reasons.size(); ++i) modify.reason += (i ? "; " : "") + reasons[i];

  // Placement and name (one modify-DN when both change).
  std::optional<Operation> move;
  std::string moved_dn;  // set when `move` is
  {
    const bool place_ok = placementSatisfied(d, live_parent, in_leavers);
    std::string cn_storage;
    const std::string_view live_cn = rdnValueView(live->dn, cn_storage);
    const bool name_ok = live_cn == d.cn || live_cn == d.cn_alternate;
    if (!place_ok || !name_ok) {
      move.emplace();
      move->kind = place_ok ? OperationKind::kRename : OperationKind::kMove;
      std::string rdn = name_ok ? ldap::rdnOf(live->dn) : ldap::makeRdn("CN", d.cn);
      std::vector<std::string> why;
      if (!place_ok) {
        move->target = d.parent_ou;
        move->changes.push_back("move");
        if (d.terminated()) {
          why.push_back(d.state.reason + ": move to the leavers OU");
        } else if (in_leavers) {
          why.push_back("rehire: move back (" + std::string(d.placement_reason) + ")");
        } else {
          why.push_back(std::string(d.placement_reason) +
                        (hr_summary.empty() ? "" : " after " + hr_summary));
        }
      }
      if (!name_ok) {
        move->changes.push_back("cn");
        why.push_back("name changed: " + std::string(live_cn) + " → " + d.cn);
      }
      for (size_t i = 0; i < why.size(); ++i) move->reason += (i ? "; " : "") + why[i];
      move->new_rdn = rdn;
      moved_dn = rdn + ",";
      moved_dn += place_ok ? live_parent : d.parent_ou;
    }
  }

  // Groups: only managed ones, only when the state manages them.
  std::vector<Operation> removals;
  std::vector<std::string_view> adds_groups;
  std::vector<std::string> adds_reasons;
  if (d.manage_groups) {
    // Keys, not dnEquals per pair: with dozens of rule groups the pairwise parsing dominated
    // planning time (docs/benchmarks.md). Views of the cached keys in small sorted vectors rather
    // than sets of copies: a person holds a handful of groups.
    // The vectors are kept per thread: three small allocations per person showed in profiles.
    const size_t held = live->member_of.size();
    thread_local std::vector<std::string> storage;  // only when the DN cache is full
    if (storage.size() < held + d.groups.size()) storage.resize(held + d.groups.size());
    thread_local std::vector<std::string_view> live_groups;
    live_groups.resize(held);
    for (size_t i = 0; i < held; ++i) live_groups[i] = dnKeyView(live->member_of[i], storage[i]);
    std::sort(live_groups.begin(), live_groups.end());
    auto holds = [&](std::string_view key) {
      return std::binary_search(live_groups.begin(), live_groups.end(), key);
    };
    thread_local std::vector<std::string_view> wanted_keys;
    wanted_keys.resize(d.groups.size());
    for (size_t i = 0; i < d.groups.size(); ++i) {
      const DesiredGroup& g = d.groups[i];
      wanted_keys[i] = !g.key.empty() ? g.key : dnKeyView(g.dn, storage[held + i]);
    }
    auto wanted = [&](std::string_view key) {
      return std::find(wanted_keys.begin(), wanted_keys.end(), key) != wanted_keys.end();
    };
    // Only a group held but not wanted can be a removal; usually there is none.
    const bool may_remove = std::any_of(live_groups.begin(), live_groups.end(),
                                        [&](std::string_view k) { return !wanted(k); });
    std::string key_storage;
    for (const std::string& g : d.managed_groups ? *d.managed_groups : kNoGroups) {
      if (!may_remove) break;
      const std::string_view key = dnKeyView(g, key_storage);
      if (!holds(key) || wanted(key)) continue;
      std::string reason = !d.group_removal_reason.empty()
                               ? d.group_removal_reason
                               : "no group rule grants it any more" +
                                     (hr_summary.empty() ? std::string() : " (" + hr_summary + ")");
      removals.push_back(memberOp(OperationKind::kRemoveMember, "", g, reason));
    }
    for (size_t i = 0; i < d.groups.size(); ++i) {
      const DesiredGroup& g = d.groups[i];
      if (holds(wanted_keys[i])) continue;
      adds_groups.push_back(g.dn);
      adds_reasons.push_back(rehire ? "rehire: " + std::string(g.reason) : std::string(g.reason));
    }
  }
  std::optional<Operation> mailbox;
  if (d.mailbox_managed && !mailboxUnchanged(d, *live)) {
    Operation mb = mailboxModify(d, live, "");
    if (!mb.changes.empty()) mailbox = std::move(mb);
  }
  if (d.mailbox_unavailable) p.notes.push_back(kMailboxUnavailable);

  std::string dn = live->dn;
  auto push = [&](Operation op) {
    op.dn = dn;
    p.operations.push_back(std::move(op));
  };
  auto pushGroups = [&] {
    for (auto& r : removals) push(std::move(r));
    for (size_t i = 0; i < adds_groups.size(); ++i) {
      push(memberOp(OperationKind::kAddMember, dn, adds_groups[i], adds_reasons[i]));
    }
  };
  const bool live_enabled = live->enabled();
  if (d.enabled) {
    if (move) {
      push(std::move(*move));
      dn = std::move(moved_dn);
    }
    if (!modify.changes.empty()) push(std::move(modify));
    pushGroups();
    if (mailbox) push(*mailbox);
    if (!live_enabled) {
      Operation en = uacChange(dn, live->user_account_control, true,
                               rehire ? "rehire: " + d.state.reason : d.state.reason);
      push(std::move(en));
    }
  } else {
    if (live_enabled) push(uacChange(dn, live->user_account_control, false, d.state.reason));
    if (!modify.changes.empty()) push(std::move(modify));
    if (mailbox) push(*mailbox);
    pushGroups();
    if (move) {
      push(std::move(*move));
      dn = std::move(moved_dn);
    }
  }
  p.final_dn = std::move(dn);
  return p;
}

}  // namespace tenure::lifecycle
