#include "controlplane/store/sqlite/sqlite_connector_store.h"

namespace tenure::cp {

const std::vector<std::string>& SqliteConnectorStore::migrations() {
  static const std::vector<std::string> kMigrations = {
      R"(CREATE TABLE connector_configs (
           kind TEXT PRIMARY KEY,
           settings TEXT NOT NULL,
           sealed_api_key TEXT NOT NULL,
           updated_at_ms INTEGER NOT NULL);
         CREATE TABLE connector_pulls (
           kind TEXT PRIMARY KEY,
           status TEXT NOT NULL,
           started_at_ms INTEGER NOT NULL DEFAULT 0,
           finished_at_ms INTEGER NOT NULL DEFAULT 0,
           last_success_at_ms INTEGER NOT NULL DEFAULT 0,
           run_id TEXT NOT NULL DEFAULT '',
           records INTEGER NOT NULL DEFAULT 0,
           rejected INTEGER NOT NULL DEFAULT 0,
           pages INTEGER NOT NULL DEFAULT 0,
           last_error TEXT NOT NULL DEFAULT '');)"};
  return kMigrations;
}

Result<std::optional<ConnectorConfig>> SqliteConnectorStore::config(const std::string& kind) {
  return conn_.run([&](sqlite::Database& db) -> Result<std::optional<ConnectorConfig>> {
    ASSIGN_OR_RETURN(auto stmt, db.prepare("SELECT settings, sealed_api_key, updated_at_ms FROM "
                                           "connector_configs WHERE kind = ?"));
    stmt.bindText(1, kind);
    ASSIGN_OR_RETURN(bool has, stmt.step());
    if (!has) return std::optional<ConnectorConfig>();
    return std::optional<ConnectorConfig>(
        ConnectorConfig{kind, stmt.columnText(0), stmt.columnText(1), stmt.columnInt64(2)});
  });
}

Status SqliteConnectorStore::saveConfig(const std::string& kind, const std::string& settings,
                                        const std::string& sealed_api_key) {
  const int64_t now = clock_.nowUnixMillis();
  return conn_.run([&](sqlite::Database& db) -> Status {
    ASSIGN_OR_RETURN(auto stmt, db.prepare("INSERT OR REPLACE INTO connector_configs (kind, "
                                           "settings, sealed_api_key, updated_at_ms) VALUES "
                                           "(?,?,?,?)"));
    stmt.bindText(1, kind).bindText(2, settings).bindText(3, sealed_api_key).bindInt64(4, now);
    return stmt.run();
  });
}

Result<bool> SqliteConnectorStore::removeConnector(const std::string& kind) {
  return conn_.run([&](sqlite::Database& db) -> Result<bool> {
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    ASSIGN_OR_RETURN(auto del, db.prepare("DELETE FROM connector_configs WHERE kind = ?"));
    del.bindText(1, kind);
    RETURN_IF_ERROR(del.run());
    const bool removed = db.changes() > 0;
    ASSIGN_OR_RETURN(auto del_state, db.prepare("DELETE FROM connector_pulls WHERE kind = ?"));
    del_state.bindText(1, kind);
    RETURN_IF_ERROR(del_state.run());
    RETURN_IF_ERROR(tx.commit());
    return removed;
  });
}

Result<ConnectorPullState> SqliteConnectorStore::pullState(const std::string& kind) {
  return conn_.run([&](sqlite::Database& db) -> Result<ConnectorPullState> {
    ASSIGN_OR_RETURN(auto stmt, db.prepare("SELECT status, started_at_ms, finished_at_ms, "
                                           "last_success_at_ms, run_id, records, rejected, pages, "
                                           "last_error FROM connector_pulls WHERE kind = ?"));
    stmt.bindText(1, kind);
    ConnectorPullState s;
    ASSIGN_OR_RETURN(bool has, stmt.step());
    if (!has) return s;
    s.status = stmt.columnText(0);
    s.started_at_ms = stmt.columnInt64(1);
    s.finished_at_ms = stmt.columnInt64(2);
    s.last_success_at_ms = stmt.columnInt64(3);
    s.run_id = stmt.columnText(4);
    s.records = static_cast<int>(stmt.columnInt64(5));
    s.rejected = static_cast<int>(stmt.columnInt64(6));
    s.pages = static_cast<int>(stmt.columnInt64(7));
    s.last_error = stmt.columnText(8);
    return s;
  });
}

Status SqliteConnectorStore::savePullState(const std::string& kind, const ConnectorPullState& s) {
  return conn_.run([&](sqlite::Database& db) -> Status {
    ASSIGN_OR_RETURN(auto stmt,
                     db.prepare("INSERT OR REPLACE INTO connector_pulls (kind, status, "
                                "started_at_ms, finished_at_ms, last_success_at_ms, run_id, "
                                "records, rejected, pages, last_error) VALUES "
                                "(?,?,?,?,?,?,?,?,?,?)"));
    stmt.bindText(1, kind)
        .bindText(2, s.status)
        .bindInt64(3, s.started_at_ms)
        .bindInt64(4, s.finished_at_ms)
        .bindInt64(5, s.last_success_at_ms)
        .bindText(6, s.run_id)
        .bindInt64(7, s.records)
        .bindInt64(8, s.rejected)
        .bindInt64(9, s.pages)
        .bindText(10, s.last_error);
    return stmt.run();
  });
}

}  // namespace tenure::cp
