// TicketService on real SQLite files: fingerprints, counts, states, auto-resolution, reopening,
// the personal-data-free control index and the outbox rows each event leaves for the sinks.

#include <gtest/gtest.h>

#include "common/sqlite/database.h"
#include "tests/controlplane/tickets/ticket_test_support.h"

namespace tenure::cp::testing {
namespace {

using namespace std::chrono_literals;

class TicketServiceTest : public TicketEnv {
 protected:
  Detection detection(const TenantCredentials& t, const std::string& subject = "E1001") {
    return Detection{t.tenant.tenant_id, "bad_hr_data", subject,
                     "HR row 3 (" + subject + ") rejected: end_date required for contractor",
                     "Add the contractor's end date"};
  }
  void webhookSink(const TenantCredentials& t) {
    SinkConfig s = parseSinkConfig(bj::parse(
        R"({"id":"hook","type":"webhook","url":"http://127.0.0.1:1/x","secret":"s3cr3t"})")).value();
    ASSERT_TRUE(tickets_->setSinks(t.tenant.tenant_id, {s}).isOk());
  }
};

TEST_F(TicketServiceTest, RepeatedDetectionCountsOnOneOpenTicket) {
  ASSERT_TRUE(tickets_->raiseOrFail(detection(a_)).isOk());
  clock_.advance(5s);
  ASSERT_TRUE(tickets_->raiseOrFail(detection(a_)).isOk());
  auto all = ticketsOf(a_);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, "open");
  EXPECT_EQ(all[0].count, 2);
  EXPECT_EQ(all[0].last_seen_ms - all[0].first_seen_ms, 5'000);
}

TEST_F(TicketServiceTest, FingerprintIncludesTenantDetectorAndSubject) {
  ASSERT_TRUE(tickets_->raiseOrFail(detection(a_, "E1")).isOk());
  ASSERT_TRUE(tickets_->raiseOrFail(detection(a_, "E2")).isOk());
  Detection other = detection(a_, "E1");
  other.detector = "job_failed";
  ASSERT_TRUE(tickets_->raiseOrFail(other).isOk());
  ASSERT_TRUE(tickets_->raiseOrFail(detection(b_, "E1")).isOk());
  EXPECT_EQ(ticketsOf(a_).size(), 3u);
  EXPECT_EQ(ticketsOf(b_).size(), 1u);
}

TEST_F(TicketServiceTest, ClearResolvesAndALaterDetectionReopensTheSameTicket) {
  ASSERT_TRUE(tickets_->raiseOrFail(detection(a_)).isOk());
  const std::string id = ticketsOf(a_).at(0).ticket_id;
  ASSERT_TRUE(tickets_->clearOrFail(a_.tenant.tenant_id, "bad_hr_data", "E1001").isOk());
  auto resolved = ticketsOf(a_).at(0);
  EXPECT_EQ(resolved.state, "resolved");
  EXPECT_EQ(resolved.resolved_by, "auto");
  ASSERT_TRUE(tickets_->raiseOrFail(detection(a_)).isOk());
  auto all = ticketsOf(a_);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].ticket_id, id);
  EXPECT_EQ(all[0].state, "open");
  EXPECT_EQ(all[0].count, 2);
  EXPECT_EQ(all[0].reopened, 1);
}

TEST_F(TicketServiceTest, ClearWithoutAnOpenTicketChangesNothing) {
  ASSERT_TRUE(tickets_->clearOrFail(a_.tenant.tenant_id, "bad_hr_data", "E1001").isOk());
  EXPECT_TRUE(ticketsOf(a_).empty());
}

TEST_F(TicketServiceTest, AcknowledgedTicketKeepsCountingAndResolvesWhenCleared) {
  ASSERT_TRUE(tickets_->raiseOrFail(detection(a_)).isOk());
  const std::string id = ticketsOf(a_).at(0).ticket_id;
  ASSERT_TRUE(tickets_->acknowledge(a_.tenant.tenant_id, id, "olga").isOk());
  ASSERT_TRUE(tickets_->raiseOrFail(detection(a_)).isOk());
  auto t = ticketsOf(a_).at(0);
  EXPECT_EQ(t.state, "acknowledged");
  EXPECT_EQ(t.acknowledged_by, "olga");
  EXPECT_EQ(t.count, 2);
  ASSERT_TRUE(tickets_->clearOrFail(a_.tenant.tenant_id, "bad_hr_data", "E1001").isOk());
  EXPECT_EQ(ticketsOf(a_).at(0).state, "resolved");
}

TEST_F(TicketServiceTest, ResolvedTicketCannotBeAcknowledgedOrResolvedAgain) {
  ASSERT_TRUE(tickets_->raiseOrFail(detection(a_)).isOk());
  const std::string id = ticketsOf(a_).at(0).ticket_id;
  ASSERT_TRUE(tickets_->resolve(a_.tenant.tenant_id, id, "olga").isOk());
  EXPECT_EQ(tickets_->resolve(a_.tenant.tenant_id, id, "olga").errorClass(),
            ErrorClass::kConflict);
  EXPECT_EQ(tickets_->acknowledge(a_.tenant.tenant_id, id, "olga").errorClass(),
            ErrorClass::kConflict);
  EXPECT_EQ(tickets_->acknowledge(b_.tenant.tenant_id, id, "olga").errorClass(),
            ErrorClass::kNotFound)
      << "another tenant's ticket id is unknown in this tenant";
}

TEST_F(TicketServiceTest, ControlIndexListsAcrossTenantsWithoutPersonalData) {
  Detection d = detection(a_, "Ann.Marie.Secret-Person");
  d.summary = "Ann Marie Secret-Person has a duplicate employee id";
  ASSERT_TRUE(tickets_->raiseOrFail(d).isOk());
  ASSERT_TRUE(tickets_->raiseOrFail(detection(b_)).isOk());
  auto all = tickets_->listAll({}).value();
  ASSERT_EQ(all.size(), 2u);
  auto only_a =
      tickets_->listAll(TicketFilter{"open", a_.tenant.tenant_id, "bad_hr_data"}).value();
  ASSERT_EQ(only_a.size(), 1u);
  EXPECT_EQ(only_a[0].tenant_id, a_.tenant.tenant_id);
  EXPECT_TRUE(tickets_->listAll(TicketFilter{"resolved", "", ""})->empty());
  // The subject and summary are in the tenant's file only (database file and its WAL).
  auto bytes = [&](const std::string& base) {
    return readFile(dir_ / base) + readFile(dir_ / (base + "-wal"));
  };
  EXPECT_EQ(bytes("control.db").find("Secret-Person"), std::string::npos);
  EXPECT_NE(bytes("tenants/" + a_.tenant.tenant_id + ".db").find("Secret-Person"),
            std::string::npos);
}

TEST_F(TicketServiceTest, ReindexRebuildsTheControlIndexFromTenantStores) {
  ASSERT_TRUE(tickets_->raiseOrFail(detection(a_)).isOk());
  // Another connection to the control database file, as a crash between the two stores leaves it.
  auto control_db = sqlite::Database::open((dir_ / "control.db").string());
  ASSERT_TRUE(control_db.isOk());
  ASSERT_TRUE(control_db->exec("DELETE FROM ticket_index").isOk());
  EXPECT_TRUE(tickets_->listAll({})->empty());
  ASSERT_TRUE(tickets_->reindex().isOk());
  EXPECT_EQ(tickets_->listAll({})->size(), 1u);
}

TEST_F(TicketServiceTest, OpenReopenAndResolveEachQueueOneNotificationPerSink) {
  webhookSink(a_);
  ASSERT_TRUE(tickets_->raiseOrFail(detection(a_)).isOk());
  ASSERT_TRUE(tickets_->raiseOrFail(detection(a_)).isOk());  // a repeat: no notification
  ASSERT_TRUE(tickets_->clearOrFail(a_.tenant.tenant_id, "bad_hr_data", "E1001").isOk());
  ASSERT_TRUE(tickets_->raiseOrFail(detection(a_)).isOk());
  auto pending = tickets_->pendingNotifications(a_.tenant.tenant_id).value();
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending[0].event, "opened");
  EXPECT_EQ(pending[1].event, "resolved");
  EXPECT_EQ(pending[2].event, "reopened");
  EXPECT_EQ(pending[0].sink_id, "hook");
  EXPECT_TRUE(tickets_->pendingNotifications(b_.tenant.tenant_id)->empty());
}

TEST_F(TicketServiceTest, FailedDeliveryIsRetriedWithExponentialBackoff) {
  webhookSink(a_);  // nothing listens on port 1: every attempt fails
  ASSERT_TRUE(tickets_->raiseOrFail(detection(a_)).isOk());
  const int64_t t0 = clock_.nowUnixMillis();
  EXPECT_EQ(tickets_->deliverDue().value(), 0);
  auto p = tickets_->pendingNotifications(a_.tenant.tenant_id).value().at(0);
  EXPECT_EQ(p.attempts, 1);
  EXPECT_EQ(p.next_attempt_at_ms, t0 + 1'000);
  EXPECT_FALSE(p.last_error.empty());
  EXPECT_EQ(tickets_->deliverDue().value(), 0);
  EXPECT_EQ(tickets_->pendingNotifications(a_.tenant.tenant_id)->at(0).attempts, 1)
      << "not due yet: no attempt";
  clock_.advance(1s);
  (void)tickets_->deliverDue();
  p = tickets_->pendingNotifications(a_.tenant.tenant_id).value().at(0);
  EXPECT_EQ(p.attempts, 2);
  EXPECT_EQ(p.next_attempt_at_ms, clock_.nowUnixMillis() + 2'000);
  clock_.advance(2s);
  (void)tickets_->deliverDue();
  p = tickets_->pendingNotifications(a_.tenant.tenant_id).value().at(0);
  EXPECT_EQ(p.next_attempt_at_ms, clock_.nowUnixMillis() + 4'000);
}

TEST_F(TicketServiceTest, NotificationsOfARemovedSinkAreDropped) {
  webhookSink(a_);
  ASSERT_TRUE(tickets_->raiseOrFail(detection(a_)).isOk());
  ASSERT_TRUE(tickets_->setSinks(a_.tenant.tenant_id, {}).isOk());
  EXPECT_EQ(tickets_->deliverDue().value(), 0);
  EXPECT_TRUE(tickets_->pendingNotifications(a_.tenant.tenant_id)->empty());
}

TEST_F(TicketServiceTest, SinkSecretsAreSealedAndKeptWhenLeftOutOfAnUpdate) {
  webhookSink(a_);
  auto stored = tickets_->sinks(a_.tenant.tenant_id).value();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_NE(stored[0].secrets.at("secret"), "s3cr3t");
  EXPECT_EQ(box_.open(a_.tenant.tenant_id, "ticket-sink:hook:secret", stored[0].secrets["secret"])
                .value(),
            "s3cr3t");
  SinkConfig again = parseSinkConfig(
      bj::parse(R"({"id":"hook","type":"webhook","url":"http://127.0.0.1:2/y"})")).value();
  ASSERT_TRUE(tickets_->setSinks(a_.tenant.tenant_id, {again}).isOk());
  stored = tickets_->sinks(a_.tenant.tenant_id).value();
  EXPECT_EQ(stored[0].secrets.at("secret").substr(0, 4), "tsb:");
  EXPECT_EQ(std::string(stored[0].settings.at("url").get_string()), "http://127.0.0.1:2/y");
}

TEST_F(TicketServiceTest, SinksWithSecretsAreRefusedWithoutASecretBox) {
  box_in_use_ = nullptr;
  SinkConfig s = parseSinkConfig(
      bj::parse(R"({"id":"hook","type":"webhook","url":"http://x/","secret":"k"})")).value();
  EXPECT_EQ(tickets_->setSinks(a_.tenant.tenant_id, {s}).errorClass(), ErrorClass::kConfig);
}

TEST_F(TicketServiceTest, InvalidSinkConfigurationsAreRejectedWithTheField) {
  for (const char* bad : {
           R"({"id":"m","type":"smtp","from":"a@x","to":["b@x"]})",
           R"({"id":"m","type":"smtp","host":"h","from":"a@x","to":[]})",
           R"({"id":"w","type":"webhook","url":"ftp://x"})",
           R"({"id":"s","type":"servicenow","instance":"https://x.service-now.com"})",
           R"({"id":"j","type":"jira","base_url":"https://x","email":"e","project_key":""})",
           R"({"id":"j","type":"pager"})",
           R"({"id":"w","type":"webhook","url":"http://x","secret_sealed":"forged"})",
           R"({"id":"s","type":"servicenow","instance":"https://x","username":"u","urgency":4})",
           R"({"id":"s","type":"servicenow","instance":"https://x","username":"u","impact":"2"})",
           R"({"id":"s","type":"servicenow","instance":"https://x","username":"u",
               "reopen_state":3})",
           R"({"id":"s","type":"servicenow","instance":"https://x","username":"u",
               "reopen_state":6})",
           R"({"id":"s","type":"servicenow","instance":"https://x","username":"u",
               "close_code":""})",
           R"({"id":"s","type":"servicenow","instance":"https://x","username":"u",
               "close_code":7})",
           R"({"id":"s","type":"servicenow","instance":"https://x","username":"u",
               "close_code":"Solved\nx"})",
           R"({"id":"j","type":"jira","base_url":"https://x","email":"e","project_key":"P",
               "resolve_transition_id":"Done"})",
           R"({"id":"j","type":"jira","base_url":"https://x","email":"e","project_key":"P",
               "resolve_transition_id":""})",
           R"({"id":"j","type":"jira","base_url":"https://x","email":"e","project_key":"P",
               "reopen_transition_id":-1})",
           R"({"id":"j","type":"jira","base_url":"https://x","email":"e","project_key":"P",
               "reopen_transition_id":"3 1"})",
           R"({"id":"j","type":"jira","base_url":"https://x","email":"e","project_key":"P",
               "reopen_transition_id":true})"}) {
    auto parsed = parseSinkConfig(bj::parse(bad));
    ASSERT_FALSE(parsed.isOk()) << bad;
    EXPECT_EQ(parsed.status().errorClass(), ErrorClass::kData) << bad;
  }
  auto s = parseSinkConfig(bj::parse(
      R"({"id":"s","type":"servicenow","instance":"https://x","username":"u","reopen_state":1,
          "close_code":"Workaround provided"})"));
  ASSERT_TRUE(s.isOk()) << s.status().toString();
  EXPECT_TRUE(parseSinkConfig(bj::parse(R"({"id":"j","type":"jira","base_url":"https://x",
      "email":"e","project_key":"P","resolve_transition_id":null})")).isOk());
}

TEST_F(TicketServiceTest, JiraTransitionIdsAreKeptAsStringsWhicheverWayTheyAreGiven) {
  auto s = parseSinkConfig(bj::parse(
      R"({"id":"j","type":"jira","base_url":"https://x","email":"e","project_key":"P",
          "resolve_transition_id":31,"reopen_transition_id":"11"})"));
  ASSERT_TRUE(s.isOk()) << s.status().toString();
  EXPECT_EQ(bj::serialize(s->settings.at("resolve_transition_id")), R"("31")");
  EXPECT_EQ(bj::serialize(s->settings.at("reopen_transition_id")), R"("11")");
}

TEST_F(TicketServiceTest, UpdatesAreBuiltPerVendorAndNoneForAnOpening) {
  SinkConfig snow = parseSinkConfig(bj::parse(
      R"({"id":"s","type":"servicenow","instance":"https://acme.service-now.com/",
          "username":"u","password":"p"})")).value();
  SinkConfig jira = parseSinkConfig(bj::parse(
      R"({"id":"j","type":"jira","base_url":"https://acme.atlassian.net","email":"e",
          "api_token":"t","project_key":"P","reopen_transition_id":"11"})")).value();
  TicketNotice n;
  n.event = "opened";
  ExternalRecord rec{"INC1", "abc123", "", ""};
  EXPECT_TRUE(buildSinkUpdates(snow, n, rec).empty());
  n.event = "resolved";
  n.actor = "olga";
  auto r = buildSinkUpdates(snow, n, rec);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].method, "PATCH");
  EXPECT_EQ(r[0].url, "https://acme.service-now.com/api/now/table/incident/abc123");
  EXPECT_NE(r[0].body.find("Resolved in Tenure by olga."), std::string::npos) << r[0].body;
  rec.record_id = "10042";
  EXPECT_EQ(buildSinkUpdates(jira, n, rec).size(), 1u) << "no resolve_transition_id: comment only";
  n.event = "reopened";
  auto j = buildSinkUpdates(jira, n, rec);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0].url, "https://acme.atlassian.net/rest/api/2/issue/10042/comment");
  EXPECT_EQ(j[1].url, "https://acme.atlassian.net/rest/api/2/issue/10042/transitions");
  EXPECT_EQ(j[1].body, R"({"transition":{"id":"11"}})");
  EXPECT_FALSE(parseCreateResponse(jira, R"({"id":"10000"})").isOk());
  EXPECT_FALSE(parseCreateResponse(snow, R"({"result":{"number":"INC1"}})").isOk());
  auto created = parseCreateResponse(jira, R"({"id":"10000","key":"P-1","self":"x"})");
  ASSERT_TRUE(created.isOk());
  EXPECT_EQ(created->url, "https://acme.atlassian.net/browse/P-1");
}

}  // namespace
}  // namespace tenure::cp::testing
