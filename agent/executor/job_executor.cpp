#include "agent/executor/job_executor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "agent/directory/unicode_pwd.h"
#include "common/base/utf8.h"
#include "common/hr/validation.h"
#include "common/ldap/escape.h"
#include "common/lifecycle/desired_account.h"
#include "common/lifecycle/dn_util.h"
#include "common/lifecycle/planner.h"

namespace tenure::agent {

namespace {

namespace lc = lifecycle;
using protocol::IdentityOutcome;

constexpr int kMaxSamCandidates = 100;
// Jobs with at least this many people read the directory once up front (see Run::prefetch).
constexpr size_t kPrefetchThreshold = 50;
constexpr int kMaxCreateAttempts = 10;
constexpr const char* kManagerUnresolved = "manager_unresolved";

std::vector<std::string> liveAttributes() {
  std::vector<std::string> out(std::begin(lc::kOwnedAttributes), std::end(lc::kOwnedAttributes));
  for (const char* a : {lc::kManagerAttribute, "userAccountControl", "memberOf", "sAMAccountName",
                        "userPrincipalName", "cn"}) {
    out.emplace_back(a);
  }
  return out;
}

lc::LiveAccount toLive(const DirectoryEntry& e) {
  lc::LiveAccount live;
  live.dn = e.dn;
  for (const char* name : lc::kOwnedAttributes) {
    if (std::string v = e.first(name); !v.empty()) live.attributes[name] = std::move(v);
  }
  if (std::string m = e.first(lc::kManagerAttribute); !m.empty()) {
    live.attributes[lc::kManagerAttribute] = std::move(m);
  }
  const std::string uac = e.first("userAccountControl");
  uint32_t value = 0;
  if (!uac.empty() &&
      std::from_chars(uac.data(), uac.data() + uac.size(), value).ec == std::errc()) {
    live.user_account_control = value;
  }
  if (auto it = e.attributes.find("memberOf"); it != e.attributes.end()) live.member_of = it->second;
  live.sam_account_name = e.first("sAMAccountName");
  return live;
}

std::vector<Modification> toModifications(const std::vector<lc::AttributeChange>& changes) {
  std::vector<Modification> out;
  out.reserve(changes.size());
  for (const auto& c : changes) {
    Modification m;
    switch (c.op) {
      case lc::AttributeChange::Op::kAdd: m.op = Modification::Op::kAdd; break;
      case lc::AttributeChange::Op::kDelete: m.op = Modification::Op::kDelete; break;
      case lc::AttributeChange::Op::kReplace: m.op = Modification::Op::kReplace; break;
    }
    m.attribute = c.attribute;
    m.values = c.values;
    out.push_back(std::move(m));
  }
  return out;
}

int actionRank(const std::string& action) {
  static const char* kOrder[] = {"unchanged", "updated", "moved", "enabled", "disabled", "created"};
  for (int i = 0; i < 6; ++i) {
    if (action == kOrder[i]) return i;
  }
  return -1;
}

std::string actionFor(lc::OperationKind k) {
  switch (k) {
    case lc::OperationKind::kCreate: return "created";
    case lc::OperationKind::kDisable: return "disabled";
    case lc::OperationKind::kEnable: return "enabled";
    case lc::OperationKind::kMove: return "moved";
    default: return "updated";
  }
}

void raiseAction(IdentityOutcome& o, const std::string& action) {
  if (actionRank(action) > actionRank(o.action)) o.action = action;
}

void addChange(IdentityOutcome& o, const std::string& change) {
  if (std::find(o.changes.begin(), o.changes.end(), change) == o.changes.end()) {
    o.changes.push_back(change);
  }
}

void markFailed(IdentityOutcome& o, const Status& st) {
  o.action = "failed";
  o.error_class = std::string(errorClassName(st.errorClass()));
  o.error_message = st.message();
  o.directory_code = st.nativeCode();
}

std::string lowerId(std::string_view id) { return asciiLower(id); }

struct Person {
  hr::HrRecord record;
  lc::DesiredAccount desired;
  IdentityOutcome outcome;
  int sam_index = 1;
  std::string dn;            // the account's DN after pass 1 (planned DN in a dry run)
  std::string live_manager;  // `manager` as it stands after pass 1
  bool exists = false;       // the account exists (or would, in a dry run) after pass 1
  bool manager_deferred = false;
};

// The state of one execution of one job.
class Run {
 public:
  Run(DirectoryClient& dir, lc::AccountPolicy policy, std::string search_base, bool dry_run,
      const std::function<std::string()>& password)
      : dir_(dir), policy_(std::move(policy)), base_(std::move(search_base)), dry_run_(dry_run),
        password_(password) {}

  // Reads every account under the search base once, so that lookups by employeeID and name
  // checks during the job need no round trip. Worth it for large jobs: employeeID is not indexed
  // in AD by default, so each per-person search is a scan of the directory.
  Status prefetch();
  void passOne(Person& p, const std::unordered_set<std::string>& job_ids);
  void passTwo(Person& p);
  void remember(const Person& p) {
    if (p.exists && !p.outcome.failed()) dn_by_id_[lowerId(p.record.employee_id)] = p.dn;
  }

 private:
  Result<std::vector<DirectoryEntry>> findByEmployeeId(const std::string& id,
                                                       const std::vector<std::string>& attrs);
  Result<std::optional<std::string>> lookupManager(const std::string& manager_id);
  Status chooseSam(Person& p);
  Status create(Person& p, lc::Operation& op);
  Status apply(Person& p, lc::Plan& plan);

  DirectoryClient& dir_;
  lc::AccountPolicy policy_;
  std::string base_;
  bool dry_run_;
  const std::function<std::string()>& password_;
  struct Snapshot {
    std::unordered_map<std::string, std::vector<DirectoryEntry>> by_employee_id;  // lower-case id
    std::unordered_set<std::string> names;  // lower-case sAMAccountNames and UPNs in use
  };
  std::optional<Snapshot> snapshot_;
  std::set<std::string> claimed_sams_;             // lower-case, taken by this job
  std::map<std::string, std::string> dn_by_id_;    // lower-case employee_id → DN, this job
};

Status Run::prefetch() {
  std::vector<std::string> attrs = liveAttributes();
  attrs.emplace_back("employeeID");
  ASSIGN_OR_RETURN(auto all, dir_.search(base_, SearchScope::kSubtree, "(objectClass=user)", attrs));
  Snapshot snap;
  for (auto& e : all) {
    for (const char* name : {"sAMAccountName", "userPrincipalName"}) {
      if (std::string v = e.first(name); !v.empty()) snap.names.insert(asciiLower(v));
    }
    if (std::string id = e.first("employeeID"); !id.empty()) {
      snap.by_employee_id[lowerId(id)].push_back(std::move(e));
    }
  }
  snapshot_ = std::move(snap);
  return Status::ok();
}

Result<std::vector<DirectoryEntry>> Run::findByEmployeeId(const std::string& id,
                                                          const std::vector<std::string>& attrs) {
  if (snapshot_) {
    auto it = snapshot_->by_employee_id.find(lowerId(id));
    if (it == snapshot_->by_employee_id.end()) return std::vector<DirectoryEntry>();
    return it->second;
  }
  return dir_.search(base_, SearchScope::kSubtree,
                     "(&(objectClass=user)(employeeID=" + ldap::escapeFilterValue(id) + "))", attrs);
}

Result<std::optional<std::string>> Run::lookupManager(const std::string& manager_id) {
  if (auto it = dn_by_id_.find(lowerId(manager_id)); it != dn_by_id_.end()) {
    return std::optional<std::string>(it->second);
  }
  ASSIGN_OR_RETURN(auto found, findByEmployeeId(manager_id, {"employeeID"}));
  if (found.size() != 1) return std::optional<std::string>();  // none, or ambiguous
  return std::optional<std::string>(found[0].dn);
}

// Picks the first candidate from p.sam_index on that neither this job nor the directory uses, as
// a sAMAccountName or as the local part of a UPN (accounts Tenure does not manage count too).
Status Run::chooseSam(Person& p) {
  if (p.desired.sam_base.empty()) {
    return dataError("cannot derive an account name from the names or employee_id");
  }
  for (; p.sam_index <= kMaxSamCandidates; ++p.sam_index) {
    const std::string candidate = p.desired.samCandidate(p.sam_index);
    if (claimed_sams_.count(candidate)) continue;
    if (snapshot_) {
      const std::string upn = asciiLower(candidate + "@" + policy_.upn_suffix);
      if (snapshot_->names.count(asciiLower(candidate)) ||
          (!policy_.upn_suffix.empty() && snapshot_->names.count(upn))) {
        continue;
      }
      p.desired.useSamCandidate(p.sam_index);
      claimed_sams_.insert(candidate);
      return Status::ok();
    }
    std::string filter = "(|(sAMAccountName=" + ldap::escapeFilterValue(candidate) + ")";
    if (!policy_.upn_suffix.empty()) {
      filter += "(userPrincipalName=" +
                ldap::escapeFilterValue(candidate + "@" + policy_.upn_suffix) + ")";
    }
    filter += ")";
    ASSIGN_OR_RETURN(auto taken, dir_.search(base_, SearchScope::kSubtree, filter,
                                             {"sAMAccountName"}));
    if (taken.empty()) {
      p.desired.useSamCandidate(p.sam_index);
      claimed_sams_.insert(candidate);
      return Status::ok();
    }
  }
  return conflictError("no free sAMAccountName among " + std::to_string(kMaxSamCandidates) +
                       " candidates for " + p.desired.sam_base);
}

// Adds the account; on "already exists" (68) finds out whether the CN or the sAMAccountName
// clashed and retries with the alternate CN or the next name candidate.
Status Run::create(Person& p, lc::Operation& op) {
  for (int attempt = 0; attempt < kMaxCreateAttempts; ++attempt) {
    std::vector<Modification> mods = toModifications(op.modifications);
    for (auto& m : mods) {
      if (m.attribute == lc::kPasswordAttribute) m.values = {encodeUnicodePwd(password_())};
    }
    Status st = dir_.add(op.dn, mods);
    if (st.isOk() || st.nativeCode() != 68) return st;
    auto existing = dir_.search(op.dn, SearchScope::kBase, "(objectClass=*)", {"cn"});
    if (existing.isOk() && !existing->empty()) {
      if (p.desired.cn == p.desired.cn_alternate) {
        return conflictError("an entry named " + op.dn + " already exists", 68);
      }
      p.desired.useAlternateCn();
    } else {
      ++p.sam_index;
      RETURN_IF_ERROR(chooseSam(p));
    }
    lc::Plan again = lc::plan(p.desired, std::nullopt);
    if (again.operations.empty()) return internalError("create plan vanished on retry");
    op = std::move(again.operations.front());
  }
  return conflictError("could not create " + op.dn + " after " +
                       std::to_string(kMaxCreateAttempts) + " attempts", 68);
}

Status Run::apply(Person& p, lc::Plan& plan) {
  std::string current = plan.final_dn;
  for (size_t i = 0; i < plan.operations.size(); ++i) {
    lc::Operation& op = plan.operations[i];
    Status st;
    if (!dry_run_) {
      switch (op.kind) {
        case lc::OperationKind::kCreate:
          st = create(p, op);
          if (st.isOk()) current = op.dn;
          break;
        case lc::OperationKind::kMove: {
          const std::string parent = op.new_parent_dn;
          std::string rdn = ldap::rdnOf(op.dn);
          st = dir_.rename(op.dn, rdn, parent);
          if (st.nativeCode() == 68) {
            // Someone with the same name already sits in the target OU.
            rdn = ldap::makeRdn("CN", p.desired.cn_alternate);
            st = dir_.rename(op.dn, rdn, parent);
          }
          if (st.isOk()) {
            const std::string planned = ldap::rdnOf(op.dn) + "," + parent;
            const std::string actual = rdn + "," + parent;
            for (size_t j = i + 1; j < plan.operations.size(); ++j) {
              if (plan.operations[j].dn == planned) plan.operations[j].dn = actual;
            }
            current = actual;
          }
          break;
        }
        default:
          st = dir_.modify(op.dn, toModifications(op.modifications));
          break;
      }
    }
    if (!st.isOk()) {
      spdlog::warn("job person {}: {} failed: {}", p.record.employee_id,
                   lc::operationKindName(op.kind), st.toString());
      return st;
    }
    raiseAction(p.outcome, actionFor(op.kind));
    for (const auto& c : op.changes) addChange(p.outcome, c);
    if (op.kind == lc::OperationKind::kCreate) {
      p.outcome.sam_account_name = p.desired.sam_account_name;
      if (p.desired.manager_dn) p.live_manager = *p.desired.manager_dn;
    }
    if (std::find(op.changes.begin(), op.changes.end(), lc::kManagerAttribute) != op.changes.end()) {
      p.live_manager = p.desired.manager_dn.value_or("");
    }
  }
  p.dn = current;
  return Status::ok();
}

void Run::passOne(Person& p, const std::unordered_set<std::string>& job_ids) {
  p.outcome.employee_id = p.record.employee_id;
  p.outcome.action = "unchanged";

  // The control plane validated the record; check again so a bad one can never be half-applied.
  hr::HrRecord record = p.record;
  if (auto errors = hr::normalizeAndValidate(record, 0); !errors.empty()) {
    std::string message;
    for (const auto& e : errors) {
      std::string reason = e.reason;
      if (reason.rfind("row 0: ", 0) == 0) reason.erase(0, 7);
      message += (message.empty() ? "" : "; ") + reason;
    }
    markFailed(p.outcome, dataError(message));
    return;
  }
  p.desired = lc::desiredAccount(record, policy_);

  auto found = findByEmployeeId(record.employee_id, liveAttributes());
  if (!found.isOk()) {
    markFailed(p.outcome, found.status().withContext("looking up employeeID"));
    return;
  }
  if (found->size() > 1) {
    std::string dns;
    for (const auto& e : *found) dns += (dns.empty() ? "" : "; ") + e.dn;
    markFailed(p.outcome, conflictError(std::to_string(found->size()) +
                                        " accounts carry employeeID " + record.employee_id +
                                        ": " + dns));
    return;
  }
  std::optional<lc::LiveAccount> live;
  if (found->size() == 1) {
    live = toLive(found->front());
    p.dn = live->dn;
    p.exists = true;
    p.live_manager = live->attribute(lc::kManagerAttribute);
    p.outcome.sam_account_name = live->sam_account_name;
  }

  const std::string& manager_id = p.desired.manager_employee_id;
  if (!manager_id.empty()) {
    auto manager = lookupManager(manager_id);
    if (manager.isOk() && manager->has_value() && !ldap::dnEquals(**manager, p.dn)) {
      p.desired.manager_dn = **manager;
    } else if (job_ids.count(lowerId(manager_id)) && lowerId(manager_id) != lowerId(record.employee_id)) {
      p.manager_deferred = true;  // may be created later in this job
    } else {
      addChange(p.outcome, kManagerUnresolved);
    }
  }

  if (!live && p.desired.status != "terminated") {
    if (Status st = chooseSam(p); !st.isOk()) {
      markFailed(p.outcome, st);
      return;
    }
  }
  lc::Plan plan = lc::plan(p.desired, live);
  if (Status st = apply(p, plan); !st.isOk()) {
    markFailed(p.outcome, st);
    return;
  }
  p.exists = !plan.final_dn.empty();
  if (p.exists) p.outcome.dn = p.dn;
}

void Run::passTwo(Person& p) {
  if (!p.manager_deferred || p.outcome.failed() || !p.exists) return;
  auto manager = lookupManager(p.desired.manager_employee_id);
  if (!manager.isOk() || !manager->has_value()) {
    addChange(p.outcome, kManagerUnresolved);
    return;
  }
  auto op = lc::planManager(p.dn, p.live_manager, **manager);
  if (!op) return;
  if (!dry_run_) {
    if (Status st = dir_.modify(op->dn, toModifications(op->modifications)); !st.isOk()) {
      markFailed(p.outcome, st.withContext("setting manager"));
      return;
    }
  }
  raiseAction(p.outcome, "updated");
  addChange(p.outcome, lc::kManagerAttribute);
}

// A resumed job reports what the interrupted attempt already did for a person.
IdentityOutcome withPrior(const IdentityOutcome& now,
                          const std::map<std::string, IdentityOutcome>& prior) {
  auto it = prior.find(now.employee_id);
  if (it == prior.end() || it->second.failed() || now.failed()) return now;
  const IdentityOutcome& before = it->second;
  if (now.action == "unchanged") {
    IdentityOutcome out = before;
    out.employee_id = now.employee_id;
    for (const auto& c : now.changes) addChange(out, c);
    if (out.dn.empty()) out.dn = now.dn;
    if (out.sam_account_name.empty()) out.sam_account_name = now.sam_account_name;
    return out;
  }
  IdentityOutcome out = now;
  if (actionRank(before.action) > actionRank(now.action)) out.action = before.action;
  std::vector<std::string> changes = before.changes;
  for (const auto& c : now.changes) {
    if (std::find(changes.begin(), changes.end(), c) == changes.end()) changes.push_back(c);
  }
  out.changes = std::move(changes);
  return out;
}

std::string policyString(const boost::json::object& policy, const char* key, std::string fallback) {
  auto it = policy.find(key);
  if (it != policy.end() && it->value().is_string() && !it->value().get_string().empty()) {
    return std::string(it->value().get_string());
  }
  return fallback;
}

}  // namespace

JobExecutor::JobExecutor(DirectoryClient& dir, ExecutorSettings s, const Clock& clock,
                         ProgressSink* sink, std::function<std::string()> password_generator)
    : dir_(dir), settings_(std::move(s)), clock_(clock), sink_(sink),
      password_generator_(password_generator ? std::move(password_generator)
                                             : std::function<std::string()>(generateInitialPassword)) {}

protocol::JobResult JobExecutor::execute(const protocol::Job& job,
                                         const std::map<std::string, IdentityOutcome>& prior) {
  protocol::JobResult result;
  cancelled_ = false;
  result.job_id = job.job_id;
  result.agent_version = settings_.agent_version;
  result.started_at_ms = clock_.nowUnixMillis();
  auto finish = [&](protocol::JobResult& r) -> protocol::JobResult {
    r.finished_at_ms = clock_.nowUnixMillis();
    return std::move(r);
  };
  auto jobFailed = [&](const Status& st) {
    result.status = "failed";
    result.error_class = std::string(errorClassName(st.errorClass()));
    result.error_message = st.message();
    return finish(result);
  };

  lc::AccountPolicy policy;
  policy.users_ou = policyString(job.policy, "users_ou", settings_.users_base_dn);
  policy.leavers_ou = policyString(job.policy, "leavers_ou", settings_.leavers_ou);
  policy.upn_suffix =
      policyString(job.policy, "upn_suffix",
                   settings_.upn_suffix.empty() ? lc::dnsDomainOf(policy.users_ou) : settings_.upn_suffix);
  if (policy.users_ou.empty()) return jobFailed(configError("no users OU configured"));
  std::string search_base = lc::domainRootOf(policy.users_ou);
  if (search_base.empty()) search_base = policy.users_ou;

  Status connected = dir_.connect();
  result.domain_controller = dir_.serverName();
  if (!connected.isOk()) return jobFailed(connected.withContext("connecting to the directory"));

  std::vector<Person> people(job.identities.size());
  std::unordered_set<std::string> job_ids;
  for (size_t i = 0; i < people.size(); ++i) {
    people[i].record = job.identities[i];
    job_ids.insert(lowerId(trimUnicodeSpace(job.identities[i].employee_id)));
  }

  Run run(dir_, policy, search_base, job.dry_run, password_generator_);
  if (people.size() >= kPrefetchThreshold) {
    if (Status st = run.prefetch(); !st.isOk()) {
      // Not fatal: per-person lookups still work, only slower.
      spdlog::warn("job {}: reading the directory up front failed ({}); looking up one by one",
                   job.job_id, st.toString());
    }
  }
  auto report = [&](const Person& p) {
    if (sink_ != nullptr) sink_->onOutcome(job.job_id, withPrior(p.outcome, prior));
  };
  for (Person& p : people) {
    if (cancelRequested()) {
      cancelled_ = true;
      return finish(result);
    }
    run.passOne(p, job_ids);
    run.remember(p);
    // A person whose manager comes later is reported now if something happened (so a crash
    // before the second pass loses nothing), and again after it.
    if (!p.manager_deferred || p.outcome.action != "unchanged") report(p);
  }
  for (Person& p : people) {
    if (cancelRequested()) {
      cancelled_ = true;
      return finish(result);
    }
    if (!p.manager_deferred) continue;
    run.passTwo(p);
    report(p);
  }

  size_t failed = 0;
  for (const Person& p : people) {
    result.outcomes.push_back(withPrior(p.outcome, prior));
    if (p.outcome.failed()) ++failed;
  }
  if (failed > 0 && failed == people.size()) {
    result.status = "failed";
  } else if (failed > 0) {
    result.status = "partial";
  } else {
    result.status = "succeeded";
  }
  return finish(result);
}

}  // namespace tenure::agent
