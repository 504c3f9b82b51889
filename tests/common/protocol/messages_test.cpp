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
  auto text = serialize(toJson(job));
  auto parsed = parseJob(parseJsonText(text).value());
  ASSERT_TRUE(parsed.isOk()) << parsed.status().toString();
  EXPECT_EQ(parsed->job_id, "j1");
  EXPECT_EQ(parsed->attempt, 3);
  ASSERT_EQ(parsed->identities.size(), 1u);
  EXPECT_EQ(parsed->identities[0], r);
}

TEST(ProtocolTest, JobResultKeepsErrorsPerIdentity) {
  JobResult res;
  res.job_id = "j1";
  res.status = "partial";
  IdentityOutcome ok{"E1", "created", "CN=A,DC=x", "a", {"create"}, "", "", 0};
  IdentityOutcome bad{"E2", "failed", "", "", {}, "permission", "insufficient access", 50};
  res.outcomes = {ok, bad};
  auto parsed = parseJobResult(parseJsonText(serialize(toJson(res))).value());
  ASSERT_TRUE(parsed.isOk());
  ASSERT_EQ(parsed->outcomes.size(), 2u);
  EXPECT_FALSE(parsed->outcomes[0].failed());
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

}  // namespace
}  // namespace tenure::protocol
