#pragma once
// A gtest fixture with one scripted HTTPS control plane (test_server.py) per test binary process,
// reset before every test.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "agent/transport/http_client.h"
#include "common/net/curl_http_client.h"
#include "tests/agent/transport/test_support.h"
#include "tests/support/suite_setup.h"

namespace tenure::agent {
// The Linux agent's HTTP client (agent/main/posix/platform.cpp) is common/net's.
using net::CurlHttpClient;
}  // namespace tenure::agent

namespace tenure::agent::testing {

class LoopbackServerTest : public ::testing::Test {
 protected:
  // Run by the suite's first test (tests/support/suite_setup.h: a failure is never a skip).
  static inline tenure::testing::SuiteSetup suite_setup_;
  static void setUpSuite() {
    clearProxyEnvironment();
    dir_ = new TempDir();
    ASSERT_TRUE(makeSelfSignedCert(dir_->path(), "server", "DNS:localhost,IP:127.0.0.1"));
    ASSERT_TRUE(makeSelfSignedCert(dir_->path(), "other", "DNS:localhost,IP:127.0.0.1"));
    auto s = startTestServer(dir_->path() / "server.pem", dir_->path() / "server.key");
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    server_ = std::move(s).value().release();
  }

  static void TearDownTestSuite() {
    suite_setup_ = {};  // the next suite sharing this fixture sets up again
    delete server_;
    server_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    suite_setup_.ensure(&setUpSuite);
    if (HasFatalFailure()) return;
    ASSERT_NE(server_, nullptr);
    control("POST", "/control/reset", "{}");
  }

  static std::filesystem::path caFile() { return dir_->path() / "server.pem"; }
  static std::filesystem::path otherCaFile() { return dir_->path() / "other.pem"; }
  static std::string baseUrl() { return "https://localhost:" + std::to_string(server_->port()); }

  static HttpClientSettings trustingSettings() {
    HttpClientSettings s;
    s.ca_file = caFile().string();
    return s;
  }

  // Talks to the server's control endpoints; fails the test on any problem.
  static boost::json::value control(const std::string& method, const std::string& path,
                                    const std::string& body = "") {
    CurlHttpClient http(trustingSettings());
    HttpRequest req;
    req.method = method;
    req.url = baseUrl() + path;
    req.body = body;
    auto r = http.send(req);
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    if (!r.isOk()) return nullptr;
    EXPECT_EQ(r->status, 200) << r->body;
    boost::system::error_code ec;
    auto v = boost::json::parse(r->body, ec);
    EXPECT_FALSE(ec) << r->body;
    return v;
  }

  static boost::json::object stats() { return control("GET", "/control/stats").as_object(); }

  static inline TempDir* dir_ = nullptr;
  static inline ChildServer* server_ = nullptr;
};

}  // namespace tenure::agent::testing
