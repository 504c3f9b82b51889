#include "controlplane/store/sqlite/sqlite_control_store.h"

#include <algorithm>
#include <array>
#include <utility>

#include "common/base/crypto.h"

namespace tenure::cp {

namespace {

const std::vector<std::string> kMigrations = {
    R"sql(
CREATE TABLE tenants (
  tenant_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  enroll_secret_sha256 TEXT NOT NULL UNIQUE,
  api_token_sha256 TEXT NOT NULL UNIQUE,
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE agents (
  agent_id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
  node_key_sha256 TEXT NOT NULL UNIQUE,
  host TEXT NOT NULL,
  version TEXT NOT NULL,
  enrolled_at_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX agents_by_tenant ON agents(tenant_id);
CREATE TABLE jobs (
  job_id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
  run_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  agent_id TEXT NOT NULL DEFAULT '',
  lease_expires_at_ms INTEGER NOT NULL DEFAULT 0,
  created_at_ms INTEGER NOT NULL,
  finished_at_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_ready ON jobs(tenant_id, state, priority DESC, created_at_ms);
)sql",
    R"sql(
ALTER TABLE jobs ADD COLUMN approved INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_by_state ON jobs(state);
CREATE TABLE admin_tokens (
  name TEXT PRIMARY KEY,
  token_sha256 TEXT NOT NULL UNIQUE,
  created_at_ms INTEGER NOT NULL
);
)sql",
};

constexpr std::array<std::string_view, 5> kJobStateNames = {"queued", "leased", "done",
                                                            "quarantined", "held"};

JobState jobStateFromName(std::string_view name) {
  for (size_t i = 0; i < kJobStateNames.size(); ++i) {
    if (kJobStateNames[i] == name) return static_cast<JobState>(i);
  }
  return JobState::kQueued;  // unreachable with rows written by this store
}

constexpr const char* kTenantColumns = "tenant_id, name, created_at_ms";
Tenant readTenant(const sqlite::Statement& st) {
  return Tenant{st.columnText(0), st.columnText(1), st.columnInt64(2)};
}

constexpr const char* kAdminTokenColumns = "name, created_at_ms";
AdminToken readAdminToken(const sqlite::Statement& st) {
  return AdminToken{st.columnText(0), st.columnInt64(1)};
}

constexpr const char* kAgentColumns =
    "agent_id, tenant_id, host, version, enrolled_at_ms, last_seen_ms, revoked";
AgentRecord readAgent(const sqlite::Statement& st) {
  AgentRecord a;
  a.agent_id = st.columnText(0);
  a.tenant_id = st.columnText(1);
  a.host = st.columnText(2);
  a.version = st.columnText(3);
  a.enrolled_at_ms = st.columnInt64(4);
  a.last_seen_ms = st.columnInt64(5);
  a.revoked = st.columnInt64(6) != 0;
  return a;
}

constexpr const char* kJobColumns =
    "job_id, tenant_id, run_id, kind, state, priority, attempts, agent_id, lease_expires_at_ms, "
    "created_at_ms, finished_at_ms, approved, not_before_ms";
JobRecord readJob(const sqlite::Statement& st) {
  JobRecord j;
  j.job_id = st.columnText(0);
  j.tenant_id = st.columnText(1);
  j.run_id = st.columnText(2);
  j.kind = st.columnText(3);
  j.state = jobStateFromName(st.columnText(4));
  j.priority = static_cast<int>(st.columnInt64(5));
  j.attempts = static_cast<int>(st.columnInt64(6));
  j.agent_id = st.columnText(7);
  j.lease_expires_at_ms = st.columnInt64(8);
  j.created_at_ms = st.columnInt64(9);
  j.finished_at_ms = st.columnInt64(10);
  j.approved = st.columnInt64(11) != 0;
  j.not_before_ms = st.columnInt64(12);
  return j;
}

// Runs a query expected to yield at most one row and maps it with `read`.
template <typename T, typename Read>
Result<std::optional<T>> queryOne(sqlite::Statement& st, Read read) {
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<T>();
  return std::optional<T>(read(st));
}

template <typename T, typename Read>
Result<std::vector<T>> queryAll(sqlite::Statement& st, Read read) {
  std::vector<T> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return out;
    out.push_back(read(st));
  }
}

}  // namespace

std::string_view jobStateName(JobState s) { return kJobStateNames[static_cast<size_t>(s)]; }

SqliteControlStore::SqliteControlStore(sqlite::Database db, const Clock& clock)
    : conn_(std::move(db)), clock_(clock) {}

std::vector<ComponentSchema> SqliteControlStore::componentSchemas() {
  return {
      {SqliteAccessChainStore::kComponent, SqliteAccessChainStore::migrations()},
      {SqliteTicketIndexStore::kComponent, SqliteTicketIndexStore::migrations()},
      {SqliteDataKeyStore::kComponent, SqliteDataKeyStore::migrations()},
  };
}

Result<std::unique_ptr<SqliteControlStore>> SqliteControlStore::open(const std::string& path,
                                                                     const Clock& clock) {
  ASSIGN_OR_RETURN(sqlite::Database db, sqlite::Database::open(path));
  RETURN_IF_ERROR(sqlite::migrate(db, kMigrations).withContext("control store"));
  RETURN_IF_ERROR(migrateScheduling(db));
  RETURN_IF_ERROR(migrateCredentials(db));
  RETURN_IF_ERROR(migrateComponents(db, componentSchemas()));
  return std::unique_ptr<SqliteControlStore>(new SqliteControlStore(std::move(db), clock));
}

Result<std::unique_ptr<ControlStore>> ControlStore::open(const std::string& path,
                                                         const Clock& clock) {
  ASSIGN_OR_RETURN(auto store, SqliteControlStore::open(path, clock));
  return std::unique_ptr<ControlStore>(std::move(store));
}

// ---------------------------------------------------------------------------------------------
// Tenants

Result<TenantCredentials> SqliteControlStore::createTenant(const std::string& name) {
  if (name.empty()) return dataError("tenant name is required");
  TenantCredentials creds;
  creds.tenant = Tenant{"t_" + randomHex(8), name, clock_.nowUnixMillis()};
  creds.enroll_secret = randomToken();
  creds.api_token = randomToken();
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("INSERT INTO tenants (tenant_id, name, "
                                        "enroll_secret_sha256, api_token_sha256, created_at_ms) "
                                        "VALUES (?, ?, ?, ?, ?)"));
  st.bindText(1, creds.tenant.tenant_id)
      .bindText(2, name)
      .bindText(3, sha256Hex(creds.enroll_secret))
      .bindText(4, sha256Hex(creds.api_token))
      .bindInt64(5, creds.tenant.created_at_ms);
  RETURN_IF_ERROR(st.run());
  return creds;
}

Result<std::vector<Tenant>> SqliteControlStore::listTenants() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kTenantColumns +
                                        " FROM tenants ORDER BY created_at_ms, tenant_id"));
  return queryAll<Tenant>(st, readTenant);
}

Result<std::optional<Tenant>> SqliteControlStore::tenantById(const std::string& tenant_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kTenantColumns +
                                        " FROM tenants WHERE tenant_id = ?"));
  st.bindText(1, tenant_id);
  return queryOne<Tenant>(st, readTenant);
}

Result<std::optional<Tenant>> SqliteControlStore::tenantByEnrollSecret(const std::string& secret) {
  if (secret.empty()) return std::optional<Tenant>();
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kTenantColumns +
                                        " FROM tenants WHERE enroll_secret_sha256 = ?"));
  st.bindText(1, sha256Hex(secret));
  return queryOne<Tenant>(st, readTenant);
}

Result<std::optional<Tenant>> SqliteControlStore::tenantByApiToken(const std::string& token,
                                                             bool current_only) {
  if (token.empty()) return std::optional<Tenant>();
  const std::string hash = sha256Hex(token);
  std::lock_guard lock(mu_);
  // The previous token counts only while its grace lasts (see rotateApiToken).
  ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kTenantColumns +
                                        " FROM tenants WHERE api_token_sha256 = ? OR "
                                        "(previous_api_token_sha256 = ? AND "
                                        "previous_api_token_valid_until_ms > ?)"));
  st.bindText(1, hash)
      .bindText(2, current_only ? std::string() : hash)  // "" is no stored hash
      .bindInt64(3, clock_.nowUnixMillis());
  return queryOne<Tenant>(st, readTenant);
}

Result<bool> SqliteControlStore::deleteTenant(const std::string& tenant_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));
  // Rows other components keep per tenant in this database go in the same transaction, so a
  // deleted tenant never leaves a schedule that fires or a ticket an operator still sees. A
  // component's table exists only once the component has run: (table, statement) pairs.
  static const std::pair<const char*, const char*> kComponentRows[] = {
      {"schedules", "DELETE FROM schedules WHERE tenant_id = ?"},
      {"agent_health",
       "DELETE FROM agent_health WHERE agent_id IN (SELECT agent_id FROM agents WHERE "
       "tenant_id = ?)"},
      {"ticket_index", "DELETE FROM ticket_index WHERE tenant_id = ?"},
  };
  for (const auto& [table, sql] : kComponentRows) {
    ASSIGN_OR_RETURN(auto exists,
                     db_.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"));
    exists.bindText(1, table);
    ASSIGN_OR_RETURN(bool has, exists.step());
    if (!has) continue;
    ASSIGN_OR_RETURN(auto st, db_.prepare(sql));
    st.bindText(1, tenant_id);
    RETURN_IF_ERROR(st.run());
  }
  // Children first: agents and jobs reference the tenant.
  for (const char* sql :
       {"DELETE FROM jobs WHERE tenant_id = ?", "DELETE FROM agents WHERE tenant_id = ?"}) {
    ASSIGN_OR_RETURN(auto st, db_.prepare(sql));
    st.bindText(1, tenant_id);
    RETURN_IF_ERROR(st.run());
  }
  ASSIGN_OR_RETURN(auto st, db_.prepare("DELETE FROM tenants WHERE tenant_id = ?"));
  st.bindText(1, tenant_id);
  RETURN_IF_ERROR(st.run());
  const bool existed = db_.changes() > 0;
  RETURN_IF_ERROR(tx.commit());
  return existed;
}

// ---------------------------------------------------------------------------------------------
// Agents

Result<EnrolledAgent> SqliteControlStore::enrollAgent(const std::string& tenant_id,
                                                const std::string& host,
                                                const std::string& version) {
  EnrolledAgent out;
  out.node_key = randomToken();
  AgentRecord& a = out.agent;
  a.agent_id = "a_" + randomHex(8);
  a.tenant_id = tenant_id;
  a.host = host;
  a.version = version;
  a.enrolled_at_ms = clock_.nowUnixMillis();
  a.last_seen_ms = a.enrolled_at_ms;
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("INSERT INTO agents (agent_id, tenant_id, "
                                        "node_key_sha256, host, version, enrolled_at_ms, "
                                        "last_seen_ms) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  st.bindText(1, a.agent_id)
      .bindText(2, tenant_id)
      .bindText(3, sha256Hex(out.node_key))
      .bindText(4, host)
      .bindText(5, version)
      .bindInt64(6, a.enrolled_at_ms)
      .bindInt64(7, a.last_seen_ms);
  Status s = st.run();
  if (!s.isOk()) {
    // The only constraint a fresh random id and key can hit is the tenant reference.
    if (s.errorClass() == ErrorClass::kConflict) {
      return notFoundError("unknown tenant " + tenant_id, s.nativeCode());
    }
    return s;
  }
  return out;
}

Result<std::optional<AgentRecord>> SqliteControlStore::agentByNodeKey(const std::string& node_key) {
  if (node_key.empty()) return std::optional<AgentRecord>();
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kAgentColumns +
                                        " FROM agents WHERE node_key_sha256 = ? AND revoked = 0"));
  st.bindText(1, sha256Hex(node_key));
  return queryOne<AgentRecord>(st, readAgent);
}

Status SqliteControlStore::touchAgent(const std::string& agent_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("UPDATE agents SET last_seen_ms = ? WHERE agent_id = ?"));
  st.bindInt64(1, clock_.nowUnixMillis()).bindText(2, agent_id);
  RETURN_IF_ERROR(st.run());
  if (db_.changes() == 0) return notFoundError("unknown agent " + agent_id);
  return Status::ok();
}

Result<std::vector<AgentRecord>> SqliteControlStore::listAgents(const std::string& tenant_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kAgentColumns +
                                        " FROM agents WHERE tenant_id = ? "
                                        "ORDER BY enrolled_at_ms, agent_id"));
  st.bindText(1, tenant_id);
  return queryAll<AgentRecord>(st, readAgent);
}

// ---------------------------------------------------------------------------------------------
// Jobs

Status SqliteControlStore::enqueueJob(const JobRecord& job) {
  if (job.job_id.empty()) return dataError("job_id is required");
  if (job.tenant_id.empty()) return dataError("tenant_id is required");
  std::lock_guard lock(mu_);
  // ON CONFLICT covers only the primary key; an unknown tenant still fails its foreign key.
  ASSIGN_OR_RETURN(auto st, db_.prepare("INSERT INTO jobs (job_id, tenant_id, run_id, kind, "
                                        "state, priority, created_at_ms, approved) VALUES "
                                        "(?, ?, ?, ?, 'queued', ?, ?, ?) "
                                        "ON CONFLICT(job_id) DO NOTHING"));
  st.bindText(1, job.job_id)
      .bindText(2, job.tenant_id)
      .bindText(3, job.run_id)
      .bindText(4, job.kind)
      .bindInt64(5, job.priority)
      .bindInt64(6, job.created_at_ms != 0 ? job.created_at_ms : clock_.nowUnixMillis())
      .bindInt64(7, job.approved ? 1 : 0);
  return st.run().withContext("enqueue job " + job.job_id);
}

Result<std::optional<JobRecord>> SqliteControlStore::leaseNextJob(const std::string& tenant_id,
                                                            const std::string& agent_id,
                                                            int64_t lease_ms, int max_attempts,
                                                            std::vector<JobRecord>* quarantined) {
  std::lock_guard lock(mu_);
  // IMMEDIATE takes the write lock before the SELECT, so no other connection (another process
  // or replica on the same file) can pick the same row between our read and our update.
  ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));
  const int64_t now = clock_.nowUnixMillis();

  // Isolation is checked here as well as by the caller: the lease goes only to a live agent of
  // the job's tenant.
  {
    ASSIGN_OR_RETURN(auto st,
                     db_.prepare("SELECT tenant_id, revoked FROM agents WHERE agent_id = ?"));
    st.bindText(1, agent_id);
    ASSIGN_OR_RETURN(bool row, st.step());
    if (!row || st.columnText(0) != tenant_id || st.columnInt64(1) != 0) {
      return permissionError("agent " + agent_id + " may not lease jobs of tenant " + tenant_id);
    }
  }

  RETURN_IF_ERROR(requeueExpiredLeases(tenant_id, now));
  ASSIGN_OR_RETURN(auto pick, db_.prepare(std::string("SELECT ") + kJobColumns +
                                          " FROM jobs WHERE tenant_id = ? AND state = 'queued' "
                                          "AND not_before_ms <= ? "
                                          "ORDER BY priority DESC, created_at_ms, rowid LIMIT 1"));
  ASSIGN_OR_RETURN(auto quarantine, db_.prepare("UPDATE jobs SET state = 'quarantined', "
                                                "finished_at_ms = ? WHERE job_id = ?"));
  ASSIGN_OR_RETURN(auto lease, db_.prepare("UPDATE jobs SET state = 'leased', attempts = "
                                           "attempts + 1, agent_id = ?, lease_expires_at_ms = ? "
                                           "WHERE job_id = ?"));
  while (true) {
    pick.reset();
    pick.bindText(1, tenant_id).bindInt64(2, now);
    ASSIGN_OR_RETURN(auto job, queryOne<JobRecord>(pick, readJob));
    pick.reset();  // releases the read cursor before writing
    if (!job) {
      RETURN_IF_ERROR(tx.commit());  // keeps any quarantines made above
      return std::optional<JobRecord>();
    }
    if (job->attempts >= max_attempts) {
      quarantine.reset();
      quarantine.bindInt64(1, now).bindText(2, job->job_id);
      RETURN_IF_ERROR(quarantine.run());
      if (quarantined != nullptr) {
        job->state = JobState::kQuarantined;
        job->finished_at_ms = now;
        quarantined->push_back(*job);
      }
      continue;
    }
    job->state = JobState::kLeased;
    job->attempts += 1;
    job->agent_id = agent_id;
    job->lease_expires_at_ms = now + lease_ms;
    lease.bindText(1, agent_id).bindInt64(2, job->lease_expires_at_ms).bindText(3, job->job_id);
    RETURN_IF_ERROR(lease.run());
    RETURN_IF_ERROR(tx.commit());
    return job;
  }
}

Result<std::optional<JobRecord>> SqliteControlStore::job(const std::string& job_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(
      auto st, db_.prepare(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE job_id = ?"));
  st.bindText(1, job_id);
  return queryOne<JobRecord>(st, readJob);
}

Result<bool> SqliteControlStore::completeJob(const std::string& job_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));
  ASSIGN_OR_RETURN(auto st, db_.prepare("UPDATE jobs SET state = 'done', finished_at_ms = ? "
                                        "WHERE job_id = ? AND state != 'done'"));
  st.bindInt64(1, clock_.nowUnixMillis()).bindText(2, job_id);
  RETURN_IF_ERROR(st.run());
  const bool changed = db_.changes() > 0;
  if (!changed) {
    ASSIGN_OR_RETURN(auto exists, db_.prepare("SELECT 1 FROM jobs WHERE job_id = ?"));
    exists.bindText(1, job_id);
    ASSIGN_OR_RETURN(bool row, exists.step());
    if (!row) return notFoundError("unknown job " + job_id);
  }
  RETURN_IF_ERROR(tx.commit());
  return changed;
}

Status SqliteControlStore::extendLease(const std::string& job_id, const std::string& agent_id,
                                 int64_t lease_ms) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("UPDATE jobs SET lease_expires_at_ms = ? WHERE job_id = ? "
                                        "AND agent_id = ? AND state = 'leased'"));
  st.bindInt64(1, clock_.nowUnixMillis() + lease_ms).bindText(2, job_id).bindText(3, agent_id);
  RETURN_IF_ERROR(st.run());
  if (db_.changes() == 0) {
    return conflictError("job " + job_id + " is not leased to agent " + agent_id);
  }
  return Status::ok();
}

Result<std::vector<JobRecord>> SqliteControlStore::listJobs(const std::string& tenant_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kJobColumns +
                                        " FROM jobs WHERE tenant_id = ? "
                                        "ORDER BY created_at_ms, rowid"));
  st.bindText(1, tenant_id);
  return queryAll<JobRecord>(st, readJob);
}

Result<std::vector<JobRecord>> SqliteControlStore::jobsInState(JobState state) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kJobColumns +
                                        " FROM jobs WHERE state = ? ORDER BY created_at_ms, rowid"));
  st.bindText(1, jobStateName(state));
  return queryAll<JobRecord>(st, readJob);
}

namespace {
// Moves a job from one of `from` to `to_sql` (a SET clause) in one transaction, telling an
// unknown job (not_found) from one in another state (conflict).
Status transitionJob(sqlite::Database& db, const std::string& job_id,
                     const std::vector<std::string_view>& from, const std::string& set_clause,
                     std::string_view what) {
  ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
  ASSIGN_OR_RETURN(auto cur, db.prepare("SELECT state FROM jobs WHERE job_id = ?"));
  cur.bindText(1, job_id);
  ASSIGN_OR_RETURN(bool row, cur.step());
  if (!row) return notFoundError("unknown job " + job_id);
  const std::string state = cur.columnText(0);
  cur.reset();
  if (std::find(from.begin(), from.end(), state) == from.end()) {
    return conflictError("cannot " + std::string(what) + " job " + job_id + ": it is " + state);
  }
  ASSIGN_OR_RETURN(auto upd, db.prepare("UPDATE jobs SET " + set_clause + " WHERE job_id = ?"));
  upd.bindText(1, job_id);
  RETURN_IF_ERROR(upd.run());
  return tx.commit();
}
}  // namespace

Status SqliteControlStore::holdJob(const std::string& job_id) {
  std::lock_guard lock(mu_);
  return transitionJob(db_, job_id, {"queued", "leased"},
                       "state = 'held', lease_expires_at_ms = 0", "hold");
}

Status SqliteControlStore::requeueApproved(const std::string& job_id) {
  std::lock_guard lock(mu_);
  return transitionJob(db_, job_id, {"held"},
                       "state = 'queued', approved = 1, attempts = 0, lease_expires_at_ms = 0, "
                       "not_before_ms = 0, agent_id = ''",
                       "approve");
}

// ---------------------------------------------------------------------------------------------
// Admin tokens

Result<CreatedAdminToken> SqliteControlStore::createAdminToken(const std::string& name) {
  if (name.empty()) return dataError("admin token name is required");
  CreatedAdminToken out;
  out.admin = AdminToken{name, clock_.nowUnixMillis()};
  out.token = "adm_" + randomToken();
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("INSERT INTO admin_tokens (name, token_sha256, "
                                        "created_at_ms) VALUES (?, ?, ?)"));
  st.bindText(1, name).bindText(2, sha256Hex(out.token)).bindInt64(3, out.admin.created_at_ms);
  Status s = st.run();
  if (!s.isOk()) {
    if (s.errorClass() == ErrorClass::kConflict) {
      return conflictError("an admin token named '" + name + "' exists already", s.nativeCode());
    }
    return s;
  }
  return out;
}

Result<std::vector<AdminToken>> SqliteControlStore::listAdminTokens() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kAdminTokenColumns +
                                        " FROM admin_tokens ORDER BY name"));
  return queryAll<AdminToken>(st, readAdminToken);
}

Result<CreatedAdminToken> SqliteControlStore::rotateAdminToken(const std::string& name) {
  CreatedAdminToken out;
  out.token = "adm_" + randomToken();
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto update,
                   db_.prepare("UPDATE admin_tokens SET token_sha256 = ? WHERE name = ?"));
  update.bindText(1, sha256Hex(out.token)).bindText(2, name);
  RETURN_IF_ERROR(update.run());
  if (db_.changes() == 0) return notFoundError("no admin token named '" + name + "'");
  ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT created_at_ms FROM admin_tokens WHERE name = ?"));
  st.bindText(1, name);
  ASSIGN_OR_RETURN(bool found, st.step());
  out.admin = AdminToken{name, found ? st.columnInt64(0) : 0};
  return out;
}

Status SqliteControlStore::revokeAdminToken(const std::string& name) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("DELETE FROM admin_tokens WHERE name = ?"));
  st.bindText(1, name);
  RETURN_IF_ERROR(st.run());
  if (db_.changes() == 0) return notFoundError("no admin token named '" + name + "'");
  return Status::ok();
}

Result<std::optional<AdminToken>> SqliteControlStore::adminByToken(const std::string& token) {
  if (token.empty()) return std::optional<AdminToken>();
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kAdminTokenColumns +
                                        " FROM admin_tokens WHERE token_sha256 = ?"));
  st.bindText(1, sha256Hex(token));
  return queryOne<AdminToken>(st, readAdminToken);
}

}  // namespace tenure::cp
