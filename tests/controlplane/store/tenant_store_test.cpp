#include "controlplane/store/tenant_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace tenure::cp {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

template <typename T>
T unwrap(Result<T> r) {
  EXPECT_TRUE(r.isOk()) << r.status().toString();
  return std::move(r).value();
}

hr::HrRecord person(const std::string& id, const std::string& dept = "Sales") {
  hr::HrRecord r;
  r.employee_id = id;
  r.given_name = "Given" + id;
  r.family_name = "Family";
  r.department = dept;
  r.employment_type = "employee";
  r.status = "active";
  r.custom["cost_center"] = "CC-" + id;
  return r;
}

protocol::IdentityOutcome ok(const std::string& id, const std::string& action) {
  protocol::IdentityOutcome o;
  o.employee_id = id;
  o.action = action;
  o.dn = "CN=" + id + ",OU=Staff,DC=example,DC=test";
  o.sam_account_name = "u" + id;
  o.changes = {"department", "title"};
  return o;
}

protocol::IdentityOutcome failure(const std::string& id) {
  protocol::IdentityOutcome o;
  o.employee_id = id;
  o.action = "failed";
  o.error_class = "permission";
  o.error_message = "00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS)";
  o.directory_code = 50;
  return o;
}

class TenantStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tenure-tstore-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/t_0123456789abcdef.db";
    store_ = unwrap(TenantStore::open(path_, clock_));
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  RunRecord newRun(const std::string& id) {
    RunRecord r;
    r.run_id = id;
    r.source = "csv";
    r.accepted = 3;
    r.rejected = {RejectedRow{4, "E9", "start_date", "not a date: 2024-13-01"}};
    return r;
  }

  std::string dir_;
  std::string path_;
  ManualClock clock_;
  std::unique_ptr<TenantStore> store_;
};

TEST_F(TenantStoreTest, CreatedRunKeepsEverythingAcrossReopen) {
  std::vector<hr::HrRecord> people = {person("E3"), person("E1"), person("E2")};
  ASSERT_TRUE(store_->createRun(newRun("r1"), people).isOk());
  store_ = unwrap(TenantStore::open(path_, clock_));

  auto run = unwrap(store_->run("r1"));
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->status, RunStatus::kQueued);
  EXPECT_EQ(run->source, "csv");
  EXPECT_EQ(run->kind, "apply");
  EXPECT_EQ(run->accepted, 3);
  EXPECT_EQ(run->created_at_ms, clock_.nowUnixMillis());
  ASSERT_EQ(run->rejected.size(), 1u);
  EXPECT_EQ(run->rejected[0].row, 4);
  EXPECT_EQ(run->rejected[0].employee_id, "E9");
  EXPECT_EQ(run->rejected[0].field, "start_date");
  EXPECT_EQ(run->rejected[0].reason, "not a date: 2024-13-01");

  EXPECT_EQ(unwrap(store_->runIdentities("r1")), people);  // upload order, all fields
  auto e1 = unwrap(store_->identity("E1"));
  ASSERT_TRUE(e1.has_value());
  EXPECT_EQ(*e1, people[1]);
  EXPECT_FALSE(unwrap(store_->identity("E404")).has_value());
  EXPECT_FALSE(unwrap(store_->run("r404")).has_value());
}

TEST_F(TenantStoreTest, LaterRunUpdatesIdentityButNotEarlierRunsPayload) {
  ASSERT_TRUE(store_->createRun(newRun("r1"), {person("E1", "Sales")}).isOk());
  clock_.advance(milliseconds(1000));
  ASSERT_TRUE(store_->createRun(newRun("r2"), {person("E1", "Finance")}).isOk());
  EXPECT_EQ(unwrap(store_->identity("E1"))->department, "Finance");
  EXPECT_EQ(unwrap(store_->runIdentities("r1"))[0].department, "Sales");
  auto runs = unwrap(store_->listRuns());
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].run_id, "r2");  // newest first
  EXPECT_EQ(unwrap(store_->listRuns(1)).size(), 1u);
}

TEST_F(TenantStoreTest, FailedCreateRunWritesNothing) {
  ASSERT_TRUE(store_->createRun(newRun("r1"), {person("E1")}).isOk());
  // Same run id again: the run insert fails, so the identity upsert must be rolled back too.
  Status st = store_->createRun(newRun("r1"), {person("E1", "Changed"), person("E2")});
  EXPECT_EQ(st.errorClass(), ErrorClass::kConflict);
  EXPECT_EQ(unwrap(store_->identity("E1"))->department, "Sales");
  EXPECT_FALSE(unwrap(store_->identity("E2")).has_value());
  EXPECT_EQ(unwrap(store_->runIdentities("r1")).size(), 1u);

  // A record without an anchor fails the whole run, even after valid records were written.
  hr::HrRecord anonymous = person("");
  st = store_->createRun(newRun("r2"), {person("E3"), anonymous});
  EXPECT_EQ(st.errorClass(), ErrorClass::kData);
  EXPECT_FALSE(unwrap(store_->run("r2")).has_value());
  EXPECT_FALSE(unwrap(store_->identity("E3")).has_value());
}

TEST_F(TenantStoreTest, MarkRunningOnlyMovesQueuedRuns) {
  ASSERT_TRUE(store_->createRun(newRun("r1"), {person("E1")}).isOk());
  clock_.advance(milliseconds(500));
  ASSERT_TRUE(store_->markRunning("r1", "a_1").isOk());
  auto run = unwrap(store_->run("r1"));
  EXPECT_EQ(run->status, RunStatus::kRunning);
  EXPECT_EQ(run->agent_id, "a_1");
  EXPECT_EQ(run->started_at_ms, clock_.nowUnixMillis());
  EXPECT_EQ(unwrap(store_->unfinishedRuns()).size(), 1u);

  protocol::JobResult result;
  result.outcomes = {ok("E1", "created")};
  ASSERT_TRUE(store_->recordResult("r1", result).isOk());
  ASSERT_TRUE(store_->markRunning("r1", "a_2").isOk());  // no-op
  run = unwrap(store_->run("r1"));
  EXPECT_EQ(run->status, RunStatus::kSucceeded);
  EXPECT_EQ(run->agent_id, "a_1");
  EXPECT_TRUE(unwrap(store_->unfinishedRuns()).empty());
  EXPECT_EQ(store_->markRunning("r404", "a_1").errorClass(), ErrorClass::kNotFound);
}

TEST_F(TenantStoreTest, ResultNamesTheAgentThatFinishedTheRunNotTheOneThatStartedIt) {
  ASSERT_TRUE(store_->createRun(newRun("r1"), {person("E1")}).isOk());
  ASSERT_TRUE(store_->markRunning("r1", "a_1").isOk());
  const int64_t started = unwrap(store_->run("r1"))->started_at_ms;
  clock_.advance(milliseconds(500));
  // a_1's lease expired; a_2 leased the job again.
  ASSERT_TRUE(store_->markRunning("r1", "a_2").isOk());
  auto run = unwrap(store_->run("r1"));
  EXPECT_EQ(run->agent_id, "a_2");
  EXPECT_EQ(run->started_at_ms, started) << "the run started when a_1 took it";
  // a_3 sends the result (a third failover between the lease and the result).
  protocol::JobResult result;
  result.outcomes = {ok("E1", "created")};
  ASSERT_TRUE(store_->recordResult("r1", result, "a_3").isOk());
  EXPECT_EQ(unwrap(store_->report("r1"))->run.agent_id, "a_3");
  // A result recorded without naming an agent keeps the one on record.
  ASSERT_TRUE(store_->recordResult("r1", result).isOk());
  EXPECT_EQ(unwrap(store_->run("r1"))->agent_id, "a_3");
}

TEST_F(TenantStoreTest, ReportCountsActionsAndListsOutcomesInRunOrder) {
  ASSERT_TRUE(
      store_->createRun(newRun("r1"), {person("E1"), person("E2"), person("E3"), person("E4")})
          .isOk());
  ASSERT_TRUE(store_->markRunning("r1", "a_1").isOk());
  clock_.advance(milliseconds(2000));
  protocol::JobResult result;
  result.domain_controller = "dc1.example.test";
  // Reported out of order, plus someone the run did not carry.
  result.outcomes = {ok("E3", "updated"), ok("X9", "skipped"), failure("E2"), ok("E1", "created"),
                     ok("E4", "created")};
  ASSERT_TRUE(store_->recordResult("r1", result).isOk());

  auto rep = unwrap(store_->report("r1"));
  ASSERT_TRUE(rep.has_value());
  EXPECT_EQ(rep->run.status, RunStatus::kPartial);
  EXPECT_EQ(rep->run.finished_at_ms, clock_.nowUnixMillis());
  EXPECT_EQ(rep->run.domain_controller, "dc1.example.test");
  EXPECT_EQ(
      rep->counts_by_action,
      (std::map<std::string, int>{{"created", 2}, {"updated", 1}, {"failed", 1}, {"skipped", 1}}));
  std::vector<std::string> order;
  for (const auto& o : rep->outcomes) order.push_back(o.employee_id);
  EXPECT_EQ(order, (std::vector<std::string>{"E1", "E2", "E3", "E4", "X9"}));

  const auto& e1 = rep->outcomes[0];
  EXPECT_EQ(e1.dn, "CN=E1,OU=Staff,DC=example,DC=test");
  EXPECT_EQ(e1.sam_account_name, "uE1");
  EXPECT_EQ(e1.changes, (std::vector<std::string>{"department", "title"}));
  EXPECT_FALSE(e1.failed());
  const auto& e2 = rep->outcomes[1];
  EXPECT_EQ(e2.error_class, "permission");
  EXPECT_EQ(e2.directory_code, 50);
  EXPECT_NE(e2.error_message.find("INSUFF_ACCESS_RIGHTS"), std::string::npos);
  EXPECT_TRUE(e2.changes.empty());

  EXPECT_FALSE(unwrap(store_->report("r404")).has_value());

  // The failures-only summary: the same counts, only the failed people.
  auto summary = unwrap(store_->report("r1", /*failures_only=*/true));
  ASSERT_TRUE(summary.has_value());
  EXPECT_EQ(summary->counts_by_action, rep->counts_by_action);
  ASSERT_EQ(summary->outcomes.size(), 1u);
  EXPECT_EQ(summary->outcomes[0].employee_id, "E2");
  EXPECT_EQ(summary->outcomes[0].directory_code, 50);
}

TEST_F(TenantStoreTest, RunsCreatedBetweenIsHalfOpenAndOldestFirst) {
  for (const auto& [id, at] : std::vector<std::pair<std::string, int64_t>>{
           {"r_b", 2'000}, {"r_a", 1'000}, {"r_c", 3'000}, {"r_d", 999}}) {
    RunRecord r = newRun(id);
    r.created_at_ms = at;
    ASSERT_TRUE(store_->createRun(r, {}).isOk());
  }
  std::vector<std::string> ids;
  for (const auto& r : unwrap(store_->runsCreatedBetween(1'000, 3'000, 10))) ids.push_back(r.run_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"r_a", "r_b"}));
  EXPECT_EQ(unwrap(store_->runsCreatedBetween(0, 10'000, 2)).size(), 2u);
}

TEST_F(TenantStoreTest, RecordingTheSameResultTwiceChangesNothing) {
  ASSERT_TRUE(store_->createRun(newRun("r1"), {person("E1"), person("E2")}).isOk());
  protocol::JobResult result;
  result.outcomes = {ok("E1", "created"), ok("E2", "created")};
  ASSERT_TRUE(store_->recordResult("r1", result).isOk());
  const int64_t finished = clock_.nowUnixMillis();
  clock_.advance(milliseconds(60'000));
  ASSERT_TRUE(store_->recordResult("r1", result).isOk());
  auto rep = unwrap(store_->report("r1"));
  EXPECT_EQ(rep->outcomes.size(), 2u);
  EXPECT_EQ(rep->counts_by_action.at("created"), 2);
  EXPECT_EQ(rep->run.status, RunStatus::kSucceeded);
  EXPECT_EQ(rep->run.finished_at_ms, finished);
}

TEST_F(TenantStoreTest, StatusIsDerivedFromOutcomes) {
  struct Case {
    std::string name;
    std::vector<protocol::IdentityOutcome> outcomes;
    std::string job_error;
    RunStatus want;
  };
  const std::vector<Case> cases = {
      {"all ok", {ok("E1", "created"), ok("E2", "unchanged")}, "", RunStatus::kSucceeded},
      {"nothing to do", {}, "", RunStatus::kSucceeded},
      {"some failed", {ok("E1", "created"), failure("E2")}, "", RunStatus::kPartial},
      {"all failed", {failure("E1"), failure("E2")}, "", RunStatus::kFailed},
      {"job error", {}, "transient", RunStatus::kFailed},
      {"job error despite ok outcomes", {ok("E1", "created")}, "config", RunStatus::kFailed},
  };
  int n = 0;
  for (const auto& c : cases) {
    const std::string run_id = "r" + std::to_string(n++);
    ASSERT_TRUE(store_->createRun(newRun(run_id), {person("E1"), person("E2")}).isOk());
    protocol::JobResult result;
    result.outcomes = c.outcomes;
    result.error_class = c.job_error;
    result.error_message = c.job_error.empty() ? "" : "cannot bind";
    ASSERT_TRUE(store_->recordResult(run_id, result).isOk()) << c.name;
    auto run = unwrap(store_->run(run_id));
    EXPECT_EQ(runStatusName(run->status), runStatusName(c.want)) << c.name;
    EXPECT_EQ(run->error_class, c.job_error) << c.name;
  }
}

TEST_F(TenantStoreTest, LaterResultReplacesEarlierOutcomes) {
  ASSERT_TRUE(store_->createRun(newRun("r1"), {person("E1"), person("E2")}).isOk());
  protocol::JobResult first;
  first.outcomes = {ok("E1", "created"), failure("E2")};
  ASSERT_TRUE(store_->recordResult("r1", first).isOk());
  EXPECT_EQ(unwrap(store_->run("r1"))->status, RunStatus::kPartial);
  protocol::JobResult retry;
  retry.outcomes = {ok("E1", "unchanged"), ok("E2", "created")};
  ASSERT_TRUE(store_->recordResult("r1", retry).isOk());
  auto rep = unwrap(store_->report("r1"));
  EXPECT_EQ(rep->run.status, RunStatus::kSucceeded);
  EXPECT_EQ(rep->counts_by_action, (std::map<std::string, int>{{"unchanged", 1}, {"created", 1}}));
  EXPECT_EQ(store_->recordResult("r404", retry).errorClass(), ErrorClass::kNotFound);
}

class TenantStoresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tenure-tstores-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
  ManualClock clock_;
};

TEST_F(TenantStoresTest, EachTenantGetsItsOwnFile) {
  TenantStores stores(dir_ + "/tenants", clock_);
  auto a = unwrap(stores.forTenant("t_aaaaaaaaaaaaaaaa"));
  auto b = unwrap(stores.forTenant("t_bbbbbbbbbbbbbbbb"));
  EXPECT_NE(a.get(), b.get());
  EXPECT_EQ(unwrap(stores.forTenant("t_aaaaaaaaaaaaaaaa")).get(), a.get());  // cached
  RunRecord run;
  run.run_id = "r1";
  ASSERT_TRUE(a->createRun(run, {person("E1")}).isOk());
  EXPECT_FALSE(unwrap(b->run("r1")).has_value());
  EXPECT_FALSE(unwrap(b->identity("E1")).has_value());
  EXPECT_TRUE(fs::exists(dir_ + "/tenants/t_aaaaaaaaaaaaaaaa.db"));
  EXPECT_TRUE(fs::exists(dir_ + "/tenants/t_bbbbbbbbbbbbbbbb.db"));
}

TEST_F(TenantStoresTest, TenantIdThatCouldEscapeTheDirectoryIsRefused) {
  TenantStores stores(dir_ + "/tenants", clock_);
  for (const std::string& bad :
       std::vector<std::string>{"../x", "..", "a/b", "/etc/passwd", "", "t_a.db", "t_\x01",
                                std::string("t_a\0b", 5), std::string(65, 'a')}) {
    auto r = stores.forTenant(bad);
    EXPECT_FALSE(r.isOk()) << bad;
    EXPECT_EQ(r.status().errorClass(), ErrorClass::kData) << bad;
  }
  EXPECT_FALSE(fs::exists(dir_ + "/x.db"));
  // Nothing was created for any refused id.
  EXPECT_FALSE(fs::exists(dir_ + "/tenants"));
}

}  // namespace
}  // namespace tenure::cp
