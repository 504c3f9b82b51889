// The control store's credential side: rotating a tenant's API token and enroll secret, revoking
// an agent. Its columns live in the "credentials" component schema of control.db. Like every
// secret here, the new ones are stored only as SHA-256 hashes.
#include "common/base/crypto.h"
#include "controlplane/store/sqlite/sqlite_control_store.h"

namespace tenure::cp {

namespace {

const std::vector<std::string> kCredentialMigrations = {
    R"sql(
ALTER TABLE tenants ADD COLUMN previous_api_token_sha256 TEXT;
ALTER TABLE tenants ADD COLUMN previous_api_token_valid_until_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tenants_by_previous_api_token ON tenants(previous_api_token_sha256);
)sql",
};

}  // namespace

Status SqliteControlStore::migrateCredentials(sqlite::Database& db) {
  return sqlite::migrateComponent(db, "credentials", kCredentialMigrations)
      .withContext("control store (credentials)");
}

Result<RotatedApiToken> SqliteControlStore::rotateApiToken(const std::string& tenant_id,
                                                     int64_t grace_seconds) {
  if (grace_seconds < 0 || grace_seconds > kMaxApiTokenGraceSeconds) {
    return dataError("grace_seconds must be between 0 and " +
                     std::to_string(kMaxApiTokenGraceSeconds));
  }
  RotatedApiToken out;
  out.api_token = randomToken();
  const int64_t now = clock_.nowUnixMillis();
  out.previous_valid_until_ms = grace_seconds > 0 ? now + grace_seconds * 1000 : 0;
  std::lock_guard lock(mu_);
  // The right-hand sides read the row as it was: the current hash becomes the previous one.
  // Whatever previous token an earlier rotation left is overwritten, so its grace ends here.
  ASSIGN_OR_RETURN(auto st, db_.prepare("UPDATE tenants SET api_token_sha256 = ?, "
                                        "previous_api_token_sha256 = CASE WHEN ? > 0 THEN "
                                        "api_token_sha256 ELSE NULL END, "
                                        "previous_api_token_valid_until_ms = ? "
                                        "WHERE tenant_id = ?"));
  st.bindText(1, sha256Hex(out.api_token))
      .bindInt64(2, grace_seconds)
      .bindInt64(3, out.previous_valid_until_ms)
      .bindText(4, tenant_id);
  RETURN_IF_ERROR(st.run().withContext("rotate API token of " + tenant_id));
  if (db_.changes() == 0) return notFoundError("unknown tenant " + tenant_id);
  return out;
}

Result<std::string> SqliteControlStore::rotateEnrollSecret(const std::string& tenant_id) {
  std::string secret = randomToken();
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st,
                   db_.prepare("UPDATE tenants SET enroll_secret_sha256 = ? WHERE tenant_id = ?"));
  st.bindText(1, sha256Hex(secret)).bindText(2, tenant_id);
  RETURN_IF_ERROR(st.run().withContext("rotate enroll secret of " + tenant_id));
  if (db_.changes() == 0) return notFoundError("unknown tenant " + tenant_id);
  return secret;
}

Result<bool> SqliteControlStore::revokeAgent(const std::string& tenant_id, const std::string& agent_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));
  ASSIGN_OR_RETURN(auto cur,
                   db_.prepare("SELECT revoked FROM agents WHERE agent_id = ? AND tenant_id = ?"));
  cur.bindText(1, agent_id).bindText(2, tenant_id);
  ASSIGN_OR_RETURN(bool row, cur.step());
  // Another tenant's agent is indistinguishable from one that does not exist.
  if (!row) return notFoundError("tenant " + tenant_id + " has no agent " + agent_id);
  const bool was_live = cur.columnInt64(0) == 0;
  cur.reset();
  if (was_live) {
    ASSIGN_OR_RETURN(auto upd, db_.prepare("UPDATE agents SET revoked = 1 WHERE agent_id = ?"));
    upd.bindText(1, agent_id);
    RETURN_IF_ERROR(upd.run());
  }
  RETURN_IF_ERROR(tx.commit());
  return was_live;
}

}  // namespace tenure::cp
