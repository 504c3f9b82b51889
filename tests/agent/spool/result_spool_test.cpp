#include "agent/spool/result_spool.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

namespace tenure::agent {
namespace {

namespace fs = std::filesystem;

template <typename T>
T unwrap(Result<T> r) {
  EXPECT_TRUE(r.isOk()) << r.status().toString();
  return std::move(r).value();
}

protocol::Job makeJob(const std::string& id) {
  protocol::Job j;
  j.job_id = id;
  j.run_id = "r_" + id;
  j.attempt = 2;
  j.dry_run = true;
  j.lease_expires_at_ms = 1'700'000'060'000;
  hr::HrRecord p;
  p.employee_id = "E1";
  p.given_name = "Zoë";
  p.family_name = "Ng";
  p.custom["badge"] = "42";
  j.identities = {p};
  j.policy["ou"] = "OU=Staff,DC=example,DC=test";
  return j;
}

protocol::IdentityOutcome outcome(const std::string& id, const std::string& action) {
  protocol::IdentityOutcome o;
  o.employee_id = id;
  o.action = action;
  o.dn = "CN=" + id + ",DC=example,DC=test";
  o.changes = {"mail"};
  return o;
}

protocol::JobResult result(const std::string& job_id) {
  protocol::JobResult r;
  r.job_id = job_id;
  r.status = "partial";
  r.started_at_ms = 10;
  r.finished_at_ms = 20;
  r.agent_version = "0.1.0";
  r.domain_controller = "dc1";
  auto bad = outcome("E2", "failed");
  bad.error_class = "permission";
  bad.error_message = "insufficient access";
  bad.directory_code = 50;
  r.outcomes = {outcome("E1", "created"), bad};
  return r;
}

class ResultSpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tenure-spool-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/state/spool.db";
    spool_ = unwrap(ResultSpool::open(path_));
  }
  void TearDown() override {
    spool_.reset();
    fs::remove_all(dir_);
  }
  // Drops the spool without any orderly shutdown step and opens the file again.
  void reopen() {
    spool_.reset();
    spool_ = unwrap(ResultSpool::open(path_));
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<ResultSpool> spool_;
};

TEST_F(ResultSpoolTest, SpoolFileIsPrivate) {
  struct stat sb {};
  ASSERT_EQ(stat(path_.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600);
}

TEST_F(ResultSpoolTest, EverythingSurvivesReopen) {
  ASSERT_TRUE(spool_->saveJob(makeJob("j1")).isOk());
  ASSERT_TRUE(spool_->saveJob(makeJob("j2")).isOk());
  ASSERT_TRUE(spool_->saveOutcome("j1", outcome("E1", "created")).isOk());
  ASSERT_TRUE(spool_->saveResult(result("j2")).isOk());
  reopen();

  auto jobs = unwrap(spool_->unfinishedJobs());
  ASSERT_EQ(jobs.size(), 1u);  // j2 has its final result
  const auto want = makeJob("j1");
  EXPECT_EQ(jobs[0].job_id, "j1");
  EXPECT_EQ(jobs[0].run_id, want.run_id);
  EXPECT_EQ(jobs[0].attempt, 2);
  EXPECT_TRUE(jobs[0].dry_run);
  EXPECT_EQ(jobs[0].lease_expires_at_ms, want.lease_expires_at_ms);
  EXPECT_EQ(jobs[0].identities, want.identities);
  EXPECT_EQ(jobs[0].policy, want.policy);

  auto outs = unwrap(spool_->outcomes("j1"));
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_EQ(outs.at("E1").action, "created");
  EXPECT_EQ(outs.at("E1").changes, std::vector<std::string>{"mail"});

  auto pending = unwrap(spool_->pendingResults());
  ASSERT_EQ(pending.size(), 1u);
  const auto& r = pending[0];
  EXPECT_EQ(r.job_id, "j2");
  EXPECT_EQ(r.status, "partial");
  EXPECT_EQ(r.started_at_ms, 10);
  EXPECT_EQ(r.finished_at_ms, 20);
  EXPECT_EQ(r.domain_controller, "dc1");
  ASSERT_EQ(r.outcomes.size(), 2u);
  EXPECT_EQ(r.outcomes[1].error_class, "permission");
  EXPECT_EQ(r.outcomes[1].directory_code, 50);
}

TEST_F(ResultSpoolTest, SavingAJobTwiceKeepsOneCopy) {
  ASSERT_TRUE(spool_->saveJob(makeJob("j1")).isOk());
  auto again = makeJob("j1");
  again.attempt = 3;
  ASSERT_TRUE(spool_->saveJob(again).isOk());
  auto jobs = unwrap(spool_->unfinishedJobs());
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].attempt, 2);
  EXPECT_EQ(spool_->saveJob(protocol::Job{}).errorClass(), ErrorClass::kData);
}

TEST_F(ResultSpoolTest, LatestOutcomePerPersonWins) {
  ASSERT_TRUE(spool_->saveJob(makeJob("j1")).isOk());
  ASSERT_TRUE(spool_->saveOutcome("j1", outcome("E1", "failed")).isOk());
  ASSERT_TRUE(spool_->saveOutcome("j1", outcome("E2", "updated")).isOk());
  ASSERT_TRUE(spool_->saveOutcome("j1", outcome("E1", "created")).isOk());
  ASSERT_TRUE(spool_->saveOutcome("j9", outcome("E1", "disabled")).isOk());
  reopen();
  auto outs = unwrap(spool_->outcomes("j1"));
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(outs.at("E1").action, "created");
  EXPECT_EQ(outs.at("E2").action, "updated");
  EXPECT_EQ(unwrap(spool_->outcomes("j9")).at("E1").action, "disabled");
  EXPECT_TRUE(unwrap(spool_->outcomes("none")).empty());
}

TEST_F(ResultSpoolTest, PendingResultsKeepTheirOrderWhenReSaved) {
  ASSERT_TRUE(spool_->saveResult(result("j1")).isOk());
  ASSERT_TRUE(spool_->saveResult(result("j2")).isOk());
  auto updated = result("j1");
  updated.status = "succeeded";
  ASSERT_TRUE(spool_->saveResult(updated).isOk());
  auto pending = unwrap(spool_->pendingResults());
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].job_id, "j1");
  EXPECT_EQ(pending[0].status, "succeeded");
  EXPECT_EQ(pending[1].job_id, "j2");
}

TEST_F(ResultSpoolTest, ResultThatCouldNotBeResentIsRefused) {
  auto bad = result("j1");
  bad.status = "";
  EXPECT_EQ(spool_->saveResult(bad).errorClass(), ErrorClass::kData);
  EXPECT_TRUE(unwrap(spool_->pendingResults()).empty());
}

TEST_F(ResultSpoolTest, AcknowledgeForgetsOnlyThatJob) {
  for (const char* id : {"j1", "j2"}) {
    ASSERT_TRUE(spool_->saveJob(makeJob(id)).isOk());
    ASSERT_TRUE(spool_->saveOutcome(id, outcome("E1", "created")).isOk());
    ASSERT_TRUE(spool_->saveResult(result(id)).isOk());
  }
  ASSERT_TRUE(spool_->acknowledge("j1").isOk());
  ASSERT_TRUE(spool_->acknowledge("j1").isOk());  // a repeated confirmation is harmless
  reopen();
  auto pending = unwrap(spool_->pendingResults());
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].job_id, "j2");
  EXPECT_TRUE(unwrap(spool_->outcomes("j1")).empty());
  EXPECT_EQ(unwrap(spool_->outcomes("j2")).size(), 1u);

  // The job row itself is gone too: the raw file holds nothing of j1.
  auto db = unwrap(sqlite::Database::open(path_));
  for (const char* table : {"jobs", "outcomes", "results"}) {
    auto st =
        unwrap(db.prepare(std::string("SELECT COUNT(*) FROM ") + table + " WHERE job_id = 'j1'"));
    ASSERT_TRUE(unwrap(st.step()));
    EXPECT_EQ(st.columnInt64(0), 0) << table;
  }
}

}  // namespace
}  // namespace tenure::agent
