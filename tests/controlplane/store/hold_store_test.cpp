// Policies, safety holds and tombstones in the tenant store; held jobs and admin tokens in the
// control store. Real SQLite files in a temp dir.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/sqlite/database.h"
#include "controlplane/store/control_store.h"
#include "controlplane/store/tenant_store.h"

namespace tenure::cp {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::milliseconds;

template <typename T>
T unwrap(Result<T> r) {
  EXPECT_TRUE(r.isOk()) << r.status().toString();
  return std::move(r).value();
}

constexpr int64_t kDayMs = 86'400'000;

class HoldStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tenure-holdstore-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    tenant_path_ = dir_ + "/t_00aa.db";
    control_path_ = dir_ + "/control.db";
    tenant_ = unwrap(TenantStore::open(tenant_path_, clock_));
    control_ = unwrap(ControlStore::open(control_path_, clock_));
  }
  void TearDown() override {
    tenant_.reset();
    control_.reset();
    fs::remove_all(dir_);
  }

  void reopen() {
    tenant_.reset();
    control_.reset();
    tenant_ = unwrap(TenantStore::open(tenant_path_, clock_));
    control_ = unwrap(ControlStore::open(control_path_, clock_));
  }

  void createRun(const std::string& id, int policy_version = 0) {
    RunRecord r;
    r.run_id = id;
    r.source = "csv";
    r.accepted = 1;
    r.policy_version = policy_version;
    hr::HrRecord p;
    p.employee_id = "E1";
    p.given_name = "Ann";
    p.family_name = "Lee";
    ASSERT_TRUE(tenant_->createRun(r, {p}).isOk());
  }

  static protocol::PlanSummary plan(int disables) {
    protocol::PlanSummary s;
    s.job_id = "r1";
    s.population = 100;
    s.counts = {{"disable", disables}, {"create", 2}};
    protocol::IdentityOutcome o;
    o.employee_id = "E1";
    o.action = "disabled";
    o.operations.push_back(protocol::PlannedOperation{
        "disable", "CN=Ann Lee,OU=Staff,DC=example,DC=test", "", "HR status terminated", {}});
    s.outcomes.push_back(o);
    return s;
  }

  std::string dir_;
  std::string tenant_path_;
  std::string control_path_;
  ManualClock clock_;
  std::unique_ptr<TenantStore> tenant_;
  std::unique_ptr<ControlStore> control_;
};

TEST_F(HoldStoreTest, PolicyVersionsCountUpAndNothingIsOverwritten) {
  EXPECT_FALSE(unwrap(tenant_->currentPolicy()).has_value());
  EXPECT_EQ(unwrap(tenant_->savePolicy(R"({"a":1})", "alice")), 1);
  clock_.advance(milliseconds(5'000));
  EXPECT_EQ(unwrap(tenant_->savePolicy(R"({"a":2})", "bob")), 2);
  reopen();

  auto current = unwrap(tenant_->currentPolicy());
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(current->version, 2);
  EXPECT_EQ(current->document, R"({"a":2})");
  EXPECT_EQ(current->author, "bob");
  auto first = unwrap(tenant_->policyVersion(1));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->document, R"({"a":1})");
  EXPECT_EQ(first->created_at_ms + 5'000, current->created_at_ms);
  EXPECT_FALSE(unwrap(tenant_->policyVersion(3)).has_value());

  auto versions = unwrap(tenant_->policyVersions());
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].version, 2);  // newest first
  EXPECT_EQ(versions[1].version, 1);
  EXPECT_EQ(versions[1].author, "alice");
}

TEST_F(HoldStoreTest, RunRemembersItsPolicyVersion) {
  createRun("r1", 3);
  reopen();
  EXPECT_EQ(unwrap(tenant_->run("r1"))->policy_version, 3);
}

TEST_F(HoldStoreTest, HeldRunKeepsReasonCountsAndPlanAcrossReopen) {
  createRun("r1");
  ASSERT_TRUE(tenant_->holdRun("r1", plan(60), "disable: 60 > 50 (max_count)").isOk());
  reopen();

  auto run = unwrap(tenant_->run("r1"));
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->status, RunStatus::kHeld);
  EXPECT_EQ(run->hold_reason, "disable: 60 > 50 (max_count)");
  EXPECT_EQ(run->hold_population, 100);
  EXPECT_EQ(run->hold_counts.at("disable"), 60);
  EXPECT_EQ(run->hold_counts.at("create"), 2);
  auto held = unwrap(tenant_->heldPlan("r1"));
  ASSERT_TRUE(held.has_value());
  ASSERT_EQ(held->outcomes.size(), 1u);
  EXPECT_EQ(held->outcomes[0].operations.at(0).reason, "HR status terminated");

  auto listed = unwrap(tenant_->runsWithStatus(RunStatus::kHeld));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].run_id, "r1");
  EXPECT_TRUE(unwrap(tenant_->runsWithStatus(RunStatus::kQueued)).empty());
  EXPECT_TRUE(unwrap(tenant_->unfinishedRuns()).empty()) << "a held run is not re-queued";
}

TEST_F(HoldStoreTest, OnlyQueuedOrRunningRunsCanBeHeld) {
  createRun("r1");
  ASSERT_TRUE(tenant_->holdRun("r1", plan(60), "x").isOk());
  EXPECT_EQ(tenant_->holdRun("r1", plan(60), "x").errorClass(), ErrorClass::kConflict);
  EXPECT_EQ(tenant_->holdRun("r404", plan(60), "x").errorClass(), ErrorClass::kNotFound);
}

TEST_F(HoldStoreTest, ApprovalRequeuesTheRunAndRecordsWhoAndWhen) {
  createRun("r1");
  EXPECT_EQ(tenant_->approveRun("r1", "ops").errorClass(), ErrorClass::kConflict)
      << "a run that is not held cannot be approved";
  ASSERT_TRUE(tenant_->holdRun("r1", plan(60), "x").isOk());
  clock_.advance(milliseconds(1'000));
  ASSERT_TRUE(tenant_->approveRun("r1", "ops-alice").isOk());
  auto run = unwrap(tenant_->run("r1"));
  EXPECT_EQ(run->status, RunStatus::kQueued);
  EXPECT_EQ(run->approved_by, "ops-alice");
  EXPECT_EQ(run->approved_at_ms, clock_.nowUnixMillis());
  EXPECT_EQ(run->hold_reason, "x") << "the hold stays on record";
  EXPECT_EQ(tenant_->approveRun("r1", "ops").errorClass(), ErrorClass::kConflict);
  EXPECT_EQ(tenant_->rejectRun("r1", "ops").errorClass(), ErrorClass::kConflict);
}

TEST_F(HoldStoreTest, RejectionFinishesTheRun) {
  createRun("r1");
  ASSERT_TRUE(tenant_->holdRun("r1", plan(60), "x").isOk());
  ASSERT_TRUE(tenant_->rejectRun("r1", "ops-bob").isOk());
  auto run = unwrap(tenant_->run("r1"));
  EXPECT_EQ(run->status, RunStatus::kRejected);
  EXPECT_EQ(run->rejected_by, "ops-bob");
  EXPECT_EQ(run->rejected_at_ms, clock_.nowUnixMillis());
  EXPECT_EQ(run->finished_at_ms, clock_.nowUnixMillis());
  EXPECT_EQ(tenant_->approveRun("r1", "ops").errorClass(), ErrorClass::kConflict);
}

TEST_F(HoldStoreTest, OutcomesKeepStateAndOperations) {
  createRun("r1");
  protocol::JobResult result;
  result.status = "succeeded";
  protocol::IdentityOutcome o;
  o.employee_id = "E1";
  o.action = "moved";
  o.state = "active";
  o.operations.push_back(protocol::PlannedOperation{
      "move", "CN=Ann Lee,OU=Sales,DC=x", "OU=Marketing,DC=x",
      "HR changed department (Sales -> Marketing)", {}});
  o.operations.push_back(
      protocol::PlannedOperation{"modify", "CN=Ann Lee,OU=Marketing,DC=x", "", "rule", {"title"}});
  result.outcomes.push_back(o);
  ASSERT_TRUE(tenant_->recordResult("r1", result).isOk());
  reopen();
  auto report = unwrap(tenant_->report("r1"));
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->outcomes.size(), 1u);
  EXPECT_EQ(report->outcomes[0].state, "active");
  EXPECT_EQ(report->outcomes[0].operations, o.operations);
}

TEST_F(HoldStoreTest, TombstonesBlockNamesForTheReusePeriodOnly) {
  const int64_t now = clock_.nowUnixMillis();
  ASSERT_TRUE(tenant_
                  ->addTombstones({{"JSmith", "sam", "E1", now - 100 * kDayMs},
                                   {"jsmith@example.com", "upn", "E1", now - 100 * kDayMs},
                                   {"amiller", "sam", "E2", now - 10 * kDayMs}})
                  .isOk());
  reopen();
  // Never reused (the default): every tombstone blocks, names lower-cased and sorted.
  EXPECT_EQ(unwrap(tenant_->reservedNames(now, std::nullopt)),
            (std::vector<std::string>{"amiller", "jsmith", "jsmith@example.com"}));
  // Reusable after 30 days: only the recent one still blocks.
  EXPECT_EQ(unwrap(tenant_->reservedNames(now, 30)), (std::vector<std::string>{"amiller"}));
  auto active = unwrap(tenant_->activeTombstones(now, 30));
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].employee_id, "E2");
  EXPECT_EQ(active[0].kind, "sam");
}

TEST_F(HoldStoreTest, ReReleasedNameCountsFromItsLatestRelease) {
  const int64_t now = clock_.nowUnixMillis();
  ASSERT_TRUE(tenant_->addTombstones({{"jsmith", "sam", "E1", now - 100 * kDayMs}}).isOk());
  ASSERT_TRUE(tenant_->addTombstones({{"JSMITH", "sam", "E7", now - 5 * kDayMs}}).isOk());
  ASSERT_TRUE(tenant_->addTombstones({{"jsmith", "sam", "E1", now - 200 * kDayMs}}).isOk());
  auto active = unwrap(tenant_->activeTombstones(now, 30));
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].employee_id, "E7");
  EXPECT_EQ(active[0].released_at_ms, now - 5 * kDayMs);
}

TEST_F(HoldStoreTest, TombstoneWithUnknownKindIsRefusedAndNothingIsWritten) {
  Status st = tenant_->addTombstones({{"ok", "sam", "E1", 1}, {"bad", "phone", "E1", 1}});
  EXPECT_EQ(st.errorClass(), ErrorClass::kData);
  EXPECT_TRUE(unwrap(tenant_->reservedNames(clock_.nowUnixMillis(), std::nullopt)).empty());
}

// ---------------------------------------------------------------------------------------------
// Control store

TEST_F(HoldStoreTest, HeldJobIsNeverLeasedUntilApproved) {
  auto t = unwrap(control_->createTenant("A"));
  auto agent = unwrap(control_->enrollAgent(t.tenant.tenant_id, "h", "1"));
  JobRecord j;
  j.job_id = "r1";
  j.tenant_id = t.tenant.tenant_id;
  j.run_id = "r1";
  ASSERT_TRUE(control_->enqueueJob(j).isOk());
  auto leased = unwrap(control_->leaseNextJob(j.tenant_id, agent.agent.agent_id, 1'000));
  ASSERT_TRUE(leased.has_value());
  EXPECT_FALSE(leased->approved);

  ASSERT_TRUE(control_->holdJob("r1").isOk());
  EXPECT_EQ(unwrap(control_->job("r1"))->state, JobState::kHeld);
  clock_.advance(hours(24));  // long past the old lease: a held job still is not handed out
  EXPECT_FALSE(unwrap(control_->leaseNextJob(j.tenant_id, agent.agent.agent_id, 1'000)));
  ASSERT_EQ(unwrap(control_->jobsInState(JobState::kHeld)).size(), 1u);
  reopen();
  EXPECT_FALSE(unwrap(control_->leaseNextJob(j.tenant_id, agent.agent.agent_id, 1'000)));

  ASSERT_TRUE(control_->requeueApproved("r1").isOk());
  auto again = unwrap(control_->leaseNextJob(j.tenant_id, agent.agent.agent_id, 1'000));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->approved);
  EXPECT_EQ(again->attempts, 1) << "an approved job starts a fresh retry budget";
}

TEST_F(HoldStoreTest, OnlyActiveJobsCanBeHeldAndOnlyHeldJobsApproved) {
  auto t = unwrap(control_->createTenant("A"));
  JobRecord j;
  j.job_id = "r1";
  j.tenant_id = t.tenant.tenant_id;
  j.run_id = "r1";
  ASSERT_TRUE(control_->enqueueJob(j).isOk());
  EXPECT_EQ(control_->requeueApproved("r1").errorClass(), ErrorClass::kConflict);
  ASSERT_TRUE(control_->holdJob("r1").isOk());
  EXPECT_EQ(control_->holdJob("r1").errorClass(), ErrorClass::kConflict);
  ASSERT_TRUE(unwrap(control_->completeJob("r1")));
  EXPECT_EQ(control_->holdJob("r1").errorClass(), ErrorClass::kConflict);
  EXPECT_EQ(control_->requeueApproved("r1").errorClass(), ErrorClass::kConflict);
  EXPECT_EQ(control_->holdJob("r404").errorClass(), ErrorClass::kNotFound);
}

TEST_F(HoldStoreTest, AdminTokenIsShownOnceAndStoredOnlyAsAHash) {
  auto created = unwrap(control_->createAdminToken("ops-alice"));
  EXPECT_FALSE(created.token.empty());
  reopen();
  auto found = unwrap(control_->adminByToken(created.token));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->name, "ops-alice");
  EXPECT_FALSE(unwrap(control_->adminByToken(created.token + "x")).has_value());
  EXPECT_FALSE(unwrap(control_->adminByToken("")).has_value());

  control_.reset();
  auto db = unwrap(sqlite::Database::open(control_path_));
  auto st = unwrap(db.prepare("SELECT COUNT(*) FROM admin_tokens WHERE token_sha256 = ?"));
  st.bindText(1, created.token);
  ASSERT_TRUE(unwrap(st.step()));
  EXPECT_EQ(st.columnInt64(0), 0) << "the plaintext token is not stored";
}

TEST_F(HoldStoreTest, AdminTokenRotationAndRevocationTakeEffectAtOnce) {
  auto alice = unwrap(control_->createAdminToken("ops-alice"));
  auto bob = unwrap(control_->createAdminToken("ops-bob"));
  auto rotated = unwrap(control_->rotateAdminToken("ops-alice"));
  EXPECT_NE(rotated.token, alice.token);
  EXPECT_EQ(rotated.admin.created_at_ms, alice.admin.created_at_ms);
  reopen();
  EXPECT_FALSE(unwrap(control_->adminByToken(alice.token)).has_value());
  ASSERT_TRUE(unwrap(control_->adminByToken(rotated.token)).has_value());
  EXPECT_EQ(unwrap(control_->adminByToken(rotated.token))->name, "ops-alice");

  ASSERT_TRUE(control_->revokeAdminToken("ops-bob").isOk());
  EXPECT_FALSE(unwrap(control_->adminByToken(bob.token)).has_value());
  EXPECT_EQ(control_->revokeAdminToken("ops-bob").errorClass(), ErrorClass::kNotFound);
  EXPECT_EQ(control_->rotateAdminToken("ops-bob").status().errorClass(), ErrorClass::kNotFound);
  auto listed = unwrap(control_->listAdminTokens());
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].name, "ops-alice");
  // The name is free again.
  EXPECT_TRUE(control_->createAdminToken("ops-bob").isOk());
}

TEST_F(HoldStoreTest, AdminTokenIsNotATenantTokenAndViceVersa) {
  auto admin = unwrap(control_->createAdminToken("ops"));
  auto t = unwrap(control_->createTenant("A"));
  EXPECT_FALSE(unwrap(control_->tenantByApiToken(admin.token)).has_value());
  EXPECT_FALSE(unwrap(control_->adminByToken(t.api_token)).has_value());
}

TEST_F(HoldStoreTest, AdminTokenNamesAreUnique) {
  ASSERT_TRUE(control_->createAdminToken("ops").isOk());
  EXPECT_EQ(control_->createAdminToken("ops").status().errorClass(), ErrorClass::kConflict);
  EXPECT_EQ(control_->createAdminToken("").status().errorClass(), ErrorClass::kData);
}

}  // namespace
}  // namespace tenure::cp
