// ConnectorService with a real ControlPlaneService and SQLite stores in a temp dir, pulling over
// real HTTP from a fake BambooHR on loopback that answers in BambooHR's documented shapes.

#include "controlplane/connectors/connector_service.h"
#include "controlplane/api/control_plane_api.h"
#include "controlplane/service/control_plane_service.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <thread>

#include "common/net/curl_http_client.h"
#include "tests/controlplane/connectors/fake_hr_server.h"
#include "tests/controlplane/connectors/test_doubles.h"

namespace tenure::cp::connectors {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using testing::FakeHrServer;
using testing::FakeReply;
using testing::FakeRequest;

constexpr const char* kApiKey = "bhr-live-0123456789abcdef";

// A custom report in BambooHR's JSON shape: field definitions and the employees.
const char* kCustomReport = R"({
  "title": "Tenure HR pull",
  "fields": [
    {"id": "id", "type": "int", "name": "ID"},
    {"id": "firstName", "type": "text", "name": "First Name"},
    {"id": "lastName", "type": "text", "name": "Last Name"},
    {"id": "hireDate", "type": "date", "name": "Hire Date"},
    {"id": "terminationDate", "type": "date", "name": "Termination Date"},
    {"id": "status", "type": "status", "name": "Status"}
  ],
  "employees": [
    {"id": "100", "firstName": "Ada", "lastName": "King", "department": "Board",
     "jobTitle": "CEO", "location": "London", "supervisorEId": null,
     "hireDate": "2019-01-07", "terminationDate": "0000-00-00", "status": "Active",
     "employmentHistoryStatus": "Full-Time"},
    {"id": "101", "firstName": "Ben", "lastName": "Ode", "preferredName": "Benny",
     "department": "Engineering", "jobTitle": "Engineer", "location": "Berlin",
     "supervisorEId": "100", "hireDate": "2023-09-01", "terminationDate": "2024-08-31",
     "status": "Active", "employmentHistoryStatus": "Contractor"},
    {"id": "102", "firstName": "Cy", "lastName": "Lu", "supervisorEId": "100",
     "hireDate": "2018-05-02", "terminationDate": "2025-10-31", "status": "Inactive",
     "employmentHistoryStatus": "Terminated"}
  ]
})";

// A dataset page (v2 shape): rows wrap their values in "fields"; links.next until the last page.
std::string datasetPage(int page, int pages, const std::string& base) {
  bj::array data;
  for (int i = 0; i < 2; ++i) {
    const int id = page * 10 + i;
    data.push_back(bj::object{
        {"fields", bj::object{{"id", std::to_string(id)},
                              {"firstName", "P" + std::to_string(id)},
                              {"lastName", "Person"},
                              {"hireDate", "2020-01-01"},
                              {"status", "Active"}}}});
  }
  bj::object links;
  if (page < pages) links["next"] = base + "?page=" + std::to_string(page + 1) + "&page_size=2";
  return bj::serialize(bj::object{
      {"data", std::move(data)},
      {"links", std::move(links)},
      {"meta", bj::object{{"page", page}, {"pageSize", 2}, {"totalPages", pages},
                          {"totalItems", pages * 2}}}});
}

int pageOf(const std::string& target) {
  auto p = target.find("page=");
  return p == std::string::npos ? 1 : std::stoi(target.substr(p + 5));
}

struct Captured {
  std::atomic<bool> done{false};
  HttpServerResponse response;
  bj::value json() const { return bj::parse(response.body); }
};

class ConnectorServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tenure-conn-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    control_ = std::move(ControlStore::open((dir_ / "control.db").string(), clock_).value());
    tenants_ = std::make_unique<TenantStores>((dir_ / "tenants").string(), clock_);
    service_ = std::make_unique<ControlPlaneService>(
        io_, *control_, *tenants_, clock_, ServiceOptions{},
        ServiceCollaborators{.tickets = &tickets_, .secrets = &secrets_});
    makeConnectors(&secrets_);
    a_ = control_->createTenant("A").value();
    b_ = control_->createTenant("B").value();
  }

  // The connector service (sealing API keys with `secrets`, none when null) and the API over it.
  void makeConnectors(SecretBox* secrets) {
    api_.reset();
    connectors_.reset();
    ConnectorServiceOptions o;
    o.http.max_attempts = 3;
    o.http.backoff_initial = milliseconds(1);
    o.sleeper = [this](milliseconds d) { sleeps_.push_back(d); };
    connectors_ = std::make_unique<ConnectorService>(service_->intake(), tickets_, secrets,
                                                     *tenants_, clock_, http_, o);
    api_ = std::make_unique<api::ControlPlaneApi>(api::ApiComponents{
        *control_, *tenants_, clock_, *service_, nullptr, nullptr, connectors_.get()});
  }

  void TearDown() override {
    connectors_.reset();
    api_.reset();
    service_.reset();
    fs::remove_all(dir_);
  }

  // Through the service's front door, as an HTTP client would; waits for asynchronous answers.
  std::shared_ptr<Captured> call(const std::string& method, const std::string& path,
                                 const TenantCredentials& t, const std::string& body = "") {
    HttpServerRequest req;
    req.method = method;
    req.path = path;
    req.target = path;
    req.headers["authorization"] = "Bearer " + t.api_token;
    req.headers["content-type"] = "application/json";
    req.body = body;
    auto c = std::make_shared<Captured>();
    api_->handle(std::move(req), [c](HttpServerResponse r) {
      if (c->done) return;
      c->response = std::move(r);
      c->done = true;
    });
    for (int i = 0; i < 3000 && !c->done; ++i) std::this_thread::sleep_for(milliseconds(10));
    EXPECT_TRUE(c->done) << method << " " << path << " was not answered";
    return c;
  }

  std::shared_ptr<Captured> configure(const FakeHrServer& server, const std::string& extra = "") {
    return call("PUT", "/api/v1/connectors/bamboohr", a_,
                R"({"company_domain": "acme", "base_url": ")" + server.url() +
                    R"(", "api_key": ")" + kApiKey + R"(", "timeout_s": 5)" + extra + "}");
  }

  std::vector<RunRecord> runs(const TenantCredentials& t) {
    return tenants_->forTenant(t.tenant.tenant_id).value()->listRuns().value();
  }

  fs::path dir_;
  ManualClock clock_;
  boost::asio::io_context io_;
  std::unique_ptr<ControlStore> control_;
  std::unique_ptr<TenantStores> tenants_;
  std::unique_ptr<ControlPlaneService> service_;
  std::unique_ptr<api::ControlPlaneApi> api_;
  net::CurlHttpClient http_{[] {
    net::HttpClientSettings s;
    s.user_agent = "tenure-cp";
    s.default_content_type.clear();
    return s;
  }()};
  std::unique_ptr<ConnectorService> connectors_;
  testing::TestSecretBox secrets_;
  testing::RecordingTicketRaiser tickets_;
  std::vector<milliseconds> sleeps_;
  TenantCredentials a_, b_;
};

TEST_F(ConnectorServiceTest, ACustomReportPullQueuesARunOfMappedRecords) {
  FakeHrServer server([](const FakeRequest&) { return FakeReply{200, kCustomReport}; });
  ASSERT_EQ(configure(server)->response.status, 200);

  auto pull = call("POST", "/api/v1/connectors/bamboohr/pull", a_);
  ASSERT_EQ(pull->response.status, 202) << pull->response.body;
  const std::string run_id(pull->json().at("run_id").as_string());
  EXPECT_EQ(pull->json().at("records").as_int64(), 3);

  // The request BambooHR documents: POST .../v1/reports/custom?format=JSON with the field list.
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/api/gateway.php/acme/v1/reports/custom?format=JSON");
  EXPECT_EQ(reqs[0].content_type, "application/json");
  EXPECT_EQ(reqs[0].accept, "application/json");
  const auto fields = bj::parse(reqs[0].body).at("fields").as_array();
  EXPECT_NE(std::find(fields.begin(), fields.end(), bj::value("supervisorEId")), fields.end());

  auto store = tenants_->forTenant(a_.tenant.tenant_id).value();
  auto run = store->run(run_id).value();
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->source, "bamboohr");
  auto ids = store->runIdentities(run_id).value();
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[1].employee_id, "101");
  EXPECT_EQ(ids[1].preferred_name, "Benny");
  EXPECT_EQ(ids[1].manager_id, "100");
  EXPECT_EQ(ids[1].employment_type, "contractor");
  EXPECT_EQ(ids[1].start_date, "2023-09-01");
  EXPECT_EQ(ids[1].end_date, "2024-08-31");
  EXPECT_EQ(ids[0].end_date, "") << "0000-00-00 means no date";
  EXPECT_EQ(ids[0].manager_id, "") << "null means empty";
  EXPECT_EQ(ids[2].status, "terminated");
  EXPECT_EQ(ids[2].end_date, "2025-10-31");

  auto got = call("GET", "/api/v1/connectors/bamboohr", a_);
  ASSERT_EQ(got->response.status, 200);
  const bj::object last = got->json().at("last_pull").as_object();
  EXPECT_EQ(last.at("status").as_string(), "succeeded");
  EXPECT_EQ(last.at("run_id").as_string(), run_id);
  EXPECT_EQ(last.at("records").as_int64(), 3);
  EXPECT_EQ(last.at("rejected_count").as_int64(), 0);
  EXPECT_FALSE(last.at("last_pull_at").is_null());
}

TEST_F(ConnectorServiceTest, TheApiKeyIsNeverAnsweredAndIsStoredOnlySealed) {
  FakeHrServer server([](const FakeRequest&) { return FakeReply{200, kCustomReport}; });
  auto put = configure(server);
  ASSERT_EQ(put->response.status, 200) << put->response.body;
  EXPECT_EQ(put->response.body.find(kApiKey), std::string::npos);
  EXPECT_TRUE(put->json().at("api_key_set").as_bool());
  auto got = call("GET", "/api/v1/connectors/bamboohr", a_);
  EXPECT_EQ(got->response.body.find(kApiKey), std::string::npos);
  EXPECT_FALSE(got->json().as_object().contains("api_key"));

  // Changing a setting without the key keeps the stored key, and pulls still authenticate.
  auto put2 = call("PUT", "/api/v1/connectors/bamboohr", a_,
                   R"({"company_domain": "acme", "base_url": ")" + server.url() +
                       R"(", "mode": "custom_report"})");
  ASSERT_EQ(put2->response.status, 200) << put2->response.body;
  ASSERT_EQ(connectors_->pull(a_.tenant.tenant_id).http_status, 202);
  EXPECT_EQ(server.requests().at(0).authorization,
            "Basic YmhyLWxpdmUtMDEyMzQ1Njc4OWFiY2RlZjp4");  // base64(key + ":x")

  // Not in the tenant database file in clear.
  std::ifstream f(dir_ / "tenants" / (a_.tenant.tenant_id + ".db"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::ifstream w(dir_ / "tenants" / (a_.tenant.tenant_id + ".db-wal"), std::ios::binary);
  bytes.append((std::istreambuf_iterator<char>(w)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.find(kApiKey), std::string::npos);
}

TEST_F(ConnectorServiceTest, AFirstPutWithoutAnApiKeyIsRefused) {
  FakeHrServer server([](const FakeRequest&) { return FakeReply{200, kCustomReport}; });
  auto put = call("PUT", "/api/v1/connectors/bamboohr", a_,
                  R"({"company_domain": "acme", "base_url": ")" + server.url() + R"("})");
  EXPECT_EQ(put->response.status, 400);
}

TEST_F(ConnectorServiceTest, PlainHttpToAnotherHostIsRefused) {
  auto put = call("PUT", "/api/v1/connectors/bamboohr", a_,
                  R"({"company_domain": "acme", "base_url": "http://bamboo.example.com",
                      "api_key": "k"})");
  EXPECT_EQ(put->response.status, 400);
  EXPECT_NE(put->response.body.find("https"), std::string::npos);
}

TEST_F(ConnectorServiceTest, WithoutASecretBoxNothingIsStored) {
  makeConnectors(nullptr);
  FakeHrServer server([](const FakeRequest&) { return FakeReply{200, kCustomReport}; });
  EXPECT_EQ(configure(server)->response.status, 503);
  EXPECT_EQ(call("GET", "/api/v1/connectors/bamboohr", a_)->response.status, 404);
}

TEST_F(ConnectorServiceTest, AnotherTenantSeesNoConnectorAndCannotPullIt) {
  FakeHrServer server([](const FakeRequest&) { return FakeReply{200, kCustomReport}; });
  ASSERT_EQ(configure(server)->response.status, 200);
  auto got = call("GET", "/api/v1/connectors/bamboohr", b_);
  EXPECT_EQ(got->response.status, 404);
  EXPECT_EQ(got->response.body.find("acme"), std::string::npos);
  EXPECT_EQ(call("POST", "/api/v1/connectors/bamboohr/pull", b_)->response.status, 404);
  EXPECT_EQ(server.requestCount(), 0u);
}

TEST_F(ConnectorServiceTest, DirectoryModeReadsTheDocumentedDirectoryShape) {
  FakeHrServer server([](const FakeRequest&) {
    return FakeReply{200, R"({"fields": [{"id": "displayName", "type": "text",
        "name": "Display name"}], "employees": [{"id": "7", "displayName": "Eve Ng",
        "firstName": "Eve", "lastName": "Ng", "jobTitle": "Analyst", "department": "Finance",
        "location": "Oslo", "supervisor": "Ada King"}]})"};
  });
  ASSERT_EQ(configure(server, R"(, "mode": "directory")")->response.status, 200);
  PullOutcome out = connectors_->pull(a_.tenant.tenant_id);
  ASSERT_EQ(out.http_status, 202) << bj::serialize(out.body);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].target, "/api/gateway.php/acme/v1/employees/directory");
  auto ids = tenants_->forTenant(a_.tenant.tenant_id).value()->runIdentities(out.run_id).value();
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0].title, "Analyst");
  EXPECT_EQ(ids[0].manager_id, "") << "the directory's supervisor is a name, not an id";
}

TEST_F(ConnectorServiceTest, DatasetPagingReadsEveryPageBeforeSubmitting) {
  std::string base;
  FakeHrServer server([&](const FakeRequest& r) {
    return FakeReply{200, datasetPage(pageOf(r.target), 3, base)};
  });
  base = server.url() + "/api/gateway.php/acme/v1/datasets/employee";
  ASSERT_EQ(configure(server, R"(, "mode": "dataset", "page_size": 2)")->response.status, 200);
  PullOutcome out = connectors_->pull(a_.tenant.tenant_id);
  ASSERT_EQ(out.http_status, 202) << bj::serialize(out.body);
  EXPECT_EQ(out.body.at("records").as_int64(), 6);
  EXPECT_EQ(out.body.at("pages").as_int64(), 3);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].target, "/api/gateway.php/acme/v1/datasets/employee?page=1&page_size=2");
  EXPECT_EQ(reqs[2].target, "/api/gateway.php/acme/v1/datasets/employee?page=3&page_size=2");
  EXPECT_EQ(reqs[0].method, "POST");
  auto ids = tenants_->forTenant(a_.tenant.tenant_id).value()->runIdentities(out.run_id).value();
  ASSERT_EQ(ids.size(), 6u);
  EXPECT_EQ(ids[5].employee_id, "31");
}

TEST_F(ConnectorServiceTest, DatasetPagingByPageNumbersWhenThereAreNoLinks) {
  FakeHrServer server([&](const FakeRequest& r) {
    auto page = bj::parse(datasetPage(pageOf(r.target), 2, "")).as_object();
    page.erase("links");
    return FakeReply{200, bj::serialize(page)};
  });
  ASSERT_EQ(configure(server, R"(, "mode": "dataset", "page_size": 2)")->response.status, 200);
  PullOutcome out = connectors_->pull(a_.tenant.tenant_id);
  ASSERT_EQ(out.http_status, 202) << bj::serialize(out.body);
  EXPECT_EQ(out.body.at("records").as_int64(), 4);
  EXPECT_EQ(server.requestCount(), 2u);
}

TEST_F(ConnectorServiceTest, ANextLinkToAnotherHostIsNotFollowed) {
  FakeHrServer server([&](const FakeRequest&) {
    auto page = bj::parse(datasetPage(1, 2, "")).as_object();
    page["links"] = bj::object{{"next", "https://collector.example.net/steal?page=2"}};
    return FakeReply{200, bj::serialize(page)};
  });
  ASSERT_EQ(configure(server, R"(, "mode": "dataset")")->response.status, 200);
  PullOutcome out = connectors_->pull(a_.tenant.tenant_id);
  EXPECT_EQ(out.http_status, 502);
  EXPECT_EQ(server.requestCount(), 1u);
  EXPECT_TRUE(runs(a_).empty());
}

TEST_F(ConnectorServiceTest, AFailingPageSubmitsNothingRaisesATicketAndTheNextSuccessClearsIt) {
  std::atomic<bool> broken{true};
  std::string base;
  FakeHrServer server([&](const FakeRequest& r) {
    const int page = pageOf(r.target);
    if (page == 2 && broken) return FakeReply{500, "internal"};
    return FakeReply{200, datasetPage(page, 3, base)};
  });
  base = server.url() + "/api/gateway.php/acme/v1/datasets/employee";
  ASSERT_EQ(configure(server, R"(, "mode": "dataset")")->response.status, 200);

  auto pull = call("POST", "/api/v1/connectors/bamboohr/pull", a_);
  EXPECT_EQ(pull->response.status, 502) << pull->response.body;
  EXPECT_TRUE(runs(a_).empty()) << "no partial HR state: page 1 was read but not submitted";
  EXPECT_EQ(sleeps_.size(), 2u) << "page 2 was retried with backoff";
  auto raised = tickets_.raised();
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].tenant_id, a_.tenant.tenant_id);
  EXPECT_EQ(raised[0].detector, "hr_feed");
  EXPECT_EQ(raised[0].subject, "bamboohr");
  EXPECT_FALSE(raised[0].hint.empty());
  EXPECT_EQ(raised[0].summary.find(kApiKey), std::string::npos);
  auto got = call("GET", "/api/v1/connectors/bamboohr", a_);
  EXPECT_EQ(got->json().at("last_pull").at("status").as_string(), "failed");
  EXPECT_NE(std::string(got->json().at("last_pull").at("last_error").as_string()).find("500"),
            std::string::npos);
  EXPECT_TRUE(tickets_.cleared().empty());

  broken = false;
  EXPECT_TRUE(connectors_->pullNow(a_.tenant.tenant_id).isOk());
  EXPECT_EQ(runs(a_).size(), 1u);
  auto cleared = tickets_.cleared();
  ASSERT_EQ(cleared.size(), 1u);
  EXPECT_EQ(cleared[0].tenant_id, a_.tenant.tenant_id);
  EXPECT_EQ(cleared[0].detector, "hr_feed");
  EXPECT_EQ(cleared[0].subject, "bamboohr");
}

TEST_F(ConnectorServiceTest, A500ThenSuccessIsRetriedWithinOnePull) {
  std::atomic<int> n{0};
  FakeHrServer server([&](const FakeRequest&) {
    return ++n == 1 ? FakeReply{500, "busy"} : FakeReply{200, kCustomReport};
  });
  ASSERT_EQ(configure(server)->response.status, 200);
  EXPECT_TRUE(connectors_->pullNow(a_.tenant.tenant_id).isOk());
  EXPECT_EQ(server.requestCount(), 2u);
  EXPECT_TRUE(tickets_.raised().empty());
}

TEST_F(ConnectorServiceTest, A401FailsThePullWithAPermissionTicket) {
  FakeHrServer server([](const FakeRequest&) { return FakeReply{401, ""}; });
  ASSERT_EQ(configure(server)->response.status, 200);
  Status st = connectors_->pullNow(a_.tenant.tenant_id);
  EXPECT_EQ(st.errorClass(), ErrorClass::kPermission);
  EXPECT_EQ(server.requestCount(), 1u);
  ASSERT_EQ(tickets_.raised().size(), 1u);
  EXPECT_NE(tickets_.raised()[0].hint.find("API key"), std::string::npos);
  EXPECT_TRUE(runs(a_).empty());
}

TEST_F(ConnectorServiceTest, MalformedJsonFailsThePull) {
  FakeHrServer server([](const FakeRequest&) { return FakeReply{200, "<html>login</html>"}; });
  ASSERT_EQ(configure(server)->response.status, 200);
  EXPECT_EQ(connectors_->pullNow(a_.tenant.tenant_id).errorClass(), ErrorClass::kData);
  EXPECT_EQ(tickets_.raised().size(), 1u);
  EXPECT_TRUE(runs(a_).empty());
}

TEST_F(ConnectorServiceTest, AStallingServerTimesOutAndFailsThePull) {
  FakeHrServer server(
      [](const FakeRequest&) { return FakeReply{200, kCustomReport, {}, milliseconds(30'000)}; });
  ASSERT_EQ(configure(server, R"(, "timeout_s": 1)")->response.status, 200);
  Status st = connectors_->pullNow(a_.tenant.tenant_id);
  EXPECT_EQ(st.errorClass(), ErrorClass::kTransient);
  EXPECT_EQ(server.requestCount(), 3u) << "each attempt timed out and was retried";
  EXPECT_EQ(tickets_.raised().size(), 1u);
  EXPECT_TRUE(runs(a_).empty());
}

TEST_F(ConnectorServiceTest, A429IsRetriedAfterTheServersRetryAfter) {
  std::atomic<int> n{0};
  FakeHrServer server([&](const FakeRequest&) {
    return ++n == 1 ? FakeReply{429, "", {{"Retry-After", "3"}}} : FakeReply{200, kCustomReport};
  });
  ASSERT_EQ(configure(server)->response.status, 200);
  EXPECT_TRUE(connectors_->pullNow(a_.tenant.tenant_id).isOk());
  EXPECT_EQ(sleeps_, (std::vector<milliseconds>{milliseconds(3'000)}));
}

TEST_F(ConnectorServiceTest, BadRowsAreReportedAsRejectedAndNotApplied) {
  FakeHrServer server([](const FakeRequest&) {
    return FakeReply{200, R"({"fields": [], "employees": [
        {"id": "1", "firstName": "Al", "lastName": "Ba", "hireDate": "2020-02-30"},
        {"id": "2", "firstName": "Cy", "lastName": "Do"},
        {"id": "", "firstName": "No", "lastName": "Id"},
        {"id": "4", "firstName": "Ed", "lastName": "Fu", "employmentHistoryStatus": "Pirate"}]})"};
  });
  ASSERT_EQ(configure(server)->response.status, 200);
  PullOutcome out = connectors_->pull(a_.tenant.tenant_id);
  ASSERT_EQ(out.http_status, 202) << bj::serialize(out.body);
  EXPECT_EQ(out.body.at("accepted").as_int64(), 1);
  EXPECT_EQ(out.body.at("rejected_count").as_int64(), 3);
  auto ids = tenants_->forTenant(a_.tenant.tenant_id).value()->runIdentities(out.run_id).value();
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0].employee_id, "2");
  auto state = connectors_->pullState(a_.tenant.tenant_id).value();
  EXPECT_EQ(state.rejected, 3);
  EXPECT_EQ(state.records, 4);
}

TEST_F(ConnectorServiceTest, FieldMappingOverridesApplyToPulls) {
  FakeHrServer server([](const FakeRequest&) {
    return FakeReply{200, R"({"employees": [
        {"id": "1", "employeeNumber": "E-1", "firstName": "Al", "lastName": "Ba",
         "supervisorId": "E-0", "workEmail": "al@example.com"}]})"};
  });
  ASSERT_EQ(configure(server, R"(, "field_mapping": {"id": "", "employeeNumber": "employee_id",
      "supervisorEId": "", "supervisorId": "manager_id", "workEmail": "custom.mail"})")
                ->response.status,
            200);
  PullOutcome out = connectors_->pull(a_.tenant.tenant_id);
  ASSERT_EQ(out.http_status, 202) << bj::serialize(out.body);
  auto ids = tenants_->forTenant(a_.tenant.tenant_id).value()->runIdentities(out.run_id).value();
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0].employee_id, "E-1");
  EXPECT_EQ(ids[0].manager_id, "E-0");
  EXPECT_EQ(ids[0].custom.at("mail"), "al@example.com");
  const auto fields = bj::parse(server.requests()[0].body).at("fields").as_array();
  EXPECT_NE(std::find(fields.begin(), fields.end(), bj::value("workEmail")), fields.end());
  EXPECT_EQ(std::find(fields.begin(), fields.end(), bj::value("supervisorEId")), fields.end());

  auto got = call("GET", "/api/v1/connectors/bamboohr", a_);
  EXPECT_EQ(got->json().at("field_mapping").at("workEmail").as_string(), "custom.mail");
  auto bad = configure(server, R"(, "field_mapping": {"x": "shoe_size"})");
  EXPECT_EQ(bad->response.status, 400);
}

TEST_F(ConnectorServiceTest, AnEmptyEmployeeListIsAFailedFeedNotAnEmptyCompany) {
  FakeHrServer server([](const FakeRequest&) { return FakeReply{200, R"({"employees": []})"}; });
  ASSERT_EQ(configure(server)->response.status, 200);
  EXPECT_FALSE(connectors_->pullNow(a_.tenant.tenant_id).isOk());
  EXPECT_TRUE(runs(a_).empty());
  EXPECT_EQ(tickets_.raised().size(), 1u);
}

TEST_F(ConnectorServiceTest, ASecondPullWhileOneIsRunningIsRefused) {
  FakeHrServer server(
      [](const FakeRequest&) { return FakeReply{200, kCustomReport, {}, milliseconds(1'000)}; });
  ASSERT_EQ(configure(server)->response.status, 200);
  std::thread first([&] { EXPECT_TRUE(connectors_->pullNow(a_.tenant.tenant_id).isOk()); });
  for (int i = 0; i < 500 && server.requestCount() == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(server.requestCount(), 1u);
  EXPECT_EQ(connectors_->pullNow(a_.tenant.tenant_id).errorClass(), ErrorClass::kConflict);
  EXPECT_EQ(call("POST", "/api/v1/connectors/bamboohr/pull", a_)->response.status, 409);
  first.join();
  EXPECT_EQ(runs(a_).size(), 1u);
  EXPECT_EQ(server.requestCount(), 1u);
}

TEST_F(ConnectorServiceTest, DeleteRemovesTheConnectorAndClearsItsTicket) {
  FakeHrServer server([](const FakeRequest&) { return FakeReply{500, ""}; });
  ASSERT_EQ(configure(server)->response.status, 200);
  EXPECT_FALSE(connectors_->pullNow(a_.tenant.tenant_id).isOk());
  EXPECT_EQ(call("DELETE", "/api/v1/connectors/bamboohr", a_)->response.status, 200);
  EXPECT_EQ(tickets_.cleared().size(), 1u);
  EXPECT_EQ(call("GET", "/api/v1/connectors/bamboohr", a_)->response.status, 404);
  EXPECT_EQ(connectors_->pullNow(a_.tenant.tenant_id).errorClass(), ErrorClass::kNotFound);
  EXPECT_EQ(call("DELETE", "/api/v1/connectors/bamboohr", a_)->response.status, 404);
}

}  // namespace
}  // namespace tenure::cp::connectors
