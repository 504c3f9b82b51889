// Rotating a tenant's API token (with and without a grace for the previous token) and enroll
// secret, revoking agents, and the migration of a control database created before any of it.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "common/base/crypto.h"
#include "common/sqlite/database.h"
#include "controlplane/store/control_store.h"

namespace tenure::cp {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

template <typename T>
T unwrap(Result<T> r) {
  EXPECT_TRUE(r.isOk()) << r.status().toString();
  return std::move(r).value();
}

class CredentialStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tenure-credstore-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/control.db";
    store_ = unwrap(ControlStore::open(path_, clock_));
    acme_ = unwrap(store_->createTenant("Acme"));
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  // The tenant id a token authenticates as, "" when refused.
  std::string tenantOfToken(const std::string& token) {
    auto t = unwrap(store_->tenantByApiToken(token));
    return t ? t->tenant_id : "";
  }

  std::string dir_;
  std::string path_;
  ManualClock clock_;
  std::unique_ptr<ControlStore> store_;
  TenantCredentials acme_;
};

TEST_F(CredentialStoreTest, RotationWithoutGraceRefusesTheOldTokenAtOnce) {
  auto rotated = unwrap(store_->rotateApiToken(acme_.tenant.tenant_id, 0));
  EXPECT_NE(rotated.api_token, acme_.api_token);
  EXPECT_EQ(rotated.previous_valid_until_ms, 0);
  EXPECT_EQ(tenantOfToken(rotated.api_token), acme_.tenant.tenant_id);
  EXPECT_EQ(tenantOfToken(acme_.api_token), "");
}

TEST_F(CredentialStoreTest, PreviousTokenWorksDuringItsGraceAndIsRefusedFromItsEnd) {
  auto rotated = unwrap(store_->rotateApiToken(acme_.tenant.tenant_id, 600));
  EXPECT_EQ(rotated.previous_valid_until_ms, clock_.nowUnixMillis() + 600'000);
  EXPECT_EQ(tenantOfToken(rotated.api_token), acme_.tenant.tenant_id);
  EXPECT_EQ(tenantOfToken(acme_.api_token), acme_.tenant.tenant_id);
  clock_.advance(milliseconds(599'999));
  EXPECT_EQ(tenantOfToken(acme_.api_token), acme_.tenant.tenant_id);
  // Only the current token counts where the caller asks for it (rotating the token itself).
  EXPECT_FALSE(unwrap(store_->tenantByApiToken(acme_.api_token, /*current_only=*/true)));
  EXPECT_TRUE(unwrap(store_->tenantByApiToken(rotated.api_token, /*current_only=*/true)));
  clock_.advance(milliseconds(1));
  EXPECT_EQ(tenantOfToken(acme_.api_token), "");
  EXPECT_EQ(tenantOfToken(rotated.api_token), acme_.tenant.tenant_id);
}

TEST_F(CredentialStoreTest, RotatingAgainEndsTheEarlierGrace) {
  auto first = unwrap(store_->rotateApiToken(acme_.tenant.tenant_id, 3600));
  ASSERT_EQ(tenantOfToken(acme_.api_token), acme_.tenant.tenant_id);
  // A second rotation with a grace: the token it replaces gets the grace, the original none.
  auto second = unwrap(store_->rotateApiToken(acme_.tenant.tenant_id, 3600));
  EXPECT_EQ(tenantOfToken(acme_.api_token), "");
  EXPECT_EQ(tenantOfToken(first.api_token), acme_.tenant.tenant_id);
  EXPECT_EQ(tenantOfToken(second.api_token), acme_.tenant.tenant_id);
  // And one without a grace ends that one too.
  auto third = unwrap(store_->rotateApiToken(acme_.tenant.tenant_id, 0));
  EXPECT_EQ(tenantOfToken(first.api_token), "");
  EXPECT_EQ(tenantOfToken(second.api_token), "");
  EXPECT_EQ(tenantOfToken(third.api_token), acme_.tenant.tenant_id);
}

TEST_F(CredentialStoreTest, GraceOutOfRangeAndUnknownTenantChangeNothing) {
  EXPECT_EQ(store_->rotateApiToken(acme_.tenant.tenant_id, -1).status().errorClass(),
            ErrorClass::kData);
  EXPECT_EQ(store_->rotateApiToken(acme_.tenant.tenant_id, kMaxApiTokenGraceSeconds + 1)
                .status()
                .errorClass(),
            ErrorClass::kData);
  EXPECT_EQ(store_->rotateApiToken("t_0000000000000000", 0).status().errorClass(),
            ErrorClass::kNotFound);
  EXPECT_EQ(store_->rotateEnrollSecret("t_0000000000000000").status().errorClass(),
            ErrorClass::kNotFound);
  EXPECT_EQ(tenantOfToken(acme_.api_token), acme_.tenant.tenant_id);
  // The longest grace is accepted.
  EXPECT_TRUE(store_->rotateApiToken(acme_.tenant.tenant_id, kMaxApiTokenGraceSeconds).isOk());
}

TEST_F(CredentialStoreTest, RotationTouchesOnlyItsTenant) {
  auto globex = unwrap(store_->createTenant("Globex"));
  unwrap(store_->rotateApiToken(acme_.tenant.tenant_id, 0));
  unwrap(store_->rotateEnrollSecret(acme_.tenant.tenant_id));
  EXPECT_EQ(tenantOfToken(globex.api_token), globex.tenant.tenant_id);
  auto by_secret = unwrap(store_->tenantByEnrollSecret(globex.enroll_secret));
  ASSERT_TRUE(by_secret.has_value());
  EXPECT_EQ(by_secret->tenant_id, globex.tenant.tenant_id);
}

TEST_F(CredentialStoreTest, NewEnrollSecretReplacesTheOldAtOnceAndEnrolledAgentsStay) {
  auto agent = unwrap(store_->enrollAgent(acme_.tenant.tenant_id, "dc1", "1.0"));
  const std::string secret = unwrap(store_->rotateEnrollSecret(acme_.tenant.tenant_id));
  EXPECT_NE(secret, acme_.enroll_secret);
  EXPECT_FALSE(unwrap(store_->tenantByEnrollSecret(acme_.enroll_secret)).has_value());
  auto found = unwrap(store_->tenantByEnrollSecret(secret));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->tenant_id, acme_.tenant.tenant_id);
  EXPECT_TRUE(unwrap(store_->agentByNodeKey(agent.node_key)).has_value());
  // The API token is another credential: untouched.
  EXPECT_EQ(tenantOfToken(acme_.api_token), acme_.tenant.tenant_id);
}

TEST_F(CredentialStoreTest, RotatedSecretsAreStoredOnlyAsHashes) {
  auto rotated = unwrap(store_->rotateApiToken(acme_.tenant.tenant_id, 600));
  const std::string secret = unwrap(store_->rotateEnrollSecret(acme_.tenant.tenant_id));
  store_.reset();
  auto db = unwrap(sqlite::Database::open(path_));
  auto st = unwrap(db.prepare("SELECT * FROM tenants"));
  ASSERT_TRUE(unwrap(st.step()));
  std::vector<std::string> cells;
  for (int c = 0; c < st.columnCount(); ++c) cells.push_back(st.columnText(c));
  std::set<std::string> all(cells.begin(), cells.end());
  for (const std::string& s : {rotated.api_token, secret, acme_.api_token}) {
    for (const auto& cell : cells) EXPECT_EQ(cell.find(s), std::string::npos) << cell;
    EXPECT_TRUE(all.count(sha256Hex(s)));
  }
}

TEST_F(CredentialStoreTest, AnotherTenantsAgentCannotBeRevokedThroughThisTenant) {
  auto globex = unwrap(store_->createTenant("Globex"));
  auto theirs = unwrap(store_->enrollAgent(globex.tenant.tenant_id, "g1", "1.0"));
  EXPECT_EQ(
      store_->revokeAgent(acme_.tenant.tenant_id, theirs.agent.agent_id).status().errorClass(),
      ErrorClass::kNotFound);
  EXPECT_TRUE(unwrap(store_->agentByNodeKey(theirs.node_key)).has_value());
}

TEST_F(CredentialStoreTest, RevokedAgentsLeasedJobGoesToAnotherAgentWhenTheLeaseExpires) {
  auto a1 = unwrap(store_->enrollAgent(acme_.tenant.tenant_id, "h1", "v"));
  auto a2 = unwrap(store_->enrollAgent(acme_.tenant.tenant_id, "h2", "v"));
  JobRecord job;
  job.job_id = "j1";
  job.tenant_id = acme_.tenant.tenant_id;
  job.run_id = "r1";
  ASSERT_TRUE(store_->enqueueJob(job).isOk());
  ASSERT_TRUE(unwrap(store_->leaseNextJob(acme_.tenant.tenant_id, a1.agent.agent_id, 60'000)));
  ASSERT_TRUE(unwrap(store_->revokeAgent(acme_.tenant.tenant_id, a1.agent.agent_id)));
  EXPECT_FALSE(unwrap(store_->leaseNextJob(acme_.tenant.tenant_id, a2.agent.agent_id, 60'000)))
      << "the lease still runs";
  clock_.advance(milliseconds(60'000));
  auto again = unwrap(store_->leaseNextJob(acme_.tenant.tenant_id, a2.agent.agent_id, 60'000));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->job_id, "j1");
  EXPECT_EQ(again->agent_id, a2.agent.agent_id);
  EXPECT_EQ(again->attempts, 2);
}

// control.db as the release before credential rotation created it: core schema version 2 and
// the scheduling component at version 1, with a tenant, an agent and a job in it.
constexpr const char* kSchemaBeforeRotation = R"sql(
CREATE TABLE tenants (
  tenant_id TEXT PRIMARY KEY, name TEXT NOT NULL,
  enroll_secret_sha256 TEXT NOT NULL UNIQUE, api_token_sha256 TEXT NOT NULL UNIQUE,
  created_at_ms INTEGER NOT NULL);
CREATE TABLE agents (
  agent_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
  node_key_sha256 TEXT NOT NULL UNIQUE, host TEXT NOT NULL, version TEXT NOT NULL,
  enrolled_at_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX agents_by_tenant ON agents(tenant_id);
CREATE TABLE jobs (
  job_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
  run_id TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
  agent_id TEXT NOT NULL DEFAULT '', lease_expires_at_ms INTEGER NOT NULL DEFAULT 0,
  created_at_ms INTEGER NOT NULL, finished_at_ms INTEGER NOT NULL DEFAULT 0,
  approved INTEGER NOT NULL DEFAULT 0, not_before_ms INTEGER NOT NULL DEFAULT 0);
CREATE INDEX jobs_ready ON jobs(tenant_id, state, priority DESC, created_at_ms);
CREATE INDEX jobs_by_state ON jobs(state);
CREATE TABLE admin_tokens (
  name TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL UNIQUE, created_at_ms INTEGER NOT NULL);
CREATE TABLE schedules (
  schedule_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, kind TEXT NOT NULL, cron TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1, next_run_at_ms INTEGER NOT NULL DEFAULT 0,
  last_run_at_ms INTEGER NOT NULL DEFAULT 0, last_run_id TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT '', created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL);
CREATE TABLE agent_health (
  agent_id TEXT PRIMARY KEY, jobs_done INTEGER NOT NULL DEFAULT 0,
  jobs_failed INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
  last_error_at_ms INTEGER NOT NULL DEFAULT 0);
CREATE TABLE schema_components (name TEXT PRIMARY KEY, version INTEGER NOT NULL);
INSERT INTO schema_components VALUES ('scheduling', 1);
PRAGMA user_version = 2;
)sql";

TEST(CredentialMigrationTest, ControlDatabaseFromBeforeRotationMigratesAndKeepsItsCredentials) {
  char tmpl[] = "/tmp/tenure-credmig-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string path = dir + "/control.db";
  {
    auto db = unwrap(sqlite::Database::open(path));
    ASSERT_TRUE(db.exec(kSchemaBeforeRotation).isOk());
    auto ins = unwrap(db.prepare(
        "INSERT INTO tenants VALUES ('t_00000000000000a1', 'Old', ?, ?, 1700000000000)"));
    ins.bindText(1, sha256Hex("old-enroll-secret")).bindText(2, sha256Hex("old-api-token"));
    ASSERT_TRUE(ins.run().isOk());
    auto agent =
        unwrap(db.prepare("INSERT INTO agents VALUES ('a_00000000000000b1', "
                          "'t_00000000000000a1', ?, 'dc1', '0.1.0', 1, 1, 0)"));
    agent.bindText(1, sha256Hex("old-node-key"));
    ASSERT_TRUE(agent.run().isOk());
  }
  ManualClock clock;
  auto store = unwrap(ControlStore::open(path, clock));
  // Everything issued before the upgrade still works.
  auto t = unwrap(store->tenantByApiToken("old-api-token"));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->tenant_id, "t_00000000000000a1");
  EXPECT_TRUE(unwrap(store->tenantByEnrollSecret("old-enroll-secret")).has_value());
  EXPECT_TRUE(unwrap(store->agentByNodeKey("old-node-key")).has_value());
  // And it can be rotated, with a grace.
  auto rotated = unwrap(store->rotateApiToken("t_00000000000000a1", 60));
  EXPECT_TRUE(unwrap(store->tenantByApiToken("old-api-token")).has_value());
  EXPECT_TRUE(unwrap(store->tenantByApiToken(rotated.api_token)).has_value());
  clock.advance(seconds(60));
  EXPECT_FALSE(unwrap(store->tenantByApiToken("old-api-token")).has_value());
  EXPECT_TRUE(unwrap(store->revokeAgent("t_00000000000000a1", "a_00000000000000b1")));
  EXPECT_FALSE(unwrap(store->agentByNodeKey("old-node-key")).has_value());
  // The component's version is recorded: opening again migrates nothing twice.
  store.reset();
  store = unwrap(ControlStore::open(path, clock));
  EXPECT_TRUE(unwrap(store->tenantByApiToken(rotated.api_token)).has_value());
  store.reset();
  auto db = unwrap(sqlite::Database::open(path));
  auto v = unwrap(db.prepare("SELECT version FROM schema_components WHERE name = 'credentials'"));
  ASSERT_TRUE(unwrap(v.step()));
  EXPECT_EQ(v.columnInt64(0), 1);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tenure::cp
