// JobExecutor evaluates lifecycle dates in the tenant's zone with the rules the job carries
// (Job::time_zone, the control plane's tzdata), and with its own tz database only for a job that
// carries none. The agent's own database here is an in-memory one, empty unless a test fills it:
// that is what a Windows agent has (systemZoneDatabase() there holds nothing), so this suite is
// built for Windows too and run under Wine (tests/windows), where no zoneinfo directory exists.
// The zone's bytes are the build machine's /usr/share/zoneinfo/Europe/Berlin, embedded at build
// time (tests/support/zone_fixture.cmake), and reach the executor through the job's JSON, as a
// poll response would bring them.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "agent/executor/job_executor.h"
#include "common/base/zone_database.h"
#include "tests/mocks/fake_directory_client.h"
#include "tzif_Europe_Berlin.h"

namespace tenure::agent {
namespace {

constexpr const char* kStaff = "OU=Staff,DC=example,DC=test";

// 2025-01-15 00:00 in Berlin (CET, UTC+1) is 2025-01-14T23:00:00Z.
constexpr int64_t kWinterMidnightMs = 1'736'895'600'000;
// 2025-07-15 00:00 in Berlin (CEST, UTC+2) is 2025-07-14T22:00:00Z.
constexpr int64_t kSummerMidnightMs = 1'752'530'400'000;
constexpr int64_t kHireMs = 1'735'689'600'000;  // 2025-01-01T00:00:00Z

// A zone file with a single fixed offset (no transitions, footer `rule`).
std::string fixedOffsetTzif(const std::string& rule, int32_t utoff) {
  auto u32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  std::string header = std::string("TZif2") + std::string(15, '\0');
  for (uint32_t count : {0u, 0u, 0u, 0u, 1u, 4u}) header += u32(count);
  const std::string data = u32(static_cast<uint32_t>(utoff)) + std::string("\0\0XXX\0", 6);
  return header + data + header + data + "\n" + rule + "\n";
}

protocol::JobTimeZone berlin() {
  return protocol::JobTimeZone{"Europe/Berlin", embeddedTzif_Europe_Berlin()};
}

// A leaver whose last day is `last_day`: the termination takes effect at the start of the next
// local day.
hr::HrRecord leaver(const std::string& last_day) {
  hr::HrRecord r;
  r.employee_id = "E1";
  r.given_name = "Ann";
  r.family_name = "Lee";
  r.employment_type = "employee";
  r.status = "active";
  r.start_date = "2024-06-01";
  r.end_date = last_day;
  return r;
}

class JobTimeZoneTest : public ::testing::Test {
 protected:
  JobTimeZoneTest() {
    dir_.addOu("DC=example,DC=test");
    dir_.addOu(kStaff);
  }

  // The job as the agent receives it: serialized by the control plane's code, parsed by the
  // agent's.
  static protocol::Job overTheWire(const protocol::Job& job) {
    auto text = protocol::serialize(protocol::toJson(job));
    auto parsed = protocol::parseJob(protocol::parseJsonText(text).value());
    EXPECT_TRUE(parsed.isOk()) << parsed.status().toString();
    return parsed.value();
  }

  protocol::JobResult run(const std::string& zone_name,
                          const std::optional<protocol::JobTimeZone>& zone, int64_t now_ms,
                          const std::string& last_day) {
    protocol::Job job;
    job.job_id = "job-" + std::to_string(++jobs_);
    job.now_ms = now_ms;
    job.identities = {leaver(last_day)};
    job.policy = boost::json::object{{"lifecycle", boost::json::object{{"time_zone", zone_name}}}};
    job.time_zone = zone;
    ExecutorSettings settings{kStaff, "", "", "test"};
    settings.zones = &local_zones_;
    JobExecutor executor(dir_, settings, clock_, nullptr,
                         [] { return std::string("Fixed-Password-For-Tests-1"); });
    return executor.execute(overTheWire(job));
  }

  // The person's action and state at `now_ms`, evaluated with the job's Berlin rules.
  std::pair<std::string, std::string> inBerlin(int64_t now_ms, const std::string& last_day) {
    auto r = run("Europe/Berlin", berlin(), now_ms, last_day);
    EXPECT_NE(r.status, "failed") << r.error_message;
    if (r.outcomes.size() != 1) return {"(" + std::to_string(r.outcomes.size()) + " outcomes)", ""};
    return {r.outcomes[0].action, r.outcomes[0].state};
  }

  std::string userAccountControl() {
    auto users = dir_.entriesOfClass("user");
    return users.size() == 1 ? users[0].first("userAccountControl") : "(no single user)";
  }

  testing::FakeDirectoryClient dir_;
  ManualClock clock_{kHireMs};
  InMemoryZoneDatabase local_zones_;  // the agent's own tz database: none, as on Windows
  int jobs_ = 0;
};

TEST_F(JobTimeZoneTest, BerlinLeaverIsDisabledAtLocalMidnightOfTheTerminationDayInWinter) {
  ASSERT_EQ(inBerlin(kHireMs, "2025-01-14").first, "created");
  EXPECT_EQ(inBerlin(kWinterMidnightMs - 1000, "2025-01-14"),
            std::make_pair(std::string("unchanged"), std::string("active")))
      << "2025-01-14T22:59:59Z is 23:59:59 on the last day in Berlin";
  EXPECT_EQ(userAccountControl(), "512");
  EXPECT_EQ(inBerlin(kWinterMidnightMs, "2025-01-14"),
            std::make_pair(std::string("disabled"), std::string("terminated")))
      << "2025-01-14T23:00:00Z is midnight of 2025-01-15 in Berlin";
  EXPECT_EQ(userAccountControl(), "514");
}

TEST_F(JobTimeZoneTest, BerlinLeaverIsDisabledAtLocalMidnightOfTheTerminationDayInSummer) {
  ASSERT_EQ(inBerlin(kHireMs, "2025-07-14").first, "created");
  EXPECT_EQ(inBerlin(kSummerMidnightMs - 1000, "2025-07-14"),
            std::make_pair(std::string("unchanged"), std::string("active")))
      << "2025-07-14T21:59:59Z is 23:59:59 CEST on the last day";
  EXPECT_EQ(inBerlin(kSummerMidnightMs, "2025-07-14"),
            std::make_pair(std::string("disabled"), std::string("terminated")))
      << "2025-07-14T22:00:00Z is midnight CEST";
  EXPECT_EQ(userAccountControl(), "514");
}

TEST_F(JobTimeZoneTest, InUtcTheSameInstantIsStillTheLastDay) {
  // What an agent that ignored the tenant's zone would conclude at Berlin's midnight.
  ASSERT_EQ(run("UTC", std::nullopt, kHireMs, "2025-01-14").outcomes.at(0).action, "created");
  auto r = run("UTC", std::nullopt, kWinterMidnightMs, "2025-01-14");
  ASSERT_EQ(r.outcomes.size(), 1u) << r.error_message;
  EXPECT_EQ(r.outcomes[0].action, "unchanged");
  EXPECT_EQ(r.outcomes[0].state, "active");
  EXPECT_EQ(userAccountControl(), "512");
}

TEST_F(JobTimeZoneTest, WithoutTheJobsZoneAnAgentWithoutTzDatabaseFailsTheJob) {
  auto r = run("Europe/Berlin", std::nullopt, kWinterMidnightMs, "2025-01-14");
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(r.error_class, "config");
  EXPECT_NE(r.error_message.find("Europe/Berlin"), std::string::npos) << r.error_message;
  EXPECT_TRUE(dir_.entriesOfClass("user").empty()) << "nothing is written";
}

TEST_F(JobTimeZoneTest, TheJobsZoneWinsOverTheAgentsOwnDatabase) {
  // The agent's own "Europe/Berlin" is wrong (stale tzdata, say): UTC all year.
  local_zones_.add("Europe/Berlin", fixedOffsetTzif("UTC0", 0));
  ASSERT_EQ(inBerlin(kHireMs, "2025-01-14").first, "created");
  EXPECT_EQ(inBerlin(kWinterMidnightMs, "2025-01-14").first, "disabled")
      << "evaluated with the job's rules (UTC+1), not the agent's (UTC)";
}

TEST_F(JobTimeZoneTest, AJobWithoutAZoneUsesTheAgentsOwnDatabase) {
  // A control plane older than Job::time_zone sends none.
  local_zones_.add("Europe/Berlin", embeddedTzif_Europe_Berlin());
  ASSERT_EQ(run("Europe/Berlin", std::nullopt, kHireMs, "2025-01-14").outcomes.at(0).action,
            "created");
  auto before = run("Europe/Berlin", std::nullopt, kWinterMidnightMs - 1000, "2025-01-14");
  ASSERT_EQ(before.outcomes.size(), 1u) << before.error_message;
  EXPECT_EQ(before.outcomes[0].action, "unchanged");
  auto after = run("Europe/Berlin", std::nullopt, kWinterMidnightMs, "2025-01-14");
  ASSERT_EQ(after.outcomes.size(), 1u) << after.error_message;
  EXPECT_EQ(after.outcomes[0].action, "disabled");
}

TEST_F(JobTimeZoneTest, MalformedZoneRulesInTheJobFailItWithAConfigError) {
  protocol::JobTimeZone bad{"Europe/Berlin", "not a zone file, but long enough for a header......"};
  auto r = run("Europe/Berlin", bad, kWinterMidnightMs, "2025-01-14");
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(r.error_class, "config");
  EXPECT_TRUE(dir_.entriesOfClass("user").empty());
}

}  // namespace
}  // namespace tenure::agent
