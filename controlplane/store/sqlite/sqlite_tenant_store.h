#pragma once
// TenantStore on SQLite: one file per tenant (DATA_DIR/tenants/<tenant_id>.db) holding the runs and
// identities and, in the same file, every per-tenant component's tables. The components' stores
// share this store's connection; their migrations run once, when the file opens.

#include <memory>
#include <string>
#include <vector>

#include "controlplane/store/sqlite/sqlite_access_chain_store.h"
#include "controlplane/store/sqlite/sqlite_connection.h"
#include "controlplane/store/sqlite/sqlite_connector_store.h"
#include "controlplane/store/sqlite/sqlite_digest_store.h"
#include "controlplane/store/sqlite/sqlite_identity_event_store.h"
#include "controlplane/store/sqlite/sqlite_scim_user_store.h"
#include "controlplane/store/sqlite/sqlite_threshold_window_store.h"
#include "controlplane/store/sqlite/sqlite_ticket_store.h"
#include "controlplane/store/tenant_store.h"

namespace tenure::cp {

class SqliteTenantStore final : public TenantStore {
 public:
  static Result<std::unique_ptr<SqliteTenantStore>> open(const std::string& path,
                                                         const Clock& clock);

  Status createRun(const RunRecord& run, const std::vector<hr::HrRecord>& identities) override;
  Result<std::vector<RunRecord>> listRuns(int limit) override;
  Result<std::vector<RunRecord>> runsCreatedBetween(int64_t from_ms, int64_t to_ms,
                                                    int limit) override;
  Result<std::optional<RunRecord>> run(const std::string& run_id) override;
  Result<std::optional<RunReport>> report(const std::string& run_id, bool failures_only) override;
  Result<std::vector<hr::HrRecord>> runIdentities(const std::string& run_id) override;
  Status markRunning(const std::string& run_id, const std::string& agent_id) override;
  Status recordResult(const std::string& run_id, const protocol::JobResult& result,
                      const std::string& agent_id) override;
  Result<std::vector<RunRecord>> unfinishedRuns() override;
  Result<std::optional<hr::HrRecord>> identity(const std::string& employee_id) override;
  Result<int> savePolicy(const std::string& document, const std::string& author) override;
  Result<std::optional<StoredPolicy>> currentPolicy() override;
  Result<std::optional<StoredPolicy>> policyVersion(int version) override;
  Result<std::vector<StoredPolicy>> policyVersions() override;
  Status holdRun(const std::string& run_id, const protocol::PlanSummary& plan,
                 const std::string& reason) override;
  Result<std::optional<protocol::PlanSummary>> heldPlan(const std::string& run_id) override;
  Status approveRun(const std::string& run_id, const std::string& by) override;
  Status rejectRun(const std::string& run_id, const std::string& by) override;
  Result<std::vector<RunRecord>> runsWithStatus(RunStatus status, int limit) override;
  Status addTombstones(const std::vector<Tombstone>& tombstones) override;
  Result<std::vector<Tombstone>> activeTombstones(int64_t now_ms,
                                                  std::optional<int> name_reuse_days) override;
  Result<std::vector<std::string>> reservedNames(int64_t now_ms,
                                                 std::optional<int> name_reuse_days) override;
  Result<std::vector<hr::HrRecord>> allIdentities() override;

  AccessChainStore& accessChain() override { return access_chain_; }
  IdentityEventStore& events() override { return events_; }
  TicketStore& tickets() override { return tickets_; }
  DigestStore& digests() override { return digests_; }
  ScimUserStore& scimUsers() override { return scim_users_; }
  ConnectorStore& connectors() override { return connectors_; }
  ThresholdWindowStore& thresholdWindow() override { return threshold_window_; }

  // Every component's tables in a tenant database, with their migrations.
  static std::vector<ComponentSchema> componentSchemas();

  // Exclusive use of the connection: for the SQLite component stores and for tests that inspect
  // the file. `f(sqlite::Database&)` runs under the connection's lock.
  template <class F>
  auto withDatabase(F&& f) {
    return conn_.run(std::forward<F>(f));
  }

 private:
  SqliteTenantStore(sqlite::Database db, const Clock& clock);
  SqliteConnection conn_;
  // This store's own methods lock and use the connection directly.
  sqlite::Database& db_ = conn_.database();
  std::mutex& mu_ = conn_.mutex();
  const Clock& clock_;
  SqliteAccessChainStore access_chain_{conn_, clock_};
  SqliteIdentityEventStore events_{conn_, clock_};
  SqliteTicketStore tickets_{conn_, clock_};
  SqliteDigestStore digests_{conn_, clock_};
  SqliteScimUserStore scim_users_{conn_, clock_};
  SqliteConnectorStore connectors_{conn_, clock_};
  SqliteThresholdWindowStore threshold_window_{conn_, clock_};
};

}  // namespace tenure::cp
