// `tenure-cp preview` above the outbound HTTP seam, without a control plane: the dry-run upload
// and the run polls it sends, and how it reads the answers (FakeHttpClient). The whole command
// against a real control plane and agent: tests/integration.

#include "controlplane/main/preview.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/mocks/fake_http_client.h"

namespace tenure::cp {
namespace {

namespace fs = std::filesystem;
using tenure::testing::FakeHttpClient;

class PreviewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    file_ = fs::temp_directory_path() /
            ("tenure-preview-" + std::to_string(::getpid()) + "-" + name + ".csv");
    std::ofstream(file_) << "employee_id,given_name\nE1,Ada\n";
    options_.url = "https://cp.example.test:8443";
    options_.token = "tok-123";
    options_.file = file_.string();
    options_.poll_interval = std::chrono::milliseconds(0);
    options_.timeout = std::chrono::seconds(30);
  }
  void TearDown() override { fs::remove(file_); }

  int run() { return runPreview(http_, options_, out_, err_); }

  fs::path file_;
  PreviewOptions options_;
  FakeHttpClient http_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(PreviewTest, UploadsADryRunThenPollsTheRunUntilItIsDoneAndPrintsThePlan) {
  http_.reply(202, R"({"run_id":"r-1","status":"queued","accepted":1,"rejected_count":0})");
  http_.reply(200, R"({"run_id":"r-1","status":"running"})");
  http_.reply(503, R"({"error":"unavailable"})");  // a store fault is waited out
  http_.reply(200, R"({"run_id":"r-1","status":"succeeded","policy_version":3,
    "report":{"counts":{"created":1},"identities":[{"employee_id":"E1",
    "sam_account_name":"alovelace","action":"created","operations":[{"kind":"create",
    "target":"CN=Ada,OU=Staff","reason":"new hire"}]}]}})");
  EXPECT_EQ(run(), 0) << err_.str();

  auto sent = http_.requests();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0].method, "POST");
  EXPECT_EQ(sent[0].url, "https://cp.example.test:8443/api/v1/hr/records?dry_run=true");
  EXPECT_EQ(sent[0].body, "employee_id,given_name\nE1,Ada\n");
  const net::HttpHeaders upload_headers{{"Authorization", "Bearer tok-123"},
                                        {"Content-Type", "text/csv"}};
  EXPECT_EQ(sent[0].headers, upload_headers);
  for (size_t i = 1; i < sent.size(); ++i) {
    EXPECT_EQ(sent[i].method, "GET");
    EXPECT_EQ(sent[i].url, "https://cp.example.test:8443/api/v1/runs/r-1");
    EXPECT_TRUE(sent[i].body.empty());
    EXPECT_EQ(sent[i].headers, (net::HttpHeaders{{"Authorization", "Bearer tok-123"}}));
  }
  const std::string out = out_.str();
  EXPECT_NE(out.find("Preview r-1: succeeded (policy version 3; nothing was changed)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("E1 (alovelace): created"), std::string::npos) << out;
  EXPECT_NE(out.find("- create -> CN=Ada,OU=Staff: new hire"), std::string::npos) << out;
}

TEST_F(PreviewTest, ATransportFailureIsExitCode2WithTheClientsMessage) {
  http_.fail(
      configError("POST https://cp.example.test:8443/api/v1/hr/records: certificate "
                  "verify failed"));
  EXPECT_EQ(run(), 2);
  EXPECT_NE(err_.str().find("certificate verify failed"), std::string::npos) << err_.str();
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(PreviewTest, EveryRowRejectedIsExitCode1WithoutPolling) {
  http_.reply(422, R"({"rejected":[{"reason":"row 2: employee_id is required"}]})");
  EXPECT_EQ(run(), 1);
  EXPECT_NE(out_.str().find("row 2: employee_id is required"), std::string::npos) << out_.str();
  EXPECT_EQ(http_.requests().size(), 1u);
}

}  // namespace
}  // namespace tenure::cp
