#include "controlplane/store/control_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/base/crypto.h"
#include "common/sqlite/database.h"

namespace tenure::cp {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

template <typename T>
T unwrap(Result<T> r) {
  EXPECT_TRUE(r.isOk()) << r.status().toString();
  return std::move(r).value();
}

class ControlStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tenure-cstore-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/control.db";
    store_ = unwrap(ControlStore::open(path_, clock_));
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  JobRecord makeJob(const std::string& id, const std::string& tenant, int priority = 0) {
    JobRecord j;
    j.job_id = id;
    j.tenant_id = tenant;
    j.run_id = "r_" + id;
    j.priority = priority;
    return j;
  }

  std::string dir_;
  std::string path_;
  ManualClock clock_;
  std::unique_ptr<ControlStore> store_;
};

TEST_F(ControlStoreTest, CreatedTenantIsFoundByItsSecretsOnly) {
  auto creds = unwrap(store_->createTenant("Acme"));
  EXPECT_EQ(creds.tenant.tenant_id.size(), 18u);
  EXPECT_EQ(creds.tenant.tenant_id.rfind("t_", 0), 0u);
  EXPECT_EQ(creds.tenant.created_at_ms, clock_.nowUnixMillis());
  EXPECT_NE(creds.enroll_secret, creds.api_token);

  auto by_secret = unwrap(store_->tenantByEnrollSecret(creds.enroll_secret));
  ASSERT_TRUE(by_secret.has_value());
  EXPECT_EQ(by_secret->tenant_id, creds.tenant.tenant_id);
  EXPECT_EQ(by_secret->name, "Acme");

  auto by_token = unwrap(store_->tenantByApiToken(creds.api_token));
  ASSERT_TRUE(by_token.has_value());
  EXPECT_EQ(by_token->tenant_id, creds.tenant.tenant_id);

  // The secrets are not interchangeable, and wrong ones find nothing.
  EXPECT_FALSE(unwrap(store_->tenantByEnrollSecret(creds.api_token)).has_value());
  EXPECT_FALSE(unwrap(store_->tenantByApiToken(creds.enroll_secret)).has_value());
  EXPECT_FALSE(unwrap(store_->tenantByEnrollSecret("wrong")).has_value());
  EXPECT_FALSE(unwrap(store_->tenantByEnrollSecret("")).has_value());
  EXPECT_FALSE(unwrap(store_->tenantByApiToken(creds.api_token + "x")).has_value());

  auto by_id = unwrap(store_->tenantById(creds.tenant.tenant_id));
  ASSERT_TRUE(by_id.has_value());
  EXPECT_EQ(by_id->name, "Acme");
  EXPECT_FALSE(unwrap(store_->tenantById("t_0000000000000000")).has_value());
}

TEST_F(ControlStoreTest, SecretsAreStoredOnlyAsHashes) {
  auto creds = unwrap(store_->createTenant("Acme"));
  auto agent = unwrap(store_->enrollAgent(creds.tenant.tenant_id, "dc-host", "1.0"));
  store_.reset();

  // Read the file with a separate connection, as an attacker with the file would.
  auto db = unwrap(sqlite::Database::open(path_));
  auto tenants = unwrap(db.prepare("SELECT * FROM tenants"));
  ASSERT_TRUE(unwrap(tenants.step()));
  std::vector<std::string> cells;
  for (int c = 0; c < tenants.columnCount(); ++c) cells.push_back(tenants.columnText(c));
  auto agents = unwrap(db.prepare("SELECT * FROM agents"));
  ASSERT_TRUE(unwrap(agents.step()));
  for (int c = 0; c < agents.columnCount(); ++c) cells.push_back(agents.columnText(c));

  std::set<std::string> all(cells.begin(), cells.end());
  for (const std::string& secret : {creds.enroll_secret, creds.api_token, agent.node_key}) {
    for (const auto& cell : cells) EXPECT_EQ(cell.find(secret), std::string::npos) << cell;
    EXPECT_TRUE(all.count(sha256Hex(secret))) << "hash of a secret is not stored";
  }
}

TEST_F(ControlStoreTest, TenantsSurviveReopen) {
  auto creds = unwrap(store_->createTenant("Acme"));
  store_ = unwrap(ControlStore::open(path_, clock_));
  auto tenants = unwrap(store_->listTenants());
  ASSERT_EQ(tenants.size(), 1u);
  EXPECT_EQ(tenants[0].tenant_id, creds.tenant.tenant_id);
  EXPECT_TRUE(unwrap(store_->tenantByApiToken(creds.api_token)).has_value());
}

TEST_F(ControlStoreTest, EnrolledAgentIsFoundByNodeKeyUntilRevoked) {
  auto t = unwrap(store_->createTenant("Acme"));
  auto enrolled = unwrap(store_->enrollAgent(t.tenant.tenant_id, "srv01", "0.1.0"));
  EXPECT_EQ(enrolled.agent.agent_id.rfind("a_", 0), 0u);
  EXPECT_EQ(enrolled.agent.agent_id.size(), 18u);

  auto found = unwrap(store_->agentByNodeKey(enrolled.node_key));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->agent_id, enrolled.agent.agent_id);
  EXPECT_EQ(found->tenant_id, t.tenant.tenant_id);
  EXPECT_EQ(found->host, "srv01");
  EXPECT_EQ(found->version, "0.1.0");
  EXPECT_FALSE(found->revoked);
  EXPECT_FALSE(unwrap(store_->agentByNodeKey("not-a-key")).has_value());

  clock_.advance(milliseconds(5000));
  ASSERT_TRUE(store_->touchAgent(enrolled.agent.agent_id).isOk());
  auto agents = unwrap(store_->listAgents(t.tenant.tenant_id));
  ASSERT_EQ(agents.size(), 1u);
  EXPECT_EQ(agents[0].last_seen_ms, clock_.nowUnixMillis());

  EXPECT_TRUE(unwrap(store_->revokeAgent(t.tenant.tenant_id, enrolled.agent.agent_id)));
  EXPECT_FALSE(unwrap(store_->agentByNodeKey(enrolled.node_key)).has_value());
  agents = unwrap(store_->listAgents(t.tenant.tenant_id));
  ASSERT_EQ(agents.size(), 1u);
  EXPECT_TRUE(agents[0].revoked);

  // Idempotent: a second revocation is ok and says the agent was revoked already.
  EXPECT_FALSE(unwrap(store_->revokeAgent(t.tenant.tenant_id, enrolled.agent.agent_id)));
  EXPECT_EQ(store_->revokeAgent(t.tenant.tenant_id, "a_missing").status().errorClass(),
            ErrorClass::kNotFound);
  EXPECT_EQ(store_->touchAgent("a_missing").errorClass(), ErrorClass::kNotFound);
}

TEST_F(ControlStoreTest, EnrollingIntoUnknownTenantIsNotFound) {
  auto r = store_->enrollAgent("t_doesnotexist0000", "h", "v");
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kNotFound);
}

TEST_F(ControlStoreTest, OnlyOneOfTwoAgentsGetsTheJob) {
  auto t = unwrap(store_->createTenant("Acme"));
  auto a1 = unwrap(store_->enrollAgent(t.tenant.tenant_id, "h1", "v"));
  auto a2 = unwrap(store_->enrollAgent(t.tenant.tenant_id, "h2", "v"));
  ASSERT_TRUE(store_->enqueueJob(makeJob("j1", t.tenant.tenant_id)).isOk());

  auto first = unwrap(store_->leaseNextJob(t.tenant.tenant_id, a1.agent.agent_id, 60'000));
  auto second = unwrap(store_->leaseNextJob(t.tenant.tenant_id, a2.agent.agent_id, 60'000));
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(second.has_value());
  EXPECT_EQ(first->job_id, "j1");
  EXPECT_EQ(first->state, JobState::kLeased);
  EXPECT_EQ(first->attempts, 1);
  EXPECT_EQ(first->agent_id, a1.agent.agent_id);
  EXPECT_EQ(first->lease_expires_at_ms, clock_.nowUnixMillis() + 60'000);

  auto stored = unwrap(store_->job("j1"));
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->state, JobState::kLeased);
  EXPECT_EQ(stored->agent_id, a1.agent.agent_id);
}

TEST_F(ControlStoreTest, ExpiredLeaseIsLeasedAgainWithAnotherAttempt) {
  auto t = unwrap(store_->createTenant("Acme"));
  auto a1 = unwrap(store_->enrollAgent(t.tenant.tenant_id, "h1", "v"));
  auto a2 = unwrap(store_->enrollAgent(t.tenant.tenant_id, "h2", "v"));
  ASSERT_TRUE(store_->enqueueJob(makeJob("j1", t.tenant.tenant_id)).isOk());
  ASSERT_TRUE(unwrap(store_->leaseNextJob(t.tenant.tenant_id, a1.agent.agent_id, 30'000)));

  clock_.advance(milliseconds(29'999));
  EXPECT_FALSE(unwrap(store_->leaseNextJob(t.tenant.tenant_id, a2.agent.agent_id, 30'000)));

  clock_.advance(milliseconds(1));
  auto again = unwrap(store_->leaseNextJob(t.tenant.tenant_id, a2.agent.agent_id, 30'000));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->job_id, "j1");
  EXPECT_EQ(again->attempts, 2);
  EXPECT_EQ(again->agent_id, a2.agent.agent_id);
}

TEST_F(ControlStoreTest, ExtendedLeaseIsNotTakenOver) {
  auto t = unwrap(store_->createTenant("Acme"));
  auto a1 = unwrap(store_->enrollAgent(t.tenant.tenant_id, "h1", "v"));
  auto a2 = unwrap(store_->enrollAgent(t.tenant.tenant_id, "h2", "v"));
  ASSERT_TRUE(store_->enqueueJob(makeJob("j1", t.tenant.tenant_id)).isOk());
  ASSERT_TRUE(unwrap(store_->leaseNextJob(t.tenant.tenant_id, a1.agent.agent_id, 30'000)));
  clock_.advance(milliseconds(20'000));
  ASSERT_TRUE(store_->extendLease("j1", a1.agent.agent_id, 30'000).isOk());
  EXPECT_EQ(store_->extendLease("j1", a2.agent.agent_id, 30'000).errorClass(),
            ErrorClass::kConflict);
  clock_.advance(milliseconds(20'000));  // past the original expiry, within the extension
  EXPECT_FALSE(unwrap(store_->leaseNextJob(t.tenant.tenant_id, a2.agent.agent_id, 30'000)));
}

TEST_F(ControlStoreTest, AgentNeverLeasesAnotherTenantsJob) {
  auto acme = unwrap(store_->createTenant("Acme"));
  auto globex = unwrap(store_->createTenant("Globex"));
  auto acme_agent = unwrap(store_->enrollAgent(acme.tenant.tenant_id, "h1", "v"));
  auto globex_agent = unwrap(store_->enrollAgent(globex.tenant.tenant_id, "h2", "v"));
  ASSERT_TRUE(store_->enqueueJob(makeJob("acme-job", acme.tenant.tenant_id)).isOk());

  EXPECT_FALSE(
      unwrap(store_->leaseNextJob(globex.tenant.tenant_id, globex_agent.agent.agent_id, 60'000)));
  // Even a caller that passes the wrong tenant for an agent is refused.
  auto cross = store_->leaseNextJob(acme.tenant.tenant_id, globex_agent.agent.agent_id, 60'000);
  EXPECT_EQ(cross.status().errorClass(), ErrorClass::kPermission);

  auto mine =
      unwrap(store_->leaseNextJob(acme.tenant.tenant_id, acme_agent.agent.agent_id, 60'000));
  ASSERT_TRUE(mine.has_value());
  EXPECT_EQ(mine->job_id, "acme-job");
  EXPECT_EQ(unwrap(store_->listJobs(globex.tenant.tenant_id)).size(), 0u);
}

TEST_F(ControlStoreTest, RevokedAgentCannotLease) {
  auto t = unwrap(store_->createTenant("Acme"));
  auto a = unwrap(store_->enrollAgent(t.tenant.tenant_id, "h1", "v"));
  ASSERT_TRUE(store_->enqueueJob(makeJob("j1", t.tenant.tenant_id)).isOk());
  ASSERT_TRUE(store_->revokeAgent(t.tenant.tenant_id, a.agent.agent_id).isOk());
  auto r = store_->leaseNextJob(t.tenant.tenant_id, a.agent.agent_id, 60'000);
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kPermission);
  EXPECT_EQ(unwrap(store_->job("j1"))->state, JobState::kQueued);
}

TEST_F(ControlStoreTest, JobIsQuarantinedAfterMaxAttempts) {
  auto t = unwrap(store_->createTenant("Acme"));
  auto a = unwrap(store_->enrollAgent(t.tenant.tenant_id, "h1", "v"));
  ASSERT_TRUE(store_->enqueueJob(makeJob("poison", t.tenant.tenant_id, 10)).isOk());
  ASSERT_TRUE(store_->enqueueJob(makeJob("fine", t.tenant.tenant_id, 0)).isOk());
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto j = unwrap(store_->leaseNextJob(t.tenant.tenant_id, a.agent.agent_id, 1000, 3));
    ASSERT_TRUE(j.has_value());
    EXPECT_EQ(j->job_id, "poison");
    EXPECT_EQ(j->attempts, attempt);
    clock_.advance(milliseconds(1000));
  }
  // The fourth lease quarantines the poison job and hands out the next one instead.
  auto next = unwrap(store_->leaseNextJob(t.tenant.tenant_id, a.agent.agent_id, 1000, 3));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->job_id, "fine");
  auto poison = unwrap(store_->job("poison"));
  EXPECT_EQ(poison->state, JobState::kQuarantined);
  EXPECT_EQ(poison->attempts, 3);
  EXPECT_EQ(poison->finished_at_ms, clock_.nowUnixMillis());
  clock_.advance(milliseconds(5000));
  auto after = unwrap(store_->leaseNextJob(t.tenant.tenant_id, a.agent.agent_id, 1000, 3));
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->job_id, "fine");  // fine's own lease expired; poison stays out
}

TEST_F(ControlStoreTest, HigherPriorityThenOlderJobsGoFirst) {
  auto t = unwrap(store_->createTenant("Acme"));
  auto a = unwrap(store_->enrollAgent(t.tenant.tenant_id, "h1", "v"));
  const std::string tid = t.tenant.tenant_id;
  ASSERT_TRUE(store_->enqueueJob(makeJob("low-old", tid, 0)).isOk());
  clock_.advance(milliseconds(1));
  ASSERT_TRUE(store_->enqueueJob(makeJob("high-new", tid, 5)).isOk());
  clock_.advance(milliseconds(1));
  ASSERT_TRUE(store_->enqueueJob(makeJob("low-new", tid, 0)).isOk());
  ASSERT_TRUE(store_->enqueueJob(makeJob("low-same-time", tid, 0)).isOk());
  clock_.advance(milliseconds(1));
  ASSERT_TRUE(store_->enqueueJob(makeJob("mid", tid, 1)).isOk());

  std::vector<std::string> order;
  while (auto j = unwrap(store_->leaseNextJob(tid, a.agent.agent_id, 60'000))) {
    order.push_back(j->job_id);
  }
  EXPECT_EQ(order,
            (std::vector<std::string>{"high-new", "mid", "low-old", "low-new", "low-same-time"}));
}

TEST_F(ControlStoreTest, EnqueueIsIdempotent) {
  auto t = unwrap(store_->createTenant("Acme"));
  auto a = unwrap(store_->enrollAgent(t.tenant.tenant_id, "h1", "v"));
  ASSERT_TRUE(store_->enqueueJob(makeJob("j1", t.tenant.tenant_id)).isOk());
  ASSERT_TRUE(unwrap(store_->leaseNextJob(t.tenant.tenant_id, a.agent.agent_id, 60'000)));
  // Re-enqueueing a leased job neither duplicates nor resets it.
  ASSERT_TRUE(store_->enqueueJob(makeJob("j1", t.tenant.tenant_id, 9)).isOk());
  auto jobs = unwrap(store_->listJobs(t.tenant.tenant_id));
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, JobState::kLeased);
  EXPECT_EQ(jobs[0].priority, 0);
  EXPECT_FALSE(store_->enqueueJob(makeJob("jx", "t_unknown00000000")).isOk());
  EXPECT_EQ(store_->enqueueJob(makeJob("", t.tenant.tenant_id)).errorClass(), ErrorClass::kData);
}

TEST_F(ControlStoreTest, CompletingTwiceReportsTheDuplicate) {
  auto t = unwrap(store_->createTenant("Acme"));
  auto a = unwrap(store_->enrollAgent(t.tenant.tenant_id, "h1", "v"));
  ASSERT_TRUE(store_->enqueueJob(makeJob("j1", t.tenant.tenant_id)).isOk());
  ASSERT_TRUE(unwrap(store_->leaseNextJob(t.tenant.tenant_id, a.agent.agent_id, 60'000)));
  clock_.advance(milliseconds(10));
  EXPECT_TRUE(unwrap(store_->completeJob("j1")));
  const int64_t finished = clock_.nowUnixMillis();
  clock_.advance(milliseconds(10));
  EXPECT_FALSE(unwrap(store_->completeJob("j1")));
  auto j = unwrap(store_->job("j1"));
  EXPECT_EQ(j->state, JobState::kDone);
  EXPECT_EQ(j->finished_at_ms, finished);
  // A done job is never leased again, even after its lease time passes.
  clock_.advance(milliseconds(120'000));
  EXPECT_FALSE(unwrap(store_->leaseNextJob(t.tenant.tenant_id, a.agent.agent_id, 60'000)));
  EXPECT_EQ(store_->completeJob("nope").status().errorClass(), ErrorClass::kNotFound);
}

// Four connections to the same file, as four replicas or processes would have: every job must
// be handed out exactly once.
TEST_F(ControlStoreTest, ConcurrentLeasingHandsOutEachJobExactlyOnce) {
  auto t = unwrap(store_->createTenant("Acme"));
  const std::string tid = t.tenant.tenant_id;
  constexpr int kThreads = 4;
  constexpr int kJobs = 200;
  std::vector<std::string> agents;
  for (int i = 0; i < kThreads; ++i) {
    agents.push_back(unwrap(store_->enrollAgent(tid, "h" + std::to_string(i), "v")).agent.agent_id);
  }
  for (int i = 0; i < kJobs; ++i) {
    ASSERT_TRUE(store_->enqueueJob(makeJob("j" + std::to_string(i), tid)).isOk());
  }

  std::mutex mu;
  std::map<std::string, int> times_leased;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      // Half the threads share the fixture's connection, half have their own.
      std::unique_ptr<ControlStore> own;
      ControlStore* store = store_.get();
      if (i % 2 == 1) {
        auto opened = ControlStore::open(path_, clock_);
        if (!opened.isOk()) {
          ++errors;
          return;
        }
        own = std::move(opened).value();
        store = own.get();
      }
      while (true) {
        auto r = store->leaseNextJob(tid, agents[i], 600'000);
        if (!r.isOk()) {
          ++errors;
          return;
        }
        if (!r->has_value()) return;
        std::lock_guard lock(mu);
        times_leased[(*r)->job_id] += 1;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(times_leased.size(), static_cast<size_t>(kJobs));
  for (const auto& [id, n] : times_leased) EXPECT_EQ(n, 1) << id;
}

}  // namespace
}  // namespace tenure::cp
