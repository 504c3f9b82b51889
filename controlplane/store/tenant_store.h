#pragma once
// TenantStore: one SQLite file per tenant (DATA_DIR/tenants/<tenant_id>.db). Identities as HR sent
// them, runs, the identities each run carries to the agent, and per-person outcomes.
// Code that serves a tenant holds only that tenant's TenantStore.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
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

enum class RunStatus { kQueued, kRunning, kSucceeded, kPartial, kFailed };
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
  Result<std::optional<RunRecord>> run(const std::string& run_id);
  Result<std::optional<RunReport>> report(const std::string& run_id);
  // The identities a run carries, in upload order.
  Result<std::vector<hr::HrRecord>> runIdentities(const std::string& run_id);
  // queued -> running (no-op otherwise).
  Status markRunning(const std::string& run_id, const std::string& agent_id);
  // Records the agent's result: outcomes replace any earlier ones for the run, status derived
  // (succeeded / partial / failed). Idempotent.
  Status recordResult(const std::string& run_id, const protocol::JobResult& result);
  // Runs still queued or running (for re-enqueueing after a crash between the two databases).
  Result<std::vector<RunRecord>> unfinishedRuns();
  Result<std::optional<hr::HrRecord>> identity(const std::string& employee_id);

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
  Result<std::shared_ptr<TenantStore>> forTenant(const std::string& tenant_id);

 private:
  std::string dir_;
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<TenantStore>> open_;
};

}  // namespace tenure::cp
