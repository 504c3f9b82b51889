// Identity events and time travel through the tenant API: HR uploads and agent results over real
// HTTPS, SQLite tenant stores, a ManualClock moved from day 1 to day 2.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/controlplane/support/loopback_control_plane.h"

namespace tenure::cp {
namespace {

namespace bj = boost::json;
using testing::LoopbackControlPlane;

constexpr int64_t kDay1 = 1772442000000;  // 2026-03-02T09:00:00Z
constexpr int64_t kDay2 = 1772528400000;  // 2026-03-03T09:00:00Z

constexpr const char* kDn = "CN=Ann Lee,OU=Staff,DC=example,DC=test";
constexpr const char* kSales = "CN=Sales,OU=Groups,DC=example,DC=test";
constexpr const char* kMarketing = "CN=Marketing,OU=Groups,DC=example,DC=test";

std::string createdResult() {
  return std::string(R"({"status":"succeeded","outcomes":[{"employee_id":"E1","action":"created",)") +
         R"("state":"active","dn":")" + kDn + R"(","sam_account_name":"alee","upn":"alee@example.test",)" +
         R"("operations":[{"kind":"create","dn":")" + kDn + R"(","reason":"new hire"},)" +
         R"({"kind":"add_member","dn":")" + kDn + R"(","target":")" + kSales +
         R"(","reason":"rule sales-groups"}]}]})";
}

std::string movedToMarketingResult() {
  return std::string(R"({"status":"succeeded","outcomes":[{"employee_id":"E1","action":"updated",)") +
         R"("state":"active","dn":")" + kDn + R"(","sam_account_name":"alee",)" +
         R"("operations":[{"kind":"modify","dn":")" + kDn +
         R"J(","reason":"HR changed department (Sales -> Marketing)","changes":["department"]},)J" +
         R"({"kind":"remove_member","dn":")" + kDn + R"(","target":")" + kSales +
         R"(","reason":"rule sales-groups no longer applies"},)" +
         R"({"kind":"add_member","dn":")" + kDn + R"(","target":")" + kMarketing +
         R"(","reason":"rule marketing-groups"}]}]})";
}

std::string leaverResult() {
  return std::string(R"({"status":"succeeded","outcomes":[{"employee_id":"E1","action":"disabled",)") +
         R"("state":"terminated","dn":")" + kDn + R"(","operations":[{"kind":"disable","dn":")" +
         kDn + R"(","reason":"terminated: end date passed"}]}]})";
}

class TimeTravelTest : public ::testing::Test {
 protected:
  TimeTravelTest() : cp_(kDay1) {}
  void SetUp() override {
    a_ = cp_.createTenant("Acme");
    b_ = cp_.createTenant("Other");
    key_ = cp_.enroll(a_);
    run1_ = cp_.uploadCsv(a_, "employee_id,given_name,family_name,department,status\n"
                              "E1,Ann,Lee,Sales,active\n");
    cp_.clock().advance(std::chrono::minutes(1));
    cp_.completeNextJob(key_, createdResult());
    cp_.clock().setUnixMillis(kDay2);
    run2_ = cp_.uploadCsv(a_, "employee_id,given_name,family_name,department,status\n"
                              "E1,Ann,Lee,Marketing,active\n");
    cp_.clock().advance(std::chrono::minutes(1));
    cp_.completeNextJob(key_, movedToMarketingResult());
  }
  bj::value identity(const std::string& query, int expect = 200) {
    auto r = cp_.request("GET", "/api/v1/identities/E1" + query, "Bearer " + a_.api_token);
    EXPECT_EQ(r.status, expect) << r.body;
    return r.json();
  }

  LoopbackControlPlane cp_;
  TenantCredentials a_, b_;
  std::string key_, run1_, run2_;
};

TEST_F(TimeTravelTest, AsOfDayOneShowsSalesAndDayTwoShowsMarketing) {
  auto d1 = identity("?as_of=2026-03-02T23:59:59Z");
  EXPECT_EQ(d1.at("hr").at("department").as_string(), "Sales");
  EXPECT_EQ(d1.at("directory").at("dn").as_string(), kDn);
  EXPECT_EQ(d1.at("directory").at("sam_account_name").as_string(), "alee");
  EXPECT_EQ(d1.at("directory").at("upn").as_string(), "alee@example.test");
  EXPECT_EQ(d1.at("directory").at("enabled").as_bool(), true);
  EXPECT_EQ(d1.at("directory").at("lifecycle_state").as_string(), "active");
  EXPECT_EQ(d1.at("directory").at("groups"), (bj::array{kSales}));
  EXPECT_EQ(d1.at("events").as_array().size(), 3u) << "hr, lifecycle, directory of day 1";

  auto d2 = identity("?as_of=" + std::to_string(kDay2 + 120'000));
  EXPECT_EQ(d2.at("hr").at("department").as_string(), "Marketing");
  EXPECT_EQ(d2.at("directory").at("groups"), (bj::array{kMarketing}));
  EXPECT_EQ(d2.at("directory").at("upn").as_string(), "alee@example.test")
      << "known from day 1, not reported again";
  EXPECT_EQ(d2.at("events").as_array().size(), 5u);

  EXPECT_EQ(identity("").at("hr").at("department").as_string(), "Marketing") << "default: now";
}

TEST_F(TimeTravelTest, BetweenTheHrChangeAndTheAgentsResultHrAndDirectoryDiffer) {
  auto mid = identity("?as_of=2026-03-03T09:00:30Z");
  EXPECT_EQ(mid.at("hr").at("department").as_string(), "Marketing");
  EXPECT_EQ(mid.at("directory").at("groups"), (bj::array{kSales}));
}

TEST_F(TimeTravelTest, BeforeTheFirstUploadNothingIsKnown) {
  auto before = identity("?as_of=2026-03-01T00:00:00Z");
  EXPECT_TRUE(before.at("hr").is_null());
  EXPECT_TRUE(before.at("directory").is_null());
  EXPECT_TRUE(before.at("events").as_array().empty());
}

TEST_F(TimeTravelTest, EventsCarryTheirCause) {
  auto r = cp_.request("GET", "/api/v1/identities/E1/events", "Bearer " + a_.api_token);
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = r.json();
  const auto& events = body.at("events").as_array();
  ASSERT_EQ(events.size(), 5u) << r.body;
  // Day 2's HR change: which field, old -> new, which run, source and actor.
  const auto& hr2 = events[3].as_object();
  EXPECT_EQ(hr2.at("kind").as_string(), "hr");
  EXPECT_EQ(hr2.at("run_id").as_string(), run2_);
  EXPECT_EQ(hr2.at("source").as_string(), "csv");
  EXPECT_EQ(hr2.at("actor").as_string(), "tenant api (Acme)");
  EXPECT_EQ(hr2.at("detail").at("changes").at("department"),
            (bj::object{{"old", "Sales"}, {"new", "Marketing"}}));
  EXPECT_EQ(hr2.at("at_ms").as_int64(), kDay2);
  // The agent's change: each operation with its reason, the run and the agent.
  const auto& dir2 = events[4].as_object();
  EXPECT_EQ(dir2.at("kind").as_string(), "directory");
  EXPECT_EQ(dir2.at("run_id").as_string(), run2_);
  EXPECT_FALSE(dir2.at("agent_id").as_string().empty());
  EXPECT_EQ(dir2.at("detail").at("operations").at(2).at("reason").as_string(),
            "rule marketing-groups");
  EXPECT_EQ(events[1].at("kind").as_string(), "lifecycle");
  EXPECT_EQ(events[1].at("summary").as_string(), "lifecycle state (none) -> active");

  auto page = cp_.request("GET", "/api/v1/identities/E1/events?limit=2", "Bearer " + a_.api_token);
  auto pj = page.json();
  EXPECT_EQ(pj.at("events").as_array().size(), 2u);
  auto next = pj.at("next_after").as_int64();
  auto rest = cp_.request("GET", "/api/v1/identities/E1/events?after=" + std::to_string(next),
                          "Bearer " + a_.api_token);
  EXPECT_EQ(rest.json().at("events").as_array().size(), 3u);
}

TEST_F(TimeTravelTest, AnUnchangedRecordSentAgainIsNoEvent) {
  cp_.uploadCsv(a_, "employee_id,given_name,family_name,department,status\nE1,Ann,Lee,Marketing,active\n");
  auto r = cp_.request("GET", "/api/v1/identities/E1/events", "Bearer " + a_.api_token);
  EXPECT_EQ(r.json().at("events").as_array().size(), 5u);
}

TEST_F(TimeTravelTest, ALeaverIsDisabledFromTheDayOfTheResult) {
  cp_.clock().setUnixMillis(kDay2 + 86'400'000);
  cp_.uploadCsv(a_, "employee_id,given_name,family_name,department,status\nE1,Ann,Lee,Marketing,terminated\n");
  cp_.completeNextJob(key_, leaverResult());
  auto day3 = identity("");
  EXPECT_EQ(day3.at("directory").at("enabled").as_bool(), false);
  EXPECT_EQ(day3.at("directory").at("lifecycle_state").as_string(), "terminated");
  EXPECT_EQ(identity("?as_of=2026-03-03T12:00:00Z").at("directory").at("enabled").as_bool(), true);
}

TEST_F(TimeTravelTest, UnknownPeopleAre404AndBadInstantsAre400) {
  auto unknown = cp_.request("GET", "/api/v1/identities/NOPE", "Bearer " + a_.api_token);
  EXPECT_EQ(unknown.status, 404);
  auto unknown_events = cp_.request("GET", "/api/v1/identities/NOPE/events", "Bearer " + a_.api_token);
  EXPECT_EQ(unknown_events.status, 404);
  identity("?as_of=last-tuesday", 400);
  identity("?as_of=2026-13-01T00:00:00Z", 400);
  auto other = cp_.request("GET", "/api/v1/identities/E1", "Bearer " + b_.api_token);
  EXPECT_EQ(other.status, 404) << "another tenant's person does not exist for B";
  EXPECT_EQ(other.body.find("Ann"), std::string::npos);
}

TEST_F(TimeTravelTest, AFailedCreateIsAnEventButNoAccount) {
  cp_.uploadCsv(a_, "employee_id,given_name,family_name,department,status\nE2,Bo,Park,Sales,active\n");
  cp_.completeNextJob(key_, R"({"status":"failed","outcomes":[{"employee_id":"E2","action":"failed",
    "state":"active","error_class":"permission","error_message":"insufficient access","directory_code":50,
    "operations":[{"kind":"create","dn":"CN=Bo Park,OU=Staff,DC=example,DC=test","reason":"new hire"}]}]})");
  auto r = cp_.request("GET", "/api/v1/identities/E2", "Bearer " + a_.api_token);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = r.json();
  EXPECT_FALSE(j.at("directory").at("exists").as_bool());
  EXPECT_TRUE(j.at("directory").at("enabled").is_null());
  const auto& events = j.at("events").as_array();
  ASSERT_EQ(events.size(), 3u) << r.body;  // hr, lifecycle, the failure
  EXPECT_EQ(events[2].at("detail").at("error").at("directory_code").as_int64(), 50);
  // A second failure is another event, but not another lifecycle change.
  cp_.uploadCsv(a_, "employee_id,given_name,family_name,department,status\nE2,Bo,Park,Sales2,active\n");
  cp_.completeNextJob(key_, R"({"status":"failed","outcomes":[{"employee_id":"E2","action":"failed",
    "state":"active","error_class":"permission","error_message":"insufficient access","directory_code":50}]})");
  auto again = cp_.request("GET", "/api/v1/identities/E2/events", "Bearer " + a_.api_token);
  EXPECT_EQ(again.json().at("events").as_array().size(), 5u) << again.body;
}

TEST_F(TimeTravelTest, ADryRunRecordsNoDirectoryChange) {
  auto r = cp_.request("POST", "/api/v1/hr/records?dry_run=true", "Bearer " + a_.api_token,
                       "employee_id,given_name,family_name,department,status\nE1,Ann,Lee,Marketing,active\n",
                       "text/csv");
  ASSERT_EQ(r.status, 202);
  cp_.completeNextJob(key_, leaverResult());
  auto now = identity("");
  EXPECT_EQ(now.at("directory").at("enabled").as_bool(), true);
}

}  // namespace
}  // namespace tenure::cp
