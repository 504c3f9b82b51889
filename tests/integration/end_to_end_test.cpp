// End to end: HR records in at the control plane, a job leased to the tenant's agent over an HTTPS
// long-poll, accounts in a real AD (Samba), a run report back. Every check of the directory is an
// independent LDAP read (LdapProbe), never the agent's own view.

#include <gtest/gtest.h>
#include <signal.h>

#include <ctime>
#include <set>
#include <sstream>

#include "common/ldap/escape.h"
#include "tests/integration/stack.h"
#include "tests/support/suite_setup.h"

namespace tenure::testing {
namespace {

namespace bj = boost::json;

constexpr int kUacDisabled = 0x2;

// YYYY-MM-DD of today + `days` (UTC): tests stay valid whatever day they run.
std::string dateIn(int days) {
  std::time_t t = std::time(nullptr) + static_cast<std::time_t>(days) * 86400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string csvHeader() {
  return "employee_id,given_name,family_name,preferred_name,department,title,location,manager_id,"
         "employment_type,start_date,end_date,status\n";
}

struct Person {
  std::string id, given, family, preferred, department, title, location, manager, type = "employee",
                                                                               start, end,
                                                                               status = "active";
};

std::string csvQuote(const std::string& v) {
  if (v.find_first_of(",\"\n\r") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csvOf(const std::vector<Person>& people) {
  std::string s = csvHeader();
  for (const auto& p : people) {
    for (const auto* f : {&p.id, &p.given, &p.family, &p.preferred, &p.department, &p.title,
                          &p.location, &p.manager, &p.type, &p.start, &p.end}) {
      s += csvQuote(*f) + ",";
    }
    s += p.status + "\n";
  }
  return s;
}

std::string str(const bj::value& v, const char* key) {
  const auto* o = v.if_object();
  if (!o) return "";
  auto it = o->find(key);
  if (it == o->end() || !it->value().is_string()) return "";
  return std::string(it->value().get_string());
}

int64_t num(const bj::value& v, std::initializer_list<const char*> path) {
  const bj::value* cur = &v;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->get_object().contains(k)) return -1;
    cur = &cur->get_object().at(k);
  }
  return cur->is_int64() ? cur->get_int64() : -1;
}

// The per-person entry of a run report, by employee_id.
bj::object personInReport(const ApiResponse& run, const std::string& id) {
  const auto& people = run.json.at("report").at("identities").get_array();
  for (const auto& p : people) {
    if (str(p, "employee_id") == id) return p.get_object();
  }
  return {};
}

class EndToEndTest : public ::testing::Test {
 protected:
  // Shared by the suite, run by its first test (tests/support/suite_setup.h: never skipped).
  static inline SuiteSetup suite_setup_;
  void SetUp() override { suite_setup_.ensure(&setUpSuite); }
  static void setUpSuite() {
    auto env = loadSambaEnv();
    ASSERT_TRUE(env.isOk()) << env.status().toString();
    env_ = new SambaEnv(*env);
    probe_ = connectProbe(*env_).release();
    ASSERT_NE(probe_, nullptr);
    std::string suffix = uniqueSuffix();
    base_ou_ = new std::string("OU=e2e-" + suffix + "," + env_->base_dn);
    ASSERT_TRUE(probe_->ensureOu(*base_ou_));
    ASSERT_TRUE(probe_->ensureOu("OU=Users," + *base_ou_));
    ASSERT_TRUE(probe_->ensureOu("OU=Leavers," + *base_ou_));
    dir_ = new TempDir();
    cp_ = new ControlPlaneProcess(dir_->path() + "/cp", {"--max-body-bytes", "1048576"});
    ASSERT_TRUE(cp_->start()) << readFile(cp_->logPath());
    tenant_a_ = new TenantInfo(cp_->createTenant("Tenant A"));
    tenant_b_ = new TenantInfo(cp_->createTenant("Tenant B"));
    ASSERT_FALSE(tenant_a_->api_token.empty());
    ASSERT_FALSE(tenant_b_->api_token.empty());
    agent_ = new AgentProcess(dir_->path() + "/agent-a", *env_,
                              AgentOptions{"OU=Users," + *base_ou_, "OU=Leavers," + *base_ou_, 5});
    ASSERT_TRUE(agent_->enroll(cp_->url(), cp_->caFile(), tenant_a_->enroll_secret));
    ASSERT_TRUE(agent_->start());
    api_ = new ApiClient(cp_->url(), cp_->caFile());
  }

  static void TearDownTestSuite() {
    suite_setup_ = {};  // the next suite sharing this fixture sets up again
    delete api_;
    delete agent_;
    delete cp_;
    if (probe_ && base_ou_) probe_->deleteTree(*base_ou_);
    delete probe_;
    delete tenant_a_;
    delete tenant_b_;
    delete dir_;
    delete base_ou_;
    delete env_;
  }

  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "--- control plane log ---\n" << readFile(cp_->logPath()).substr(0, 20000);
      std::cerr << "--- agent log ---\n" << readFile(agent_->logPath()).substr(0, 20000);
    }
  }

  // Uploads and waits for the run to finish; returns the finished run.
  ApiResponse applyAndWait(const std::string& csv) {
    auto up = api_->uploadCsv(tenant_a_->api_token, csv);
    EXPECT_EQ(up.status, 202) << up.body;
    std::string run_id = str(up.json, "run_id");
    EXPECT_FALSE(run_id.empty()) << up.body;
    if (run_id.empty()) return up;
    return api_->waitForRun(tenant_a_->api_token, run_id);
  }

  std::vector<ProbeEntry> accountsWithId(const std::string& id) {
    return probe_->search(*base_ou_, "(&(objectClass=user)(employeeID=" + id + "))",
                          {"sAMAccountName", "userPrincipalName", "givenName", "sn", "displayName",
                           "cn", "department", "title", "userAccountControl", "employeeID",
                           "pwdLastSet", "physicalDeliveryOfficeName"});
  }

  static inline SambaEnv* env_ = nullptr;
  static inline LdapProbe* probe_ = nullptr;
  static inline std::string* base_ou_ = nullptr;
  static inline TempDir* dir_ = nullptr;
  static inline ControlPlaneProcess* cp_ = nullptr;
  static inline AgentProcess* agent_ = nullptr;
  static inline ApiClient* api_ = nullptr;
  static inline TenantInfo* tenant_a_ = nullptr;
  static inline TenantInfo* tenant_b_ = nullptr;
};

TEST_F(EndToEndTest, TwentyJoinersAreCreatedEnabledWithTheirAttributes) {
  std::string s = uniqueSuffix();
  std::vector<Person> people;
  for (int i = 0; i < 20; ++i) {
    Person p;
    p.id = "J" + s + "-" + std::to_string(i);
    p.given = "Joiner" + std::to_string(i);
    p.family = "Member" + s;
    p.department = "Engineering";
    p.title = "Engineer " + std::to_string(i);
    p.location = "Berlin";
    p.start = "2024-01-01";
    people.push_back(p);
  }
  auto run = applyAndWait(csvOf(people));
  ASSERT_EQ(str(run.json, "status"), "succeeded") << run.body;
  EXPECT_EQ(num(run.json, {"report", "counts", "created"}), 20) << run.body;

  std::set<std::string> sams;
  for (const auto& p : people) {
    auto found = accountsWithId(p.id);
    ASSERT_EQ(found.size(), 1u) << p.id;
    const auto& e = found[0];
    EXPECT_EQ(e.first("givenname"), p.given);
    EXPECT_EQ(e.first("sn"), p.family);
    EXPECT_EQ(e.first("displayname"), p.given + " " + p.family);
    EXPECT_EQ(e.first("department"), "Engineering");
    EXPECT_EQ(e.first("title"), p.title);
    int uac = std::stoi(e.first("useraccountcontrol"));
    EXPECT_EQ(uac & kUacDisabled, 0) << "account should be enabled";
    EXPECT_EQ(e.first("pwdlastset"), "0") << "must change password at next logon";
    EXPECT_FALSE(e.first("userprincipalname").empty());
    sams.insert(e.first("samaccountname"));
    auto reported = personInReport(run, p.id);
    EXPECT_EQ(str(reported, "action"), "created");
    EXPECT_TRUE(ldap::dnEquals(str(reported, "dn"), e.dn)) << str(reported, "dn");
  }
  EXPECT_EQ(sams.size(), 20u) << "every joiner has their own sAMAccountName";
}

TEST_F(EndToEndTest, MoverGetsNewDepartmentAndTitle) {
  Person p{"M" + uniqueSuffix(), "Maria", "Mover", "", "Sales", "Account Executive", "Paris"};
  ASSERT_EQ(str(applyAndWait(csvOf({p})).json, "status"), "succeeded");
  p.department = "Marketing";
  p.title = "Head of Marketing";
  auto run = applyAndWait(csvOf({p}));
  ASSERT_EQ(str(run.json, "status"), "succeeded") << run.body;
  EXPECT_EQ(str(personInReport(run, p.id), "action"), "updated") << run.body;
  auto found = accountsWithId(p.id);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].first("department"), "Marketing");
  EXPECT_EQ(found[0].first("title"), "Head of Marketing");
}

TEST_F(EndToEndTest, LeaverIsDisabledAndMovedAndARehireGetsTheSameAccountBack) {
  Person p{"L" + uniqueSuffix(), "Leo", "Leaver", "", "Finance", "Controller", "Oslo"};
  ASSERT_EQ(str(applyAndWait(csvOf({p})).json, "status"), "succeeded");
  p.status = "terminated";
  auto run = applyAndWait(csvOf({p}));
  ASSERT_EQ(str(run.json, "status"), "succeeded") << run.body;
  EXPECT_EQ(str(personInReport(run, p.id), "action"), "disabled") << run.body;
  auto found = accountsWithId(p.id);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(std::stoi(found[0].first("useraccountcontrol")) & kUacDisabled, 0);
  EXPECT_TRUE(ldap::dnEquals(ldap::parentDn(found[0].dn), "OU=Leavers," + *base_ou_))
      << "moved to the leavers OU: " << found[0].dn;

  // Back from the dead: the same employee_id returns and gets the same account back.
  p.status = "active";
  auto rehire = applyAndWait(csvOf({p}));
  ASSERT_EQ(str(rehire.json, "status"), "succeeded") << rehire.body;
  auto again = accountsWithId(p.id);
  ASSERT_EQ(again.size(), 1u) << "a rehire never gets a second account";
  EXPECT_EQ(std::stoi(again[0].first("useraccountcontrol")) & kUacDisabled, 0);
  EXPECT_TRUE(ldap::dnEquals(ldap::parentDn(again[0].dn), "OU=Users," + *base_ou_));
  EXPECT_EQ(again[0].first("samaccountname"), found[0].first("samaccountname"));
}

TEST_F(EndToEndTest, SameRecordsTwiceChangeNothingTheSecondTime) {
  Person p{"I" + uniqueSuffix(), "Ida", "Idempotent", "", "Legal", "Counsel", "Rome"};
  auto first = applyAndWait(csvOf({p}));
  ASSERT_EQ(str(personInReport(first, p.id), "action"), "created") << first.body;
  auto second = applyAndWait(csvOf({p}));
  ASSERT_EQ(str(second.json, "status"), "succeeded");
  EXPECT_EQ(str(personInReport(second, p.id), "action"), "unchanged") << second.body;
  EXPECT_EQ(accountsWithId(p.id).size(), 1u);
}

TEST_F(EndToEndTest, MalformedRowsAreRejectedWithReasonsAndGoodRowsStillApply) {
  std::string s = uniqueSuffix();
  std::string good1 = "G1" + s, good2 = "G2" + s, bad_date = "B1" + s, no_name = "B2" + s;
  std::string csv;
  // A row with too few fields is rejected on its own; the rows around it still count.
  csv = csvHeader() + good1 + ",Gina,Good,,Ops,Analyst,Madrid,,employee,2024-02-01,,active\n" +
        bad_date + ",Bob,Baddate,,Ops,Analyst,Madrid,,employee,2024-13-45,,active\n" + no_name +
        ",,Noname,,Ops,Analyst,Madrid,,employee,,,active\n" + good2 +
        ",Gus,Good,,Ops,Analyst,Madrid,,contractor," + dateIn(-30) + "," + dateIn(300) + ",active\n" +
        "X" + s + ",Too,Few,Fields\n";
  auto up = api_->uploadCsv(tenant_a_->api_token, csv);
  ASSERT_EQ(up.status, 202) << up.body;
  EXPECT_EQ(num(up.json, {"accepted"}), 2) << up.body;
  const auto& rejected = up.json.at("rejected").get_array();
  ASSERT_EQ(rejected.size(), 3u) << up.body;
  std::set<std::string> rejected_ids;
  for (const auto& r : rejected) {
    EXPECT_FALSE(str(r, "reason").empty()) << bj::serialize(r);
    EXPECT_GT(num(r, {"row"}), 0) << bj::serialize(r);
    rejected_ids.insert(str(r, "employee_id"));
  }
  EXPECT_TRUE(rejected_ids.count(bad_date));
  EXPECT_TRUE(rejected_ids.count(no_name));

  auto run = api_->waitForRun(tenant_a_->api_token, str(up.json, "run_id"));
  ASSERT_EQ(str(run.json, "status"), "succeeded") << run.body;
  EXPECT_EQ(accountsWithId(good1).size(), 1u);
  EXPECT_EQ(accountsWithId(good2).size(), 1u);
  EXPECT_EQ(accountsWithId(bad_date).size(), 0u) << "a rejected row never reaches AD";
  EXPECT_EQ(accountsWithId(no_name).size(), 0u) << "a rejected row never reaches AD";
  // The run keeps the rejected rows for the report.
  EXPECT_EQ(num(run.json, {"rejected_count"}), 3) << run.body;
}

TEST_F(EndToEndTest, NamesWithDnSpecialCharactersRoundTripExactly) {
  std::string s = uniqueSuffix();
  struct Case {
    std::string given, family;
  };
  std::vector<Case> cases = {{"John", "Smith, Jr."},  {"A+B", "Plus"},      {"Quote\"d", "Name"},
                             {"Back\\slash", "Name"}, {"<Angle>", "Name"}, {"Semi;colon", "Eq=ual"},
                             {"#Hash", "Name"},        {"Zoë", "Ångström"}};
  std::vector<Person> people;
  std::string csv = csvHeader();
  for (size_t i = 0; i < cases.size(); ++i) {
    Person p;
    p.id = "S" + std::to_string(i) + s;
    p.given = cases[i].given;
    p.family = cases[i].family + s;
    p.department = "R&D, \"Core\"";
    p.title = "Dev";
    people.push_back(p);
    // Surrounding white space is trimmed by the control plane.
    csv += p.id + "," + csvQuote("  " + p.given + " ") + "," + csvQuote(p.family + "  ") + ",," +
           csvQuote(p.department) + ",Dev,,,employee,,,active\n";
  }
  auto up = api_->uploadCsv(tenant_a_->api_token, csv);
  ASSERT_EQ(up.status, 202) << up.body;
  ASSERT_EQ(num(up.json, {"accepted"}), static_cast<int64_t>(cases.size())) << up.body;
  auto run = api_->waitForRun(tenant_a_->api_token, str(up.json, "run_id"));
  ASSERT_EQ(str(run.json, "status"), "succeeded") << run.body;
  for (const auto& p : people) {
    auto found = accountsWithId(p.id);
    ASSERT_EQ(found.size(), 1u) << p.id;
    EXPECT_EQ(found[0].first("givenname"), p.given);
    EXPECT_EQ(found[0].first("sn"), p.family);
    EXPECT_EQ(found[0].first("displayname"), p.given + " " + p.family);
    EXPECT_EQ(found[0].first("cn"), p.given + " " + p.family) << "the DN's CN holds the exact name";
    EXPECT_EQ(found[0].first("department"), "R&D, \"Core\"");
    // The DN the report gives is the one AD has (AD may spell the escapes differently).
    EXPECT_TRUE(ldap::dnEquals(str(personInReport(run, p.id), "dn"), found[0].dn))
        << str(personInReport(run, p.id), "dn") << " vs " << found[0].dn;
  }
}

TEST_F(EndToEndTest, NonLatinNamesAreStoredAsGiven) {
  std::string s = uniqueSuffix();
  std::vector<Person> people = {
      {"C1" + s, "Анна", "Каренина" + s, "", "Отдел продаж", "Менеджер"},
      {"C2" + s, "小明", "王" + s, "", "研发部", "工程师"},
  };
  auto run = applyAndWait(csvOf(people));
  ASSERT_EQ(str(run.json, "status"), "succeeded") << run.body;
  for (const auto& p : people) {
    auto found = accountsWithId(p.id);
    ASSERT_EQ(found.size(), 1u) << p.id;
    EXPECT_EQ(found[0].first("givenname"), p.given);
    EXPECT_EQ(found[0].first("sn"), p.family);
    EXPECT_EQ(found[0].first("department"), p.department);
    EXPECT_EQ(found[0].first("title"), p.title);
    EXPECT_FALSE(found[0].first("samaccountname").empty());
  }
}

TEST_F(EndToEndTest, OversizedUploadGets413AndNothingIsQueued) {
  auto before = api_->request("GET", "/api/v1/runs", "Bearer " + tenant_a_->api_token);
  ASSERT_EQ(before.status, 200);
  std::string csv = csvHeader();
  while (csv.size() < 2 * 1024 * 1024) csv += "X1,Big,Body,,Dept,Title,,,employee,,,active\n";
  auto up = api_->uploadCsv(tenant_a_->api_token, csv);
  EXPECT_EQ(up.status, 413) << up.body.substr(0, 200);
  auto after = api_->request("GET", "/api/v1/runs", "Bearer " + tenant_a_->api_token);
  EXPECT_EQ(after.json.at("runs").get_array().size(), before.json.at("runs").get_array().size());
}

TEST_F(EndToEndTest, MalformedJsonAndUnknownContentTypeAre4xx) {
  auto bad_json = api_->request("POST", "/api/v1/hr/records", "Bearer " + tenant_a_->api_token,
                                "application/json", "{\"employee_id\": ");
  EXPECT_EQ(bad_json.status, 400) << bad_json.body;
  auto xml = api_->request("POST", "/api/v1/hr/records", "Bearer " + tenant_a_->api_token,
                           "application/xml", "<people/>");
  EXPECT_EQ(xml.status, 415) << xml.body;
  auto no_header = api_->uploadCsv(tenant_a_->api_token, "");
  EXPECT_EQ(no_header.status, 400) << no_header.body;
}

TEST_F(EndToEndTest, JsonUploadIsAppliedLikeCsv) {
  std::string id = "JS" + uniqueSuffix();
  std::string body = "[{\"employee_id\":\"" + id +
                     "\",\"given_name\":\"Jason\",\"family_name\":\"Body\",\"department\":\"IT\","
                     "\"status\":\"active\",\"cost_center\":\"4711\"}]";
  auto up = api_->request("POST", "/api/v1/hr/records", "Bearer " + tenant_a_->api_token,
                          "application/json", body);
  ASSERT_EQ(up.status, 202) << up.body;
  auto run = api_->waitForRun(tenant_a_->api_token, str(up.json, "run_id"));
  ASSERT_EQ(str(run.json, "status"), "succeeded") << run.body;
  auto found = accountsWithId(id);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].first("department"), "IT");
}

TEST_F(EndToEndTest, UnknownNodeKeyGetsNodeInvalid) {
  auto r = api_->request("POST", "/agent/v1/poll", "NodeKey not-a-real-key", "application/json",
                         "{\"wait_s\":0}");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(str(r.json, "error"), "node_invalid");
  auto none = api_->request("POST", "/agent/v1/poll", "", "application/json", "{}");
  EXPECT_EQ(str(none.json, "error"), "node_invalid");
  auto bad_secret = api_->request("POST", "/agent/v1/enroll", "", "application/json",
                                  "{\"enroll_secret\":\"wrong\",\"host\":\"h\"}");
  EXPECT_EQ(bad_secret.status, 401);
  EXPECT_FALSE(bad_secret.json.as_object().contains("node_key"));
}

TEST_F(EndToEndTest, TenantBCannotReadOrWriteTenantARuns) {
  Person p{"T" + uniqueSuffix(), "Tina", "Tenant", "", "Ops", "Lead", ""};
  auto run_a = applyAndWait(csvOf({p}));
  std::string run_id = str(run_a.json, "run_id");
  ASSERT_FALSE(run_id.empty());
  // B cannot read A's run, and the answer carries none of its data.
  auto as_b = api_->getRun(tenant_b_->api_token, run_id);
  EXPECT_EQ(as_b.status, 404);
  EXPECT_EQ(as_b.body.find(p.id), std::string::npos);
  EXPECT_EQ(as_b.body.find("Tina"), std::string::npos);
  auto list_b = api_->request("GET", "/api/v1/runs", "Bearer " + tenant_b_->api_token);
  ASSERT_EQ(list_b.status, 200);
  EXPECT_EQ(list_b.body.find(run_id), std::string::npos);
  // A bad token gets nothing at all.
  EXPECT_EQ(api_->getRun("bogus", run_id).status, 401);

  // B's upload goes to B's queue: A's agent never applies it to A's directory.
  Person q{"TB" + uniqueSuffix(), "Bert", "Bside", "", "Ops", "Lead", ""};
  auto up_b = api_->uploadCsv(tenant_b_->api_token, csvOf({q}));
  ASSERT_EQ(up_b.status, 202);
  // A's agent gets a fresh job of A's to prove it is polling; B's stays queued.
  Person r{"TA" + uniqueSuffix(), "Anna", "Aside", "", "Ops", "Lead", ""};
  auto run_a2 = applyAndWait(csvOf({r}));
  EXPECT_EQ(str(run_a2.json, "status"), "succeeded");
  EXPECT_EQ(str(api_->getRun(tenant_b_->api_token, str(up_b.json, "run_id")).json, "status"),
            "queued");
  EXPECT_EQ(accountsWithId(q.id).size(), 0u);

  // An agent of tenant B cannot post a result for A's job.
  TempDir bdir;
  AgentProcess agent_b(bdir.path(), *env_, AgentOptions{"OU=Users," + *base_ou_, "", 1});
  ASSERT_TRUE(agent_b.enroll(cp_->url(), cp_->caFile(), tenant_b_->enroll_secret));
  std::string key_json = readFile(bdir.path() + "/node_key.json");
  auto parsed = bj::parse(key_json);
  std::string key_b = str(parsed, "node_key");
  ASSERT_FALSE(key_b.empty());
  auto steal = api_->request("POST", "/agent/v1/jobs/" + run_id + "/result", "NodeKey " + key_b,
                             "application/json",
                             "{\"status\":\"failed\",\"outcomes\":[]}");
  EXPECT_EQ(steal.status, 404) << steal.body;
  EXPECT_EQ(str(api_->getRun(tenant_a_->api_token, run_id).json, "status"), "succeeded");
}

}  // namespace
}  // namespace tenure::testing
