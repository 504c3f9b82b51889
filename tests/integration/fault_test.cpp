// Faults: killing the agent or the control plane with SIGKILL in the middle of a 200-person job
// loses no job and creates no duplicate account; SIGTERM drains the control plane cleanly.

#include <gtest/gtest.h>
#include <signal.h>

#include <set>
#include <thread>

#include "tests/integration/stack.h"

namespace tenure::testing {
namespace {

namespace bj = boost::json;

std::string str(const bj::value& v, const char* key) {
  const auto* o = v.if_object();
  if (!o || !o->contains(key) || !o->at(key).is_string()) return "";
  return std::string(o->at(key).get_string());
}

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = loadSambaEnv();
    ASSERT_TRUE(env.isOk()) << env.status().toString();
    env_ = *env;
    probe_ = connectProbe(env_);
    ASSERT_NE(probe_, nullptr);
    suffix_ = uniqueSuffix();
    ou_ = "OU=fault-" + suffix_ + "," + env_.base_dn;
    ASSERT_TRUE(probe_->ensureOu(ou_));
    cp_ = std::make_unique<ControlPlaneProcess>(dir_.path() + "/cp",
                                                std::vector<std::string>{"--lease-seconds", "15"});
    ASSERT_TRUE(cp_->start()) << readFile(cp_->logPath());
    tenant_ = cp_->createTenant("Fault Tenant");
    agent_ = std::make_unique<AgentProcess>(dir_.path() + "/agent", env_,
                                            AgentOptions{ou_, "", 5});
    ASSERT_TRUE(agent_->enroll(cp_->url(), cp_->caFile(), tenant_.enroll_secret));
    ASSERT_TRUE(agent_->start());
    api_ = std::make_unique<ApiClient>(cp_->url(), cp_->caFile());
  }

  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "--- control plane log ---\n" << readFile(cp_->logPath()).substr(0, 30000);
      std::cerr << "--- agent log ---\n" << readFile(agent_->logPath()).substr(0, 30000);
    }
    agent_.reset();
    cp_.reset();
    if (probe_) probe_->deleteTree(ou_);
  }

  std::string upload200() {
    std::string csv =
        "employee_id,given_name,family_name,department,title,status\n";
    for (int i = 0; i < 200; ++i) {
      // Distinct family names, so each person gets a distinct sAMAccountName base.
      std::string family = std::string("Kill") + static_cast<char>('a' + i / 26) +
                           static_cast<char>('a' + i % 26) + suffix_;
      csv += "K" + suffix_ + "-" + std::to_string(i) + ",Kim" + std::to_string(i) + "," + family +
             ",Ops,Operator,active\n";
    }
    auto up = api_->uploadCsv(tenant_.api_token, csv);
    EXPECT_EQ(up.status, 202) << up.body;
    return str(up.json, "run_id");
  }

  std::vector<ProbeEntry> accounts() {
    return probe_->search(ou_, "(objectClass=user)", {"employeeID", "sAMAccountName"});
  }

  void expectExactlyOneAccountEach() {
    auto all = accounts();
    std::multiset<std::string> ids;
    for (const auto& e : all) ids.insert(e.first("employeeid"));
    EXPECT_EQ(all.size(), 200u);
    for (int i = 0; i < 200; ++i) {
      EXPECT_EQ(ids.count("K" + suffix_ + "-" + std::to_string(i)), 1u) << i;
    }
  }

  // The run's report: every person once, none failed.
  void expectCompleteReport(const ApiResponse& run) {
    ASSERT_EQ(str(run.json, "status"), "succeeded") << run.body.substr(0, 2000);
    const auto& people = run.json.at("report").at("identities").get_array();
    EXPECT_EQ(people.size(), 200u);
    std::set<std::string> seen;
    for (const auto& p : people) {
      seen.insert(str(p, "employee_id"));
      std::string action = str(p, "action");
      EXPECT_TRUE(action == "created" || action == "unchanged") << action;
    }
    EXPECT_EQ(seen.size(), 200u);
  }

  TempDir dir_;
  SambaEnv env_;
  std::unique_ptr<LdapProbe> probe_;
  std::string suffix_;
  std::string ou_;
  std::unique_ptr<ControlPlaneProcess> cp_;
  std::unique_ptr<AgentProcess> agent_;
  std::unique_ptr<ApiClient> api_;
  TenantInfo tenant_;
};

TEST_F(FaultTest, KillingTheAgentMidJobLosesNothingAndCreatesNoDuplicates) {
  std::string run_id = upload200();
  ASSERT_FALSE(run_id.empty());
  ASSERT_TRUE(waitFor([&] { return accounts().size() >= 30; }, std::chrono::seconds(60)));
  agent_->kill9();
  size_t at_kill = accounts().size();
  ASSERT_LT(at_kill, 200u) << "the agent finished before it could be killed";

  ASSERT_TRUE(agent_->start());
  auto run = api_->waitForRun(tenant_.api_token, run_id);
  expectCompleteReport(run);
  expectExactlyOneAccountEach();
}

TEST_F(FaultTest, KillingTheControlPlaneMidJobLosesNothingAndCreatesNoDuplicates) {
  std::string key_before = readFile(dir_.path() + "/agent/node_key.json");
  std::string run_id = upload200();
  ASSERT_FALSE(run_id.empty());
  ASSERT_TRUE(waitFor([&] { return accounts().size() >= 30; }, std::chrono::seconds(60)));
  cp_->kill9();
  ASSERT_LT(accounts().size(), 200u) << "the job finished before the control plane was killed";
  // The agent carries on without the control plane; its result waits in the spool.
  ASSERT_TRUE(waitFor([&] { return accounts().size() >= 200; }, std::chrono::seconds(90)));

  ASSERT_TRUE(cp_->start()) << readFile(cp_->logPath());
  auto run = api_->waitForRun(tenant_.api_token, run_id);
  expectCompleteReport(run);
  expectExactlyOneAccountEach();
  // An outage is not a reason to re-enroll.
  EXPECT_EQ(readFile(dir_.path() + "/agent/node_key.json"), key_before);
}

TEST_F(FaultTest, KillingTheControlPlaneBeforeTheAgentPollsStillRunsTheJob) {
  ASSERT_EQ(agent_->stop(), std::optional<int>(0));
  std::string run_id = upload200();
  ASSERT_FALSE(run_id.empty());
  cp_->kill9();
  ASSERT_TRUE(cp_->start());
  ASSERT_TRUE(agent_->start());
  auto run = api_->waitForRun(tenant_.api_token, run_id);
  expectCompleteReport(run);
  expectExactlyOneAccountEach();
}

TEST_F(FaultTest, SigtermDrainsHeldPollsAndExitsCleanly) {
  // Once the agent's long-poll is held (GET /api/v1/agents: held_polls), ask the control plane to
  // stop: the drain must answer it.
  ASSERT_TRUE(waitFor(
      [&] {
        auto r = api_->request("GET", "/api/v1/agents", "Bearer " + tenant_.api_token);
        return r.status == 200 && !r.json.at("agents").as_array().empty() &&
               r.json.at("agents").at(0).at("held_polls").as_int64() == 1;
      },
      std::chrono::seconds(30)))
      << readFile(cp_->logPath());
  auto code = cp_->stop(std::chrono::seconds(15));
  ASSERT_TRUE(code.has_value()) << "tenure-cp did not exit after SIGTERM";
  EXPECT_EQ(*code, 0);
  EXPECT_NE(readFile(cp_->logPath()).find("drained"), std::string::npos);
  // The agent survives the outage and stops on SIGTERM too.
  EXPECT_TRUE(agent_->running());
  EXPECT_EQ(agent_->stop(std::chrono::seconds(15)), std::optional<int>(0));
}

}  // namespace
}  // namespace tenure::testing
