// Policies, upload rules, safety holds and the admin API of ControlPlaneService, against real
// SQLite stores in a temp dir with an injected clock; requests go straight to handle().

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <optional>

#include "common/protocol/messages.h"
#include "controlplane/api/control_plane_api.h"
#include "controlplane/service/control_plane_service.h"

namespace tenure::cp {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;

struct Captured {
  std::optional<HttpServerResponse> response;
  int status() const { return response ? response->status : -1; }
  bj::value json() const { return bj::parse(response->body); }
};

class PolicyAdminServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tenure-svc2-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    control_ = std::move(ControlStore::open((dir_ / "control.db").string(), clock_).value());
    tenants_ = std::make_unique<TenantStores>((dir_ / "tenants").string(), clock_);
    service_ = std::make_unique<ControlPlaneService>(io_, *control_, *tenants_, clock_,
                                                     ServiceOptions{},
                                                     ServiceCollaborators{.tickets = &raised_});
    api_ = std::make_unique<api::ControlPlaneApi>(
        api::ApiComponents{*control_, *tenants_, clock_, *service_, nullptr, nullptr, nullptr});
    a_ = control_->createTenant("Acme").value();
    b_ = control_->createTenant("Beta").value();
    admin_ = control_->createAdminToken("ops-alice").value().token;
  }

  void TearDown() override {
    api_.reset();
    service_.reset();
    fs::remove_all(dir_);
  }

  std::shared_ptr<Captured> call(const std::string& method, const std::string& path,
                                 const std::string& auth, const std::string& body = "",
                                 const std::string& content_type = "application/json",
                                 std::map<std::string, std::string> query = {}) {
    HttpServerRequest req;
    req.method = method;
    req.path = path;
    req.target = path;
    req.query = std::move(query);
    if (!auth.empty()) req.headers["authorization"] = auth;
    req.headers["content-type"] = content_type;
    req.body = body;
    auto c = std::make_shared<Captured>();
    api_->handle(std::move(req), [c](HttpServerResponse r) {
      if (!c->response) c->response = std::move(r);
    });
    return c;
  }

  std::shared_ptr<Captured> tenantCall(const TenantCredentials& t, const std::string& method,
                                       const std::string& path, const std::string& body = "") {
    return call(method, path, "Bearer " + t.api_token, body);
  }
  std::shared_ptr<Captured> adminCall(const std::string& method, const std::string& path,
                                      std::map<std::string, std::string> query = {}) {
    return call(method, path, "Bearer " + admin_, "", "application/json", std::move(query));
  }

  std::string enroll(const TenantCredentials& t) {
    auto r = call("POST", "/agent/v1/enroll", "",
                  R"({"enroll_secret":")" + t.enroll_secret + R"(","host":"h"})");
    EXPECT_EQ(r->status(), 200) << r->response->body;
    return std::string(r->json().at("node_key").get_string());
  }

  std::shared_ptr<Captured> upload(const TenantCredentials& t, const std::string& csv) {
    return call("POST", "/api/v1/hr/records", "Bearer " + t.api_token, csv, "text/csv");
  }
  std::string uploadOk(const TenantCredentials& t, const std::string& csv) {
    auto r = upload(t, csv);
    EXPECT_EQ(r->status(), 202) << r->response->body;
    return std::string(r->json().at("run_id").get_string());
  }

  std::optional<protocol::Job> pollJob(const std::string& key) {
    auto p = call("POST", "/agent/v1/poll", "NodeKey " + key, R"({"wait_s":0})");
    EXPECT_EQ(p->status(), 200);
    auto resp = protocol::parsePollResponse(p->json()).value();
    if (resp.jobs.empty()) return std::nullopt;
    return resp.jobs[0];
  }

  std::shared_ptr<Captured> postPlan(const std::string& key, const std::string& job_id,
                                     int population, std::map<std::string, int> counts) {
    protocol::PlanSummary s;
    s.job_id = job_id;
    s.population = population;
    s.counts = std::move(counts);
    protocol::IdentityOutcome o;
    o.employee_id = "E1";
    o.action = "disabled";
    o.state = "terminated";
    o.operations.push_back(
        protocol::PlannedOperation{"disable", "CN=Ann Lee,DC=x", "", "HR status terminated", {}});
    s.outcomes.push_back(o);
    return call("POST", "/agent/v1/jobs/" + job_id + "/plan", "NodeKey " + key,
                protocol::serialize(protocol::toJson(s)));
  }

  bj::object getRun(const TenantCredentials& t, const std::string& run_id) {
    auto r = tenantCall(t, "GET", "/api/v1/runs/" + run_id);
    EXPECT_EQ(r->status(), 200) << r->response->body;
    return r->json().as_object();
  }

  // A run of tenant A whose plan was held (60 disables of 1000 people > 50).
  std::pair<std::string, std::string> heldRun() {
    std::string key = enroll(a_);
    std::string run_id = uploadOk(a_, kCsv);
    auto job = pollJob(key);
    EXPECT_TRUE(job.has_value());
    auto r = postPlan(key, job->job_id, 1000, {{"disable", 60}});
    EXPECT_EQ(r->status(), 200);
    return {key, run_id};
  }

  static constexpr const char* kCsv =
      "employee_id,given_name,family_name,status\nE1,Ann,Lee,active\n";

  fs::path dir_;
  ManualClock clock_{1'767'225'600'000};  // 2026-01-01T00:00:00Z
  boost::asio::io_context io_;
  std::unique_ptr<ControlStore> control_;
  std::unique_ptr<TenantStores> tenants_;
  // What the service raised (tickets), in order.
  struct Raised : TicketRaiser {
    std::vector<Detection> seen;
    void raise(const Detection& d) override { seen.push_back(d); }
    void clear(const std::string&, const std::string&, const std::string&) override {}
  } raised_;
  std::unique_ptr<ControlPlaneService> service_;
  std::unique_ptr<api::ControlPlaneApi> api_;
  TenantCredentials a_, b_;
  std::string admin_;
};

// ---------------------------------------------------------------------------------------------
// Policies

TEST_F(PolicyAdminServiceTest, TenantWithoutPolicyGetsTheDefaultAsVersionZero) {
  auto r = tenantCall(a_, "GET", "/api/v1/policy");
  ASSERT_EQ(r->status(), 200) << r->response->body;
  auto doc = r->json();
  EXPECT_EQ(doc.at("version").as_int64(), 0);
  std::vector<policy::PolicyError> errors;
  auto parsed = policy::parsePolicy(doc, &errors);
  ASSERT_TRUE(parsed.isOk()) << parsed.status().toString();
  EXPECT_EQ(parsed->thresholds.disables.max_count, policy::defaultPolicy().thresholds.disables.max_count);
}

TEST_F(PolicyAdminServiceTest, InvalidPolicyIsRefusedWithEveryProblemsPath) {
  auto r = tenantCall(a_, "PUT", "/api/v1/policy",
                      R"({"thresholds":{"disables":{"max_percent":150}},"colour":"blue"})");
  ASSERT_EQ(r->status(), 422) << r->response->body;
  std::vector<std::string> paths;
  const bj::value body = r->json();
  for (const auto& e : body.at("errors").as_array()) {
    paths.emplace_back(e.at("path").as_string());
    EXPECT_FALSE(e.at("reason").as_string().empty());
  }
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/thresholds/disables/max_percent"), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/colour"), paths.end());
  EXPECT_EQ(tenantCall(a_, "GET", "/api/v1/policy")->json().at("version").as_int64(), 0)
      << "nothing was stored";
}

TEST_F(PolicyAdminServiceTest, MalformedPolicyJsonIsABadRequest) {
  EXPECT_EQ(tenantCall(a_, "PUT", "/api/v1/policy", "{nope")->status(), 400);
}

TEST_F(PolicyAdminServiceTest, SavedPolicyGetsTheNextVersionAndIsServedBack) {
  auto r1 = tenantCall(a_, "PUT", "/api/v1/policy", R"({"lifecycle":{"prehire_days":3}})");
  ASSERT_EQ(r1->status(), 200) << r1->response->body;
  EXPECT_EQ(r1->json().at("version").as_int64(), 1);
  clock_.advance(std::chrono::seconds(60));
  auto r2 = tenantCall(a_, "PUT", "/api/v1/policy", R"({"lifecycle":{"prehire_days":5}})");
  EXPECT_EQ(r2->json().at("version").as_int64(), 2);

  auto current = tenantCall(a_, "GET", "/api/v1/policy")->json();
  EXPECT_EQ(current.at("version").as_int64(), 2);
  EXPECT_EQ(current.at("lifecycle").at("prehire_days").as_int64(), 5);

  auto v1 = tenantCall(a_, "GET", "/api/v1/policy/versions/1");
  ASSERT_EQ(v1->status(), 200);
  EXPECT_EQ(v1->json().at("lifecycle").at("prehire_days").as_int64(), 3);
  EXPECT_EQ(tenantCall(a_, "GET", "/api/v1/policy/versions/3")->status(), 404);
  EXPECT_EQ(tenantCall(a_, "GET", "/api/v1/policy/versions/x")->status(), 404);

  auto list = tenantCall(a_, "GET", "/api/v1/policy/versions")->json().at("versions").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].at("version").as_int64(), 2);
  EXPECT_EQ(list[1].at("version").as_int64(), 1);
  EXPECT_EQ(list[1].at("created_at").as_string(), "2026-01-01T00:00:00Z");

  EXPECT_EQ(tenantCall(b_, "GET", "/api/v1/policy")->json().at("version").as_int64(), 0)
      << "another tenant's policy is its own";
}

TEST_F(PolicyAdminServiceTest, ServedPolicyCanBePutBackUnchanged) {
  auto doc = tenantCall(a_, "GET", "/api/v1/policy")->response->body;
  auto r = tenantCall(a_, "PUT", "/api/v1/policy", doc);
  EXPECT_EQ(r->status(), 200) << r->response->body;
}

TEST_F(PolicyAdminServiceTest, ValidateChecksWithoutStoring) {
  auto ok = tenantCall(a_, "POST", "/api/v1/policy/validate", R"({"lifecycle":{"prehire_days":3}})");
  EXPECT_EQ(ok->status(), 200);
  EXPECT_TRUE(ok->json().at("valid").as_bool());
  auto bad = tenantCall(a_, "POST", "/api/v1/policy/validate", R"({"groups":"x"})");
  EXPECT_EQ(bad->status(), 422);
  EXPECT_EQ(bad->json().at("errors").at(0).at("path").as_string(), "/groups");
  EXPECT_TRUE(tenantCall(a_, "GET", "/api/v1/policy/versions")->json().at("versions").as_array().empty());
}

// ---------------------------------------------------------------------------------------------
// Uploads under the policy

TEST_F(PolicyAdminServiceTest, ContractorRowsBreakingTheEmploymentRulesAreRejected) {
  auto r = upload(a_,
                  "employee_id,given_name,family_name,employment_type,start_date,end_date\n"
                  "E1,Ann,Lee,employee,2026-01-05,\n"
                  "C1,Carl,Ng,contractor,2026-01-05,\n"
                  "C2,Cleo,Ng,contractor,2026-01-05,2026-06-30\n"
                  "C3,Cy,Ng,contractor,2026-01-05,2029-01-05\n");
  ASSERT_EQ(r->status(), 202) << r->response->body;
  auto body = r->json();
  EXPECT_EQ(body.at("accepted").as_int64(), 2);
  auto rejected = body.at("rejected").as_array();
  ASSERT_EQ(rejected.size(), 2u);
  EXPECT_EQ(rejected[0].at("employee_id").as_string(), "C1");
  EXPECT_EQ(rejected[0].at("row").as_int64(), 2);
  EXPECT_EQ(rejected[0].at("field").as_string(), "end_date");
  EXPECT_NE(std::string(rejected[0].at("reason").as_string()).find("end_date: required for contractor"),
            std::string::npos);
  EXPECT_EQ(rejected[1].at("employee_id").as_string(), "C3");
  EXPECT_NE(std::string(rejected[1].at("reason").as_string()).find("maximum of 730 days"),
            std::string::npos);

  std::string key = enroll(a_);
  auto job = pollJob(key);
  ASSERT_TRUE(job.has_value());
  ASSERT_EQ(job->identities.size(), 2u);
  EXPECT_EQ(job->identities[0].employee_id, "E1");
  EXPECT_EQ(job->identities[1].employee_id, "C2");
}

TEST_F(PolicyAdminServiceTest, EmploymentRulesComeFromTheTenantsCurrentPolicy) {
  ASSERT_EQ(tenantCall(a_, "PUT", "/api/v1/policy",
                       R"({"employment_types":{"contractor":{"end_date_required":false}}})")
                ->status(),
            200);
  auto r = upload(a_, "employee_id,given_name,family_name,employment_type\nC1,Carl,Ng,contractor\n");
  ASSERT_EQ(r->status(), 202) << r->response->body;
  EXPECT_EQ(r->json().at("policy_version").as_int64(), 1);
  auto only_rejected = upload(b_, "employee_id,given_name,family_name,employment_type\nC1,Carl,Ng,contractor\n");
  EXPECT_EQ(only_rejected->status(), 422) << "tenant B still has the default policy";
}

TEST_F(PolicyAdminServiceTest, EmploymentRulesCountFromTodayInTheTenantsTimeZone) {
  // 20:00 UTC on 7 December is already 8 December in Auckland (UTC+13).
  clock_.setUnixMillis(1'796'673'600'000);  // 2026-12-07T20:00:00Z
  ASSERT_EQ(tenantCall(a_, "PUT", "/api/v1/policy", R"({"lifecycle":{"time_zone":"Pacific/Auckland"}})")
                ->status(),
            200);
  // A contractor without a start date may stay 730 days from today: 2028-12-07 is day 730 from
  // Auckland's today (and would be 731 from UTC's).
  const std::string csv =
      "employee_id,given_name,family_name,employment_type,end_date\n"
      "C1,Carl,Ng,contractor,2028-12-07\nC2,Cleo,Ng,contractor,2028-12-08\n";
  auto r = upload(a_, csv);
  ASSERT_EQ(r->status(), 202) << r->response->body;
  EXPECT_EQ(r->json().at("accepted").as_int64(), 1);
  auto rejected = r->json().at("rejected").as_array();
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].at("employee_id").as_string(), "C2");
  EXPECT_NE(std::string(rejected[0].at("reason").as_string()).find("731 days after today"),
            std::string::npos);
}

TEST_F(PolicyAdminServiceTest, JobCarriesTheRunsPolicyClockAndReservedNames) {
  ASSERT_EQ(tenantCall(a_, "PUT", "/api/v1/policy", R"({"lifecycle":{"prehire_days":3}})")->status(),
            200);
  auto store = tenants_->forTenant(a_.tenant.tenant_id).value();
  ASSERT_TRUE(store->addTombstones({{"jsmith", "sam", "E9", clock_.nowUnixMillis() - 1000}}).isOk());
  std::string run_id = uploadOk(a_, kCsv);
  // A newer policy saved after the upload does not change what the run was planned with.
  ASSERT_EQ(tenantCall(a_, "PUT", "/api/v1/policy", R"({"lifecycle":{"prehire_days":9}})")->status(),
            200);
  std::string key = enroll(a_);
  auto job = pollJob(key);
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->run_id, run_id);
  EXPECT_EQ(job->now_ms, clock_.nowUnixMillis());
  EXPECT_FALSE(job->approved);
  EXPECT_EQ(job->reserved_names, std::vector<std::string>{"jsmith"});
  std::vector<policy::PolicyError> errors;
  auto pol = policy::parsePolicy(bj::value(job->policy), &errors);
  ASSERT_TRUE(pol.isOk()) << pol.status().toString();
  EXPECT_EQ(pol->lifecycle.prehire_days, 3);
  EXPECT_EQ(pol->version, 1);
  EXPECT_EQ(getRun(a_, run_id).at("policy_version").as_int64(), 1);
}

TEST_F(PolicyAdminServiceTest, JobCarriesTheRulesOfTheTenantsTimeZone) {
  ASSERT_EQ(tenantCall(a_, "PUT", "/api/v1/policy", R"({"lifecycle":{"time_zone":"Europe/Berlin"}})")
                ->status(),
            200);
  uploadOk(a_, kCsv);
  auto job = pollJob(enroll(a_));
  ASSERT_TRUE(job.has_value());
  ASSERT_TRUE(job->time_zone.has_value()) << "an agent without tzdata (Windows) needs the rules";
  EXPECT_EQ(job->time_zone->name, "Europe/Berlin");
  EXPECT_EQ(job->time_zone->tzif, systemZoneDatabase().tzif("Europe/Berlin").value())
      << "the control plane's own tzdata, byte for byte";

  // UTC needs no data: every agent knows it.
  uploadOk(b_, kCsv);
  auto utc_job = pollJob(enroll(b_));
  ASSERT_TRUE(utc_job.has_value());
  EXPECT_FALSE(utc_job->time_zone.has_value());
}

TEST_F(PolicyAdminServiceTest, RunReportShowsStateAndOperationsWithReasons) {
  std::string key = enroll(a_);
  std::string run_id = uploadOk(a_, kCsv);
  auto job = pollJob(key);
  ASSERT_TRUE(job.has_value());
  protocol::JobResult result;
  result.status = "succeeded";
  protocol::IdentityOutcome o;
  o.employee_id = "E1";
  o.action = "created";
  o.state = "active";
  o.operations.push_back(protocol::PlannedOperation{
      "create", "CN=Ann Lee,OU=Staff,DC=x", "", "new hire", {"sAMAccountName", "mail"}});
  o.operations.push_back(protocol::PlannedOperation{
      "add_member", "CN=Ann Lee,OU=Staff,DC=x", "CN=Sales,DC=x", "rule sales-groups", {}});
  result.outcomes.push_back(o);
  ASSERT_EQ(call("POST", "/agent/v1/jobs/" + job->job_id + "/result", "NodeKey " + key,
                 protocol::serialize(protocol::toJson(result)))
                ->status(),
            200);
  auto run = getRun(a_, run_id);
  auto person = run.at("report").at("identities").at(0);
  EXPECT_EQ(person.at("state").as_string(), "active");
  auto ops = person.at("operations").as_array();
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].at("kind").as_string(), "create");
  EXPECT_EQ(ops[0].at("reason").as_string(), "new hire");
  EXPECT_EQ(ops[0].at("changes").at(1).as_string(), "mail");
  EXPECT_EQ(ops[1].at("target").as_string(), "CN=Sales,DC=x");
  EXPECT_FALSE(run.contains("hold"));
}

// ---------------------------------------------------------------------------------------------
// Plans and holds

TEST_F(PolicyAdminServiceTest, PlanWithinThresholdsProceeds) {
  std::string key = enroll(a_);
  std::string run_id = uploadOk(a_, kCsv);
  auto job = pollJob(key);
  auto r = postPlan(key, job->job_id, 1000, {{"disable", 50}, {"create", 900}});
  ASSERT_EQ(r->status(), 200) << r->response->body;
  EXPECT_TRUE(r->json().at("proceed").as_bool());
  EXPECT_EQ(getRun(a_, run_id).at("status").as_string(), "running");
}

TEST_F(PolicyAdminServiceTest, PlanOverAThresholdHoldsTheRunAndItsJob) {
  auto [key, run_id] = heldRun();
  auto again = postPlan(key, run_id, 1000, {{"disable", 60}});
  auto d = again->json();
  EXPECT_FALSE(d.at("proceed").as_bool());
  EXPECT_TRUE(d.at("held").as_bool());
  EXPECT_EQ(d.at("reason").as_string(), "disable: 60 > 50 (max_count)");

  auto run = getRun(a_, run_id);
  EXPECT_EQ(run.at("status").as_string(), "held");
  EXPECT_EQ(run.at("hold").at("reason").as_string(), "disable: 60 > 50 (max_count)");
  EXPECT_EQ(run.at("hold").at("counts").at("disable").as_int64(), 60);
  EXPECT_EQ(run.at("hold").at("population").as_int64(), 1000);
  EXPECT_EQ(run.at("hold").at("identities").at(0).at("operations").at(0).at("reason").as_string(),
            "HR status terminated");

  clock_.advance(std::chrono::hours(1));  // the old lease is long expired
  EXPECT_FALSE(pollJob(key).has_value()) << "a held job is not handed out";

  // A result sent anyway does not finish the held run.
  auto res = call("POST", "/agent/v1/jobs/" + run_id + "/result", "NodeKey " + key,
                  R"({"status":"succeeded","outcomes":[]})");
  EXPECT_EQ(res->status(), 200);
  EXPECT_TRUE(res->json().at("ignored").as_bool());
  EXPECT_EQ(getRun(a_, run_id).at("status").as_string(), "held");
}

TEST_F(PolicyAdminServiceTest, PlanForAnotherTenantsJobIsNotFound) {
  std::string key_a = enroll(a_);
  std::string key_b = enroll(b_);
  uploadOk(a_, kCsv);
  auto job = pollJob(key_a);
  auto r = postPlan(key_b, job->job_id, 1000, {{"disable", 60}});
  EXPECT_EQ(r->status(), 404);
  EXPECT_EQ(postPlan(key_a, "r_nope", 1, {})->status(), 404);
}

TEST_F(PolicyAdminServiceTest, DryRunOverAThresholdIsNotHeldButSaysItWouldBe) {
  std::string key = enroll(a_);
  auto up = call("POST", "/api/v1/hr/records", "Bearer " + a_.api_token, kCsv, "text/csv",
                 {{"dry_run", "true"}});
  ASSERT_EQ(up->status(), 202);
  auto job = pollJob(key);
  ASSERT_TRUE(job.has_value());
  EXPECT_TRUE(job->dry_run);
  auto d = postPlan(key, job->job_id, 1000, {{"disable", 60}})->json();
  EXPECT_TRUE(d.at("proceed").as_bool());
  EXPECT_EQ(d.at("reason").as_string(), "would be held: disable: 60 > 50 (max_count)");
}

TEST_F(PolicyAdminServiceTest, TenantThresholdsDecide) {
  ASSERT_EQ(tenantCall(a_, "PUT", "/api/v1/policy",
                       R"({"thresholds":{"disables":{"max_count":1000,"max_percent":100}}})")
                ->status(),
            200);
  std::string key = enroll(a_);
  uploadOk(a_, kCsv);
  auto job = pollJob(key);
  EXPECT_TRUE(postPlan(key, job->job_id, 1000, {{"disable", 60}})->json().at("proceed").as_bool());
}

// ---------------------------------------------------------------------------------------------
// Admin API

TEST_F(PolicyAdminServiceTest, AdminAndTenantTokensAreEachRefusedOnTheOthersApi) {
  EXPECT_EQ(call("GET", "/admin/v1/runs", "Bearer " + a_.api_token)->status(), 401);
  EXPECT_EQ(call("GET", "/api/v1/runs", "Bearer " + admin_)->status(), 401);
  EXPECT_EQ(call("GET", "/admin/v1/runs", "")->status(), 401);
  EXPECT_EQ(adminCall("GET", "/admin/v1/runs")->status(), 200);
  EXPECT_EQ(tenantCall(a_, "GET", "/api/v1/runs")->status(), 200);
}

TEST_F(PolicyAdminServiceTest, HeldRunsOfEveryTenantAreListedForOperators) {
  auto [key, run_id] = heldRun();
  uploadOk(b_, kCsv);  // queued, not held
  auto r = adminCall("GET", "/admin/v1/runs", {{"status", "held"}});
  ASSERT_EQ(r->status(), 200);
  auto runs = r->json().at("runs").as_array();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].at("tenant_id").as_string(), a_.tenant.tenant_id);
  EXPECT_EQ(runs[0].at("tenant_name").as_string(), "Acme");
  EXPECT_EQ(runs[0].at("run_id").as_string(), run_id);
  EXPECT_EQ(runs[0].at("reason").as_string(), "disable: 60 > 50 (max_count)");
  EXPECT_EQ(runs[0].at("counts").at("disable").as_int64(), 60);
  EXPECT_EQ(runs[0].at("created_at").as_string(), "2026-01-01T00:00:00Z");
  EXPECT_EQ(adminCall("GET", "/admin/v1/runs", {{"status", "bogus"}})->status(), 400);

  auto detail = adminCall("GET", "/admin/v1/tenants/" + a_.tenant.tenant_id + "/runs/" + run_id);
  ASSERT_EQ(detail->status(), 200);
  EXPECT_EQ(detail->json().at("hold").at("population").as_int64(), 1000);
  EXPECT_EQ(adminCall("GET", "/admin/v1/tenants/" + b_.tenant.tenant_id + "/runs/" + run_id)
                ->status(),
            404)
      << "the run belongs to tenant A";
  EXPECT_EQ(adminCall("GET", "/admin/v1/tenants/t_nope/runs/" + run_id)->status(), 404);
}

// A real-time source (SCIM) disables everyone one request, so one run, at a time: no run crosses
// a per-run threshold, the rolling window catches it.
TEST_F(PolicyAdminServiceTest, OnePersonDisableRunsAreHeldOnceTheirSumCrossesTheWindowLimit) {
  auto& tickets = raised_;
  ASSERT_EQ(tenantCall(a_, "PUT", "/api/v1/policy",
                       R"({"thresholds": {"window": {"minutes": 60, "max_disables": 25}}})")
                ->status(),
            200);
  const std::string key = enroll(a_);
  // One disable planned and applied per run, one a minute: run n's decision.
  auto oneDisableRun = [&](int n) {
    std::string run_id =
        uploadOk(a_, "employee_id,given_name,family_name,status\nE" + std::to_string(n) +
                         ",Ann,Lee,terminated\n");
    auto job = pollJob(key);
    EXPECT_TRUE(job.has_value());
    auto d = postPlan(key, job->job_id, 1, {{"disable", 1}})->json();
    if (d.at("proceed").as_bool()) {
      auto r = call("POST", "/agent/v1/jobs/" + job->job_id + "/result", "NodeKey " + key,
                    R"({"status":"succeeded","outcomes":[]})");
      EXPECT_EQ(r->status(), 200) << r->response->body;
    }
    clock_.advance(std::chrono::minutes(1));
    return std::pair{run_id, d};
  };
  std::vector<std::string> held;
  std::string first_held_reason;
  for (int n = 1; n <= 30; ++n) {
    auto [run_id, d] = oneDisableRun(n);
    if (d.at("held").as_bool()) {
      if (held.empty()) first_held_reason = std::string(d.at("reason").as_string());
      held.push_back(run_id);
      EXPECT_EQ(getRun(a_, run_id).at("status").as_string(), "held");
    } else {
      EXPECT_EQ(getRun(a_, run_id).at("status").as_string(), "succeeded") << n;
    }
    if (n <= 25) {
      EXPECT_TRUE(held.empty()) << "run " << n << " is within the window limit";
    }
  }
  ASSERT_EQ(held.size(), 5u) << "runs 26..30 each take the window over 25";
  EXPECT_EQ(first_held_reason,
            "disable: 26 > 25 in 60 min (window.max_disables; 25 by earlier runs)");
  ASSERT_EQ(tickets.seen.size(), 5u);
  EXPECT_EQ(tickets.seen[0].detector, "run_held");
  EXPECT_EQ(tickets.seen[0].subject, held[0]);

  // Held exactly like a per-run threshold: the operator approves, the run proceeds.
  auto r = adminCall("POST",
                     "/admin/v1/tenants/" + a_.tenant.tenant_id + "/runs/" + held[0] + "/approve");
  ASSERT_EQ(r->status(), 200) << r->response->body;
  auto job = pollJob(key);
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->run_id, held[0]);
  EXPECT_TRUE(job->approved);
  EXPECT_TRUE(postPlan(key, job->job_id, 1, {{"disable", 1}})->json().at("proceed").as_bool());
  EXPECT_EQ(adminCall("POST", "/admin/v1/tenants/" + a_.tenant.tenant_id + "/runs/" + held[1] +
                                  "/reject")
                ->status(),
            200);

  // An hour after the first runs the window has rolled on: a new run goes ahead again.
  clock_.advance(std::chrono::minutes(60));
  auto [later, d] = oneDisableRun(31);
  EXPECT_TRUE(d.at("proceed").as_bool()) << bj::serialize(d);
}

TEST_F(PolicyAdminServiceTest, ApprovedRunIsLeasedAgainAsApprovedAndProceeds) {
  auto [key, run_id] = heldRun();
  // A poll held while the run waits is answered as soon as the run is approved.
  auto held_poll = call("POST", "/agent/v1/poll", "NodeKey " + key, R"({"wait_s":30})");
  EXPECT_FALSE(held_poll->response.has_value());

  clock_.advance(std::chrono::seconds(90));
  auto r = adminCall("POST", "/admin/v1/tenants/" + a_.tenant.tenant_id + "/runs/" + run_id +
                                 "/approve");
  ASSERT_EQ(r->status(), 200) << r->response->body;
  EXPECT_EQ(r->json().at("approved_by").as_string(), "ops-alice");

  ASSERT_TRUE(held_poll->response.has_value());
  auto jobs = protocol::parsePollResponse(held_poll->json()).value().jobs;
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_TRUE(jobs[0].approved);
  EXPECT_EQ(jobs[0].attempt, 1);
  auto d = postPlan(key, run_id, 1000, {{"disable", 60}})->json();
  EXPECT_TRUE(d.at("proceed").as_bool()) << "an approved run is not held again";

  auto run = getRun(a_, run_id);
  EXPECT_EQ(run.at("status").as_string(), "running");
  EXPECT_EQ(run.at("hold").at("approved_by").as_string(), "ops-alice");
  EXPECT_EQ(run.at("hold").at("approved_at").as_string(), "2026-01-01T00:01:30Z");

  EXPECT_EQ(adminCall("POST", "/admin/v1/tenants/" + a_.tenant.tenant_id + "/runs/" + run_id +
                                  "/approve")
                ->status(),
            409)
      << "only a held run can be approved";
}

TEST_F(PolicyAdminServiceTest, RejectedRunFinishesWithoutBeingApplied) {
  auto [key, run_id] = heldRun();
  auto r = adminCall("POST", "/admin/v1/tenants/" + a_.tenant.tenant_id + "/runs/" + run_id +
                                 "/reject");
  ASSERT_EQ(r->status(), 200) << r->response->body;
  auto run = getRun(a_, run_id);
  EXPECT_EQ(run.at("status").as_string(), "rejected");
  EXPECT_EQ(run.at("hold").at("rejected_by").as_string(), "ops-alice");
  EXPECT_FALSE(run.at("finished_at").is_null());
  EXPECT_FALSE(pollJob(key).has_value());
  EXPECT_EQ(control_->job(run_id).value()->state, JobState::kDone);
  EXPECT_EQ(adminCall("POST", "/admin/v1/tenants/" + a_.tenant.tenant_id + "/runs/" + run_id +
                                  "/approve")
                ->status(),
            409);
  EXPECT_TRUE(adminCall("GET", "/admin/v1/runs")->json().at("runs").as_array().empty());
}

TEST_F(PolicyAdminServiceTest, DecisionNeedsPostAndAKnownRun) {
  auto [key, run_id] = heldRun();
  EXPECT_EQ(adminCall("GET", "/admin/v1/tenants/" + a_.tenant.tenant_id + "/runs/" + run_id +
                                 "/approve")
                ->status(),
            405);
  EXPECT_EQ(adminCall("POST", "/admin/v1/tenants/" + a_.tenant.tenant_id + "/runs/r_nope/approve")
                ->status(),
            404);
}

TEST_F(PolicyAdminServiceTest, RecoveryHoldsAJobWhoseRunWasHeldBeforeACrash) {
  std::string key = enroll(a_);
  std::string run_id = uploadOk(a_, kCsv);
  auto job = pollJob(key);
  // The crash window: the run is held in the tenant store, the job still leased.
  auto store = tenants_->forTenant(a_.tenant.tenant_id).value();
  protocol::PlanSummary plan;
  plan.population = 10;
  ASSERT_TRUE(store->holdRun(run_id, plan, "disable: 60 > 50 (max_count)").isOk());
  ASSERT_TRUE(service_->queue().recover().isOk());
  EXPECT_EQ(control_->job(run_id).value()->state, JobState::kHeld);
}

}  // namespace
}  // namespace tenure::cp
