// JobExecutor's job kinds: reconcile (everyone, plus orphaned accounts), preview (a dry-run
// reconcile), expiry_sweep (like apply) and refusal of kinds it does not know. Against the
// in-memory FakeDirectoryClient.
#include <gtest/gtest.h>

#include "agent/executor/job_executor.h"
#include "tests/mocks/fake_directory_client.h"

namespace tenure::agent {
namespace {

constexpr const char* kStaff = "OU=Staff,DC=example,DC=test";

hr::HrRecord person(std::string id, std::string given, std::string family) {
  hr::HrRecord r;
  r.employee_id = std::move(id);
  r.given_name = std::move(given);
  r.family_name = std::move(family);
  r.employment_type = "employee";
  r.status = "active";
  return r;
}

protocol::Job jobOf(std::string kind, std::vector<hr::HrRecord> people, bool dry_run = false) {
  protocol::Job job;
  job.job_id = "job-" + kind;
  job.kind = std::move(kind);
  job.dry_run = dry_run;
  job.identities = std::move(people);
  return job;
}

class JobKindsTest : public ::testing::Test {
 protected:
  JobKindsTest() {
    dir_.addOu("DC=example,DC=test");
    dir_.addOu(kStaff);
  }
  protocol::JobResult run(const protocol::Job& job) {
    JobExecutor executor(dir_, ExecutorSettings{kStaff, "", "", "test"}, clock_, nullptr,
                         [] { return std::string("Fixed-Password-For-Tests-1"); });
    return executor.execute(job);
  }
  std::map<std::string, protocol::IdentityOutcome> byId(const protocol::JobResult& r) {
    std::map<std::string, protocol::IdentityOutcome> out;
    for (const auto& o : r.outcomes) out[o.employee_id] = o;
    return out;
  }
  size_t users() { return dir_.entriesOfClass("user").size(); }

  testing::FakeDirectoryClient dir_;
  ManualClock clock_{1'750'000'000'000};
};

TEST_F(JobKindsTest, ReconcileReportsOrphanedAccountsAndChangesNothingAboutThem) {
  ASSERT_EQ(run(jobOf("apply", {person("E1", "Ann", "Lee"), person("X9", "Old", "Timer")})).status,
            "succeeded");
  ASSERT_EQ(users(), 2u);
  const auto before = dir_.entriesOfClass("user");

  // HR no longer knows X9 (say, deleted from the HR system without a termination).
  auto result = run(jobOf("reconcile", {person("E1", "Ann", "Lee")}));
  EXPECT_EQ(result.status, "succeeded");
  auto out = byId(result);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out["E1"].action, "unchanged");
  EXPECT_EQ(out["X9"].action, "orphan");
  EXPECT_EQ(out["X9"].sam_account_name, "otimer");
  EXPECT_EQ(out["X9"].dn, "CN=Old Timer,OU=Staff,DC=example,DC=test");
  EXPECT_TRUE(out["X9"].operations.empty());
  EXPECT_FALSE(out["X9"].failed());
  EXPECT_EQ(dir_.entriesOfClass("user").size(), before.size());
  EXPECT_EQ(dir_.find("CN=Old Timer,OU=Staff,DC=example,DC=test")->first("userAccountControl"),
            "512")
      << "an orphan is reported, not disabled";
}

TEST_F(JobKindsTest, ApplyAndExpirySweepDoNotReportOrphans) {
  ASSERT_EQ(run(jobOf("apply", {person("E1", "Ann", "Lee"), person("X9", "Old", "Timer")})).status,
            "succeeded");
  for (const char* kind : {"apply", "expiry_sweep"}) {
    auto result = run(jobOf(kind, {person("E1", "Ann", "Lee")}));
    EXPECT_EQ(result.status, "succeeded") << kind;
    ASSERT_EQ(result.outcomes.size(), 1u) << kind << ": only the people the job carries";
    EXPECT_EQ(result.outcomes[0].employee_id, "E1");
  }
}

TEST_F(JobKindsTest, ExpirySweepAppliesItsPeople) {
  auto result = run(jobOf("expiry_sweep", {person("E2", "Bo", "Berg")}));
  EXPECT_EQ(result.status, "succeeded");
  ASSERT_EQ(result.outcomes.size(), 1u);
  EXPECT_EQ(result.outcomes[0].action, "created");
  EXPECT_EQ(users(), 1u);
}

TEST_F(JobKindsTest, PreviewPlansEveryoneWritesNothingAndListsOrphans) {
  ASSERT_EQ(run(jobOf("apply", {person("X9", "Old", "Timer")})).status, "succeeded");
  auto result = run(jobOf("preview", {person("E2", "Bo", "Berg")}, /*dry_run=*/true));
  EXPECT_EQ(result.status, "succeeded");
  auto out = byId(result);
  EXPECT_EQ(out["E2"].action, "created");
  EXPECT_FALSE(out["E2"].operations.empty()) << "what would be done";
  EXPECT_EQ(out["X9"].action, "orphan");
  EXPECT_EQ(users(), 1u) << "a preview writes nothing";
}

TEST_F(JobKindsTest, ReconcileOfAnEmptyTenantReportsEveryManagedAccountAsOrphan) {
  ASSERT_EQ(run(jobOf("apply", {person("E1", "Ann", "Lee")})).status, "succeeded");
  auto result = run(jobOf("reconcile", {}));
  EXPECT_EQ(result.status, "succeeded");
  ASSERT_EQ(result.outcomes.size(), 1u);
  EXPECT_EQ(result.outcomes[0].action, "orphan");
}

TEST_F(JobKindsTest, UnknownKindFailsWithAConfigErrorAndWritesNothing) {
  auto result = run(jobOf("teleport", {person("E1", "Ann", "Lee")}));
  EXPECT_EQ(result.status, "failed");
  EXPECT_EQ(result.error_class, "config");
  EXPECT_NE(result.error_message.find("teleport"), std::string::npos);
  EXPECT_EQ(users(), 0u);
}

}  // namespace
}  // namespace tenure::agent
