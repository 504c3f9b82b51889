// Sinks against real local servers: an HTTP recorder standing in for a webhook receiver,
// ServiceNow and Jira (it checks nothing itself; the test reads what arrived), and Debian's
// aiosmtpd as the mail server. Delivery goes through the outbox (deliverDue), with an injected
// clock for the backoff.

#include <gtest/gtest.h>

#include "tests/controlplane/tickets/sink_test_support.h"

namespace tenure::cp::testing {
namespace {

using namespace std::chrono_literals;
using agent::testing::ChildServer;

class SinkDeliveryTest : public SinkEnv {};

TEST_F(SinkDeliveryTest, WebhookIsSignedWithHmacOverTimestampAndBody) {
  auto server = httpSink();
  ASSERT_TRUE(server);
  configure(R"([{"id":"hook","type":"webhook","url":"http://127.0.0.1:)" +
            std::to_string(server->port()) + R"(/hooks/tenure","secret":"whsec-1"}])");
  raise();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  auto got = received();
  ASSERT_EQ(got.size(), 1u);
  const auto& r = got[0];
  EXPECT_EQ(r.at("method").as_string(), "POST");
  EXPECT_EQ(r.at("path").as_string(), "/hooks/tenure");
  EXPECT_EQ(field(r, "content-type"), "application/json");
  const std::string ts = field(r, "x-tenure-timestamp");
  EXPECT_EQ(ts, std::to_string(clock_.nowUnix()));
  const std::string body(r.at("body").as_string());
  EXPECT_EQ(field(r, "x-tenure-signature"), "sha256=" + hmacHex("whsec-1", ts + "." + body));
  EXPECT_NE(field(r, "x-tenure-signature"), "sha256=" + hmacHex("other", ts + "." + body));
  bj::value payload = bj::parse(body);
  EXPECT_EQ(payload.at("event").as_string(), "opened");
  EXPECT_EQ(payload.at("tenant_id").as_string(), a_.tenant.tenant_id);
  EXPECT_EQ(payload.at("ticket").at("detector").as_string(), "bad_hr_data");
  EXPECT_EQ(payload.at("ticket").at("subject").as_string(), "E1");
  EXPECT_EQ(payload.at("ticket").at("summary").as_string(), "HR row 2 (E1) rejected: Zoë");
  EXPECT_EQ(payload.at("ticket").at("count").as_int64(), 1);
  EXPECT_TRUE(tickets_->pendingNotifications(a_.tenant.tenant_id)->empty());
}

TEST_F(SinkDeliveryTest, ServiceNowGetsATableApiIncident) {
  auto server = httpSink();
  ASSERT_TRUE(server);
  configure(R"([{"id":"snow","type":"servicenow","instance":"http://127.0.0.1:)" +
            std::to_string(server->port()) +
            R"(/","username":"tenure.integration","password":"pw:1","urgency":1,"impact":2,
               "category":"inquiry"}])");
  raise();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  auto got = received();
  ASSERT_EQ(got.size(), 2u);
  const std::string id = ticketsOf(a_).at(0).ticket_id;
  // First a look for an incident an earlier attempt may have created, by correlation_id.
  EXPECT_EQ(got[0].at("method").as_string(), "GET");
  EXPECT_EQ(got[0].at("path").as_string(),
            "/api/now/table/incident?sysparm_query=correlation_id%3Dtenure%3A" +
                a_.tenant.tenant_id + "%3A" + id +
                "%5EORDERBYsys_created_on&sysparm_fields=sys_id%2Cnumber%2Cstate&sysparm_limit=1");
  EXPECT_EQ(field(got[0], "authorization"), "Basic " + base64("tenure.integration:pw:1"));
  EXPECT_EQ(got[1].at("method").as_string(), "POST");
  EXPECT_EQ(got[1].at("path").as_string(), "/api/now/table/incident");
  EXPECT_EQ(field(got[1], "authorization"), "Basic " + base64("tenure.integration:pw:1"));
  EXPECT_EQ(field(got[1], "content-type"), "application/json");
  EXPECT_EQ(field(got[1], "accept"), "application/json");
  bj::value b = bj::parse(got[1].at("body").as_string());
  EXPECT_EQ(b.at("short_description").as_string(), "[Tenure] Open: HR row 2 (E1) rejected: Zoë");
  EXPECT_NE(b.at("description").as_string().find("Add an end date"), std::string::npos);
  EXPECT_EQ(b.at("urgency").as_string(), "1");
  EXPECT_EQ(b.at("impact").as_string(), "2");
  EXPECT_EQ(b.at("category").as_string(), "inquiry");
  EXPECT_EQ(b.at("correlation_id").as_string(), "tenure:" + a_.tenant.tenant_id + ":" + id);
}

TEST_F(SinkDeliveryTest, JiraGetsACreateIssueRequest) {
  auto server = httpSink();
  ASSERT_TRUE(server);
  configure(R"([{"id":"jira","type":"jira","base_url":"http://127.0.0.1:)" +
            std::to_string(server->port()) +
            R"(","email":"ops@acme.test","api_token":"atl-tok","project_key":"OPS",
               "issue_type":"Bug","labels":["hr-sync"]}])");
  raise();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  auto got = received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].at("path").as_string(), "/rest/api/2/issue");
  EXPECT_EQ(field(got[0], "authorization"), "Basic " + base64("ops@acme.test:atl-tok"));
  EXPECT_EQ(field(got[0], "content-type"), "application/json");
  bj::value b = bj::parse(got[0].at("body").as_string());
  const bj::value& f = b.at("fields");
  EXPECT_EQ(f.at("project").at("key").as_string(), "OPS");
  EXPECT_EQ(f.at("issuetype").at("name").as_string(), "Bug");
  EXPECT_EQ(f.at("summary").as_string(), "[Tenure] Open: HR row 2 (E1) rejected: Zoë");
  EXPECT_NE(f.at("description").as_string().find("Detector: bad_hr_data"), std::string::npos);
  std::vector<std::string> labels;
  for (const auto& l : f.at("labels").as_array()) labels.emplace_back(l.as_string());
  EXPECT_EQ(labels, (std::vector<std::string>{"tenure", "tenure-bad_hr_data", "tenure-opened",
                                              "hr-sync"}));
}

TEST_F(SinkDeliveryTest, SmtpSinkSendsMailThroughARealSmtpServer) {
  auto server = ChildServer::start(
      {"/usr/bin/python3", TENURE_SINK_SERVER, "smtp", (dir_ / "sink").string()});
  ASSERT_TRUE(server.isOk()) << server.status().toString();
  configure(R"([{"id":"mail","type":"smtp","host":"127.0.0.1","port":)" +
            std::to_string((*server)->port()) +
            R"(,"from":"tenure@msp.test","to":["it@acme.test","hr@acme.test"]}])");
  raise();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  // aiosmtpd has answered 250 once the message is in the file (written before it replies).
  const fs::path mail = dir_ / "sink" / "mail-1.json";
  ASSERT_TRUE(fs::exists(mail));
  bj::value m = bj::parse(readFile(mail));
  EXPECT_EQ(m.at("mail_from").as_string(), "tenure@msp.test");
  ASSERT_EQ(m.at("rcpt_tos").as_array().size(), 2u);
  EXPECT_EQ(m.at("rcpt_tos").at(1).as_string(), "hr@acme.test");
  const std::string data(m.at("data").as_string());
  EXPECT_NE(data.find("To: it@acme.test, hr@acme.test"), std::string::npos) << data;
  EXPECT_NE(data.find("Subject: =?UTF-8?B?"), std::string::npos);
  EXPECT_NE(data.find("How to fix: Add an end date"), std::string::npos) << data;
  EXPECT_NE(data.find("X-Tenure-Ticket: " + ticketsOf(a_).at(0).ticket_id), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "sink" / "mail-2.json"));
}

TEST_F(SinkDeliveryTest, SinkFailingTwiceDeliversExactlyOnceAfterBackoff) {
  auto server = httpSink(/*fail=*/2);
  ASSERT_TRUE(server);
  configure(R"([{"id":"hook","type":"webhook","url":"http://127.0.0.1:)" +
            std::to_string(server->port()) + R"(/h","secret":"k"}])");
  raise();
  EXPECT_EQ(tickets_->deliverDue().value(), 0);
  auto p = tickets_->pendingNotifications(a_.tenant.tenant_id).value();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].last_error.find("503"), std::string::npos) << p[0].last_error;
  EXPECT_EQ(tickets_->deliverDue().value(), 0) << "backing off: not retried yet";
  EXPECT_EQ(received().size(), 1u);
  clock_.advance(1s);
  EXPECT_EQ(tickets_->deliverDue().value(), 0);
  clock_.advance(1s);
  EXPECT_EQ(tickets_->deliverDue().value(), 0) << "second delay is twice the first";
  clock_.advance(1s);
  EXPECT_EQ(tickets_->deliverDue().value(), 1);
  clock_.advance(1h);
  EXPECT_EQ(tickets_->deliverDue().value(), 0);
  EXPECT_EQ(received().size(), 3u) << "two refused attempts and one accepted, nothing after";
  EXPECT_TRUE(tickets_->pendingNotifications(a_.tenant.tenant_id)->empty());
}

TEST_F(SinkDeliveryTest, PendingNotificationSurvivesARestart) {
  auto server = httpSink(/*fail=*/1);
  ASSERT_TRUE(server);
  configure(R"([{"id":"hook","type":"webhook","url":"http://127.0.0.1:)" +
            std::to_string(server->port()) + R"(/h","secret":"k"}])");
  raise();
  EXPECT_EQ(tickets_->deliverDue().value(), 0);
  // A new control plane process: fresh stores and services over the same files.
  tickets_.reset();
  service_.reset();
  tenants_ = std::make_unique<TenantStores>((dir_ / "tenants").string(), clock_);
  control_ = std::move(ControlStore::open((dir_ / "control.db").string(), clock_).value());
  TicketService restarted(io_, *control_, *tenants_, clock_, [this] { return &box_; },
                          transport(), ticketOptions());
  clock_.advance(1s);
  EXPECT_EQ(restarted.deliverDue().value(), 1);
  EXPECT_EQ(received().size(), 2u);
}

TEST_F(SinkDeliveryTest, ResolutionIsDeliveredAfterTheOpening) {
  auto server = httpSink();
  ASSERT_TRUE(server);
  configure(R"([{"id":"hook","type":"webhook","url":"http://127.0.0.1:)" +
            std::to_string(server->port()) + R"(/h","secret":"k"}])");
  raise();
  tickets_->clear(a_.tenant.tenant_id, "bad_hr_data", "E1");
  ASSERT_EQ(tickets_->deliverDue().value(), 2);
  auto got = received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(bj::parse(got[0].at("body").as_string()).at("event").as_string(), "opened");
  bj::value second = bj::parse(got[1].at("body").as_string());
  EXPECT_EQ(second.at("event").as_string(), "resolved");
  EXPECT_EQ(second.at("ticket").at("state").as_string(), "resolved");
}

TEST_F(SinkDeliveryTest, DeliveryWorkerSendsWithoutBeingAsked) {
  auto server = httpSink();
  ASSERT_TRUE(server);
  configure(R"([{"id":"hook","type":"webhook","url":"http://127.0.0.1:)" +
            std::to_string(server->port()) + R"(/h","secret":"k"}])");
  tickets_->start();
  raise();
  // Bounded wait only so a broken worker fails instead of hanging.
  for (int i = 0; i < 200 && received().empty(); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(received().size(), 1u);
}

}  // namespace
}  // namespace tenure::cp::testing
