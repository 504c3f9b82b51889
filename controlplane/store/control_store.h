#pragma once
// ControlStore: the control-plane database (SQLite, WAL). Tenants, agents, the job queue.
// It holds no personal data: job payloads live in the tenant's own store. Secrets (enroll
// secrets, API tokens, node keys) are stored only as SHA-256 hashes.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/status.h"
#include "controlplane/store/access_chain_store.h"
#include "controlplane/store/ticket_index_store.h"
#include "controlplane/store/data_key_store.h"

namespace tenure::cp {

struct Tenant {
  std::string tenant_id;
  std::string name;
  int64_t created_at_ms = 0;
};

// Returned once, at creation: the plaintext secrets are never stored.
struct TenantCredentials {
  Tenant tenant;
  std::string enroll_secret;
  std::string api_token;
};

// The longest grace an API token rotation gives the previous token (7 days): long enough to
// switch an HR integration over, short enough that a leaked token does not live on for long.
inline constexpr int64_t kMaxApiTokenGraceSeconds = 7 * 24 * 3600;

// Returned once, by an API token rotation.
struct RotatedApiToken {
  std::string api_token;                // plaintext, returned once
  int64_t previous_valid_until_ms = 0;  // 0: the previous token was refused at once
};

struct AgentRecord {
  std::string agent_id;
  std::string tenant_id;
  std::string host;
  std::string version;
  int64_t enrolled_at_ms = 0;
  int64_t last_seen_ms = 0;
  bool revoked = false;
};

struct EnrolledAgent {
  AgentRecord agent;
  std::string node_key;  // plaintext, returned once
};

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
  bool approved = false;  // an operator approved the run past its thresholds
  int64_t not_before_ms = 0;  // a retried job waits until then (exponential backoff)
};

// A tenant's cron schedule (see docs/operations/scheduling.md). No personal data.
struct Schedule {
  std::string schedule_id;
  std::string tenant_id;
  std::string kind;  // reconcile | expiry_sweep | preview | hr_pull
  std::string cron;  // 5-field cron expression, evaluated in the tenant's time zone
  bool enabled = true;
  int64_t next_run_at_ms = 0;  // 0: not scheduled (disabled, or the expression never matches)
  int64_t last_run_at_ms = 0;
  std::string last_run_id;
  std::string last_error;  // why the last due run could not be queued, empty when it was
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// What operators and tenants see of an agent.
struct AgentHealth {
  AgentRecord agent;
  int64_t jobs_done = 0;    // results reported succeeded or partial
  int64_t jobs_failed = 0;  // results reported failed
  std::string last_error;
  int64_t last_error_at_ms = 0;
  std::string current_job;  // the job it holds an unexpired lease on, if any
};

// Exponential backoff of retried jobs: min(base * 2^attempts, cap).
struct RetryBackoff {
  int64_t base_ms = 1'000;
  int64_t cap_ms = 300'000;
  int64_t delayMs(int attempts) const;
};

// An operator credential for the admin API. The plaintext token is returned once, at creation.
struct AdminToken {
  std::string name;
  int64_t created_at_ms = 0;
};

struct CreatedAdminToken {
  AdminToken admin;
  std::string token;  // plaintext, returned once
};

class ControlStore {
 public:
  virtual ~ControlStore() = default;

  // Opens (creating and migrating as needed) the control database file at `path` (SQLite).
  static Result<std::unique_ptr<ControlStore>> open(const std::string& path, const Clock& clock);

  virtual Result<TenantCredentials> createTenant(const std::string& name) = 0;
  virtual Result<std::vector<Tenant>> listTenants() = 0;
  virtual Result<std::optional<Tenant>> tenantById(const std::string& tenant_id) = 0;
  virtual Result<std::optional<Tenant>> tenantByEnrollSecret(const std::string& secret) = 0;
  // The tenant whose current API token this is, or (unless `current_only`) whose previous token
  // it is while that one's grace lasts.
  virtual Result<std::optional<Tenant>> tenantByApiToken(const std::string& token,
                                                 bool current_only = false) = 0;
  // Removes the tenant with its credentials (enroll secret, API token), its agents (their node
  // keys then answer node_invalid), its jobs, and the rows components keep for it here (schedules,
  // agent health, the ticket index), in one transaction. Returns false when there was no such
  // tenant (leftover component rows are still removed).
  virtual Result<bool> deleteTenant(const std::string& tenant_id) = 0;

  virtual Result<EnrolledAgent> enrollAgent(const std::string& tenant_id, const std::string& host,
                                    const std::string& version) = 0;
  // nullopt when the key is unknown or revoked (the only case that means node_invalid).
  virtual Result<std::optional<AgentRecord>> agentByNodeKey(const std::string& node_key) = 0;
  virtual Status touchAgent(const std::string& agent_id) = 0;
  virtual Result<std::vector<AgentRecord>> listAgents(const std::string& tenant_id) = 0;

  // Credentials (control_store_credentials.cpp). Rotations return the new plaintext once.
  // A new API token for the tenant. The previous token keeps working for `grace_seconds`
  // (0..kMaxApiTokenGraceSeconds; 0: refused at once) so integrations can be switched over;
  // rotating again ends any earlier grace. not_found for an unknown tenant, data error for a
  // grace out of range.
  virtual Result<RotatedApiToken> rotateApiToken(const std::string& tenant_id, int64_t grace_seconds) = 0;
  // A new enroll secret; the old one is refused at once. Enrolled agents keep their node keys.
  virtual Result<std::string> rotateEnrollSecret(const std::string& tenant_id) = 0;
  // Revokes an agent of `tenant_id`: its node key answers node_invalid from now on, and it
  // leases nothing more (jobs it holds go to other agents when their lease expires). Idempotent:
  // true when the agent was live until now, false when it was revoked already. not_found when
  // the agent is not the tenant's.
  virtual Result<bool> revokeAgent(const std::string& tenant_id, const std::string& agent_id) = 0;

  // Idempotent: enqueueing an existing job_id changes nothing and is ok.
  virtual Status enqueueJob(const JobRecord& job) = 0;
  // Leases the highest-priority, oldest job of `tenant_id` that is queued or whose lease expired,
  // to `agent_id`, for `lease_ms`. attempts is incremented. nullopt when nothing is ready.
  // Jobs whose attempts reached `max_attempts` are quarantined instead of leased.
  // A job whose lease expired goes back to the queue first, not before lease end + backoff.
  // Quarantined jobs are appended to `*quarantined` when given.
  virtual Result<std::optional<JobRecord>> leaseNextJob(const std::string& tenant_id,
                                                const std::string& agent_id, int64_t lease_ms,
                                                int max_attempts = 5,
                                                std::vector<JobRecord>* quarantined = nullptr) = 0;
  virtual Result<std::optional<JobRecord>> job(const std::string& job_id) = 0;
  // Marks done. Returns false when the job was already done (a duplicate result).
  virtual Result<bool> completeJob(const std::string& job_id) = 0;
  // Extends the lease of a job held by agent_id (progress heartbeat).
  virtual Status extendLease(const std::string& job_id, const std::string& agent_id, int64_t lease_ms) = 0;
  virtual Result<std::vector<JobRecord>> listJobs(const std::string& tenant_id) = 0;
  // Jobs of every tenant in `state`, oldest first.
  virtual Result<std::vector<JobRecord>> jobsInState(JobState state) = 0;
  // A queued or leased job -> held (no lease, never leased while held). Conflict otherwise
  // (already held, done or quarantined); not_found for an unknown job.
  virtual Status holdJob(const std::string& job_id) = 0;
  // A held job -> queued with approved = true and attempts reset, so the approved run gets its
  // full retry budget. Conflict when the job is not held.
  virtual Status requeueApproved(const std::string& job_id) = 0;

  // Retries and quarantine (control_store_scheduling.cpp). Without a backoff set, an expired
  // lease is leasable again at once.
  virtual void setRetryBackoff(RetryBackoff backoff) = 0;
  virtual const RetryBackoff& retryBackoff() const = 0;
  // A job leased to `agent_id` whose agent reported a transient failure: back to the queue, not
  // leased before now + backoff(attempts). Conflict when it is not leased to that agent.
  virtual Result<JobRecord> retryJobLater(const std::string& job_id, const std::string& agent_id) = 0;
  // A leased or queued job -> quarantined (never leased again).
  virtual Status quarantineJob(const std::string& job_id) = 0;

  // Schedules (control_store_scheduling.cpp). Lookups are scoped to the tenant: another
  // tenant's schedule is not_found / nullopt.
  virtual Result<Schedule> createSchedule(const Schedule& schedule) = 0;
  virtual Result<std::vector<Schedule>> listSchedules(const std::string& tenant_id) = 0;
  virtual Result<std::optional<Schedule>> schedule(const std::string& tenant_id,
                                           const std::string& schedule_id) = 0;
  // Replaces kind, cron, enabled and next_run_at_ms. not_found when unknown to the tenant.
  virtual Status updateSchedule(const Schedule& schedule) = 0;
  // false when unknown to the tenant.
  virtual Result<bool> deleteSchedule(const std::string& tenant_id, const std::string& schedule_id) = 0;
  // Enabled schedules of every tenant with 0 < next_run_at_ms <= now_ms, oldest slot first.
  virtual Result<std::vector<Schedule>> dueSchedules(int64_t now_ms) = 0;
  // Claims the due slot `slot_ms`: moves next_run_at_ms to `next_ms` and sets last_run_at_ms,
  // only if next_run_at_ms still is `slot_ms`. false when someone else claimed or changed it.
  virtual Result<bool> claimScheduleSlot(const std::string& schedule_id, int64_t slot_ms, int64_t next_ms) = 0;
  // The run the last claimed slot queued (or why it could not be queued).
  virtual Status recordScheduleRun(const std::string& schedule_id, const std::string& run_id,
                           const std::string& error) = 0;

  // Agent health (control_store_scheduling.cpp).
  virtual Status recordAgentResult(const std::string& agent_id, bool failed, const std::string& error) = 0;
  // One tenant's agents; every tenant's when tenant_id is empty.
  virtual Result<std::vector<AgentHealth>> agentHealth(const std::string& tenant_id) = 0;

  // Admin tokens. Names are unique (a second token with the same name is a conflict).
  virtual Result<CreatedAdminToken> createAdminToken(const std::string& name) = 0;
  virtual Result<std::optional<AdminToken>> adminByToken(const std::string& token) = 0;
  // Every admin token's name and creation time (never a hash), by name.
  virtual Result<std::vector<AdminToken>> listAdminTokens() = 0;
  // A new secret under the same name; the old one stops working at once (tokens are looked up on
  // every request). Not found when no token has that name.
  virtual Result<CreatedAdminToken> rotateAdminToken(const std::string& name) = 0;
  // Deletes the token; it stops working at once. Not found when no token has that name.
  virtual Status revokeAdminToken(const std::string& name) = 0;

  // The stores of the components that keep rows in the control database.
  virtual AccessChainStore& accessChain() = 0;
  virtual TicketIndexStore& ticketIndex() = 0;
  virtual DataKeyStore& dataKeys() = 0;
};

}  // namespace tenure::cp
