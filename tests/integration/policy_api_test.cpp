// Policies, upload rules, safety holds and the admin API through a real tenure-cp process over
// HTTPS. The agent's side is played over HTTP (enroll, poll, plan, result), so no directory is
// needed: what is tested is the control plane's contract.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "common/protocol/messages.h"
#include "tests/integration/stack.h"

namespace tenure::testing {
namespace {

namespace bj = boost::json;
using std::chrono::seconds;

class PolicyApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cp_ = std::make_unique<ControlPlaneProcess>(dir_.path() + "/cp");
    ASSERT_TRUE(cp_->start()) << readFile(cp_->logPath());
    tenant_ = cp_->createTenant("Acme");
    ASSERT_FALSE(tenant_.api_token.empty());
    auto [rc, out] = runCommand({cpBinary(), "admin-token", "create", "--data-dir",
                                 dir_.path() + "/cp", "ops-alice"});
    ASSERT_EQ(rc, 0) << out;
    auto v = protocol::parseJsonText(out);
    ASSERT_TRUE(v.isOk()) << out;
    EXPECT_EQ(v->at("name").as_string(), "ops-alice");
    admin_ = std::string(v->at("token").as_string());
    api_ = std::make_unique<ApiClient>(cp_->url(), cp_->caFile());
  }

  ApiResponse tenantCall(const std::string& method, const std::string& path,
                         const std::string& body = "") {
    return api_->request(method, path, "Bearer " + tenant_.api_token,
                         body.empty() ? "" : "application/json", body);
  }
  ApiResponse adminCall(const std::string& method, const std::string& path) {
    return api_->request(method, path, "Bearer " + admin_);
  }

  std::string enrollAgent() {
    auto r = api_->request("POST", "/agent/v1/enroll", "", "application/json",
                           R"({"enroll_secret":")" + tenant_.enroll_secret +
                               R"(","host":"it-agent","version":"test"})");
    EXPECT_EQ(r.status, 200) << r.body;
    return std::string(r.json.at("node_key").as_string());
  }

  std::optional<protocol::Job> poll(const std::string& key, int wait_s = 0) {
    auto r = api_->request("POST", "/agent/v1/poll", "NodeKey " + key, "application/json",
                           R"({"wait_s":)" + std::to_string(wait_s) + "}");
    EXPECT_EQ(r.status, 200) << r.body;
    auto resp = protocol::parsePollResponse(r.json);
    if (!resp.isOk() || resp->jobs.empty()) return std::nullopt;
    return resp->jobs[0];
  }

  ApiResponse postPlan(const std::string& key, const std::string& job_id, int population,
                       std::map<std::string, int> counts) {
    protocol::PlanSummary s;
    s.job_id = job_id;
    s.population = population;
    s.counts = std::move(counts);
    return api_->request("POST", "/agent/v1/jobs/" + job_id + "/plan", "NodeKey " + key,
                         "application/json", protocol::serialize(protocol::toJson(s)));
  }

  std::string upload(const std::string& csv, const std::string& query = "") {
    auto r = api_->request("POST", "/api/v1/hr/records" + query, "Bearer " + tenant_.api_token,
                           "text/csv", csv);
    EXPECT_EQ(r.status, 202) << r.body;
    return r.json.is_object() ? std::string(r.json.at("run_id").as_string()) : "";
  }

  // Uploads a run, leases it as the agent and posts a plan over the default disable threshold.
  std::string heldRun(const std::string& key) {
    std::string run_id = upload("employee_id,given_name,family_name\nE1,Ann,Lee\n");
    auto job = poll(key);
    EXPECT_TRUE(job.has_value());
    if (!job) return run_id;
    auto d = postPlan(key, job->job_id, 1000, {{"disable", 60}});
    EXPECT_EQ(d.status, 200) << d.body;
    EXPECT_FALSE(d.json.at("proceed").as_bool());
    EXPECT_TRUE(d.json.at("held").as_bool());
    return run_id;
  }

  TempDir dir_;
  std::unique_ptr<ControlPlaneProcess> cp_;
  TenantInfo tenant_;
  std::string admin_;
  std::unique_ptr<ApiClient> api_;
};

TEST_F(PolicyApiTest, InvalidPolicyIsRefusedWithPathsAndValidOneBecomesVersionOne) {
  auto bad = tenantCall("PUT", "/api/v1/policy",
                        R"({"thresholds":{"deletes":{"max_count":-1}},"lifecycle":{"time_zone":"Mars/Base"}})");
  ASSERT_EQ(bad.status, 422) << bad.body;
  std::string paths;
  for (const auto& e : bad.json.at("errors").as_array()) {
    paths += std::string(e.at("path").as_string()) + " ";
  }
  EXPECT_NE(paths.find("/thresholds/deletes/max_count"), std::string::npos) << paths;
  EXPECT_NE(paths.find("/lifecycle/time_zone"), std::string::npos) << paths;

  auto before = tenantCall("GET", "/api/v1/policy");
  ASSERT_EQ(before.status, 200);
  EXPECT_EQ(before.json.at("version").as_int64(), 0) << "the default policy";

  auto ok = tenantCall("PUT", "/api/v1/policy", R"({"lifecycle":{"prehire_days":14}})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.json.at("version").as_int64(), 1);

  auto current = tenantCall("GET", "/api/v1/policy");
  EXPECT_EQ(current.json.at("version").as_int64(), 1);
  EXPECT_EQ(current.json.at("lifecycle").at("prehire_days").as_int64(), 14);
  auto versions = tenantCall("GET", "/api/v1/policy/versions");
  ASSERT_EQ(versions.json.at("versions").as_array().size(), 1u);
  EXPECT_EQ(versions.json.at("versions").at(0).at("version").as_int64(), 1);
  EXPECT_EQ(tenantCall("GET", "/api/v1/policy/versions/1").status, 200);
}

TEST_F(PolicyApiTest, ContractorWithoutEndDateIsRejectedAtUpload) {
  auto r = api_->request("POST", "/api/v1/hr/records", "Bearer " + tenant_.api_token, "text/csv",
                         "employee_id,given_name,family_name,employment_type,end_date\n"
                         "E1,Ann,Lee,employee,\n"
                         "C1,Carl,Ng,contractor,\n");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.json.at("accepted").as_int64(), 1);
  ASSERT_EQ(r.json.at("rejected").as_array().size(), 1u);
  auto row = r.json.at("rejected").at(0);
  EXPECT_EQ(row.at("employee_id").as_string(), "C1");
  EXPECT_NE(std::string(row.at("reason").as_string()).find("end_date: required for contractor"),
            std::string::npos);

  std::string key = enrollAgent();
  auto job = poll(key);
  ASSERT_TRUE(job.has_value());
  ASSERT_EQ(job->identities.size(), 1u);
  EXPECT_EQ(job->identities[0].employee_id, "E1");
  EXPECT_FALSE(job->policy.empty()) << "the job carries the run's policy";
  EXPECT_GT(job->now_ms, 0);
}

TEST_F(PolicyApiTest, AdminAndTenantTokensAreEachRefusedOnTheOthersApi) {
  EXPECT_EQ(api_->request("GET", "/admin/v1/runs?status=held", "Bearer " + tenant_.api_token).status,
            401);
  EXPECT_EQ(api_->request("GET", "/api/v1/runs", "Bearer " + admin_).status, 401);
  EXPECT_EQ(api_->request("GET", "/api/v1/policy", "Bearer " + admin_).status, 401);
  EXPECT_EQ(adminCall("GET", "/admin/v1/runs?status=held").status, 200);
  EXPECT_EQ(tenantCall("GET", "/api/v1/runs").status, 200);
}

TEST_F(PolicyApiTest, HeldRunIsApprovedByAnOperatorAndLeasedAgainAsApproved) {
  std::string key = enrollAgent();
  std::string run_id = heldRun(key);

  auto run = api_->getRun(tenant_.api_token, run_id);
  EXPECT_EQ(run.json.at("status").as_string(), "held");
  EXPECT_EQ(run.json.at("hold").at("reason").as_string(), "disable: 60 > 50 (max_count)");
  EXPECT_FALSE(poll(key).has_value()) << "a held run is not handed out";

  auto held = adminCall("GET", "/admin/v1/runs?status=held");
  ASSERT_EQ(held.status, 200) << held.body;
  ASSERT_EQ(held.json.at("runs").as_array().size(), 1u);
  auto listed = held.json.at("runs").at(0);
  EXPECT_EQ(listed.at("tenant_id").as_string(), tenant_.tenant_id);
  EXPECT_EQ(listed.at("tenant_name").as_string(), "Acme");
  EXPECT_EQ(listed.at("run_id").as_string(), run_id);
  EXPECT_EQ(listed.at("counts").at("disable").as_int64(), 60);

  auto detail = adminCall("GET", "/admin/v1/tenants/" + tenant_.tenant_id + "/runs/" + run_id);
  ASSERT_EQ(detail.status, 200) << detail.body;
  EXPECT_EQ(detail.json.at("hold").at("population").as_int64(), 1000);

  auto approve =
      adminCall("POST", "/admin/v1/tenants/" + tenant_.tenant_id + "/runs/" + run_id + "/approve");
  ASSERT_EQ(approve.status, 200) << approve.body;

  auto job = poll(key, 5);
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->run_id, run_id);
  EXPECT_TRUE(job->approved);
  auto d = postPlan(key, job->job_id, 1000, {{"disable", 60}});
  EXPECT_TRUE(d.json.at("proceed").as_bool());

  protocol::JobResult result;
  result.status = "succeeded";
  auto res = api_->request("POST", "/agent/v1/jobs/" + job->job_id + "/result", "NodeKey " + key,
                           "application/json", protocol::serialize(protocol::toJson(result)));
  EXPECT_EQ(res.status, 200) << res.body;
  run = api_->getRun(tenant_.api_token, run_id);
  EXPECT_EQ(run.json.at("status").as_string(), "succeeded");
  EXPECT_EQ(run.json.at("hold").at("approved_by").as_string(), "ops-alice");
  EXPECT_TRUE(adminCall("GET", "/admin/v1/runs?status=held").json.at("runs").as_array().empty());
}

TEST_F(PolicyApiTest, RejectedRunEndsRejectedAndIsNeverLeasedAgain) {
  std::string key = enrollAgent();
  std::string run_id = heldRun(key);
  auto reject =
      adminCall("POST", "/admin/v1/tenants/" + tenant_.tenant_id + "/runs/" + run_id + "/reject");
  ASSERT_EQ(reject.status, 200) << reject.body;
  auto run = api_->getRun(tenant_.api_token, run_id);
  EXPECT_EQ(run.json.at("status").as_string(), "rejected");
  EXPECT_EQ(run.json.at("hold").at("rejected_by").as_string(), "ops-alice");
  EXPECT_FALSE(poll(key).has_value());
  EXPECT_EQ(
      adminCall("POST", "/admin/v1/tenants/" + tenant_.tenant_id + "/runs/" + run_id + "/approve")
          .status,
      409);
}

TEST_F(PolicyApiTest, HeldRunSurvivesARestartOfTheControlPlane) {
  std::string key = enrollAgent();
  std::string run_id = heldRun(key);
  ASSERT_EQ(cp_->stop(), 0);
  ASSERT_TRUE(cp_->start()) << readFile(cp_->logPath());
  EXPECT_FALSE(poll(key).has_value()) << "recovery does not re-queue a held run";
  EXPECT_EQ(api_->getRun(tenant_.api_token, run_id).json.at("status").as_string(), "held");
}

TEST_F(PolicyApiTest, PreviewCommandPrintsThePlanPerPersonWithReasons) {
  std::string key = enrollAgent();
  const std::string csv_path = dir_.path() + "/people.csv";
  writeFile(csv_path,
            "employee_id,given_name,family_name,employment_type\n"
            "E1,Ann,Lee,employee\n"
            "C1,Carl,Ng,contractor\n");
  Process preview;
  const std::string out_path = dir_.path() + "/preview.out";
  ASSERT_TRUE(preview.start({cpBinary(), "preview", "--url", cp_->url(), "--token",
                             tenant_.api_token, "--ca-file", cp_->caFile(), "--timeout-seconds",
                             "60", csv_path},
                            out_path));
  // Play the agent: lease the dry run and report its plan.
  std::optional<protocol::Job> job;
  ASSERT_TRUE(waitFor([&] { return (job = poll(key, 1)).has_value(); }, seconds(20)));
  EXPECT_TRUE(job->dry_run);
  protocol::JobResult result;
  result.status = "succeeded";
  protocol::IdentityOutcome o;
  o.employee_id = "E1";
  o.action = "created";
  o.state = "active";
  o.sam_account_name = "alee";
  o.operations.push_back(protocol::PlannedOperation{
      "create", "CN=Ann Lee,OU=Staff,DC=x", "", "new hire", {"sAMAccountName", "mail"}});
  o.operations.push_back(protocol::PlannedOperation{
      "add_member", "CN=Ann Lee,OU=Staff,DC=x", "CN=Staff,DC=x", "rule all-staff", {}});
  result.outcomes.push_back(o);
  auto res = api_->request("POST", "/agent/v1/jobs/" + job->job_id + "/result", "NodeKey " + key,
                           "application/json", protocol::serialize(protocol::toJson(result)));
  ASSERT_EQ(res.status, 200) << res.body;

  auto rc = preview.signalAndWait(0, seconds(30));
  ASSERT_TRUE(rc.has_value()) << readFile(out_path);
  EXPECT_EQ(*rc, 0) << readFile(out_path);
  const std::string out = readFile(out_path);
  EXPECT_NE(out.find("E1 (alee): created [active]"), std::string::npos) << out;
  EXPECT_NE(out.find("- create (sAMAccountName, mail): new hire"), std::string::npos) << out;
  EXPECT_NE(out.find("- add_member -> CN=Staff,DC=x: rule all-staff"), std::string::npos) << out;
  EXPECT_NE(out.find("end_date: required for contractor"), std::string::npos) << out;
}

}  // namespace
}  // namespace tenure::testing
