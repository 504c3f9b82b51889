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
#include "common/sqlite/database.h"

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
  // Opens (creating and migrating as needed) the control database file at `path`.
  static Result<std::unique_ptr<ControlStore>> open(const std::string& path, const Clock& clock);

  Result<TenantCredentials> createTenant(const std::string& name);
  Result<std::vector<Tenant>> listTenants();
  Result<std::optional<Tenant>> tenantById(const std::string& tenant_id);
  Result<std::optional<Tenant>> tenantByEnrollSecret(const std::string& secret);
  Result<std::optional<Tenant>> tenantByApiToken(const std::string& token);
  // Removes the tenant with its credentials (enroll secret, API token), its agents (their node
  // keys then answer node_invalid) and its jobs, in one transaction. Returns false when there was
  // no such tenant (nothing changed).
  Result<bool> deleteTenant(const std::string& tenant_id);

  Result<EnrolledAgent> enrollAgent(const std::string& tenant_id, const std::string& host,
                                    const std::string& version);
  // nullopt when the key is unknown or revoked (the only case that means node_invalid).
  Result<std::optional<AgentRecord>> agentByNodeKey(const std::string& node_key);
  Status touchAgent(const std::string& agent_id);
  Status revokeAgent(const std::string& agent_id);
  Result<std::vector<AgentRecord>> listAgents(const std::string& tenant_id);

  // Idempotent: enqueueing an existing job_id changes nothing and is ok.
  Status enqueueJob(const JobRecord& job);
  // Leases the highest-priority, oldest job of `tenant_id` that is queued or whose lease expired,
  // to `agent_id`, for `lease_ms`. attempts is incremented. nullopt when nothing is ready.
  // Jobs whose attempts reached `max_attempts` are quarantined instead of leased.
  Result<std::optional<JobRecord>> leaseNextJob(const std::string& tenant_id,
                                                const std::string& agent_id, int64_t lease_ms,
                                                int max_attempts = 5);
  Result<std::optional<JobRecord>> job(const std::string& job_id);
  // Marks done. Returns false when the job was already done (a duplicate result).
  Result<bool> completeJob(const std::string& job_id);
  // Extends the lease of a job held by agent_id (progress heartbeat).
  Status extendLease(const std::string& job_id, const std::string& agent_id, int64_t lease_ms);
  Result<std::vector<JobRecord>> listJobs(const std::string& tenant_id);
  // Jobs of every tenant in `state`, oldest first.
  Result<std::vector<JobRecord>> jobsInState(JobState state);
  // A queued or leased job -> held (no lease, never leased while held). Conflict otherwise
  // (already held, done or quarantined); not_found for an unknown job.
  Status holdJob(const std::string& job_id);
  // A held job -> queued with approved = true and attempts reset, so the approved run gets its
  // full retry budget. Conflict when the job is not held.
  Status requeueApproved(const std::string& job_id);

  // Admin tokens. Names are unique (a second token with the same name is a conflict).
  Result<CreatedAdminToken> createAdminToken(const std::string& name);
  Result<std::optional<AdminToken>> adminByToken(const std::string& token);

  // Exclusive use of this store's connection for a component that keeps its own tables in the
  // same file (created with sqlite::migrateComponent): `f(sqlite::Database&)` runs under the
  // store's lock, so keep it short.
  template <class F>
  auto withDatabase(F&& f) {
    std::lock_guard lock(mu_);
    return f(db_);
  }

 private:
  ControlStore(sqlite::Database db, const Clock& clock);
  sqlite::Database db_;
  const Clock& clock_;
  std::mutex mu_;
};

}  // namespace tenure::cp
