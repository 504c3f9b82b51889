#pragma once
// JobStore: the job queue's rows: jobs, leases, holds, retries with backoff, quarantine. No
// personal data: a job names its run, whose identities live in the tenant's store.
// Part of the control database (ControlStore); SQLite implementation in
// controlplane/store/sqlite/sqlite_control_store*.cpp.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace tenure::cp {

// kHeld: a safety threshold stopped the run; never leased until an operator approves it.
enum class JobState { kQueued, kLeased, kDone, kQuarantined, kHeld };
std::string_view jobStateName(JobState s);

struct JobRecord {
  std::string job_id;
  std::string tenant_id;
  std::string run_id;
  std::string kind = "apply";
  JobState state = JobState::kQueued;
  int priority = 0;      // higher first
  int attempts = 0;      // leases handed out so far
  std::string agent_id;  // holder of the current/last lease
  int64_t lease_expires_at_ms = 0;
  int64_t created_at_ms = 0;
  int64_t finished_at_ms = 0;
  bool approved = false;      // an operator approved the run past its thresholds
  int64_t not_before_ms = 0;  // a retried job waits until then (exponential backoff)
};

// Exponential backoff of retried jobs: min(base * 2^attempts, cap).
struct RetryBackoff {
  int64_t base_ms = 1'000;
  int64_t cap_ms = 300'000;
  int64_t delayMs(int attempts) const;
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  // Idempotent: enqueueing an existing job_id changes nothing and is ok.
  virtual Status enqueueJob(const JobRecord& job) = 0;
  // Leases the highest-priority, oldest job of `tenant_id` that is queued or whose lease expired,
  // to `agent_id`, for `lease_ms`. attempts is incremented. nullopt when nothing is ready.
  // Jobs whose attempts reached `max_attempts` are quarantined instead of leased.
  // A job whose lease expired goes back to the queue first, not before lease end + backoff.
  // Quarantined jobs are appended to `*quarantined` when given.
  virtual Result<std::optional<JobRecord>> leaseNextJob(
      const std::string& tenant_id, const std::string& agent_id, int64_t lease_ms,
      int max_attempts = 5, std::vector<JobRecord>* quarantined = nullptr) = 0;
  virtual Result<std::optional<JobRecord>> job(const std::string& job_id) = 0;
  // Marks done. Returns false when the job was already done (a duplicate result).
  virtual Result<bool> completeJob(const std::string& job_id) = 0;
  // Extends the lease of a job held by agent_id (progress heartbeat).
  virtual Status extendLease(const std::string& job_id, const std::string& agent_id,
                             int64_t lease_ms) = 0;
  virtual Result<std::vector<JobRecord>> listJobs(const std::string& tenant_id) = 0;
  // Jobs of every tenant in `state`, oldest first.
  virtual Result<std::vector<JobRecord>> jobsInState(JobState state) = 0;
  // A queued or leased job -> held (no lease, never leased while held). Conflict otherwise
  // (already held, done or quarantined); not_found for an unknown job.
  virtual Status holdJob(const std::string& job_id) = 0;
  // A held job -> queued with approved = true and attempts reset, so the approved run gets its
  // full retry budget. Conflict when the job is not held.
  virtual Status requeueApproved(const std::string& job_id) = 0;

  // Retries and quarantine (sqlite/sqlite_control_store_scheduling.cpp). Without a backoff set, an
  // expired lease is leasable again at once.
  virtual void setRetryBackoff(RetryBackoff backoff) = 0;
  virtual const RetryBackoff& retryBackoff() const = 0;
  // A job leased to `agent_id` whose agent reported a transient failure: back to the queue, not
  // leased before now + backoff(attempts). Conflict when it is not leased to that agent.
  virtual Result<JobRecord> retryJobLater(const std::string& job_id,
                                          const std::string& agent_id) = 0;
  // A leased or queued job -> quarantined (never leased again).
  virtual Status quarantineJob(const std::string& job_id) = 0;
};

}  // namespace tenure::cp
