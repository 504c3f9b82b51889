// The control store's scheduling side: schedule slots claimed once, retry backoff, agent health.
#include <gtest/gtest.h>

#include <filesystem>

#include "controlplane/store/control_store.h"

namespace tenure::cp {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class SchedulingStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() /
             ("tenure-schedstore-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db"))
                .string();
    fs::remove(path_);
    store_ = std::move(ControlStore::open(path_, clock_).value());
    tenant_ = store_->createTenant("A").value().tenant.tenant_id;
  }
  void TearDown() override {
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path_ + suffix);
  }
  ManualClock clock_;
  std::string path_;
  std::unique_ptr<ControlStore> store_;
  std::string tenant_;
};

TEST_F(SchedulingStoreTest, ADueSlotIsClaimedByOneOfTwoConnections) {
  Schedule s;
  s.tenant_id = tenant_;
  s.kind = "reconcile";
  s.cron = "* * * * *";
  s.next_run_at_ms = clock_.nowUnixMillis();
  auto created = store_->createSchedule(s).value();
  // A second control plane on the same file.
  auto other = std::move(ControlStore::open(path_, clock_).value());
  auto due_here = store_->dueSchedules(clock_.nowUnixMillis()).value();
  auto due_there = other->dueSchedules(clock_.nowUnixMillis()).value();
  ASSERT_EQ(due_here.size(), 1u);
  ASSERT_EQ(due_there.size(), 1u);
  const int64_t next = clock_.nowUnixMillis() + 60'000;
  EXPECT_TRUE(store_->claimScheduleSlot(created.schedule_id, created.next_run_at_ms, next).value());
  EXPECT_FALSE(other->claimScheduleSlot(created.schedule_id, created.next_run_at_ms, next).value())
      << "the slot is gone";
  EXPECT_TRUE(other->dueSchedules(clock_.nowUnixMillis()).value().empty());
  auto after = other->schedule(tenant_, created.schedule_id).value();
  EXPECT_EQ(after->next_run_at_ms, next);
  EXPECT_EQ(after->last_run_at_ms, clock_.nowUnixMillis());
  EXPECT_FALSE(other->schedule("t_other", created.schedule_id).value().has_value());
}

TEST_F(SchedulingStoreTest, BackoffDoublesPerAttemptUpToTheCap) {
  RetryBackoff b{1'000, 30'000};
  EXPECT_EQ(b.delayMs(0), 1'000);
  EXPECT_EQ(b.delayMs(1), 2'000);
  EXPECT_EQ(b.delayMs(3), 8'000);
  EXPECT_EQ(b.delayMs(4), 16'000);
  EXPECT_EQ(b.delayMs(5), 30'000);
  EXPECT_EQ(b.delayMs(60), 30'000) << "no overflow";
  EXPECT_EQ((RetryBackoff{0, 0}).delayMs(7), 0);
}

TEST_F(SchedulingStoreTest, ExpiredLeaseWaitsForItsBackoffFromTheLeaseEnd) {
  store_->setRetryBackoff(RetryBackoff{1'000, 60'000});
  auto agent = store_->enrollAgent(tenant_, "h", "v").value();
  JobRecord j;
  j.job_id = j.run_id = "j1";
  j.tenant_id = tenant_;
  ASSERT_TRUE(store_->enqueueJob(j).isOk());
  ASSERT_TRUE(store_->leaseNextJob(tenant_, agent.agent.agent_id, 10'000).value());
  // Expired at +10 s; attempts 1 -> backoff 2 s.
  clock_.advance(milliseconds(11'999));
  EXPECT_FALSE(store_->leaseNextJob(tenant_, agent.agent.agent_id, 10'000).value());
  EXPECT_EQ(store_->job("j1").value()->state, JobState::kQueued);
  EXPECT_EQ(store_->job("j1").value()->not_before_ms, clock_.nowUnixMillis() + 1);
  clock_.advance(milliseconds(1));
  auto second = store_->leaseNextJob(tenant_, agent.agent.agent_id, 10'000).value();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->attempts, 2);
  // Nobody looks for an hour: the retry time still counts from the lease's end (4 s after it).
  clock_.advance(milliseconds(3'600'000));
  EXPECT_TRUE(store_->leaseNextJob(tenant_, agent.agent.agent_id, 10'000).value());
  EXPECT_EQ(store_->job("j1").value()->attempts, 3);
}

TEST_F(SchedulingStoreTest, AgentHealthCountsResultsAndShowsTheLeasedJob) {
  auto agent = store_->enrollAgent(tenant_, "h", "v").value();
  const std::string id = agent.agent.agent_id;
  JobRecord j;
  j.job_id = j.run_id = "j1";
  j.tenant_id = tenant_;
  ASSERT_TRUE(store_->enqueueJob(j).isOk());
  ASSERT_TRUE(store_->leaseNextJob(tenant_, id, 10'000).value());
  EXPECT_EQ(store_->agentHealth(tenant_).value().at(0).current_job, "j1");
  clock_.advance(milliseconds(10'000));
  EXPECT_EQ(store_->agentHealth(tenant_).value().at(0).current_job, "") << "lease expired";
  ASSERT_TRUE(store_->recordAgentResult(id, false, "").isOk());
  ASSERT_TRUE(store_->recordAgentResult(id, true, "bind failed").isOk());
  ASSERT_TRUE(store_->recordAgentResult(id, false, "").isOk());
  auto h = store_->agentHealth("").value().at(0);
  EXPECT_EQ(h.jobs_done, 2);
  EXPECT_EQ(h.jobs_failed, 1);
  EXPECT_EQ(h.last_error, "bind failed") << "a later clean result keeps the last error";
  EXPECT_EQ(h.agent.tenant_id, tenant_);
}

}  // namespace
}  // namespace tenure::cp
