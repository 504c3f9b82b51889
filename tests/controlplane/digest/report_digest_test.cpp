// ReportDigestService against real SQLite stores, the real TicketService (its smtp sink) and
// Debian's aiosmtpd (tests/fixtures/ticket_sink_server.py), with an injected clock for the
// schedule and the backoff: contiguous periods, skipped empty periods, retry until the server is
// back, no duplicate after a restart, and the tenant deletion hook.

#include "controlplane/digest/report_digest.h"

#include <gtest/gtest.h>

#include "controlplane/service/tenant_deletion.h"
#include "tests/agent/transport/test_support.h"
#include "tests/controlplane/tickets/ticket_test_support.h"

namespace tenure::cp::testing {
namespace {

using namespace std::chrono_literals;
using agent::testing::ChildServer;

// 2023-11-14T22:13:20Z (ManualClock's default); the tenant's zone is UTC (default policy).
constexpr int64_t kNextSeven = 1'700'031'600'000;  // 2023-11-15T07:00:00Z
constexpr int64_t kDay = 86'400'000;

class ReportDigestTest : public TicketEnv {
 protected:
  void SetUp() override {
    agent::testing::clearProxyEnvironment();
    TicketEnv::SetUp();
    fs::create_directories(dir_ / "mail");
    smtp_port_ = agent::testing::unusedPort();
    digests_ = makeService();
  }

  std::unique_ptr<ReportDigestService> makeService() {
    DigestOptions o;
    o.retry_base = 60s;
    o.retry_max = 600s;
    o.smtp_timeout = 5s;
    o.public_url = "https://cp.msp.test/";
    return std::make_unique<ReportDigestService>(*control_, *tenants_, service_->intake(), *tickets_,
                                                 clock_, o);
  }

  std::string tid() const { return a_.tenant.tenant_id; }

  void configureSink() {
    auto sink = parseSinkConfig(bj::parse(
        R"({"id":"mail","type":"smtp","host":"127.0.0.1","port":)" + std::to_string(smtp_port_) +
        R"(,"from":"tenure@msp.test","to":["tickets@acme.test"]})"));
    ASSERT_TRUE(sink.isOk()) << sink.status().toString();
    ASSERT_TRUE(tickets_->setSinks(tid(), {*sink}).isOk());
  }

  void startSmtp() {
    auto s = ChildServer::start({"/usr/bin/python3", TENURE_SINK_SERVER, "smtp",
                                 (dir_ / "mail").string(), "--port", std::to_string(smtp_port_)});
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    smtp_ = std::move(*s);
  }

  DigestSettings settings(bool send_when_empty = true) {
    DigestSettings s;
    s.enabled = true;
    s.to = {"ops@acme.test", "cio@acme.test"};
    s.send_when_empty = send_when_empty;
    return s;
  }

  std::vector<bj::object> mails() {
    std::vector<bj::object> out;
    for (int n = 1; fs::exists(dir_ / "mail" / ("mail-" + std::to_string(n) + ".json")); ++n) {
      out.push_back(
          bj::parse(readFile(dir_ / "mail" / ("mail-" + std::to_string(n) + ".json"))).as_object());
    }
    return out;
  }

  // A finished run of the tenant created at `at_ms`, with `created` accounts and one failure.
  std::string finishedRun(int64_t at_ms, int created) {
    auto store = tenants_->forTenant(tid()).value();
    RunRecord r;
    r.run_id = "r_" + std::to_string(at_ms);
    r.source = "csv";
    r.created_at_ms = at_ms;
    EXPECT_TRUE(store->createRun(r, {}).isOk());
    protocol::JobResult result;
    result.status = "partial";
    for (int i = 0; i < created; ++i) {
      protocol::IdentityOutcome o;
      o.employee_id = "E" + std::to_string(i);
      o.action = "created";
      result.outcomes.push_back(o);
    }
    protocol::IdentityOutcome f;
    f.employee_id = "EFAIL";
    f.action = "failed";
    f.error_class = "permission";
    f.directory_code = 50;
    f.error_message = "insufficient access rights";
    result.outcomes.push_back(f);
    EXPECT_TRUE(store->recordResult(r.run_id, result).isOk());
    return r.run_id;
  }

  std::unique_ptr<ReportDigestService> digests_;
  std::unique_ptr<ChildServer> smtp_;
  int smtp_port_ = 0;
};

TEST_F(ReportDigestTest, EnablingNeedsAnSmtpTicketSink) {
  auto st = digests_->putSettings(tid(), settings());
  ASSERT_FALSE(st.isOk());
  EXPECT_EQ(st.status().errorClass(), ErrorClass::kConflict);
  EXPECT_NE(st.status().message().find("no smtp ticket sink is configured"), std::string::npos);
  configureSink();
  DigestSettings named = settings();
  named.smtp_sink = "nope";
  auto missing = digests_->putSettings(tid(), named);
  ASSERT_FALSE(missing.isOk());
  EXPECT_EQ(missing.status().errorClass(), ErrorClass::kData);
  EXPECT_EQ(missing.status().message().rfind("smtp_sink: ", 0), 0u) << missing.status().message();
  auto ok = digests_->putSettings(tid(), settings());
  ASSERT_TRUE(ok.isOk()) << ok.status().toString();
  EXPECT_EQ(ok->next_slot_ms, kNextSeven);
  EXPECT_EQ(ok->origin_ms, clock_.nowUnixMillis());
}

TEST_F(ReportDigestTest, ScheduledDigestsAreContiguousRetriedAndSentOnceAcrossARestart) {
  configureSink();
  const int64_t origin = clock_.nowUnixMillis();
  ASSERT_TRUE(digests_->putSettings(tid(), settings()).isOk());
  const std::string run1 = finishedRun(origin + 1'000, 2);
  EXPECT_EQ(digests_->runDue().value(), 0);
  EXPECT_TRUE(digests_->digests(tid()).value().empty()) << "not due before 07:00";

  // 07:00 passes while the SMTP server is down: the digest is recorded and waits.
  clock_.setUnixMillis(kNextSeven + 30'000);
  EXPECT_EQ(digests_->runDue().value(), 0);
  auto list = digests_->digests(tid()).value();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].period_start_ms, origin);
  EXPECT_EQ(list[0].period_end_ms, kNextSeven);
  EXPECT_EQ(list[0].trigger, "schedule");
  EXPECT_EQ(list[0].status, "pending");
  EXPECT_EQ(list[0].attempts, 1);
  EXPECT_FALSE(list[0].last_error.empty());
  EXPECT_EQ(list[0].next_attempt_at_ms, kNextSeven + 30'000 + 60'000);

  // A restart: the pending digest is still there, backing off; nothing new is created.
  digests_ = makeService();
  startSmtp();
  EXPECT_EQ(digests_->runDue().value(), 0);
  EXPECT_EQ(digests_->digests(tid()).value().size(), 1u);
  EXPECT_TRUE(mails().empty());
  clock_.advance(60s);
  EXPECT_EQ(digests_->runDue().value(), 1);
  EXPECT_EQ(digests_->runDue().value(), 0) << "sent once";
  auto got = mails();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].at("mail_from").as_string(), "tenure@msp.test");
  ASSERT_EQ(got[0].at("rcpt_tos").as_array().size(), 2u);
  EXPECT_EQ(got[0].at("rcpt_tos").at(0).as_string(), "ops@acme.test");
  EXPECT_EQ(got[0].at("subject").as_string(),
            "Tenure digest for A: 1 run, 1 failed, 0 held "
            "(2023-11-14 22:13 +00:00 to 2023-11-15 07:00 +00:00)");
  const auto& parts = got[0].at("parts").as_array();
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].at("content_type").as_string(), "text/plain");
  EXPECT_EQ(parts[1].at("content_type").as_string(), "text/html");
  const std::string html(parts[1].at("content").as_string());
  EXPECT_NE(html.find("https://cp.msp.test/api/v1/runs/" + run1 + "/report.html"),
            std::string::npos);
  EXPECT_NE(std::string(parts[0].at("content").as_string()).find("Fix: "), std::string::npos);
  list = digests_->digests(tid()).value();
  EXPECT_EQ(list[0].status, "sent");
  EXPECT_EQ(list[0].attempts, 2);
  EXPECT_EQ(list[0].subject, got[0].at("subject").as_string());

  // The next day's digest starts where this one ended and holds only the new run.
  const std::string run2 = finishedRun(kNextSeven + 3'600'000, 5);
  clock_.setUnixMillis(kNextSeven + kDay + 1'000);
  EXPECT_EQ(digests_->runDue().value(), 1);
  list = digests_->digests(tid()).value();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].period_start_ms, kNextSeven);
  EXPECT_EQ(list[0].period_end_ms, kNextSeven + kDay);
  got = mails();
  ASSERT_EQ(got.size(), 2u);
  const std::string text(got[1].at("parts").at(0).at("content").as_string());
  EXPECT_NE(text.find(run2), std::string::npos);
  EXPECT_EQ(text.find(run1), std::string::npos) << text;
  EXPECT_NE(text.find("People: created 5,"), std::string::npos) << text;
}

TEST_F(ReportDigestTest, AnEmptyPeriodIsRecordedAsSkippedAndSendsNothing) {
  configureSink();
  startSmtp();
  ASSERT_TRUE(digests_->putSettings(tid(), settings(/*send_when_empty=*/false)).isOk());
  clock_.setUnixMillis(kNextSeven + 1'000);
  EXPECT_EQ(digests_->runDue().value(), 0);
  auto list = digests_->digests(tid()).value();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].status, "skipped");
  EXPECT_TRUE(mails().empty());
  // An open ticket is something to tell: the next period is sent.
  ASSERT_TRUE(
      tickets_->raiseOrFail(Detection{tid(), "agent_silent", "ag_1", "Agent silent", "x"}).isOk());
  clock_.setUnixMillis(kNextSeven + kDay + 1'000);
  EXPECT_EQ(digests_->runDue().value(), 1);
  list = digests_->digests(tid()).value();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].status, "sent");
  EXPECT_EQ(list[0].period_start_ms, kNextSeven) << "the skipped period still counts";
  // The ticket sink got its own notification; the digest is the mail listing the ticket.
  bool digest_seen = false;
  for (const auto& m : mails()) {
    if (std::string(m.at("subject").as_string()).rfind("Tenure digest", 0) != 0) continue;
    digest_seen = true;
    EXPECT_NE(std::string(m.at("parts").at(0).at("content").as_string()).find("Open tickets: 1"),
              std::string::npos);
  }
  EXPECT_TRUE(digest_seen);
}

TEST_F(ReportDigestTest, OnDemandDigestsStartWhereTheLastOneEnded) {
  EXPECT_EQ(digests_->requestNow(tid()).status().errorClass(), ErrorClass::kNotFound);
  configureSink();
  const int64_t origin = clock_.nowUnixMillis();
  DigestSettings off = settings();
  off.enabled = false;  // on demand works without the schedule
  ASSERT_TRUE(digests_->putSettings(tid(), off).isOk());
  EXPECT_EQ(digests_->requestNow(tid()).status().errorClass(), ErrorClass::kConflict)
      << "an empty period (no time passed)";
  clock_.advance(10min);
  auto first = digests_->requestNow(tid());
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  EXPECT_EQ(first->period_start_ms, origin);
  EXPECT_EQ(first->period_end_ms, origin + 600'000);
  EXPECT_EQ(first->trigger, "on_demand");
  clock_.advance(5min);
  auto second = digests_->requestNow(tid());
  ASSERT_TRUE(second.isOk());
  EXPECT_EQ(second->period_start_ms, first->period_end_ms);
  // Runs are in the period they were created in: [start, end).
  const std::string before = finishedRun(origin + 600'000 - 1, 1);
  const std::string at_end = finishedRun(origin + 600'000, 1);
  auto c = digests_->content(tid(), origin, origin + 600'000).value();
  ASSERT_EQ(c.runs.size(), 1u);
  EXPECT_EQ(c.runs[0].run.run_id, before);
  EXPECT_EQ(c.top_errors.at(0).error_class, "permission");
  // Removing the sink: enabling is refused, sending on demand too.
  ASSERT_TRUE(tickets_->setSinks(tid(), {}).isOk());
  clock_.advance(1min);
  EXPECT_EQ(digests_->requestNow(tid()).status().errorClass(), ErrorClass::kConflict);
  EXPECT_EQ(digests_->putSettings(tid(), settings()).status().errorClass(), ErrorClass::kConflict);
}

TEST_F(ReportDigestTest, DeletingTheTenantRemovesItsDigestStateAndNothingRecreatesIt) {
  configureSink();
  ASSERT_TRUE(digests_->putSettings(tid(), settings()).isOk());
  clock_.setUnixMillis(kNextSeven + 1'000);
  EXPECT_EQ(digests_->runDue().value(), 0);  // pending: the server is down
  ASSERT_EQ(digests_->digests(tid()).value().size(), 1u);
  auto deleted = deleteTenant(tid(), *control_, *tenants_, &box_, nullptr,
                              {[this](const std::string& t) { return digests_->forgetTenant(t); }});
  ASSERT_TRUE(deleted.isOk()) << deleted.status().toString();
  EXPECT_TRUE(deleted->store_existed);
  clock_.advance(kDay * 1ms);
  EXPECT_TRUE(digests_->runDue().isOk());
  EXPECT_FALSE(fs::exists(tenants_->pathFor(tid()))) << "the pass must not bring the store back";
  EXPECT_EQ(digests_->settings(tid()).status().errorClass(), ErrorClass::kNotFound);
}

}  // namespace
}  // namespace tenure::cp::testing
