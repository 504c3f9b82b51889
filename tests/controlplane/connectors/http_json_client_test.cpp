// HttpJsonClient against a real HTTP server on loopback: authentication, retries with backoff,
// Retry-After, timeouts, size cap, refused URLs. Waits between attempts go through an injected
// sleeper that records them instead of sleeping.

#include "controlplane/connectors/http_json_client.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>

#include "common/net/curl_http_client.h"
#include "tests/controlplane/connectors/fake_hr_server.h"

namespace tenure::cp::connectors {
namespace {

using std::chrono::milliseconds;
using testing::FakeHrServer;
using testing::FakeReply;
using testing::FakeRequest;

struct RecordedSleeps {
  std::vector<milliseconds> waits;
  Sleeper sleeper() {
    return [this](milliseconds d) { waits.push_back(d); };
  }
};

// The control plane's outbound client (as controlplane/main/control_plane.cpp builds it).
net::HttpClient& curl() {
  static net::CurlHttpClient client([] {
    net::HttpClientSettings s;
    s.user_agent = "tenure-cp";
    s.default_content_type.clear();
    return s;
  }());
  return client;
}

HttpJsonOptions fastOptions() {
  HttpJsonOptions o;
  o.timeout = milliseconds(2'000);
  o.connect_timeout = milliseconds(2'000);
  o.max_attempts = 3;
  o.backoff_initial = milliseconds(100);
  return o;
}

JsonRequest get(const FakeHrServer& server, const std::string& path = "/data") {
  JsonRequest r;
  r.url = server.url() + path;
  r.basic_user = "secret-key";
  r.basic_password = "x";
  return r;
}

TEST(HttpJsonClientTest, SendsBasicAuthWithTheKeyAndXAndAcceptsJson) {
  FakeHrServer server([](const FakeRequest&) { return FakeReply{200, R"({"ok":true})"}; });
  HttpJsonClient client(curl(), fastOptions());
  auto v = client.fetch(get(server));
  ASSERT_TRUE(v.isOk()) << v.status().toString();
  EXPECT_TRUE(v->at("ok").as_bool());
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  // base64("secret-key:x")
  EXPECT_EQ(reqs[0].authorization, "Basic c2VjcmV0LWtleTp4");
  EXPECT_EQ(reqs[0].accept, "application/json");
}

TEST(HttpJsonClientTest, RetriesA500AndSucceedsWithBackoffBetweenAttempts) {
  std::atomic<int> n{0};
  FakeHrServer server([&](const FakeRequest&) {
    return ++n <= 2 ? FakeReply{500, "oops"} : FakeReply{200, R"([1,2])"};
  });
  RecordedSleeps sleeps;
  HttpJsonClient client(curl(), fastOptions(), sleeps.sleeper());
  auto v = client.fetch(get(server));
  ASSERT_TRUE(v.isOk()) << v.status().toString();
  EXPECT_EQ(server.requestCount(), 3u);
  EXPECT_EQ(sleeps.waits, (std::vector<milliseconds>{milliseconds(100), milliseconds(200)}));
}

TEST(HttpJsonClientTest, GivesUpAfterMaxAttemptsWithATransientError) {
  FakeHrServer server([](const FakeRequest&) { return FakeReply{503, "down"}; });
  RecordedSleeps sleeps;
  HttpJsonClient client(curl(), fastOptions(), sleeps.sleeper());
  auto v = client.fetch(get(server));
  ASSERT_FALSE(v.isOk());
  EXPECT_EQ(v.status().errorClass(), ErrorClass::kTransient);
  EXPECT_EQ(v.status().nativeCode(), 503);
  EXPECT_EQ(server.requestCount(), 3u);
}

TEST(HttpJsonClientTest, HonoursRetryAfterOnA429) {
  std::atomic<int> n{0};
  FakeHrServer server([&](const FakeRequest&) {
    if (++n == 1) return FakeReply{429, "slow down", {{"Retry-After", "7"}}};
    return FakeReply{200, "{}"};
  });
  RecordedSleeps sleeps;
  HttpJsonClient client(curl(), fastOptions(), sleeps.sleeper());
  auto v = client.fetch(get(server));
  ASSERT_TRUE(v.isOk()) << v.status().toString();
  EXPECT_EQ(sleeps.waits, (std::vector<milliseconds>{milliseconds(7'000)}));
}

TEST(HttpJsonClientTest, RetryAfterLongerThanTheCapFailsInsteadOfWaiting) {
  FakeHrServer server(
      [](const FakeRequest&) { return FakeReply{429, "", {{"Retry-After", "86400"}}}; });
  RecordedSleeps sleeps;
  HttpJsonClient client(curl(), fastOptions(), sleeps.sleeper());
  auto v = client.fetch(get(server));
  ASSERT_FALSE(v.isOk());
  EXPECT_EQ(v.status().errorClass(), ErrorClass::kTransient);
  EXPECT_TRUE(sleeps.waits.empty());
  EXPECT_EQ(server.requestCount(), 1u);
}

TEST(HttpJsonClientTest, A401IsAPermissionErrorAndIsNotRetried) {
  FakeHrServer server([](const FakeRequest&) { return FakeReply{401, "no"}; });
  HttpJsonClient client(curl(), fastOptions(), [](milliseconds) {});
  auto v = client.fetch(get(server));
  ASSERT_FALSE(v.isOk());
  EXPECT_EQ(v.status().errorClass(), ErrorClass::kPermission);
  EXPECT_EQ(v.status().nativeCode(), 401);
  EXPECT_EQ(server.requestCount(), 1u);
  EXPECT_EQ(v.status().message().find("secret-key"), std::string::npos);
}

TEST(HttpJsonClientTest, ARedirectIsNotFollowed) {
  FakeHrServer server([](const FakeRequest& r) {
    if (r.target == "/data") return FakeReply{302, "", {{"Location", "/elsewhere"}}};
    return FakeReply{200, "{}"};
  });
  HttpJsonClient client(curl(), fastOptions(), [](milliseconds) {});
  auto v = client.fetch(get(server));
  ASSERT_FALSE(v.isOk());
  EXPECT_EQ(v.status().errorClass(), ErrorClass::kConfig);
  EXPECT_EQ(server.requestCount(), 1u);
}

TEST(HttpJsonClientTest, MalformedJsonIsADataError) {
  FakeHrServer server([](const FakeRequest&) { return FakeReply{200, R"({"employees": [)"}; });
  HttpJsonClient client(curl(), fastOptions(), [](milliseconds) {});
  auto v = client.fetch(get(server));
  ASSERT_FALSE(v.isOk());
  EXPECT_EQ(v.status().errorClass(), ErrorClass::kData);
  EXPECT_EQ(server.requestCount(), 1u);
}

TEST(HttpJsonClientTest, AStallingServerTimesOutAndIsRetried) {
  FakeHrServer server(
      [](const FakeRequest&) { return FakeReply{200, "{}", {}, milliseconds(10'000)}; });
  HttpJsonOptions o = fastOptions();
  o.timeout = milliseconds(300);
  o.max_attempts = 2;
  HttpJsonClient client(curl(), o, [](milliseconds) {});
  auto v = client.fetch(get(server));
  ASSERT_FALSE(v.isOk());
  EXPECT_EQ(v.status().errorClass(), ErrorClass::kTransient);
  EXPECT_EQ(server.requestCount(), 2u);
}

TEST(HttpJsonClientTest, AnAnswerOverTheSizeCapIsRefused) {
  FakeHrServer server(
      [](const FakeRequest&) { return FakeReply{200, "[" + std::string(5000, ' ') + "]"}; });
  HttpJsonOptions o = fastOptions();
  o.max_response_bytes = 1000;
  HttpJsonClient client(curl(), o, [](milliseconds) {});
  auto v = client.fetch(get(server));
  ASSERT_FALSE(v.isOk());
  EXPECT_EQ(v.status().errorClass(), ErrorClass::kData);
  EXPECT_EQ(server.requestCount(), 1u);
}

TEST(HttpJsonClientTest, PlainHttpIsOnlyAllowedToLoopback) {
  EXPECT_TRUE(checkConnectorUrl("https://api.bamboohr.com").isOk());
  EXPECT_TRUE(checkConnectorUrl("http://127.0.0.1:8080/x").isOk());
  EXPECT_TRUE(checkConnectorUrl("http://localhost:8080").isOk());
  EXPECT_EQ(checkConnectorUrl("http://api.bamboohr.com").errorClass(), ErrorClass::kConfig);
  EXPECT_TRUE(checkConnectorUrl("http://[::1]:8080").isOk());
  EXPECT_EQ(checkConnectorUrl("http://10.0.0.1").errorClass(), ErrorClass::kConfig);
  EXPECT_EQ(checkConnectorUrl("http://127.attacker.example").errorClass(), ErrorClass::kConfig);
  EXPECT_EQ(checkConnectorUrl("ftp://127.0.0.1").errorClass(), ErrorClass::kConfig);
  EXPECT_EQ(checkConnectorUrl("https://user:pw@host").errorClass(), ErrorClass::kConfig);
  EXPECT_EQ(checkConnectorUrl("not a url").errorClass(), ErrorClass::kConfig);
  // Refused before anything is sent.
  HttpJsonClient client(curl(), fastOptions(), [](milliseconds) {});
  JsonRequest r;
  r.url = "http://192.0.2.1/x";
  EXPECT_EQ(client.fetch(r).status().errorClass(), ErrorClass::kConfig);
}

TEST(HttpJsonClientTest, RetryAfterIsReadAsSecondsOrAnHttpDate) {
  const auto now = std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37
  EXPECT_EQ(parseRetryAfter("120", now), milliseconds(120'000));
  EXPECT_EQ(parseRetryAfter("Sun, 06 Nov 1994 08:50:07 GMT", now), milliseconds(30'000));
  EXPECT_EQ(parseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now), milliseconds(0));
  EXPECT_EQ(parseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(parseRetryAfter("", now), std::nullopt);
}

}  // namespace
}  // namespace tenure::cp::connectors
