// Schedules, the scheduler, retries with backoff, quarantine tickets and agent health: the
// service and the scheduler against real SQLite stores in a temp dir, with a ManualClock;
// requests go straight to ControlPlaneService::handle().

#include "controlplane/scheduler/scheduler.h"
#include "controlplane/service/control_plane_service.h"
#include "controlplane/api/control_plane_api.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <optional>
#include <map>
#include <set>

#include "common/base/time_zone.h"
#include "common/protocol/messages.h"

namespace tenure::cp {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;

struct Captured {
  std::optional<HttpServerResponse> response;
  bj::value json() const { return bj::parse(response->body); }
  int status() const { return response ? response->status : 0; }
};

class RecordingTickets final : public TicketRaiser {
 public:
  void raise(const Detection& d) override { raised.push_back(d); }
  void clear(const std::string&, const std::string&, const std::string&) override {}
  std::vector<Detection> raised;
};

// "YYYY-MM-DDTHH:MM:SSZ" -> Unix milliseconds.
int64_t utcMs(const std::string& iso) {
  const int64_t days = daysFromCivil(std::stoll(iso.substr(0, 4)),
                                     static_cast<unsigned>(std::stoi(iso.substr(5, 2))),
                                     static_cast<unsigned>(std::stoi(iso.substr(8, 2))));
  return (days * 86400 + std::stoll(iso.substr(11, 2)) * 3600 + std::stoll(iso.substr(14, 2)) * 60 +
          std::stoll(iso.substr(17, 2))) *
         1000;
}

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tenure-sched-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    clock_.setUnixMillis(utcMs("2026-03-28T12:00:00Z"));
    control_ = std::move(ControlStore::open((dir_ / "control.db").string(), clock_).value());
    tenants_ = std::make_unique<TenantStores>((dir_ / "tenants").string(), clock_);
    options_.lease = std::chrono::milliseconds(10'000);
    options_.max_attempts = 3;
    options_.retry_base = std::chrono::milliseconds(1'000);
    options_.retry_cap = std::chrono::milliseconds(3'000);
    makeService();
    a_ = control_->createTenant("A").value();
    b_ = control_->createTenant("B").value();
    admin_ = control_->createAdminToken("ops").value().token;
  }

  void makeService() {
    scheduler_.reset();
    service_ = std::make_unique<ControlPlaneService>(io_, *control_, *tenants_, clock_, options_,
                                                     ServiceCollaborators{.tickets = &tickets_});
    api_ = std::make_unique<api::ControlPlaneApi>(
        api::ApiComponents{*control_, *tenants_, clock_, *service_, nullptr, nullptr, nullptr});
    scheduler_ = std::make_unique<Scheduler>(io_, service_->intake(), *control_, *tenants_, clock_);
  }

  void TearDown() override {
    scheduler_.reset();
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
  std::shared_ptr<Captured> tenantCall(const TenantCredentials& t, const std::string& method,
                                       const std::string& path, const std::string& body = "") {
    return call(method, path, "Bearer " + t.api_token, body);
  }

  std::string enroll(const TenantCredentials& t, const std::string& host = "h") {
    auto r = call("POST", "/agent/v1/enroll", "",
                  R"({"enroll_secret":")" + t.enroll_secret + R"(","host":")" + host +
                      R"(","version":"1.2.3"})");
    EXPECT_EQ(r->status(), 200) << r->response->body;
    return std::string(r->json().at("node_key").get_string());
  }

  std::string upload(const TenantCredentials& t, const std::string& csv) {
    auto r = call("POST", "/api/v1/hr/records", "Bearer " + t.api_token, csv, "text/csv");
    EXPECT_EQ(r->status(), 202) << r->response->body;
    return r->status() == 202 ? std::string(r->json().at("run_id").get_string()) : "";
  }

  void setTimeZone(const TenantCredentials& t, const std::string& zone,
                   const std::string& extra = "") {
    auto r = tenantCall(t, "PUT", "/api/v1/policy",
                        R"({"lifecycle":{"time_zone":")" + zone + "\"" + extra + "}}");
    ASSERT_EQ(r->status(), 200) << r->response->body;
  }

  // The jobs of a poll (wait 0).
  std::vector<protocol::Job> poll(const std::string& key) {
    auto r = call("POST", "/agent/v1/poll", "NodeKey " + key, R"({"wait_s":0})");
    EXPECT_EQ(r->status(), 200) << (r->response ? r->response->body : "");
    if (r->status() != 200) return {};
    return protocol::parsePollResponse(r->json()).value().jobs;
  }

  std::shared_ptr<Captured> postResult(const std::string& key, const std::string& job_id,
                                       const std::string& body) {
    return call("POST", "/agent/v1/jobs/" + job_id + "/result", "NodeKey " + key, body);
  }

  std::string runStatus(const TenantCredentials& t, const std::string& run_id) {
    auto r = tenantCall(t, "GET", "/api/v1/runs/" + run_id);
    return std::string(r->json().at("status").get_string());
  }

  bj::object createSchedule(const TenantCredentials& t, const std::string& kind,
                            const std::string& cron) {
    auto r = tenantCall(t, "POST", "/api/v1/schedules",
                        R"({"kind":")" + kind + R"(","cron":")" + cron + R"("})");
    EXPECT_EQ(r->status(), 201) << r->response->body;
    return r->status() == 201 ? r->json().as_object() : bj::object{};
  }

  static constexpr const char* kCsv =
      "employee_id,given_name,family_name,department,status\n"
      "E1,Ann,Lee,Sales,active\nE2,Bo,Berg,IT,active\n";

  fs::path dir_;
  ManualClock clock_;
  boost::asio::io_context io_;
  ServiceOptions options_;
  RecordingTickets tickets_;
  std::unique_ptr<ControlStore> control_;
  std::unique_ptr<TenantStores> tenants_;
  std::unique_ptr<ControlPlaneService> service_;
  std::unique_ptr<api::ControlPlaneApi> api_;
  std::unique_ptr<Scheduler> scheduler_;
  TenantCredentials a_, b_;
  std::string admin_;
};

// ---------------------------------------------------------------------------------------------
// Schedules API

TEST_F(SchedulerTest, CreatedScheduleRunsNextInTheTenantsTimeZone) {
  setTimeZone(a_, "Europe/Berlin");
  // 02:00 on 2026-03-29 does not exist in Berlin: the run is at 03:00 CEST (01:00 UTC).
  bj::object s = createSchedule(a_, "reconcile", "0 2 * * *");
  EXPECT_EQ(s.at("next_run_at").as_string(), "2026-03-29T01:00:00Z");
  EXPECT_EQ(s.at("time_zone").as_string(), "Europe/Berlin");
  EXPECT_TRUE(s.at("enabled").as_bool());
  EXPECT_TRUE(s.at("last_run_at").is_null());
  const std::string id(s.at("id").as_string());

  auto list = tenantCall(a_, "GET", "/api/v1/schedules");
  ASSERT_EQ(list->status(), 200);
  ASSERT_EQ(list->json().at("schedules").as_array().size(), 1u);
  auto one = tenantCall(a_, "GET", "/api/v1/schedules/" + id);
  ASSERT_EQ(one->status(), 200);
  EXPECT_EQ(one->json().at("cron").as_string(), "0 2 * * *");
}

TEST_F(SchedulerTest, InvalidSchedulesAreRefusedWithPathAndReason) {
  auto bad_cron = tenantCall(a_, "POST", "/api/v1/schedules",
                             R"({"kind":"reconcile","cron":"0 25 * * *"})");
  ASSERT_EQ(bad_cron->status(), 422);
  auto err = bad_cron->json().at("errors").at(0);
  EXPECT_EQ(err.at("path").as_string(), "cron");
  EXPECT_NE(std::string(err.at("reason").as_string()).find("position 3: hour 25"),
            std::string::npos)
      << err;

  auto bad_kind = tenantCall(a_, "POST", "/api/v1/schedules",
                             R"({"kind":"dance","cron":"0 2 * * *","color":"red"})");
  ASSERT_EQ(bad_kind->status(), 422);
  std::set<std::string> paths;
  const bj::value bad_kind_body = bad_kind->json();
  for (const auto& e : bad_kind_body.at("errors").as_array()) {
    paths.insert(std::string(e.at("path").as_string()));
  }
  EXPECT_EQ(paths, (std::set<std::string>{"kind", "color"}));

  auto missing = tenantCall(a_, "POST", "/api/v1/schedules", "{}");
  ASSERT_EQ(missing->status(), 422);
  EXPECT_EQ(missing->json().at("errors").as_array().size(), 2u);

  auto never = tenantCall(a_, "POST", "/api/v1/schedules",
                          R"({"kind":"reconcile","cron":"0 0 30 2 *"})");
  ASSERT_EQ(never->status(), 422);
  EXPECT_NE(never->response->body.find("never runs"), std::string::npos);

  auto enabled = tenantCall(a_, "POST", "/api/v1/schedules",
                            R"({"kind":"reconcile","cron":"@daily","enabled":"yes"})");
  EXPECT_EQ(enabled->status(), 422);
  EXPECT_EQ(tenantCall(a_, "POST", "/api/v1/schedules", "{")->status(), 400);
  EXPECT_EQ(tenantCall(a_, "POST", "/api/v1/schedules", "[]")->status(), 400);
  EXPECT_EQ(tenantCall(a_, "GET", "/api/v1/schedules")->json().at("schedules").as_array().size(),
            0u)
      << "nothing half-created";
}

TEST_F(SchedulerTest, UpdateValidatesAndDisablingClearsTheNextRun) {
  const std::string id(createSchedule(a_, "expiry_sweep", "0 6 * * *").at("id").as_string());
  auto bad = tenantCall(a_, "PUT", "/api/v1/schedules/" + id, R"({"cron":"0 6 * *"})");
  ASSERT_EQ(bad->status(), 422);
  EXPECT_EQ(tenantCall(a_, "GET", "/api/v1/schedules/" + id)->json().at("cron").as_string(),
            "0 6 * * *");

  auto off = tenantCall(a_, "PUT", "/api/v1/schedules/" + id, R"({"enabled":false})");
  ASSERT_EQ(off->status(), 200) << off->response->body;
  EXPECT_TRUE(off->json().at("next_run_at").is_null());
  clock_.advance(std::chrono::hours(48));
  EXPECT_EQ(scheduler_->runDue().value(), 0) << "a disabled schedule does not run";

  auto on = tenantCall(a_, "PUT", "/api/v1/schedules/" + id,
                       R"({"enabled":true,"cron":"30 7 * * *"})");
  ASSERT_EQ(on->status(), 200);
  EXPECT_EQ(on->json().at("next_run_at").as_string(), "2026-03-31T07:30:00Z");

  EXPECT_EQ(tenantCall(a_, "DELETE", "/api/v1/schedules/" + id)->status(), 200);
  EXPECT_EQ(tenantCall(a_, "GET", "/api/v1/schedules/" + id)->status(), 404);
}

TEST_F(SchedulerTest, AnotherTenantsScheduleIsNotFound) {
  const std::string id(createSchedule(a_, "reconcile", "0 2 * * *").at("id").as_string());
  EXPECT_EQ(tenantCall(b_, "GET", "/api/v1/schedules/" + id)->status(), 404);
  EXPECT_EQ(tenantCall(b_, "PUT", "/api/v1/schedules/" + id, R"({"enabled":false})")->status(),
            404);
  EXPECT_EQ(tenantCall(b_, "DELETE", "/api/v1/schedules/" + id)->status(), 404);
  EXPECT_EQ(tenantCall(b_, "GET", "/api/v1/schedules")->json().at("schedules").as_array().size(),
            0u);
  EXPECT_TRUE(tenantCall(a_, "GET", "/api/v1/schedules/" + id)->json().at("enabled").as_bool());
}

// ---------------------------------------------------------------------------------------------
// Scheduler

TEST_F(SchedulerTest, DueReconcileQueuesOneBatchRunCarryingEveryIdentity) {
  upload(a_, kCsv);
  upload(a_, "employee_id,given_name,family_name,department,status\nE1,Ann,Lee,Marketing,active\n");
  upload(b_, "employee_id,given_name,family_name,status\nB1,Cy,Dahl,active\n");
  createSchedule(a_, "reconcile", "0 13 * * *");
  EXPECT_EQ(scheduler_->runDue().value(), 0) << "not due yet";
  clock_.advance(std::chrono::hours(1));
  ASSERT_EQ(scheduler_->runDue().value(), 1);

  auto s = tenantCall(a_, "GET", "/api/v1/schedules")->json().at("schedules").at(0);
  ASSERT_TRUE(s.at("last_run_id").is_string()) << s;
  const std::string run_id(s.at("last_run_id").as_string());
  EXPECT_EQ(s.at("last_run_at").as_string(), "2026-03-28T13:00:00Z");
  EXPECT_EQ(s.at("next_run_at").as_string(), "2026-03-29T13:00:00Z");

  auto job = control_->job(run_id).value();
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->priority, 0);
  EXPECT_EQ(job->kind, "reconcile");
  auto store = tenants_->forTenant(a_.tenant.tenant_id).value();
  auto run = store->run(run_id).value();
  EXPECT_EQ(run->source, "schedule");
  EXPECT_FALSE(run->dry_run);
  auto ids = store->runIdentities(run_id).value();
  ASSERT_EQ(ids.size(), 2u) << "every identity of tenant A, none of B";
  EXPECT_EQ(ids[0].employee_id, "E1");
  EXPECT_EQ(ids[0].department, "Marketing") << "the latest record";
  EXPECT_EQ(ids[1].employee_id, "E2");
}

TEST_F(SchedulerTest, ReconcileOfATenantWithoutIdentitiesStillRuns) {
  createSchedule(a_, "reconcile", "*/5 * * * *");
  clock_.advance(std::chrono::minutes(5));
  ASSERT_EQ(scheduler_->runDue().value(), 1);
  auto s = tenantCall(a_, "GET", "/api/v1/schedules")->json().at("schedules").at(0);
  ASSERT_TRUE(s.at("last_run_id").is_string()) << s;
  EXPECT_EQ(runStatus(a_, std::string(s.at("last_run_id").as_string())), "queued");
}

TEST_F(SchedulerTest, MissedSlotsAfterDowntimeRunOnce) {
  createSchedule(a_, "reconcile", "*/5 * * * *");
  clock_.advance(std::chrono::hours(24));  // 288 slots missed
  EXPECT_EQ(scheduler_->runDue().value(), 1);
  EXPECT_EQ(scheduler_->runDue().value(), 0);
  EXPECT_EQ(control_->listJobs(a_.tenant.tenant_id).value().size(), 1u);
  auto s = tenantCall(a_, "GET", "/api/v1/schedules")->json().at("schedules").at(0);
  EXPECT_EQ(s.at("next_run_at").as_string(), "2026-03-29T12:05:00Z");
}

TEST_F(SchedulerTest, TheTimerRunsDueSchedulesOnTheServicesIoContext) {
  SchedulerOptions fast;
  fast.tick = std::chrono::milliseconds(10);
  Scheduler timed(io_, service_->intake(), *control_, *tenants_, clock_, fast);
  createSchedule(a_, "reconcile", "*/5 * * * *");
  clock_.advance(std::chrono::minutes(5));
  timed.start();
  std::string run_id;
  for (int i = 0; i < 500 && run_id.empty(); ++i) {  // bounded: a broken timer fails, not hangs
    io_.run_for(std::chrono::milliseconds(10));
    auto s = tenantCall(a_, "GET", "/api/v1/schedules")->json().at("schedules").at(0);
    if (s.at("last_run_id").is_string()) run_id = std::string(s.at("last_run_id").as_string());
  }
  timed.stop();
  ASSERT_FALSE(run_id.empty());
  EXPECT_EQ(control_->listJobs(a_.tenant.tenant_id).value().size(), 1u)
      << "many ticks, one slot, one run";
}

TEST_F(SchedulerTest, ASlotNeverRunsTwiceAcrossARestart) {
  createSchedule(a_, "reconcile", "0 13 * * *");
  clock_.advance(std::chrono::hours(1));
  ASSERT_EQ(scheduler_->runDue().value(), 1);
  // A restart: new control-store connection, new service and scheduler, same clock.
  control_ = std::move(ControlStore::open((dir_ / "control.db").string(), clock_).value());
  makeService();
  ASSERT_TRUE(service_->queue().recover().isOk());
  EXPECT_EQ(scheduler_->runDue().value(), 0);
  EXPECT_EQ(control_->listJobs(a_.tenant.tenant_id).value().size(), 1u);
}

TEST_F(SchedulerTest, PreviewIsADryRunReconcile) {
  upload(a_, kCsv);
  createSchedule(a_, "preview", "0 13 * * *");
  clock_.advance(std::chrono::hours(1));
  ASSERT_EQ(scheduler_->runDue().value(), 1);
  auto s = tenantCall(a_, "GET", "/api/v1/schedules")->json().at("schedules").at(0);
  auto store = tenants_->forTenant(a_.tenant.tenant_id).value();
  auto run = store->run(std::string(s.at("last_run_id").as_string())).value();
  EXPECT_TRUE(run->dry_run);
  EXPECT_EQ(run->kind, "preview");
  EXPECT_EQ(store->runIdentities(run->run_id).value().size(), 2u);
}

TEST_F(SchedulerTest, ExpirySweepCarriesThePeopleWhoseDatesAreDueNowOrSoon) {
  setTimeZone(a_, "Europe/Berlin", R"(,"delete_after_days":30)");
  // Today in Berlin is 2026-03-28.
  upload(a_,
         "employee_id,given_name,family_name,start_date,end_date,status\n"
         "LEAVER,Lea,Ver,2020-01-01,2026-03-28,active\n"      // last day today
         "STARTER,Sta,Rter,2026-03-29,,active\n"               // starts tomorrow
         "PREHIRE,Pre,Hire,2026-04-04,,active\n"               // pre-hire account appears today
         "LATER,La,Ter,2026-09-01,,active\n"                   // far ahead
         "RETIRED,Re,Tired,2010-01-01,2026-02-25,terminated\n"  // deleted 30 days after leaving
         "STEADY,Ste,Ady,2019-05-01,,active\n");
  auto records = scheduler_->recordsFor(a_.tenant.tenant_id, "expiry_sweep", 0, clock_.nowUnixMillis());
  ASSERT_TRUE(records.isOk()) << records.status().toString();
  std::set<std::string> ids;
  for (const auto& r : *records) ids.insert(r.employee_id);
  EXPECT_EQ(ids, (std::set<std::string>{"LEAVER", "STARTER", "PREHIRE", "RETIRED"}));

  createSchedule(a_, "expiry_sweep", "0 * * * *");
  clock_.advance(std::chrono::hours(1));
  ASSERT_EQ(scheduler_->runDue().value(), 1);
  auto s = tenantCall(a_, "GET", "/api/v1/schedules")->json().at("schedules").at(0);
  auto store = tenants_->forTenant(a_.tenant.tenant_id).value();
  EXPECT_EQ(store->runIdentities(std::string(s.at("last_run_id").as_string())).value().size(),
            4u);
}

TEST_F(SchedulerTest, HrPullCallsTheRegisteredHookWithTheTenant) {
  createSchedule(a_, "hr_pull", "*/10 * * * *");
  clock_.advance(std::chrono::minutes(10));
  ASSERT_EQ(scheduler_->runDue().value(), 0) << "no hook: nothing ran";
  auto s = tenantCall(a_, "GET", "/api/v1/schedules")->json().at("schedules").at(0);
  EXPECT_NE(std::string(s.at("last_error").as_string()).find("no HR connector"),
            std::string::npos);

  std::vector<std::string> pulled;
  scheduler_ = std::make_unique<Scheduler>(io_, service_->intake(), *control_, *tenants_, clock_,
                                           SchedulerOptions{}, [&](const std::string& tenant_id) {
                                             pulled.push_back(tenant_id);
                                             return Status::ok();
                                           });
  clock_.advance(std::chrono::minutes(10));
  ASSERT_EQ(scheduler_->runDue().value(), 1);
  EXPECT_EQ(pulled, std::vector<std::string>{a_.tenant.tenant_id});
  s = tenantCall(a_, "GET", "/api/v1/schedules")->json().at("schedules").at(0);
  EXPECT_TRUE(s.at("last_error").is_null());
}

TEST_F(SchedulerTest, AQueuedPushIsLeasedBeforeOlderBatchJobs) {
  std::string key = enroll(a_);
  std::string done = upload(a_, kCsv);
  ASSERT_EQ(poll(key).size(), 1u);  // the first upload is out of the way
  ASSERT_EQ(postResult(key, done, R"({"status":"succeeded","outcomes":[]})")->status(), 200);
  createSchedule(a_, "reconcile", "*/5 * * * *");
  createSchedule(a_, "expiry_sweep", "*/5 * * * *");
  clock_.advance(std::chrono::minutes(5));
  ASSERT_EQ(scheduler_->runDue().value(), 2);
  clock_.advance(std::chrono::seconds(1));
  std::string push = upload(a_, "employee_id,given_name,family_name,status\nE9,Ny,Ans,active\n");
  auto first = poll(key);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].run_id, push) << "real-time work (priority 10) before batch (0)";
  auto second = poll(key);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].kind, "reconcile") << "then batch jobs, oldest first";
}

// ---------------------------------------------------------------------------------------------
// Retries, backoff and quarantine

TEST_F(SchedulerTest, TransientFailureIsRetriedWithExponentialBackoffThenQuarantinedWithATicket) {
  std::string key = enroll(a_);
  std::string run_id = upload(a_, kCsv);
  const std::string transient =
      R"({"status":"failed","error_class":"transient","error_message":"cannot reach the DC"})";
  // attempt 1 fails: retried after min(1 s * 2^1, 3 s) = 2 s.
  ASSERT_EQ(poll(key).size(), 1u);
  auto r = postResult(key, run_id, transient);
  ASSERT_EQ(r->status(), 200) << r->response->body;
  EXPECT_TRUE(r->json().at("retry").as_bool());
  EXPECT_EQ(runStatus(a_, run_id), "running") << "not failed: it will be retried";
  EXPECT_EQ(poll(key).size(), 0u);
  clock_.advance(std::chrono::milliseconds(1'999));
  EXPECT_EQ(poll(key).size(), 0u);
  clock_.advance(std::chrono::milliseconds(1));
  auto second = poll(key);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].attempt, 2);
  // attempt 2 fails: min(1 s * 2^2, 3 s) = 3 s (the cap).
  ASSERT_EQ(postResult(key, run_id, transient)->status(), 200);
  clock_.advance(std::chrono::milliseconds(2'999));
  EXPECT_EQ(poll(key).size(), 0u);
  clock_.advance(std::chrono::milliseconds(1));
  auto third = poll(key);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].attempt, 3);
  EXPECT_TRUE(tickets_.raised.empty());
  // attempt 3 (max_attempts) fails: quarantined, run failed, ticket raised.
  ASSERT_EQ(postResult(key, run_id, transient)->status(), 200);
  EXPECT_EQ(control_->job(run_id).value()->state, JobState::kQuarantined);
  EXPECT_EQ(runStatus(a_, run_id), "failed");
  ASSERT_EQ(tickets_.raised.size(), 1u);
  EXPECT_EQ(tickets_.raised[0].tenant_id, a_.tenant.tenant_id);
  EXPECT_EQ(tickets_.raised[0].detector, "job_quarantined");
  EXPECT_EQ(tickets_.raised[0].subject, run_id);
  clock_.advance(std::chrono::hours(1));
  EXPECT_EQ(poll(key).size(), 0u) << "a quarantined job is never leased again";
}

TEST_F(SchedulerTest, ExpiredLeaseIsRetriedAfterBackoffAndQuarantinedAtOnceWithATicket) {
  std::string key = enroll(a_);
  std::string run_id = upload(a_, kCsv);
  ASSERT_EQ(poll(key).size(), 1u);
  clock_.advance(std::chrono::milliseconds(10'000 + 1'999));  // lease + backoff - 1 ms
  EXPECT_EQ(poll(key).size(), 0u);
  clock_.advance(std::chrono::milliseconds(1));
  ASSERT_EQ(poll(key).size(), 1u);
  clock_.advance(std::chrono::milliseconds(10'000 + 3'000));
  ASSERT_EQ(poll(key).size(), 1u);  // attempt 3
  clock_.advance(std::chrono::milliseconds(10'000 + 3'000));
  EXPECT_EQ(poll(key).size(), 0u);
  // No sweep ran: the lease that found the job quarantined failed the run and raised the ticket.
  EXPECT_EQ(runStatus(a_, run_id), "failed");
  ASSERT_EQ(tickets_.raised.size(), 1u);
  EXPECT_EQ(tickets_.raised[0].detector, "job_quarantined");
  EXPECT_EQ(tickets_.raised[0].subject, run_id);
}

TEST_F(SchedulerTest, PermanentFailureIsRecordedNotRetried) {
  std::string key = enroll(a_);
  std::string run_id = upload(a_, kCsv);
  ASSERT_EQ(poll(key).size(), 1u);
  auto r = postResult(key, run_id,
                      R"({"status":"failed","error_class":"config","error_message":"no OU"})");
  ASSERT_EQ(r->status(), 200);
  EXPECT_EQ(runStatus(a_, run_id), "failed");
  EXPECT_EQ(control_->job(run_id).value()->state, JobState::kDone);
  // Not retried, so never quarantined: the failure itself is the ticket.
  ASSERT_EQ(tickets_.raised.size(), 1u);
  EXPECT_EQ(tickets_.raised[0].detector, "job_failed");
}

// ---------------------------------------------------------------------------------------------
// Agent health

TEST_F(SchedulerTest, AgentHealthShowsJobsErrorsAndTheCurrentJobToTenantAndAdmin) {
  std::string k1 = enroll(a_, "dc-host-1");
  enroll(a_, "dc-host-2");
  enroll(b_, "b-host");
  std::string run1 = upload(a_, kCsv);
  ASSERT_EQ(poll(k1).size(), 1u);

  // Agents enrolled in the same millisecond have no defined order: look them up by host.
  auto byHost = [&]() {
    std::map<std::string, bj::object> out;
    auto r = tenantCall(a_, "GET", "/api/v1/agents");
    EXPECT_EQ(r->status(), 200);
    const bj::value body = r->json();
    for (const auto& a : body.at("agents").as_array()) {
      out[std::string(a.at("host").as_string())] = a.as_object();
    }
    return out;
  };
  auto agents = byHost();
  ASSERT_EQ(agents.size(), 2u) << "only tenant A's agents";
  const bj::object& h1 = agents["dc-host-1"];
  EXPECT_EQ(h1.at("version").as_string(), "1.2.3");
  EXPECT_EQ(h1.at("current_job"), bj::value(run1));
  EXPECT_EQ(h1.at("last_seen"), bj::value("2026-03-28T12:00:00Z"));
  EXPECT_TRUE(agents["dc-host-2"].at("current_job").is_null());
  EXPECT_FALSE(h1.contains("tenant_id"));

  ASSERT_EQ(postResult(k1, run1, R"({"status":"succeeded","outcomes":[]})")->status(), 200);
  std::string run2 = upload(a_, kCsv);
  ASSERT_EQ(poll(k1).size(), 1u);
  ASSERT_EQ(postResult(k1, run2,
                       R"({"status":"failed","error_class":"permission","error_message":"insufficient access"})")
                ->status(),
            200);

  agents = byHost();
  const bj::object& after = agents["dc-host-1"];
  EXPECT_EQ(after.at("jobs_done"), bj::value(1));
  EXPECT_EQ(after.at("jobs_failed"), bj::value(1));
  EXPECT_EQ(after.at("last_error"), bj::value("insufficient access"));
  EXPECT_TRUE(after.at("current_job").is_null());
  EXPECT_EQ(agents["dc-host-2"].at("jobs_done"), bj::value(0));

  auto all = call("GET", "/admin/v1/agents", "Bearer " + admin_);
  ASSERT_EQ(all->status(), 200);
  auto everyone = all->json().at("agents").as_array();
  ASSERT_EQ(everyone.size(), 3u);
  std::set<std::string> tenants;
  for (const auto& a : everyone) tenants.insert(std::string(a.at("tenant_id").as_string()));
  EXPECT_EQ(tenants, (std::set<std::string>{a_.tenant.tenant_id, b_.tenant.tenant_id}));
  EXPECT_EQ(call("GET", "/admin/v1/agents", "Bearer " + a_.api_token)->status(), 401)
      << "a tenant token is refused on the admin API";
}

}  // namespace
}  // namespace tenure::cp
