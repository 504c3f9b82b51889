#include "controlplane/store/tenant_store.h"

#include <array>
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
};

constexpr std::array<std::string_view, 5> kRunStatusNames = {"queued", "running", "succeeded",
                                                             "partial", "failed"};

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

Result<hr::HrRecord> recordFromText(const std::string& text) {
  ASSIGN_OR_RETURN(bj::value v, protocol::parseJsonText(text));
  return hr::hrRecordFromJson(v);
}

constexpr const char* kRunColumns =
    "run_id, kind, source, status, dry_run, created_at_ms, started_at_ms, finished_at_ms, "
    "accepted, rejected, error_class, error_message, agent_id, domain_controller";

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

TenantStore::TenantStore(sqlite::Database db, const Clock& clock)
    : db_(std::move(db)), clock_(clock) {}

Result<std::unique_ptr<TenantStore>> TenantStore::open(const std::string& path,
                                                       const Clock& clock) {
  ASSIGN_OR_RETURN(sqlite::Database db, sqlite::Database::open(path));
  RETURN_IF_ERROR(sqlite::migrate(db, kMigrations).withContext("tenant store"));
  return std::unique_ptr<TenantStore>(new TenantStore(std::move(db), clock));
}

Status TenantStore::createRun(const RunRecord& run, const std::vector<hr::HrRecord>& identities) {
  if (run.run_id.empty()) return dataError("run_id is required");
  const int64_t now = clock_.nowUnixMillis();
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));

  ASSIGN_OR_RETURN(auto ins_run,
                   db_.prepare("INSERT INTO runs (run_id, kind, source, status, dry_run, "
                               "created_at_ms, accepted, rejected) "
                               "VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)"));
  ins_run.bindText(1, run.run_id)
      .bindText(2, run.kind)
      .bindText(3, run.source)
      .bindInt64(4, run.dry_run ? 1 : 0)
      .bindInt64(5, run.created_at_ms != 0 ? run.created_at_ms : now)
      .bindInt64(6, run.accepted)
      .bindText(7, rejectedToJson(run.rejected));
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

Result<std::vector<RunRecord>> TenantStore::listRuns(int limit) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kRunColumns +
                                        " FROM runs ORDER BY created_at_ms DESC, rowid DESC "
                                        "LIMIT ?"));
  st.bindInt64(1, limit);
  return readRuns(st);
}

Result<std::optional<RunRecord>> TenantStore::run(const std::string& run_id) {
  std::lock_guard lock(mu_);
  return queryRun(db_, run_id);
}

Result<std::optional<RunReport>> TenantStore::report(const std::string& run_id) {
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
                  "o.error_message, o.directory_code, "
                  "(SELECT MIN(ri.seq) FROM run_identities ri WHERE ri.run_id = o.run_id AND "
                  "ri.employee_id = o.employee_id) AS pos "
                  "FROM outcomes o WHERE o.run_id = ? "
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
    rep.counts_by_action[o.action] += 1;
    rep.outcomes.push_back(std::move(o));
  }
  return std::optional<RunReport>(std::move(rep));
}

Result<std::vector<hr::HrRecord>> TenantStore::runIdentities(const std::string& run_id) {
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

Status TenantStore::markRunning(const std::string& run_id, const std::string& agent_id) {
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
  return tx.commit();
}

Status TenantStore::recordResult(const std::string& run_id, const protocol::JobResult& result) {
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
                                         "directory_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
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
        .bindInt64(10, o.directory_code);
    RETURN_IF_ERROR(ins.run());
  }

  // The first recorded times stay: a re-sent result must not move the run in history.
  const int64_t started = existing->started_at_ms != 0 ? existing->started_at_ms
                          : result.started_at_ms != 0  ? result.started_at_ms
                                                       : now;
  const int64_t finished = existing->finished_at_ms != 0 ? existing->finished_at_ms : now;
  ASSIGN_OR_RETURN(auto upd, db_.prepare("UPDATE runs SET status = ?, started_at_ms = ?, "
                                         "finished_at_ms = ?, error_class = ?, error_message = ?, "
                                         "domain_controller = ? WHERE run_id = ?"));
  upd.bindText(1, runStatusName(deriveStatus(result)))
      .bindInt64(2, started)
      .bindInt64(3, finished)
      .bindText(4, result.error_class)
      .bindText(5, result.error_message)
      .bindText(6, result.domain_controller)
      .bindText(7, run_id);
  RETURN_IF_ERROR(upd.run());
  return tx.commit();
}

Result<std::vector<RunRecord>> TenantStore::unfinishedRuns() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kRunColumns +
                                        " FROM runs WHERE status IN ('queued', 'running') "
                                        "ORDER BY created_at_ms, rowid"));
  return readRuns(st);
}

Result<std::optional<hr::HrRecord>> TenantStore::identity(const std::string& employee_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT record FROM identities WHERE employee_id = ?"));
  st.bindText(1, employee_id);
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<hr::HrRecord>();
  ASSIGN_OR_RETURN(auto rec, recordFromText(st.columnText(0)));
  return std::optional<hr::HrRecord>(std::move(rec));
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
  ASSIGN_OR_RETURN(auto store, TenantStore::open(dir_ + "/" + tenant_id + ".db", clock_));
  std::shared_ptr<TenantStore> shared(std::move(store));
  open_.emplace(tenant_id, shared);
  return shared;
}

}  // namespace tenure::cp
