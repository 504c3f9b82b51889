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
#include "common/sqlite/database.h"

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
  static Result<std::unique_ptr<TenantStore>> open(const std::string& path, const Clock& clock);

  // In one transaction: upserts the identities, creates the run (status queued) and stores the
  // identities the run's job carries. Nothing is written if any part fails.
  Status createRun(const RunRecord& run, const std::vector<hr::HrRecord>& identities);
  Result<std::vector<RunRecord>> listRuns(int limit = 100);
  // Runs created in [from_ms, to_ms), oldest first, at most `limit` (report digests).
  Result<std::vector<RunRecord>> runsCreatedBetween(int64_t from_ms, int64_t to_ms, int limit);
  Result<std::optional<RunRecord>> run(const std::string& run_id);
  // `failures_only`: outcomes holds only the people whose operations failed, while
  // counts_by_action still covers everyone (summaries such as the report digest, which need not
  // read a 100k-person run whole).
  Result<std::optional<RunReport>> report(const std::string& run_id, bool failures_only = false);
  // The identities a run carries, in upload order.
  Result<std::vector<hr::HrRecord>> runIdentities(const std::string& run_id);
  // queued -> running, naming the agent. A running run leased again (failover after an expired
  // lease) is re-pointed at the new agent, keeping its start time. No-op otherwise.
  Status markRunning(const std::string& run_id, const std::string& agent_id);
  // Records the agent's result: outcomes replace any earlier ones for the run, status derived
  // (succeeded / partial / failed). `agent_id`, when given, names the agent that finished the run
  // (after a failover not the one that started it). Idempotent.
  Status recordResult(const std::string& run_id, const protocol::JobResult& result,
                      const std::string& agent_id = "");
  // Runs still queued or running (for re-enqueueing after a crash between the two databases).
  Result<std::vector<RunRecord>> unfinishedRuns();
  Result<std::optional<hr::HrRecord>> identity(const std::string& employee_id);

  // Policies: every save is a new version (1, 2, ...); nothing is overwritten.
  Result<int> savePolicy(const std::string& document, const std::string& author);
  // The newest version, nullopt when none was saved.
  Result<std::optional<StoredPolicy>> currentPolicy();
  Result<std::optional<StoredPolicy>> policyVersion(int version);
  // Every version, newest first, without documents.
  Result<std::vector<StoredPolicy>> policyVersions();

  // Safety holds. queued/running -> held, keeping the plan (summary and per-person outcomes).
  // Conflict when the run is in another state; not_found when unknown.
  Status holdRun(const std::string& run_id, const protocol::PlanSummary& plan,
                 const std::string& reason);
  // The plan a held run was stopped with, nullopt when the run was never held.
  Result<std::optional<protocol::PlanSummary>> heldPlan(const std::string& run_id);
  // held -> queued, recording who approved it and when. Conflict unless held.
  Status approveRun(const std::string& run_id, const std::string& by);
  // held -> rejected (finished; nothing applied), recording who and when. Conflict unless held.
  Status rejectRun(const std::string& run_id, const std::string& by);
  Result<std::vector<RunRecord>> runsWithStatus(RunStatus status, int limit = 200);

  // Tombstones: names are lower-cased; re-adding a name keeps the latest release time.
  Status addTombstones(const std::vector<Tombstone>& tombstones);
  // Tombstones still blocking reuse at `now_ms`: all of them when `name_reuse_days` is nullopt
  // (never reused), else those released less than that many days ago.
  Result<std::vector<Tombstone>> activeTombstones(int64_t now_ms,
                                                  std::optional<int> name_reuse_days);
  // The distinct names of activeTombstones(), sorted (what a job carries as reserved_names).
  Result<std::vector<std::string>> reservedNames(int64_t now_ms,
                                                 std::optional<int> name_reuse_days);

  // Exclusive use of this store's connection for a component that keeps its own tables in the
  // same file (created with sqlite::migrateComponent): `f(sqlite::Database&)` runs under the
  // store's lock, so keep it short.
  template <class F>
  auto withDatabase(F&& f) {
    std::lock_guard lock(mu_);
    return f(db_);
  }

 private:
  TenantStore(sqlite::Database db, const Clock& clock);
  sqlite::Database db_;
  const Clock& clock_;
  std::mutex mu_;
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
