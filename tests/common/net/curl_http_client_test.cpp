// What CurlHttpClient does for the control plane's callers, against a real HTTP server on
// loopback (the connectors' FakeHrServer): per-request overrides, basic auth, response headers,
// truncated answers, https only, methods. The agent's side of the same client (TLS, proxies,
// keep-alive, abort): tests/agent/transport/curl_http_client_test.cpp.

#include "common/net/curl_http_client.h"

#include <gtest/gtest.h>

#include "tests/controlplane/connectors/fake_hr_server.h"

namespace tenure::net {
namespace {

using std::chrono::milliseconds;
using tenure::testing::FakeHrServer;
using tenure::testing::FakeReply;
using tenure::testing::FakeRequest;

HttpClientSettings controlPlaneSettings() {
  HttpClientSettings s;
  s.user_agent = "tenure-cp";
  s.default_content_type.clear();
  return s;
}

TEST(CurlHttpClientNetTest, SendsBasicAuthFromTheRequestNotFromAHeader) {
  FakeHrServer server([](const FakeRequest&) { return FakeReply{200, "{}"}; });
  CurlHttpClient http(controlPlaneSettings());
  HttpRequest req;
  req.method = "GET";
  req.url = server.url() + "/employees?x=1";
  req.basic_auth = BasicAuth{"key", "x"};
  auto r = http.send(req);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 200);
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, "/employees?x=1");
  EXPECT_EQ(seen[0].authorization, "Basic a2V5Ong=");  // base64("key:x")
  EXPECT_EQ(seen[0].content_type, "");  // no default Content-Type for the control plane
}

TEST(CurlHttpClientNetTest, ReturnsTheAnswersHeadersCaseInsensitively) {
  FakeHrServer server([](const FakeRequest&) {
    FakeReply reply{429, "slow down"};
    reply.headers["Retry-After"] = "7";
    reply.headers["Content-Type"] = "text/plain";
    return reply;
  });
  CurlHttpClient http(controlPlaneSettings());
  HttpRequest req;
  req.method = "GET";
  req.url = server.url() + "/";
  auto r = http.send(req);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->body, "slow down");
  EXPECT_EQ(r->header("retry-after"), "7");
  EXPECT_EQ(r->header("RETRY-AFTER"), "7");
  EXPECT_EQ(r->content_type, "text/plain");
  EXPECT_EQ(r->header("X-Not-There"), "");
}

TEST(CurlHttpClientNetTest, SendsOtherMethodsWithTheirBodyAndTheCallersContentType) {
  FakeHrServer server([](const FakeRequest&) { return FakeReply{200, "{}"}; });
  CurlHttpClient http(controlPlaneSettings());
  HttpRequest req;
  req.method = "PATCH";
  req.url = server.url() + "/incident/1";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = R"({"state":"6"})";
  ASSERT_TRUE(http.send(req).isOk());
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "PATCH");
  EXPECT_EQ(seen[0].body, R"({"state":"6"})");
  EXPECT_EQ(seen[0].content_type, "application/json");
}

TEST(CurlHttpClientNetTest, APerRequestCapRefusesALargerAnswer) {
  FakeHrServer server([](const FakeRequest&) { return FakeReply{200, std::string(5000, 'a')}; });
  CurlHttpClient http(controlPlaneSettings());
  HttpRequest req;
  req.method = "GET";
  req.url = server.url() + "/big?token=secret";
  req.max_response_bytes = 1000;
  auto r = http.send(req);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kData);
  EXPECT_EQ(r.status().message().find("secret"), std::string::npos) << r.status().message();
}

TEST(CurlHttpClientNetTest, ATruncatingRequestKeepsTheStartOfALargerAnswer) {
  FakeHrServer server([](const FakeRequest&) {
    return FakeReply{201, std::string(3000, 'a') + std::string(3000, 'b')};
  });
  CurlHttpClient http(controlPlaneSettings());
  HttpRequest req;
  req.url = server.url() + "/create";
  req.body = "{}";
  req.max_response_bytes = 3000;
  req.truncate_response = true;
  auto r = http.send(req);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, std::string(3000, 'a'));
}

TEST(CurlHttpClientNetTest, HttpsOnlyRefusesPlainHttpBeforeConnecting) {
  FakeHrServer server([](const FakeRequest&) { return FakeReply{200, "{}"}; });
  HttpClientSettings s = controlPlaneSettings();
  s.https_only = true;
  CurlHttpClient http(s);
  HttpRequest req;
  req.method = "GET";
  req.url = server.url() + "/";
  auto r = http.send(req);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kConfig);
  EXPECT_TRUE(server.requests().empty());
}

TEST(CurlHttpClientNetTest, AStallingServerTimesOutWithinTheRequestsTimeout) {
  FakeHrServer server([](const FakeRequest&) {
    FakeReply reply{200, "{}"};
    reply.stall = milliseconds(5'000);
    return reply;
  });
  CurlHttpClient http(controlPlaneSettings());
  HttpRequest req;
  req.method = "GET";
  req.url = server.url() + "/";
  req.timeout = milliseconds(300);
  auto r = http.send(req);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kTransient);
}

}  // namespace
}  // namespace tenure::net
