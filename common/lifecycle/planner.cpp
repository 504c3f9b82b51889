#include "common/lifecycle/planner.h"

#include "common/ldap/escape.h"
#include "common/lifecycle/dn_util.h"

namespace tenure::lifecycle {

namespace {

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
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

Plan planCreate(const DesiredAccount& d) {
  Plan p;
  if (d.status == "terminated") {
    // Nobody gets an account on their way out.
    p.note = "status terminated and no account exists";
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
  for (const auto& [name, value] : d.attributes) {
    if (!value.empty()) add(name, {value});
  }
  if (d.manager_dn && !d.manager_dn->empty()) add(kManagerAttribute, {*d.manager_dn});
  add(kPasswordAttribute, {});
  add("userAccountControl",
      {std::to_string(d.enabled ? kUacNormalAccount : (kUacNormalAccount | kUacAccountDisable))});
  add("pwdLastSet", {"0"});  // must change the password at first logon
  op.reason = d.enabled ? "new hire" : "new hire (status " + d.status + ", created disabled)";
  op.changes = {"create"};
  p.operations.push_back(std::move(op));
  p.final_dn = d.dn();
  return p;
}

}  // namespace

const std::string& LiveAccount::attribute(const std::string& name) const {
  static const std::string kEmpty;
  auto it = attributes.find(name);
  return it == attributes.end() ? kEmpty : it->second;
}

std::string_view operationKindName(OperationKind k) {
  switch (k) {
    case OperationKind::kCreate: return "create";
    case OperationKind::kModify: return "modify";
    case OperationKind::kEnable: return "enable";
    case OperationKind::kDisable: return "disable";
    case OperationKind::kMove: return "move";
    case OperationKind::kAddMember: return "add_member";
    case OperationKind::kRemoveMember: return "remove_member";
  }
  return "unknown";
}

std::optional<Operation> planManager(const std::string& dn, const std::string& live_manager_dn,
                                     const std::string& desired_manager_dn) {
  Operation op;
  op.kind = OperationKind::kModify;
  op.dn = dn;
  op.changes = {kManagerAttribute};
  if (desired_manager_dn.empty()) {
    if (live_manager_dn.empty()) return std::nullopt;
    op.modifications.push_back({AttributeChange::Op::kDelete, kManagerAttribute, {}});
    op.reason = "HR removed the manager";
    return op;
  }
  if (!live_manager_dn.empty() && ldap::dnEquals(live_manager_dn, desired_manager_dn)) {
    return std::nullopt;
  }
  op.modifications.push_back({AttributeChange::Op::kReplace, kManagerAttribute, {desired_manager_dn}});
  op.reason = "HR changed manager";
  return op;
}

Plan plan(const DesiredAccount& d, const std::optional<LiveAccount>& live) {
  if (!live) return planCreate(d);

  Plan p;
  std::string dn = live->dn;

  // Attributes.
  Operation modify;
  modify.kind = OperationKind::kModify;
  for (const auto& [name, value] : d.attributes) {
    const std::string& current = live->attribute(name);
    if (value == current) continue;
    if (value.empty()) {
      modify.modifications.push_back({AttributeChange::Op::kDelete, name, {}});
    } else {
      modify.modifications.push_back({AttributeChange::Op::kReplace, name, {value}});
    }
    modify.changes.push_back(name);
  }
  if (d.manager_dn) {
    if (auto m = planManager(dn, live->attribute(kManagerAttribute), *d.manager_dn)) {
      for (auto& mod : m->modifications) modify.modifications.push_back(std::move(mod));
      modify.changes.push_back(kManagerAttribute);
    }
  }
  if (!modify.changes.empty()) modify.reason = "HR changed " + joinNames(modify.changes);

  // Placement.
  const std::string live_parent = ldap::parentDn(live->dn);
  std::string move_to;
  std::string move_reason;
  if (d.status == "terminated") {
    if (!d.leavers_ou.empty() && !dnIsWithin(live_parent, d.leavers_ou)) {
      move_to = d.leavers_ou;
      move_reason = "status terminated: move to the leavers OU";
    }
  } else if (!d.users_ou.empty()) {
    const bool in_leavers = !d.leavers_ou.empty() && dnIsWithin(live_parent, d.leavers_ou);
    // Accounts an admin placed in a sub-OU of the users OU stay there.
    if (in_leavers || !dnIsWithin(live_parent, d.users_ou)) {
      move_to = d.users_ou;
      move_reason = in_leavers ? "rehire: move back from the leavers OU"
                               : "placement: move into the users OU";
    }
  }
  std::optional<Operation> move;
  std::string moved_dn = dn;
  if (!move_to.empty()) {
    move.emplace();
    move->kind = OperationKind::kMove;
    move->new_parent_dn = move_to;
    move->reason = move_reason;
    move->changes = {"move"};
    moved_dn = ldap::rdnOf(dn) + "," + move_to;
  }

  // Account state.
  const bool live_enabled = (live->user_account_control & kUacAccountDisable) == 0;
  const bool rehire = move && d.enabled && move_reason.rfind("rehire", 0) == 0;

  if (d.enabled) {
    // Rehire order: move back, correct the attributes, then enable — the account is only usable
    // once it is fully right.
    if (move) {
      move->dn = dn;
      p.operations.push_back(*move);
      dn = moved_dn;
    }
    if (!modify.changes.empty()) {
      modify.dn = dn;
      p.operations.push_back(modify);
    }
    if (!live_enabled) {
      p.operations.push_back(uacChange(dn, live->user_account_control, true,
                                       rehire ? "rehire: status active" : "status active"));
    }
  } else {
    // Leaver order: disable first (access ends now), then tidy attributes and move.
    if (live_enabled) {
      p.operations.push_back(
          uacChange(dn, live->user_account_control, false, "status " + d.status));
    }
    if (!modify.changes.empty()) {
      modify.dn = dn;
      p.operations.push_back(modify);
    }
    if (move) {
      move->dn = dn;
      p.operations.push_back(*move);
      dn = moved_dn;
    }
  }
  p.final_dn = dn;
  return p;
}

}  // namespace tenure::lifecycle
