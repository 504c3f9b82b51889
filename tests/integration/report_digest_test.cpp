// The report digest end to end: a real tenure-cp over HTTPS on loopback, a real SMTP server
// (Debian's aiosmtpd, tests/fixtures/ticket_sink_server.py) and runs with outcomes (the agent's
// side is played over HTTP: real enroll, poll and result endpoints; no directory needed).
// Configure, send, read what arrived (decoded by Python's email package: an independent MIME
// parser), send again for the next period, survive the SMTP server being down across a
// control-plane restart, and refuse bad settings.

#include <signal.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/protocol/messages.h"
#include "tests/integration/stack.h"

namespace tenure::testing {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;
using std::chrono::seconds;

constexpr const char* kPublicUrl = "https://cp.msp.test:8443";

class SmtpServer {
 public:
  SmtpServer(std::string dir, int port) : dir_(std::move(dir)), port_(port) {
    fs::create_directories(dir_);
  }
  bool start() {
    proc_ = std::make_unique<Process>();
    const std::string log = dir_ + "/smtp.log";
    const size_t before = readFile(log).size();
    if (!proc_->start(
            {"/usr/bin/python3", TENURE_SINK_SERVER, "smtp", dir_, "--port", std::to_string(port_)},
            log)) {
      return false;
    }
    return waitFor([&] { return readFile(log).find("PORT", before) != std::string::npos; },
                   seconds(20));
  }
  void stop() {
    if (proc_) proc_->signalAndWait(SIGTERM, seconds(10));
    proc_.reset();
  }
  ~SmtpServer() { stop(); }
  // The digests that arrived, in order (the tenant's ticket notifications go to the same
  // server through the same sink and are left out).
  std::vector<bj::object> mails() const {
    std::vector<bj::object> out;
    for (int n = 1;; ++n) {
      const std::string p = dir_ + "/mail-" + std::to_string(n) + ".json";
      if (!fs::exists(p)) return out;
      bj::object m = bj::parse(readFile(p)).as_object();
      if (m.at("subject").as_string().starts_with("Tenure digest")) out.push_back(std::move(m));
    }
  }
  int port() const { return port_; }

 private:
  std::string dir_;
  int port_;
  std::unique_ptr<Process> proc_;
};

std::string text(const bj::object& mail, const std::string& type) {
  for (const auto& p : mail.at("parts").as_array()) {
    if (p.at("content_type").as_string() == type) return std::string(p.at("content").as_string());
  }
  return "";
}

class ReportDigestIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    smtp_ = std::make_unique<SmtpServer>(dir_.path() + "/smtp", freePort());
    ASSERT_TRUE(smtp_->start()) << readFile(dir_.path() + "/smtp/smtp.log");
    cp_ = std::make_unique<ControlPlaneProcess>(
        dir_.path() + "/cp",
        std::vector<std::string>{"--public-url", kPublicUrl, "--digest-retry-seconds", "1"});
    cp_->useTestClock();
    ASSERT_TRUE(cp_->start()) << readFile(cp_->logPath());
    // A name that must be escaped in HTML and must not break the Subject header.
    name_ = "Acme <Ops> & Sons " + uniqueSuffix();
    tenant_ = cp_->createTenant(name_);
    ASSERT_FALSE(tenant_.api_token.empty());
    auth_ = "Bearer " + tenant_.api_token;
    api_ = std::make_unique<ApiClient>(cp_->url(), cp_->caFile());
    auto r = api_->request("POST", "/agent/v1/enroll", "", "application/json",
                           R"({"enroll_secret":")" + tenant_.enroll_secret +
                               R"(","host":"digest-agent","version":"t"})");
    ASSERT_EQ(r.status, 200) << r.body;
    node_key_ = std::string(r.json.at("node_key").as_string());
  }

  void configureSink() {
    auto r = api_->request("PUT", "/api/v1/ticket-sinks", auth_, "application/json",
                           R"({"sinks":[{"id":"mail","type":"smtp","host":"127.0.0.1","port":)" +
                               std::to_string(smtp_->port()) +
                               R"(,"from":"tenure@msp.test","to":["tickets@acme.test"]}]})");
    ASSERT_EQ(r.status, 200) << r.body;
  }

  void configureDigest() {
    auto r = api_->request("PUT", "/api/v1/report-digest", auth_, "application/json",
                           R"({"enabled":true,"to":["ops@acme.test","cio@acme.test"]})");
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // A run through the real API: upload, the agent's poll and its result with these outcomes.
  std::string runWith(const std::string& employee,
                      const std::vector<protocol::IdentityOutcome>& outs,
                      const std::string& status) {
    auto up = api_->uploadCsv(
        tenant_.api_token, "employee_id,given_name,family_name\n" + employee + ",Ada,Lovelace\n");
    EXPECT_EQ(up.status, 202) << up.body;
    if (up.status != 202) return "";
    const std::string run_id(up.json.at("run_id").as_string());
    auto poll = api_->request("POST", "/agent/v1/poll", "NodeKey " + node_key_, "application/json",
                              R"({"wait_s":0})");
    auto jobs = protocol::parsePollResponse(poll.json);
    EXPECT_TRUE(jobs.isOk() && !jobs->jobs.empty()) << poll.body;
    if (!jobs.isOk() || jobs->jobs.empty()) return "";
    protocol::JobResult result;
    result.status = status;
    result.outcomes = outs;
    auto res = api_->request("POST", "/agent/v1/jobs/" + jobs->jobs[0].job_id + "/result",
                             "NodeKey " + node_key_, "application/json",
                             protocol::serialize(protocol::toJson(result)));
    EXPECT_EQ(res.status, 200) << res.body;
    return run_id;
  }

  static protocol::IdentityOutcome created(const std::string& id) {
    protocol::IdentityOutcome o;
    o.employee_id = id;
    o.action = "created";
    o.state = "active";
    o.dn = "CN=" + id + ",OU=Staff,DC=acme,DC=test";
    return o;
  }
  static protocol::IdentityOutcome denied(const std::string& id) {
    protocol::IdentityOutcome o;
    o.employee_id = id;
    o.action = "failed";
    o.error_class = "permission";
    o.directory_code = 50;
    o.error_message = "00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS)";
    o.dn = "CN=" + id + ",OU=Staff,DC=acme,DC=test";
    return o;
  }

  bool waitForMails(size_t n, seconds timeout = seconds(30)) {
    return waitFor([&] { return smtp_->mails().size() >= n; }, timeout);
  }

  bj::array digests() {
    auto r = api_->request("GET", "/api/v1/report-digest/digests", auth_);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json.is_object() ? r.json.at("digests").as_array() : bj::array{};
  }

  TempDir dir_;
  std::unique_ptr<SmtpServer> smtp_;
  std::unique_ptr<ControlPlaneProcess> cp_;
  std::unique_ptr<ApiClient> api_;
  TenantInfo tenant_;
  std::string name_, auth_, node_key_;
};

TEST_F(ReportDigestIntegrationTest, SendMailsTheDigestOfEachNewPeriodThroughARealSmtpServer) {
  configureSink();
  configureDigest();
  auto settings = api_->request("GET", "/api/v1/report-digest", auth_);
  ASSERT_EQ(settings.status, 200) << settings.body;
  EXPECT_TRUE(settings.json.at("configured").as_bool());
  EXPECT_EQ(settings.json.at("schedule").as_string(), "0 7 * * *");
  EXPECT_FALSE(settings.json.at("send_when_empty").as_bool());
  EXPECT_EQ(settings.json.at("smtp_sink_in_use").as_string(), "mail");
  EXPECT_EQ(settings.json.at("time_zone").as_string(), "UTC");
  EXPECT_TRUE(settings.json.at("next_digest_at").is_string()) << settings.body;

  const std::string ok_run = runWith("AE-1", {created("AE-1")}, "succeeded");
  const std::string bad_run = runWith("AE-2", {denied("AE-2")}, "failed");
  ASSERT_FALSE(ok_run.empty());
  ASSERT_FALSE(bad_run.empty());

  auto preview = api_->request("GET", "/api/v1/report-digest/preview", auth_);
  ASSERT_EQ(preview.status, 200) << preview.body;
  EXPECT_NE(preview.body.find(ok_run), std::string::npos);
  EXPECT_NE(preview.body.find(bad_run), std::string::npos);
  EXPECT_NE(preview.body.find("Acme &lt;Ops&gt; &amp; Sons"), std::string::npos);
  EXPECT_EQ(preview.body.find("<Ops>"), std::string::npos);
  auto preview_text = api_->request("GET", "/api/v1/report-digest/preview?format=text", auth_);
  ASSERT_EQ(preview_text.status, 200);
  EXPECT_NE(preview_text.body.find("Runs: 2 (1 failed, 0 held)"), std::string::npos)
      << preview_text.body;
  EXPECT_TRUE(smtp_->mails().empty()) << "a preview sends nothing";

  auto sent = api_->request("POST", "/api/v1/report-digest/send", auth_);
  ASSERT_EQ(sent.status, 202) << sent.body;
  EXPECT_EQ(sent.json.at("status").as_string(), "pending");
  EXPECT_EQ(sent.json.at("trigger").as_string(), "on_demand");
  ASSERT_TRUE(waitForMails(1)) << readFile(cp_->logPath());
  bj::object mail = smtp_->mails().at(0);
  EXPECT_EQ(mail.at("mail_from").as_string(), "tenure@msp.test");
  ASSERT_EQ(mail.at("rcpt_tos").as_array().size(), 2u);
  EXPECT_EQ(mail.at("rcpt_tos").at(1).as_string(), "cio@acme.test");
  const std::string subject(mail.at("subject").as_string());
  EXPECT_EQ(subject.rfind("Tenure digest for " + name_ + ": 2 runs, 1 failed, 0 held (", 0), 0u)
      << subject;
  ASSERT_EQ(mail.at("parts").as_array().size(), 2u);
  const std::string plain = text(mail, "text/plain");
  const std::string html = text(mail, "text/html");
  EXPECT_NE(plain.find("People: created 1, updated 0, moved 0, disabled 0, deleted 0, errors 1"),
            std::string::npos)
      << plain;
  EXPECT_LT(plain.find(bad_run), plain.find(ok_run)) << "failed runs first";
  EXPECT_NE(plain.find("Fix: "), std::string::npos) << plain;
  EXPECT_NE(html.find(std::string("<a href=\"") + kPublicUrl + "/api/v1/runs/" + bad_run +
                      "/report.html\">"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("INSUFF_ACCESS_RIGHTS"), std::string::npos);
  EXPECT_NE(html.find("Acme &lt;Ops&gt; &amp; Sons"), std::string::npos);
  EXPECT_EQ(html.find("<Ops>"), std::string::npos);
  EXPECT_TRUE(
      waitFor([&] { return digests().at(0).at("status").as_string() == "sent"; }, seconds(10)));
  auto list = digests();
  EXPECT_EQ(list.at(0).at("subject").as_string(), subject);

  // The second digest covers only what happened since the first.
  const std::string third = runWith("AE-3", {created("AE-3")}, "succeeded");
  auto again = api_->request("POST", "/api/v1/report-digest/send", auth_);
  ASSERT_EQ(again.status, 202) << again.body;
  EXPECT_EQ(again.json.at("period_start").as_string(), list.at(0).at("period_end").as_string());
  ASSERT_TRUE(waitForMails(2)) << readFile(cp_->logPath());
  bj::object second = smtp_->mails().at(1);
  const std::string plain2 = text(second, "text/plain");
  EXPECT_NE(plain2.find(third), std::string::npos);
  EXPECT_EQ(plain2.find(ok_run), std::string::npos) << plain2;
  EXPECT_EQ(plain2.find(bad_run), std::string::npos) << plain2;
  EXPECT_EQ(std::string(second.at("subject").as_string())
                .rfind("Tenure digest for " + name_ + ": 1 run, 0 failed, 0 held (", 0),
            0u);
  EXPECT_NE(second.at("message_id").as_string(), mail.at("message_id").as_string());

  // Settings changes are in the tenant's audit log like every other change.
  auto audit = api_->request("GET", "/api/v1/audit?limit=1000", auth_);
  ASSERT_EQ(audit.status, 200);
  int changes = 0;
  for (const auto& e : audit.json.at("entries").as_array()) {
    if (e.at("path").as_string() == "/api/v1/report-digest" &&
        e.at("method").as_string() == "PUT") {
      EXPECT_EQ(e.at("action").as_string(), "change");
      EXPECT_EQ(e.at("status").as_int64(), 200);
      ++changes;
    }
  }
  EXPECT_EQ(changes, 1);

  // DELETE forgets settings and history.
  auto del = api_->request("DELETE", "/api/v1/report-digest", auth_);
  ASSERT_EQ(del.status, 200) << del.body;
  EXPECT_TRUE(digests().empty());
  EXPECT_EQ(api_->request("DELETE", "/api/v1/report-digest", auth_).status, 404);
  EXPECT_EQ(api_->request("POST", "/api/v1/report-digest/send", auth_).status, 404);
}

TEST_F(ReportDigestIntegrationTest, ADigestWaitsWhileSmtpIsDownAndIsSentOnceAfterARestart) {
  configureSink();
  configureDigest();
  const std::string run = runWith("AE-9", {created("AE-9")}, "succeeded");
  smtp_->stop();
  auto sent = api_->request("POST", "/api/v1/report-digest/send", auth_);
  ASSERT_EQ(sent.status, 202) << sent.body;
  ASSERT_TRUE(waitFor(
      [&] {
        auto d = digests();
        return !d.empty() && d.at(0).at("attempts").as_int64() >= 2;
      },
      seconds(30)))
      << "retried with backoff: " << readFile(cp_->logPath());
  auto pending = digests().at(0);
  EXPECT_EQ(pending.at("status").as_string(), "pending");
  EXPECT_TRUE(pending.at("last_error").is_string());
  EXPECT_TRUE(pending.at("next_attempt_at").is_string());

  ASSERT_TRUE(cp_->stop().has_value());
  ASSERT_TRUE(smtp_->start());
  ASSERT_TRUE(cp_->start()) << readFile(cp_->logPath());
  ASSERT_TRUE(waitForMails(1)) << readFile(cp_->logPath());
  EXPECT_TRUE(
      waitFor([&] { return digests().at(0).at("status").as_string() == "sent"; }, seconds(10)));
  // Give a duplicate the time to show up (several delivery passes): there is none.
  std::this_thread::sleep_for(seconds(5));
  auto mails = smtp_->mails();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(text(mails[0], "text/plain").find(run), std::string::npos);
  auto list = digests();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_GE(list.at(0).at("attempts").as_int64(), 3);
}

TEST_F(ReportDigestIntegrationTest, TheScheduleSendsADigestWhenItsMinuteComes) {
  configureSink();
  // Every minute; the control plane's test clock then moves to the slot instead of waiting for it.
  auto put = api_->request("PUT", "/api/v1/report-digest", auth_, "application/json",
                           R"({"enabled":true,"to":["ops@acme.test"],"schedule":"* * * * *"})");
  ASSERT_EQ(put.status, 200) << put.body;
  const std::string next(put.json.at("next_digest_at").as_string());
  const std::string run = runWith("AE-5", {created("AE-5")}, "succeeded");
  cp_->moveClockTo(isoUtcToUnixMillis(next) + 1'000);
  ASSERT_TRUE(waitForMails(1, seconds(80))) << readFile(cp_->logPath());
  auto list = digests();
  ASSERT_GE(list.size(), 1u);
  const auto& first = list.back();  // newest first: the oldest is the first slot
  EXPECT_EQ(first.at("trigger").as_string(), "schedule");
  EXPECT_EQ(first.at("period_end").as_string(), next) << "the period ends at the slot";
  EXPECT_NE(text(smtp_->mails().at(0), "text/plain").find(run), std::string::npos);
}

TEST_F(ReportDigestIntegrationTest, BadSettingsAreRefusedWithTheFieldAndTheReason) {
  auto no_sink = api_->request("PUT", "/api/v1/report-digest", auth_, "application/json",
                               R"({"enabled":true,"to":["ops@acme.test"]})");
  EXPECT_EQ(no_sink.status, 409) << no_sink.body;
  EXPECT_NE(no_sink.body.find("no smtp ticket sink is configured"), std::string::npos);
  configureSink();
  auto bad = api_->request(
      "PUT", "/api/v1/report-digest", auth_, "application/json",
      R"({"enabled":true,"to":["ops@acme.test","Eve <eve@evil.test>"],"schedule":"0 7 * *",)"
      R"("send_when_empty":1,"colour":"red"})");
  ASSERT_EQ(bad.status, 422) << bad.body;
  EXPECT_EQ(bad.json.at("error").as_string(), "invalid_report_digest");
  std::set<std::string> paths;
  for (const auto& e : bad.json.at("errors").as_array()) {
    paths.insert(std::string(e.at("path").as_string()));
    EXPECT_FALSE(e.at("reason").as_string().empty());
  }
  EXPECT_EQ(paths, (std::set<std::string>{"to[1]", "schedule", "send_when_empty", "colour"}));
  auto missing_sink = api_->request("PUT", "/api/v1/report-digest", auth_, "application/json",
                                    R"({"to":["ops@acme.test"],"smtp_sink":"nope"})");
  ASSERT_EQ(missing_sink.status, 422) << missing_sink.body;
  EXPECT_EQ(missing_sink.json.at("errors").at(0).at("path").as_string(), "smtp_sink");
  EXPECT_EQ(
      api_->request("PUT", "/api/v1/report-digest", auth_, "application/json", "{nope").status,
      400);
  EXPECT_EQ(api_->request("PUT", "/api/v1/report-digest", auth_, "application/json",
                          R"({"enabled":true})")
                .status,
            422);
  EXPECT_EQ(api_->request("POST", "/api/v1/report-digest", auth_).status, 405);
  EXPECT_EQ(api_->request("GET", "/api/v1/report-digest/send", auth_).status, 405);
  EXPECT_EQ(api_->request("GET", "/api/v1/report-digest/preview?format=pdf", auth_).status, 400);
  // Nothing was stored by the refused requests.
  auto get = api_->request("GET", "/api/v1/report-digest", auth_);
  ASSERT_EQ(get.status, 200);
  EXPECT_FALSE(get.json.at("configured").as_bool()) << get.body;
}

}  // namespace
}  // namespace tenure::testing
