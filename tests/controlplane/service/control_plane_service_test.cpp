// ControlPlaneService against real SQLite stores in a temp dir, with an injected clock; requests
// go straight to handle() (the HTTP layer has its own tests, the whole stack its integration tests).

#include "controlplane/api/control_plane_api.h"
#include "controlplane/service/control_plane_service.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <optional>
#include <set>

#include "common/protocol/messages.h"

namespace tenure::cp {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;

struct Captured {
  std::optional<HttpServerResponse> response;
  bj::value json() const { return bj::parse(response->body); }
};

class ControlPlaneServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tenure-svc-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    control_ = std::move(ControlStore::open((dir_ / "control.db").string(), clock_).value());
    tenants_ = std::make_unique<TenantStores>((dir_ / "tenants").string(), clock_);
    ServiceOptions o;
    o.lease = std::chrono::milliseconds(10'000);
    o.max_attempts = 2;
    o.retry_base = std::chrono::milliseconds(0);  // retry backoff has its own tests
    service_ = std::make_unique<ControlPlaneService>(io_, *control_, *tenants_, clock_, o);
    api_ = std::make_unique<api::ControlPlaneApi>(
        api::ApiComponents{*control_, *tenants_, clock_, *service_, nullptr, nullptr, nullptr});
    a_ = control_->createTenant("A").value();
    b_ = control_->createTenant("B").value();
  }

  void TearDown() override {
    api_.reset();
    service_.reset();
    fs::remove_all(dir_);
  }

  std::shared_ptr<Captured> call(const std::string& method, const std::string& path,
                                 const std::string& auth, const std::string& body = "",
                                 const std::string& content_type = "application/json") {
    HttpServerRequest req;
    req.method = method;
    req.path = path;
    req.target = path;
    if (!auth.empty()) req.headers["authorization"] = auth;
    req.headers["content-type"] = content_type;
    req.body = body;
    auto c = std::make_shared<Captured>();
    api_->handle(std::move(req), [c](HttpServerResponse r) {
      if (!c->response) c->response = std::move(r);
    });
    return c;
  }

  std::string enroll(const TenantCredentials& t) {
    auto r = call("POST", "/agent/v1/enroll", "",
                  R"({"enroll_secret":")" + t.enroll_secret + R"(","host":"h"})");
    EXPECT_EQ(r->response->status, 200) << r->response->body;
    return std::string(r->json().at("node_key").get_string());
  }

  std::string upload(const TenantCredentials& t, const std::string& csv) {
    auto r = call("POST", "/api/v1/hr/records", "Bearer " + t.api_token, csv, "text/csv");
    EXPECT_EQ(r->response->status, 202) << r->response->body;
    return std::string(r->json().at("run_id").get_string());
  }

  std::shared_ptr<Captured> poll(const std::string& key, int wait_s = 0) {
    return call("POST", "/agent/v1/poll", "NodeKey " + key,
                R"({"wait_s":)" + std::to_string(wait_s) + "}");
  }

  static size_t jobCount(const Captured& c) { return c.json().at("jobs").as_array().size(); }

  std::string runStatus(const TenantCredentials& t, const std::string& run_id) {
    auto r = call("GET", "/api/v1/runs/" + run_id, "Bearer " + t.api_token);
    return std::string(r->json().at("status").get_string());
  }

  static constexpr const char* kCsv =
      "employee_id,given_name,family_name,status\nE1,Ann,Lee,active\nE2,Bo,,active\n";

  fs::path dir_;
  ManualClock clock_;
  boost::asio::io_context io_;
  std::unique_ptr<ControlStore> control_;
  std::unique_ptr<TenantStores> tenants_;
  std::unique_ptr<ControlPlaneService> service_;
  std::unique_ptr<api::ControlPlaneApi> api_;
  TenantCredentials a_, b_;
};

TEST_F(ControlPlaneServiceTest, UploadQueuesARunWhoseJobCarriesOnlyTheAcceptedRows) {
  std::string key = enroll(a_);
  std::string run_id = upload(a_, kCsv);
  auto p = poll(key);
  ASSERT_EQ(p->response->status, 200);
  auto job = protocol::parsePollResponse(p->json()).value().jobs.at(0);
  EXPECT_EQ(job.run_id, run_id);
  ASSERT_EQ(job.identities.size(), 1u);
  EXPECT_EQ(job.identities[0].employee_id, "E1");
  EXPECT_EQ(runStatus(a_, run_id), "running");
}

TEST_F(ControlPlaneServiceTest, HeldPollIsAnsweredAsSoonAsAJobIsQueued) {
  std::string key = enroll(a_);
  auto held = poll(key, 30);
  EXPECT_FALSE(held->response.has_value()) << "nothing to do: the poll is held";
  EXPECT_EQ(service_->queue().heldPolls(), 1u);
  upload(a_, kCsv);
  ASSERT_TRUE(held->response.has_value());
  EXPECT_EQ(jobCount(*held), 1u);
  EXPECT_EQ(service_->queue().heldPolls(), 0u);
}

TEST_F(ControlPlaneServiceTest, AnotherTenantsUploadDoesNotWakeAHeldPoll) {
  std::string key_a = enroll(a_);
  auto held = poll(key_a, 30);
  upload(b_, kCsv);
  EXPECT_FALSE(held->response.has_value());
  service_->queue().stopHoldingPolls();
  ASSERT_TRUE(held->response.has_value());
  EXPECT_EQ(jobCount(*held), 0u) << "drain answers held polls with no jobs";
}

TEST_F(ControlPlaneServiceTest, HeldPollTimesOutWithNoJobs) {
  std::string key = enroll(a_);
  auto held = poll(key, 1);
  io_.run_for(std::chrono::milliseconds(1'500));
  ASSERT_TRUE(held->response.has_value());
  EXPECT_EQ(jobCount(*held), 0u);
}

TEST_F(ControlPlaneServiceTest, ExpiredLeaseIsLeasedAgainThenQuarantinedAndTheRunFails) {
  std::string key = enroll(a_);
  std::string run_id = upload(a_, kCsv);
  EXPECT_EQ(jobCount(*poll(key)), 1u);
  EXPECT_EQ(jobCount(*poll(key)), 0u) << "leased: nobody else gets it";
  clock_.advance(std::chrono::seconds(11));
  auto again = poll(key);
  ASSERT_EQ(jobCount(*again), 1u);
  EXPECT_EQ(again->json().at("jobs").at(0).at("attempt").as_int64(), 2);
  clock_.advance(std::chrono::seconds(11));
  EXPECT_EQ(jobCount(*poll(key)), 0u) << "max_attempts reached: quarantined";
  ASSERT_TRUE(service_->queue().failQuarantinedRuns().isOk());
  EXPECT_EQ(runStatus(a_, run_id), "failed");
}

TEST_F(ControlPlaneServiceTest, ProgressExtendsTheLease) {
  std::string key = enroll(a_);
  std::string run_id = upload(a_, kCsv);
  ASSERT_EQ(jobCount(*poll(key)), 1u);
  clock_.advance(std::chrono::seconds(8));
  auto pr = call("POST", "/agent/v1/jobs/" + run_id + "/progress", "NodeKey " + key, "{}");
  EXPECT_EQ(pr->response->status, 200) << pr->response->body;
  clock_.advance(std::chrono::seconds(8));
  EXPECT_EQ(jobCount(*poll(key)), 0u) << "the heartbeat kept the lease";
}

TEST_F(ControlPlaneServiceTest, ResultIsRecordedOnceAndAnotherTenantsAgentGets404) {
  std::string key_a = enroll(a_);
  std::string key_b = enroll(b_);
  std::string run_id = upload(a_, kCsv);
  ASSERT_EQ(jobCount(*poll(key_a)), 1u);
  const std::string body =
      R"({"status":"succeeded","outcomes":[{"employee_id":"E1","action":"created","dn":"CN=Ann Lee,DC=x"}]})";
  auto stolen = call("POST", "/agent/v1/jobs/" + run_id + "/result", "NodeKey " + key_b, body);
  EXPECT_EQ(stolen->response->status, 404);
  EXPECT_EQ(runStatus(a_, run_id), "running");
  auto ok = call("POST", "/agent/v1/jobs/" + run_id + "/result", "NodeKey " + key_a, body);
  EXPECT_EQ(ok->response->status, 200) << ok->response->body;
  EXPECT_EQ(runStatus(a_, run_id), "succeeded");
  auto dup = call("POST", "/agent/v1/jobs/" + run_id + "/result", "NodeKey " + key_a, body);
  EXPECT_EQ(dup->response->status, 200);
  EXPECT_TRUE(dup->json().at("duplicate").as_bool());
}

TEST_F(ControlPlaneServiceTest, RunReportNamesTheAgentThatFinishedTheRunAfterAFailover) {
  auto enrolled = [&](const std::string& host) {
    auto r = call("POST", "/agent/v1/enroll", "",
                  R"({"enroll_secret":")" + a_.enroll_secret + R"(","host":")" + host + "\"}");
    EXPECT_EQ(r->response->status, 200) << r->response->body;
    return std::pair{std::string(r->json().at("node_key").get_string()),
                     std::string(r->json().at("agent_id").get_string())};
  };
  auto [key1, agent1] = enrolled("h1");
  auto [key2, agent2] = enrolled("h2");
  ASSERT_NE(agent1, agent2);
  std::string run_id = upload(a_, kCsv);
  auto agentOfRun = [&] {
    auto r = call("GET", "/api/v1/runs/" + run_id, "Bearer " + a_.api_token);
    const bj::object o = r->json().as_object();
    return o.contains("agent_id") ? std::string(o.at("agent_id").get_string()) : std::string();
  };
  ASSERT_EQ(jobCount(*poll(key1)), 1u);
  EXPECT_EQ(agentOfRun(), agent1);
  clock_.advance(std::chrono::seconds(11));  // agent 1 went silent: its lease expired
  ASSERT_EQ(jobCount(*poll(key2)), 1u);
  EXPECT_EQ(agentOfRun(), agent2) << "the run is now agent 2's";
  auto done = call("POST", "/agent/v1/jobs/" + run_id + "/result", "NodeKey " + key2,
                   R"({"status":"succeeded","outcomes":[]})");
  ASSERT_EQ(done->response->status, 200) << done->response->body;
  EXPECT_EQ(runStatus(a_, run_id), "succeeded");
  EXPECT_EQ(agentOfRun(), agent2);
  auto report = tenants_->forTenant(a_.tenant.tenant_id).value()->report(run_id).value();
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->run.agent_id, agent2);
}

TEST_F(ControlPlaneServiceTest, NamesOfDeletedAccountsAreReservedForLaterJobs) {
  std::string key = enroll(a_);
  std::string run_id = upload(a_, kCsv);
  ASSERT_EQ(jobCount(*poll(key)), 1u);
  const std::string body =
      R"({"status":"succeeded","outcomes":[{"employee_id":"E1","action":"deleted",)"
      R"("sam_account_name":"alee","upn":"alee@example.test","mail":"Ann.Lee@example.test"}]})";
  auto ok = call("POST", "/agent/v1/jobs/" + run_id + "/result", "NodeKey " + key, body);
  ASSERT_EQ(ok->response->status, 200) << ok->response->body;
  upload(a_, kCsv);
  auto job = protocol::parsePollResponse(poll(key)->json()).value().jobs.at(0);
  std::set<std::string> reserved(job.reserved_names.begin(), job.reserved_names.end());
  EXPECT_TRUE(reserved.count("alee"));
  EXPECT_TRUE(reserved.count("alee@example.test"));
  EXPECT_TRUE(reserved.count("ann.lee@example.test")) << "stored lower case";
}

TEST_F(ControlPlaneServiceTest, MalformedResultIsA400AndChangesNothing) {
  std::string key = enroll(a_);
  std::string run_id = upload(a_, kCsv);
  ASSERT_EQ(jobCount(*poll(key)), 1u);
  auto bad = call("POST", "/agent/v1/jobs/" + run_id + "/result", "NodeKey " + key,
                  R"({"status":"great"})");
  EXPECT_EQ(bad->response->status, 400);
  EXPECT_EQ(runStatus(a_, run_id), "running");
}

TEST_F(ControlPlaneServiceTest, TenantTokenCannotReadAnotherTenantsRun) {
  std::string run_id = upload(a_, kCsv);
  auto r = call("GET", "/api/v1/runs/" + run_id, "Bearer " + b_.api_token);
  EXPECT_EQ(r->response->status, 404);
  EXPECT_EQ(r->response->body.find("E1"), std::string::npos);
  auto list = call("GET", "/api/v1/runs", "Bearer " + b_.api_token);
  EXPECT_EQ(list->json().at("runs").as_array().size(), 0u);
  EXPECT_EQ(call("GET", "/api/v1/runs", "Bearer " + a_.enroll_secret)->response->status, 401)
      << "an enroll secret is not an API token";
}

TEST_F(ControlPlaneServiceTest, NodeInvalidOnlyForUnknownOrRevokedKeys) {
  std::string key = enroll(a_);
  EXPECT_EQ(poll(key)->response->status, 200);
  auto unknown = poll("nope");
  EXPECT_EQ(unknown->response->status, 401);
  EXPECT_EQ(unknown->json().at("error").as_string(), "node_invalid");
  auto agents = control_->listAgents(a_.tenant.tenant_id).value();
  ASSERT_TRUE(control_->revokeAgent(a_.tenant.tenant_id, agents.at(0).agent_id).isOk());
  EXPECT_EQ(poll(key)->json().at("error").as_string(), "node_invalid");
}

TEST_F(ControlPlaneServiceTest, AllRowsRejectedIs422WithNoRun) {
  auto r = call("POST", "/api/v1/hr/records", "Bearer " + a_.api_token,
                "employee_id,given_name,family_name\n,Ann,Lee\n", "text/csv");
  EXPECT_EQ(r->response->status, 422);
  EXPECT_TRUE(r->json().at("run_id").is_null());
  EXPECT_EQ(call("GET", "/api/v1/runs", "Bearer " + a_.api_token)
                ->json().at("runs").as_array().size(),
            0u);
}

TEST_F(ControlPlaneServiceTest, RecoverRequeuesARunWhoseJobWasNeverWritten) {
  // A crash between the tenant store and the control store leaves a run without a job.
  RunRecord run;
  run.run_id = "r_orphan";
  run.created_at_ms = clock_.nowUnixMillis();
  hr::HrRecord rec;
  rec.employee_id = "E9";
  rec.given_name = "Orphan";
  rec.family_name = "Run";
  ASSERT_TRUE(tenants_->forTenant(a_.tenant.tenant_id).value()->createRun(run, {rec}).isOk());
  std::string key = enroll(a_);
  EXPECT_EQ(jobCount(*poll(key)), 0u);
  ASSERT_TRUE(service_->queue().recover().isOk());
  auto p = poll(key);
  ASSERT_EQ(jobCount(*p), 1u);
  EXPECT_EQ(p->json().at("jobs").at(0).at("run_id").as_string(), "r_orphan");
  ASSERT_TRUE(service_->queue().recover().isOk());
  EXPECT_EQ(control_->listJobs(a_.tenant.tenant_id).value().size(), 1u) << "recover is idempotent";
}

}  // namespace
}  // namespace tenure::cp
