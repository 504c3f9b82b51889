#pragma once
// ControlStore on SQLite: the control database file (WAL), with the rows components keep there
// (the access audit chain, the ticket index, the wrapped data keys) on the same connection.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "controlplane/store/control_store.h"
#include "controlplane/store/sqlite/sqlite_access_chain_store.h"
#include "controlplane/store/sqlite/sqlite_connection.h"
#include "controlplane/store/sqlite/sqlite_data_key_store.h"
#include "controlplane/store/sqlite/sqlite_ticket_index_store.h"

namespace tenure::cp {

class SqliteControlStore final : public ControlStore {
 public:
  static Result<std::unique_ptr<SqliteControlStore>> open(const std::string& path,
                                                          const Clock& clock);
  // Every component's tables in the control database, with their migrations.
  static std::vector<ComponentSchema> componentSchemas();

  Result<TenantCredentials> createTenant(const std::string& name) override;
  Result<std::vector<Tenant>> listTenants() override;
  Result<std::optional<Tenant>> tenantById(const std::string& tenant_id) override;
  Result<std::optional<Tenant>> tenantByEnrollSecret(const std::string& secret) override;
  Result<std::optional<Tenant>> tenantByApiToken(const std::string& token,
                                                 bool current_only) override;
  Result<bool> deleteTenant(const std::string& tenant_id) override;
  Result<EnrolledAgent> enrollAgent(const std::string& tenant_id, const std::string& host,
                                    const std::string& version) override;
  Result<std::optional<AgentRecord>> agentByNodeKey(const std::string& node_key) override;
  Status touchAgent(const std::string& agent_id) override;
  Result<std::vector<AgentRecord>> listAgents(const std::string& tenant_id) override;
  Result<RotatedApiToken> rotateApiToken(const std::string& tenant_id,
                                         int64_t grace_seconds) override;
  Result<std::string> rotateEnrollSecret(const std::string& tenant_id) override;
  Result<bool> revokeAgent(const std::string& tenant_id, const std::string& agent_id) override;
  Status enqueueJob(const JobRecord& job) override;
  Result<std::optional<JobRecord>> leaseNextJob(const std::string& tenant_id,
                                                const std::string& agent_id, int64_t lease_ms,
                                                int max_attempts,
                                                std::vector<JobRecord>* quarantined) override;
  Result<std::optional<JobRecord>> job(const std::string& job_id) override;
  Result<bool> completeJob(const std::string& job_id) override;
  Status extendLease(const std::string& job_id, const std::string& agent_id,
                     int64_t lease_ms) override;
  Result<std::vector<JobRecord>> listJobs(const std::string& tenant_id) override;
  Result<std::vector<JobRecord>> jobsInState(JobState state) override;
  Status holdJob(const std::string& job_id) override;
  Status requeueApproved(const std::string& job_id) override;
  void setRetryBackoff(RetryBackoff backoff) override;
  const RetryBackoff& retryBackoff() const override { return backoff_; }
  Result<JobRecord> retryJobLater(const std::string& job_id, const std::string& agent_id) override;
  Status quarantineJob(const std::string& job_id) override;
  Result<Schedule> createSchedule(const Schedule& schedule) override;
  Result<std::vector<Schedule>> listSchedules(const std::string& tenant_id) override;
  Result<std::optional<Schedule>> schedule(const std::string& tenant_id,
                                           const std::string& schedule_id) override;
  Status updateSchedule(const Schedule& schedule) override;
  Result<bool> deleteSchedule(const std::string& tenant_id,
                              const std::string& schedule_id) override;
  Result<std::vector<Schedule>> dueSchedules(int64_t now_ms) override;
  Result<bool> claimScheduleSlot(const std::string& schedule_id, int64_t slot_ms,
                                 int64_t next_ms) override;
  Status recordScheduleRun(const std::string& schedule_id, const std::string& run_id,
                           const std::string& error) override;
  Status recordAgentResult(const std::string& agent_id, bool failed,
                           const std::string& error) override;
  Result<std::vector<AgentHealth>> agentHealth(const std::string& tenant_id) override;
  Result<CreatedAdminToken> createAdminToken(const std::string& name) override;
  Result<std::optional<AdminToken>> adminByToken(const std::string& token) override;
  Result<std::vector<AdminToken>> listAdminTokens() override;
  Result<CreatedAdminToken> rotateAdminToken(const std::string& name) override;
  Status revokeAdminToken(const std::string& name) override;

  AccessChainStore& accessChain() override { return access_chain_; }
  TicketIndexStore& ticketIndex() override { return ticket_index_; }
  DataKeyStore& dataKeys() override { return data_keys_; }

  // Exclusive use of the connection: for the SQLite component stores and for tests that inspect
  // the file. `f(sqlite::Database&)` runs under the connection's lock.
  template <class F>
  auto withDatabase(F&& f) {
    return conn_.run(std::forward<F>(f));
  }

 private:
  SqliteControlStore(sqlite::Database db, const Clock& clock);
  static Status migrateScheduling(sqlite::Database& db);
  static Status migrateCredentials(sqlite::Database& db);
  // Inside leaseNextJob's transaction: expired leases of the tenant -> queued, with backoff.
  Status requeueExpiredLeases(const std::string& tenant_id, int64_t now_ms);
  SqliteConnection conn_;
  // This store's own methods lock and use the connection directly.
  sqlite::Database& db_ = conn_.database();
  std::mutex& mu_ = conn_.mutex();
  const Clock& clock_;
  RetryBackoff backoff_{0, 0};  // none until the service sets its options
  SqliteAccessChainStore access_chain_{conn_, clock_};
  SqliteTicketIndexStore ticket_index_{conn_, clock_};
  SqliteDataKeyStore data_keys_{conn_, clock_};
};

}  // namespace tenure::cp
