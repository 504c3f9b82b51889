#pragma once
// The planner: desired account + live account → ordered, minimal, idempotent operations, each with
// its reason. Pure: no I/O. Only attributes the policy owns are compared or written on an existing
// account; groups no rule names are never touched; a sAMAccountName never changes after creation.
// Planning again against the result of applying a plan yields an empty plan.
//
// Order. New account: create (one add) → group adds → mailbox attributes. Existing account that
// ends up enabled: move/rename → attributes → group removals → group adds → mailbox → enable (it
// is only usable once it is right). Existing account that ends up disabled: disable first (access
// ends now) → attributes → mailbox → group removals → group adds → move/rename.

#include <array>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/lifecycle/desired_account.h"

namespace tenure::lifecycle {

inline constexpr uint32_t kUacAccountDisable = 0x2;
inline constexpr uint32_t kUacNormalAccount = 0x200;  // 512
// The attribute the executor fills with the initial password (a create carries it without values).
inline constexpr const char* kPasswordAttribute = "unicodePwd";

// Single-valued attributes by name: a flat vector sorted by name. An account carries about a dozen
// and planning looks several up for every person; a std::map's node per attribute cost a third of
// a directory snapshot's memory and its lookups built a std::string per call (docs/benchmarks.md).
class AttributeMap {
 public:
  using value_type = std::pair<std::string, std::string>;
  AttributeMap() = default;
  AttributeMap(std::initializer_list<value_type> init);
  // The value, inserted empty when missing (as std::map::operator[]).
  std::string& operator[](std::string_view name);
  // nullptr when missing.
  const std::string* find(std::string_view name) const;
  // Removes the attribute; the number removed (0 or 1).
  size_t erase(std::string_view name);
  bool contains(std::string_view name) const { return find(name) != nullptr; }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  std::vector<value_type>::const_iterator begin() const { return items_.begin(); }
  std::vector<value_type>::const_iterator end() const { return items_.end(); }
  bool operator==(const AttributeMap&) const = default;

 private:
  static constexpr size_t kTagged = 16;
  static uint32_t tagOf(std::string_view name);
  std::vector<value_type>::iterator lowerBound(std::string_view name);
  std::vector<value_type> items_;  // sorted by name, names unique
  // tagOf(name) of the first kTagged items, held inside the account: a lookup scans these 64
  // bytes and reads the one item that matches, where a binary search read four or five items
  // scattered over the vector's cache lines (a tenth of planning's time at 100,000 accounts).
  std::array<uint32_t, kTagged> tags_{};
};

// A user account as read from the directory.
struct LiveAccount {
  std::string dn;
  std::string employee_id;
  std::string sam_account_name;
  // Single-valued attributes that are set (first value): the owned HR attributes, manager,
  // userPrincipalName, mail, accountExpires and the Exchange attributes.
  AttributeMap attributes;
  uint32_t user_account_control = kUacNormalAccount;
  std::vector<std::string> member_of;        // group DNs
  std::vector<std::string> proxy_addresses;  // as stored ("SMTP:...", "smtp:...", "X500:...")

  const std::string& attribute(std::string_view name) const;
  bool enabled() const { return (user_account_control & kUacAccountDisable) == 0; }
};

// Live accounts are handed around shared: a directory snapshot holds them once.
using LiveAccountPtr = std::shared_ptr<const LiveAccount>;

// Every attribute the planner may read from a live account (for the directory search).
std::vector<std::string> liveAccountAttributes();

enum class OperationKind {
  kCreate,
  kModify,
  kEnable,
  kDisable,
  kMove,
  kRename,
  kAddMember,
  kRemoveMember,
  kDelete
};
// create | modify | enable | disable | move | rename | add_member | remove_member | delete
std::string_view operationKindName(OperationKind k);

// Mirrors agent::Modification without depending on the agent.
struct AttributeChange {
  enum class Op { kAdd, kDelete, kReplace };
  Op op = Op::kReplace;
  std::string attribute;
  std::vector<std::string> values;
  bool operator==(const AttributeChange&) const = default;
};

struct Operation {
  OperationKind kind = OperationKind::kModify;
  // The account as it is named when this operation runs (after earlier moves of the plan).
  std::string dn;
  // move/rename: the new parent OU (move only); add/remove_member: the group DN.
  std::string target;
  std::string new_rdn;  // move/rename: "CN=<escaped>"
  // create: all attributes; modify/enable/disable: the changes. Member operations carry none:
  // the executor writes `member` on the group with the account's DN at the time.
  std::vector<AttributeChange> modifications;
  std::string reason;                // "HR changed department: Sales → Marketing"
  std::vector<std::string> changes;  // names for the report: attributes, "create", "move", ...
  // A manager change that waits until the rest of the job is applied (the manager is created or
  // moved in the same run): the executor resolves the manager's DN then.
  bool deferred = false;
  std::string manager_employee_id;  // deferred only
};

struct Plan {
  std::vector<Operation> operations;
  std::string final_dn;  // where the account is after the plan ("" when there is none)
  std::string note;      // why nothing is done, when that is notable ("terminated, no account")
  std::string state;     // the lifecycle state name, or "rehire"
  std::vector<std::string> notes;  // e.g. kMailboxUnavailable
  bool empty() const { return operations.empty(); }
};

// `live` null: no account yet.
Plan plan(const DesiredAccount& desired, const LiveAccount* live);
inline Plan plan(const DesiredAccount& desired, const std::optional<LiveAccount>& live) {
  return plan(desired, live ? &*live : nullptr);
}

// The manager change alone (for deferred manager operations). nullopt when nothing needs doing.
std::optional<Operation> planManager(const std::string& dn, const std::string& live_manager_dn,
                                     const std::string& desired_manager_dn);

}  // namespace tenure::lifecycle
