// The ticket APIs and every detector, through the real service over HTTPS on loopback: agents
// enroll, poll, post plans and results, tenants upload; tickets are read back through the
// tenant and admin APIs.

#include <gtest/gtest.h>

#include "tests/controlplane/tickets/ticket_test_support.h"

namespace tenure::cp::testing {
namespace {

using namespace std::chrono_literals;

class TicketHttpTest : public TicketEnv {
 protected:
  void SetUp() override {
    TicketEnv::SetUp();
    startHttp();
  }

  std::string enroll(const TenantCredentials& t) {
    auto r = request("POST", "/agent/v1/enroll", "",
                     R"({"enroll_secret":")" + t.enroll_secret + R"(","host":"dc-agent-1"})");
    EXPECT_EQ(r.status, 200) << r.body;
    return std::string(r.json().at("node_key").as_string());
  }

  HttpResult upload(const TenantCredentials& t, const std::string& csv) {
    return request("POST", "/api/v1/hr/records", tenantAuth(t), csv, "text/csv");
  }

  // Uploads, leases the job with `key` and returns its job id (= run id).
  std::string leasedRun(const TenantCredentials& t, const std::string& key,
                        const std::string& csv = kCsv) {
    auto up = upload(t, csv);
    EXPECT_EQ(up.status, 202) << up.body;
    auto p = request("POST", "/agent/v1/poll", "NodeKey " + key, R"({"wait_s":0})");
    EXPECT_EQ(p.status, 200) << p.body;
    return std::string(p.json().at("jobs").at(0).at("job_id").as_string());
  }

  HttpResult result(const std::string& key, const std::string& job_id, const std::string& body) {
    return request("POST", "/agent/v1/jobs/" + job_id + "/result", "NodeKey " + key, body);
  }

  // GET /api/v1/tickets as tenant t: detector/subject -> ticket JSON.
  std::map<std::string, bj::object> tenantTickets(const TenantCredentials& t,
                                                  const std::string& q = "") {
    auto r = request("GET", "/api/v1/tickets" + q, tenantAuth(t));
    EXPECT_EQ(r.status, 200) << r.body;
    std::map<std::string, bj::object> out;
    const bj::value doc = r.json();
    for (const auto& v : doc.at("tickets").as_array()) {
      const auto& o = v.as_object();
      out[std::string(o.at("detector").as_string()) + "/" + std::string(o.at("subject").as_string())] = o;
    }
    return out;
  }

  std::string stateOf(const TenantCredentials& t, const std::string& key) {
    auto all = tenantTickets(t);
    auto it = all.find(key);
    return it == all.end() ? "" : std::string(it->second.at("state").as_string());
  }

  static constexpr const char* kCsv =
      "employee_id,given_name,family_name,status\nE1,Ann,Lee,active\nE2,Bo,Chan,active\n"
      "E3,Cy,Dee,active\n";
};

// ---------------------------------------------------------------------------------------------
// APIs

TEST_F(TicketHttpTest, TenantSeesItsTicketsWithEveryField) {
  ASSERT_TRUE(tickets_->raiseOrFail({a_.tenant.tenant_id, "bad_hr_data", "E7", "sum", "hint"}).isOk());
  clock_.advance(3s);
  ASSERT_TRUE(tickets_->raiseOrFail({a_.tenant.tenant_id, "bad_hr_data", "E7", "sum2", "hint2"}).isOk());
  auto r = request("GET", "/api/v1/tickets", tenantAuth(a_));
  ASSERT_EQ(r.status, 200) << r.body;
  const bj::value doc = r.json();
  const auto& t = doc.at("tickets").at(0).as_object();
  for (const char* f : {"id", "detector", "subject", "state", "count", "first_seen", "last_seen",
                        "summary", "hint"}) {
    EXPECT_TRUE(t.contains(f)) << f;
  }
  EXPECT_EQ(t.at("count").as_int64(), 2);
  EXPECT_EQ(t.at("summary").as_string(), "sum2");
  EXPECT_EQ(t.at("first_seen").as_string(), "2023-11-14T22:13:20Z");
  EXPECT_EQ(t.at("last_seen").as_string(), "2023-11-14T22:13:23Z");
  auto one = request("GET", "/api/v1/tickets/" + std::string(t.at("id").as_string()), tenantAuth(a_));
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.json().at("subject").as_string(), "E7");
}

TEST_F(TicketHttpTest, TenantFiltersByStateAndABadStateIsRefused) {
  ASSERT_TRUE(tickets_->raiseOrFail({a_.tenant.tenant_id, "job_failed", "E1", "s", "h"}).isOk());
  ASSERT_TRUE(tickets_->raiseOrFail({a_.tenant.tenant_id, "job_failed", "E2", "s", "h"}).isOk());
  tickets_->clear(a_.tenant.tenant_id, "job_failed", "E2");
  EXPECT_EQ(tenantTickets(a_, "?state=open").count("job_failed/E1"), 1u);
  EXPECT_EQ(tenantTickets(a_, "?state=open").size(), 1u);
  EXPECT_EQ(tenantTickets(a_, "?state=resolved").count("job_failed/E2"), 1u);
  EXPECT_EQ(request("GET", "/api/v1/tickets?state=closed", tenantAuth(a_)).status, 400);
}

TEST_F(TicketHttpTest, TenantBNeverSeesTenantAsTickets) {
  ASSERT_TRUE(tickets_->raiseOrFail({a_.tenant.tenant_id, "bad_hr_data", "E1", "Ann Lee", "h"}).isOk());
  const std::string id = ticketsOf(a_).at(0).ticket_id;
  auto list = request("GET", "/api/v1/tickets", tenantAuth(b_));
  ASSERT_EQ(list.status, 200);
  EXPECT_TRUE(list.json().at("tickets").as_array().empty());
  auto one = request("GET", "/api/v1/tickets/" + id, tenantAuth(b_));
  EXPECT_EQ(one.status, 404);
  EXPECT_EQ(one.body.find("Ann Lee"), std::string::npos);
  EXPECT_EQ(request("GET", "/api/v1/tickets", "").status, 401);
  EXPECT_EQ(request("GET", "/api/v1/tickets", adminAuth()).status, 401);
}

TEST_F(TicketHttpTest, OperatorsListEveryTenantsTicketsWithoutPersonalDataAndFilter) {
  ASSERT_TRUE(tickets_->raiseOrFail({a_.tenant.tenant_id, "bad_hr_data", "E1", "Ann Lee", "h"}).isOk());
  ASSERT_TRUE(tickets_->raiseOrFail({b_.tenant.tenant_id, "job_failed", "E9", "Bo", "h"}).isOk());
  auto all = request("GET", "/admin/v1/tickets", adminAuth());
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.json().at("tickets").as_array().size(), 2u);
  EXPECT_EQ(all.body.find("Ann Lee"), std::string::npos);
  EXPECT_EQ(all.body.find("\"E1\""), std::string::npos) << "subjects stay in the tenant store";
  auto a_only = request("GET", "/admin/v1/tickets?tenant=" + a_.tenant.tenant_id, adminAuth());
  ASSERT_EQ(a_only.json().at("tickets").as_array().size(), 1u);
  EXPECT_EQ(a_only.json().at("tickets").at(0).at("tenant_id").as_string(), a_.tenant.tenant_id);
  auto by_detector = request("GET", "/admin/v1/tickets?detector=job_failed&state=open", adminAuth());
  ASSERT_EQ(by_detector.json().at("tickets").as_array().size(), 1u);
  EXPECT_EQ(by_detector.json().at("tickets").at(0).at("tenant_id").as_string(), b_.tenant.tenant_id);
  EXPECT_EQ(request("GET", "/admin/v1/tickets", tenantAuth(a_)).status, 401);
}

TEST_F(TicketHttpTest, OperatorAcknowledgesAndResolvesRecordingWhoAndWhen) {
  ASSERT_TRUE(tickets_->raiseOrFail({a_.tenant.tenant_id, "job_failed", "E1", "s", "h"}).isOk());
  const std::string id = ticketsOf(a_).at(0).ticket_id;
  const std::string base = "/admin/v1/tenants/" + a_.tenant.tenant_id + "/tickets/" + id;
  clock_.advance(60s);
  auto ack = request("POST", base + "/acknowledge", adminAuth());
  ASSERT_EQ(ack.status, 200) << ack.body;
  EXPECT_EQ(ack.json().at("state").as_string(), "acknowledged");
  EXPECT_EQ(ack.json().at("acknowledged").at("by").as_string(), "olga");
  EXPECT_EQ(ack.json().at("acknowledged").at("at").as_string(), "2023-11-14T22:14:20Z");
  EXPECT_EQ(stateOf(a_, "job_failed/E1"), "acknowledged");
  auto res = request("POST", base + "/resolve", adminAuth());
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json().at("resolved").at("by").as_string(), "olga");
  EXPECT_EQ(request("POST", base + "/resolve", adminAuth()).status, 409);
  EXPECT_EQ(request("GET", base + "/resolve", adminAuth()).status, 405);
  // The ticket belongs to A: addressed through B (or an unknown tenant) it does not exist.
  EXPECT_EQ(request("POST", "/admin/v1/tenants/" + b_.tenant.tenant_id + "/tickets/" + id +
                                "/acknowledge", adminAuth()).status,
            404);
  EXPECT_EQ(request("POST", "/admin/v1/tenants/t_nope/tickets/" + id + "/acknowledge",
                    adminAuth()).status,
            404);
  EXPECT_EQ(request("POST", base + "/acknowledge", tenantAuth(a_)).status, 401);
}

TEST_F(TicketHttpTest, SinkSecretsAreNeverReturned) {
  const std::string body = R"({"sinks":[
    {"id":"hook","type":"webhook","url":"https://hooks.example.test/t","secret":"hunter2-secret"},
    {"id":"snow","type":"servicenow","instance":"https://acme.service-now.com","username":"svc",
     "password":"pw-secret","urgency":1},
    {"id":"jira","type":"jira","base_url":"https://acme.atlassian.net","email":"ops@acme.test",
     "api_token":"tok-secret","project_key":"OPS"},
    {"id":"mail","type":"smtp","host":"mail.acme.test","port":587,"from":"tenure@acme.test",
     "to":["it@acme.test"],"starttls":true,"username":"u","password":"smtp-secret"}]})";
  auto put = request("PUT", "/api/v1/ticket-sinks", tenantAuth(a_), body);
  ASSERT_EQ(put.status, 200) << put.body;
  auto get = request("GET", "/api/v1/ticket-sinks", tenantAuth(a_));
  ASSERT_EQ(get.status, 200);
  for (const auto& r : {put, get}) {
    for (const char* s : {"hunter2-secret", "pw-secret", "tok-secret", "smtp-secret", "tsb:"}) {
      EXPECT_EQ(r.body.find(s), std::string::npos) << s;
    }
  }
  const bj::value doc = get.json();
  const auto& sinks = doc.at("sinks").as_array();
  ASSERT_EQ(sinks.size(), 4u);
  EXPECT_TRUE(sinks[0].at("secret_set").as_bool());
  EXPECT_TRUE(sinks[2].at("api_token_set").as_bool());
  EXPECT_EQ(sinks[1].at("urgency").as_int64(), 1);
  EXPECT_TRUE(request("GET", "/api/v1/ticket-sinks", tenantAuth(b_))
                  .json().at("sinks").as_array().empty());
  auto bad = request("PUT", "/api/v1/ticket-sinks", tenantAuth(a_),
                     R"({"sinks":[{"id":"w","type":"webhook","url":"gopher://x"}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("url"), std::string::npos);
  EXPECT_EQ(request("GET", "/api/v1/ticket-sinks", tenantAuth(a_))
                .json().at("sinks").as_array().size(),
            4u)
      << "a refused update changes nothing";
}

// ---------------------------------------------------------------------------------------------
// Detectors

TEST_F(TicketHttpTest, FailedPeopleRaiseTicketsByErrorClassAndALaterSuccessClearsThem) {
  std::string key = enroll(a_);
  std::string job = leasedRun(a_, key);
  auto r = result(key, job, R"({"status":"partial","outcomes":[
      {"employee_id":"E1","action":"failed","error_class":"conflict","error_message":"exists"},
      {"employee_id":"E2","action":"updated","error_class":"data",
       "error_message":"manager cycle: E2 -> E9 -> E2, manager left unchanged"},
      {"employee_id":"E3","action":"failed","dn":"CN=Cy Dee,OU=Staff,DC=acme,DC=test",
       "error_class":"permission","error_message":"insufficient access","directory_code":50}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto t = tenantTickets(a_);
  EXPECT_EQ(t.count("job_failed/E1"), 1u);
  EXPECT_EQ(t.count("bad_hr_data/E2"), 1u);
  ASSERT_EQ(t.count("directory_permission/ou:OU=Staff,DC=acme,DC=test"), 1u);
  EXPECT_NE(t["directory_permission/ou:OU=Staff,DC=acme,DC=test"].at("hint").as_string().find(
                "OU=Staff"),
            std::string::npos);
  EXPECT_EQ(t.size(), 3u);

  job = leasedRun(a_, key);
  r = result(key, job, R"({"status":"succeeded","outcomes":[
      {"employee_id":"E1","action":"created"},
      {"employee_id":"E2","action":"updated"},
      {"employee_id":"E3","action":"updated","dn":"CN=Cy Dee,OU=Staff,DC=acme,DC=test"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(tenantTickets(a_, "?state=open").size(), 0u);
  EXPECT_EQ(tenantTickets(a_, "?state=resolved").size(), 3u);
}

TEST_F(TicketHttpTest, JobLevelFailureRaisesOneTicketPerKindClearedByTheNextGoodJob) {
  std::string key = enroll(a_);
  auto fail = [&](const std::string& cls) {
    return result(key, leasedRun(a_, key),
                  R"({"status":"failed","error_class":")" + cls +
                      R"(","error_message":"cannot bind","outcomes":[]})");
  };
  // A transient failure is retried (no ticket until quarantine); a config error fails the job.
  ASSERT_EQ(fail("config").status, 200);
  ASSERT_EQ(fail("config").status, 200);
  auto t = tenantTickets(a_);
  ASSERT_EQ(t.count("job_failed/job:apply"), 1u);
  EXPECT_EQ(t["job_failed/job:apply"].at("count").as_int64(), 2);
  ASSERT_EQ(fail("permission").status, 200);
  EXPECT_EQ(stateOf(a_, "directory_permission/job:apply"), "open");
  ASSERT_EQ(result(key, leasedRun(a_, key), R"({"status":"succeeded","outcomes":[]})").status, 200);
  EXPECT_EQ(stateOf(a_, "job_failed/job:apply"), "resolved");
  EXPECT_EQ(stateOf(a_, "directory_permission/job:apply"), "resolved");
}

TEST_F(TicketHttpTest, RejectedHrRowsRaiseBadDataTicketsPerEmployee) {
  auto up = upload(a_,
                   "employee_id,given_name,family_name,status,employment_type,end_date\n"
                   "E1,Ann,Lee,active,employee,\n"
                   "E1,Ann,Lee,active,employee,\n"
                   "C7,Cat,Cole,active,contractor,\n");
  ASSERT_EQ(up.status, 202) << up.body;
  auto t = tenantTickets(a_);
  ASSERT_EQ(t.count("bad_hr_data/E1"), 1u) << up.body;
  ASSERT_EQ(t.count("bad_hr_data/C7"), 1u);
  EXPECT_NE(t["bad_hr_data/C7"].at("summary").as_string().find("end_date"), std::string::npos);
  EXPECT_NE(t["bad_hr_data/E1"].at("summary").as_string().find("duplicate"), std::string::npos);
  // Every row refused: no run, but the tickets are still raised (and counted).
  auto none = upload(a_,
                     "employee_id,given_name,family_name,status,employment_type,end_date\n"
                     "C7,Cat,Cole,active,contractor,\n");
  EXPECT_EQ(none.status, 422);
  EXPECT_EQ(tenantTickets(a_)["bad_hr_data/C7"].at("count").as_int64(), 2);
  EXPECT_TRUE(tenantTickets(b_).empty());
}

TEST_F(TicketHttpTest, HeldRunRaisesATicketClearedWhenTheOperatorDecides) {
  std::string key = enroll(a_);
  std::string job = leasedRun(a_, key);
  protocol::PlanSummary plan;
  plan.job_id = job;
  plan.population = 1000;
  plan.counts = {{"disable", 60}};
  auto p = request("POST", "/agent/v1/jobs/" + job + "/plan", "NodeKey " + key,
                   bj::serialize(protocol::toJson(plan)));
  ASSERT_EQ(p.status, 200) << p.body;
  ASSERT_TRUE(p.json().at("held").as_bool());
  auto t = tenantTickets(a_);
  ASSERT_EQ(t.count("run_held/" + job), 1u);
  EXPECT_NE(t["run_held/" + job].at("summary").as_string().find("disable"), std::string::npos);
  auto rej = request("POST", "/admin/v1/tenants/" + a_.tenant.tenant_id + "/runs/" + job + "/reject",
                     adminAuth());
  ASSERT_EQ(rej.status, 200) << rej.body;
  EXPECT_EQ(stateOf(a_, "run_held/" + job), "resolved");
}

TEST_F(TicketHttpTest, QuarantinedJobRaisesATicket) {
  std::string key = enroll(a_);
  std::string job = leasedRun(a_, key);
  clock_.advance(11s);
  auto again = request("POST", "/agent/v1/poll", "NodeKey " + key, R"({"wait_s":0})");
  ASSERT_EQ(again.json().at("jobs").as_array().size(), 1u);
  clock_.advance(11s);
  auto none = request("POST", "/agent/v1/poll", "NodeKey " + key, R"({"wait_s":0})");
  ASSERT_TRUE(none.json().at("jobs").as_array().empty()) << "quarantined after 2 attempts";
  ASSERT_TRUE(service_->queue().failQuarantinedRuns().isOk());
  auto t = tenantTickets(a_);
  ASSERT_EQ(t.count("job_quarantined/" + job), 1u);
  EXPECT_EQ(t["job_quarantined/" + job].at("state").as_string(), "open");
}

TEST_F(TicketHttpTest, SilentAgentRaisesATicketThatClearsWhenItPollsAgain) {
  std::string key = enroll(a_);
  ASSERT_TRUE(tickets_->checkAgents().isOk());
  EXPECT_TRUE(tenantTickets(a_).empty());
  clock_.advance(121s);
  ASSERT_TRUE(tickets_->checkAgents().isOk());
  auto t = tenantTickets(a_);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t.begin()->second.at("detector").as_string(), "agent_silent");
  EXPECT_NE(t.begin()->second.at("summary").as_string().find("dc-agent-1"), std::string::npos);
  auto p = request("POST", "/agent/v1/poll", "NodeKey " + key, R"({"wait_s":0})");
  ASSERT_EQ(p.status, 200);
  ASSERT_TRUE(tickets_->checkAgents().isOk());
  EXPECT_EQ(tenantTickets(a_, "?state=resolved").size(), 1u);
}

TEST_F(TicketHttpTest, CertificateNearExpiryRaisesAnOperatorTicket) {
  TicketOptions o = ticketOptions();
  o.tls_cert_file = (dir_ / "cert.pem").string();  // written by startHttp, valid 825 days
  TicketService checker(io_, *control_, *tenants_, clock_, [] { return nullptr; }, transport(),
                        o);
  clock_.setUnixMillis(SystemClock::instance().nowUnixMillis());
  ASSERT_TRUE(checker.checkCertificate().isOk());
  EXPECT_TRUE(checker.list(kOperatorTenant)->empty());
  clock_.advance(std::chrono::hours(24 * 810));
  ASSERT_TRUE(checker.checkCertificate().isOk());
  auto all = request("GET", "/admin/v1/tickets?detector=certificate_expiry", adminAuth());
  ASSERT_EQ(all.json().at("tickets").as_array().size(), 1u) << all.body;
  EXPECT_EQ(all.json().at("tickets").at(0).at("tenant_id").as_string(), kOperatorTenant);
  auto t = checker.list(kOperatorTenant).value().at(0);
  EXPECT_EQ(t.subject, "cp-tls");
  EXPECT_NE(t.summary.find("in 1"), std::string::npos) << t.summary;  // 14 or 15 days
  clock_.setUnixMillis(SystemClock::instance().nowUnixMillis());
  ASSERT_TRUE(checker.checkCertificate().isOk());
  EXPECT_EQ(checker.list(kOperatorTenant).value().at(0).state, "resolved");
}

}  // namespace
}  // namespace tenure::cp::testing
