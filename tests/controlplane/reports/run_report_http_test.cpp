// Run reports through the tenant API: real HTTPS on loopback, real SQLite, a result posted the
// way the agent posts it.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/controlplane/support/loopback_control_plane.h"

namespace tenure::cp {
namespace {

using testing::LoopbackControlPlane;

constexpr const char* kCsv =
    "employee_id,given_name,family_name,department,status\n"
    "E1,Ann,Lee,Sales,active\n"
    "E2,Bo,Park,Sales,active\n"
    "E3,,NoGiven,Sales,active\n";

constexpr const char* kResult = R"J({"status":"partial","domain_controller":"dc1.example.test",
 "outcomes":[
  {"employee_id":"E1","action":"created","state":"active","dn":"CN=Ann Lee,OU=Sales,DC=example,DC=test",
   "sam_account_name":"alee","operations":[
     {"kind":"create","dn":"CN=Ann Lee,OU=Sales,DC=example,DC=test","reason":"new hire","changes":["cn"]},
     {"kind":"add_member","dn":"CN=Ann Lee,OU=Sales,DC=example,DC=test","target":"CN=Sales Team,OU=Groups,DC=example,DC=test","reason":"rule sales-groups"}]},
  {"employee_id":"E2","action":"failed","state":"active","dn":"CN=Bo Park,OU=Sales,DC=example,DC=test",
   "error_class":"permission","error_message":"00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS)",
   "directory_code":50,"operations":[{"kind":"create","dn":"CN=Bo Park,OU=Sales,DC=example,DC=test","reason":"new hire"}]}]})J";

class RunReportHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = cp_.createTenant("A");
    b_ = cp_.createTenant("B");
    key_ = cp_.enroll(a_);
    run_id_ = cp_.uploadCsv(a_, kCsv);
    cp_.clock().advance(std::chrono::seconds(3));
    cp_.completeNextJob(key_, kResult);
  }
  testing::LoopbackResponse get(const std::string& path, const TenantCredentials& t) {
    return cp_.request("GET", path, "Bearer " + t.api_token);
  }

  LoopbackControlPlane cp_;
  TenantCredentials a_, b_;
  std::string key_;
  std::string run_id_;
};

TEST_F(RunReportHttpTest, JsonReportHasMetadataCountsReasonsRejectedRowsAndHints) {
  auto r = get("/api/v1/runs/" + run_id_ + "/report.json", a_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = r.json().as_object();
  const auto& run = j.at("run").as_object();
  EXPECT_EQ(run.at("status").as_string(), "partial");
  EXPECT_EQ(run.at("source").as_string(), "csv");
  EXPECT_EQ(run.at("dry_run").as_bool(), false);
  EXPECT_EQ(run.at("domain_controller").as_string(), "dc1.example.test");
  EXPECT_FALSE(run.at("agent_id").as_string().empty());
  EXPECT_EQ(j.at("counts").at("created").as_int64(), 1);
  EXPECT_EQ(j.at("counts").at("failed").as_int64(), 1);
  EXPECT_EQ(j.at("people").at(0).at("operations").at(1).at("reason").as_string(),
            "rule sales-groups");
  ASSERT_EQ(j.at("rejected").as_array().size(), 1u);
  EXPECT_EQ(j.at("rejected").at(0).at("employee_id").as_string(), "E3");
  std::string hint(j.at("errors").at(0).at("hint").as_string());
  EXPECT_NE(hint.find("grant"), std::string::npos) << hint;
  EXPECT_NE(hint.find("OU=Sales,DC=example,DC=test"), std::string::npos) << hint;
}

TEST_F(RunReportHttpTest, CsvIsADownloadWithOneRowPerOperation) {
  auto r = get("/api/v1/runs/" + run_id_ + "/report.csv", a_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type").rfind("text/csv", 0), 0u) << r.header("content-type");
  EXPECT_EQ(r.header("content-disposition"),
            "attachment; filename=\"tenure-run-" + run_id_ + "-report.csv\"");
  size_t lines = 0;
  for (size_t p = 0; (p = r.body.find("\r\n", p)) != std::string::npos; p += 2) ++lines;
  EXPECT_EQ(lines, 1u + 2u + 1u + 1u) << r.body;  // header, E1 x2, E2, rejected E3
  EXPECT_NE(r.body.find("rule sales-groups"), std::string::npos);
}

TEST_F(RunReportHttpTest, HtmlIsOnePageWithoutScriptsOrExternalResources) {
  auto r = get("/api/v1/runs/" + run_id_ + "/report.html", a_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type").rfind("text/html", 0), 0u);
  EXPECT_NE(r.header("content-security-policy").find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(r.header("content-disposition").rfind("inline", 0), 0u);
  EXPECT_EQ(r.body.find("<script"), std::string::npos);
  EXPECT_EQ(r.body.find("<link"), std::string::npos);
  EXPECT_NE(r.body.find("<style>"), std::string::npos);
  EXPECT_NE(r.body.find("INSUFF_ACCESS_RIGHTS"), std::string::npos);
  auto dl = get("/api/v1/runs/" + run_id_ + "/report.html?download=1", a_);
  EXPECT_EQ(dl.header("content-disposition").rfind("attachment", 0), 0u);
}

TEST_F(RunReportHttpTest, HtmlEscapesValuesTheAgentReported) {
  const std::string evil = R"J({"status":"succeeded","outcomes":[{"employee_id":"E9",
    "action":"updated","dn":"CN=<img src=x onerror=alert(1)>,DC=x",
    "operations":[{"kind":"modify","dn":"CN=x,DC=x","reason":"</td><script>alert(2)</script>"}]}]})J";
  std::string run = cp_.uploadCsv(a_, "employee_id,given_name,family_name,status\nE9,A,B,active\n");
  cp_.completeNextJob(key_, evil);
  auto r = get("/api/v1/runs/" + run + "/report.html", a_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("<script"), std::string::npos);
  EXPECT_EQ(r.body.find("<img"), std::string::npos);
  EXPECT_NE(r.body.find("&lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt;"), std::string::npos);
}

TEST_F(RunReportHttpTest, CsvNeutralisesFormulasTheAgentReported) {
  const std::string evil = R"J({"status":"succeeded","outcomes":[{"employee_id":"E9",
    "action":"updated","dn":"=HYPERLINK(\"http://evil\",\"x\")",
    "operations":[{"kind":"modify","dn":"@SUM(1+1)","reason":"+cmd|' /C calc'!A0","target":"-2+3"}]}]})J";
  std::string run = cp_.uploadCsv(a_, "employee_id,given_name,family_name,status\nE9,A,B,active\n");
  cp_.completeNextJob(key_, evil);
  auto r = get("/api/v1/runs/" + run + "/report.csv", a_);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(",\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\","), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(",'@SUM(1+1),"), std::string::npos);
  EXPECT_NE(r.body.find(",'+cmd|' /C calc'!A0,"), std::string::npos);
  EXPECT_NE(r.body.find(",'-2+3,"), std::string::npos);
  EXPECT_EQ(r.body.find(",=HYPERLINK"), std::string::npos);
}

TEST_F(RunReportHttpTest, RunListCarriesReportLinks) {
  auto r = get("/api/v1/runs", a_);
  ASSERT_EQ(r.status, 200);
  auto body = r.json();
  const auto& run = body.at("runs").at(0);
  EXPECT_EQ(run.at("reports").at("csv").as_string(), "/api/v1/runs/" + run_id_ + "/report.csv");
  EXPECT_EQ(run.at("reports").at("html").as_string(), "/api/v1/runs/" + run_id_ + "/report.html");
}

TEST_F(RunReportHttpTest, AnotherTenantsReportAnUnknownRunOrFormatAre404WithoutData) {
  for (const char* fmt : {"json", "csv", "html"}) {
    auto r = get("/api/v1/runs/" + run_id_ + "/report." + fmt, b_);
    EXPECT_EQ(r.status, 404) << fmt;
    EXPECT_EQ(r.body.find("E1"), std::string::npos);
  }
  EXPECT_EQ(get("/api/v1/runs/r_nope/report.json", a_).status, 404);
  EXPECT_EQ(get("/api/v1/runs/" + run_id_ + "/report.pdf", a_).status, 404);
  EXPECT_EQ(cp_.request("GET", "/api/v1/runs/" + run_id_ + "/report.csv", "").status, 401);
}

TEST_F(RunReportHttpTest, AHeldThenRejectedRunReportsItsPlanAndWhoDecided) {
  std::string run = cp_.uploadCsv(a_, "employee_id,given_name,family_name,status\nE1,Ann,Lee,terminated\n");
  auto poll = cp_.request("POST", "/agent/v1/poll", "NodeKey " + key_, R"({"wait_s":0})");
  ASSERT_EQ(poll.status, 200);
  const std::string plan = R"({"population":1000,"counts":{"disable":60},"outcomes":[
    {"employee_id":"E1","action":"disabled","state":"terminated","dn":"CN=Ann Lee,DC=x",
     "operations":[{"kind":"disable","dn":"CN=Ann Lee,DC=x","reason":"HR status terminated"}]}]})";
  auto held = cp_.request("POST", "/agent/v1/jobs/" + run + "/plan", "NodeKey " + key_, plan);
  ASSERT_EQ(held.status, 200) << held.body;
  ASSERT_TRUE(held.json().at("held").as_bool()) << held.body;
  std::string admin = cp_.createAdminToken("ops-bob");
  auto rejected = cp_.request("POST", "/admin/v1/tenants/" + a_.tenant.tenant_id + "/runs/" + run +
                                  "/reject", "Bearer " + admin, "{}");
  ASSERT_EQ(rejected.status, 200) << rejected.body;

  auto r = get("/api/v1/runs/" + run + "/report.json", a_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = r.json();
  EXPECT_TRUE(j.at("planned_only").as_bool());
  EXPECT_EQ(j.at("run").at("status").as_string(), "rejected");
  EXPECT_EQ(j.at("run").at("hold").at("rejected_by").as_string(), "ops-bob");
  EXPECT_NE(std::string(j.at("run").at("hold").at("reason").as_string()).find("disable"),
            std::string::npos);
  EXPECT_EQ(j.at("people").at(0).at("operations").at(0).at("reason").as_string(),
            "HR status terminated");
  auto html = get("/api/v1/runs/" + run + "/report.html", a_);
  EXPECT_NE(html.body.find("nothing was applied"), std::string::npos);
  EXPECT_NE(html.body.find("ops-bob"), std::string::npos);
  // Operators read the same report through the admin API.
  auto op = cp_.request("GET", "/admin/v1/tenants/" + a_.tenant.tenant_id + "/runs/" + run +
                            "/report.csv", "Bearer " + admin);
  EXPECT_EQ(op.status, 200);
  EXPECT_NE(op.body.find("HR status terminated"), std::string::npos);
}

}  // namespace
}  // namespace tenure::cp
