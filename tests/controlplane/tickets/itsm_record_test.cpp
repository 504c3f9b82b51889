// One record per ticket in the tenant's ITSM tool: the ServiceNow incident / Jira issue created on
// the first delivery is kept per (ticket, sink) and updated on resolved / reopened, against the
// fake (tests/fixtures/ticket_sink_server.py) that answers with the vendors' documented shapes
// over real loopback HTTP and remembers the incidents and issues it holds.

#include <gtest/gtest.h>

#include "common/sqlite/database.h"
#include "tests/controlplane/tickets/sink_test_support.h"

namespace tenure::cp::testing {
namespace {

using namespace std::chrono_literals;

class ItsmRecordTest : public SinkEnv {
 protected:
  std::string url(const ChildServer& server) {
    return "http://127.0.0.1:" + std::to_string(server.port());
  }

  void serviceNow(const ChildServer& server, const std::string& extra = "") {
    // A trailing slash on the instance, as tenants paste it.
    configure(R"([{"id":"snow","type":"servicenow","instance":")" + url(server) +
              R"(/","username":"svc","password":"pw:1")" + extra + "}]");
  }

  void jira(const ChildServer& server, const std::string& extra = "") {
    configure(R"([{"id":"jira","type":"jira","base_url":")" + url(server) +
              R"(","email":"ops@acme.test","api_token":"atl-tok","project_key":"OPS")" + extra +
              "}]");
  }

  void clear(const std::string& subject = "E1") {
    ASSERT_TRUE(tickets_->clearOrFail(a_.tenant.tenant_id, "bad_hr_data", subject).isOk());
  }

  Ticket only() {
    auto all = ticketsOf(a_);
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? Ticket{} : all.front();
  }

  std::vector<std::string> outcomes(const std::string& ticket_id) {
    std::vector<std::string> out;
    // Kept in a variable: value() of a temporary Result would dangle in the range-for.
    auto rows = tickets_->notifications(a_.tenant.tenant_id, ticket_id);
    if (!rows.isOk()) return {rows.status().message()};
    for (const auto& n : *rows) {
      out.push_back(n.outcome);
    }
    return out;
  }

  static int count(const std::vector<bj::object>& got, const std::string& method,
                   const std::string& path) {
    int n = 0;
    for (const auto& r : got) {
      n += r.at("method").as_string() == method && r.at("path").as_string() == path;
    }
    return n;
  }

  static std::string text(const bj::value& v, const char* key) {
    return std::string(v.at(key).as_string());
  }

  static bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
  }

  const std::string snow_auth_ = "Basic " + base64("svc:pw:1");
  const std::string jira_auth_ = "Basic " + base64("ops@acme.test:atl-tok");
};

TEST_F(ItsmRecordTest, ServiceNowResolveAndReopenPatchTheOneIncidentItCreated) {
  auto server = httpSink();
  ASSERT_TRUE(server);
  serviceNow(*server);
  raise();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  clock_.advance(60s);
  clear();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  clock_.advance(60s);
  raise();  // the condition is back: reopened
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  const std::string id = only().ticket_id;
  ASSERT_TRUE(tickets_->resolve(a_.tenant.tenant_id, id, "olga").isOk());
  ASSERT_EQ(tickets_->deliverDue().value(), 1);

  const bj::value state = itsmState();
  ASSERT_EQ(state.at("incidents").as_array().size(), 1u) << "one incident for the one ticket";
  const bj::value& incident = state.at("incidents").at(0);
  const std::string sys_id = text(incident, "sys_id");
  EXPECT_EQ(text(incident, "number"), "INC0010001");
  EXPECT_EQ(text(incident, "state"), "6");

  auto got = received();
  // look-up, create, then per event: read the incident's state, PATCH it
  ASSERT_EQ(got.size(), 8u);
  EXPECT_EQ(count(got, "POST", "/api/now/table/incident"), 1);
  for (size_t i = 2; i < got.size(); i += 2) {
    EXPECT_EQ(got[i].at("method").as_string(), "GET");
    EXPECT_EQ(got[i].at("path").as_string(),
              "/api/now/table/incident/" + sys_id + "?sysparm_fields=state");
    EXPECT_EQ(field(got[i], "authorization"), snow_auth_);
    EXPECT_EQ(got[i + 1].at("method").as_string(), "PATCH");
    EXPECT_EQ(got[i + 1].at("path").as_string(), "/api/now/table/incident/" + sys_id);
    EXPECT_EQ(field(got[i + 1], "authorization"), snow_auth_);
    EXPECT_EQ(field(got[i + 1], "content-type"), "application/json");
  }
  const bj::value resolved = body(got[3]);
  EXPECT_EQ(text(resolved, "state"), "6");
  EXPECT_EQ(text(resolved, "close_code"), "Solved (Permanently)");
  const std::string notes = text(resolved, "close_notes");
  EXPECT_EQ(notes.rfind("Resolved automatically by Tenure: the condition cleared.\n", 0), 0u)
      << notes;
  EXPECT_TRUE(contains(notes, "HR row 2 (E1) rejected: Zoë")) << notes;
  EXPECT_TRUE(contains(notes, "Tenure ticket: " + id)) << notes;
  const bj::value reopened = body(got[5]);
  EXPECT_EQ(text(reopened, "state"), "2") << "In Progress by default";
  EXPECT_FALSE(reopened.as_object().contains("close_code"));
  const std::string work = text(reopened, "work_notes");
  EXPECT_TRUE(contains(work, "Reopened by Tenure: the condition is back.")) << work;
  EXPECT_TRUE(contains(work, "How to fix: Add an end date")) << work;
  EXPECT_TRUE(contains(work, "Occurrences: 2")) << work;
  EXPECT_TRUE(contains(text(body(got[7]), "close_notes"), "Resolved in Tenure by olga."));

  const Ticket t = only();
  ASSERT_EQ(t.external.size(), 1u);
  EXPECT_EQ(t.external[0].sink_id, "snow");
  EXPECT_EQ(t.external[0].sink_type, "servicenow");
  EXPECT_EQ(t.external[0].ref, "INC0010001");
  EXPECT_EQ(t.external[0].url, url(*server) + "/nav_to.do?uri=incident.do%3Fsys_id%3D" + sys_id);
  EXPECT_EQ(outcomes(id), (std::vector<std::string>{"created", "updated", "updated", "updated"}));
}

TEST_F(ItsmRecordTest, ServiceNowSettingsChooseTheCloseCodeAndTheReopenState) {
  auto server = httpSink();
  ASSERT_TRUE(server);
  serviceNow(*server, R"(,"close_code":"Workaround provided","reopen_state":1)");
  raise();
  clear();
  raise();
  ASSERT_EQ(tickets_->deliverDue().value(), 3);
  auto got = received();
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(text(body(got[3]), "close_code"), "Workaround provided");
  EXPECT_EQ(text(body(got[5]), "state"), "1");
}

TEST_F(ItsmRecordTest, JiraResolveAndReopenCommentOnTheOneIssueAndTransitionIt) {
  auto server = httpSink();
  ASSERT_TRUE(server);
  jira(*server, R"(,"resolve_transition_id":"31","reopen_transition_id":11)");
  raise();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  clear();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  raise();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);

  auto got = received();
  ASSERT_EQ(got.size(), 7u);
  EXPECT_EQ(count(got, "POST", "/rest/api/2/issue"), 1);
  const std::string issue = "/rest/api/2/issue/10000";
  const std::vector<std::pair<std::string, std::string>> sent{
      {"POST", "/rest/api/2/issue"},
      {"POST", issue + "/comment"},
      {"GET", issue + "/transitions"},  // is the transition offered from here?
      {"POST", issue + "/transitions"},
      {"POST", issue + "/comment"},
      {"GET", issue + "/transitions"},
      {"POST", issue + "/transitions"}};
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].at("method").as_string(), sent[i].first);
    EXPECT_EQ(got[i].at("path").as_string(), sent[i].second);
    EXPECT_EQ(field(got[i], "authorization"), jira_auth_);
    EXPECT_EQ(field(got[i], "content-type"), "application/json");
  }
  EXPECT_TRUE(contains(text(body(got[1]), "body"),
                       "Resolved automatically by Tenure: the condition cleared."));
  EXPECT_EQ(bj::serialize(body(got[3])), R"({"transition":{"id":"31"}})");
  EXPECT_TRUE(contains(text(body(got[4]), "body"), "Reopened by Tenure"));
  EXPECT_EQ(bj::serialize(body(got[6])), R"({"transition":{"id":"11"}})");

  const bj::value state = itsmState();
  ASSERT_EQ(state.at("issues").as_array().size(), 1u);
  EXPECT_EQ(state.at("issues").at(0).at("comments").as_array().size(), 2u);
  EXPECT_EQ(text(state.at("issues").at(0), "status"), "To Do");
  const Ticket t = only();
  ASSERT_EQ(t.external.size(), 1u);
  EXPECT_EQ(t.external[0].ref, "OPS-1");
  EXPECT_EQ(t.external[0].url, url(*server) + "/browse/OPS-1");
}

TEST_F(ItsmRecordTest, JiraWithoutTransitionsOnlyComments) {
  auto server = httpSink();
  ASSERT_TRUE(server);
  jira(*server);
  raise();
  clear();
  ASSERT_EQ(tickets_->deliverDue().value(), 2);
  auto got = received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].at("path").as_string(), "/rest/api/2/issue/10000/comment");
}

TEST_F(ItsmRecordTest, ResolutionWaitsForTheCreateItUpdates) {
  auto server = httpSink(/*fail=*/1);
  ASSERT_TRUE(server);
  serviceNow(*server);
  raise();
  clear();
  EXPECT_EQ(tickets_->deliverDue().value(), 0);
  EXPECT_EQ(received().size(), 1u) << "the resolution was not sent while its create failed";
  auto pending = tickets_->pendingNotifications(a_.tenant.tenant_id).value();
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[1].attempts, 0);
  clock_.advance(1s);
  EXPECT_EQ(tickets_->deliverDue().value(), 2);
  auto got = received();
  ASSERT_EQ(got.size(), 5u);  // failed look-up, look-up, create, read state, resolve
  EXPECT_EQ(count(got, "POST", "/api/now/table/incident"), 1);
  EXPECT_EQ(got[4].at("method").as_string(), "PATCH");
  EXPECT_EQ(text(itsmState().at("incidents").at(0), "state"), "6");
}

TEST_F(ItsmRecordTest, IncidentDeletedInServiceNowEndsTheResolutionAndAReopeningCreatesAnother) {
  auto server = httpSink();
  ASSERT_TRUE(server);
  serviceNow(*server);
  raise();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  const std::string sys_id = text(itsmState().at("incidents").at(0), "sys_id");
  ASSERT_EQ(directRequest("DELETE", url(*server) + "/api/now/table/incident/" + sys_id), 204);
  clear();
  EXPECT_EQ(tickets_->deliverDue().value(), 0);
  EXPECT_TRUE(tickets_->pendingNotifications(a_.tenant.tenant_id)->empty()) << "not retried";
  const std::string id = only().ticket_id;
  auto history = tickets_->notifications(a_.tenant.tenant_id, id).value();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].outcome, "gone");
  EXPECT_NE(history[1].delivered_at_ms, 0);
  EXPECT_EQ(history[1].attempts, 1);
  EXPECT_TRUE(contains(history[1].last_error, "404")) << history[1].last_error;
  EXPECT_TRUE(only().external.empty()) << "the deleted incident is forgotten";
  const size_t sent = received().size();
  clock_.advance(1h);
  EXPECT_EQ(tickets_->deliverDue().value(), 0);
  EXPECT_EQ(received().size(), sent);

  raise();  // the condition is back and nobody has a record of it: a fresh incident
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  auto got = received();
  EXPECT_EQ(count(got, "POST", "/api/now/table/incident"), 2);
  EXPECT_EQ(got.back().at("method").as_string(), "POST");
  const bj::value state = itsmState();
  ASSERT_EQ(state.at("incidents").as_array().size(), 1u);
  EXPECT_EQ(text(state.at("incidents").at(0), "number"), "INC0010002");
  ASSERT_EQ(only().external.size(), 1u);
  EXPECT_EQ(only().external[0].ref, "INC0010002");
  EXPECT_EQ(outcomes(id), (std::vector<std::string>{"created", "gone", "created"}));
}

TEST_F(ItsmRecordTest, IssueDeletedInJiraIsCreatedAfreshWhenTheTicketReopens) {
  auto server = httpSink();
  ASSERT_TRUE(server);
  jira(*server);
  raise();
  clear();
  ASSERT_EQ(tickets_->deliverDue().value(), 2);
  ASSERT_EQ(directRequest("DELETE", url(*server) + "/rest/api/2/issue/10000"), 204);
  raise();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  auto got = received();
  ASSERT_EQ(got.size(), 5u);  // create, comment, DELETE, comment (404), create
  EXPECT_EQ(got[3].at("path").as_string(), "/rest/api/2/issue/10000/comment");
  EXPECT_EQ(got[4].at("path").as_string(), "/rest/api/2/issue");
  EXPECT_TRUE(contains(text(body(got[4]).at("fields"), "summary"), "[Tenure] Reopened:"));
  ASSERT_EQ(only().external.size(), 1u);
  EXPECT_EQ(only().external[0].ref, "OPS-2");
  EXPECT_TRUE(tickets_->pendingNotifications(a_.tenant.tenant_id)->empty());
  EXPECT_EQ(outcomes(only().ticket_id),
            (std::vector<std::string>{"created", "updated", "created"}));
}

TEST_F(ItsmRecordTest, FailedTransitionIsRetriedWithoutPostingTheCommentAgain) {
  auto server = httpSink();
  ASSERT_TRUE(server);
  jira(*server, R"(,"resolve_transition_id":"31")");
  raise();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  injectFault("POST", "/transitions", 503);
  clear();
  EXPECT_EQ(tickets_->deliverDue().value(), 0);
  auto pending = tickets_->pendingNotifications(a_.tenant.tenant_id).value();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_TRUE(contains(pending[0].last_error, "503")) << pending[0].last_error;
  clock_.advance(1s);
  EXPECT_EQ(tickets_->deliverDue().value(), 1);
  auto got = received();
  EXPECT_EQ(count(got, "POST", "/rest/api/2/issue/10000/comment"), 1);
  EXPECT_EQ(count(got, "POST", "/rest/api/2/issue/10000/transitions"), 2);
  const bj::value issue = itsmState().at("issues").at(0);
  EXPECT_EQ(issue.at("comments").as_array().size(), 1u);
  EXPECT_EQ(bj::serialize(issue.at("transitions")), R"(["31"])");
}

TEST_F(ItsmRecordTest, ServiceNowIncidentWhoseCreateAnswerWasLostIsNotCreatedAgain) {
  auto server = httpSink();
  ASSERT_TRUE(server);
  serviceNow(*server);
  // The instance creates the incident, but its answer never arrives (a timeout, or a restart of
  // the control plane before it stored the sys_id).
  injectFault("POST", "/api/now/table/incident", 503, 1, /*after=*/true);
  raise();
  EXPECT_EQ(tickets_->deliverDue().value(), 0);
  ASSERT_EQ(itsmState().at("incidents").as_array().size(), 1u);
  clock_.advance(1s);
  EXPECT_EQ(tickets_->deliverDue().value(), 1);
  EXPECT_EQ(itsmState().at("incidents").as_array().size(), 1u) << "found by correlation_id";
  EXPECT_EQ(count(received(), "POST", "/api/now/table/incident"), 1);
  ASSERT_EQ(only().external.size(), 1u);
  EXPECT_EQ(only().external[0].ref, "INC0010001");
  clear();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  EXPECT_EQ(text(itsmState().at("incidents").at(0), "state"), "6");
  EXPECT_EQ(outcomes(only().ticket_id), (std::vector<std::string>{"adopted", "updated"}));
}

TEST_F(ItsmRecordTest, TheRecordSurvivesARestart) {
  auto server = httpSink();
  ASSERT_TRUE(server);
  serviceNow(*server);
  raise();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  // A new control plane process: fresh stores and services over the same files.
  tickets_.reset();
  service_.reset();
  tenants_ = std::make_unique<TenantStores>((dir_ / "tenants").string(), clock_);
  control_ = std::move(ControlStore::open((dir_ / "control.db").string(), clock_).value());
  TicketService restarted(io_, *control_, *tenants_, clock_, [this] { return &box_; },
                          transport(), ticketOptions());
  ASSERT_TRUE(restarted.clearOrFail(a_.tenant.tenant_id, "bad_hr_data", "E1").isOk());
  EXPECT_EQ(restarted.deliverDue().value(), 1);
  auto got = received();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[3].at("method").as_string(), "PATCH");
  EXPECT_EQ(count(got, "POST", "/api/now/table/incident"), 1);
}

TEST_F(ItsmRecordTest, JiraResolutionWithoutARecordCreatesTheIssueAndResolvesIt) {
  auto server = httpSink();
  ASSERT_TRUE(server);
  raise();  // opened before the tenant added the sink: no record anywhere
  jira(*server, R"(,"resolve_transition_id":"31")");
  clear();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  auto got = received();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].at("path").as_string(), "/rest/api/2/issue");
  EXPECT_TRUE(contains(text(body(got[0]).at("fields"), "summary"), "[Tenure] Resolved:"));
  EXPECT_EQ(got[1].at("path").as_string(), "/rest/api/2/issue/10000/comment");
  EXPECT_EQ(got[3].at("method").as_string(), "POST");
  EXPECT_EQ(got[3].at("path").as_string(), "/rest/api/2/issue/10000/transitions");
  EXPECT_EQ(text(itsmState().at("issues").at(0), "status"), "Done");
  ASSERT_EQ(only().external.size(), 1u);
  EXPECT_EQ(only().external[0].ref, "OPS-1");
}

TEST_F(ItsmRecordTest, IncidentClosedInServiceNowIsLeftAloneAndAReopeningCreatesAnother) {
  auto server = httpSink();
  ASSERT_TRUE(server);
  serviceNow(*server);
  raise();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  const std::string sys_id = text(itsmState().at("incidents").at(0), "sys_id");
  // The service desk closes the incident before the condition clears in Tenure.
  ASSERT_EQ(directRequest("PATCH", url(*server) + "/api/now/table/incident/" + sys_id,
                          R"({"state":"7"})"),
            200);
  clear();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  auto got = received();
  EXPECT_EQ(count(got, "PATCH", "/api/now/table/incident/" + sys_id), 1) << "only the desk's";
  const std::string id = only().ticket_id;
  auto history = tickets_->notifications(a_.tenant.tenant_id, id).value();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].outcome, "unchanged");
  EXPECT_TRUE(contains(history[1].last_error, "already resolved or closed"))
      << history[1].last_error;

  raise();  // a closed incident refuses writes: the condition gets a new one
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  got = received();
  EXPECT_EQ(count(got, "PATCH", "/api/now/table/incident/" + sys_id), 1);
  EXPECT_EQ(count(got, "POST", "/api/now/table/incident"), 2);
  EXPECT_EQ(itsmState().at("incidents").as_array().size(), 2u);
  ASSERT_EQ(only().external.size(), 1u);
  EXPECT_EQ(only().external[0].ref, "INC0010002");
  history = tickets_->notifications(a_.tenant.tenant_id, id).value();
  EXPECT_EQ(history[2].outcome, "created");
  EXPECT_TRUE(contains(history[2].last_error, "INC0010001 is closed")) << history[2].last_error;
  EXPECT_TRUE(tickets_->pendingNotifications(a_.tenant.tenant_id)->empty());
}

TEST_F(ItsmRecordTest, JiraTransitionNoLongerOfferedIsSkippedNotRetried) {
  auto server = httpSink();
  ASSERT_TRUE(server);
  jira(*server, R"(,"resolve_transition_id":"31")");
  raise();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  // Someone closes the issue in Jira first.
  ASSERT_EQ(directRequest("POST", url(*server) + "/rest/api/2/issue/10000/transitions",
                          R"({"transition":{"id":"31"}})"),
            204);
  clear();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  EXPECT_TRUE(tickets_->pendingNotifications(a_.tenant.tenant_id)->empty());
  auto got = received();
  EXPECT_EQ(count(got, "POST", "/rest/api/2/issue/10000/transitions"), 1) << "only the person's";
  EXPECT_EQ(count(got, "POST", "/rest/api/2/issue/10000/comment"), 1);
  const auto history = tickets_->notifications(a_.tenant.tenant_id, only().ticket_id).value();
  EXPECT_EQ(history.back().outcome, "updated");
  EXPECT_TRUE(contains(history.back().last_error, "not offered")) << history.back().last_error;
}

// A tenant store written before records were kept (tickets schema version 1), with a ticket whose
// incident the old code created and another whose opening is still queued.
TEST_F(ItsmRecordTest, StoreFromBeforeRecordsIsMigratedAndAdoptsTheIncidentCreatedThen) {
  auto server = httpSink();
  ASSERT_TRUE(server);
  const std::string tenant = a_.tenant.tenant_id;
  const std::string sealed = box_.seal(tenant, "ticket-sink:snow:password", "pw:1").value();
  const std::string sink_doc = bj::serialize(bj::object{{"id", "snow"},
                                                        {"type", "servicenow"},
                                                        {"instance", url(*server)},
                                                        {"username", "svc"},
                                                        {"password_sealed", sealed}});
  // Version 1 of the tickets schema, as released.
  const std::vector<std::string> v1 = {
      R"(CREATE TABLE tickets(
           ticket_id TEXT PRIMARY KEY, detector TEXT NOT NULL, subject TEXT NOT NULL,
           state TEXT NOT NULL, count INTEGER NOT NULL, reopened INTEGER NOT NULL DEFAULT 0,
           summary TEXT NOT NULL DEFAULT '', hint TEXT NOT NULL DEFAULT '',
           first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,
           acknowledged_by TEXT NOT NULL DEFAULT '', acknowledged_at_ms INTEGER NOT NULL DEFAULT 0,
           resolved_by TEXT NOT NULL DEFAULT '', resolved_at_ms INTEGER NOT NULL DEFAULT 0,
           UNIQUE(detector, subject));
         CREATE INDEX tickets_by_state ON tickets(state, last_seen_ms);
         CREATE TABLE ticket_sinks(
           sink_id TEXT PRIMARY KEY, position INTEGER NOT NULL, document TEXT NOT NULL);
         CREATE TABLE ticket_outbox(
           id INTEGER PRIMARY KEY AUTOINCREMENT, ticket_id TEXT NOT NULL, sink_id TEXT NOT NULL,
           event TEXT NOT NULL, state TEXT NOT NULL, count INTEGER NOT NULL,
           attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at_ms INTEGER NOT NULL,
           last_error TEXT NOT NULL DEFAULT '', created_at_ms INTEGER NOT NULL,
           delivered_at_ms INTEGER);
         CREATE INDEX ticket_outbox_due ON ticket_outbox(delivered_at_ms, next_attempt_at_ms);)"};
  const int64_t now = clock_.nowUnixMillis();
  // The file as the old binary left it, written before the tenant's store opens it.
  const std::string path = tenants_->pathFor(tenant);
  ASSERT_TRUE([&]() -> Status {
    ASSIGN_OR_RETURN(auto db, sqlite::Database::open(path));
    RETURN_IF_ERROR(sqlite::migrateComponent(db, "tickets", v1));
    ASSIGN_OR_RETURN(auto st, db.prepare(
        "INSERT INTO ticket_sinks(sink_id, position, document) VALUES('snow', 0, ?)"));
    st.bindText(1, sink_doc);
    RETURN_IF_ERROR(st.run());
    ASSIGN_OR_RETURN(auto t, db.prepare(
        "INSERT INTO tickets(ticket_id, detector, subject, state, count, summary, hint, "
        "first_seen_ms, last_seen_ms) VALUES(?, 'bad_hr_data', ?, 'open', 1, ?, 'h', ?, ?)"));
    t.bindText(1, "tk_old").bindText(2, "E1").bindText(3, "old problem").bindInt64(4, now);
    t.bindInt64(5, now);
    RETURN_IF_ERROR(t.run());
    t.reset();
    t.bindText(1, "tk_queued").bindText(2, "E2").bindText(3, "queued problem").bindInt64(4, now);
    t.bindInt64(5, now);
    RETURN_IF_ERROR(t.run());
    return db.exec(
        "INSERT INTO ticket_outbox(ticket_id, sink_id, event, state, count, attempts, "
        "next_attempt_at_ms, created_at_ms, delivered_at_ms) VALUES "
        "('tk_old', 'snow', 'opened', 'open', 1, 1, 0, 0, 1),"
        "('tk_queued', 'snow', 'opened', 'open', 1, 0, 0, 0, NULL)");
  }().isOk());
  // What the old code created for tk_old: an incident carrying the ticket's correlation_id.
  ASSERT_EQ(directRequest("POST", url(*server) + "/api/now/table/incident",
                          R"({"short_description":"[Tenure] Open: old problem",
                              "correlation_id":"tenure:)" + tenant + R"(:tk_old"})"),
            201);

  clear("E1");  // the first use of the store by the service migrates it
  ASSERT_EQ(tickets_->deliverDue().value(), 2);
  auto version = [&]() -> Result<int64_t> {
    ASSIGN_OR_RETURN(auto db, sqlite::Database::open(path));
    ASSIGN_OR_RETURN(auto st,
                     db.prepare("SELECT version FROM schema_components WHERE name = 'tickets'"));
    ASSIGN_OR_RETURN(bool row, st.step());
    return row ? st.columnInt64(0) : int64_t{0};
  }();
  EXPECT_EQ(version.value(), 2);

  auto got = received();
  // tk_queued: look-up, create; tk_old: look-up (finds the old incident), resolve it.
  EXPECT_EQ(count(got, "POST", "/api/now/table/incident"), 2) << "the test's and tk_queued's";
  const bj::value state = itsmState();
  ASSERT_EQ(state.at("incidents").as_array().size(), 2u);
  EXPECT_EQ(text(state.at("incidents").at(0), "state"), "6");
  EXPECT_EQ(text(state.at("incidents").at(0), "correlation_id"), "tenure:" + tenant + ":tk_old");
  std::map<std::string, Ticket> by_id;
  for (auto& t : ticketsOf(a_)) by_id[t.ticket_id] = t;
  ASSERT_EQ(by_id["tk_old"].external.size(), 1u);
  EXPECT_EQ(by_id["tk_old"].external[0].ref, "INC0010001");
  ASSERT_EQ(by_id["tk_queued"].external.size(), 1u);
  EXPECT_EQ(by_id["tk_queued"].external[0].ref, "INC0010002");
  auto old = tickets_->notifications(tenant, "tk_old").value();
  ASSERT_EQ(old.size(), 2u);
  EXPECT_EQ(old[0].outcome, "") << "delivered before the change";
  EXPECT_EQ(old[1].outcome, "adopted");
}

TEST_F(ItsmRecordTest, TicketApisShowTheRecordsForOperatorsToJumpTo) {
  auto server = httpSink();
  ASSERT_TRUE(server);
  startHttp();
  serviceNow(*server);
  raise();
  ASSERT_EQ(tickets_->deliverDue().value(), 1);
  ASSERT_TRUE(tickets_->raiseOrFail({b_.tenant.tenant_id, "job_failed", "E5", "s", "h"}).isOk());
  const std::string id = only().ticket_id;
  const std::string sys_id = text(itsmState().at("incidents").at(0), "sys_id");
  const std::string expected = bj::serialize(bj::array{bj::object{
      {"sink", "snow"},
      {"type", "servicenow"},
      {"ref", "INC0010001"},
      {"url", url(*server) + "/nav_to.do?uri=incident.do%3Fsys_id%3D" + sys_id}}});

  auto one = request("GET", "/api/v1/tickets/" + id, tenantAuth(a_));
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(bj::serialize(one.json().at("external")), expected);
  auto list = request("GET", "/api/v1/tickets", tenantAuth(a_));
  EXPECT_EQ(bj::serialize(list.json().at("tickets").at(0).at("external")), expected);
  auto admin = request("GET", "/admin/v1/tenants/" + a_.tenant.tenant_id + "/tickets/" + id,
                       adminAuth());
  ASSERT_EQ(admin.status, 200) << admin.body;
  EXPECT_EQ(bj::serialize(admin.json().at("external")), expected);

  auto other = request("GET", "/api/v1/tickets", tenantAuth(b_));
  EXPECT_EQ(bj::serialize(other.json().at("tickets").at(0).at("external")), "[]");
  EXPECT_EQ(request("GET", "/api/v1/tickets/" + id, tenantAuth(b_)).status, 404);
  EXPECT_EQ(request("GET", "/admin/v1/tenants/" + b_.tenant.tenant_id + "/tickets/" + id,
                    adminAuth()).status,
            404);
  EXPECT_EQ(request("GET", "/admin/v1/tenants/" + a_.tenant.tenant_id + "/tickets/" + id,
                    tenantAuth(a_)).status,
            401);
}

}  // namespace
}  // namespace tenure::cp::testing
