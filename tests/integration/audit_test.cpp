// Reports and time travel against the real stack: tenure-cp and tenure-agent processes, Samba AD,
// and an independent LDAP read to check that the directory state the control plane keeps for a
// person is what the directory holds.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/ldap/escape.h"
#include "tests/integration/stack.h"

namespace tenure::testing {
namespace {

namespace bj = boost::json;

std::string str(const bj::value& v, const char* key) {
  const auto* o = v.if_object();
  if (!o || !o->contains(key) || !o->at(key).is_string()) return "";
  return std::string(o->at(key).get_string());
}

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool containsDn(const bj::value& arr, const std::string& dn) {
  if (!arr.is_array()) return false;
  for (const auto& v : arr.as_array()) {
    if (v.is_string() && ldap::dnEquals(v.as_string(), dn)) return true;
  }
  return false;
}

class AuditEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = loadSambaEnv();
    ASSERT_TRUE(env.isOk()) << env.status().toString();
    env_ = *env;
    probe_ = connectProbe(env_);
    ASSERT_NE(probe_, nullptr);
    sfx_ = uniqueSuffix();
    base_ = "OU=au-" + sfx_ + "," + env_.base_dn;
    for (const std::string ou : {"", "OU=Staff,", "OU=Groups,"}) ASSERT_TRUE(probe_->ensureOu(ou + base_));
    for (const std::string g : {"Sales", "Engineering"}) {
      ASSERT_TRUE(probe_->addEntry(group(g), {{"objectClass", {"group"}},
                                              {"sAMAccountName", {g.substr(0, 4) + sfx_}}}));
    }
    cp_ = std::make_unique<ControlPlaneProcess>(dir_.path() + "/cp");
    ASSERT_TRUE(cp_->start()) << readFile(cp_->logPath());
    tenant_ = cp_->createTenant("Audit Co");
    agent_ = std::make_unique<AgentProcess>(dir_.path() + "/agent", env_,
                                            AgentOptions{"OU=Staff," + base_, "", 5});
    ASSERT_TRUE(agent_->enroll(cp_->url(), cp_->caFile(), tenant_.enroll_secret));
    ASSERT_TRUE(agent_->start());
    api_ = std::make_unique<ApiClient>(cp_->url(), cp_->caFile());
    bj::object policy{
        {"placement", {{"default_ou", "OU=Staff," + base_}}},
        {"groups", bj::array{bj::object{{"when", {{"department", "Sales"}}},
                                        {"groups", bj::array{group("Sales")}}},
                             bj::object{{"when", {{"department", "Engineering"}}},
                                        {"groups", bj::array{group("Engineering")}}}}}};
    auto put = api_->request("PUT", "/api/v1/policy", auth(), "application/json",
                             bj::serialize(policy));
    ASSERT_EQ(put.status, 200) << put.body;
  }
  void TearDown() override {
    if (HasFailure() && cp_) {
      std::cerr << "--- control plane log ---\n" << readFile(cp_->logPath()).substr(0, 20000);
      if (agent_) std::cerr << "--- agent log ---\n" << readFile(agent_->logPath()).substr(0, 20000);
    }
    agent_.reset();
    cp_.reset();
    if (probe_) probe_->deleteTree(base_);
  }
  std::string group(const std::string& name) const {
    return "CN=" + name + " " + sfx_ + ",OU=Groups," + base_;
  }
  std::string auth() const { return "Bearer " + tenant_.api_token; }
  std::string apply(const std::string& department) {
    auto up = api_->request("POST", "/api/v1/hr/records", auth(), "text/csv",
                            "employee_id,given_name,family_name,department,status\n"
                            "A" + sfx_ + ",Ada,Audit" + sfx_ + "," + department + ",active\n");
    EXPECT_EQ(up.status, 202) << up.body;
    const std::string run_id = str(up.json, "run_id");
    auto run = api_->waitForRun(tenant_.api_token, run_id);
    EXPECT_EQ(str(run.json, "status"), "succeeded") << run.body;
    return run_id;
  }
  ProbeEntry account() {
    auto found = probe_->search(base_, "(&(objectClass=user)(employeeID=A" + sfx_ + "))",
                                {"sAMAccountName", "memberOf", "userAccountControl"});
    EXPECT_EQ(found.size(), 1u);
    return found.empty() ? ProbeEntry{} : found[0];
  }

  SambaEnv env_;
  std::unique_ptr<LdapProbe> probe_;
  std::string sfx_, base_;
  TempDir dir_;
  std::unique_ptr<ControlPlaneProcess> cp_;
  std::unique_ptr<AgentProcess> agent_;
  std::unique_ptr<ApiClient> api_;
  TenantInfo tenant_;
};

TEST_F(AuditEndToEndTest, IdentityStateAtEachTimeMatchesTheDirectoryAndReportsCarryTheReasons) {
  apply("Sales");
  const auto joined = account();
  const int64_t after_join = nowMs();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const std::string mover_run = apply("Engineering");
  const auto moved = account();

  auto then = api_->request("GET", "/api/v1/identities/A" + sfx_ + "?as_of=" +
                                       std::to_string(after_join), auth());
  ASSERT_EQ(then.status, 200) << then.body;
  const auto& d1 = then.json.at("directory");
  EXPECT_EQ(then.json.at("hr").at("department").as_string(), "Sales");
  EXPECT_TRUE(ldap::dnEquals(d1.at("dn").as_string(), joined.dn)) << then.body;
  EXPECT_EQ(str(d1, "sam_account_name"), joined.first("samaccountname"));
  EXPECT_TRUE(d1.at("enabled").as_bool());
  EXPECT_TRUE(containsDn(d1.at("groups"), group("Sales"))) << then.body;

  auto now = api_->request("GET", "/api/v1/identities/A" + sfx_, auth());
  ASSERT_EQ(now.status, 200);
  const auto& d2 = now.json.at("directory");
  EXPECT_EQ(now.json.at("hr").at("department").as_string(), "Engineering");
  EXPECT_TRUE(containsDn(d2.at("groups"), group("Engineering")));
  EXPECT_FALSE(containsDn(d2.at("groups"), group("Sales"))) << now.body;
  // What the control plane says matches an independent read of the directory.
  for (const std::string g : {"Sales", "Engineering"}) {
    bool in_ad = false;
    for (const auto& v : moved.attrs.count("memberof") ? moved.attrs.at("memberof")
                                                       : std::vector<std::string>{}) {
      in_ad = in_ad || ldap::dnEquals(v, group(g));
    }
    EXPECT_EQ(containsDn(d2.at("groups"), group(g)), in_ad) << g;
  }

  auto csv = api_->request("GET", "/api/v1/runs/" + mover_run + "/report.csv", auth());
  ASSERT_EQ(csv.status, 200);
  EXPECT_NE(csv.body.find(",remove_member,"), std::string::npos) << csv.body;
  EXPECT_NE(csv.body.find(",add_member,"), std::string::npos) << csv.body;
  auto html = api_->request("GET", "/api/v1/runs/" + mover_run + "/report.html", auth());
  EXPECT_EQ(html.status, 200);

  auto [rc, out] = runCommand({cpBinary(), "audit", "verify", "--data-dir", dir_.path() + "/cp"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("\"ok\":true"), std::string::npos) << out;
}

}  // namespace
}  // namespace tenure::testing
