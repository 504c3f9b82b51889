#include "agent/executor/job_executor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "agent/directory/schema.h"
#include "agent/directory/unicode_pwd.h"
#include "common/base/time_zone.h"
#include "common/base/utf8.h"
#include "common/ldap/escape.h"
#include "common/lifecycle/dn_util.h"
#include "common/lifecycle/job_planner.h"
#include "common/lifecycle/mailbox.h"
#include "common/lifecycle/planner.h"
#include "common/policy/policy.h"

namespace tenure::agent {

namespace {

namespace lc = lifecycle;
using protocol::IdentityOutcome;

// Jobs with at least this many people read the directory once up front (see prefetch()).
constexpr size_t kPrefetchThreshold = 50;
constexpr int kMaxCreateAttempts = 10;

lc::LiveAccount toLive(const DirectoryEntry& e) {
  lc::LiveAccount live;
  live.dn = e.dn;
  for (const std::string& name : lc::liveAccountAttributes()) {
    if (name == "memberOf" || name == lc::kProxyAddresses || name == "userAccountControl" ||
        name == "sAMAccountName" || name == "cn") {
      continue;
    }
    if (std::string v = e.first(name); !v.empty()) live.attributes[name] = std::move(v);
  }
  const std::string uac = e.first("userAccountControl");
  uint32_t value = 0;
  if (!uac.empty() &&
      std::from_chars(uac.data(), uac.data() + uac.size(), value).ec == std::errc()) {
    live.user_account_control = value;
  }
  if (auto it = e.attributes.find("memberOf"); it != e.attributes.end())
    live.member_of = it->second;
  if (auto it = e.attributes.find(lc::kProxyAddresses); it != e.attributes.end()) {
    live.proxy_addresses = it->second;
  }
  live.sam_account_name = e.first("sAMAccountName");
  live.employee_id = e.first("employeeID");
  return live;
}

std::vector<std::string> searchAttributes() {
  std::vector<std::string> attrs = lc::liveAccountAttributes();
  attrs.emplace_back("employeeID");
  return attrs;
}

// Reads through LDAP, one search per question (small jobs).
class LdapView : public lc::DirectoryView {
 public:
  LdapView(DirectoryClient& dir, std::string base) : dir_(dir), base_(std::move(base)) {}

  Result<std::vector<lc::LiveAccountPtr>> accountsByEmployeeId(const std::string& id) override {
    ASSIGN_OR_RETURN(
        auto found,
        dir_.search(base_, SearchScope::kSubtree,
                    "(&(objectClass=user)(employeeID=" + ldap::escapeFilterValue(id) + "))",
                    searchAttributes()));
    std::vector<lc::LiveAccountPtr> out;
    for (const auto& e : found) out.push_back(std::make_shared<const lc::LiveAccount>(toLive(e)));
    return out;
  }

  Result<std::vector<std::string>> holdersOf(lc::NameKind kind, const std::string& value) override {
    const std::string v = ldap::escapeFilterValue(value);
    std::string filter;
    switch (kind) {
      case lc::NameKind::kSamAccountName:
        filter = "(sAMAccountName=" + v + ")";
        break;
      case lc::NameKind::kUserPrincipalName:
        filter = "(userPrincipalName=" + v + ")";
        break;
      case lc::NameKind::kMail:
        filter = "(|(mail=" + v + ")(proxyAddresses=smtp:" + v + "))";
        break;
    }
    ASSIGN_OR_RETURN(auto found, dir_.search(base_, SearchScope::kSubtree, filter, {"cn"}));
    std::vector<std::string> out;
    for (const auto& e : found) out.push_back(e.dn);
    return out;
  }

 private:
  DirectoryClient& dir_;
  std::string base_;
};

// Reads every account and mail-enabled object under the base once, so that lookups by employeeID
// and name checks need no round trip. Worth it for large jobs: employeeID is not indexed in AD by
// default, so each per-person search is a scan of the directory.
Result<std::unique_ptr<lc::InMemoryDirectory>> prefetch(DirectoryClient& dir,
                                                        const std::string& base) {
  ASSIGN_OR_RETURN(
      auto all, dir.search(base, SearchScope::kSubtree,
                           "(|(objectClass=user)(mail=*)(proxyAddresses=*))", searchAttributes()));
  auto snapshot = std::make_unique<lc::InMemoryDirectory>();
  for (const auto& e : all) snapshot->addAccount(toLive(e));
  return snapshot;
}

std::vector<Modification> toModifications(const std::vector<lc::AttributeChange>& changes) {
  std::vector<Modification> out;
  out.reserve(changes.size());
  for (const auto& c : changes) {
    Modification m;
    switch (c.op) {
      case lc::AttributeChange::Op::kAdd:
        m.op = Modification::Op::kAdd;
        break;
      case lc::AttributeChange::Op::kDelete:
        m.op = Modification::Op::kDelete;
        break;
      case lc::AttributeChange::Op::kReplace:
        m.op = Modification::Op::kReplace;
        break;
    }
    m.attribute = c.attribute;
    m.values = c.values;
    out.push_back(std::move(m));
  }
  return out;
}

int actionRank(const std::string& action) {
  static const char* kOrder[] = {"unchanged", "updated", "moved",  "enabled",
                                 "disabled",  "created", "deleted"};
  for (int i = 0; i < 7; ++i) {
    if (action == kOrder[i]) return i;
  }
  return -1;
}

std::string actionFor(lc::OperationKind k) {
  switch (k) {
    case lc::OperationKind::kCreate:
      return "created";
    case lc::OperationKind::kDelete:
      return "deleted";
    case lc::OperationKind::kDisable:
      return "disabled";
    case lc::OperationKind::kEnable:
      return "enabled";
    case lc::OperationKind::kMove:
      return "moved";
    default:
      return "updated";
  }
}

void addChange(IdentityOutcome& o, const std::string& change) {
  if (std::find(o.changes.begin(), o.changes.end(), change) == o.changes.end()) {
    o.changes.push_back(change);
  }
}

// Records an operation (done, or planned in a dry run / held run) on the outcome.
void record(IdentityOutcome& o, const lc::Operation& op) {
  const std::string action = actionFor(op.kind);
  if (actionRank(action) > actionRank(o.action)) o.action = action;
  for (const auto& c : op.changes) addChange(o, c);
  protocol::PlannedOperation po;
  po.kind = std::string(lc::operationKindName(op.kind));
  po.dn = op.dn;
  po.target = op.kind == lc::OperationKind::kRename ? std::string() : op.target;
  po.reason = op.reason;
  po.changes = op.changes;
  o.operations.push_back(std::move(po));
}

void markFailed(IdentityOutcome& o, const Status& st) {
  o.action = "failed";
  o.error_class = std::string(errorClassName(st.errorClass()));
  o.error_message = st.message();
  o.directory_code = st.nativeCode();
}

// A data problem on a person whose other changes still apply (e.g. a manager cycle).
void markWarning(IdentityOutcome& o, const Status& st) {
  o.error_class = std::string(errorClassName(st.errorClass()));
  o.error_message = st.message();
}

IdentityOutcome baseOutcome(const lc::PersonPlan& p) {
  IdentityOutcome o;
  o.employee_id = p.record->employee_id;
  o.action = "unchanged";
  o.state = p.plan.state;
  if (p.live) {
    o.dn = p.live->dn;
    o.sam_account_name = p.live->sam_account_name;
    o.upn = p.live->attribute("userPrincipalName");
    o.mail = p.live->attribute("mail");
  }
  if (p.desired && !p.plan.operations.empty()) {
    // What the account will carry after the plan (the UPN never changes once set).
    if (o.upn.empty()) o.upn = p.desired->upn;
    if (!p.desired->mail.empty()) o.mail = p.desired->mail;
  } else {
    // An existing account the planner kept no desired state for: a new address is in the plan.
    for (const auto& op : p.plan.operations) {
      for (const auto& m : op.modifications) {
        if (m.attribute == lc::kMailAttribute && m.op == lc::AttributeChange::Op::kReplace &&
            !m.values.empty()) {
          o.mail = m.values[0];
        }
      }
    }
  }
  for (const auto& n : p.notes) addChange(o, n);
  return o;
}

// The outcome as planned (dry runs, held runs, the plan summary).
IdentityOutcome plannedOutcome(const lc::PersonPlan& p) {
  IdentityOutcome o = baseOutcome(p);
  if (!p.error.isOk()) {
    markFailed(o, p.error);
    return o;
  }
  for (const auto& op : p.plan.operations) record(o, op);
  if (!p.plan.final_dn.empty()) o.dn = p.plan.final_dn;
  if (!p.live && !p.plan.final_dn.empty() && p.desired) {
    o.sam_account_name = p.desired->sam_account_name;
  }
  if (!p.warning.isOk()) markWarning(o, p.warning);
  return o;
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
    if (out.upn.empty()) out.upn = now.upn;
    if (out.mail.empty()) out.mail = now.mail;
    if (out.state.empty()) out.state = now.state;
    return out;
  }
  IdentityOutcome out = now;
  if (actionRank(before.action) > actionRank(now.action)) out.action = before.action;
  std::vector<std::string> changes = before.changes;
  for (const auto& c : now.changes) {
    if (std::find(changes.begin(), changes.end(), c) == changes.end()) changes.push_back(c);
  }
  out.changes = std::move(changes);
  std::vector<protocol::PlannedOperation> ops = before.operations;
  ops.insert(ops.end(), now.operations.begin(), now.operations.end());
  out.operations = std::move(ops);
  return out;
}

// Accounts under `base` with an employeeID that no identity of the job explains: a full
// reconciliation reports them (action "orphan") and changes nothing. Accounts without an
// employeeID are not considered: Tenure cannot tell them from service or admin accounts.
Result<std::vector<IdentityOutcome>> findOrphans(DirectoryClient& dir, const std::string& base,
                                                 const std::vector<hr::HrRecord>& identities) {
  std::set<std::string> known;
  for (const auto& r : identities) known.insert(asciiLower(r.employee_id));
  ASSIGN_OR_RETURN(auto entries,
                   dir.search(base, SearchScope::kSubtree,
                              "(&(objectClass=user)(employeeID=*))",
                              {"employeeID", "sAMAccountName", "userPrincipalName", "mail"}));
  std::vector<IdentityOutcome> out;
  for (const auto& e : entries) {
    const std::string id = e.first("employeeID");
    if (id.empty() || known.count(asciiLower(id))) continue;
    IdentityOutcome o;
    o.employee_id = id;
    o.action = "orphan";
    o.state = "orphan";
    o.dn = e.dn;
    o.sam_account_name = e.first("sAMAccountName");
    o.upn = e.first("userPrincipalName");
    o.mail = e.first("mail");
    out.push_back(std::move(o));
  }
  std::sort(out.begin(), out.end(), [](const IdentityOutcome& a, const IdentityOutcome& b) {
    return a.employee_id < b.employee_id;
  });
  return out;
}

std::string jobStatus(const std::vector<IdentityOutcome>& outcomes) {
  size_t failed = 0;
  for (const auto& o : outcomes) failed += o.failed() ? 1 : 0;
  if (failed > 0 && failed == outcomes.size()) return "failed";
  return failed > 0 ? "partial" : "succeeded";
}

// Applies the plans of one job.
class Applier {
 public:
  Applier(DirectoryClient& dir, lc::JobPlanner& planner, const policy::Policy& policy,
          const std::function<std::string()>& password)
      : dir_(dir), planner_(planner), policy_(policy), password_(password) {}

  // Applies a person's operations but the deferred ones; the outcome records what was done.
  void applyPerson(lc::PersonPlan& p, IdentityOutcome& o);
  // Applies the deferred manager operations of a person (after everyone else).
  void applyDeferred(lc::PersonPlan& p, IdentityOutcome& o);
  bool hasDeferred(const lc::PersonPlan& p) const {
    return std::any_of(p.plan.operations.begin(), p.plan.operations.end(),
                       [](const lc::Operation& op) { return op.deferred; });
  }

 private:
  Status create(lc::PersonPlan& p, std::vector<lc::Operation>& ops);
  Status ensureOu(const std::string& dn, int depth = 0);
  Status withParent(const std::string& parent, const std::function<Status()>& write);
  Status member(const lc::Operation& op);

  DirectoryClient& dir_;
  lc::JobPlanner& planner_;
  const policy::Policy& policy_;
  const std::function<std::string()>& password_;
  std::unordered_map<std::string, std::string> dn_by_id_;  // lower-case employee_id → actual DN
};

// Creates the OU `dn` and any missing parents (policy placement.create_missing_ous).
Status Applier::ensureOu(const std::string& dn, int depth) {
  if (depth > 16) return configError("cannot create OU " + dn);
  auto rdns = ldap::parseDn(dn);
  if (!rdns.isOk() || rdns->empty() || asciiLower(rdns->front().type) != "ou") {
    return configError(dn + " does not exist and is not an OU Tenure may create");
  }
  Status st = dir_.add(dn, {{Modification::Op::kAdd, "objectClass", {"organizationalUnit"}},
                            {Modification::Op::kAdd, "ou", {rdns->front().value}}});
  if (isNoSuchObject(st)) {
    RETURN_IF_ERROR(ensureOu(ldap::parentDn(dn), depth + 1));
    st = dir_.add(dn, {{Modification::Op::kAdd, "objectClass", {"organizationalUnit"}},
                       {Modification::Op::kAdd, "ou", {rdns->front().value}}});
  }
  if (isAlreadyExists(st)) return Status::ok();
  return st;
}

// Runs a write whose target OU may be missing: a config error naming the OU, or the OU is created
// when the policy allows it.
Status Applier::withParent(const std::string& parent, const std::function<Status()>& write) {
  Status st = write();
  if (!isNoSuchObject(st)) return st;
  if (!policy_.placement.create_missing_ous) {
    return Status(ErrorClass::kConfig, "the OU " + parent + " does not exist", 32);
  }
  RETURN_IF_ERROR(ensureOu(parent));
  return write();
}

// Adds the account; on "already exists" (68) finds out whether the CN or the sAMAccountName
// clashed and retries with the alternate CN or the next name candidate (re-planning the
// person's operations, which name the new DN).
Status Applier::create(lc::PersonPlan& p, std::vector<lc::Operation>& ops) {
  for (int attempt = 0; attempt < kMaxCreateAttempts; ++attempt) {
    lc::Operation& op = ops.front();
    std::vector<Modification> mods = toModifications(op.modifications);
    for (auto& m : mods) {
      if (m.attribute == lc::kPasswordAttribute) m.values = {encodeUnicodePwd(password_())};
    }
    Status st = withParent(ldap::parentDn(op.dn), [&] { return dir_.add(op.dn, mods); });
    if (st.isOk() || !isAlreadyExists(st)) return st;
    lc::DesiredAccount& d = *p.desired;
    auto existing = dir_.search(op.dn, SearchScope::kBase, "(objectClass=*)", {"cn"});
    if (existing.isOk() && !existing->empty()) {
      if (d.cn == d.cn_alternate) {
        return conflictError("an entry named " + op.dn + " already exists",
                             ldap_result::kAlreadyExists);
      }
      d.useAlternateCn();
    } else {
      RETURN_IF_ERROR(planner_.nextSamCandidate(p));
    }
    std::vector<lc::Operation> deferred;
    for (auto& o : ops) {
      if (o.deferred) deferred.push_back(o);
    }
    lc::Plan again = lc::plan(d, std::nullopt);
    if (again.operations.empty()) return internalError("create plan vanished on retry");
    for (auto& o : deferred) {
      o.dn = again.final_dn;
      again.operations.push_back(std::move(o));
    }
    p.plan = std::move(again);
    ops = p.plan.operations;
  }
  return conflictError("could not create " + ops.front().dn + " after " +
                           std::to_string(kMaxCreateAttempts) + " attempts",
                       ldap_result::kAlreadyExists);
}

Status Applier::member(const lc::Operation& op) {
  const bool add = op.kind == lc::OperationKind::kAddMember;
  Status st = dir_.modify(
      op.target, {{add ? Modification::Op::kAdd : Modification::Op::kDelete, "member", {op.dn}}});
  // Already a member / no longer a member: the state we wanted (someone was faster).
  if (add && (isAlreadyExists(st) || isAttributeOrValueExists(st))) return Status::ok();
  if (!add && isValueAlreadyGone(st)) return Status::ok();
  return st;
}

void Applier::applyPerson(lc::PersonPlan& p, IdentityOutcome& o) {
  std::vector<lc::Operation> ops = p.plan.operations;
  std::string current = p.live ? p.live->dn : "";
  std::unordered_map<std::string, std::string> renamed;  // planned DN → actual DN
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].deferred) continue;
    if (auto it = renamed.find(ops[i].dn); it != renamed.end()) ops[i].dn = it->second;
    lc::Operation& op = ops[i];
    Status st;
    switch (op.kind) {
      case lc::OperationKind::kCreate:
        st = create(p, ops);
        if (st.isOk()) {
          current = ops[i].dn;
          o.sam_account_name = p.desired->sam_account_name;
        }
        break;
      case lc::OperationKind::kMove:
      case lc::OperationKind::kRename: {
        const std::string parent = op.target.empty() ? ldap::parentDn(op.dn) : op.target;
        std::string rdn = op.new_rdn;
        st = withParent(parent, [&] { return dir_.rename(op.dn, rdn, op.target); });
        if (isAlreadyExists(st)) {
          // Someone with the same name already sits in the target OU.
          rdn = ldap::makeRdn("CN", p.desired->cn_alternate);
          st = dir_.rename(op.dn, rdn, op.target);
        }
        if (st.isOk()) {
          renamed[op.new_rdn + "," + parent] = rdn + "," + parent;
          current = rdn + "," + parent;
        }
        break;
      }
      case lc::OperationKind::kAddMember:
      case lc::OperationKind::kRemoveMember:
        st = member(op);
        break;
      case lc::OperationKind::kDelete:
        st = dir_.remove(op.dn);
        if (st.isOk() || isNoSuchObject(st)) {
          st = Status::ok();
          current.clear();
        }
        break;
      default:
        st = dir_.modify(op.dn, toModifications(op.modifications));
        break;
    }
    if (!st.isOk()) {
      spdlog::warn("job person {}: {} failed: {}", p.record->employee_id,
                   lc::operationKindName(ops[i].kind), st.toString());
      markFailed(o, st);
      return;
    }
    record(o, ops[i]);
  }
  // Deferred operations follow the account's actual DN.
  for (auto& op : ops) {
    if (op.deferred) op.dn = current;
  }
  p.plan.operations = std::move(ops);
  p.plan.final_dn = current;
  o.dn = current;
  if (!current.empty()) dn_by_id_[asciiLower(p.record->employee_id)] = current;
  if (!p.warning.isOk()) markWarning(o, p.warning);
}

void Applier::applyDeferred(lc::PersonPlan& p, IdentityOutcome& o) {
  for (lc::Operation& op : p.plan.operations) {
    if (!op.deferred || op.dn.empty()) continue;
    auto it = dn_by_id_.find(asciiLower(op.manager_employee_id));
    if (it == dn_by_id_.end()) {
      addChange(o, lc::kManagerUnresolved);  // the manager could not be created
      continue;
    }
    const std::string live_manager = p.live ? p.live->attribute(lc::kManagerAttribute) : "";
    auto change = lc::planManager(op.dn, live_manager, it->second);
    if (!change) continue;
    if (Status st = dir_.modify(op.dn, toModifications(change->modifications)); !st.isOk()) {
      markFailed(o, st.withContext("setting manager"));
      return;
    }
    change->reason = op.reason;
    record(o, *change);
  }
}

}  // namespace

JobExecutor::JobExecutor(DirectoryClient& dir, ExecutorSettings s, const Clock& clock,
                         ProgressSink* sink, std::function<std::string()> password_generator)
    : dir_(dir),
      settings_(std::move(s)),
      clock_(clock),
      sink_(sink),
      password_generator_(password_generator
                              ? std::move(password_generator)
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

  // reconcile and preview cover everyone HR knows, so they read the whole directory and also
  // report orphaned accounts; apply and expiry_sweep carry only the people concerned.
  const bool full = job.kind == "reconcile" || job.kind == "preview";
  if (!full && job.kind != "apply" && job.kind != "expiry_sweep") {
    return jobFailed(configError("unsupported job kind '" + job.kind + "' (agent " +
                                 settings_.agent_version + ")"));
  }

  // The policy and the evaluation instant. The zone's rules come from the job (the control
  // plane's tz database, the same for every agent; a Windows agent has none of its own), and from
  // the agent's tz database only for a job from a control plane that sends none.
  InMemoryZoneDatabase job_zones;
  if (job.time_zone) job_zones.add(job.time_zone->name, job.time_zone->tzif);
  const LayeredZoneDatabase zones(
      job_zones, settings_.zones != nullptr ? *settings_.zones : systemZoneDatabase());
  policy::Policy policy = policy::defaultPolicy();
  if (!job.policy.empty()) {
    auto parsed = policy::parsePolicy(boost::json::value(job.policy), nullptr, zones);
    if (!parsed.isOk()) {
      return jobFailed(configError("invalid policy: " + parsed.status().message()));
    }
    policy = std::move(*parsed);
  }
  auto tz = loadZone(zones, policy.lifecycle.time_zone);
  if (!tz.isOk()) {
    return jobFailed(
        configError("time zone " + policy.lifecycle.time_zone + ": " + tz.status().message()));
  }
  lc::DesiredContext ctx;
  ctx.users_ou = settings_.users_base_dn;
  ctx.leavers_ou = settings_.leavers_ou;
  const std::string default_ou =
      policy.placement.default_ou.empty() ? settings_.users_base_dn : policy.placement.default_ou;
  if (default_ou.empty()) return jobFailed(configError("no users OU configured"));
  ctx.upn_suffix =
      settings_.upn_suffix.empty() ? lc::dnsDomainOf(default_ou) : settings_.upn_suffix;
  ctx.now_unix = job.now_ms > 0 ? job.now_ms / 1000 : clock_.nowUnix();
  ctx.time_zone = *tz;
  std::string search_base = lc::domainRootOf(default_ou);
  if (search_base.empty()) search_base = default_ou;

  Status connected = dir_.connect();
  result.domain_controller = dir_.serverName();
  if (!connected.isOk()) return jobFailed(connected.withContext("connecting to the directory"));

  // The schema is read once per job, and only when the policy could use Exchange attributes.
  if (policy.mailbox.mode == "auto" && !policy.naming.mail_domain.empty()) {
    auto attrs = userAttributes(dir_, search_base);
    if (attrs.isOk()) {
      ctx.exchange_available = hasExchangeAttributes(*attrs);
    } else {
      spdlog::warn("job {}: reading the user schema failed ({}); Exchange attributes unavailable",
                   job.job_id, attrs.status().toString());
    }
  }

  // Phase 1: plan everyone (reads only).
  LdapView ldap_view(dir_, search_base);
  std::unique_ptr<lc::InMemoryDirectory> snapshot;
  if (full || job.identities.size() >= kPrefetchThreshold) {
    auto pre = prefetch(dir_, search_base);
    if (pre.isOk()) {
      snapshot = std::move(*pre);
    } else {
      // Not fatal: per-person lookups still work, only slower.
      spdlog::warn("job {}: reading the directory up front failed ({}); looking up one by one",
                   job.job_id, pre.status().toString());
    }
  }
  lc::DirectoryView& view = snapshot ? static_cast<lc::DirectoryView&>(*snapshot) : ldap_view;
  auto planner = lc::JobPlanner::create(policy, ctx, view, job.reserved_names);
  if (!planner.isOk()) return jobFailed(planner.status());
  if (cancelRequested()) {
    cancelled_ = true;
    return finish(result);
  }
  std::vector<lc::PersonPlan> people = planner->planAll(job.identities);

  auto report = [&](const IdentityOutcome& o) {
    if (sink_ != nullptr) sink_->onOutcome(job.job_id, withPrior(o, prior));
  };
  std::vector<IdentityOutcome> planned;
  planned.reserve(people.size());
  for (const auto& p : people) planned.push_back(plannedOutcome(p));
  std::vector<IdentityOutcome> orphans;
  if (full) {
    auto found = findOrphans(dir_, search_base, job.identities);
    if (!found.isOk()) return jobFailed(found.status().withContext("looking for orphaned accounts"));
    orphans = std::move(*found);
  }
  // Orphans are reported, never acted on, and do not count towards the job's status.
  auto addOrphans = [&] {
    for (const auto& o : orphans) {
      report(o);
      result.outcomes.push_back(o);
    }
  };

  if (job.dry_run) {
    for (const auto& o : planned) {
      report(o);
      result.outcomes.push_back(withPrior(o, prior));
    }
    result.status = jobStatus(result.outcomes);
    addOrphans();
    return finish(result);
  }

  if (settings_.gate) {
    protocol::PlanSummary summary;
    summary.job_id = job.job_id;
    summary.population = static_cast<int>(job.identities.size());
    summary.counts = lc::countOperations(people);
    summary.outcomes = planned;
    const protocol::PlanDecision decision = settings_.gate(summary);
    if (!decision.proceed) {
      // Held (or rejected): nothing is written; the outcomes show the plan that waits.
      result.status = "held";
      result.error_message = decision.reason;
      result.outcomes = std::move(planned);
      return finish(result);
    }
  }

  // Phase 2: apply.
  Applier applier(dir_, *planner, policy, password_generator_);
  std::vector<IdentityOutcome> outcomes;
  outcomes.reserve(people.size());
  for (lc::PersonPlan& p : people) {
    if (cancelRequested()) {
      cancelled_ = true;
      return finish(result);
    }
    IdentityOutcome o = baseOutcome(p);
    if (!p.error.isOk()) {
      markFailed(o, p.error);
    } else {
      applier.applyPerson(p, o);
    }
    // A person whose manager comes later is reported now if something happened (so a crash
    // before the manager pass loses nothing), and again after it.
    if (!applier.hasDeferred(p) || o.action != "unchanged") report(o);
    outcomes.push_back(std::move(o));
  }
  for (size_t i = 0; i < people.size(); ++i) {
    if (!applier.hasDeferred(people[i]) || outcomes[i].action == "failed") continue;
    if (cancelRequested()) {
      cancelled_ = true;
      return finish(result);
    }
    applier.applyDeferred(people[i], outcomes[i]);
    report(outcomes[i]);
  }
  for (const auto& o : outcomes) result.outcomes.push_back(withPrior(o, prior));
  result.status = jobStatus(result.outcomes);
  addOrphans();
  return finish(result);
}

}  // namespace tenure::agent
