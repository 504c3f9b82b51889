#include "controlplane/store/sqlite/sqlite_identity_event_store.h"

#include <boost/json.hpp>

#include "common/protocol/messages.h"

namespace tenure::cp {

namespace bj = boost::json;

namespace {

constexpr const char* kEventColumns =
    "id, employee_id, at_ms, kind, source, actor, run_id, agent_id, summary, detail";

Result<IdentityEvent> readEvent(const sqlite::Statement& st) {
  IdentityEvent e;
  e.id = st.columnInt64(0);
  e.employee_id = st.columnText(1);
  e.at_ms = st.columnInt64(2);
  e.kind = st.columnText(3);
  e.source = st.columnText(4);
  e.actor = st.columnText(5);
  e.run_id = st.columnText(6);
  e.agent_id = st.columnText(7);
  e.summary = st.columnText(8);
  ASSIGN_OR_RETURN(bj::value detail, protocol::parseJsonText(st.columnText(9)));
  if (detail.is_object()) e.detail = std::move(detail.get_object());
  return e;
}

Result<std::vector<IdentityEvent>> readEvents(sqlite::Statement& st) {
  std::vector<IdentityEvent> out;
  while (true) {
    ASSIGN_OR_RETURN(bool more, st.step());
    if (!more) return out;
    ASSIGN_OR_RETURN(auto e, readEvent(st));
    out.push_back(std::move(e));
  }
}

Result<std::optional<std::string>> lastSnapshotIn(sqlite::Database& db,
                                                  const std::string& employee_id,
                                                  std::string_view kind, int64_t as_of_ms,
                                                  const std::string& except_run) {
  ASSIGN_OR_RETURN(auto st, db.prepare("SELECT snapshot FROM identity_events WHERE employee_id = ? "
                                       "AND kind = ? AND snapshot != '' AND at_ms <= ? AND "
                                       "run_id != ? ORDER BY at_ms DESC, id DESC LIMIT 1"));
  st.bindText(1, employee_id).bindText(2, kind).bindInt64(3, as_of_ms).bindText(4, except_run);
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(st.columnText(0));
}

class SqliteRecording final : public IdentityEventStore::Recording {
 public:
  explicit SqliteRecording(sqlite::Database& db) : db_(db) {}

  Result<std::optional<std::string>> lastSnapshot(const std::string& employee_id,
                                                  std::string_view kind, int64_t as_of_ms,
                                                  const std::string& except_run) override {
    return lastSnapshotIn(db_, employee_id, kind, as_of_ms, except_run);
  }

  Status append(const IdentityEvent& e, const std::string& snapshot) override {
    ASSIGN_OR_RETURN(auto ins,
                     db_.prepare("INSERT INTO identity_events (employee_id, at_ms, kind, source, "
                                 "actor, run_id, agent_id, summary, detail, snapshot) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    ins.bindText(1, e.employee_id)
        .bindInt64(2, e.at_ms)
        .bindText(3, e.kind)
        .bindText(4, e.source)
        .bindText(5, e.actor)
        .bindText(6, e.run_id)
        .bindText(7, e.agent_id)
        .bindText(8, e.summary)
        .bindText(9, bj::serialize(e.detail))
        .bindText(10, snapshot);
    return ins.run();
  }

  Status removeAgentEvents(const std::string& run_id) override {
    ASSIGN_OR_RETURN(auto del, db_.prepare("DELETE FROM identity_events WHERE run_id = ? AND "
                                           "kind IN ('directory', 'lifecycle')"));
    del.bindText(1, run_id);
    return del.run();
  }

 private:
  sqlite::Database& db_;
};

}  // namespace

const std::vector<std::string>& SqliteIdentityEventStore::migrations() {
  static const std::vector<std::string> kMigrations = {R"sql(
CREATE TABLE identity_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  employee_id TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('hr', 'directory', 'lifecycle')),
  source TEXT NOT NULL DEFAULT '',
  actor TEXT NOT NULL DEFAULT '',
  run_id TEXT NOT NULL DEFAULT '',
  agent_id TEXT NOT NULL DEFAULT '',
  summary TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '{}',
  snapshot TEXT NOT NULL DEFAULT ''
);
CREATE INDEX identity_events_by_employee ON identity_events(employee_id, at_ms, id);
CREATE INDEX identity_events_by_run ON identity_events(run_id, kind);
)sql"};
  return kMigrations;
}

Status SqliteIdentityEventStore::record(const std::function<Status(Recording&)>& work) {
  return conn_.run([&](sqlite::Database& db) -> Status {
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    SqliteRecording recording(db);
    RETURN_IF_ERROR(work(recording));
    return tx.commit();
  });
}

Result<IdentityHistory> SqliteIdentityEventStore::history(const std::string& employee_id,
                                                          int64_t as_of_ms) {
  return conn_.run([&](sqlite::Database& db) -> Result<IdentityHistory> {
    IdentityHistory h;
    ASSIGN_OR_RETURN(auto any, db.prepare("SELECT COUNT(*) FROM identity_events WHERE "
                                          "employee_id = ?"));
    any.bindText(1, employee_id);
    ASSIGN_OR_RETURN(bool row, any.step());
    h.total_events = row ? any.columnInt64(0) : 0;
    if (h.total_events == 0) return h;
    ASSIGN_OR_RETURN(h.hr_snapshot, lastSnapshotIn(db, employee_id, "hr", as_of_ms, ""));
    ASSIGN_OR_RETURN(h.directory_snapshot,
                     lastSnapshotIn(db, employee_id, "directory", as_of_ms, ""));
    ASSIGN_OR_RETURN(auto st, db.prepare(std::string("SELECT ") + kEventColumns +
                                         " FROM identity_events WHERE employee_id = ? AND "
                                         "at_ms <= ? ORDER BY at_ms, id"));
    st.bindText(1, employee_id).bindInt64(2, as_of_ms);
    ASSIGN_OR_RETURN(h.events, readEvents(st));
    return h;
  });
}

Result<std::vector<IdentityEvent>> SqliteIdentityEventStore::events(const std::string& employee_id,
                                                                    int64_t after_id, int limit) {
  return conn_.run([&](sqlite::Database& db) -> Result<std::vector<IdentityEvent>> {
    ASSIGN_OR_RETURN(auto st, db.prepare(std::string("SELECT ") + kEventColumns +
                                         " FROM identity_events WHERE employee_id = ? AND id > ? "
                                         "ORDER BY id LIMIT ?"));
    st.bindText(1, employee_id).bindInt64(2, after_id).bindInt64(3, limit);
    return readEvents(st);
  });
}

}  // namespace tenure::cp
