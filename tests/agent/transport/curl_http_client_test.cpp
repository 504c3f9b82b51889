#include "agent/transport/http_client.h"
#include "common/net/curl_http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdlib>
#include <thread>

#include "tests/agent/transport/loopback_fixture.h"

namespace tenure::agent {
namespace {

namespace bj = boost::json;
using testing::LoopbackServerTest;

class CurlHttpClientTest : public LoopbackServerTest {};

Result<HttpResponse> post(HttpClient& http, const std::string& url, const std::string& body = "{}",
                          std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  HttpRequest req;
  req.url = url;
  req.body = body;
  req.timeout = timeout;
  return http.send(req);
}

TEST_F(CurlHttpClientTest, PostRoundTripsBodyAndHeaders) {
  CurlHttpClient http(trustingSettings());
  HttpRequest req;
  req.url = baseUrl() + "/echo";
  req.body = R"({"hello":"world"})";
  req.headers = {{"Authorization", "NodeKey abc"}};
  auto r = http.send(req);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->content_type, "application/json");
  bj::object echo = bj::parse(r->body).as_object();
  EXPECT_EQ(echo["method"], "POST");
  EXPECT_EQ(echo["body"], R"({"hello":"world"})");
  bj::object headers = echo["headers"].as_object();
  EXPECT_EQ(headers["authorization"], "NodeKey abc");
  EXPECT_EQ(headers["content-type"], "application/json");
  EXPECT_EQ(headers["user-agent"], "tenure-agent");
  EXPECT_FALSE(headers.contains("expect"));
}

TEST_F(CurlHttpClientTest, LargeBodyIsSentWithoutExpectContinue) {
  CurlHttpClient http(trustingSettings());
  const std::string body = "\"" + std::string(2 << 20, 'a') + "\"";
  auto r = post(http, baseUrl() + "/echo", body);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  bj::object echo = bj::parse(r->body).as_object();
  EXPECT_EQ(echo["body"].as_string().size(), body.size());
  EXPECT_FALSE(echo["headers"].as_object().contains("expect"));
}

TEST_F(CurlHttpClientTest, CallerContentTypeIsKept) {
  CurlHttpClient http(trustingSettings());
  HttpRequest req;
  req.url = baseUrl() + "/echo";
  req.body = "a=b";
  req.headers = {{"content-type", "text/plain"}};
  auto r = http.send(req);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(bj::parse(r->body).at("headers").at("content-type"), "text/plain");
}

TEST_F(CurlHttpClientTest, SequentialRequestsReuseTheConnection) {
  CurlHttpClient http(trustingSettings());
  auto a = post(http, baseUrl() + "/echo");
  auto b = post(http, baseUrl() + "/echo");
  ASSERT_TRUE(a.isOk() && b.isOk());
  EXPECT_EQ(bj::parse(a->body).at("client_port"), bj::parse(b->body).at("client_port"));
}

TEST_F(CurlHttpClientTest, ErrorStatusIsAResponseNotAnError) {
  CurlHttpClient http(trustingSettings());
  HttpRequest req;
  req.method = "GET";
  req.url = baseUrl() + "/html500";
  auto r = http.send(req);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 500);
  EXPECT_NE(r->body.find("Bad Gateway"), std::string::npos);
}

TEST_F(CurlHttpClientTest, UntrustedCertificateIsConfigError) {
  HttpClientSettings s;
  s.ca_file = otherCaFile().string();
  CurlHttpClient http(s);
  auto r = post(http, baseUrl() + "/echo");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kConfig) << r.status().toString();
}

TEST_F(CurlHttpClientTest, SystemStoreDoesNotTrustSelfSignedServer) {
  CurlHttpClient http(HttpClientSettings{});
  auto r = post(http, baseUrl() + "/echo");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kConfig) << r.status().toString();
}

TEST_F(CurlHttpClientTest, HostNameMismatchIsConfigError) {
  // Trusted CA, but the certificate names another host: host verification must reject it.
  ASSERT_TRUE(testing::makeSelfSignedCert(dir_->path(), "wronghost", "DNS:wrong-host.example"));
  auto other =
      testing::startTestServer(dir_->path() / "wronghost.pem", dir_->path() / "wronghost.key");
  ASSERT_TRUE(other.isOk()) << other.status().toString();
  HttpClientSettings s;
  s.ca_file = (dir_->path() / "wronghost.pem").string();
  CurlHttpClient http(s);
  auto r = post(http, "https://localhost:" + std::to_string((*other)->port()) + "/echo");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kConfig) << r.status().toString();
}

TEST_F(CurlHttpClientTest, MissingCaFileIsConfigError) {
  HttpClientSettings s;
  s.ca_file = (dir_->path() / "no-such-ca.pem").string();
  CurlHttpClient http(s);
  auto r = post(http, baseUrl() + "/echo");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kConfig) << r.status().toString();
}

TEST_F(CurlHttpClientTest, SlowServerTimesOutAsTransient) {
  CurlHttpClient http(trustingSettings());
  auto r = post(http, baseUrl() + "/slow?ms=3000", "{}", std::chrono::milliseconds(300));
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kTransient) << r.status().toString();
  EXPECT_EQ(r.status().nativeCode(), 28);  // CURLE_OPERATION_TIMEDOUT
}

TEST_F(CurlHttpClientTest, ConnectionRefusedIsTransient) {
  CurlHttpClient http(trustingSettings());
  auto r = post(http, "https://127.0.0.1:" + std::to_string(testing::unusedPort()) + "/echo");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kTransient) << r.status().toString();
}

TEST_F(CurlHttpClientTest, MalformedUrlIsConfigError) {
  CurlHttpClient http(trustingSettings());
  auto r = post(http, "ftp://localhost/echo");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kConfig) << r.status().toString();
}

TEST_F(CurlHttpClientTest, OversizedResponseIsRefused) {
  HttpClientSettings s = trustingSettings();
  s.max_response_bytes = 1000;
  CurlHttpClient http(s);
  HttpRequest req;
  req.method = "GET";
  req.url = baseUrl() + "/big?bytes=5000";
  auto r = http.send(req);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kData) << r.status().toString();

  req.url = baseUrl() + "/big?bytes=1000";
  auto fits = http.send(req);
  ASSERT_TRUE(fits.isOk()) << fits.status().toString();
  EXPECT_EQ(fits->body.size(), 1000u);
}

TEST_F(CurlHttpClientTest, HeldRequestDoesNotBlockAnotherRequest) {
  CurlHttpClient http(trustingSettings());
  std::atomic<bool> slow_done{false};
  std::thread slow([&] {
    auto r = post(http, baseUrl() + "/slow?ms=2000");
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    slow_done = true;
  });
  // The slow request must be in flight (holding its handle) before the fast one starts.
  while (stats()["slow_started"].as_int64() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto fast = post(http, baseUrl() + "/echo");
  EXPECT_TRUE(fast.isOk()) << fast.status().toString();
  EXPECT_FALSE(slow_done.load());
  slow.join();
}

TEST_F(CurlHttpClientTest, HonoursHttpsProxyFromEnvironment) {
  auto proxy = testing::startTestProxy();
  ASSERT_TRUE(proxy.isOk()) << proxy.status().toString();
  const std::string proxy_url = "http://127.0.0.1:" + std::to_string((*proxy)->port());
  ::setenv("https_proxy", proxy_url.c_str(), 1);
  CurlHttpClient http(trustingSettings());
  auto r = post(http, baseUrl() + "/echo");
  testing::clearProxyEnvironment();
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 200);

  CurlHttpClient direct(HttpClientSettings{});
  HttpRequest req;
  req.method = "GET";
  req.url = proxy_url + "/targets";
  auto targets = direct.send(req);
  ASSERT_TRUE(targets.isOk()) << targets.status().toString();
  bj::array seen = bj::parse(targets->body).as_array();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(std::string(seen[0].as_string()), "localhost:" + std::to_string(server_->port()));
}

TEST_F(CurlHttpClientTest, NoProxyBypassesTheProxy) {
  auto proxy = testing::startTestProxy();
  ASSERT_TRUE(proxy.isOk()) << proxy.status().toString();
  const std::string proxy_url = "http://127.0.0.1:" + std::to_string((*proxy)->port());
  ::setenv("https_proxy", proxy_url.c_str(), 1);
  ::setenv("no_proxy", "localhost", 1);
  CurlHttpClient http(trustingSettings());
  auto r = post(http, baseUrl() + "/echo");
  testing::clearProxyEnvironment();
  ASSERT_TRUE(r.isOk()) << r.status().toString();

  CurlHttpClient direct(HttpClientSettings{});
  HttpRequest req;
  req.method = "GET";
  req.url = proxy_url + "/targets";
  auto targets = direct.send(req);
  ASSERT_TRUE(targets.isOk()) << targets.status().toString();
  EXPECT_EQ(bj::parse(targets->body).as_array().size(), 0u);
}

}  // namespace
}  // namespace tenure::agent
