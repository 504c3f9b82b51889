// The control store's scheduling side: cron schedules, retry backoff and quarantine, agent
// health. Its tables live in the "scheduling" component schema of control.db.
#include <algorithm>

#include "common/base/crypto.h"
#include "controlplane/store/sqlite/sqlite_control_store.h"

namespace tenure::cp {

namespace {

const std::vector<std::string> kSchedulingMigrations = {
    R"sql(
ALTER TABLE jobs ADD COLUMN not_before_ms INTEGER NOT NULL DEFAULT 0;
CREATE TABLE schedules (
  schedule_id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  cron TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  next_run_at_ms INTEGER NOT NULL DEFAULT 0,
  last_run_at_ms INTEGER NOT NULL DEFAULT 0,
  last_run_id TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT '',
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX schedules_by_tenant ON schedules(tenant_id, created_at_ms);
CREATE INDEX schedules_due ON schedules(enabled, next_run_at_ms);
CREATE TABLE agent_health (
  agent_id TEXT PRIMARY KEY,
  jobs_done INTEGER NOT NULL DEFAULT 0,
  jobs_failed INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  last_error_at_ms INTEGER NOT NULL DEFAULT 0
);
)sql",
};

constexpr const char* kScheduleColumns =
    "schedule_id, tenant_id, kind, cron, enabled, next_run_at_ms, last_run_at_ms, last_run_id, "
    "last_error, created_at_ms, updated_at_ms";

Schedule readSchedule(const sqlite::Statement& st) {
  Schedule s;
  s.schedule_id = st.columnText(0);
  s.tenant_id = st.columnText(1);
  s.kind = st.columnText(2);
  s.cron = st.columnText(3);
  s.enabled = st.columnInt64(4) != 0;
  s.next_run_at_ms = st.columnInt64(5);
  s.last_run_at_ms = st.columnInt64(6);
  s.last_run_id = st.columnText(7);
  s.last_error = st.columnText(8);
  s.created_at_ms = st.columnInt64(9);
  s.updated_at_ms = st.columnInt64(10);
  return s;
}

Result<std::vector<Schedule>> readSchedules(sqlite::Statement& st) {
  std::vector<Schedule> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return out;
    out.push_back(readSchedule(st));
  }
}

}  // namespace

int64_t RetryBackoff::delayMs(int attempts) const {
  if (base_ms <= 0) return 0;
  int64_t d = base_ms;
  for (int i = 0; i < attempts && d < cap_ms; ++i) d *= 2;
  return std::min(d, cap_ms);
}

Status SqliteControlStore::migrateScheduling(sqlite::Database& db) {
  return sqlite::migrateComponent(db, "scheduling", kSchedulingMigrations)
      .withContext("control store (scheduling)");
}

void SqliteControlStore::setRetryBackoff(RetryBackoff backoff) {
  std::lock_guard lock(mu_);
  backoff_ = backoff;
}

Status SqliteControlStore::requeueExpiredLeases(const std::string& tenant_id, int64_t now_ms) {
  // The retry waits from the moment the lease ran out, not from when someone noticed.
  ASSIGN_OR_RETURN(auto find, db_.prepare("SELECT job_id, attempts, lease_expires_at_ms FROM jobs "
                                          "WHERE tenant_id = ? AND state = 'leased' AND "
                                          "lease_expires_at_ms <= ?"));
  find.bindText(1, tenant_id).bindInt64(2, now_ms);
  std::vector<std::tuple<std::string, int, int64_t>> expired;
  while (true) {
    ASSIGN_OR_RETURN(bool row, find.step());
    if (!row) break;
    expired.emplace_back(find.columnText(0), static_cast<int>(find.columnInt64(1)),
                         find.columnInt64(2));
  }
  find.reset();
  if (expired.empty()) return Status::ok();
  ASSIGN_OR_RETURN(auto upd, db_.prepare("UPDATE jobs SET state = 'queued', lease_expires_at_ms = "
                                         "0, not_before_ms = ? WHERE job_id = ?"));
  for (const auto& [job_id, attempts, expired_at] : expired) {
    upd.reset();
    upd.bindInt64(1, expired_at + backoff_.delayMs(attempts)).bindText(2, job_id);
    RETURN_IF_ERROR(upd.run());
  }
  return Status::ok();
}

Result<JobRecord> SqliteControlStore::retryJobLater(const std::string& job_id,
                                              const std::string& agent_id) {
  ASSIGN_OR_RETURN(auto found, job(job_id));
  if (!found) return notFoundError("unknown job " + job_id);
  std::lock_guard lock(mu_);
  const int64_t not_before = clock_.nowUnixMillis() + backoff_.delayMs(found->attempts);
  ASSIGN_OR_RETURN(auto st, db_.prepare("UPDATE jobs SET state = 'queued', lease_expires_at_ms = 0, "
                                        "not_before_ms = ? WHERE job_id = ? AND agent_id = ? AND "
                                        "state = 'leased'"));
  st.bindInt64(1, not_before).bindText(2, job_id).bindText(3, agent_id);
  RETURN_IF_ERROR(st.run());
  if (db_.changes() == 0) {
    return conflictError("job " + job_id + " is not leased to agent " + agent_id);
  }
  JobRecord out = *found;
  out.state = JobState::kQueued;
  out.lease_expires_at_ms = 0;
  out.not_before_ms = not_before;
  return out;
}

Status SqliteControlStore::quarantineJob(const std::string& job_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("UPDATE jobs SET state = 'quarantined', finished_at_ms = ?, "
                                        "lease_expires_at_ms = 0 WHERE job_id = ? AND state IN "
                                        "('queued', 'leased')"));
  st.bindInt64(1, clock_.nowUnixMillis()).bindText(2, job_id);
  RETURN_IF_ERROR(st.run());
  if (db_.changes() == 0) return conflictError("job " + job_id + " is not queued or leased");
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// Schedules

Result<Schedule> SqliteControlStore::createSchedule(const Schedule& schedule) {
  if (schedule.tenant_id.empty()) return dataError("tenant_id is required");
  Schedule s = schedule;
  if (s.schedule_id.empty()) s.schedule_id = "s_" + randomHex(8);
  s.created_at_ms = s.updated_at_ms = clock_.nowUnixMillis();
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("INSERT INTO schedules (schedule_id, tenant_id, kind, cron, "
                                        "enabled, next_run_at_ms, created_at_ms, updated_at_ms) "
                                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  st.bindText(1, s.schedule_id)
      .bindText(2, s.tenant_id)
      .bindText(3, s.kind)
      .bindText(4, s.cron)
      .bindInt64(5, s.enabled ? 1 : 0)
      .bindInt64(6, s.next_run_at_ms)
      .bindInt64(7, s.created_at_ms)
      .bindInt64(8, s.updated_at_ms);
  RETURN_IF_ERROR(st.run().withContext("create schedule"));
  return s;
}

Result<std::vector<Schedule>> SqliteControlStore::listSchedules(const std::string& tenant_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kScheduleColumns +
                                        " FROM schedules WHERE tenant_id = ? "
                                        "ORDER BY created_at_ms, schedule_id"));
  st.bindText(1, tenant_id);
  return readSchedules(st);
}

Result<std::optional<Schedule>> SqliteControlStore::schedule(const std::string& tenant_id,
                                                       const std::string& schedule_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kScheduleColumns +
                                        " FROM schedules WHERE tenant_id = ? AND schedule_id = ?"));
  st.bindText(1, tenant_id).bindText(2, schedule_id);
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<Schedule>();
  return std::optional<Schedule>(readSchedule(st));
}

Status SqliteControlStore::updateSchedule(const Schedule& s) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("UPDATE schedules SET kind = ?, cron = ?, enabled = ?, "
                                        "next_run_at_ms = ?, updated_at_ms = ? "
                                        "WHERE tenant_id = ? AND schedule_id = ?"));
  st.bindText(1, s.kind)
      .bindText(2, s.cron)
      .bindInt64(3, s.enabled ? 1 : 0)
      .bindInt64(4, s.next_run_at_ms)
      .bindInt64(5, clock_.nowUnixMillis())
      .bindText(6, s.tenant_id)
      .bindText(7, s.schedule_id);
  RETURN_IF_ERROR(st.run());
  if (db_.changes() == 0) return notFoundError("unknown schedule " + s.schedule_id);
  return Status::ok();
}

Result<bool> SqliteControlStore::deleteSchedule(const std::string& tenant_id,
                                          const std::string& schedule_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st,
                   db_.prepare("DELETE FROM schedules WHERE tenant_id = ? AND schedule_id = ?"));
  st.bindText(1, tenant_id).bindText(2, schedule_id);
  RETURN_IF_ERROR(st.run());
  return db_.changes() > 0;
}

Result<std::vector<Schedule>> SqliteControlStore::dueSchedules(int64_t now_ms) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kScheduleColumns +
                                        " FROM schedules WHERE enabled = 1 AND next_run_at_ms > 0 "
                                        "AND next_run_at_ms <= ? ORDER BY next_run_at_ms, rowid"));
  st.bindInt64(1, now_ms);
  return readSchedules(st);
}

Result<bool> SqliteControlStore::claimScheduleSlot(const std::string& schedule_id, int64_t slot_ms,
                                             int64_t next_ms) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("UPDATE schedules SET next_run_at_ms = ?, last_run_at_ms = "
                                        "?, last_run_id = '', last_error = '' WHERE schedule_id = ? "
                                        "AND next_run_at_ms = ? AND enabled = 1"));
  st.bindInt64(1, next_ms)
      .bindInt64(2, clock_.nowUnixMillis())
      .bindText(3, schedule_id)
      .bindInt64(4, slot_ms);
  RETURN_IF_ERROR(st.run());
  return db_.changes() > 0;
}

Status SqliteControlStore::recordScheduleRun(const std::string& schedule_id, const std::string& run_id,
                                       const std::string& error) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("UPDATE schedules SET last_run_id = ?, last_error = ? "
                                        "WHERE schedule_id = ?"));
  st.bindText(1, run_id).bindText(2, error).bindText(3, schedule_id);
  return st.run();
}

// ---------------------------------------------------------------------------------------------
// Agent health

Status SqliteControlStore::recordAgentResult(const std::string& agent_id, bool failed,
                                       const std::string& error) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(
      auto st,
      db_.prepare("INSERT INTO agent_health (agent_id, jobs_done, jobs_failed, last_error, "
                  "last_error_at_ms) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(agent_id) DO UPDATE "
                  "SET jobs_done = jobs_done + ?2, jobs_failed = jobs_failed + ?3, "
                  "last_error = CASE WHEN ?4 = '' THEN last_error ELSE ?4 END, "
                  "last_error_at_ms = CASE WHEN ?4 = '' THEN last_error_at_ms ELSE ?5 END"));
  st.bindText(1, agent_id)
      .bindInt64(2, failed ? 0 : 1)
      .bindInt64(3, failed ? 1 : 0)
      .bindText(4, error)
      .bindInt64(5, error.empty() ? 0 : clock_.nowUnixMillis());
  return st.run();
}

Result<std::vector<AgentHealth>> SqliteControlStore::agentHealth(const std::string& tenant_id) {
  std::lock_guard lock(mu_);
  const int64_t now = clock_.nowUnixMillis();
  ASSIGN_OR_RETURN(
      auto st,
      db_.prepare("SELECT a.agent_id, a.tenant_id, a.host, a.version, a.enrolled_at_ms, "
                  "a.last_seen_ms, a.revoked, COALESCE(h.jobs_done, 0), "
                  "COALESCE(h.jobs_failed, 0), COALESCE(h.last_error, ''), "
                  "COALESCE(h.last_error_at_ms, 0), "
                  "COALESCE((SELECT j.job_id FROM jobs j WHERE j.agent_id = a.agent_id AND "
                  "j.state = 'leased' AND j.lease_expires_at_ms > ?1 ORDER BY "
                  "j.lease_expires_at_ms DESC LIMIT 1), '') "
                  "FROM agents a LEFT JOIN agent_health h ON h.agent_id = a.agent_id "
                  "WHERE ?2 = '' OR a.tenant_id = ?2 ORDER BY a.tenant_id, a.enrolled_at_ms, "
                  "a.agent_id"));
  st.bindInt64(1, now).bindText(2, tenant_id);
  std::vector<AgentHealth> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return out;
    AgentHealth h;
    h.agent.agent_id = st.columnText(0);
    h.agent.tenant_id = st.columnText(1);
    h.agent.host = st.columnText(2);
    h.agent.version = st.columnText(3);
    h.agent.enrolled_at_ms = st.columnInt64(4);
    h.agent.last_seen_ms = st.columnInt64(5);
    h.agent.revoked = st.columnInt64(6) != 0;
    h.jobs_done = st.columnInt64(7);
    h.jobs_failed = st.columnInt64(8);
    h.last_error = st.columnText(9);
    h.last_error_at_ms = st.columnInt64(10);
    h.current_job = st.columnText(11);
    out.push_back(std::move(h));
  }
}

}  // namespace tenure::cp
