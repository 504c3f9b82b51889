// Issue 4, scheduling and high availability end to end: two real tenure-agent processes of one
// tenant against Samba AD, a real tenure-cp with a short lease. An agent that goes silent
// (SIGSTOP) while holding a job loses it to the other agent when the lease expires; a scheduled
// full reconciliation reports an account no HR record explains as an orphan and leaves it alone.

#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "tests/integration/stack.h"

namespace tenure::testing {
namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;

std::string str(const bj::value& v, const char* key) {
  const auto* o = v.if_object();
  if (!o || !o->contains(key) || !o->at(key).is_string()) return "";
  return std::string(o->at(key).get_string());
}

class SchedulingEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = loadSambaEnv();
    ASSERT_TRUE(env.isOk()) << env.status().toString();
    env_ = std::make_unique<SambaEnv>(*env);
    probe_ = connectProbe(*env_);
    ASSERT_NE(probe_, nullptr);
    sfx_ = uniqueSuffix();
    base_ = "OU=sched-" + sfx_ + "," + env_->base_dn;
    staff_ = "OU=Staff," + base_;
    ASSERT_TRUE(probe_->ensureOu(base_));
    ASSERT_TRUE(probe_->ensureOu(staff_));
    cp_ = std::make_unique<ControlPlaneProcess>(dir_.path() + "/cp",
                                                std::vector<std::string>{"--lease-seconds", "3"});
    cp_->useTestClock();
    ASSERT_TRUE(cp_->start()) << readFile(cp_->logPath());
    tenant_ = cp_->createTenant("Scheduling Co");
    api_ = std::make_unique<ApiClient>(cp_->url(), cp_->caFile());
    for (int i = 0; i < 2; ++i) {
      agents_.push_back(std::make_unique<AgentProcess>(
          dir_.path() + "/agent" + std::to_string(i), *env_, AgentOptions{staff_, "", 2}));
      ASSERT_TRUE(agents_[i]->enroll(cp_->url(), cp_->caFile(), tenant_.enroll_secret));
    }
  }

  void TearDown() override {
    for (auto& a : agents_) {
      if (a->running()) {
        ::kill(a->pid(), SIGCONT);
        a->stop();
      }
    }
    if (cp_) cp_->stop();
    if (probe_) probe_->deleteTree(base_);
  }

  bj::array agentsList() {
    auto r = api_->request("GET", "/api/v1/agents", "Bearer " + tenant_.api_token);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? r.json.at("agents").as_array() : bj::array{};
  }

  template <typename Pred>
  bool eventually(Pred pred, std::chrono::seconds patience) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(200ms);
    }
    return pred();
  }

  std::string id(const std::string& name) { return name + "-" + sfx_; }

  TempDir dir_;
  std::unique_ptr<SambaEnv> env_;
  std::unique_ptr<LdapProbe> probe_;
  std::string sfx_, base_, staff_;
  std::unique_ptr<ControlPlaneProcess> cp_;
  TenantInfo tenant_;
  std::unique_ptr<ApiClient> api_;
  std::vector<std::unique_ptr<AgentProcess>> agents_;
};

TEST_F(SchedulingEndToEndTest, SilentAgentsJobMovesToTheOtherAgentAndReconcileReportsOrphans) {
  // Agent 0 starts, its long-poll is held; then it freezes (still connected, never answering).
  ASSERT_TRUE(agents_[0]->start());
  ASSERT_TRUE(eventually([&] { return !agentsList().empty(); }, 30s));
  const std::string silent_id = str(agentsList().at(0), "agent_id");
  // Its poll is held by the control plane (and would be answered with the next job).
  ASSERT_TRUE(eventually([&] { return agentsList().at(0).at("held_polls").as_int64() == 1; }, 30s));
  ASSERT_EQ(::kill(agents_[0]->pid(), SIGSTOP), 0);

  auto up = api_->uploadCsv(tenant_.api_token,
                            "employee_id,given_name,family_name,status\n" + id("E1") +
                                ",Hana,Silent,active\n");
  ASSERT_EQ(up.status, 202) << up.body;
  const std::string run_id = str(up.json, "run_id");
  // The frozen agent's held poll was answered with the job: it holds the lease now.
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& a : agentsList()) {
          if (str(a, "agent_id") == silent_id && str(a, "current_job") == run_id) return true;
        }
        return false;
      },
      30s));

  // The second agent takes over once the 3 s lease (and the retry backoff) ran out.
  ASSERT_TRUE(agents_[1]->start());
  auto run = api_->waitForRun(tenant_.api_token, run_id, 120s);
  ASSERT_EQ(str(run.json, "status"), "succeeded") << run.body << readFile(cp_->logPath());
  // The run names the agent that started it; the agents' counters say who finished it.
  for (const auto& a : agentsList()) {
    const bool silent = str(a, "agent_id") == silent_id;
    EXPECT_EQ(a.at("jobs_done").as_int64(), silent ? 0 : 1) << a;
  }
  auto users = probe_->search(staff_, "(employeeID=" + id("E1") + ")", {"employeeID"});
  EXPECT_EQ(users.size(), 1u) << "created exactly once";

  // The frozen agent wakes up: its late work must not duplicate anything.
  ASSERT_EQ(::kill(agents_[0]->pid(), SIGCONT), 0);

  // An account HR does not know, with an employeeID: an orphan for a full reconciliation.
  const std::string orphan_dn = "CN=Orphan " + sfx_ + "," + staff_;
  ASSERT_TRUE(probe_->addEntry(orphan_dn, {{"objectClass", {"user"}},
                                           {"sAMAccountName", {"orph" + sfx_.substr(0, 10)}},
                                           {"employeeID", {id("ORPHAN")}}}));
  auto created = api_->request("POST", "/api/v1/schedules", "Bearer " + tenant_.api_token,
                               "application/json",
                               R"({"kind":"reconcile","cron":"* * * * *"})");
  ASSERT_EQ(created.status, 201) << created.body;
  // The next minute's slot comes at once: the control plane's test clock moves to it.
  cp_->moveClockTo(isoUtcToUnixMillis(str(created.json, "next_run_at")) + 1'000);
  std::string reconcile_run;
  ASSERT_TRUE(eventually(
      [&] {
        auto s = api_->request("GET", "/api/v1/schedules", "Bearer " + tenant_.api_token);
        reconcile_run = str(s.json.at("schedules").at(0), "last_run_id");
        return !reconcile_run.empty();
      },
      90s));
  auto rec = api_->waitForRun(tenant_.api_token, reconcile_run, 120s);
  ASSERT_EQ(str(rec.json, "status"), "succeeded") << rec.body;
  EXPECT_EQ(str(rec.json, "kind"), "reconcile");
  std::map<std::string, std::string> actions;
  for (const auto& p : rec.json.at("report").at("identities").as_array()) {
    actions[str(p, "employee_id")] = str(p, "action");
  }
  EXPECT_EQ(actions[id("E1")], "unchanged");
  EXPECT_EQ(actions[id("ORPHAN")], "orphan");
  auto orphan = probe_->search(orphan_dn, "(objectClass=*)", {"employeeID"}, false);
  EXPECT_EQ(orphan.size(), 1u) << "an orphan is reported, not touched";

  // Both agents are visible with their work.
  int64_t done = 0;
  for (const auto& a : agentsList()) done += a.at("jobs_done").as_int64();
  EXPECT_GE(done, 2);
}

}  // namespace
}  // namespace tenure::testing
