#include "common/lifecycle/job_planner.h"

#include <algorithm>
#include <cstdint>

#include "common/base/utf8.h"
#include "common/hr/validation.h"
#include "common/ldap/escape.h"
#include "common/lifecycle/mailbox.h"

namespace tenure::lifecycle {

namespace {

std::string lower(std::string_view s) { return asciiLower(s); }

const std::string kNoValue;

// asciiLower(a) == asciiLower(b) without the copies. Equal text is the usual case when the
// sizes match, so that is tried first (one memcmp rather than a loop folding every byte).
bool sameText(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a == b) return true;
  auto low = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return std::equal(a.begin(), a.end(), b.begin(),
                    [&](char x, char y) { return low(x) == low(y); });
}

// A hash that agrees with sameText (ASCII case-insensitive), for keys that are views.
struct FoldedHash {
  size_t operator()(std::string_view s) const {
    uint64_t h = 14695981039346656037ull;  // FNV-1a over the folded bytes
    for (char c : s) {
      h ^= static_cast<unsigned char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      h *= 1099511628211ull;
    }
    return static_cast<size_t>(h);
  }
};

// Employee IDs of one job → the position of their first holder, compared as sameText does: open
// addressing on the folded hash, kept in the slot so that a probe rarely reads a record it does
// not want (a std::unordered_map's node per ID was one more cache miss per lookup).
class PositionIndex {
 public:
  static constexpr size_t kNone = SIZE_MAX;
  // `ids` views the IDs; they outlive the index.
  explicit PositionIndex(std::vector<std::string_view> ids) : ids_(std::move(ids)) {
    size_t size = 16;
    while (size < ids_.size() * 2) size *= 2;
    slots_.resize(size);
  }
  // False when an earlier position holds the ID.
  bool insert(size_t pos) {
    const std::string_view id = ids_[pos];
    const uint64_t hash = FoldedHash{}(id);
    Slot& slot = slotOf(id, hash);
    if (slot.pos != kNone) return false;
    slot = {hash, pos};
    return true;
  }
  size_t find(std::string_view id) { return slotOf(id, FoldedHash{}(id)).pos; }

 private:
  struct Slot {
    uint64_t hash = 0;
    size_t pos = kNone;
  };
  Slot& slotOf(std::string_view id, uint64_t hash) {
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.pos == kNone || (slot.hash == hash && sameText(ids_[slot.pos], id))) return slot;
    }
  }
  std::vector<std::string_view> ids_;
  std::vector<Slot> slots_;  // at most half full
};

// Whether executing `plan` reads the person's desired state: a create (its names, and the next
// candidates when the directory refuses one) or a move or rename (the alternate CN on a clash).
bool needsDesired(const Plan& plan) {
  return std::any_of(plan.operations.begin(), plan.operations.end(), [](const Operation& op) {
    return op.kind == OperationKind::kCreate || op.kind == OperationKind::kMove ||
           op.kind == OperationKind::kRename;
  });
}

// "<kind>:<lower-case value>", built in one string (this runs for every person).
std::string nameKey(NameKind kind, std::string_view value) {
  std::string key(value.size() + 2, ':');
  key[0] = static_cast<char>('0' + static_cast<int>(kind));
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    key[i + 2] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return key;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// InMemoryDirectory

void InMemoryDirectory::addAccount(LiveAccount account) {
  auto shared = std::make_shared<const LiveAccount>(std::move(account));
  const LiveAccount& a = *shared;
  if (!a.sam_account_name.empty()) addNameView(NameKind::kSamAccountName, a.sam_account_name, a.dn);
  if (const auto& upn = a.attribute("userPrincipalName"); !upn.empty()) {
    addNameView(NameKind::kUserPrincipalName, upn, a.dn);
  }
  if (const auto& mail = a.attribute(kMailAttribute); !mail.empty()) {
    addNameView(NameKind::kMail, mail, a.dn);
  }
  for (const auto& proxy : a.proxy_addresses) {
    if (std::string addr = smtpAddressOf(proxy); !addr.empty())
      addNameView(NameKind::kMail, addr, a.dn);
  }
  if (a.employee_id.empty()) {
    without_employee_id_.push_back(std::move(shared));
    return;
  }
  if ((id_count_ + 1) * 2 > id_slots_.size()) {  // grow: keep at most half the slots in use
    std::vector<IdSlot> old(std::max<size_t>(16, id_slots_.size() * 2));
    old.swap(id_slots_);
    const size_t mask = id_slots_.size() - 1;
    for (const IdSlot& slot : old) {
      if (slot.first == kNoEntry) continue;
      size_t i = slot.hash & mask;
      while (id_slots_[i].first != kNoEntry) i = (i + 1) & mask;
      id_slots_[i] = slot;
    }
  }
  const uint32_t entry = static_cast<uint32_t>(id_entries_.size());
  IdSlot& slot = idSlot(a.employee_id, FoldedHash{}(a.employee_id));
  id_entries_.push_back({std::move(shared), kNoEntry});
  if (slot.first == kNoEntry) {
    slot.hash = FoldedHash{}(a.employee_id);
    slot.first = entry;
    ++id_count_;
    return;
  }
  uint32_t last = slot.first;
  while (id_entries_[last].next != kNoEntry) last = id_entries_[last].next;
  id_entries_[last].next = entry;
}

InMemoryDirectory::IdSlot& InMemoryDirectory::idSlot(std::string_view id, uint64_t hash) {
  const size_t mask = id_slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    IdSlot& slot = id_slots_[i];
    if (slot.first == kNoEntry) return slot;
    if (slot.hash == hash && sameText(id_entries_[slot.first].account->employee_id, id)) {
      return slot;
    }
  }
}

const InMemoryDirectory::IdSlot* InMemoryDirectory::findId(std::string_view id) const {
  if (id_slots_.empty()) return nullptr;
  const IdSlot& slot = const_cast<InMemoryDirectory*>(this)->idSlot(id, FoldedHash{}(id));
  return slot.first == kNoEntry ? nullptr : &slot;
}

void InMemoryDirectory::addName(NameKind kind, const std::string& value, const std::string& dn) {
  auto& holders = names_[static_cast<int>(kind)][lower(value)];
  if (std::find(holders.begin(), holders.end(), dn) != holders.end()) return;
  holders.push_back(other_dns_.emplace_back(dn));
}

void InMemoryDirectory::addNameView(NameKind kind, const std::string& value,
                                    std::string_view dn) {
  auto& holders = names_[static_cast<int>(kind)][lower(value)];
  if (std::find(holders.begin(), holders.end(), dn) == holders.end()) holders.push_back(dn);
}

Result<std::vector<LiveAccountPtr>> InMemoryDirectory::accountsByEmployeeId(
    const std::string& id) {
  std::vector<LiveAccountPtr> out;
  if (const IdSlot* slot = findId(id)) {
    for (uint32_t e = slot->first; e != kNoEntry; e = id_entries_[e].next) {
      out.push_back(id_entries_[e].account);
    }
  }
  return out;
}

Result<LiveAccountPtr> InMemoryDirectory::soleAccountByEmployeeId(const std::string& id,
                                                                  size_t& count) {
  count = 0;
  const IdSlot* slot = findId(id);
  if (slot == nullptr) return LiveAccountPtr();
  for (uint32_t e = slot->first; e != kNoEntry; e = id_entries_[e].next) ++count;
  return count == 1 ? id_entries_[slot->first].account : LiveAccountPtr();
}

Result<LiveAccountPtr> DirectoryView::soleAccountByEmployeeId(const std::string& id,
                                                              size_t& count) {
  count = 0;
  ASSIGN_OR_RETURN(auto found, accountsByEmployeeId(id));
  count = found.size();
  return count == 1 ? std::move(found.front()) : LiveAccountPtr();
}

Result<std::vector<std::string>> InMemoryDirectory::holdersOf(NameKind kind,
                                                              const std::string& value) {
  const auto& names = names_[static_cast<int>(kind)];
  auto it = names.find(lower(value));
  if (it == names.end()) return std::vector<std::string>();
  return std::vector<std::string>(it->second.begin(), it->second.end());
}

// ---------------------------------------------------------------------------------------------
// JobPlanner

Result<JobPlanner> JobPlanner::create(const policy::Policy& policy, DesiredContext context,
                                      DirectoryView& view,
                                      const std::vector<std::string>& reserved_names) {
  ASSIGN_OR_RETURN(AccountBuilder builder, AccountBuilder::create(policy, std::move(context)));
  JobPlanner planner(std::move(builder), view);
  for (const auto& n : reserved_names) planner.reserved_.insert(lower(n));
  return planner;
}

Result<bool> JobPlanner::nameFree(NameKind kind, const std::string& value,
                                  const std::string& own_dn) {
  if (reserved_.count(lower(value)) || claimed_.count(nameKey(kind, value))) return false;
  ASSIGN_OR_RETURN(auto holders, view_.holdersOf(kind, value));
  for (const auto& dn : holders) {
    if (own_dn.empty() || !ldap::dnEquals(dn, own_dn)) return false;
  }
  return true;
}

// The first candidate from p.sam_index on whose sAMAccountName and UPN are both free.
Status JobPlanner::chooseSam(PersonPlan& p) {
  DesiredAccount& d = *p.desired;
  for (; p.sam_index <= kMaxNameCandidates; ++p.sam_index) {
    const std::string sam = d.samCandidate(p.sam_index);
    ASSIGN_OR_RETURN(bool sam_free, nameFree(NameKind::kSamAccountName, sam, ""));
    if (!sam_free) continue;
    const std::string upn = d.upnFor(sam);
    if (!upn.empty()) {
      ASSIGN_OR_RETURN(bool upn_free, nameFree(NameKind::kUserPrincipalName, upn, ""));
      if (!upn_free) continue;
    }
    d.useSamCandidate(p.sam_index);
    claimed_.insert(nameKey(NameKind::kSamAccountName, sam));
    if (!upn.empty()) claimed_.insert(nameKey(NameKind::kUserPrincipalName, upn));
    return Status::ok();
  }
  return conflictError("no free sAMAccountName among " + std::to_string(kMaxNameCandidates) +
                       " candidates for " + d.sam_base);
}

// Keeps a live address that is still a candidate of the person's mail rule (jsmith2@ stays
// jsmith2@ even when jsmith@ became free); otherwise the first free candidate.
Status JobPlanner::chooseMail(PersonPlan& p, bool first_built) {
  DesiredAccount& d = *p.desired;
  if (d.mail_base.empty() || d.mail_domain.empty()) {
    d.mail.clear();
    return Status::ok();
  }
  const std::string& own_dn = p.live ? p.live->dn : kNoValue;
  const std::string& live_mail = p.live ? p.live->attribute(kMailAttribute) : kNoValue;
  // A kept live address is not claimed: the directory view already shows it held by this
  // account, so nobody else in the job gets it (claiming it anyway was a set entry per person).
  if (!live_mail.empty()) {
    if (first_built && sameText(d.mail, live_mail)) {  // the usual case: the address is kept
      p.mail_index = 1;
      return Status::ok();
    }
    for (int n = first_built ? 2 : 1; n <= kMaxNameCandidates; ++n) {
      if (std::string candidate = d.mailCandidate(n); sameText(candidate, live_mail)) {
        p.mail_index = n;
        d.mail = std::move(candidate);  // useMailCandidate(n), without building it again
        return Status::ok();
      }
    }
  }
  for (p.mail_index = 1; p.mail_index <= kMaxNameCandidates; ++p.mail_index) {
    const std::string mail = d.mailCandidate(p.mail_index);
    ASSIGN_OR_RETURN(bool free, nameFree(NameKind::kMail, mail, own_dn));
    if (!free) continue;
    d.useMailCandidate(p.mail_index);
    claimed_.insert(nameKey(NameKind::kMail, mail));
    return Status::ok();
  }
  return conflictError("no free mail address among " + std::to_string(kMaxNameCandidates) +
                       " candidates for " + d.mail_base + "@" + d.mail_domain);
}

Status JobPlanner::nextSamCandidate(PersonPlan& p) {
  if (!p.desired) return internalError("no desired state");
  ++p.sam_index;
  RETURN_IF_ERROR(chooseSam(p));
  return chooseMail(p);
}

void JobPlanner::planOne(PersonPlan& p, hr::HrRecord& r) {
  auto errors = hr::normalizeAndValidate(r, 0);
  if (!errors.empty()) {
    std::string message;
    for (const auto& e : errors) {
      std::string reason = e.reason;
      if (reason.rfind("row 0: ", 0) == 0) reason.erase(0, 7);
      message += (message.empty() ? "" : "; ") + reason;
    }
    p.error = dataError(message);
    return;
  }
  // The live account first: its names are final, so the builder need not derive them.
  size_t count = 0;
  auto found = view_.soleAccountByEmployeeId(r.employee_id, count);
  ExistingNames existing;
  const bool one = found.isOk() && *found != nullptr;
  if (one) {
    existing.sam_account_name = (*found)->sam_account_name;
    existing.upn = (*found)->attribute("userPrincipalName");
  }
  p.desired = std::make_unique<DesiredAccount>();
  DesiredAccount& d = *p.desired;
  if (Status st = builder_.buildInto(p.record, one ? &existing : nullptr, d); !st.isOk()) {
    p.desired.reset();
    p.error = st;
    return;
  }

  if (!found.isOk()) {
    p.error = found.status().withContext("looking up employeeID");
    return;
  }
  if (count > 1) {
    std::string dns;
    auto all = view_.accountsByEmployeeId(r.employee_id);
    for (const auto& e : all.isOk() ? *all : std::vector<LiveAccountPtr>()) {
      dns += (dns.empty() ? "" : "; ") + e->dn;
    }
    p.error = conflictError(std::to_string(count) + " accounts carry employeeID " + r.employee_id +
                            ": " + dns);
    return;
  }
  if (one) {
    p.live = std::move(*found);
    // A sAMAccountName never changes after creation (nor the UPN derived from it).
    d.sam_account_name = p.live->sam_account_name;  // as the builder took them (ExistingNames)
    d.upn = existing.upn;
  } else if (d.state.may_create) {
    if (Status st = chooseSam(p); !st.isOk()) {
      p.error = st;
      return;
    }
  }
  if (p.live || d.state.may_create) {
    // With a live account no sAMAccountName was chosen, so d.mail is still the builder's first
    // candidate.
    if (Status st = chooseMail(p, p.live != nullptr); !st.isOk()) {
      p.error = st;
      return;
    }
  }
}

Status JobPlanner::restoreDesired(PersonPlan& p) {
  if (!p.live) return internalError("no desired state to restore without an account");
  const ExistingNames existing{p.live->sam_account_name, p.live->attribute("userPrincipalName")};
  auto d = std::make_unique<DesiredAccount>();
  RETURN_IF_ERROR(builder_.buildInto(p.record, &existing, *d));
  d->sam_account_name = p.live->sam_account_name;  // as planOne leaves them
  d->upn = existing.upn;
  if (d->mail_base.empty() || d->mail_domain.empty()) {
    d->mail.clear();
  } else if (p.mail_index != 1) {
    d->useMailCandidate(p.mail_index);
  }
  p.desired = std::move(d);
  return Status::ok();
}

void JobPlanner::resolveManagers(std::vector<PersonPlan>& people) {
  const size_t n = people.size();
  // employee_id → position of its first holder, compared as AD compares employeeID (ASCII
  // case-insensitively), keyed by views of the records (a lower-case copy of every id and manager
  // id was 6 MB of fresh memory at 100,000 people).
  std::vector<std::string_view> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = people[i].record->employee_id;
  PositionIndex index(std::move(ids));
  std::vector<char> duplicate(n, 0);  // an earlier record carries the same employee_id
  for (size_t i = 0; i < n; ++i) {
    if (!people[i].record->employee_id.empty()) duplicate[i] = !index.insert(i);
  }
  // Positions whose manager chain is known to end (at someone without a manager in this job)
  // rather than run into a cycle. No chain through such a position comes back to where it
  // started, so a chain is followed once rather than once per person below it. (Not for a
  // duplicate employee_id: its chain "comes back" at the first holder, whose manager differs.)
  std::vector<char> ends(n, 0);
  // Whether the person at a position keeps their DN in this run: -1 not worked out yet.
  std::vector<signed char> manager_stable(n, -1);
  std::vector<size_t> via;  // the people a chain passes through
  for (size_t i = 0; i < n; ++i) {
    PersonPlan& p = people[i];
    if (!p.error.isOk() || p.plan.final_dn.empty()) continue;
    const std::string& manager_id = p.record->manager_id;  // the desired account's too
    if (manager_id.empty()) continue;

    // Follow the chain inside the job: back at this person means a cycle.
    const std::string& own_id = p.record->employee_id;
    const size_t in_job = index.find(manager_id);
    size_t at = in_job;
    std::string_view key = manager_id;
    bool cycle = false;
    bool ended = false;
    via.clear();
    for (size_t length = 1; length <= n + 1; ++length) {
      if (sameText(key, own_id)) {
        cycle = true;
        break;
      }
      if (length > 1) at = index.find(key);
      if (at == PositionIndex::kNone || people[at].record->manager_id.empty()) {
        ended = true;
        break;
      }
      if (ends[at] && !duplicate[i]) {
        ended = true;
        break;
      }
      via.push_back(at);
      key = people[at].record->manager_id;
    }
    if (ended) {
      for (size_t k : via) ends[k] = 1;
    }
    if (cycle) {
      std::string path = own_id + " → " + manager_id;
      for (size_t k : via) path += " → " + people[k].record->manager_id;
      p.warning = dataError("manager cycle: " + path + " (manager left unchanged)");
      continue;
    }

    const std::string* manager_dn = nullptr;
    LiveAccountPtr manager_live;  // keeps manager_dn alive when it comes from the view
    bool stable = false;          // the manager's DN does not change in this run
    if (in_job != PositionIndex::kNone) {
      const PersonPlan& m = people[in_job];
      if (m.error.isOk() && !m.plan.final_dn.empty()) {
        manager_dn = &m.plan.final_dn;
        signed char& known = manager_stable[in_job];  // once per manager, not per report
        if (known < 0) known = m.live && ldap::dnEquals(m.live->dn, m.plan.final_dn) ? 1 : 0;
        stable = known == 1;
      }
    } else {
      size_t count = 0;
      auto found = view_.soleAccountByEmployeeId(manager_id, count);
      if (found.isOk() && *found != nullptr) {
        manager_live = std::move(*found);
        manager_dn = &manager_live->dn;
        stable = true;
      }
    }
    if (manager_dn == nullptr) {
      p.notes.push_back(kManagerUnresolved);
      continue;
    }
    if (stable) {
      // The usual case, the manager already set: planning again would give the same plan.
      const bool unchanged =
          p.live && ldap::dnEquals(p.live->attribute(kManagerAttribute), *manager_dn);
      if (unchanged) {
        if (p.desired) p.desired->manager_dn = *manager_dn;
        continue;
      }
      if (!p.desired) {
        if (Status st = restoreDesired(p); !st.isOk()) {
          p.error = st;
          continue;
        }
      }
      p.desired->manager_dn = *manager_dn;
      p.plan = plan(*p.desired, p.live.get());
      continue;
    }
    const std::string& live_manager = p.live ? p.live->attribute(kManagerAttribute) : kNoValue;
    if (auto op = planManager(p.plan.final_dn, live_manager, *manager_dn)) {
      op->deferred = true;
      op->manager_employee_id = manager_id;
      op->reason = "HR manager " + manager_id + " (" + (people[in_job].live ? "moved" : "created") +
                   " in this run)";
      p.plan.operations.push_back(std::move(*op));
    }
  }
}

std::vector<PersonPlan> JobPlanner::planAll(std::vector<hr::HrRecord> records) {
  // The plans point into the records, which live as long as any plan does.
  auto shared = std::make_shared<std::vector<hr::HrRecord>>(std::move(records));
  std::vector<hr::HrRecord>& all = *shared;
  std::vector<PersonPlan> people(all.size());
  std::unordered_set<std::string> dns;  // lower-case DNs of the accounts this job creates
  for (size_t i = 0; i < all.size(); ++i) {
    PersonPlan& p = people[i];
    p.record = std::shared_ptr<const hr::HrRecord>(shared, &all[i]);
    planOne(p, all[i]);
    if (!p.error.isOk()) continue;
    DesiredAccount& d = *p.desired;
    if (!p.live && d.state.may_create && dns.count(lower(d.dn()))) d.useAlternateCn();
    p.plan = plan(d, p.live.get());
    if (!p.live && !p.plan.final_dn.empty()) dns.insert(lower(p.plan.final_dn));
    // An existing account whose plan neither creates, moves nor renames it (most of a job): the
    // executor needs no desired state, and resolveManagers builds it again in the rare case the
    // manager changed alone.
    if (p.live && !needsDesired(p.plan)) p.desired.reset();
  }
  resolveManagers(people);
  for (PersonPlan& p : people) {
    for (const auto& n : p.plan.notes) {
      if (std::find(p.notes.begin(), p.notes.end(), n) == p.notes.end()) p.notes.push_back(n);
    }
  }
  return people;
}

std::map<std::string, int> countOperations(const std::vector<PersonPlan>& people) {
  std::map<std::string, int> counts;
  for (const PersonPlan& p : people) {
    if (!p.error.isOk()) continue;
    for (const Operation& op : p.plan.operations) ++counts[std::string(operationKindName(op.kind))];
  }
  return counts;
}

}  // namespace tenure::lifecycle
