#include "controlplane/store/sqlite/sqlite_tenant_store.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <limits>
#include <boost/json.hpp>
#include <utility>

#include "common/base/json_fields.h"

namespace tenure::cp {

namespace bj = boost::json;

namespace {

const std::vector<std::string> kMigrations = {
    R"sql(
CREATE TABLE identities (
  employee_id TEXT PRIMARY KEY,
  record TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  last_run_id TEXT NOT NULL DEFAULT ''
);
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  source TEXT NOT NULL,
  status TEXT NOT NULL,
  dry_run INTEGER NOT NULL DEFAULT 0,
  created_at_ms INTEGER NOT NULL,
  started_at_ms INTEGER NOT NULL DEFAULT 0,
  finished_at_ms INTEGER NOT NULL DEFAULT 0,
  accepted INTEGER NOT NULL DEFAULT 0,
  rejected TEXT NOT NULL DEFAULT '[]',
  error_class TEXT NOT NULL DEFAULT '',
  error_message TEXT NOT NULL DEFAULT '',
  agent_id TEXT NOT NULL DEFAULT '',
  domain_controller TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_created ON runs(created_at_ms);
CREATE INDEX runs_by_status ON runs(status);
CREATE TABLE run_identities (
  run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  employee_id TEXT NOT NULL,
  record TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
);
CREATE INDEX run_identities_by_employee ON run_identities(run_id, employee_id);
CREATE TABLE outcomes (
  run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  employee_id TEXT NOT NULL,
  action TEXT NOT NULL,
  dn TEXT NOT NULL,
  sam TEXT NOT NULL,
  changes TEXT NOT NULL,
  error_class TEXT NOT NULL,
  error_message TEXT NOT NULL,
  directory_code INTEGER NOT NULL,
  PRIMARY KEY (run_id, seq)
);
)sql",
    R"sql(
CREATE TABLE policies (
  version INTEGER PRIMARY KEY,
  document TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  author TEXT NOT NULL DEFAULT ''
);
ALTER TABLE runs ADD COLUMN policy_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN hold_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN hold_summary TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN hold_plan TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN approved_by TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN approved_at_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN rejected_by TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN rejected_at_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outcomes ADD COLUMN state TEXT NOT NULL DEFAULT '';
ALTER TABLE outcomes ADD COLUMN operations TEXT NOT NULL DEFAULT '[]';
CREATE TABLE tombstones (
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('sam', 'upn', 'mail')),
  employee_id TEXT NOT NULL,
  released_at_ms INTEGER NOT NULL,
  PRIMARY KEY (name, kind)
);
)sql",
};

constexpr std::array<std::string_view, 7> kRunStatusNames = {
    "queued", "running", "succeeded", "partial", "failed", "held", "rejected"};

RunStatus runStatusFromName(std::string_view name) {
  for (size_t i = 0; i < kRunStatusNames.size(); ++i) {
    if (kRunStatusNames[i] == name) return static_cast<RunStatus>(i);
  }
  return RunStatus::kFailed;  // unreachable with rows written by this store
}

std::string rejectedToJson(const std::vector<RejectedRow>& rows) {
  bj::array a;
  a.reserve(rows.size());
  for (const auto& r : rows) {
    a.push_back(bj::object{
        {"row", r.row}, {"employee_id", r.employee_id}, {"field", r.field}, {"reason", r.reason}});
  }
  return bj::serialize(a);
}

Result<std::vector<RejectedRow>> rejectedFromJson(const std::string& text) {
  ASSIGN_OR_RETURN(bj::value v, protocol::parseJsonText(text));
  if (!v.is_array()) return internalError("runs.rejected is not a JSON array");
  std::vector<RejectedRow> out;
  for (const auto& e : v.get_array()) {
    ASSIGN_OR_RETURN(const bj::object* o, json::asObject(e, "rejected row"));
    RejectedRow r;
    ASSIGN_OR_RETURN(int64_t row, json::optionalInt(*o, "row", 0));
    r.row = static_cast<int>(row);
    ASSIGN_OR_RETURN(r.employee_id, json::optionalString(*o, "employee_id"));
    ASSIGN_OR_RETURN(r.field, json::optionalString(*o, "field"));
    ASSIGN_OR_RETURN(r.reason, json::optionalString(*o, "reason"));
    out.push_back(std::move(r));
  }
  return out;
}

std::string operationsToJson(const std::vector<protocol::PlannedOperation>& ops) {
  bj::array a;
  a.reserve(ops.size());
  for (const auto& op : ops) a.push_back(protocol::toJson(op));
  return bj::serialize(a);
}

Result<std::vector<protocol::PlannedOperation>> operationsFromJson(const std::string& text) {
  std::vector<protocol::PlannedOperation> out;
  if (text.empty()) return out;
  ASSIGN_OR_RETURN(bj::value v, protocol::parseJsonText(text));
  if (!v.is_array()) return internalError("outcomes.operations is not a JSON array");
  for (const auto& e : v.get_array()) {
    ASSIGN_OR_RETURN(auto op, protocol::parsePlannedOperation(e));
    out.push_back(std::move(op));
  }
  return out;
}

Result<hr::HrRecord> recordFromText(const std::string& text) {
  ASSIGN_OR_RETURN(bj::value v, protocol::parseJsonText(text));
  return hr::hrRecordFromJson(v);
}

constexpr const char* kRunColumns =
    "run_id, kind, source, status, dry_run, created_at_ms, started_at_ms, finished_at_ms, "
    "accepted, rejected, error_class, error_message, agent_id, domain_controller, policy_version, "
    "hold_reason, hold_summary, approved_by, approved_at_ms, rejected_by, rejected_at_ms";

std::string holdSummaryToJson(const protocol::PlanSummary& plan) {
  bj::object counts;
  for (const auto& [k, n] : plan.counts) counts[k] = n;
  return bj::serialize(bj::object{{"population", plan.population}, {"counts", std::move(counts)}});
}

Status readHoldSummary(const std::string& text, RunRecord& r) {
  if (text.empty()) return Status::ok();
  ASSIGN_OR_RETURN(bj::value v, protocol::parseJsonText(text));
  ASSIGN_OR_RETURN(const bj::object* o, json::asObject(v, "runs.hold_summary"));
  ASSIGN_OR_RETURN(int64_t population, json::optionalInt(*o, "population", 0));
  r.hold_population = static_cast<int>(population);
  if (auto it = o->find("counts"); it != o->end() && it->value().is_object()) {
    for (const auto& [k, n] : it->value().get_object()) {
      if (n.is_int64()) r.hold_counts[std::string(k)] = static_cast<int>(n.get_int64());
    }
  }
  return Status::ok();
}

Result<RunRecord> readRun(const sqlite::Statement& st) {
  RunRecord r;
  r.run_id = st.columnText(0);
  r.kind = st.columnText(1);
  r.source = st.columnText(2);
  r.status = runStatusFromName(st.columnText(3));
  r.dry_run = st.columnInt64(4) != 0;
  r.created_at_ms = st.columnInt64(5);
  r.started_at_ms = st.columnInt64(6);
  r.finished_at_ms = st.columnInt64(7);
  r.accepted = static_cast<int>(st.columnInt64(8));
  ASSIGN_OR_RETURN(r.rejected, rejectedFromJson(st.columnText(9)));
  r.error_class = st.columnText(10);
  r.error_message = st.columnText(11);
  r.agent_id = st.columnText(12);
  r.domain_controller = st.columnText(13);
  r.policy_version = static_cast<int>(st.columnInt64(14));
  r.hold_reason = st.columnText(15);
  RETURN_IF_ERROR(readHoldSummary(st.columnText(16), r));
  r.approved_by = st.columnText(17);
  r.approved_at_ms = st.columnInt64(18);
  r.rejected_by = st.columnText(19);
  r.rejected_at_ms = st.columnInt64(20);
  return r;
}

Result<std::vector<RunRecord>> readRuns(sqlite::Statement& st) {
  std::vector<RunRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return out;
    ASSIGN_OR_RETURN(auto r, readRun(st));
    out.push_back(std::move(r));
  }
}

Result<std::optional<RunRecord>> queryRun(sqlite::Database& db, const std::string& run_id) {
  ASSIGN_OR_RETURN(
      auto st, db.prepare(std::string("SELECT ") + kRunColumns + " FROM runs WHERE run_id = ?"));
  st.bindText(1, run_id);
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<RunRecord>();
  ASSIGN_OR_RETURN(auto r, readRun(st));
  return std::optional<RunRecord>(std::move(r));
}

RunStatus deriveStatus(const protocol::JobResult& result) {
  if (!result.error_class.empty()) return RunStatus::kFailed;
  size_t failed = 0;
  for (const auto& o : result.outcomes) failed += o.failed() ? 1 : 0;
  if (failed == 0) return RunStatus::kSucceeded;
  return failed == result.outcomes.size() ? RunStatus::kFailed : RunStatus::kPartial;
}

}  // namespace

std::string_view runStatusName(RunStatus s) { return kRunStatusNames[static_cast<size_t>(s)]; }

SqliteTenantStore::SqliteTenantStore(sqlite::Database db, const Clock& clock)
    : conn_(std::move(db)), clock_(clock) {}

std::vector<ComponentSchema> SqliteTenantStore::componentSchemas() {
  return {
      {SqliteAccessChainStore::kComponent, SqliteAccessChainStore::migrations()},
      {SqliteIdentityEventStore::kComponent, SqliteIdentityEventStore::migrations()},
      {SqliteTicketStore::kComponent, SqliteTicketStore::migrations()},
      {SqliteDigestStore::kComponent, SqliteDigestStore::migrations()},
      {SqliteScimUserStore::kComponent, SqliteScimUserStore::migrations()},
      {SqliteConnectorStore::kComponent, SqliteConnectorStore::migrations()},
      {SqliteThresholdWindowStore::kComponent, SqliteThresholdWindowStore::migrations()},
  };
}

Result<std::unique_ptr<SqliteTenantStore>> SqliteTenantStore::open(const std::string& path,
                                                                   const Clock& clock) {
  ASSIGN_OR_RETURN(sqlite::Database db, sqlite::Database::open(path));
  RETURN_IF_ERROR(sqlite::migrate(db, kMigrations).withContext("tenant store"));
  RETURN_IF_ERROR(migrateComponents(db, componentSchemas()));
  return std::unique_ptr<SqliteTenantStore>(new SqliteTenantStore(std::move(db), clock));
}

Result<std::unique_ptr<TenantStore>> TenantStore::open(const std::string& path,
                                                       const Clock& clock) {
  ASSIGN_OR_RETURN(auto store, SqliteTenantStore::open(path, clock));
  return std::unique_ptr<TenantStore>(std::move(store));
}

Status SqliteTenantStore::createRun(const RunRecord& run, const std::vector<hr::HrRecord>& identities) {
  if (run.run_id.empty()) return dataError("run_id is required");
  const int64_t now = clock_.nowUnixMillis();
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));

  ASSIGN_OR_RETURN(auto ins_run,
                   db_.prepare("INSERT INTO runs (run_id, kind, source, status, dry_run, "
                               "created_at_ms, accepted, rejected, policy_version) "
                               "VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?)"));
  ins_run.bindText(1, run.run_id)
      .bindText(2, run.kind)
      .bindText(3, run.source)
      .bindInt64(4, run.dry_run ? 1 : 0)
      .bindInt64(5, run.created_at_ms != 0 ? run.created_at_ms : now)
      .bindInt64(6, run.accepted)
      .bindText(7, rejectedToJson(run.rejected))
      .bindInt64(8, run.policy_version);
  RETURN_IF_ERROR(ins_run.run().withContext("create run " + run.run_id));

  ASSIGN_OR_RETURN(auto upsert,
                   db_.prepare("INSERT INTO identities (employee_id, record, updated_at_ms, "
                               "last_run_id) VALUES (?1, ?2, ?3, ?4) "
                               "ON CONFLICT(employee_id) DO UPDATE SET record = excluded.record, "
                               "updated_at_ms = excluded.updated_at_ms, "
                               "last_run_id = excluded.last_run_id"));
  ASSIGN_OR_RETURN(auto carry, db_.prepare("INSERT INTO run_identities (run_id, seq, employee_id, "
                                           "record) VALUES (?, ?, ?, ?)"));
  int64_t seq = 0;
  for (const auto& rec : identities) {
    if (rec.employee_id.empty()) return dataError("identity without employee_id");
    const std::string text = bj::serialize(hr::toJson(rec));
    upsert.reset();
    upsert.bindText(1, rec.employee_id).bindText(2, text).bindInt64(3, now).bindText(4, run.run_id);
    RETURN_IF_ERROR(upsert.run());
    carry.reset();
    carry.bindText(1, run.run_id)
        .bindInt64(2, seq++)
        .bindText(3, rec.employee_id)
        .bindText(4, text);
    RETURN_IF_ERROR(carry.run());
  }
  return tx.commit();
}

Result<std::vector<RunRecord>> SqliteTenantStore::listRuns(int limit) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kRunColumns +
                                        " FROM runs ORDER BY created_at_ms DESC, rowid DESC "
                                        "LIMIT ?"));
  st.bindInt64(1, limit);
  return readRuns(st);
}

Result<std::vector<RunRecord>> SqliteTenantStore::runsCreatedBetween(int64_t from_ms, int64_t to_ms,
                                                               int limit) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kRunColumns +
                                        " FROM runs WHERE created_at_ms >= ? AND "
                                        "created_at_ms < ? ORDER BY created_at_ms, rowid LIMIT ?"));
  st.bindInt64(1, from_ms).bindInt64(2, to_ms).bindInt64(3, limit);
  return readRuns(st);
}

Result<std::optional<RunRecord>> SqliteTenantStore::run(const std::string& run_id) {
  std::lock_guard lock(mu_);
  return queryRun(db_, run_id);
}

Result<std::optional<RunReport>> SqliteTenantStore::report(const std::string& run_id,
                                                    bool failures_only) {
  std::lock_guard lock(mu_);
  // A read transaction gives the run row and its outcomes from the same snapshot.
  RETURN_IF_ERROR(db_.exec("BEGIN"));
  struct EndRead {
    sqlite::Database& db;
    ~EndRead() { (void)db.exec("COMMIT"); }
  } end_read{db_};

  ASSIGN_OR_RETURN(auto run, queryRun(db_, run_id));
  if (!run) return std::optional<RunReport>();
  RunReport rep;
  rep.run = std::move(*run);
  // Run order: the position of the person in the run's upload; anyone the agent reported who
  // was not carried by the run comes last, in the order reported.
  ASSIGN_OR_RETURN(
      auto st,
      db_.prepare("SELECT o.employee_id, o.action, o.dn, o.sam, o.changes, o.error_class, "
                  "o.error_message, o.directory_code, o.state, o.operations, "
                  "(SELECT MIN(ri.seq) FROM run_identities ri WHERE ri.run_id = o.run_id AND "
                  "ri.employee_id = o.employee_id) AS pos "
                  "FROM outcomes o WHERE o.run_id = ? " +
                  std::string(failures_only ? "AND o.error_class != '' " : "") +
                  "ORDER BY pos IS NULL, pos, o.seq"));
  st.bindText(1, run_id);
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    protocol::IdentityOutcome o;
    o.employee_id = st.columnText(0);
    o.action = st.columnText(1);
    o.dn = st.columnText(2);
    o.sam_account_name = st.columnText(3);
    ASSIGN_OR_RETURN(bj::value changes, protocol::parseJsonText(st.columnText(4)));
    bj::object holder{{"changes", std::move(changes)}};
    ASSIGN_OR_RETURN(o.changes, json::optionalStringArray(holder, "changes"));
    o.error_class = st.columnText(5);
    o.error_message = st.columnText(6);
    o.directory_code = static_cast<int>(st.columnInt64(7));
    o.state = st.columnText(8);
    ASSIGN_OR_RETURN(o.operations, operationsFromJson(st.columnText(9)));
    if (!failures_only) rep.counts_by_action[o.action] += 1;
    rep.outcomes.push_back(std::move(o));
  }
  if (failures_only) {
    ASSIGN_OR_RETURN(auto counts, db_.prepare("SELECT action, count(*) FROM outcomes "
                                              "WHERE run_id = ? GROUP BY action"));
    counts.bindText(1, run_id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, counts.step());
      if (!row) break;
      rep.counts_by_action[counts.columnText(0)] = static_cast<int>(counts.columnInt64(1));
    }
  }
  return std::optional<RunReport>(std::move(rep));
}

Result<std::vector<hr::HrRecord>> SqliteTenantStore::runIdentities(const std::string& run_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT record FROM run_identities WHERE run_id = ? "
                                        "ORDER BY seq"));
  st.bindText(1, run_id);
  std::vector<hr::HrRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return out;
    ASSIGN_OR_RETURN(auto rec, recordFromText(st.columnText(0)));
    out.push_back(std::move(rec));
  }
}

Status SqliteTenantStore::markRunning(const std::string& run_id, const std::string& agent_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));
  ASSIGN_OR_RETURN(auto exists, db_.prepare("SELECT 1 FROM runs WHERE run_id = ?"));
  exists.bindText(1, run_id);
  ASSIGN_OR_RETURN(bool found, exists.step());
  exists.reset();
  if (!found) return notFoundError("unknown run " + run_id);
  ASSIGN_OR_RETURN(auto st, db_.prepare("UPDATE runs SET status = 'running', started_at_ms = ?, "
                                        "agent_id = ? WHERE run_id = ? AND status = 'queued'"));
  st.bindInt64(1, clock_.nowUnixMillis()).bindText(2, agent_id).bindText(3, run_id);
  RETURN_IF_ERROR(st.run());
  ASSIGN_OR_RETURN(auto moved, db_.prepare("UPDATE runs SET agent_id = ? "
                                           "WHERE run_id = ? AND status = 'running'"));
  moved.bindText(1, agent_id).bindText(2, run_id);
  RETURN_IF_ERROR(moved.run());
  return tx.commit();
}

Status SqliteTenantStore::recordResult(const std::string& run_id, const protocol::JobResult& result,
                                 const std::string& agent_id) {
  const int64_t now = clock_.nowUnixMillis();
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));
  ASSIGN_OR_RETURN(auto existing, queryRun(db_, run_id));
  if (!existing) return notFoundError("unknown run " + run_id);

  ASSIGN_OR_RETURN(auto del, db_.prepare("DELETE FROM outcomes WHERE run_id = ?"));
  del.bindText(1, run_id);
  RETURN_IF_ERROR(del.run());

  ASSIGN_OR_RETURN(auto ins, db_.prepare("INSERT INTO outcomes (run_id, seq, employee_id, action, "
                                         "dn, sam, changes, error_class, error_message, "
                                         "directory_code, state, operations) "
                                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  int64_t seq = 0;
  for (const auto& o : result.outcomes) {
    ins.reset();
    ins.bindText(1, run_id)
        .bindInt64(2, seq++)
        .bindText(3, o.employee_id)
        .bindText(4, o.action)
        .bindText(5, o.dn)
        .bindText(6, o.sam_account_name)
        .bindText(7, bj::serialize(json::toJsonArray(o.changes)))
        .bindText(8, o.error_class)
        .bindText(9, o.error_message)
        .bindInt64(10, o.directory_code)
        .bindText(11, o.state)
        .bindText(12, operationsToJson(o.operations));
    RETURN_IF_ERROR(ins.run());
  }

  // The first recorded times stay: a re-sent result must not move the run in history.
  const int64_t started = existing->started_at_ms != 0 ? existing->started_at_ms
                          : result.started_at_ms != 0  ? result.started_at_ms
                                                       : now;
  const int64_t finished = existing->finished_at_ms != 0 ? existing->finished_at_ms : now;
  ASSIGN_OR_RETURN(auto upd, db_.prepare("UPDATE runs SET status = ?, started_at_ms = ?, "
                                         "finished_at_ms = ?, error_class = ?, error_message = ?, "
                                         "domain_controller = ?, agent_id = ? WHERE run_id = ?"));
  upd.bindText(1, runStatusName(deriveStatus(result)))
      .bindInt64(2, started)
      .bindInt64(3, finished)
      .bindText(4, result.error_class)
      .bindText(5, result.error_message)
      .bindText(6, result.domain_controller)
      .bindText(7, agent_id.empty() ? existing->agent_id : agent_id)
      .bindText(8, run_id);
  RETURN_IF_ERROR(upd.run());
  return tx.commit();
}

Result<std::vector<RunRecord>> SqliteTenantStore::unfinishedRuns() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kRunColumns +
                                        " FROM runs WHERE status IN ('queued', 'running') "
                                        "ORDER BY created_at_ms, rowid"));
  return readRuns(st);
}

Result<std::vector<hr::HrRecord>> SqliteTenantStore::allIdentities() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT record FROM identities ORDER BY employee_id"));
  std::vector<hr::HrRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return out;
    ASSIGN_OR_RETURN(auto rec, recordFromText(st.columnText(0)));
    out.push_back(std::move(rec));
  }
}

Result<std::optional<hr::HrRecord>> SqliteTenantStore::identity(const std::string& employee_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT record FROM identities WHERE employee_id = ?"));
  st.bindText(1, employee_id);
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<hr::HrRecord>();
  ASSIGN_OR_RETURN(auto rec, recordFromText(st.columnText(0)));
  return std::optional<hr::HrRecord>(std::move(rec));
}

// ---------------------------------------------------------------------------------------------
// Policies

Result<int> SqliteTenantStore::savePolicy(const std::string& document, const std::string& author) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));
  ASSIGN_OR_RETURN(auto next, db_.prepare("SELECT COALESCE(MAX(version), 0) + 1 FROM policies"));
  ASSIGN_OR_RETURN(bool row, next.step());
  if (!row) return internalError("no row from MAX(version)");
  const int version = static_cast<int>(next.columnInt64(0));
  next.reset();
  ASSIGN_OR_RETURN(auto ins, db_.prepare("INSERT INTO policies (version, document, created_at_ms, "
                                         "author) VALUES (?, ?, ?, ?)"));
  ins.bindInt64(1, version)
      .bindText(2, document)
      .bindInt64(3, clock_.nowUnixMillis())
      .bindText(4, author);
  RETURN_IF_ERROR(ins.run());
  RETURN_IF_ERROR(tx.commit());
  return version;
}

namespace {
StoredPolicy readPolicy(const sqlite::Statement& st) {
  return StoredPolicy{static_cast<int>(st.columnInt64(0)), st.columnText(1), st.columnInt64(2),
                      st.columnText(3)};
}
}  // namespace

Result<std::optional<StoredPolicy>> SqliteTenantStore::currentPolicy() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT version, document, created_at_ms, author FROM "
                                        "policies ORDER BY version DESC LIMIT 1"));
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<StoredPolicy>();
  return std::optional<StoredPolicy>(readPolicy(st));
}

Result<std::optional<StoredPolicy>> SqliteTenantStore::policyVersion(int version) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT version, document, created_at_ms, author FROM "
                                        "policies WHERE version = ?"));
  st.bindInt64(1, version);
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<StoredPolicy>();
  return std::optional<StoredPolicy>(readPolicy(st));
}

Result<std::vector<StoredPolicy>> SqliteTenantStore::policyVersions() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT version, '', created_at_ms, author FROM policies "
                                        "ORDER BY version DESC"));
  std::vector<StoredPolicy> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return out;
    out.push_back(readPolicy(st));
  }
}

// ---------------------------------------------------------------------------------------------
// Holds

namespace {
// Reads the status of a run inside a transaction: not_found when unknown.
Result<std::string> runStatusText(sqlite::Database& db, const std::string& run_id) {
  ASSIGN_OR_RETURN(auto st, db.prepare("SELECT status FROM runs WHERE run_id = ?"));
  st.bindText(1, run_id);
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return notFoundError("unknown run " + run_id);
  return st.columnText(0);
}
}  // namespace

Status SqliteTenantStore::holdRun(const std::string& run_id, const protocol::PlanSummary& plan,
                            const std::string& reason) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));
  ASSIGN_OR_RETURN(std::string status, runStatusText(db_, run_id));
  if (status != "queued" && status != "running") {
    return conflictError("cannot hold run " + run_id + ": it is " + status);
  }
  ASSIGN_OR_RETURN(auto upd, db_.prepare("UPDATE runs SET status = 'held', hold_reason = ?, "
                                         "hold_summary = ?, hold_plan = ? WHERE run_id = ?"));
  upd.bindText(1, reason)
      .bindText(2, holdSummaryToJson(plan))
      .bindText(3, bj::serialize(protocol::toJson(plan)))
      .bindText(4, run_id);
  RETURN_IF_ERROR(upd.run());
  return tx.commit();
}

Result<std::optional<protocol::PlanSummary>> SqliteTenantStore::heldPlan(const std::string& run_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT hold_plan FROM runs WHERE run_id = ?"));
  st.bindText(1, run_id);
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row || st.columnText(0).empty()) return std::optional<protocol::PlanSummary>();
  ASSIGN_OR_RETURN(bj::value v, protocol::parseJsonText(st.columnText(0)));
  ASSIGN_OR_RETURN(auto plan, protocol::parsePlanSummary(v));
  return std::optional<protocol::PlanSummary>(std::move(plan));
}

Status SqliteTenantStore::approveRun(const std::string& run_id, const std::string& by) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));
  ASSIGN_OR_RETURN(std::string status, runStatusText(db_, run_id));
  if (status != "held") return conflictError("run " + run_id + " is " + status + ", not held");
  ASSIGN_OR_RETURN(auto upd, db_.prepare("UPDATE runs SET status = 'queued', approved_by = ?, "
                                         "approved_at_ms = ? WHERE run_id = ?"));
  upd.bindText(1, by).bindInt64(2, clock_.nowUnixMillis()).bindText(3, run_id);
  RETURN_IF_ERROR(upd.run());
  return tx.commit();
}

Status SqliteTenantStore::rejectRun(const std::string& run_id, const std::string& by) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));
  ASSIGN_OR_RETURN(std::string status, runStatusText(db_, run_id));
  if (status != "held") return conflictError("run " + run_id + " is " + status + ", not held");
  const int64_t now = clock_.nowUnixMillis();
  ASSIGN_OR_RETURN(auto upd, db_.prepare("UPDATE runs SET status = 'rejected', rejected_by = ?, "
                                         "rejected_at_ms = ?, finished_at_ms = ? "
                                         "WHERE run_id = ?"));
  upd.bindText(1, by).bindInt64(2, now).bindInt64(3, now).bindText(4, run_id);
  RETURN_IF_ERROR(upd.run());
  return tx.commit();
}

Result<std::vector<RunRecord>> SqliteTenantStore::runsWithStatus(RunStatus status, int limit) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kRunColumns +
                                        " FROM runs WHERE status = ? "
                                        "ORDER BY created_at_ms, rowid LIMIT ?"));
  st.bindText(1, runStatusName(status)).bindInt64(2, limit);
  return readRuns(st);
}

// ---------------------------------------------------------------------------------------------
// Tombstones

Status SqliteTenantStore::addTombstones(const std::vector<Tombstone>& tombstones) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));
  ASSIGN_OR_RETURN(auto ins,
                   db_.prepare("INSERT INTO tombstones (name, kind, employee_id, released_at_ms) "
                               "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(name, kind) DO UPDATE SET "
                               "employee_id = CASE WHEN excluded.released_at_ms >= released_at_ms "
                               "THEN excluded.employee_id ELSE employee_id END, "
                               "released_at_ms = MAX(released_at_ms, excluded.released_at_ms)"));
  for (const auto& t : tombstones) {
    if (t.name.empty()) return dataError("tombstone without a name");
    if (t.kind != "sam" && t.kind != "upn" && t.kind != "mail") {
      return dataError("tombstone kind must be sam, upn or mail, not '" + t.kind + "'");
    }
    std::string lower = t.name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    ins.reset();
    ins.bindText(1, lower).bindText(2, t.kind).bindText(3, t.employee_id).bindInt64(4,
                                                                                   t.released_at_ms);
    RETURN_IF_ERROR(ins.run());
  }
  return tx.commit();
}

Result<std::vector<Tombstone>> SqliteTenantStore::activeTombstones(int64_t now_ms,
                                                             std::optional<int> name_reuse_days) {
  std::lock_guard lock(mu_);
  // Without a reuse period every tombstone blocks; otherwise those released after the cutoff.
  const int64_t cutoff = name_reuse_days
                             ? now_ms - static_cast<int64_t>(*name_reuse_days) * 86'400'000
                             : std::numeric_limits<int64_t>::min();
  ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT name, kind, employee_id, released_at_ms FROM "
                                        "tombstones WHERE released_at_ms > ? ORDER BY name, kind"));
  st.bindInt64(1, cutoff);
  std::vector<Tombstone> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return out;
    out.push_back(Tombstone{st.columnText(0), st.columnText(1), st.columnText(2),
                            st.columnInt64(3)});
  }
}

Result<std::vector<std::string>> SqliteTenantStore::reservedNames(int64_t now_ms,
                                                            std::optional<int> name_reuse_days) {
  ASSIGN_OR_RETURN(auto active, activeTombstones(now_ms, name_reuse_days));
  std::vector<std::string> names;
  names.reserve(active.size());
  for (auto& t : active) names.push_back(std::move(t.name));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

// ---------------------------------------------------------------------------------------------

namespace {
// Tenant ids are minted as "t_" + hex, but anything reaching here is checked again: the id
// becomes a file name, so it must never contain a path separator or "..".
bool isSafeTenantId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}
}  // namespace

Result<std::shared_ptr<TenantStore>> TenantStores::forTenant(const std::string& tenant_id) {
  if (!isSafeTenantId(tenant_id)) return dataError("invalid tenant id '" + tenant_id + "'");
  std::lock_guard lock(mu_);
  if (auto it = open_.find(tenant_id); it != open_.end()) return it->second;
  if (removed_.count(tenant_id)) return notFoundError("tenant " + tenant_id + " was deleted");
  ASSIGN_OR_RETURN(auto store, TenantStore::open(pathFor(tenant_id), clock_));
  std::shared_ptr<TenantStore> shared(std::move(store));
  open_.emplace(tenant_id, shared);
  return shared;
}

Result<bool> TenantStores::remove(const std::string& tenant_id) {
  if (!isSafeTenantId(tenant_id)) return dataError("invalid tenant id '" + tenant_id + "'");
  std::lock_guard lock(mu_);
  removed_.insert(tenant_id);
  // Dropping our reference closes the connection (the last holder closes it), so SQLite does
  // not write the -wal/-shm files back after they are deleted.
  open_.erase(tenant_id);
  bool existed = false;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::error_code ec;
    const std::string path = pathFor(tenant_id) + suffix;
    if (std::filesystem::remove(path, ec)) {
      existed = existed || *suffix == '\0';
    } else if (ec) {
      return internalError("cannot delete " + path + ": " + ec.message());
    }
  }
  return existed;
}

}  // namespace tenure::cp
