// SCIM 2.0 inbound end to end: a SCIM client (libcurl) provisions through the real control plane,
// the real agent applies the runs to the Samba AD DC, and an independent LDAP reader checks them.

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <map>

#include "common/ldap/escape.h"
#include "tests/integration/stack.h"
#include "tests/support/suite_setup.h"

namespace tenure::testing {
namespace {

namespace bj = boost::json;

constexpr const char* kEnt = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

struct ScimReply {
  long status = 0;
  std::string body;
  std::string run_ids;  // X-Tenure-Run-Id
  bj::value json() const { return bj::parse(body); }
};

size_t onBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t onHeader(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  const std::string name = "x-tenure-run-id:";
  if (line.size() > name.size()) {
    std::string head = line.substr(0, name.size());
    for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (head == name) {
      std::string v = line.substr(name.size());
      while (!v.empty() && v.front() == ' ') v.erase(v.begin());
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n')) v.pop_back();
      *static_cast<std::string*>(out) = v;
    }
  }
  return size * n;
}

bool hasValue(const ProbeEntry& e, const std::string& attr, const std::string& value) {
  auto it = e.attrs.find(attr);
  if (it == e.attrs.end()) return false;
  for (const auto& v : it->second) {
    if (ldap::dnEquals(v, value) || v == value) return true;
  }
  return false;
}

class ScimEndToEndTest : public ::testing::Test {
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
    base_ = new std::string("OU=scim-" + *sfx_ + "," + env_->base_dn);
    for (const std::string ou : {"", "OU=Staff,", "OU=Sales,", "OU=Engineering,", "OU=Leavers,"}) {
      ASSERT_TRUE(probe_->ensureOu(ou + *base_));
    }
    dir_ = new TempDir();
    cp_ = new ControlPlaneProcess(dir_->path() + "/cp");
    ASSERT_TRUE(cp_->start()) << readFile(cp_->logPath());
    tenant_ = new TenantInfo(cp_->createTenant("SCIM Co"));
    agent_ = new AgentProcess(dir_->path() + "/agent", *env_,
                              AgentOptions{"OU=Staff," + *base_, "OU=Leavers," + *base_, 5});
    ASSERT_TRUE(agent_->enroll(cp_->url(), cp_->caFile(), tenant_->enroll_secret));
    ASSERT_TRUE(agent_->start());
    api_ = new ApiClient(cp_->url(), cp_->caFile());
    bj::value policy = bj::object{
        {"naming", {{"mail_domain", "example.test"}, {"upn_suffix", "example.test"}}},
        {"mailbox", {{"mode", "off"}}},
        {"placement",
         {{"default_ou", "OU=Staff," + *base_},
          {"leavers_ou", "OU=Leavers," + *base_},
          {"rules",
           bj::array{bj::object{{"when", {{"department", "Sales"}}}, {"ou", "OU=Sales," + *base_}},
                     bj::object{{"when", {{"department", "Engineering"}}},
                                {"ou", "OU=Engineering," + *base_}}}}}}};
    auto put = api_->request("PUT", "/api/v1/policy", "Bearer " + tenant_->api_token,
                             "application/json", bj::serialize(policy));
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
  }

  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "--- control plane log ---\n" << readFile(cp_->logPath()).substr(0, 20000);
      std::cerr << "--- agent log ---\n" << readFile(agent_->logPath()).substr(0, 30000);
    }
  }

  static ScimReply scim(const std::string& method, const std::string& path,
                        const std::string& body = "") {
    ScimReply out;
    CURL* curl = curl_easy_init();
    const std::string url = cp_->url() + "/scim/v2" + path;
    const std::string ca = cp_->caFile();
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (!body.empty()) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    curl_slist* headers = nullptr;
    const std::string auth = "Authorization: Bearer " + tenant_->api_token;
    headers = curl_slist_append(headers, auth.c_str());
    headers = curl_slist_append(headers, "Content-Type: application/scim+json");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &out.run_ids);
    CURLcode rc = curl_easy_perform(curl);
    EXPECT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return out;
  }

  // Waits for every run the reply names; each must succeed.
  // Prints how long the SCIM request took to reach AD (not asserted: loopback timing is noisy).
  static void waitForRuns(const ScimReply& r, const char* what,
                          std::chrono::steady_clock::time_point sent) {
    waitForRuns(r);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - sent)
                  .count();
    std::cerr << "measured: SCIM " << what << " applied to AD in " << ms << " ms\n";
  }
  static void waitForRuns(const ScimReply& r) {
    ASSERT_FALSE(r.run_ids.empty()) << r.body;
    size_t start = 0;
    while (start <= r.run_ids.size()) {
      size_t comma = r.run_ids.find(',', start);
      std::string id =
          r.run_ids.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      auto run = api_->waitForRun(tenant_->api_token, id);
      ASSERT_EQ(run.json.at("status").as_string(), "succeeded") << run.body;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }

  static bj::object user(const std::string& user_name, const std::string& employee_number,
                         const std::string& given, const std::string& family,
                         const std::string& department) {
    return bj::object{
        {"schemas", bj::array{"urn:ietf:params:scim:schemas:core:2.0:User", kEnt}},
        {"userName", user_name},
        {"name", bj::object{{"givenName", given}, {"familyName", family}}},
        {"title", "Rep"},
        {"active", true},
        {kEnt, bj::object{{"employeeNumber", employee_number}, {"department", department}}}};
  }

  ProbeEntry account(const std::string& id) {
    auto found = probe_->search(
        *base_, "(&(objectClass=user)(employeeID=" + id + "))",
        {"sAMAccountName", "userAccountControl", "department", "title", "manager", "sn"});
    EXPECT_EQ(found.size(), 1u) << id;
    return found.empty() ? ProbeEntry{} : found[0];
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
};

TEST_F(ScimEndToEndTest, PostCreatesPatchDepartmentMovesAndDeleteDisables) {
  const std::string boss_id = "SB" + *sfx_, rep_id = "SR" + *sfx_;
  // The manager and the report in one Bulk request; the report names its manager by bulkId.
  bj::object rep = user("rep" + *sfx_ + "@example.test", rep_id, "Rhea", "Report" + *sfx_, "Sales");
  rep[kEnt].as_object()["manager"] = bj::object{{"value", "bulkId:boss"}};
  bj::object bulk{
      {"schemas", bj::array{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"}},
      {"Operations",
       bj::array{
           bj::object{{"method", "POST"},
                      {"path", "/Users"},
                      {"bulkId", "boss"},
                      {"data", user("boss" + *sfx_ + "@example.test", boss_id, "Bea",
                                    "Boss" + *sfx_, "Sales")}},
           bj::object{{"method", "POST"}, {"path", "/Users"}, {"bulkId", "rep"}, {"data", rep}}}}};
  auto sent = std::chrono::steady_clock::now();
  ScimReply created = scim("POST", "/Bulk", bj::serialize(bulk));
  ASSERT_EQ(created.status, 200) << created.body;
  waitForRuns(created, "Bulk (2 creates)", sent);
  std::string rep_scim_id;
  const bj::value created_json = created.json();
  for (const auto& op : created_json.at("Operations").as_array()) {
    ASSERT_EQ(op.at("status").as_string(), "201") << created.body;
    if (op.at("bulkId").as_string() == "rep") {
      std::string loc(op.at("location").as_string());
      rep_scim_id = loc.substr(loc.rfind('/') + 1);
    }
  }
  ASSERT_FALSE(rep_scim_id.empty());

  auto boss = account(boss_id);
  auto e = account(rep_id);
  EXPECT_TRUE(ldap::dnEquals(ldap::parentDn(e.dn), "OU=Sales," + *base_)) << e.dn;
  EXPECT_EQ(e.first("department"), "Sales");
  EXPECT_FALSE(disabled(e));
  EXPECT_TRUE(hasValue(e, "manager", boss.dn)) << "the bulkId reference became the manager";

  sent = std::chrono::steady_clock::now();
  ScimReply moved = scim("PATCH", "/Users/" + rep_scim_id,
                         std::string(R"({
      "schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations":[{"op":"replace","path":")") +
                             kEnt + R"(:department","value":"Engineering"}]})");
  ASSERT_EQ(moved.status, 200) << moved.body;
  waitForRuns(moved, "PATCH department", sent);
  e = account(rep_id);
  EXPECT_TRUE(ldap::dnEquals(ldap::parentDn(e.dn), "OU=Engineering," + *base_)) << e.dn;
  EXPECT_EQ(e.first("department"), "Engineering");
  EXPECT_FALSE(disabled(e));

  sent = std::chrono::steady_clock::now();
  ScimReply gone = scim("DELETE", "/Users/" + rep_scim_id);
  ASSERT_EQ(gone.status, 204) << gone.body;
  waitForRuns(gone, "DELETE", sent);
  e = account(rep_id);
  EXPECT_TRUE(disabled(e));
  EXPECT_TRUE(ldap::dnEquals(ldap::parentDn(e.dn), "OU=Leavers," + *base_)) << e.dn;
  EXPECT_EQ(scim("GET", "/Users/" + rep_scim_id).status, 404);
  EXPECT_FALSE(disabled(account(boss_id))) << "only the deleted User is deprovisioned";
}

}  // namespace
}  // namespace tenure::testing
