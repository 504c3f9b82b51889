#pragma once
// The planner: desired account + live account → ordered, minimal, idempotent operations.
// Pure: no I/O. Only owned attributes (kOwnedAttributes, manager) are compared or written on an
// existing account; everything else on it is left alone. Planning twice against the result of
// applying a plan yields an empty plan.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/lifecycle/desired_account.h"

namespace tenure::lifecycle {

inline constexpr uint32_t kUacAccountDisable = 0x2;
inline constexpr uint32_t kUacNormalAccount = 0x200;  // 512
// The attribute the executor fills with the initial password (a create carries it without values).
inline constexpr const char* kPasswordAttribute = "unicodePwd";

// A user account as read from the directory.
struct LiveAccount {
  std::string dn;
  // Owned attributes that are set (first value), keyed by the names in kOwnedAttributes / manager.
  std::map<std::string, std::string> attributes;
  uint32_t user_account_control = kUacNormalAccount;
  std::vector<std::string> member_of;
  std::string sam_account_name;

  const std::string& attribute(const std::string& name) const;
};

enum class OperationKind { kCreate, kModify, kEnable, kDisable, kMove, kAddMember, kRemoveMember };
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
  std::string dn;  // the entry operated on (for member ops: the group)
  std::vector<AttributeChange> modifications;  // create: all attributes; modify/enable/disable: changes
  std::string new_parent_dn;                   // move only
  std::string reason;                          // why, for the audit trail: "HR changed title"
  std::vector<std::string> changes;            // names for the report: attributes, "move", ...
};

struct Plan {
  std::vector<Operation> operations;
  std::string final_dn;  // where the account is after the plan ("" when there is none)
  std::string note;      // why nothing is done, when that is notable ("terminated, no account")
  bool empty() const { return operations.empty(); }
};

Plan plan(const DesiredAccount& desired, const std::optional<LiveAccount>& live);

// The manager change alone, for the executor's second pass (manager DNs resolve only after the
// creates of a job). nullopt when nothing needs doing.
std::optional<Operation> planManager(const std::string& dn, const std::string& live_manager_dn,
                                     const std::string& desired_manager_dn);

}  // namespace tenure::lifecycle
