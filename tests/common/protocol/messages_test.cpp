#include "common/protocol/messages.h"

#include <gtest/gtest.h>

namespace tenure::protocol {
namespace {

TEST(ProtocolTest, JobRoundTripsThroughJson) {
  Job job;
  job.job_id = "j1";
  job.run_id = "r1";
  job.attempt = 3;
  hr::HrRecord r;
  r.employee_id = "E1";
  r.given_name = "Zoë";
  r.family_name = "O'Brien, Jr.";
  r.custom["cost_center"] = "42";
  job.identities.push_back(r);
  auto text = protocol::serialize(toJson(job));
  auto parsed = parseJob(parseJsonText(text).value());
  ASSERT_TRUE(parsed.isOk()) << parsed.status().toString();
  EXPECT_EQ(parsed->job_id, "j1");
  EXPECT_EQ(parsed->attempt, 3);
  ASSERT_EQ(parsed->identities.size(), 1u);
  EXPECT_EQ(parsed->identities[0], r);
}

TEST(ProtocolTest, JobCarriesItsTimeZoneRulesAsBase64) {
  Job job;
  job.job_id = "j1";
  std::string tzif("TZif2\0\x01\xff\n<+01>-1\n", 17);
  job.time_zone = JobTimeZone{"Europe/Berlin", tzif};
  const boost::json::value v = toJson(job);
  const auto& tz = v.at("time_zone");
  EXPECT_EQ(tz.at("name").as_string(), "Europe/Berlin");
  EXPECT_EQ(tz.at("tzif").as_string(), "VFppZjIAAf8KPCswMT4tMQo=");
  auto parsed = parseJob(parseJsonText(protocol::serialize(v)).value());
  ASSERT_TRUE(parsed.isOk()) << parsed.status().toString();
  ASSERT_TRUE(parsed->time_zone.has_value());
  EXPECT_EQ(*parsed->time_zone, *job.time_zone);
}

TEST(ProtocolTest, JobWithoutTimeZoneHasNoneAndSendsNone) {
  // From a control plane older than the field; and a job for a UTC tenant.
  auto parsed = parseJob(parseJsonText(R"({"job_id":"j1","policy":{}})").value());
  ASSERT_TRUE(parsed.isOk()) << parsed.status().toString();
  EXPECT_FALSE(parsed->time_zone.has_value());
  EXPECT_FALSE(toJson(*parsed).as_object().contains("time_zone"));
  auto null_zone = parseJob(parseJsonText(R"({"job_id":"j1","time_zone":null})").value());
  ASSERT_TRUE(null_zone.isOk());
  EXPECT_FALSE(null_zone->time_zone.has_value());
}

TEST(ProtocolTest, MalformedTimeZoneIsADataError) {
  for (const char* body :
       {R"({"job_id":"j1","time_zone":"Europe/Berlin"})",
        R"({"job_id":"j1","time_zone":{"tzif":"VFppZg=="}})",
        R"({"job_id":"j1","time_zone":{"name":"Europe/Berlin"}})",
        R"({"job_id":"j1","time_zone":{"name":"Europe/Berlin","tzif":"not base64!"}})"}) {
    auto parsed = parseJob(parseJsonText(body).value());
    ASSERT_FALSE(parsed.isOk()) << body;
    EXPECT_EQ(parsed.status().errorClass(), ErrorClass::kData) << body;
  }
}

TEST(ProtocolTest, JobResultKeepsErrorsPerIdentity) {
  JobResult res;
  res.job_id = "j1";
  res.status = "partial";
  IdentityOutcome ok{.employee_id = "E1", .action = "created", .dn = "CN=A,DC=x",
                     .sam_account_name = "a", .upn = "a@x", .changes = {"create"}};
  IdentityOutcome bad{.employee_id = "E2", .action = "failed", .error_class = "permission",
                      .error_message = "insufficient access", .directory_code = 50};
  res.outcomes = {ok, bad};
  auto parsed = parseJobResult(parseJsonText(protocol::serialize(toJson(res))).value());
  ASSERT_TRUE(parsed.isOk());
  ASSERT_EQ(parsed->outcomes.size(), 2u);
  EXPECT_FALSE(parsed->outcomes[0].failed());
  EXPECT_EQ(parsed->outcomes[0].upn, "a@x");
  EXPECT_EQ(parsed->outcomes[1].error_class, "permission");
  EXPECT_EQ(parsed->outcomes[1].directory_code, 50);
}

TEST(ProtocolTest, MissingRequiredFieldNamesTheField) {
  auto r = parseEnrollRequest(parseJsonText(R"({"host":"h"})").value());
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kData);
  EXPECT_NE(r.status().message().find("enroll_secret"), std::string::npos);
}

TEST(ProtocolTest, WrongTypesAndBadStatusAreRejected) {
  EXPECT_FALSE(parsePollRequest(parseJsonText(R"({"wait_s":"10"})").value()).isOk());
  EXPECT_FALSE(parsePollRequest(parseJsonText(R"({"wait_s":100000})").value()).isOk());
  EXPECT_FALSE(parseJobResult(parseJsonText(R"({"status":"great"})").value()).isOk());
  EXPECT_FALSE(parseJsonText("{not json").isOk());
}

TEST(ProtocolTest, PlanSummaryAndOperationsRoundTrip) {
  PlanSummary plan;
  plan.job_id = "j1";
  plan.population = 120;
  plan.counts = {{"disable", 3}, {"create", 100}};
  IdentityOutcome o{"E1", "disabled", "CN=A,DC=x", "a"};
  o.state = "terminated";
  o.operations.push_back({"disable", "CN=A,DC=x", "", "status terminated", {"userAccountControl"}});
  o.operations.push_back({"move", "CN=A,DC=x", "OU=Leavers,DC=x", "leavers OU", {}});
  plan.outcomes.push_back(o);
  auto parsed = parsePlanSummary(parseJsonText(protocol::serialize(toJson(plan))).value());
  ASSERT_TRUE(parsed.isOk()) << parsed.status().toString();
  EXPECT_EQ(parsed->population, 120);
  EXPECT_EQ(parsed->counts.at("disable"), 3);
  ASSERT_EQ(parsed->outcomes.size(), 1u);
  EXPECT_EQ(parsed->outcomes[0].state, "terminated");
  EXPECT_EQ(parsed->outcomes[0].operations, o.operations);
  EXPECT_FALSE(parsePlanSummary(parseJsonText(R"({"counts":{"disable":-1}})").value()).isOk());

  PlanDecision d{false, true, "disable: 120 > 50"};
  auto pd = parsePlanDecision(parseJsonText(protocol::serialize(toJson(d))).value());
  ASSERT_TRUE(pd.isOk());
  EXPECT_FALSE(pd->proceed);
  EXPECT_TRUE(pd->held);
  EXPECT_EQ(pd->reason, d.reason);
}

}  // namespace
}  // namespace tenure::protocol
