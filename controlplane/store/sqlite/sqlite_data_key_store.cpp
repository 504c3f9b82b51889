#include "controlplane/store/sqlite/sqlite_data_key_store.h"

#include <utility>

namespace tenure::cp {

namespace {

Result<std::optional<std::string>> storedFingerprint(sqlite::Database& db) {
  ASSIGN_OR_RETURN(auto st,
                   db.prepare("SELECT fingerprint FROM secrets_master WHERE singleton = 1"));
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(st.columnText(0));
}

// updated_at_ms stays 0, as it always was: nothing reads it.
Status storeFingerprint(sqlite::Database& db, const std::string& fp) {
  ASSIGN_OR_RETURN(auto st, db.prepare("INSERT INTO secrets_master (singleton, fingerprint, "
                                       "updated_at_ms) VALUES (1, ?, 0) ON CONFLICT(singleton) "
                                       "DO UPDATE SET fingerprint = excluded.fingerprint, "
                                       "updated_at_ms = excluded.updated_at_ms"));
  st.bindText(1, fp);
  return st.run();
}

Result<std::optional<std::string>> storedKey(sqlite::Database& db, const std::string& tenant_id) {
  ASSIGN_OR_RETURN(auto sel,
                   db.prepare("SELECT wrapped FROM secrets_data_keys WHERE tenant_id = ?"));
  sel.bindText(1, tenant_id);
  ASSIGN_OR_RETURN(bool row, sel.step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(sel.columnBlob(0));
}

}  // namespace

const std::vector<std::string>& SqliteDataKeyStore::migrations() {
  static const std::vector<std::string> kMigrations = {
      R"sql(
CREATE TABLE secrets_master (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  fingerprint TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE TABLE secrets_data_keys (
  tenant_id TEXT PRIMARY KEY,
  wrapped BLOB NOT NULL,
  created_at_ms INTEGER NOT NULL
);
)sql",
  };
  return kMigrations;
}

Result<std::optional<std::string>> SqliteDataKeyStore::masterFingerprint() {
  return conn_.run([](sqlite::Database& db) { return storedFingerprint(db); });
}

Status SqliteDataKeyStore::setMasterFingerprint(const std::string& fingerprint) {
  return conn_.run([&](sqlite::Database& db) { return storeFingerprint(db, fingerprint); });
}

Result<std::optional<std::string>> SqliteDataKeyStore::wrappedKey(const std::string& tenant_id) {
  return conn_.run([&](sqlite::Database& db) { return storedKey(db, tenant_id); });
}

Result<std::optional<std::string>> SqliteDataKeyStore::addWrappedKey(
    const std::string& tenant_id, const std::string& wrapped,
    const std::string& master_fingerprint) {
  return conn_.run([&](sqlite::Database& db) -> Result<std::optional<std::string>> {
    // IMMEDIATE: a rotation by another process cannot slip in between the check and the insert.
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    ASSIGN_OR_RETURN(auto fp, storedFingerprint(db));
    if (!fp || *fp != master_fingerprint) return std::optional<std::string>();
    ASSIGN_OR_RETURN(auto ins, db.prepare("INSERT INTO secrets_data_keys (tenant_id, wrapped, "
                                          "created_at_ms) VALUES (?, ?, 0) "
                                          "ON CONFLICT(tenant_id) DO NOTHING"));
    ins.bindText(1, tenant_id).bindBlob(2, wrapped);
    RETURN_IF_ERROR(ins.run());
    ASSIGN_OR_RETURN(auto stored, storedKey(db, tenant_id));
    RETURN_IF_ERROR(tx.commit());
    return stored;
  });
}

Status SqliteDataKeyStore::removeKey(const std::string& tenant_id) {
  return conn_.run([&](sqlite::Database& db) -> Status {
    ASSIGN_OR_RETURN(auto st, db.prepare("DELETE FROM secrets_data_keys WHERE tenant_id = ?"));
    st.bindText(1, tenant_id);
    return st.run();
  });
}

Status SqliteDataKeyStore::rotateMaster(const Rewrap& rewrap, const std::string& new_fingerprint) {
  return conn_.run([&](sqlite::Database& db) -> Status {
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    ASSIGN_OR_RETURN(auto sel, db.prepare("SELECT tenant_id, wrapped FROM secrets_data_keys"));
    std::vector<std::pair<std::string, std::string>> rewrapped;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, sel.step());
      if (!row) break;
      std::string tenant_id = sel.columnText(0);
      ASSIGN_OR_RETURN(std::string w, rewrap(tenant_id, sel.columnBlob(1)));
      rewrapped.emplace_back(std::move(tenant_id), std::move(w));
    }
    ASSIGN_OR_RETURN(auto upd,
                     db.prepare("UPDATE secrets_data_keys SET wrapped = ? WHERE tenant_id = ?"));
    for (const auto& [tenant_id, w] : rewrapped) {
      upd.reset();
      upd.bindBlob(1, w).bindText(2, tenant_id);
      RETURN_IF_ERROR(upd.run());
    }
    RETURN_IF_ERROR(storeFingerprint(db, new_fingerprint));
    return tx.commit();
  });
}

}  // namespace tenure::cp
