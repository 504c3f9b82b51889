#include "controlplane/store/sqlite/sqlite_access_chain_store.h"

namespace tenure::cp {

namespace {

constexpr const char* kColumns =
    "id, at_ms, principal_kind, principal, tenant_id, method, path, query, resource, action, "
    "status, prev_hash, hash";

AccessEntry readEntry(const sqlite::Statement& st) {
  AccessEntry e;
  e.id = st.columnInt64(0);
  e.at_ms = st.columnInt64(1);
  e.principal_kind = st.columnText(2);
  e.principal = st.columnText(3);
  e.tenant_id = st.columnText(4);
  e.method = st.columnText(5);
  e.path = st.columnText(6);
  e.query = st.columnText(7);
  e.resource = st.columnText(8);
  e.action = st.columnText(9);
  e.status = static_cast<int>(st.columnInt64(10));
  e.prev_hash = st.columnText(11);
  e.hash = st.columnText(12);
  return e;
}

}  // namespace

const std::vector<std::string>& SqliteAccessChainStore::migrations() {
  static const std::vector<std::string> kMigrations = {R"sql(
CREATE TABLE access_log (
  id INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  principal_kind TEXT NOT NULL,
  principal TEXT NOT NULL,
  tenant_id TEXT NOT NULL DEFAULT '',
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  query TEXT NOT NULL DEFAULT '',
  resource TEXT NOT NULL DEFAULT '',
  action TEXT NOT NULL,
  status INTEGER NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
)sql"};
  return kMigrations;
}

Result<AccessEntry> SqliteAccessChainStore::append(AccessEntry e, const HashOf& hash_of) {
  return conn_.run([&](sqlite::Database& db) -> Result<AccessEntry> {
    // IMMEDIATE: another process appending to the same file waits instead of forking the chain.
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    ASSIGN_OR_RETURN(auto last,
                     db.prepare("SELECT id, hash FROM access_log ORDER BY id DESC LIMIT 1"));
    ASSIGN_OR_RETURN(bool row, last.step());
    e.id = row ? last.columnInt64(0) + 1 : 1;
    e.prev_hash = row ? last.columnText(1) : kGenesisHash;
    last.reset();
    e.hash = hash_of(e);
    ASSIGN_OR_RETURN(auto ins, db.prepare(std::string("INSERT INTO access_log (") + kColumns +
                                          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    ins.bindInt64(1, e.id)
        .bindInt64(2, e.at_ms)
        .bindText(3, e.principal_kind)
        .bindText(4, e.principal)
        .bindText(5, e.tenant_id)
        .bindText(6, e.method)
        .bindText(7, e.path)
        .bindText(8, e.query)
        .bindText(9, e.resource)
        .bindText(10, e.action)
        .bindInt64(11, e.status)
        .bindText(12, e.prev_hash)
        .bindText(13, e.hash);
    RETURN_IF_ERROR(ins.run());
    RETURN_IF_ERROR(tx.commit());
    return e;
  });
}

Result<std::vector<AccessEntry>> SqliteAccessChainStore::list(int64_t after_id, int limit) {
  return conn_.run([&](sqlite::Database& db) -> Result<std::vector<AccessEntry>> {
    ASSIGN_OR_RETURN(auto st, db.prepare(std::string("SELECT ") + kColumns +
                                         " FROM access_log WHERE id > ? ORDER BY id LIMIT ?"));
    st.bindInt64(1, after_id).bindInt64(2, limit);
    std::vector<AccessEntry> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) return out;
      out.push_back(readEntry(st));
    }
  });
}

Status SqliteAccessChainStore::forEach(const std::function<bool(const AccessEntry&)>& visit) {
  return conn_.run([&](sqlite::Database& db) -> Status {
    ASSIGN_OR_RETURN(
        auto st, db.prepare(std::string("SELECT ") + kColumns + " FROM access_log ORDER BY id"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.step());
      if (!row || !visit(readEntry(st))) return Status::ok();
    }
  });
}

}  // namespace tenure::cp
