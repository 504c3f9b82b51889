// Issue 3 end to end: a tenant policy (names, OUs, groups, mailboxes, lifecycle, thresholds)
// uploaded through the tenant API, HR records through the real control plane and agent, and the
// result read back from Samba AD by an independent LDAP reader.

#include <gtest/gtest.h>
#include <signal.h>

#include <ctime>
#include <set>

#include "common/base/time_zone.h"
#include "common/ldap/escape.h"
#include "tests/integration/stack.h"
#include "tests/support/suite_setup.h"

namespace tenure::testing {
namespace {

namespace bj = boost::json;

std::string str(const bj::value& v, const char* key) {
  const auto* o = v.if_object();
  if (!o || !o->contains(key) || !o->at(key).is_string()) return "";
  return std::string(o->at(key).get_string());
}

// YYYY-MM-DD of today + `days` (UTC).
std::string dateIn(int days) {
  std::time_t t = std::time(nullptr) + static_cast<std::time_t>(days) * 86400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

bool hasValue(const ProbeEntry& e, const std::string& attr, const std::string& value) {
  auto it = e.attrs.find(attr);
  if (it == e.attrs.end()) return false;
  for (const auto& v : it->second) {
    if (ldap::dnEquals(v, value) || v == value) return true;
  }
  return false;
}

class LifecycleEndToEndTest : public ::testing::Test {
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
    sfx_ = new std::string(uniqueSuffix());
    base_ = new std::string("OU=lc-" + *sfx_ + "," + env_->base_dn);
    for (const std::string ou : {"", "OU=Staff,", "OU=Engineering,", "OU=Leavers,", "OU=Groups,"}) {
      ASSERT_TRUE(probe_->ensureOu(ou + *base_));
    }
    for (const std::string g : {"All Staff", "Engineering", "Sales", "Unmanaged"}) {
      ASSERT_TRUE(probe_->addEntry(group(g), {{"objectClass", {"group"}},
                                              {"sAMAccountName", {g.substr(0, 4) + *sfx_}}}));
    }
    dir_ = new TempDir();
    cp_ = new ControlPlaneProcess(dir_->path() + "/cp");
    ASSERT_TRUE(cp_->start()) << readFile(cp_->logPath());
    tenant_ = new TenantInfo(cp_->createTenant("Lifecycle Co"));
    agent_ = new AgentProcess(dir_->path() + "/agent", *env_,
                              AgentOptions{"OU=Staff," + *base_, "OU=Leavers," + *base_, 5});
    ASSERT_TRUE(agent_->enroll(cp_->url(), cp_->caFile(), tenant_->enroll_secret));
    ASSERT_TRUE(agent_->start());
    api_ = new ApiClient(cp_->url(), cp_->caFile());
    auto [rc, out] = runCommand({cpBinary(), "admin-token", "create", "--data-dir",
                                 dir_->path() + "/cp", "test-operator"});
    ASSERT_EQ(rc, 0) << out;
    admin_token_ = new std::string(str(bj::parse(out), "token"));

    auto put = api_->request("PUT", "/api/v1/policy", "Bearer " + tenant_->api_token,
                             "application/json", bj::serialize(policy()));
    ASSERT_EQ(put.status, 200) << put.body;
  }

  static void TearDownTestSuite() {
    suite_setup_ = {};  // the next suite sharing this fixture sets up again
    delete api_;
    delete agent_;
    delete cp_;
    if (probe_ && base_) probe_->deleteTree(*base_);
    delete probe_;
    delete tenant_;
    delete dir_;
    delete base_;
    delete sfx_;
    delete env_;
    delete admin_token_;
  }

  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "--- control plane log ---\n" << readFile(cp_->logPath()).substr(0, 20000);
      std::cerr << "--- agent log ---\n" << readFile(agent_->logPath()).substr(0, 30000);
    }
  }

  static std::string group(const std::string& name) {
    return "CN=" + name + " " + *sfx_ + ",OU=Groups," + *base_;
  }

  static bj::value policy() {
    return bj::object{
        {"naming", {{"mail_domain", "example.test"}, {"upn_suffix", "example.test"}}},
        {"placement",
         {{"default_ou", "OU=Staff," + *base_},
          {"leavers_ou", "OU=Leavers," + *base_},
          {"rules", bj::array{bj::object{{"when", {{"department", "Engineering"}}},
                                         {"ou", "OU=Engineering," + *base_}}}}}},
        {"groups",
         bj::array{bj::object{{"groups", bj::array{group("All Staff")}}},
                   bj::object{{"when", {{"department", "Engineering"}}},
                              {"groups", bj::array{group("Engineering")}}},
                   bj::object{{"when", {{"department", "Sales"}}},
                              {"groups", bj::array{group("Sales")}}}}},
        {"lifecycle", {{"time_zone", "Europe/Berlin"}, {"prehire_days", 7}}},
        {"mailbox",
         {{"mode", "auto"},
          {"kind", "remote"},
          {"remote_routing_domain", "example.mail.onmicrosoft.com"}}},
        {"thresholds", {{"disables", {{"max_count", 2}}}}}};
  }

  static std::string csv(const std::vector<std::vector<std::string>>& rows) {
    std::string s = "employee_id,given_name,family_name,department,title,employment_type,start_date,"
                    "end_date,status\n";
    for (const auto& r : rows) {
      for (size_t i = 0; i < r.size(); ++i) s += (i ? "," : "") + r[i];
      s += "\n";
    }
    return s;
  }

  ApiResponse apply(const std::string& body, bool dry_run = false) {
    auto up = api_->request("POST", std::string("/api/v1/hr/records") + (dry_run ? "?dry_run=true" : ""),
                            "Bearer " + tenant_->api_token, "text/csv", body);
    EXPECT_EQ(up.status, 202) << up.body;
    return api_->waitForRun(tenant_->api_token, str(up.json, "run_id"));
  }

  ProbeEntry account(const std::string& id) {
    auto found = probe_->search(*base_, "(&(objectClass=user)(employeeID=" + id + "))",
                                {"sAMAccountName", "mail", "mailNickname", "proxyAddresses",
                                 "targetAddress", "msExchHideFromAddressLists", "memberOf",
                                 "userAccountControl", "accountExpires", "sn", "displayName",
                                 "department"});
    EXPECT_EQ(found.size(), 1u) << id;
    return found.empty() ? ProbeEntry{} : found[0];
  }
  size_t accounts(const std::string& id) {
    return probe_->search(*base_, "(&(objectClass=user)(employeeID=" + id + "))", {"1.1"}).size();
  }
  static bool disabled(const ProbeEntry& e) {
    return (std::stoll(e.first("useraccountcontrol")) & 2) != 0;
  }

  static inline SambaEnv* env_ = nullptr;
  static inline LdapProbe* probe_ = nullptr;
  static inline std::string* sfx_ = nullptr;
  static inline std::string* base_ = nullptr;
  static inline TempDir* dir_ = nullptr;
  static inline ControlPlaneProcess* cp_ = nullptr;
  static inline AgentProcess* agent_ = nullptr;
  static inline ApiClient* api_ = nullptr;
  static inline TenantInfo* tenant_ = nullptr;
  static inline std::string* admin_token_ = nullptr;
};

TEST_F(LifecycleEndToEndTest, JoinerGetsPolicyNamesOuGroupsAndRemoteMailbox) {
  std::string id = "J" + *sfx_, family = "Ångström" + *sfx_;
  auto run = apply(csv({{id, "Zoë", family, "Engineering", "Engineer", "employee", "", "", "active"}}));
  ASSERT_EQ(str(run.json, "status"), "succeeded") << run.body;
  auto e = account(id);
  EXPECT_TRUE(ldap::dnEquals(ldap::parentDn(e.dn), "OU=Engineering," + *base_)) << e.dn;
  EXPECT_TRUE(hasValue(e, "memberof", group("All Staff")));
  EXPECT_TRUE(hasValue(e, "memberof", group("Engineering")));
  EXPECT_FALSE(hasValue(e, "memberof", group("Sales")));
  std::string mail = "zoe.angstroem" + *sfx_ + "@example.test";
  EXPECT_EQ(e.first("mail"), mail);
  EXPECT_TRUE(hasValue(e, "proxyaddresses", "SMTP:" + mail));
  EXPECT_EQ(e.first("mailnickname"), e.first("samaccountname"));
  EXPECT_EQ(e.first("targetaddress"), "SMTP:zoe.angstroem" + *sfx_ + "@example.mail.onmicrosoft.com");
  EXPECT_EQ(e.first("samaccountname").substr(0, 10), "zangstroem");
}

TEST_F(LifecycleEndToEndTest, MoverChangesOuAndRuleGroupsButKeepsUnmanagedGroups) {
  std::string id = "M" + *sfx_;
  ASSERT_EQ(str(apply(csv({{id, "Max", "Mover" + *sfx_, "Sales", "Rep", "employee", "", "", "active"}})).json,
                "status"),
            "succeeded");
  auto before = account(id);
  EXPECT_TRUE(hasValue(before, "memberof", group("Sales")));
  // Someone adds the person to a group no rule manages.
  auto [rc, out] = runCommand({"/bin/sh", "-c",
                               "printf 'dn: " + group("Unmanaged") +
                                   "\\nchangetype: modify\\nadd: member\\nmember: " + before.dn +
                                   "\\n' | LDAPTLS_CACERT=" + env_->ca_file + " ldapmodify -x -H " +
                                   env_->url + " -D '" + env_->bind_dn + "' -w '" + env_->password +
                                   "' >/dev/null 2>&1; echo $?"});
  ASSERT_EQ(out.substr(0, 1), "0");

  auto run = apply(csv({{id, "Max", "Mover" + *sfx_, "Engineering", "Engineer", "employee", "", "", "active"}}));
  ASSERT_EQ(str(run.json, "status"), "succeeded") << run.body;
  auto e = account(id);
  EXPECT_TRUE(ldap::dnEquals(ldap::parentDn(e.dn), "OU=Engineering," + *base_)) << e.dn;
  EXPECT_TRUE(hasValue(e, "memberof", group("Engineering")));
  EXPECT_TRUE(hasValue(e, "memberof", group("All Staff")));
  EXPECT_FALSE(hasValue(e, "memberof", group("Sales"))) << "old rule group removed";
  EXPECT_TRUE(hasValue(e, "memberof", group("Unmanaged"))) << "unmanaged group untouched";
  EXPECT_EQ(e.first("department"), "Engineering");
}

TEST_F(LifecycleEndToEndTest, FamilyNameChangeUpdatesMailAndKeepsTheOldAddress) {
  std::string id = "F" + *sfx_;
  ASSERT_EQ(str(apply(csv({{id, "Fay", "Before" + *sfx_, "Sales", "Rep", "employee", "", "", "active"}})).json,
                "status"),
            "succeeded");
  std::string sam = account(id).first("samaccountname");
  auto run = apply(csv({{id, "Fay", "After" + *sfx_, "Sales", "Rep", "employee", "", "", "active"}}));
  ASSERT_EQ(str(run.json, "status"), "succeeded") << run.body;
  auto e = account(id);
  EXPECT_EQ(e.first("sn"), "After" + *sfx_);
  EXPECT_EQ(e.first("displayname"), "Fay After" + *sfx_);
  EXPECT_EQ(e.first("samaccountname"), sam) << "sAMAccountName never changes";
  std::string new_mail = "fay.after" + *sfx_ + "@example.test";
  EXPECT_EQ(e.first("mail"), new_mail);
  EXPECT_TRUE(hasValue(e, "proxyaddresses", "SMTP:" + new_mail));
  EXPECT_TRUE(hasValue(e, "proxyaddresses", "smtp:fay.before" + *sfx_ + "@example.test"));
}

TEST_F(LifecycleEndToEndTest, LeaverIsDisabledMovedStrippedHiddenAndExpires) {
  std::string id = "L" + *sfx_;
  ASSERT_EQ(str(apply(csv({{id, "Lea", "Leaver" + *sfx_, "Sales", "Rep", "employee", "", "", "active"}})).json,
                "status"),
            "succeeded");
  auto run = apply(csv({{id, "Lea", "Leaver" + *sfx_, "Sales", "Rep", "employee", "", dateIn(-1), "terminated"}}));
  ASSERT_EQ(str(run.json, "status"), "succeeded") << run.body;
  auto e = account(id);
  EXPECT_TRUE(disabled(e));
  EXPECT_TRUE(ldap::dnEquals(ldap::parentDn(e.dn), "OU=Leavers," + *base_)) << e.dn;
  EXPECT_FALSE(hasValue(e, "memberof", group("All Staff")));
  EXPECT_FALSE(hasValue(e, "memberof", group("Sales")));
  EXPECT_EQ(e.first("msexchhidefromaddresslists"), "TRUE");
  const std::string expires = e.first("accountexpires");
  EXPECT_FALSE(expires.empty() || expires == "0" || expires == "9223372036854775807") << expires;
}

TEST_F(LifecycleEndToEndTest, ContractorAccountExpiresAtTheEndOfItsEndDateInTheTenantTimeZone) {
  std::string id = "C" + *sfx_;
  auto berlin = TimeZone::load("Europe/Berlin");
  ASSERT_TRUE(berlin.isOk());
  // accountExpires is the first instant of the day after the end date, in the tenant's zone.
  auto expected = [&](int end_in_days) {
    const int64_t unix_s = berlin->startOfLocalDay(dateIn(end_in_days + 1)).value();
    return std::to_string((unix_s + 11644473600LL) * 10000000LL);
  };
  auto run = apply(csv({{id, "Carl", "Contract" + *sfx_, "Sales", "Consultant", "contractor",
                         dateIn(-10), dateIn(200), "active"}}));
  ASSERT_EQ(str(run.json, "status"), "succeeded") << run.body;
  auto e = account(id);
  EXPECT_FALSE(disabled(e));
  EXPECT_EQ(e.first("accountexpires"), expected(200));

  // Extended: accountExpires follows.
  run = apply(csv({{id, "Carl", "Contract" + *sfx_, "Sales", "Consultant", "contractor",
                    dateIn(-10), dateIn(400), "active"}}));
  ASSERT_EQ(str(run.json, "status"), "succeeded") << run.body;
  EXPECT_EQ(account(id).first("accountexpires"), expected(400));

  // A contractor without an end date never reaches the agent.
  auto up = api_->request("POST", "/api/v1/hr/records", "Bearer " + tenant_->api_token, "text/csv",
                          csv({{"N" + *sfx_, "No", "End" + *sfx_, "Sales", "X", "contractor", "", "", "active"}}));
  EXPECT_EQ(up.status, 422) << up.body;
}

TEST_F(LifecycleEndToEndTest, PreviewExplainsEveryOperationAndChangesNothing) {
  std::string id = "P" + *sfx_;
  auto run = apply(csv({{id, "Pia", "Preview" + *sfx_, "Engineering", "Engineer", "employee", "", "", "active"}}),
                   /*dry_run=*/true);
  ASSERT_EQ(str(run.json, "status"), "succeeded") << run.body;
  EXPECT_EQ(accounts(id), 0u) << "a preview writes nothing";
  const auto& people = run.json.at("report").at("identities").as_array();
  ASSERT_EQ(people.size(), 1u);
  const auto& ops = people[0].at("operations").as_array();
  ASSERT_GE(ops.size(), 2u) << run.body;
  std::set<std::string> kinds;
  for (const auto& op : ops) {
    kinds.insert(str(op, "kind"));
    EXPECT_FALSE(str(op, "reason").empty()) << bj::serialize(op);
  }
  EXPECT_TRUE(kinds.count("create")) << run.body;
  EXPECT_TRUE(kinds.count("add_member")) << run.body;
}

TEST_F(LifecycleEndToEndTest, PreHireIsCreatedDisabledAndOneTooFarOutIsNotCreated) {
  std::string soon = "S" + *sfx_, later = "T" + *sfx_;
  auto run = apply(csv({{soon, "Sam", "Soon" + *sfx_, "Sales", "Rep", "employee", dateIn(3), "", "active"},
                        {later, "Tom", "Later" + *sfx_, "Sales", "Rep", "employee", dateIn(40), "", "active"}}));
  ASSERT_EQ(str(run.json, "status"), "succeeded") << run.body;
  EXPECT_TRUE(disabled(account(soon))) << "created disabled before the start date";
  EXPECT_EQ(accounts(later), 0u) << "not created yet";
}

TEST_F(LifecycleEndToEndTest, RunOverADisableThresholdIsHeldUntilAnOperatorApproves) {
  std::vector<std::vector<std::string>> active, leaving;
  for (int i = 0; i < 3; ++i) {
    std::string id = "H" + std::to_string(i) + *sfx_;
    active.push_back({id, "Hal", "Held" + std::to_string(i) + *sfx_, "Sales", "Rep", "employee", "", "", "active"});
    leaving.push_back({id, "Hal", "Held" + std::to_string(i) + *sfx_, "Sales", "Rep", "employee", "", dateIn(-1), "terminated"});
  }
  ASSERT_EQ(str(apply(csv(active)).json, "status"), "succeeded");
  auto held = apply(csv(leaving));
  ASSERT_EQ(str(held.json, "status"), "held") << held.body;
  for (const auto& row : active) EXPECT_FALSE(disabled(account(row[0]))) << "held: nothing applied";

  auto list = api_->request("GET", "/admin/v1/runs?status=held", "Bearer " + *admin_token_);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_NE(list.body.find(str(held.json, "run_id")), std::string::npos);
  // The tenant's token is not an operator's.
  EXPECT_EQ(api_->request("GET", "/admin/v1/runs?status=held", "Bearer " + tenant_->api_token).status, 401);

  auto approve = api_->request("POST", "/admin/v1/tenants/" + tenant_->tenant_id + "/runs/" +
                                           str(held.json, "run_id") + "/approve",
                               "Bearer " + *admin_token_, "application/json", "{}");
  ASSERT_EQ(approve.status, 200) << approve.body;
  auto done = api_->waitForRun(tenant_->api_token, str(held.json, "run_id"));
  ASSERT_EQ(str(done.json, "status"), "succeeded") << done.body;
  for (const auto& row : active) EXPECT_TRUE(disabled(account(row[0])));
}

}  // namespace
}  // namespace tenure::testing
