#pragma once
// TenantStore: one SQLite file per tenant (DATA_DIR/tenants/<tenant_id>.db). Identities as HR sent
// them, runs, the identities each run carries to the agent, and per-person outcomes.
// Code that serves a tenant holds only that tenant's TenantStore.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/status.h"
#include "common/hr/hr_record.h"
#include "common/protocol/messages.h"
#include "controlplane/store/access_chain_store.h"
#include "controlplane/store/connector_store.h"
#include "controlplane/store/digest_store.h"
#include "controlplane/store/identity_event_store.h"
#include "controlplane/store/scim_user_store.h"
#include "controlplane/store/threshold_window_store.h"
#include "controlplane/store/ticket_store.h"

namespace tenure::cp {

// A row the control plane refused, with the reason. `row` is the 1-based data row (CSV: the
// header is row 0; JSON: the array index + 1).
struct RejectedRow {
  int row = 0;
  std::string employee_id;
  std::string field;
  std::string reason;
};

// kHeld: a safety threshold stopped the run before anything was applied; it waits for an
// operator. kRejected: the operator refused it; nothing was applied.
enum class RunStatus { kQueued, kRunning, kSucceeded, kPartial, kFailed, kHeld, kRejected };
std::string_view runStatusName(RunStatus s);

struct RunRecord {
  std::string run_id;
  std::string kind = "apply";
  std::string source;  // csv | json | ...
  RunStatus status = RunStatus::kQueued;
  bool dry_run = false;
  int64_t created_at_ms = 0;
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;
  int accepted = 0;
  std::vector<RejectedRow> rejected;
  std::string error_class;  // job-level error, if any
  std::string error_message;
  std::string agent_id;
  std::string domain_controller;
  int policy_version = 0;  // the tenant policy the run is planned with (0: the default policy)
  // Set while (and after) a run is held: why, and the plan's counts and population.
  std::string hold_reason;
  std::map<std::string, int> hold_counts;
  int hold_population = 0;
  // The operator decision on a held run (the admin token's name and when).
  std::string approved_by;
  int64_t approved_at_ms = 0;
  std::string rejected_by;
  int64_t rejected_at_ms = 0;
};

// One saved version of the tenant policy. `document` is the JSON text as stored.
struct StoredPolicy {
  int version = 0;
  std::string document;
  int64_t created_at_ms = 0;
  std::string author;
};

// A deleted leaver's name that must not be given to someone else (see LifecyclePolicy).
struct Tombstone {
  std::string name;  // stored lower case
  std::string kind;  // sam | upn | mail
  std::string employee_id;
  int64_t released_at_ms = 0;  // when the account was deleted
};

struct RunReport {
  RunRecord run;
  std::map<std::string, int> counts_by_action;  // created: 18, failed: 2, ...
  std::vector<protocol::IdentityOutcome> outcomes;
};

class TenantStore {
 public:
  virtual ~TenantStore() = default;

  // Opens (creating and migrating as needed) the tenant database at `path` (SQLite).
  static Result<std::unique_ptr<TenantStore>> open(const std::string& path, const Clock& clock);

  // In one transaction: upserts the identities, creates the run (status queued) and stores the
  // identities the run's job carries. Nothing is written if any part fails.
  virtual Status createRun(const RunRecord& run, const std::vector<hr::HrRecord>& identities) = 0;
  virtual Result<std::vector<RunRecord>> listRuns(int limit = 100) = 0;
  // Runs created in [from_ms, to_ms), oldest first, at most `limit` (report digests).
  virtual Result<std::vector<RunRecord>> runsCreatedBetween(int64_t from_ms, int64_t to_ms,
                                                            int limit) = 0;
  virtual Result<std::optional<RunRecord>> run(const std::string& run_id) = 0;
  // `failures_only`: outcomes holds only the people whose operations failed, while
  // counts_by_action still covers everyone (summaries such as the report digest, which need not
  // read a 100k-person run whole).
  virtual Result<std::optional<RunReport>> report(const std::string& run_id,
                                                  bool failures_only = false) = 0;
  // The identities a run carries, in upload order.
  virtual Result<std::vector<hr::HrRecord>> runIdentities(const std::string& run_id) = 0;
  // queued -> running, naming the agent. A running run leased again (failover after an expired
  // lease) is re-pointed at the new agent, keeping its start time. No-op otherwise.
  virtual Status markRunning(const std::string& run_id, const std::string& agent_id) = 0;
  // Records the agent's result: outcomes replace any earlier ones for the run, status derived
  // (succeeded / partial / failed). `agent_id`, when given, names the agent that finished the run
  // (after a failover not the one that started it). Idempotent.
  virtual Status recordResult(const std::string& run_id, const protocol::JobResult& result,
                              const std::string& agent_id = "") = 0;
  // Runs still queued or running (for re-enqueueing after a crash between the two databases).
  virtual Result<std::vector<RunRecord>> unfinishedRuns() = 0;
  virtual Result<std::optional<hr::HrRecord>> identity(const std::string& employee_id) = 0;

  // Policies: every save is a new version (1, 2, ...); nothing is overwritten.
  virtual Result<int> savePolicy(const std::string& document, const std::string& author) = 0;
  // The newest version, nullopt when none was saved.
  virtual Result<std::optional<StoredPolicy>> currentPolicy() = 0;
  virtual Result<std::optional<StoredPolicy>> policyVersion(int version) = 0;
  // Every version, newest first, without documents.
  virtual Result<std::vector<StoredPolicy>> policyVersions() = 0;

  // Safety holds. queued/running -> held, keeping the plan (summary and per-person outcomes).
  // Conflict when the run is in another state; not_found when unknown.
  virtual Status holdRun(const std::string& run_id, const protocol::PlanSummary& plan,
                         const std::string& reason) = 0;
  // The plan a held run was stopped with, nullopt when the run was never held.
  virtual Result<std::optional<protocol::PlanSummary>> heldPlan(const std::string& run_id) = 0;
  // held -> queued, recording who approved it and when. Conflict unless held.
  virtual Status approveRun(const std::string& run_id, const std::string& by) = 0;
  // held -> rejected (finished; nothing applied), recording who and when. Conflict unless held.
  virtual Status rejectRun(const std::string& run_id, const std::string& by) = 0;
  virtual Result<std::vector<RunRecord>> runsWithStatus(RunStatus status, int limit = 200) = 0;

  // Tombstones: names are lower-cased; re-adding a name keeps the latest release time.
  virtual Status addTombstones(const std::vector<Tombstone>& tombstones) = 0;
  // Tombstones still blocking reuse at `now_ms`: all of them when `name_reuse_days` is nullopt
  // (never reused), else those released less than that many days ago.
  virtual Result<std::vector<Tombstone>> activeTombstones(int64_t now_ms,
                                                          std::optional<int> name_reuse_days) = 0;
  // The distinct names of activeTombstones(), sorted (what a job carries as reserved_names).
  virtual Result<std::vector<std::string>> reservedNames(int64_t now_ms,
                                                         std::optional<int> name_reuse_days) = 0;

  // Every identity: the latest record HR sent per employee_id, by employee_id.
  virtual Result<std::vector<hr::HrRecord>> allIdentities() = 0;

  // The stores of the components that keep per-tenant data in the tenant's database.
  virtual AccessChainStore& accessChain() = 0;
  virtual IdentityEventStore& events() = 0;
  virtual TicketStore& tickets() = 0;
  virtual DigestStore& digests() = 0;
  virtual ScimUserStore& scimUsers() = 0;
  virtual ConnectorStore& connectors() = 0;
  virtual ThresholdWindowStore& thresholdWindow() = 0;
};

// Opens tenant stores on demand and keeps them open.
class TenantStores {
 public:
  TenantStores(std::string dir, const Clock& clock) : dir_(std::move(dir)), clock_(clock) {}
  // The tenant's store, opened (and created) on first use. not_found once the tenant was removed
  // through this object, so a request still in flight cannot bring the file back.
  Result<std::shared_ptr<TenantStore>> forTenant(const std::string& tenant_id);
  // Closes the tenant's store (when no request still holds it) and deletes its file with the
  // -wal and -shm files. Returns false when there was no file. A holder that still has the
  // store keeps an unlinked file until it lets go; nothing it writes survives.
  Result<bool> remove(const std::string& tenant_id);
  std::string pathFor(const std::string& tenant_id) const { return dir_ + "/" + tenant_id + ".db"; }

 private:
  std::string dir_;
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<TenantStore>> open_;
  std::set<std::string> removed_;
};

}  // namespace tenure::cp
