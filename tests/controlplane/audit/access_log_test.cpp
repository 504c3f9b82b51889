// The access audit log: recorded by the route table (controlplane/api) for requests over real HTTPS,
// stored hash-chained in real SQLite files, verified by `tenure-cp audit verify` after a row is
// tampered with directly in SQLite.

#include "controlplane/audit/access_log.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <cstdio>
#include <sstream>

#include "common/sqlite/database.h"
#include "controlplane/store/sqlite/sqlite_tenant_store.h"
#include "tests/controlplane/support/loopback_control_plane.h"

namespace tenure::cp {
namespace {

namespace bj = boost::json;
using testing::LoopbackControlPlane;

constexpr const char* kCsv = "employee_id,given_name,family_name,status\nE1,Ann,Lee,active\n";
constexpr const char* kResult =
    R"({"status":"succeeded","outcomes":[{"employee_id":"E1","action":"created","dn":"CN=Ann Lee,DC=x"}]})";

struct Command {
  int exit_code;
  std::string output;
};
Command runCli(const std::string& args) {
  std::string cmd = std::string(TENURE_CP_BINARY) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class AccessLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = cp_.createTenant("A");
    b_ = cp_.createTenant("B");
    admin_ = cp_.createAdminToken("ops-alice");
    key_ = cp_.enroll(a_);
    run_ = cp_.uploadCsv(a_, kCsv);
    cp_.completeNextJob(key_, kResult);
  }
  bj::array entries(const std::string& target, const std::string& auth) {
    auto r = cp_.request("GET", target, auth);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json().at("entries").as_array();
  }
  std::string tenantDb(const TenantCredentials& t) {
    return (cp_.dataDir() / "tenants" / (t.tenant.tenant_id + ".db")).string();
  }
  void execSql(const std::string& path, const std::string& sql) {
    auto db = sqlite::Database::open(path);
    ASSERT_TRUE(db.isOk());
    ASSERT_TRUE(db->exec(sql).isOk()) << sql;
  }

  LoopbackControlPlane cp_;
  TenantCredentials a_, b_;
  std::string admin_, key_, run_;
};

TEST_F(AccessLogTest, TenantTokenUseAndAgentResultsGoToTheTenantsChain) {
  cp_.request("GET", "/api/v1/runs/" + run_ + "/report.csv", "Bearer " + a_.api_token);
  auto log = entries("/api/v1/audit", "Bearer " + a_.api_token);
  ASSERT_EQ(log.size(), 3u) << bj::serialize(log);
  EXPECT_EQ(log[0].at("principal_kind").as_string(), "tenant_token");
  EXPECT_EQ(log[0].at("principal").as_string(), "A");
  EXPECT_EQ(log[0].at("resource").as_string(), "hr/records");
  EXPECT_EQ(log[0].at("action").as_string(), "change");
  EXPECT_EQ(log[0].at("status").as_int64(), 202);
  EXPECT_EQ(log[0].at("prev_hash").as_string(), kGenesisHash);
  EXPECT_EQ(log[1].at("principal_kind").as_string(), "agent");
  EXPECT_EQ(log[1].at("action").as_string(), "result");
  EXPECT_EQ(log[1].at("resource").as_string(), "jobs/" + run_ + "/result");
  EXPECT_EQ(log[2].at("resource").as_string(), "runs/" + run_ + "/report.csv");
  EXPECT_EQ(log[2].at("action").as_string(), "read");
  EXPECT_EQ(log[2].at("prev_hash"), log[1].at("hash"));

  auto other = entries("/api/v1/audit", "Bearer " + b_.api_token);
  for (const auto& e : other) {
    EXPECT_EQ(e.at("tenant_id").as_string(), b_.tenant.tenant_id) << "B sees only its own chain";
  }
}

TEST_F(AccessLogTest, OperatorsReadsAndApprovalsOfATenantGoToThatTenantsChain) {
  auto r = cp_.request("GET", "/admin/v1/tenants/" + a_.tenant.tenant_id + "/runs/" + run_,
                       "Bearer " + admin_);
  ASSERT_EQ(r.status, 200) << r.body;
  cp_.request("POST", "/admin/v1/tenants/" + a_.tenant.tenant_id + "/runs/" + run_ + "/approve",
              "Bearer " + admin_, "{}");
  auto log = entries("/api/v1/audit", "Bearer " + a_.api_token);
  ASSERT_GE(log.size(), 4u);
  const auto& read = log[log.size() - 2];
  EXPECT_EQ(read.at("principal_kind").as_string(), "operator");
  EXPECT_EQ(read.at("principal").as_string(), "ops-alice");
  EXPECT_EQ(read.at("action").as_string(), "read");
  const auto& approve = log.back();
  EXPECT_EQ(approve.at("action").as_string(), "approve");
  EXPECT_EQ(approve.at("status").as_int64(), 409) << "the run was not held; still recorded";
}

TEST_F(AccessLogTest, OperatorActionsAcrossTenantsGoToTheControlChain) {
  cp_.request("GET", "/admin/v1/runs?status=held", "Bearer " + admin_);
  auto control = entries("/admin/v1/audit", "Bearer " + admin_);
  ASSERT_EQ(control.size(), 1u);
  EXPECT_EQ(control[0].at("resource").as_string(), "runs");
  EXPECT_EQ(control[0].at("query").as_string(), "status=held");
  EXPECT_EQ(control[0].at("tenant_id").as_string(), "");
  // Reading a tenant's chain as an operator is itself recorded in that chain.
  auto tenant = entries("/admin/v1/audit?tenant=" + a_.tenant.tenant_id, "Bearer " + admin_);
  auto again = entries("/admin/v1/audit?tenant=" + a_.tenant.tenant_id, "Bearer " + admin_);
  EXPECT_EQ(again.size(), tenant.size() + 1);
  EXPECT_EQ(again.back().at("principal").as_string(), "ops-alice");
  EXPECT_EQ(cp_.request("GET", "/admin/v1/audit?tenant=t_nope", "Bearer " + admin_).status, 404);
  EXPECT_EQ(cp_.request("GET", "/admin/v1/audit", "Bearer " + a_.api_token).status, 401);
}

TEST_F(AccessLogTest, AuditLogIsPaged) {
  for (int i = 0; i < 4; ++i) cp_.request("GET", "/api/v1/runs", "Bearer " + a_.api_token);
  auto r = cp_.request("GET", "/api/v1/audit?limit=2", "Bearer " + a_.api_token);
  auto j = r.json();
  ASSERT_EQ(j.at("entries").as_array().size(), 2u);
  int64_t next = j.at("next_after").as_int64();
  EXPECT_EQ(next, 2);
  auto rest = entries("/api/v1/audit?after=2&limit=1000", "Bearer " + a_.api_token);
  EXPECT_EQ(rest.front().at("id").as_int64(), 3);
  EXPECT_EQ(cp_.request("GET", "/api/v1/audit?limit=abc", "Bearer " + a_.api_token).status, 400);
}

TEST_F(AccessLogTest, VerifierAcceptsIntactChains) {
  cp_.request("GET", "/admin/v1/runs", "Bearer " + admin_);
  std::ostringstream out, err;
  EXPECT_EQ(verifyAuditChains(cp_.dataDir().string(), "", out, err), 0) << out.str() << err.str();
  EXPECT_NE(out.str().find(R"("ok":true)"), std::string::npos);
  auto cli = runCli("audit verify --data-dir " + cp_.dataDir().string());
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
}

TEST_F(AccessLogTest, VerifierFindsExactlyTheTamperedRow) {
  for (int i = 0; i < 3; ++i) cp_.request("GET", "/api/v1/runs", "Bearer " + a_.api_token);
  execSql(tenantDb(a_), "UPDATE access_log SET principal = 'mallory' WHERE id = 3");
  auto cli = runCli("audit verify --data-dir " + cp_.dataDir().string() + " --tenant " +
                    a_.tenant.tenant_id);
  EXPECT_EQ(cli.exit_code, 1) << cli.output;
  auto line = bj::parse(cli.output).as_object();
  EXPECT_EQ(line.at("ok").as_bool(), false);
  EXPECT_EQ(line.at("broken_id").as_int64(), 3);
  EXPECT_EQ(line.at("field").as_string(), "hash");
  EXPECT_NE(line.at("expected"), line.at("found"));
  // The other tenant's chain is untouched.
  EXPECT_EQ(runCli("audit verify --data-dir " + cp_.dataDir().string() + " --tenant " +
                   b_.tenant.tenant_id).exit_code, 0);
}

TEST_F(AccessLogTest, RecomputingTheTamperedHashBreaksTheNextLink) {
  for (int i = 0; i < 3; ++i) cp_.request("GET", "/api/v1/runs", "Bearer " + a_.api_token);
  // The forger rewrites entry 2 and its hash consistently; entry 3 still points at the old hash.
  auto store = SqliteTenantStore::open(tenantDb(a_), SystemClock::instance());
  ASSERT_TRUE(store.isOk());
  auto rows = (*store)->accessChain().list(1, 1).value();
  AccessEntry forged = rows.at(0);
  forged.principal = "nobody";
  forged.hash = chainHash(forged.prev_hash, forged);
  ASSERT_TRUE((*store)->withDatabase([&](sqlite::Database& db) -> Status {
    ASSIGN_OR_RETURN(auto upd,
                     db.prepare("UPDATE access_log SET principal = ?, hash = ? WHERE id = 2"));
    upd.bindText(1, forged.principal).bindText(2, forged.hash);
    return upd.run();
  }).isOk());
  auto check = verifyAccessChain((*store)->accessChain()).value();
  EXPECT_FALSE(check.ok);
  EXPECT_EQ(check.broken_id, 3);
  EXPECT_EQ(check.field, "prev_hash");
  EXPECT_EQ(check.expected, forged.hash);
}

TEST_F(AccessLogTest, ADeletedEntryIsFoundAtTheGap) {
  for (int i = 0; i < 3; ++i) cp_.request("GET", "/api/v1/runs", "Bearer " + a_.api_token);
  execSql(tenantDb(a_), "DELETE FROM access_log WHERE id = 2");
  std::ostringstream out, err;
  EXPECT_EQ(verifyAuditChains(cp_.dataDir().string(), a_.tenant.tenant_id, out, err), 1);
  auto line = bj::parse(out.str()).as_object();
  EXPECT_EQ(line.at("broken_id").as_int64(), 3);
}

TEST_F(AccessLogTest, TamperingWithTheControlChainIsFoundToo) {
  cp_.request("GET", "/admin/v1/runs", "Bearer " + admin_);
  cp_.request("GET", "/admin/v1/runs", "Bearer " + admin_);
  execSql((cp_.dataDir() / "control.db").string(),
          "UPDATE access_log SET status = 200, principal = 'someone-else' WHERE id = 1");
  auto cli = runCli("audit verify --data-dir " + cp_.dataDir().string());
  EXPECT_EQ(cli.exit_code, 1) << cli.output;
  EXPECT_NE(cli.output.find(R"("chain":"control")"), std::string::npos);
  EXPECT_NE(cli.output.find(R"("broken_id":1)"), std::string::npos) << cli.output;
}

}  // namespace
}  // namespace tenure::cp
