#include "agent/executor/job_executor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>

#include "agent/directory/unicode_pwd.h"
#include "tests/mocks/fake_directory_client.h"

namespace tenure::agent {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

constexpr const char* kStaff = "OU=Staff,DC=example,DC=test";
constexpr const char* kLeavers = "OU=Leavers,DC=example,DC=test";
constexpr const char* kPassword = "Fixed-Password-For-Tests-1";

class RecordingSink : public ProgressSink {
 public:
  void onOutcome(const std::string& job_id, const protocol::IdentityOutcome& o) override {
    job_ids.push_back(job_id);
    outcomes.push_back(o);
  }
  std::vector<std::string> job_ids;
  std::vector<protocol::IdentityOutcome> outcomes;
};

hr::HrRecord person(std::string id, std::string given, std::string family,
                    std::string department = "Sales") {
  hr::HrRecord r;
  r.employee_id = std::move(id);
  r.given_name = std::move(given);
  r.family_name = std::move(family);
  r.department = std::move(department);
  r.title = "Engineer";
  r.employment_type = "employee";
  r.status = "active";
  return r;
}

protocol::Job jobOf(std::vector<hr::HrRecord> people, std::string id = "job-1") {
  protocol::Job job;
  job.job_id = std::move(id);
  job.identities = std::move(people);
  return job;
}

class JobExecutorTest : public ::testing::Test {
 protected:
  JobExecutorTest() {
    dir_.addOu("DC=example,DC=test");
    dir_.addOu(kStaff);
    dir_.addOu(kLeavers);
  }

  protocol::JobResult run(const protocol::Job& job,
                          const std::map<std::string, protocol::IdentityOutcome>& prior = {}) {
    JobExecutor executor(dir_, ExecutorSettings{kStaff, kLeavers, "", "test"}, clock_, &sink_,
                         [] { return std::string(kPassword); });
    return executor.execute(job, prior);
  }

  const protocol::IdentityOutcome& outcomeOf(const protocol::JobResult& r, const std::string& id) {
    for (const auto& o : r.outcomes) {
      if (o.employee_id == id) return o;
    }
    static protocol::IdentityOutcome none;
    ADD_FAILURE() << "no outcome for " << id;
    return none;
  }

  // The user entry holding `employee_id` (nullptr when there is none).
  const DirectoryEntry* userOf(const std::string& employee_id) {
    for (const auto& e : dir_.entriesOfClass("user")) {
      if (e.first("employeeID") == employee_id) return dir_.find(e.dn);
    }
    return nullptr;
  }

  testing::FakeDirectoryClient dir_;
  ManualClock clock_{1'750'000'000'000};
  RecordingSink sink_;
};

TEST_F(JobExecutorTest, TwentyJoinersAreCreatedWithAllOwnedAttributes) {
  std::vector<hr::HrRecord> people;
  for (int i = 1; i <= 20; ++i) {
    people.push_back(person("E" + std::to_string(i), "Person", "Number" + std::to_string(i)));
  }
  auto result = run(jobOf(people));

  EXPECT_EQ(result.status, "succeeded");
  EXPECT_EQ(result.job_id, "job-1");
  EXPECT_EQ(result.domain_controller, "dc1.example.test");
  EXPECT_EQ(result.started_at_ms, 1'750'000'000'000);
  EXPECT_EQ(result.finished_at_ms, 1'750'000'000'000);
  ASSERT_EQ(result.outcomes.size(), 20u);
  for (const auto& o : result.outcomes) {
    EXPECT_EQ(o.action, "created") << o.employee_id << ": " << o.error_message;
  }
  EXPECT_EQ(dir_.entriesOfClass("user").size(), 20u);
  EXPECT_EQ(sink_.outcomes.size(), 20u);

  const DirectoryEntry* e = userOf("E7");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->dn, "CN=Person Number7,OU=Staff,DC=example,DC=test");
  EXPECT_EQ(e->first("sAMAccountName"), "pnumber7");
  EXPECT_EQ(e->first("userPrincipalName"), "pnumber7@example.test");
  EXPECT_EQ(e->first("givenName"), "Person");
  EXPECT_EQ(e->first("sn"), "Number7");
  EXPECT_EQ(e->first("displayName"), "Person Number7");
  EXPECT_EQ(e->first("department"), "Sales");
  EXPECT_EQ(e->first("title"), "Engineer");
  EXPECT_EQ(e->first("employeeType"), "employee");
  EXPECT_EQ(e->first("userAccountControl"), "512");
  EXPECT_EQ(e->first("pwdLastSet"), "0");
  EXPECT_EQ(e->first("unicodePwd"), encodeUnicodePwd(kPassword));
  EXPECT_FALSE(e->has("physicalDeliveryOfficeName"));

  const auto& o = outcomeOf(result, "E7");
  EXPECT_EQ(o.dn, e->dn);
  EXPECT_EQ(o.sam_account_name, "pnumber7");
  EXPECT_THAT(o.changes, ElementsAre("create"));
}

TEST_F(JobExecutorTest, SecondRunOfTheSameJobChangesNothing) {
  std::vector<hr::HrRecord> people;
  for (int i = 1; i <= 20; ++i)
    people.push_back(person("E" + std::to_string(i), "A", "B" + std::to_string(i)));
  people[3].manager_id = "E1";
  people[0].manager_id = "E20";  // a manager created later in the job
  ASSERT_EQ(run(jobOf(people)).status, "succeeded");
  const int writes = dir_.writeCount();

  auto again = run(jobOf(people));
  EXPECT_EQ(again.status, "succeeded");
  EXPECT_EQ(dir_.writeCount(), writes);
  for (const auto& o : again.outcomes) EXPECT_EQ(o.action, "unchanged") << o.employee_id;
}

TEST_F(JobExecutorTest, SamCollisionWithAnUnmanagedAccountTakesTheNextCandidate) {
  DirectoryEntry existing;
  existing.dn = "CN=Service jsmith,OU=Staff,DC=example,DC=test";
  existing.attributes["objectClass"] = {"top", "user"};
  existing.attributes["sAMAccountName"] = {"jsmith"};
  dir_.seed(existing);

  auto result = run(jobOf({person("E1", "John", "Smith")}));
  ASSERT_EQ(result.status, "succeeded") << result.outcomes[0].error_message;
  EXPECT_EQ(result.outcomes[0].sam_account_name, "jsmith2");
  const DirectoryEntry* e = userOf("E1");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->first("userPrincipalName"), "jsmith2@example.test");
}

TEST_F(JobExecutorTest, UpnCollisionAlsoCountsAsTaken) {
  DirectoryEntry existing;
  existing.dn = "CN=Other,OU=Staff,DC=example,DC=test";
  existing.attributes["objectClass"] = {"user"};
  existing.attributes["sAMAccountName"] = {"other"};
  existing.attributes["userPrincipalName"] = {"jdoe@example.test"};
  dir_.seed(existing);

  auto result = run(jobOf({person("E1", "Jane", "Doe")}));
  EXPECT_EQ(result.outcomes[0].sam_account_name, "jdoe2");
}

TEST_F(JobExecutorTest, TwoNamesakesInOneJobGetDistinctNamesAndCns) {
  auto result = run(jobOf({person("E1", "John", "Smith"), person("E2", "John", "Smith")}));
  ASSERT_EQ(result.status, "succeeded");
  EXPECT_EQ(outcomeOf(result, "E1").sam_account_name, "jsmith");
  EXPECT_EQ(outcomeOf(result, "E2").sam_account_name, "jsmith2");
  EXPECT_EQ(outcomeOf(result, "E2").dn, "CN=John Smith (E2),OU=Staff,DC=example,DC=test");
}

TEST_F(JobExecutorTest, RaceOnSamAccountNameRetriesWithTheNextCandidate) {
  // The name looks free when checked, but the add is refused (another admin was faster).
  dir_.failWhen("add", "CN=Jane Doe,", Status(ErrorClass::kConflict, "exists", 68), 1);
  auto result = run(jobOf({person("E1", "Jane", "Doe")}));
  ASSERT_EQ(result.status, "succeeded") << result.outcomes[0].error_message;
  EXPECT_EQ(result.outcomes[0].sam_account_name, "jdoe2");
}

TEST_F(JobExecutorTest, ManagerCreatedLaterInTheSameJobIsResolved) {
  hr::HrRecord report = person("E1", "Rita", "Report");
  report.manager_id = "E2";
  hr::HrRecord boss = person("E2", "Bob", "Boss");
  hr::HrRecord second = person("E3", "Sam", "Second");
  second.manager_id = "E2";  // also set once E2 exists (the whole job is planned first)

  auto result = run(jobOf({report, boss, second}));
  ASSERT_EQ(result.status, "succeeded");
  const std::string boss_dn = "CN=Bob Boss,OU=Staff,DC=example,DC=test";
  EXPECT_EQ(userOf("E1")->first("manager"), boss_dn);
  EXPECT_EQ(userOf("E3")->first("manager"), boss_dn);
  EXPECT_EQ(outcomeOf(result, "E1").action, "created");
  EXPECT_THAT(outcomeOf(result, "E1").changes, ElementsAre("create", "manager"));
  // E1 and E3 are reported when created and again once their manager is set.
  ASSERT_EQ(sink_.outcomes.size(), 5u);
  EXPECT_EQ(sink_.outcomes[3].employee_id, "E1");
  EXPECT_THAT(sink_.outcomes[3].changes, Contains("manager"));
  EXPECT_EQ(sink_.outcomes[4].employee_id, "E3");
  const auto& ops = outcomeOf(result, "E1").operations;
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[1].kind, "modify");
  EXPECT_EQ(ops[1].reason, "HR manager E2 (created in this run)");
}

TEST_F(JobExecutorTest, ManagerAlreadyInTheDirectoryIsSetInTheAdd) {
  ASSERT_EQ(run(jobOf({person("E9", "Bob", "Boss")}, "job-0")).status, "succeeded");
  hr::HrRecord r = person("E1", "Rita", "Report");
  r.manager_id = "E9";
  auto result = run(jobOf({r}));
  EXPECT_EQ(userOf("E1")->first("manager"), "CN=Bob Boss,OU=Staff,DC=example,DC=test");
  EXPECT_THAT(result.outcomes[0].changes, ElementsAre("create"));
}

TEST_F(JobExecutorTest, UnknownManagerIsSkippedAndNoted) {
  hr::HrRecord r = person("E1", "Rita", "Report");
  r.manager_id = "NOBODY";
  auto result = run(jobOf({r}));
  EXPECT_EQ(result.status, "succeeded");
  EXPECT_EQ(result.outcomes[0].action, "created");
  EXPECT_THAT(result.outcomes[0].changes, Contains("manager_unresolved"));
  EXPECT_FALSE(userOf("E1")->has("manager"));
}

TEST_F(JobExecutorTest, OneFailingPersonMakesThePartialJobAndDoesNotStopOthers) {
  dir_.failWhen("add", "CN=Bad Person", Status(ErrorClass::kPermission, "insufficient access", 50));
  auto result = run(jobOf(
      {person("E1", "Ann", "Able"), person("E2", "Bad", "Person"), person("E3", "Cid", "Cane")}));
  EXPECT_EQ(result.status, "partial");
  EXPECT_EQ(outcomeOf(result, "E1").action, "created");
  EXPECT_EQ(outcomeOf(result, "E3").action, "created");
  const auto& bad = outcomeOf(result, "E2");
  EXPECT_EQ(bad.action, "failed");
  EXPECT_EQ(bad.error_class, "permission");
  EXPECT_EQ(bad.directory_code, 50);
  EXPECT_EQ(bad.error_message, "insufficient access");
  EXPECT_EQ(userOf("E2"), nullptr);
}

TEST_F(JobExecutorTest, EveryoneFailingFailsTheJob) {
  dir_.failWhen("add", "OU=Staff", Status(ErrorClass::kTransient, "busy", 51));
  auto result = run(jobOf({person("E1", "Ann", "Able"), person("E2", "Bo", "Bell")}));
  EXPECT_EQ(result.status, "failed");
  EXPECT_TRUE(result.error_class.empty());
}

TEST_F(JobExecutorTest, ConnectFailureIsAJobLevelError) {
  dir_.setConnectStatus(Status(ErrorClass::kPermission, "invalid credentials: data 52e", 49));
  auto result = run(jobOf({person("E1", "Ann", "Able")}));
  EXPECT_EQ(result.status, "failed");
  EXPECT_EQ(result.error_class, "permission");
  EXPECT_NE(result.error_message.find("52e"), std::string::npos);
  EXPECT_TRUE(result.outcomes.empty());
  EXPECT_EQ(dir_.writeCount(), 0);
}

TEST_F(JobExecutorTest, DryRunPlansAndReportsButWritesNothing) {
  ASSERT_EQ(run(jobOf({person("E1", "Ann", "Able")}, "job-0")).status, "succeeded");
  const int writes = dir_.writeCount();
  hr::HrRecord changed = person("E1", "Ann", "Able", "Marketing");
  protocol::Job job = jobOf({changed, person("E2", "Bo", "Bell"), person("E3", "Bo", "Bell")});
  job.dry_run = true;

  auto result = run(job);
  EXPECT_EQ(dir_.writeCount(), writes);
  EXPECT_EQ(result.status, "succeeded");
  EXPECT_EQ(outcomeOf(result, "E1").action, "updated");
  EXPECT_THAT(outcomeOf(result, "E1").changes, ElementsAre("department"));
  EXPECT_EQ(outcomeOf(result, "E2").action, "created");
  EXPECT_EQ(outcomeOf(result, "E2").sam_account_name, "bbell");
  EXPECT_EQ(outcomeOf(result, "E3").sam_account_name, "bbell2");
  EXPECT_EQ(userOf("E2"), nullptr);
}

TEST_F(JobExecutorTest, PriorOutcomeIsReportedAfterResume) {
  protocol::Job job = jobOf({person("E1", "Ann", "Able"), person("E2", "Bo", "Bell")});
  auto first = run(job);
  ASSERT_EQ(first.status, "succeeded");
  // The agent crashed after E1's outcome was spooled; the job is run again.
  std::map<std::string, protocol::IdentityOutcome> prior = {{"E1", outcomeOf(first, "E1")}};
  auto resumed = run(job, prior);
  EXPECT_EQ(outcomeOf(resumed, "E1").action, "created");
  EXPECT_EQ(outcomeOf(resumed, "E1").sam_account_name, "aable");
  EXPECT_EQ(outcomeOf(resumed, "E2").action, "unchanged");
}

TEST_F(JobExecutorTest, HrChangeUpdatesOnlyChangedAttributesAndKeepsForeignOnes) {
  ASSERT_EQ(run(jobOf({person("E1", "Ann", "Able")})).status, "succeeded");
  const std::string dn = userOf("E1")->dn;
  ASSERT_TRUE(dir_.modify(dn, {{Modification::Op::kReplace, "mail", {"ann@example.test"}}}).isOk());

  auto result = run(jobOf({person("E1", "Ann", "Able", "Marketing")}));
  EXPECT_EQ(result.outcomes[0].action, "updated");
  EXPECT_THAT(result.outcomes[0].changes, ElementsAre("department"));
  EXPECT_EQ(userOf("E1")->first("department"), "Marketing");
  EXPECT_EQ(userOf("E1")->first("mail"), "ann@example.test");
}

TEST_F(JobExecutorTest, LeaverIsDisabledAndMovedAndRehireComesBack) {
  ASSERT_EQ(run(jobOf({person("E1", "Ann", "Able")})).status, "succeeded");
  // An admin set DONT_EXPIRE_PASSWORD; disabling must keep it.
  ASSERT_TRUE(
      dir_.modify(userOf("E1")->dn, {{Modification::Op::kReplace, "userAccountControl", {"66048"}}})
          .isOk());
  hr::HrRecord leaver = person("E1", "Ann", "Able");
  leaver.status = "terminated";
  auto left = run(jobOf({leaver}));
  EXPECT_EQ(left.outcomes[0].action, "disabled");
  EXPECT_THAT(left.outcomes[0].changes, ElementsAre("disable", "accountExpires", "move"));
  EXPECT_EQ(left.outcomes[0].state, "terminated");
  EXPECT_NE(userOf("E1")->first("accountExpires"), "");
  EXPECT_EQ(userOf("E1")->dn, "CN=Ann Able,OU=Leavers,DC=example,DC=test");
  EXPECT_EQ(left.outcomes[0].dn, "CN=Ann Able,OU=Leavers,DC=example,DC=test");
  EXPECT_EQ(userOf("E1")->first("userAccountControl"), "66050");

  auto rehired = run(jobOf({person("E1", "Ann", "Able")}));
  EXPECT_EQ(rehired.outcomes[0].action, "enabled");
  EXPECT_THAT(rehired.outcomes[0].changes, ElementsAre("move", "accountExpires", "enable"));
  EXPECT_EQ(rehired.outcomes[0].state, "rehire");
  EXPECT_EQ(userOf("E1")->first("accountExpires"), "0");
  EXPECT_EQ(userOf("E1")->dn, "CN=Ann Able,OU=Staff,DC=example,DC=test");
  EXPECT_EQ(userOf("E1")->first("userAccountControl"), "66048");
}

TEST_F(JobExecutorTest, TwoAccountsWithTheSameEmployeeIdAreAConflictAndTouchNothing) {
  for (const char* cn : {"CN=Ann One", "CN=Ann Two"}) {
    DirectoryEntry e;
    e.dn = std::string(cn) + "," + kStaff;
    e.attributes["objectClass"] = {"user"};
    e.attributes["employeeID"] = {"E1"};
    e.attributes["sAMAccountName"] = {cn + 3};
    dir_.seed(e);
  }
  auto result = run(jobOf({person("E1", "Ann", "Able", "Marketing")}));
  EXPECT_EQ(result.status, "failed");
  EXPECT_EQ(result.outcomes[0].error_class, "conflict");
  EXPECT_EQ(dir_.writeCount(), 0);
}

TEST_F(JobExecutorTest, CnClashWithAnUnmanagedEntryUsesTheAlternateCn) {
  DirectoryEntry e;
  e.dn = std::string("CN=Jane Doe,") + kStaff;
  e.attributes["objectClass"] = {"contact"};
  dir_.seed(e);
  auto result = run(jobOf({person("E1", "Jane", "Doe")}));
  ASSERT_EQ(result.status, "succeeded") << result.outcomes[0].error_message;
  EXPECT_EQ(result.outcomes[0].dn, "CN=Jane Doe (E1),OU=Staff,DC=example,DC=test");
  EXPECT_EQ(result.outcomes[0].sam_account_name, "jdoe");
}

TEST_F(JobExecutorTest, SpecialCharactersAreEscapedInDnsAndFilters) {
  auto result = run(jobOf({person("E1", "John", "Smith, Jr. (III)")}));
  ASSERT_EQ(result.status, "succeeded") << result.outcomes[0].error_message;
  EXPECT_EQ(result.outcomes[0].dn, "CN=John Smith\\, Jr. (III),OU=Staff,DC=example,DC=test");
  EXPECT_EQ(result.outcomes[0].sam_account_name, "jsmithjriii");
  EXPECT_EQ(run(jobOf({person("E1", "John", "Smith, Jr. (III)")})).outcomes[0].action, "unchanged");
}

TEST_F(JobExecutorTest, InvalidRecordFailsThatPersonOnly) {
  hr::HrRecord bad = person("E1", "Ann", "Able");
  bad.start_date = "2025-02-30";
  auto result = run(jobOf({bad, person("E2", "Bo", "Bell")}));
  EXPECT_EQ(result.status, "partial");
  EXPECT_EQ(outcomeOf(result, "E1").error_class, "data");
  EXPECT_EQ(outcomeOf(result, "E1").error_message,
            "start_date: \"2025-02-30\" is not a valid date (YYYY-MM-DD)");
}

TEST_F(JobExecutorTest, LargeJobReadsTheDirectoryOnceAndStillHonoursExistingNames) {
  DirectoryEntry unmanaged;
  unmanaged.dn = "CN=Service jsmith,OU=Staff,DC=example,DC=test";
  unmanaged.attributes["objectClass"] = {"top", "user"};
  unmanaged.attributes["sAMAccountName"] = {"jsmith"};
  dir_.seed(unmanaged);
  ASSERT_EQ(run(jobOf({person("E0", "Existing", "Person")})).status, "succeeded");

  std::vector<hr::HrRecord> people;
  people.push_back(person("E0", "Existing", "Person", "Finance"));  // a mover
  people.push_back(person("E1", "John", "Smith"));                  // jsmith is taken
  for (int i = 2; i < 60; ++i) {
    people.push_back(person("E" + std::to_string(i), "Big", "Job" + std::to_string(i)));
  }
  const int searches_before = dir_.searchCount();
  auto result = run(jobOf(people));
  ASSERT_EQ(result.status, "succeeded");
  EXPECT_EQ(outcomeOf(result, "E0").action, "updated");
  EXPECT_EQ(outcomeOf(result, "E1").sam_account_name, "jsmith2");
  EXPECT_EQ(userOf("E0")->first("department"), "Finance");
  EXPECT_EQ(dir_.entriesOfClass("user").size(), 61u) << "no duplicate of E0";
  EXPECT_LT(dir_.searchCount() - searches_before, 5) << "one read up front, not one per person";

  auto again = run(jobOf(people));
  for (const auto& o : again.outcomes) EXPECT_EQ(o.action, "unchanged") << o.employee_id;
}

// ---- Policy, gate, dry run, reserved names ----

boost::json::object policyDoc(const std::string& json) {
  auto v = protocol::parseJsonText(json);
  EXPECT_TRUE(v.isOk()) << json;
  return v.isOk() && v->is_object() ? v->as_object() : boost::json::object();
}

// Groups by department, mail addresses, and a user schema with the Exchange attributes.
class PolicyExecutorTest : public JobExecutorTest {
 protected:
  static constexpr const char* kSales = "CN=Sales,OU=Groups,DC=example,DC=test";
  static constexpr const char* kMarketing = "CN=Marketing,OU=Groups,DC=example,DC=test";
  static constexpr const char* kVpn = "CN=VPN,OU=Groups,DC=example,DC=test";

  PolicyExecutorTest() {
    dir_.addOu("OU=Groups,DC=example,DC=test");
    dir_.addGroup(kSales);
    dir_.addGroup(kMarketing);
    dir_.addGroup(kVpn);
  }
  void withExchangeSchema() {
    const std::string schema = "CN=Schema,CN=Configuration,DC=example,DC=test";
    dir_.addOu("CN=Configuration,DC=example,DC=test");
    dir_.addOu(schema);
    DirectoryEntry user;
    user.dn = "CN=User," + schema;
    user.attributes["objectClass"] = {"classSchema"};
    user.attributes["lDAPDisplayName"] = {"user"};
    user.attributes["mayContain"] = {"mail", "mailNickname", "proxyAddresses", "targetAddress",
                                     "msExchHideFromAddressLists"};
    dir_.seed(user);
  }
  protocol::Job withPolicy(protocol::Job job) {
    job.policy = policyDoc(R"({
      "naming": {"mail_domain": "example.com"},
      "groups": [
        {"when": {"department": ["Sales"]}, "groups": ["CN=Sales,OU=Groups,DC=example,DC=test"]},
        {"when": {"department": ["Marketing"]},
         "groups": ["CN=Marketing,OU=Groups,DC=example,DC=test"]}
      ],
      "mailbox": {"mode": "auto", "kind": "remote",
                  "remote_routing_domain": "example.mail.onmicrosoft.com"}
    })");
    return job;
  }
  protocol::JobResult runGated(const protocol::Job& job, protocol::PlanDecision decision) {
    ExecutorSettings s{kStaff, kLeavers, "", "test"};
    s.gate = [&, decision](const protocol::PlanSummary& summary) {
      summaries.push_back(summary);
      return decision;
    };
    JobExecutor executor(dir_, s, clock_, &sink_, [] { return std::string(kPassword); });
    return executor.execute(job);
  }
  std::vector<protocol::PlanSummary> summaries;
};

TEST_F(PolicyExecutorTest, RuleGroupsAndMailAreAppliedAndMoversChangeGroups) {
  auto result = run(withPolicy(jobOf({person("E1", "Ann", "Able")})));
  ASSERT_EQ(result.status, "succeeded") << result.outcomes[0].error_message;
  const std::string dn = userOf("E1")->dn;
  EXPECT_THAT(dir_.memberOf(dn), ElementsAre(kSales));
  EXPECT_EQ(userOf("E1")->first("mail"), "ann.able@example.com");
  EXPECT_THAT(result.outcomes[0].changes, Contains("mailbox_unavailable"));
  EXPECT_FALSE(userOf("E1")->has("proxyAddresses"));
  const auto& ops = result.outcomes[0].operations;
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[1].kind, "add_member");
  EXPECT_EQ(ops[1].target, kSales);
  EXPECT_EQ(ops[1].reason, "group rule 1 (department=Sales)");

  // A mover, with an unmanaged group an admin added.
  ASSERT_TRUE(dir_.modify(kVpn, {{Modification::Op::kAdd, "member", {dn}}}).isOk());
  auto moved = run(withPolicy(jobOf({person("E1", "Ann", "Able", "Marketing")})));
  ASSERT_EQ(moved.status, "succeeded") << moved.outcomes[0].error_message;
  EXPECT_THAT(dir_.memberOf(dn), ::testing::UnorderedElementsAre(kMarketing, kVpn));
  EXPECT_THAT(moved.outcomes[0].changes,
              ElementsAre("mailbox_unavailable", "department", "member"));

  const int writes = dir_.writeCount();
  auto again = run(withPolicy(jobOf({person("E1", "Ann", "Able", "Marketing")})));
  EXPECT_EQ(again.outcomes[0].action, "unchanged");
  EXPECT_EQ(dir_.writeCount(), writes);
}

TEST_F(PolicyExecutorTest, ExchangeAttributesAreWrittenWhereTheSchemaHasThem) {
  withExchangeSchema();
  auto result = run(withPolicy(jobOf({person("E1", "Ann", "Able")})));
  ASSERT_EQ(result.status, "succeeded") << result.outcomes[0].error_message;
  const DirectoryEntry* e = userOf("E1");
  EXPECT_EQ(e->first("mailNickname"), "aable");
  EXPECT_EQ(e->first("targetAddress"), "SMTP:ann.able@example.mail.onmicrosoft.com");
  EXPECT_THAT(
      e->attributes.at("proxyAddresses"),
      ElementsAre("SMTP:ann.able@example.com", "smtp:ann.able@example.mail.onmicrosoft.com"));
  EXPECT_THAT(result.outcomes[0].changes, Not(Contains("mailbox_unavailable")));

  // A family-name change keeps the old address as a secondary.
  auto renamed = run(withPolicy(jobOf({person("E1", "Ann", "Baker")})));
  ASSERT_EQ(renamed.status, "succeeded") << renamed.outcomes[0].error_message;
  e = userOf("E1");
  EXPECT_EQ(e->dn, "CN=Ann Baker,OU=Staff,DC=example,DC=test");
  EXPECT_EQ(e->first("sAMAccountName"), "aable");
  EXPECT_EQ(e->first("mail"), "ann.baker@example.com");
  EXPECT_THAT(
      e->attributes.at("proxyAddresses"),
      ::testing::UnorderedElementsAre("SMTP:ann.baker@example.com", "smtp:ann.able@example.com",
                                      "smtp:ann.able@example.mail.onmicrosoft.com",
                                      "smtp:ann.baker@example.mail.onmicrosoft.com"));
  EXPECT_EQ(run(withPolicy(jobOf({person("E1", "Ann", "Baker")}))).outcomes[0].action, "unchanged");
}

// A new mail domain changes the address without moving or renaming the account: the planner
// keeps no desired state for such a person, and the outcome reports the address from the plan.
TEST_F(PolicyExecutorTest, NewMailDomainIsReportedInTheOutcome) {
  ASSERT_EQ(run(withPolicy(jobOf({person("E1", "Ann", "Able")}))).status, "succeeded");
  protocol::Job job = withPolicy(jobOf({person("E1", "Ann", "Able")}));
  job.policy = policyDoc(R"({"naming": {"mail_domain": "example.org"},
                              "mailbox": {"mode": "auto", "kind": "attributes"}})");
  auto result = run(job);
  ASSERT_EQ(result.status, "succeeded") << result.error_message;
  ASSERT_EQ(result.outcomes.size(), 1u);
  EXPECT_EQ(result.outcomes[0].action, "updated");
  EXPECT_EQ(result.outcomes[0].mail, "ann.able@example.org");
  EXPECT_EQ(result.outcomes[0].dn, "CN=Ann Able,OU=Staff,DC=example,DC=test");
  EXPECT_EQ(userOf("E1")->first("mail"), "ann.able@example.org");
}

TEST_F(PolicyExecutorTest, HeldRunWritesNothingAndReportsThePlan) {
  ASSERT_EQ(run(withPolicy(jobOf({person("E1", "Ann", "Able")}))).status, "succeeded");
  const int writes = dir_.writeCount();
  hr::HrRecord leaver = person("E1", "Ann", "Able");
  leaver.status = "terminated";
  auto result = runGated(withPolicy(jobOf({leaver, person("E2", "Bo", "Bell")})),
                         {.proceed = false, .held = true, .reason = "disable: 1 > 0"});
  EXPECT_EQ(result.status, "held");
  EXPECT_EQ(result.error_message, "disable: 1 > 0");
  EXPECT_EQ(dir_.writeCount(), writes);
  EXPECT_EQ(userOf("E2"), nullptr);
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_EQ(summaries[0].job_id, "job-1");
  EXPECT_EQ(summaries[0].population, 2);
  EXPECT_EQ(summaries[0].counts.at("disable"), 1);
  EXPECT_EQ(summaries[0].counts.at("create"), 1);
  EXPECT_EQ(summaries[0].counts.at("remove_member"), 1);
  EXPECT_EQ(summaries[0].counts.at("move"), 1);
  EXPECT_EQ(outcomeOf(result, "E1").action, "disabled");
  EXPECT_EQ(outcomeOf(result, "E1").operations[0].reason, "terminated: status terminated");
  EXPECT_TRUE(sink_.outcomes.size() == 1u) << "nothing is spooled for a held run";
}

TEST_F(PolicyExecutorTest, GateThatProceedsLetsTheRunApply) {
  auto result = runGated(withPolicy(jobOf({person("E1", "Ann", "Able")})), {.proceed = true});
  EXPECT_EQ(result.status, "succeeded");
  EXPECT_NE(userOf("E1"), nullptr);
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_EQ(summaries[0].outcomes.at(0).action, "created");
}

TEST_F(PolicyExecutorTest, DryRunReportsOperationsWithReasonsAndNeverCallsTheGate) {
  protocol::Job job = withPolicy(jobOf({person("E1", "Ann", "Able")}));
  job.dry_run = true;
  auto result = runGated(job, {.proceed = false, .held = true});
  EXPECT_EQ(result.status, "succeeded");
  EXPECT_TRUE(summaries.empty());
  EXPECT_EQ(dir_.writeCount(), 0);
  const auto& o = result.outcomes[0];
  EXPECT_EQ(o.action, "created");
  EXPECT_EQ(o.state, "active");
  ASSERT_EQ(o.operations.size(), 2u);
  EXPECT_EQ(o.operations[0].kind, "create");
  EXPECT_EQ(o.operations[0].dn, "CN=Ann Able,OU=Staff,DC=example,DC=test");
  EXPECT_EQ(o.operations[0].reason, "new hire");
}

TEST_F(PolicyExecutorTest, ReservedNamesAreSkipped) {
  protocol::Job job = withPolicy(jobOf({person("E1", "Ann", "Able")}));
  job.reserved_names = {"aable", "ann.able@example.com"};
  auto result = run(job);
  ASSERT_EQ(result.status, "succeeded");
  EXPECT_EQ(result.outcomes[0].sam_account_name, "aable2");
  EXPECT_EQ(userOf("E1")->first("mail"), "ann.able2@example.com");
}

TEST_F(PolicyExecutorTest, InvalidPolicyFailsTheJobWithAConfigError) {
  protocol::Job job = jobOf({person("E1", "Ann", "Able")});
  job.policy =
      policyDoc(R"({"naming": {"sam_account_name": {"template": "{frist(given_name)}"}}})");
  auto result = run(job);
  EXPECT_EQ(result.status, "failed");
  EXPECT_EQ(result.error_class, "config");
  EXPECT_EQ(dir_.writeCount(), 0);
}

TEST_F(PolicyExecutorTest, JobInstantDecidesEffectiveDates) {
  hr::HrRecord r = person("E1", "Ann", "Able");
  r.start_date = "2026-12-01";
  protocol::Job job = jobOf({r});
  job.now_ms = 1'795'000'000'000;  // 2026-11-18: more than 7 days before the start
  auto early = run(job);
  EXPECT_EQ(early.outcomes[0].action, "unchanged");
  EXPECT_EQ(early.outcomes[0].state, "not_yet");
  EXPECT_EQ(userOf("E1"), nullptr);
  job.now_ms = 1'796'000'000'000;  // 2026-11-29: within the pre-hire window
  auto pre = run(job);
  EXPECT_EQ(pre.outcomes[0].action, "created");
  EXPECT_EQ(userOf("E1")->first("userAccountControl"), "514");
}

TEST_F(PolicyExecutorTest, MissingOuIsAConfigErrorUnlessThePolicyCreatesIt) {
  protocol::Job job = jobOf({person("E1", "Ann", "Able")});
  job.policy =
      policyDoc(R"({"placement": {"default_ou": "OU=Berlin,OU=Staff,DC=example,DC=test"}})");
  auto result = run(job);
  EXPECT_EQ(result.outcomes[0].error_class, "config");
  EXPECT_THAT(result.outcomes[0].error_message, ::testing::HasSubstr("OU=Berlin"));
  job.policy = policyDoc(R"({"placement": {"default_ou": "OU=Berlin,OU=Staff,DC=example,DC=test",
                                            "create_missing_ous": true}})");
  auto created = run(job);
  ASSERT_EQ(created.status, "succeeded") << created.outcomes[0].error_message;
  EXPECT_EQ(userOf("E1")->dn, "CN=Ann Able,OU=Berlin,OU=Staff,DC=example,DC=test");
}

TEST(GenerateInitialPassword, MeetsAdComplexity) {
  for (int i = 0; i < 50; ++i) {
    const std::string pw = generateInitialPassword();
    ASSERT_EQ(pw.size(), 24u);
    bool upper = false, lower = false, digit = false, symbol = false;
    for (char c : pw) {
      const auto u = static_cast<unsigned char>(c);
      upper |= std::isupper(u) != 0;
      lower |= std::islower(u) != 0;
      digit |= std::isdigit(u) != 0;
      symbol |= std::ispunct(u) != 0;
    }
    EXPECT_TRUE(upper && lower && digit && symbol) << pw;
  }
  EXPECT_NE(generateInitialPassword(), generateInitialPassword());
}

}  // namespace
}  // namespace tenure::agent
