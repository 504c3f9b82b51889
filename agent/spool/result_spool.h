#pragma once
// ResultSpool: the agent's local, durable buffer (SQLite, synchronous=FULL). A job is saved on
// receipt, per-person outcomes as they happen, and the final result until the control plane
// acknowledges it, so neither an agent crash nor a control-plane outage loses work: on restart
// the agent resumes unfinished jobs (skipping people already done) and re-sends pending results.
// Every call is durable when it returns. Safe to call from several threads.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/protocol/messages.h"
#include "common/sqlite/database.h"

namespace tenure::agent {

class ResultSpool {
 public:
  // Opens or creates the spool file (mode 0600; parent directory created).
  static Result<std::unique_ptr<ResultSpool>> open(const std::string& path);

  // On receipt; saving a job_id again keeps the first copy and its progress.
  Status saveJob(const protocol::Job& job);
  // Saved jobs that have no final result yet, in the order they were received.
  Result<std::vector<protocol::Job>> unfinishedJobs();
  // Progress: the latest outcome per (job, employee) wins.
  Status saveOutcome(const std::string& job_id, const protocol::IdentityOutcome& o);
  // Outcomes saved for the job, keyed by employee_id.
  Result<std::map<std::string, protocol::IdentityOutcome>> outcomes(const std::string& job_id);
  // The final result, held until acknowledge(); saving again replaces it.
  Status saveResult(const protocol::JobResult& r);
  // Final results not yet acknowledged, oldest first.
  Result<std::vector<protocol::JobResult>> pendingResults();
  // The control plane confirmed the result: forgets the job, its outcomes and its result.
  Status acknowledge(const std::string& job_id);

 private:
  explicit ResultSpool(sqlite::Database db) : db_(std::move(db)) {}
  sqlite::Database db_;
  std::mutex mu_;
};

}  // namespace tenure::agent
