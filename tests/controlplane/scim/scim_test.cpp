// SCIM 2.0 inbound through real HTTPS over loopback: the real ControlPlaneService behind the real
// HttpServer, real SQLite stores in a temp dir, an injected clock; libcurl as the SCIM client.

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include "common/base/time_zone.h"
#include "controlplane/http/http_server.h"
#include "controlplane/scim/scim_user.h"
#include "controlplane/api/control_plane_api.h"
#include "controlplane/service/control_plane_service.h"

namespace tenure::cp {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;

constexpr const char* kEnt = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
constexpr const char* kTen = "urn:ietf:params:scim:schemas:extension:tenure:2.0:User";

struct Reply {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  bj::value json() const { return bj::parse(body); }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

size_t onBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t onHeader(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(value.begin());
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * n;
}

bj::value patchOf(const std::string& operations) {
  return bj::parse(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":)" +
                   operations + "}");
}

// "2026-03-10" at 12:00 UTC, in unix milliseconds.
int64_t noonOf(const std::string& date) {
  return parseIsoDate(date).value() * 86'400'000 + 12 * 3'600'000;
}

class ScimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tenure-scim-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    cert_ = (dir_ / "tls/cert.pem").string();
    const std::string key = (dir_ / "tls/key.pem").string();
    ASSERT_TRUE(ensureSelfSignedCertificate(cert_, key).isOk());
    clock_.setUnixMillis(noonOf("2026-03-10"));
    control_ = std::move(ControlStore::open((dir_ / "control.db").string(), clock_).value());
    tenants_ = std::make_unique<TenantStores>((dir_ / "tenants").string(), clock_);
    service_ = std::make_unique<ControlPlaneService>(io_, *control_, *tenants_, clock_);
    api_ = std::make_unique<api::ControlPlaneApi>(
        api::ApiComponents{*control_, *tenants_, clock_, *service_, nullptr, nullptr, nullptr});
    HttpServerOptions o;
    o.tls_cert_file = cert_;
    o.tls_key_file = key;
    server_ = std::make_unique<HttpServer>(io_, o, [this](HttpServerRequest req, Responder r) {
      api_->handle(std::move(req), std::move(r));
    });
    ASSERT_TRUE(server_->start().isOk());
    thread_ = std::thread([this] { io_.run(); });
    a_ = control_->createTenant("A").value();
    b_ = control_->createTenant("B").value();
  }

  void TearDown() override {
    server_.reset();
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
    api_.reset();
    service_.reset();
    fs::remove_all(dir_);
  }

  Reply call(const std::string& method, const std::string& path, const std::string& token,
             const std::string& body = "",
             std::vector<std::string> extra_headers = {"Content-Type: application/scim+json"}) {
    Reply out;
    CURL* curl = curl_easy_init();
    const std::string url = "https://127.0.0.1:" + std::to_string(server_->port()) + path;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CAINFO, cert_.c_str());
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (!body.empty()) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    curl_slist* headers = nullptr;
    if (!token.empty()) extra_headers.push_back("Authorization: Bearer " + token);
    extra_headers.push_back("Expect:");
    for (const auto& h : extra_headers) headers = curl_slist_append(headers, h.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &out.headers);
    CURLcode rc = curl_easy_perform(curl);
    EXPECT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return out;
  }

  Reply get(const std::string& path, const std::string& token = "") {
    return call("GET", path, token.empty() ? a_.api_token : token);
  }
  Reply post(const std::string& path, const bj::value& body, const std::string& token = "") {
    return call("POST", path, token.empty() ? a_.api_token : token, bj::serialize(body));
  }
  Reply patch(const std::string& id, const bj::value& body, const std::string& token = "") {
    return call("PATCH", "/scim/v2/Users/" + id, token.empty() ? a_.api_token : token,
                bj::serialize(body));
  }

  static bj::object user(const std::string& user_name, const std::string& employee_number,
                         const std::string& given = "Ann", const std::string& family = "Lee") {
    return bj::object{
        {"schemas", bj::array{"urn:ietf:params:scim:schemas:core:2.0:User", kEnt}},
        {"userName", user_name},
        {"externalId", "ext-" + employee_number},
        {"name", bj::object{{"givenName", given}, {"familyName", family}}},
        {"displayName", given + " " + family},
        {"title", "Engineer"},
        {"emails",
         bj::array{bj::object{{"value", user_name}, {"type", "work"}, {"primary", true}}}},
        {"active", true},
        {kEnt, bj::object{{"employeeNumber", employee_number}, {"department", "Research"}}}};
  }

  // Creates a User; returns its id.
  std::string create(const bj::object& u, const std::string& token = "") {
    Reply r = post("/scim/v2/Users", u, token);
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return "";
    return std::string(r.json().at("id").as_string());
  }

  std::shared_ptr<TenantStore> storeOf(const TenantCredentials& t) {
    return tenants_->forTenant(t.tenant.tenant_id).value();
  }

  // The HR record the run carries (SCIM runs carry exactly one).
  hr::HrRecord recordOf(const std::string& run_id, const TenantCredentials& t) {
    auto ids = storeOf(t)->runIdentities(run_id).value();
    EXPECT_EQ(ids.size(), 1u) << run_id;
    return ids.empty() ? hr::HrRecord{} : ids[0];
  }

  size_t runCount(const TenantCredentials& t) { return storeOf(t)->listRuns(10000).value().size(); }

  static void expectScimError(const Reply& r, int status, const std::string& scim_type) {
    EXPECT_EQ(r.status, status) << r.body;
    bj::value j = r.json();
    EXPECT_EQ(j.at("schemas").as_array().at(0).as_string(),
              "urn:ietf:params:scim:api:messages:2.0:Error");
    EXPECT_EQ(j.at("status").as_string(), std::to_string(status));
    if (!scim_type.empty()) {
      EXPECT_EQ(j.as_object().contains("scimType") ? std::string(j.at("scimType").as_string()) : "",
                scim_type)
          << r.body;
    }
  }

  fs::path dir_;
  std::string cert_;
  ManualClock clock_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      io_.get_executor()};
  std::thread thread_;
  std::unique_ptr<ControlStore> control_;
  std::unique_ptr<TenantStores> tenants_;
  std::unique_ptr<ControlPlaneService> service_;
  std::unique_ptr<api::ControlPlaneApi> api_;
  std::unique_ptr<HttpServer> server_;
  TenantCredentials a_, b_;
};

// ---- discovery ------------------------------------------------------------------------------

TEST_F(ScimTest, ServiceProviderConfigAdvertisesPatchBulkLimitsFilterAndEtag) {
  Reply r = get("/scim/v2/ServiceProviderConfig");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/scim+json");
  bj::value j = r.json();
  EXPECT_TRUE(j.at("patch").at("supported").as_bool());
  EXPECT_TRUE(j.at("bulk").at("supported").as_bool());
  EXPECT_EQ(j.at("bulk").at("maxOperations").to_number<int64_t>(), 1000);
  EXPECT_EQ(j.at("bulk").at("maxPayloadSize").to_number<int64_t>(), 1 << 20);
  EXPECT_TRUE(j.at("filter").at("supported").as_bool());
  EXPECT_EQ(j.at("filter").at("maxResults").to_number<int64_t>(), 200);
  EXPECT_TRUE(j.at("etag").at("supported").as_bool());
  EXPECT_FALSE(j.at("sort").at("supported").as_bool());
  EXPECT_EQ(j.at("authenticationSchemes").at(0).at("type").as_string(), "oauthbearertoken");
}

TEST_F(ScimTest, SchemasAndResourceTypesDescribeTheUserAndBothExtensions) {
  Reply s = get("/scim/v2/Schemas");
  ASSERT_EQ(s.status, 200);
  std::set<std::string> ids;
  const bj::value sj = s.json();
  for (const auto& d : sj.at("Resources").as_array()) {
    ids.insert(std::string(d.at("id").as_string()));
  }
  EXPECT_EQ(ids, (std::set<std::string>{"urn:ietf:params:scim:schemas:core:2.0:User", kEnt, kTen}));
  Reply one = get(std::string("/scim/v2/Schemas/") + kTen);
  ASSERT_EQ(one.status, 200);
  bool has_start = false;
  const bj::value oj = one.json();
  for (const auto& a : oj.at("attributes").as_array()) {
    has_start = has_start || a.at("name").as_string() == "startDate";
  }
  EXPECT_TRUE(has_start);
  expectScimError(get("/scim/v2/Schemas/urn:nope"), 404, "");

  Reply rt = get("/scim/v2/ResourceTypes");
  ASSERT_EQ(rt.status, 200);
  bj::value user = rt.json().at("Resources").at(0);
  EXPECT_EQ(user.at("endpoint").as_string(), "/Users");
  EXPECT_EQ(user.at("schemaExtensions").as_array().size(), 2u);
  EXPECT_EQ(get("/scim/v2/ResourceTypes/User").status, 200);
  expectScimError(get("/scim/v2/ResourceTypes/Group"), 404, "");
}

// ---- authentication and isolation ---------------------------------------------------------

TEST_F(ScimTest, RequestsWithoutAValidTenantTokenAreRefusedInTheScimErrorSchema) {
  expectScimError(call("GET", "/scim/v2/Users", ""), 401, "");
  expectScimError(call("GET", "/scim/v2/Users", "not-a-token"), 401, "");
  expectScimError(call("GET", "/scim/v2/ServiceProviderConfig", ""), 401, "");
  // Only a tenant token: an operator's admin token or an enroll secret is no tenant credential.
  auto admin = control_->createAdminToken("operator").value();
  expectScimError(call("GET", "/scim/v2/Users", admin.token), 401, "");
  expectScimError(call("GET", "/scim/v2/Users", a_.enroll_secret), 401, "");
}

TEST_F(ScimTest, TenantBsTokenNeverSeesOrChangesTenantAsUsers) {
  std::string id = create(user("ann@a.example", "E1"));
  ASSERT_FALSE(id.empty());
  const std::string b = b_.api_token;
  Reply list = get("/scim/v2/Users", b);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.json().at("totalResults").to_number<int64_t>(), 0);
  EXPECT_EQ(get("/scim/v2/Users?filter=userName%20eq%20%22ann@a.example%22", b)
                .json()
                .at("totalResults")
                .to_number<int64_t>(),
            0);
  for (const auto& r :
       {get("/scim/v2/Users/" + id, b),
        call("PUT", "/scim/v2/Users/" + id, b, bj::serialize(user("x@b", "E1"))),
        patch(id, bj::parse(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                          "Operations":[{"op":"replace","path":"title","value":"CEO"}]})"),
              b),
        call("DELETE", "/scim/v2/Users/" + id, b)}) {
    expectScimError(r, 404, "");
    EXPECT_EQ(r.body.find("ann@a.example"), std::string::npos);
  }
  EXPECT_EQ(runCount(b_), 0u);
  // The same userName and employee number are free in tenant B: tenants are separate.
  EXPECT_FALSE(create(user("ann@a.example", "E1"), b).empty());
  Reply still = get("/scim/v2/Users/" + id);
  ASSERT_EQ(still.status, 200);
  EXPECT_EQ(still.json().at("title").as_string(), "Engineer");
}

// ---- create and read -------------------------------------------------------------------------

TEST_F(ScimTest, PostCreatesTheUserAndQueuesARealTimeRunWithTheMappedHrRecord) {
  bj::object u = user("ann.lee@example.com", "E100");
  u["nickName"] = "Annie";
  u[kEnt].as_object()["costCenter"] = "CC-7";
  u[kTen] = bj::object{{"startDate", "2026-03-01"}, {"employmentType", "contractor"},
                       {"endDate", "2026-09-30"},   {"location", "Berlin"},
                       {"preferredName", "Anni"},   {"custom", bj::object{{"badge", "B-9"}}}};
  u["password"] = "hunter2";
  Reply r = post("/scim/v2/Users", u);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/scim+json");
  bj::value j = r.json();
  const std::string id(j.at("id").as_string());
  EXPECT_EQ(r.header("location"), j.at("meta").at("location").as_string());
  EXPECT_NE(r.header("location").find("/scim/v2/Users/" + id), std::string::npos);
  EXPECT_EQ(r.header("etag"), "W/\"1\"");
  EXPECT_EQ(j.at("meta").at("version").as_string(), "W/\"1\"");
  EXPECT_EQ(j.at("meta").at("resourceType").as_string(), "User");
  EXPECT_EQ(j.at("meta").at("created").as_string(), "2026-03-10T12:00:00Z");
  EXPECT_FALSE(j.as_object().contains("password")) << "write-only, never stored or returned";
  EXPECT_EQ(j.at("schemas").as_array().size(), 3u);

  const std::string run_id = r.header("x-tenure-run-id");
  ASSERT_FALSE(run_id.empty());
  auto run = storeOf(a_)->run(run_id).value();
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->source, "scim");
  EXPECT_EQ(run->status, RunStatus::kQueued);
  auto job = control_->job(run_id).value();
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->priority, 10) << "real-time work";

  hr::HrRecord rec = recordOf(run_id, a_);
  EXPECT_EQ(rec.employee_id, "E100");
  EXPECT_EQ(rec.given_name, "Ann");
  EXPECT_EQ(rec.family_name, "Lee");
  EXPECT_EQ(rec.preferred_name, "Anni") << "the tenure extension wins over nickName";
  EXPECT_EQ(rec.department, "Research");
  EXPECT_EQ(rec.title, "Engineer");
  EXPECT_EQ(rec.location, "Berlin");
  EXPECT_EQ(rec.employment_type, "contractor");
  EXPECT_EQ(rec.start_date, "2026-03-01");
  EXPECT_EQ(rec.end_date, "2026-09-30");
  EXPECT_EQ(rec.status, "active");
  EXPECT_EQ(rec.custom.at("cost_center"), "CC-7");
  EXPECT_EQ(rec.custom.at("badge"), "B-9");

  Reply g = get("/scim/v2/Users/" + id);
  ASSERT_EQ(g.status, 200);
  EXPECT_EQ(g.header("etag"), "W/\"1\"");
  EXPECT_EQ(g.json().at(kTen).at("location").as_string(), "Berlin");
  EXPECT_TRUE(g.header("x-tenure-run-id").empty()) << "a read carries no change";
}

TEST_F(ScimTest, NickNameBecomesThePreferredNameWhenTheExtensionHasNone) {
  bj::object u = user("bo@example.com", "E2");
  u["nickName"] = "Bobby";
  Reply r = post("/scim/v2/Users", u);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(recordOf(r.header("x-tenure-run-id"), a_).preferred_name, "Bobby");
}

TEST_F(ScimTest, JsonContentTypeIsAcceptedAndOtherTypesAre415) {
  Reply ok = call("POST", "/scim/v2/Users", a_.api_token, bj::serialize(user("c@x", "E3")),
                  {"Content-Type: application/json"});
  EXPECT_EQ(ok.status, 201) << ok.body;
  expectScimError(
      call("POST", "/scim/v2/Users", a_.api_token, "employee_id\nE4\n", {"Content-Type: text/csv"}),
      415, "");
  expectScimError(call("POST", "/scim/v2/Users", a_.api_token, "{not json"), 400, "invalidSyntax");
}

TEST_F(ScimTest, DuplicateUserNameOrEmployeeNumberIs409Uniqueness) {
  ASSERT_FALSE(create(user("ann@example.com", "E1")).empty());
  const size_t runs = runCount(a_);
  expectScimError(post("/scim/v2/Users", user("ANN@example.com", "E2")), 409, "uniqueness");
  expectScimError(post("/scim/v2/Users", user("other@example.com", "e1")), 409, "uniqueness");
  EXPECT_EQ(runCount(a_), runs) << "a refused write submits nothing";
}

TEST_F(ScimTest, EmployeeNumbersCompareTrimmedAsTheHrValidationTrimsThem) {
  ASSERT_FALSE(create(user("ann@example.com", "E1")).empty());
  expectScimError(post("/scim/v2/Users", user("other@example.com", " E1 ")), 409, "uniqueness");
}

TEST_F(ScimTest, AWriteThatChangesNothingQueuesNoRunAndKeepsTheVersion) {
  std::string id = create(user("ann@example.com", "E1"));
  const size_t runs = runCount(a_);
  Reply same = patch(id, patchOf(R"([{"op":"replace","path":"title","value":"Engineer"}])"));
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(same.header("etag"), "W/\"1\"");
  EXPECT_TRUE(same.header("x-tenure-run-id").empty());
  Reply put = call("PUT", "/scim/v2/Users/" + id, a_.api_token,
                   bj::serialize(user("ann@example.com", "E1")));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_TRUE(put.header("x-tenure-run-id").empty());
  EXPECT_EQ(runCount(a_), runs);
}

TEST_F(ScimTest, ARecordTheHrValidationRefusesAnswers400WithTheReasonAndStoresNothing) {
  bj::object no_given = user("x@example.com", "E5");
  no_given["name"] = bj::object{{"familyName", "Lee"}};
  Reply r1 = post("/scim/v2/Users", no_given);
  expectScimError(r1, 400, "invalidValue");
  EXPECT_NE(r1.json().at("detail").as_string().find("name.givenName"), std::string::npos)
      << r1.body;

  bj::object contractor = user("y@example.com", "E6");
  contractor[kTen] = bj::object{{"employmentType", "contractor"}};
  Reply r2 = post("/scim/v2/Users", contractor);
  expectScimError(r2, 400, "invalidValue");
  EXPECT_NE(r2.json().at("detail").as_string().find("endDate"), std::string::npos) << r2.body;

  bj::object bad_date = user("z@example.com", "E7");
  bad_date[kTen] = bj::object{{"startDate", "2026-13-01"}};
  expectScimError(post("/scim/v2/Users", bad_date), 400, "invalidValue");

  bj::object bad_id = user("w@example.com", "E 8");
  expectScimError(post("/scim/v2/Users", bad_id), 400, "invalidValue");

  bj::object no_id = user("v@example.com", "");
  no_id.erase("externalId");
  no_id[kEnt].as_object().erase("employeeNumber");
  expectScimError(post("/scim/v2/Users", no_id), 400, "invalidValue");

  bj::object wrong_type = user("u@example.com", "E9");
  wrong_type["active"] = 3;
  expectScimError(post("/scim/v2/Users", wrong_type), 400, "invalidValue");

  EXPECT_EQ(runCount(a_), 0u);
  EXPECT_EQ(get("/scim/v2/Users").json().at("totalResults").to_number<int64_t>(), 0);
  EXPECT_FALSE(storeOf(a_)->identity("E5").value().has_value());
}

TEST_F(ScimTest, EmployeeIdFallsBackToExternalIdWithoutEmployeeNumber) {
  bj::object u = user("ext@example.com", "");
  u[kEnt].as_object().erase("employeeNumber");
  u["externalId"] = "X42";
  Reply r = post("/scim/v2/Users", u);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(recordOf(r.header("x-tenure-run-id"), a_).employee_id, "X42");
}

// ---- manager --------------------------------------------------------------------------------

TEST_F(ScimTest, ManagerValueIsTheManagersScimIdAndBecomesTheirEmployeeId) {
  std::string boss = create(user("boss@example.com", "B1", "Bea", "Boss"));
  bj::object u = user("rep@example.com", "R1");
  u[kEnt].as_object()["manager"] = bj::object{{"value", boss}};
  Reply r = post("/scim/v2/Users", u);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(recordOf(r.header("x-tenure-run-id"), a_).manager_id, "B1");
  EXPECT_NE(r.json().at(kEnt).at("manager").at("$ref").as_string().find("/Users/" + boss),
            std::string::npos);

  bj::object stranger = user("rep2@example.com", "R2");
  stranger[kEnt].as_object()["manager"] = bj::object{{"value", "no-such-id"}};
  Reply bad = post("/scim/v2/Users", stranger);
  expectScimError(bad, 400, "invalidValue");
  EXPECT_NE(bad.body.find("no-such-id"), std::string::npos);
}

TEST_F(ScimTest, AnotherTenantsUserIsNotAValidManager) {
  std::string boss_in_b = create(user("boss@b.example", "B1"), b_.api_token);
  bj::object u = user("rep@a.example", "R1");
  u[kEnt].as_object()["manager"] = bj::object{{"value", boss_in_b}};
  expectScimError(post("/scim/v2/Users", u), 400, "invalidValue");
}

// ---- replace ---------------------------------------------------------------------------------

TEST_F(ScimTest, PutReplacesTheUserAndTheHrRecordButNotTheEmployeeId) {
  std::string id = create(user("ann@example.com", "E1"));
  bj::object u = user("ann.lee@example.com", "E1", "Ann", "Lee-Smith");
  u.erase("title");
  Reply r = call("PUT", "/scim/v2/Users/" + id, a_.api_token, bj::serialize(u));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("etag"), "W/\"2\"");
  EXPECT_FALSE(r.json().as_object().contains("title")) << "PUT replaces; omitted means cleared";
  hr::HrRecord rec = recordOf(r.header("x-tenure-run-id"), a_);
  EXPECT_EQ(rec.family_name, "Lee-Smith");
  EXPECT_EQ(rec.title, "");
  EXPECT_EQ(get("/scim/v2/Users/" + id).json().at("userName").as_string(), "ann.lee@example.com");

  expectScimError(call("PUT", "/scim/v2/Users/" + id, a_.api_token,
                       bj::serialize(user("ann@example.com", "E2"))),
                  400, "mutability");
  expectScimError(
      call("PUT", "/scim/v2/Users/nope", a_.api_token, bj::serialize(user("q@example.com", "E3"))),
      404, "");
}

TEST_F(ScimTest, IfMatchWithAStaleVersionIs412AndTheCurrentOneSucceeds) {
  std::string id = create(user("ann@example.com", "E1"));
  const std::string body = R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations":[{"op":"replace","path":"title","value":"Lead"}]})";
  expectScimError(call("PATCH", "/scim/v2/Users/" + id, a_.api_token, body,
                       {"Content-Type: application/scim+json", "If-Match: W/\"7\""}),
                  412, "");
  Reply ok = call("PATCH", "/scim/v2/Users/" + id, a_.api_token, body,
                  {"Content-Type: application/scim+json", "If-Match: W/\"1\""});
  EXPECT_EQ(ok.status, 200) << ok.body;
  expectScimError(call("DELETE", "/scim/v2/Users/" + id, a_.api_token, "", {"If-Match: W/\"1\""}),
                  412, "");
}

// ---- patch -----------------------------------------------------------------------------------

TEST_F(ScimTest, PatchReplaceWithPathsIncludingEnterpriseExtensionPaths) {
  std::string id = create(user("ann@example.com", "E1"));
  Reply r = patch(id, patchOf(std::string(R"([
      {"op":"replace","path":"name.givenName","value":"Anna"},
      {"op":"Replace","path":")") +
                              kEnt + R"(:department","value":"Sales"},
      {"op":"add","path":")" + kTen +
                              R"(:location","value":"Oslo"},
      {"op":"replace","path":"emails[type eq \"work\"].value","value":"anna@example.com"}])"));
  ASSERT_EQ(r.status, 200) << r.body;
  bj::value j = r.json();
  EXPECT_EQ(j.at("name").at("givenName").as_string(), "Anna");
  EXPECT_EQ(j.at("name").at("familyName").as_string(), "Lee") << "sibling sub-attributes kept";
  EXPECT_EQ(j.at(kEnt).at("department").as_string(), "Sales");
  EXPECT_EQ(j.at("emails").as_array().size(), 1u);
  EXPECT_EQ(j.at("emails").at(0).at("value").as_string(), "anna@example.com");
  hr::HrRecord rec = recordOf(r.header("x-tenure-run-id"), a_);
  EXPECT_EQ(rec.given_name, "Anna");
  EXPECT_EQ(rec.department, "Sales");
  EXPECT_EQ(rec.location, "Oslo");
  EXPECT_EQ(r.header("etag"), "W/\"2\"");
}

TEST_F(ScimTest, PatchWithoutPathMergesTheValueIncludingExtensionObjects) {
  std::string id = create(user("ann@example.com", "E1"));
  Reply r = patch(id, patchOf(std::string(R"([{"op":"replace","value":{
      "title":"Director","name.familyName":"Lee-Park",
      ")") + kEnt + R"(":{"department":"Legal"}}},
      {"op":"add","value":{"phoneNumbers":[{"type":"work","value":"+47 1"}]}}])"));
  ASSERT_EQ(r.status, 200) << r.body;
  bj::value j = r.json();
  EXPECT_EQ(j.at("title").as_string(), "Director");
  EXPECT_EQ(j.at("name").at("familyName").as_string(), "Lee-Park");
  EXPECT_EQ(j.at(kEnt).at("department").as_string(), "Legal");
  EXPECT_EQ(j.at(kEnt).at("employeeNumber").as_string(), "E1") << "merged, not replaced";
  EXPECT_EQ(j.at("phoneNumbers").as_array().size(), 1u);
  hr::HrRecord rec = recordOf(r.header("x-tenure-run-id"), a_);
  EXPECT_EQ(rec.title, "Director");
  EXPECT_EQ(rec.family_name, "Lee-Park");
  EXPECT_EQ(rec.department, "Legal");
}

TEST_F(ScimTest, PatchRemoveClearsAttributesAndFilteredValues) {
  bj::object u = user("ann@example.com", "E1");
  u["emails"].as_array().push_back(bj::object{{"value", "ann@home.example"}, {"type", "home"}});
  std::string id = create(u);
  Reply r = patch(id, patchOf(std::string(R"([{"op":"remove","path":"title"},
      {"op":"remove","path":"emails[type eq \"home\"]"},
      {"op":"remove","path":")") +
                              kEnt + R"(:department"}])"));
  ASSERT_EQ(r.status, 200) << r.body;
  bj::value j = r.json();
  EXPECT_FALSE(j.as_object().contains("title"));
  EXPECT_EQ(j.at("emails").as_array().size(), 1u);
  EXPECT_EQ(j.at("emails").at(0).at("type").as_string(), "work");
  EXPECT_FALSE(j.at(kEnt).as_object().contains("department"));
  hr::HrRecord rec = recordOf(r.header("x-tenure-run-id"), a_);
  EXPECT_EQ(rec.title, "");
  EXPECT_EQ(rec.department, "");
}

TEST_F(ScimTest, PatchErrorsAreScimErrorsAndChangeNothing) {
  std::string id = create(user("ann@example.com", "E1"));
  const size_t runs = runCount(a_);
  expectScimError(patch(id, patchOf(R"([{"op":"remove"}])")), 400, "noTarget");
  expectScimError(patch(id, patchOf(R"([{"op":"move","path":"title","value":"x"}])")), 400,
                  "invalidSyntax");
  expectScimError(
      patch(id, patchOf(R"([{"op":"replace","path":"emails[type co \"w\"].value","value":"x"}])")),
      400, "invalidFilter");
  expectScimError(patch(id, patchOf(R"([{"op":"remove","path":"userName"}])")), 400,
                  "invalidValue");
  expectScimError(patch(id, patchOf(std::string(R"([{"op":"replace","path":")") + kEnt +
                                    R"(:employeeNumber","value":"E2"}])")),
                  400, "mutability");
  expectScimError(patch(id, patchOf(R"([{"op":"replace","path":"name.givenName","value":""}])")),
                  400, "invalidValue");
  expectScimError(patch("nope", patchOf(R"([{"op":"replace","path":"title","value":"x"}])")), 404,
                  "");
  EXPECT_EQ(runCount(a_), runs);
  Reply g = get("/scim/v2/Users/" + id);
  EXPECT_EQ(g.header("etag"), "W/\"1\"");
  EXPECT_EQ(g.json().at("name").at("givenName").as_string(), "Ann");
}

TEST_F(ScimTest, PatchManagerAcceptsAnIdStringOrAnObject) {
  std::string boss1 = create(user("b1@example.com", "B1"));
  std::string boss2 = create(user("b2@example.com", "B2"));
  std::string id = create(user("rep@example.com", "R1"));
  Reply r1 = patch(id, patchOf(std::string(R"([{"op":"replace","path":")") + kEnt +
                               R"(:manager","value":")" + boss1 + R"("}])"));
  ASSERT_EQ(r1.status, 200) << r1.body;
  EXPECT_EQ(recordOf(r1.header("x-tenure-run-id"), a_).manager_id, "B1");
  Reply r2 = patch(id, patchOf(std::string(R"([{"op":"add","path":")") + kEnt +
                               R"(:manager","value":{"value":")" + boss2 + R"("}}])"));
  ASSERT_EQ(r2.status, 200) << r2.body;
  EXPECT_EQ(recordOf(r2.header("x-tenure-run-id"), a_).manager_id, "B2");
  Reply r3 =
      patch(id, patchOf(std::string(R"([{"op":"remove","path":")") + kEnt + R"(:manager"}])"));
  ASSERT_EQ(r3.status, 200) << r3.body;
  EXPECT_EQ(recordOf(r3.header("x-tenure-run-id"), a_).manager_id, "");
}

// ---- lifecycle: active=false and DELETE ------------------------------------------------------

TEST_F(ScimTest, ActiveFalseTerminatesThePersonEffectiveTodayAndActiveTrueRehires) {
  bj::object u = user("ann@example.com", "E1");
  u[kTen] = bj::object{{"startDate", "2025-01-06"}};
  std::string id = create(u);
  // Entra sends booleans as strings in PATCH values.
  Reply off = patch(id, patchOf(R"([{"op":"Replace","path":"active","value":"False"}])"));
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_FALSE(off.json().at("active").as_bool());
  hr::HrRecord rec = recordOf(off.header("x-tenure-run-id"), a_);
  EXPECT_EQ(rec.status, "terminated");
  EXPECT_EQ(rec.end_date, "2026-03-09") << "terminated at the start of today";
  EXPECT_FALSE(off.json().at(kTen).as_object().contains("endDate"))
      << "the SCIM view keeps what the client sent";

  Reply on = patch(id, patchOf(R"([{"op":"replace","value":{"active":true}}])"));
  ASSERT_EQ(on.status, 200) << on.body;
  hr::HrRecord back = recordOf(on.header("x-tenure-run-id"), a_);
  EXPECT_EQ(back.status, "active");
  EXPECT_EQ(back.end_date, "");
}

TEST_F(ScimTest, ActiveFalseKeepsAnEarlierEndDate) {
  bj::object u = user("c@example.com", "C1");
  u[kTen] = bj::object{
      {"employmentType", "contractor"}, {"startDate", "2025-01-06"}, {"endDate", "2026-12-31"}};
  u["active"] = false;
  Reply r = post("/scim/v2/Users", u);
  ASSERT_EQ(r.status, 201) << r.body;
  hr::HrRecord rec = recordOf(r.header("x-tenure-run-id"), a_);
  EXPECT_EQ(rec.status, "terminated");
  EXPECT_EQ(rec.end_date, "2026-03-09");
}

TEST_F(ScimTest, TodayIsTheTenantsTodayInItsPolicyTimeZone) {
  // 12:00 UTC on 2026-03-10 is already 01:00 on 2026-03-11 in Auckland (UTC+13).
  Reply put =
      call("PUT", "/api/v1/policy", a_.api_token,
           R"({"lifecycle":{"time_zone":"Pacific/Auckland"}})", {"Content-Type: application/json"});
  ASSERT_EQ(put.status, 200) << put.body;
  std::string id = create(user("ann@example.com", "E1"));
  Reply d = call("DELETE", "/scim/v2/Users/" + id, a_.api_token);
  ASSERT_EQ(d.status, 204) << d.body;
  EXPECT_EQ(recordOf(d.header("x-tenure-run-id"), a_).end_date, "2026-03-10");
}

TEST_F(ScimTest, DeprovisioningOnTheStartDateClearsAnEmployeesEndDate) {
  bj::object u = user("new@example.com", "N1");
  u[kTen] = bj::object{{"startDate", "2026-03-10"}};
  std::string id = create(u);
  Reply d = call("DELETE", "/scim/v2/Users/" + id, a_.api_token);
  ASSERT_EQ(d.status, 204) << d.body;
  hr::HrRecord rec = recordOf(d.header("x-tenure-run-id"), a_);
  EXPECT_EQ(rec.status, "terminated");
  EXPECT_EQ(rec.end_date, "");
  EXPECT_EQ(rec.start_date, "2026-03-10");
}

TEST_F(ScimTest, DeprovisioningAFutureHireKeepsTheStartDateSoItIsRescinded) {
  bj::object u = user("future@example.com", "F1");
  u[kTen] = bj::object{{"startDate", "2026-04-01"}};
  std::string id = create(u);
  Reply d = patch(id, patchOf(R"([{"op":"replace","path":"active","value":false}])"));
  ASSERT_EQ(d.status, 200) << d.body;
  hr::HrRecord rec = recordOf(d.header("x-tenure-run-id"), a_);
  EXPECT_EQ(rec.status, "terminated");
  EXPECT_EQ(rec.start_date, "2026-04-01");
  EXPECT_EQ(rec.end_date, "2026-04-01");
}

TEST_F(ScimTest, DeleteTerminatesThePersonAndRemovesTheResource) {
  std::string id = create(user("ann@example.com", "E1"));
  Reply d = call("DELETE", "/scim/v2/Users/" + id, a_.api_token);
  ASSERT_EQ(d.status, 204) << d.body;
  EXPECT_TRUE(d.body.empty());
  hr::HrRecord rec = recordOf(d.header("x-tenure-run-id"), a_);
  EXPECT_EQ(rec.employee_id, "E1");
  EXPECT_EQ(rec.status, "terminated");
  EXPECT_EQ(rec.end_date, "2026-03-09");
  expectScimError(get("/scim/v2/Users/" + id), 404, "");
  expectScimError(call("DELETE", "/scim/v2/Users/" + id, a_.api_token), 404, "");
  auto identity = storeOf(a_)->identity("E1").value();
  ASSERT_TRUE(identity.has_value());
  EXPECT_EQ(identity->status, "terminated");
  // The same person can come back (rehire): userName and employee number are free again.
  EXPECT_FALSE(create(user("ann@example.com", "E1")).empty());
}

// ---- listing and filters ----------------------------------------------------------------------

TEST_F(ScimTest, FilterFindsUsersByUserNameOrExternalId) {
  create(user("ann@example.com", "E1"));
  create(user("bo@example.com", "E2"));
  Reply by_name = get("/scim/v2/Users?filter=userName%20eq%20%22ANN@example.com%22");
  ASSERT_EQ(by_name.status, 200) << by_name.body;
  bj::value j = by_name.json();
  EXPECT_EQ(j.at("schemas").at(0).as_string(),
            "urn:ietf:params:scim:api:messages:2.0:ListResponse");
  EXPECT_EQ(j.at("totalResults").to_number<int64_t>(), 1);
  EXPECT_EQ(j.at("Resources").at(0).at("userName").as_string(), "ann@example.com");
  Reply by_urn =
      get("/scim/v2/Users?filter=urn:ietf:params:scim:schemas:core:2.0:User:userName%20eq%20%22bo@"
          "example.com%22");
  ASSERT_EQ(by_urn.status, 200) << by_urn.body;
  EXPECT_EQ(by_urn.json().at("totalResults").to_number<int64_t>(), 1);
  Reply by_ext = get("/scim/v2/Users?filter=externalId+eq+%22ext-E2%22");
  ASSERT_EQ(by_ext.status, 200) << by_ext.body;
  EXPECT_EQ(by_ext.json().at("Resources").at(0).at("userName").as_string(), "bo@example.com");
  EXPECT_EQ(get("/scim/v2/Users?filter=externalId%20eq%20%22EXT-E2%22")
                .json()
                .at("totalResults")
                .to_number<int64_t>(),
            0)
      << "externalId is caseExact";
  EXPECT_EQ(get("/scim/v2/Users?filter=userName%20eq%20%22nobody%22")
                .json()
                .at("totalResults")
                .to_number<int64_t>(),
            0);
}

TEST_F(ScimTest, UnsupportedFiltersAre400InvalidFilter) {
  for (const char* f : {"userName%20co%20%22a%22", "title%20eq%20%22x%22", "userName%20eq%20x",
                        "userName%20eq%20%22a%22%20and%20title%20eq%20%22b%22"}) {
    expectScimError(get(std::string("/scim/v2/Users?filter=") + f), 400, "invalidFilter");
  }
}

TEST_F(ScimTest, ListingPagesWithStartIndexAndCount) {
  for (int i = 1; i <= 5; ++i) {
    create(user("u" + std::to_string(i) + "@example.com", "E" + std::to_string(i)));
  }
  Reply p = get("/scim/v2/Users?startIndex=2&count=2");
  ASSERT_EQ(p.status, 200) << p.body;
  bj::value j = p.json();
  EXPECT_EQ(j.at("totalResults").to_number<int64_t>(), 5);
  EXPECT_EQ(j.at("startIndex").to_number<int64_t>(), 2);
  EXPECT_EQ(j.at("itemsPerPage").to_number<int64_t>(), 2);
  EXPECT_EQ(j.at("Resources").at(0).at("userName").as_string(), "u2@example.com");
  EXPECT_EQ(j.at("Resources").at(1).at("userName").as_string(), "u3@example.com");
  Reply last = get("/scim/v2/Users?startIndex=5&count=10");
  EXPECT_EQ(last.json().at("Resources").as_array().size(), 1u);
  Reply none = get("/scim/v2/Users?count=0");
  EXPECT_EQ(none.json().at("totalResults").to_number<int64_t>(), 5);
  EXPECT_EQ(none.json().at("Resources").as_array().size(), 0u);
  expectScimError(get("/scim/v2/Users?count=lots"), 400, "invalidValue");
}

// ---- bulk ------------------------------------------------------------------------------------

bj::object bulkOp(const std::string& method, const std::string& path, const bj::value& data,
                  const std::string& bulk_id = "") {
  bj::object op{{"method", method}, {"path", path}};
  if (!data.is_null()) op["data"] = data;
  if (!bulk_id.empty()) op["bulkId"] = bulk_id;
  return op;
}

bj::object bulkOf(bj::array ops, int fail_on_errors = 0) {
  bj::object b{{"schemas", bj::array{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"}},
               {"Operations", std::move(ops)}};
  if (fail_on_errors) b["failOnErrors"] = fail_on_errors;
  return b;
}

TEST_F(ScimTest, BulkResolvesBulkIdManagerReferencesEvenForwardOnes) {
  bj::object report = user("rep@example.com", "R1");
  report[kEnt].as_object()["manager"] = bj::object{{"value", "bulkId:boss"}};
  bj::object boss = user("boss@example.com", "B1");
  bj::object skip = user("skip@example.com", "S1");
  skip[kEnt].as_object()["manager"] = bj::object{{"value", "bulkId:rep"}};
  Reply r = post("/scim/v2/Bulk",
                 bulkOf(bj::array{
                     bulkOp("POST", "/Users", report, "rep"),
                     bulkOp("POST", "/Users", boss, "boss"), bulkOp("POST", "/Users", skip, "skip"),
                     bulkOp("PATCH", "/Users/bulkId:boss",
                            patchOf(R"([{"op":"replace","path":"title","value":"VP"}])"))}));
  ASSERT_EQ(r.status, 200) << r.body;
  bj::value j = r.json();
  EXPECT_EQ(j.at("schemas").at(0).as_string(),
            "urn:ietf:params:scim:api:messages:2.0:BulkResponse");
  std::map<std::string, std::string> status_by_bulk_id;
  for (const auto& op : j.at("Operations").as_array()) {
    if (op.as_object().contains("bulkId")) {
      status_by_bulk_id[std::string(op.at("bulkId").as_string())] =
          std::string(op.at("status").as_string());
      EXPECT_FALSE(op.at("location").as_string().empty());
    }
  }
  EXPECT_EQ(status_by_bulk_id,
            (std::map<std::string, std::string>{{"boss", "201"}, {"rep", "201"}, {"skip", "201"}}));
  EXPECT_EQ(j.at("Operations").as_array().size(), 4u);

  auto rep_found = get("/scim/v2/Users?filter=userName%20eq%20%22rep@example.com%22").json();
  auto boss_found = get("/scim/v2/Users?filter=userName%20eq%20%22boss@example.com%22").json();
  const std::string boss_id(boss_found.at("Resources").at(0).at("id").as_string());
  EXPECT_EQ(rep_found.at("Resources").at(0).at(kEnt).at("manager").at("value").as_string(),
            boss_id);
  EXPECT_EQ(boss_found.at("Resources").at(0).at("title").as_string(), "VP");
  EXPECT_EQ(storeOf(a_)->identity("R1").value()->manager_id, "B1");
  EXPECT_EQ(storeOf(a_)->identity("S1").value()->manager_id, "R1");

  // Every operation's run is named, in order.
  std::string runs = r.header("x-tenure-run-id");
  EXPECT_EQ(std::count(runs.begin(), runs.end(), ','), 3) << runs;
}

TEST_F(ScimTest, BulkFailOnErrorsStopsAfterThatManyErrors) {
  std::string existing = create(user("dup@example.com", "D1"));
  Reply r = post("/scim/v2/Bulk",
                 bulkOf(bj::array{bulkOp("POST", "/Users", user("dup@example.com", "D2"), "a"),
                                  bulkOp("POST", "/Users", user("ok@example.com", "O1"), "b"),
                                  bulkOp("DELETE", "/Users/nope", nullptr),
                                  bulkOp("POST", "/Users", user("never@example.com", "N1"), "c")},
                        2));
  ASSERT_EQ(r.status, 200) << r.body;
  auto ops = r.json().at("Operations").as_array();
  ASSERT_EQ(ops.size(), 3u) << "processing stops at the second error";
  EXPECT_EQ(ops[0].at("status").as_string(), "409");
  EXPECT_EQ(ops[0].at("response").at("scimType").as_string(), "uniqueness");
  EXPECT_EQ(ops[1].at("status").as_string(), "201");
  EXPECT_EQ(ops[2].at("status").as_string(), "404");
  EXPECT_EQ(get("/scim/v2/Users?filter=userName%20eq%20%22never@example.com%22")
                .json()
                .at("totalResults")
                .to_number<int64_t>(),
            0);
  EXPECT_EQ(get("/scim/v2/Users?filter=userName%20eq%20%22ok@example.com%22")
                .json()
                .at("totalResults")
                .to_number<int64_t>(),
            1);
}

TEST_F(ScimTest, BulkWithoutFailOnErrorsReportsEveryOperation) {
  bj::object orphan = user("orphan@example.com", "O1");
  orphan[kEnt].as_object()["manager"] = bj::object{{"value", "bulkId:ghost"}};
  bj::object bad = user("bad@example.com", "B1");
  bad[kTen] = bj::object{{"employmentType", "intern"}};  // needs an end date
  Reply r = post(
      "/scim/v2/Bulk",
      bulkOf(bj::array{bulkOp("POST", "/Users", orphan, "o"), bulkOp("POST", "/Users", bad, "b"),
                       bulkOp("POST", "/Users", user("fine@example.com", "F1"), "f"),
                       bulkOp("GET", "/Users", nullptr)}));
  ASSERT_EQ(r.status, 200) << r.body;
  auto ops = r.json().at("Operations").as_array();
  ASSERT_EQ(ops.size(), 4u);
  EXPECT_EQ(ops[0].at("status").as_string(), "409") << "unknown bulkId";
  EXPECT_EQ(ops[1].at("status").as_string(), "400");
  EXPECT_EQ(ops[1].at("response").at("scimType").as_string(), "invalidValue");
  EXPECT_EQ(ops[2].at("status").as_string(), "201");
  EXPECT_EQ(ops[3].at("status").as_string(), "400");
  EXPECT_EQ(runCount(a_), 1u) << "only the accepted operation became a run";
}

TEST_F(ScimTest, BulkCircularBulkIdReferencesFail) {
  bj::object x = user("x@example.com", "X1");
  x[kEnt].as_object()["manager"] = bj::object{{"value", "bulkId:y"}};
  bj::object y = user("y@example.com", "Y1");
  y[kEnt].as_object()["manager"] = bj::object{{"value", "bulkId:x"}};
  Reply r =
      post("/scim/v2/Bulk",
           bulkOf(bj::array{bulkOp("POST", "/Users", x, "x"), bulkOp("POST", "/Users", y, "y")}));
  ASSERT_EQ(r.status, 200) << r.body;
  const bj::value rj = r.json();
  for (const auto& op : rj.at("Operations").as_array()) {
    EXPECT_EQ(op.at("status").as_string(), "409");
  }
  EXPECT_EQ(runCount(a_), 0u);
}

TEST_F(ScimTest, BulkOverMaxOperationsOrMaxPayloadSizeIs413AndDoesNothing) {
  bj::array many;
  for (int i = 0; i < 1001; ++i) {
    many.push_back(bulkOp("DELETE", "/Users/x" + std::to_string(i), nullptr));
  }
  Reply ops = post("/scim/v2/Bulk", bulkOf(std::move(many)));
  expectScimError(ops, 413, "tooMany");

  bj::object big = user("big@example.com", "G1");
  big["displayName"] = std::string((1 << 20) + 1, 'x');
  Reply size = post("/scim/v2/Bulk", bulkOf(bj::array{bulkOp("POST", "/Users", big, "g")}));
  expectScimError(size, 413, "tooLarge");
  Reply single = post("/scim/v2/Users", big);
  expectScimError(single, 413, "tooLarge");
  EXPECT_EQ(runCount(a_), 0u);
  EXPECT_EQ(get("/scim/v2/Users").json().at("totalResults").to_number<int64_t>(), 0);
}

TEST_F(ScimTest, BulkOfExactlyMaxOperationsIsProcessed) {
  bj::array ops;
  for (int i = 0; i < 1000; ++i) {
    ops.push_back(bulkOp("DELETE", "/Users/x" + std::to_string(i), nullptr));
  }
  Reply r = post("/scim/v2/Bulk", bulkOf(std::move(ops)));
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  const bj::value j = r.json();
  EXPECT_EQ(j.at("Operations").as_array().size(), 1000u);
  EXPECT_EQ(j.at("Operations").at(999).at("status").as_string(), "404");
}

TEST_F(ScimTest, BulkOfTwoHundredCreatesQueuesOneRunEach) {
  bj::array ops;
  for (int i = 0; i < 200; ++i) {
    const std::string n = std::to_string(i);
    bj::object u = user("p" + n + "@example.com", "P" + n);
    if (i > 0) u[kEnt].as_object()["manager"] = bj::object{{"value", "bulkId:u0"}};
    ops.push_back(bulkOp("POST", "/Users", u, "u" + n));
  }
  auto t0 = std::chrono::steady_clock::now();
  Reply r = post("/scim/v2/Bulk", bulkOf(std::move(ops)));
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  std::cerr << "measured: Bulk of 200 creates answered in " << ms << " ms\n";
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  const bj::value j = r.json();
  for (const auto& op : j.at("Operations").as_array()) {
    ASSERT_EQ(op.at("status").as_string(), "201") << bj::serialize(op);
  }
  EXPECT_EQ(runCount(a_), 200u);
  EXPECT_EQ(storeOf(a_)->identity("P199").value()->manager_id, "P0");
  EXPECT_EQ(get("/scim/v2/Users?count=0").json().at("totalResults").to_number<int64_t>(), 200);
}

TEST_F(ScimTest, UnknownEndpointsAndMethodsAreScimErrors) {
  expectScimError(get("/scim/v2/Groups"), 404, "");
  expectScimError(get("/scim/v2"), 404, "");
  expectScimError(call("DELETE", "/scim/v2/Users", a_.api_token), 405, "");
  expectScimError(get("/scim/v2/Bulk"), 405, "");
}

}  // namespace
}  // namespace tenure::cp
