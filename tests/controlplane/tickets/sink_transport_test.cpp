// Sinks above the outbound seams, without a socket (FakeHttpClient, FakeMailTransport): what a
// delivery hands to the HTTP client or the mail transport, and how the clients' answers and
// failures become outcomes. The same sinks against real servers on loopback:
// sink_delivery_test.cpp, itsm_record_test.cpp.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "controlplane/tickets/sinks.h"
#include "tests/mocks/fake_http_client.h"

namespace tenure::cp {
namespace {

namespace bj = boost::json;
using std::chrono::milliseconds;
using tenure::testing::FakeHttpClient;
using tenure::testing::FakeMailTransport;

TicketNotice notice(const std::string& event = "opened") {
  TicketNotice n;
  n.event = event;
  n.tenant_id = "t-1";
  n.ticket_id = "tk-1";
  n.detector = "bad_hr_data";
  n.subject = "E1";
  n.state = "open";
  n.count = 2;
  n.first_seen_ms = 1'700'000'000'000;
  n.last_seen_ms = 1'700'000'060'000;
  n.summary = "E1 has no last name";
  return n;
}

std::string header(const net::HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

class SinkTransportTest : public ::testing::Test {
 protected:
  SinkOutcome deliver(const SinkConfig& sink, const TicketNotice& n,
                      const SinkDeliveryState& state = {}) {
    return deliverToSink(SinkTransport{http_, mail_}, sink, n, state, 1'700'000'100,
                         milliseconds(4'000));
  }

  FakeHttpClient http_;
  FakeMailTransport mail_;
};

TEST_F(SinkTransportTest, AWebhookIsOneSignedPostWithTheSinksTimeoutAndABoundedAnswer) {
  SinkConfig s;
  s.id = "hook";
  s.type = "webhook";
  s.settings = bj::object{{"url", "https://hooks.example.test/tenure?team=ops"}};
  s.secrets["secret"] = "shh";
  http_.reply(204);
  SinkOutcome out = deliver(s, notice());
  ASSERT_TRUE(out.status.isOk()) << out.status.toString();
  EXPECT_EQ(out.kind, "sent");
  auto sent = http_.requests();
  ASSERT_EQ(sent.size(), 1u);
  const net::HttpRequest& r = sent[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://hooks.example.test/tenure?team=ops");
  EXPECT_EQ(header(r, "Content-Type"), "application/json");
  EXPECT_EQ(header(r, "X-Tenure-Timestamp"), "1700000100");
  EXPECT_EQ(header(r, "X-Tenure-Signature"),
            "sha256=" + hmacSha256Hex("shh", "1700000100." + r.body));
  EXPECT_EQ(bj::parse(r.body).at("ticket").at("id"), "tk-1");
  EXPECT_EQ(r.timeout, milliseconds(4'000));
  EXPECT_EQ(r.connect_timeout, milliseconds(4'000));
  EXPECT_EQ(r.max_response_bytes, size_t{1} << 20);
  EXPECT_TRUE(r.truncate_response);
  EXPECT_FALSE(r.basic_auth.has_value());  // vendors get their Authorization header as built
  EXPECT_TRUE(mail_.sent().empty());
}

TEST_F(SinkTransportTest, AnyFailureOfTheClientIsTransientSoTheOutboxRetriesIt) {
  SinkConfig s;
  s.id = "hook";
  s.type = "webhook";
  s.settings = bj::object{{"url", "https://hooks.example.test/tenure"}};
  s.secrets["secret"] = "shh";
  http_.fail(configError("POST https://hooks.example.test/tenure: certificate has expired", 60));
  SinkOutcome out = deliver(s, notice());
  EXPECT_EQ(out.status.errorClass(), ErrorClass::kTransient);
  EXPECT_EQ(out.status.nativeCode(), 60);
  EXPECT_FALSE(out.permanent);
}

TEST_F(SinkTransportTest, AnHttpAnswerIsClassedByItsStatus) {
  SinkConfig s;
  s.id = "hook";
  s.type = "webhook";
  s.settings = bj::object{{"url", "https://hooks.example.test/tenure"}};
  s.secrets["secret"] = "shh";
  http_.reply(403);
  EXPECT_EQ(deliver(s, notice()).status.errorClass(), ErrorClass::kPermission);
  http_.reply(429);
  EXPECT_EQ(deliver(s, notice()).status.errorClass(), ErrorClass::kTransient);
  http_.reply(410);
  EXPECT_EQ(deliver(s, notice()).status.errorClass(), ErrorClass::kConfig);
}

TEST_F(SinkTransportTest, ServiceNowLooksForTheTicketsIncidentThenCreatesOne) {
  SinkConfig s;
  s.id = "snow";
  s.type = "servicenow";
  s.settings = bj::object{{"instance", "https://acme.service-now.test/"}, {"username", "svc"}};
  s.secrets["password"] = "pw";
  http_.reply(200, R"({"result":[]})");
  http_.reply(201, R"({"result":{"sys_id":"abc123","number":"INC0010001"}})");
  SinkOutcome out = deliver(s, notice());
  ASSERT_TRUE(out.status.isOk()) << out.status.toString();
  EXPECT_EQ(out.kind, "created");
  ASSERT_TRUE(out.record.has_value());
  EXPECT_EQ(out.record->ref, "INC0010001");
  EXPECT_EQ(out.record->record_id, "abc123");
  auto sent = http_.requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].method, "GET");
  EXPECT_EQ(sent[0].url.rfind("https://acme.service-now.test/api/now/table/incident?", 0), 0u);
  EXPECT_NE(sent[0].url.find("correlation_id%3Dtenure%3At-1%3Atk-1"), std::string::npos);
  EXPECT_EQ(sent[1].method, "POST");
  EXPECT_EQ(sent[1].url, "https://acme.service-now.test/api/now/table/incident");
  // base64("svc:pw")
  EXPECT_EQ(header(sent[1], "Authorization"), "Basic c3ZjOnB3");
  EXPECT_EQ(bj::parse(sent[1].body).at("correlation_id"), "tenure:t-1:tk-1");
}

TEST_F(SinkTransportTest, AJiraResolutionCommentsThenChecksAndMovesTheIssue) {
  SinkConfig s;
  s.id = "jira";
  s.type = "jira";
  s.settings = bj::object{{"base_url", "https://acme.atlassian.test"},
                          {"email", "bot@acme.test"},
                          {"project_key", "OPS"},
                          {"resolve_transition_id", "31"}};
  s.secrets["api_token"] = "tok";
  SinkDeliveryState state;
  state.record = ExternalRecord{"OPS-1", "10001", "https://acme.atlassian.test/browse/OPS-1",
                                "https://acme.atlassian.test"};
  http_.reply(201, R"({"id":"1"})");                     // the comment
  http_.reply(200, R"({"transitions":[{"id":"31"}]})");  // the transitions offered
  http_.reply(204);                                      // the transition
  SinkOutcome out = deliver(s, notice("resolved"), state);
  ASSERT_TRUE(out.status.isOk()) << out.status.toString();
  EXPECT_EQ(out.kind, "updated");
  EXPECT_EQ(out.steps_done, 2);
  auto sent = http_.requests();
  ASSERT_EQ(sent.size(), 3u);
  const std::string issue = "https://acme.atlassian.test/rest/api/2/issue/10001";
  EXPECT_EQ(sent[0].method + " " + sent[0].url, "POST " + issue + "/comment");
  EXPECT_EQ(sent[1].method + " " + sent[1].url, "GET " + issue + "/transitions");
  EXPECT_TRUE(sent[1].body.empty());
  EXPECT_EQ(sent[2].method + " " + sent[2].url, "POST " + issue + "/transitions");
  EXPECT_EQ(bj::parse(sent[2].body).at("transition").at("id"), "31");
}

TEST_F(SinkTransportTest, AnSmtpSinkHandsTheMailTransportItsServerAndTheEnvelope) {
  SinkConfig s;
  s.id = "mail";
  s.type = "smtp";
  s.settings =
      bj::object{{"host", "smtp.acme.test"},   {"port", 587},
                 {"starttls", true},           {"username", "tenure"},
                 {"from", "tenure@acme.test"}, {"to", bj::array{"ops@acme.test", "hr@acme.test"}}};
  s.secrets["password"] = "pw";
  SinkOutcome out = deliver(s, notice());
  ASSERT_TRUE(out.status.isOk()) << out.status.toString();
  EXPECT_EQ(out.kind, "sent");
  EXPECT_TRUE(http_.requests().empty());
  auto sent = mail_.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].server.host, "smtp.acme.test");
  EXPECT_EQ(sent[0].server.port, 587);
  EXPECT_TRUE(sent[0].server.starttls);
  EXPECT_EQ(sent[0].server.username, "tenure");
  EXPECT_EQ(sent[0].server.password, "pw");
  EXPECT_EQ(sent[0].message.from, "tenure@acme.test");
  EXPECT_EQ(sent[0].message.recipients,
            (std::vector<std::string>{"ops@acme.test", "hr@acme.test"}));
  EXPECT_NE(sent[0].message.data.find("To: ops@acme.test, hr@acme.test\r\n"), std::string::npos);
}

TEST_F(SinkTransportTest, ARefusedSmtpLoginIsAPermissionError) {
  SinkConfig s;
  s.id = "mail";
  s.type = "smtp";
  s.settings = bj::object{{"host", "smtp.acme.test"}, {"from", "a@acme.test"}};
  mail_.setResult(permissionError("smtp login refused"));
  Status st =
      sendSmtpMessage(mail_, s, {"ops@acme.test"}, "Subject: x\r\n\r\nx\r\n", milliseconds(1'000));
  EXPECT_EQ(st.errorClass(), ErrorClass::kPermission);
  ASSERT_EQ(mail_.sent().size(), 1u);
  EXPECT_EQ(mail_.sent()[0].server.port, 25);
  EXPECT_FALSE(mail_.sent()[0].server.starttls);
}

}  // namespace
}  // namespace tenure::cp
