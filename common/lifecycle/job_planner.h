#pragma once
// The job planner: a whole job's HR records + the live directory → one plan per person. Pure in
// the sense that matters: all reads go through DirectoryView (an in-memory snapshot in tests and
// for large jobs, LDAP lookups in the agent for small ones) and nothing is written. Names are
// chosen here, unique against the directory (accounts Tenure does not manage count too), the names
// reserved by the control plane (deleted leavers), and each other within the job. Managers are
// resolved here: one created in the same job gets a deferred operation; unknown managers and
// manager cycles are reported on those people without blocking anyone else.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/base/status.h"
#include "common/hr/hr_record.h"
#include "common/lifecycle/desired_account.h"
#include "common/lifecycle/planner.h"
#include "common/policy/policy.h"

namespace tenure::lifecycle {

enum class NameKind { kSamAccountName, kUserPrincipalName, kMail };

// The reads the job planner needs from the directory.
class DirectoryView {
 public:
  virtual ~DirectoryView() = default;
  // User accounts carrying `employee_id` as employeeID (case-insensitive). Shared, not copied: a
  // snapshot hands out its own accounts (a copy per person was a third of planning's memory).
  virtual Result<std::vector<LiveAccountPtr>> accountsByEmployeeId(
      const std::string& employee_id) = 0;
  // The planner's usual question: the account carrying `employee_id` when exactly one does, else
  // null; `count` is how many do. The default asks accountsByEmployeeId; a snapshot answers
  // without a vector per person.
  virtual Result<LiveAccountPtr> soleAccountByEmployeeId(const std::string& employee_id,
                                                         size_t& count);
  // DNs of the objects using `value` as a name of `kind` (mail: as mail or an smtp proxy address);
  // compared case-insensitively.
  virtual Result<std::vector<std::string>> holdersOf(NameKind kind, const std::string& value) = 0;
};

// A directory snapshot held in memory.
class InMemoryDirectory : public DirectoryView {
 public:
  InMemoryDirectory() = default;
  // Not copyable: the name index views the DNs this object holds.
  InMemoryDirectory(const InMemoryDirectory&) = delete;
  InMemoryDirectory& operator=(const InMemoryDirectory&) = delete;
  InMemoryDirectory(InMemoryDirectory&&) = default;
  InMemoryDirectory& operator=(InMemoryDirectory&&) = default;

  // An account (registers its names too); pass an rvalue to move it in.
  void addAccount(LiveAccount account);
  // A name used by some object that is not one of our accounts (a service account, a contact).
  void addName(NameKind kind, const std::string& value, const std::string& dn);

  Result<std::vector<LiveAccountPtr>> accountsByEmployeeId(const std::string& employee_id) override;
  Result<LiveAccountPtr> soleAccountByEmployeeId(const std::string& employee_id,
                                                 size_t& count) override;
  Result<std::vector<std::string>> holdersOf(NameKind kind, const std::string& value) override;

 private:
  // employeeID → accounts, compared ASCII case-insensitively: open addressing on the folded
  // hash, kept in the slot so that a probe rarely reads an account it does not want; the accounts
  // sharing an ID are chained in the order they were added. (A std::unordered_map of lower-cased
  // copies took five dependent cache misses and a copy per lookup: a sixth of planning's time at
  // 100,000 accounts.)
  static constexpr uint32_t kNoEntry = UINT32_MAX;
  struct IdSlot {
    uint64_t hash = 0;
    uint32_t first = kNoEntry;  // into id_entries_
  };
  struct IdEntry {
    LiveAccountPtr account;
    uint32_t next = kNoEntry;
  };
  std::vector<IdSlot> id_slots_;  // a power of two in size, at most half full
  std::vector<IdEntry> id_entries_;
  size_t id_count_ = 0;  // distinct IDs
  // The slot of `id` (hash `hash`): its chain, or the empty slot where it would go.
  IdSlot& idSlot(std::string_view id, uint64_t hash);
  const IdSlot* findId(std::string_view id) const;

  // Lower-case value → DNs of its holders: views of the accounts' own DNs (they never move), or
  // of other_dns_ for names added alone; a copy of the DN per name was a fifth of the snapshot.
  std::unordered_map<std::string, std::vector<std::string_view>> names_[3];
  std::deque<std::string> other_dns_;
  std::vector<LiveAccountPtr> without_employee_id_;  // kept for the views of their DNs
  void addNameView(NameKind kind, const std::string& value, std::string_view dn);
};

// The plan of one person.
struct PersonPlan {
  // Normalized; the same record the desired account reads. Never null in a plan from planAll,
  // which normalizes the job's records in place and shares them (no copy per person).
  std::shared_ptr<const hr::HrRecord> record;
  // The desired state of a person whose plan creates, moves or renames the account (the executor
  // reads it to create the account, to retry a name the directory refused, and for the alternate
  // CN when a move clashes). Null on errors, and for existing accounts whose plan does none of
  // that: planAll lets theirs go as soon as their plan is known (the next person reuses the
  // memory; keeping 86,000 unused ones was half of planning's fresh memory in the benchmark), so
  // their names are the live account's and a new mail address is in the plan's modifications.
  std::unique_ptr<DesiredAccount> desired;
  LiveAccountPtr live;  // the account as the directory view handed it out; null when none
  Plan plan;
  // Set when the person cannot be planned (invalid record, ambiguous employeeID, no free name):
  // nothing is applied for them.
  Status error;
  // A data problem reported while the rest of the person's plan still applies (manager cycle).
  Status warning;
  std::vector<std::string> notes;  // "manager_unresolved", "mailbox_unavailable"
  int sam_index = 1;               // the candidates in use
  int mail_index = 1;
};

inline constexpr const char* kManagerUnresolved = "manager_unresolved";
inline constexpr int kMaxNameCandidates = 100;

class JobPlanner {
 public:
  // Config error when the policy's naming templates do not compile or no users OU is known.
  static Result<JobPlanner> create(const policy::Policy& policy, DesiredContext context,
                                   DirectoryView& view,
                                   const std::vector<std::string>& reserved_names = {});

  // Plans every record, in order. Directory read failures fail only the person concerned. Takes
  // the job's records (pass an rvalue to move them in): they are normalized in place and the
  // plans share them.
  std::vector<PersonPlan> planAll(std::vector<hr::HrRecord> records);

  // For the executor's retries when the directory refuses a name the plan chose (68): switches the
  // person to the next free sAMAccountName candidate after the current one.
  Status nextSamCandidate(PersonPlan& p);

  const AccountBuilder& builder() const { return builder_; }

 private:
  JobPlanner(AccountBuilder builder, DirectoryView& view)
      : builder_(std::move(builder)), view_(view) {}
  // `r` is the record p.record points to; normalized here.
  void planOne(PersonPlan& p, hr::HrRecord& r);
  // Builds the desired account planAll let go of (a person with an account and nothing to do)
  // again, with the names planOne chose: the live sAMAccountName and UPN, mail candidate
  // p.mail_index.
  Status restoreDesired(PersonPlan& p);
  Result<bool> nameFree(NameKind kind, const std::string& value, const std::string& own_dn);
  Status chooseSam(PersonPlan& p);
  // `first_built`: d.mail is candidate 1 already (as AccountBuilder leaves it).
  Status chooseMail(PersonPlan& p, bool first_built = false);
  void resolveManagers(std::vector<PersonPlan>& people);

  AccountBuilder builder_;
  DirectoryView& view_;
  std::unordered_set<std::string> reserved_;  // lower case
  std::unordered_set<std::string> claimed_;   // lower case: names this job gave out
};

// Counts of the operations of a set of plans by kind (operationKindName), for the plan summary.
std::map<std::string, int> countOperations(const std::vector<PersonPlan>& people);

}  // namespace tenure::lifecycle
