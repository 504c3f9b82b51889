// HttpJsonClient's policy above the outbound HTTP seam, without a socket: the request it hands to
// the client, which answers it retries and how long it waits, and what its errors say. The same
// client against a real server on loopback: http_json_client_test.cpp.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "controlplane/connectors/http_json_client.h"
#include "tests/mocks/fake_http_client.h"

namespace tenure::cp::connectors {
namespace {

using std::chrono::milliseconds;
using tenure::testing::FakeHttpClient;

class HttpJsonClientPolicyTest : public ::testing::Test {
 protected:
  HttpJsonClientPolicyTest() {
    options_.timeout = milliseconds(7'000);
    options_.connect_timeout = milliseconds(3'000);
    options_.max_response_bytes = 1234;
    options_.ca_file = "/etc/tenure/hr-ca.pem";
    options_.max_attempts = 4;
    options_.backoff_initial = milliseconds(100);
    options_.backoff_max = milliseconds(250);
  }

  HttpJsonClient client() {
    return HttpJsonClient(http_, options_, [this](milliseconds d) { waits_.push_back(d); });
  }

  static JsonRequest get() {
    JsonRequest r;
    r.url = "https://api.example.test/v1/employees?fields=all";
    r.basic_user = "secret-key";
    r.basic_password = "x";
    return r;
  }

  FakeHttpClient http_;
  HttpJsonOptions options_;
  std::vector<milliseconds> waits_;
};

TEST_F(HttpJsonClientPolicyTest, HandsTheClientAGetWithTheCredentialAndTheConnectorsLimits) {
  http_.reply(200, R"({"ok":true})");
  auto v = client().fetch(get());
  ASSERT_TRUE(v.isOk()) << v.status().toString();
  auto sent = http_.requests();
  ASSERT_EQ(sent.size(), 1u);
  const net::HttpRequest& r = sent[0];
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, "https://api.example.test/v1/employees?fields=all");
  EXPECT_TRUE(r.body.empty());
  ASSERT_TRUE(r.basic_auth.has_value());
  EXPECT_EQ(r.basic_auth->user, "secret-key");
  EXPECT_EQ(r.basic_auth->password, "x");
  EXPECT_EQ(r.timeout, milliseconds(7'000));
  EXPECT_EQ(r.connect_timeout, milliseconds(3'000));
  EXPECT_EQ(r.max_response_bytes, 1234u);
  EXPECT_EQ(r.ca_file, "/etc/tenure/hr-ca.pem");
  EXPECT_FALSE(r.truncate_response);
  const net::HttpHeaders expected{{"Accept", "application/json"}, {"User-Agent", "tenure-cp"}};
  EXPECT_EQ(r.headers, expected);
}

TEST_F(HttpJsonClientPolicyTest, APostCarriesItsJsonBodyAndCallerHeaders) {
  http_.reply(200, "[]");
  JsonRequest req = get();
  req.method = "POST";
  req.body = R"({"fields":["id"]})";
  req.headers = {{"X-Api-Version", "2"}};
  ASSERT_TRUE(client().fetch(req).isOk());
  const net::HttpRequest r = http_.requests().at(0);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.body, R"({"fields":["id"]})");
  const net::HttpHeaders expected{{"Accept", "application/json"},
                                  {"X-Api-Version", "2"},
                                  {"Content-Type", "application/json"},
                                  {"User-Agent", "tenure-cp"}};
  EXPECT_EQ(r.headers, expected);
}

TEST_F(HttpJsonClientPolicyTest, RetriesTransportFailuresAnd5xxWithCappedDoublingBackoff) {
  http_.fail(transientError("GET https://api.example.test/v1/employees: connection refused"));
  http_.reply(502);
  http_.reply(500);
  http_.reply(200, R"({"n":1})");
  auto v = client().fetch(get());
  ASSERT_TRUE(v.isOk()) << v.status().toString();
  EXPECT_EQ(v->at("n").as_int64(), 1);
  EXPECT_EQ(http_.requests().size(), 4u);
  EXPECT_EQ(waits_,
            (std::vector<milliseconds>{milliseconds(100), milliseconds(200), milliseconds(250)}));
}

TEST_F(HttpJsonClientPolicyTest, WaitsWhatRetryAfterSaysOnA429AndA503) {
  http_.reply(429, "", {{"retry-after", " 3 "}});
  http_.reply(503, "", {{"Retry-After", "1"}});
  http_.reply(200, "{}");
  ASSERT_TRUE(client().fetch(get()).isOk());
  EXPECT_EQ(waits_, (std::vector<milliseconds>{milliseconds(3'000), milliseconds(1'000)}));
}

TEST_F(HttpJsonClientPolicyTest, RetryAfterOnA500IsNotHonoured) {
  http_.reply(500, "", {{"Retry-After", "60"}});
  http_.reply(200, "{}");
  ASSERT_TRUE(client().fetch(get()).isOk());
  EXPECT_EQ(waits_, (std::vector<milliseconds>{milliseconds(100)}));
}

TEST_F(HttpJsonClientPolicyTest, ExhaustedRetriesAreTransientAndNameNeitherQueryNorCredential) {
  for (int i = 0; i < 4; ++i) http_.reply(503);
  auto v = client().fetch(get());
  ASSERT_FALSE(v.isOk());
  EXPECT_EQ(v.status().errorClass(), ErrorClass::kTransient);
  EXPECT_EQ(v.status().nativeCode(), 503);
  EXPECT_EQ(http_.requests().size(), 4u);
  EXPECT_EQ(waits_.size(), 3u);
  const std::string message = v.status().message();
  EXPECT_NE(message.find("GET https://api.example.test/v1/employees"), std::string::npos);
  EXPECT_EQ(message.find("fields=all"), std::string::npos);
  EXPECT_EQ(message.find("secret-key"), std::string::npos);
}

TEST_F(HttpJsonClientPolicyTest, AConfigErrorFromTheClientIsNotRetried) {
  http_.fail(configError("GET https://api.example.test/v1/employees: certificate verify failed"));
  auto v = client().fetch(get());
  ASSERT_FALSE(v.isOk());
  EXPECT_EQ(v.status().errorClass(), ErrorClass::kConfig);
  EXPECT_EQ(http_.requests().size(), 1u);
  EXPECT_TRUE(waits_.empty());
}

TEST_F(HttpJsonClientPolicyTest, ARefusedUrlNeverReachesTheClient) {
  JsonRequest req = get();
  req.url = "http://api.example.test/v1/employees";
  auto v = client().fetch(req);
  ASSERT_FALSE(v.isOk());
  EXPECT_EQ(v.status().errorClass(), ErrorClass::kConfig);
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(HttpJsonClientPolicyTest, A404IsAConfigErrorWithTheStatusAsItsCode) {
  http_.reply(404, "not here");
  auto v = client().fetch(get());
  ASSERT_FALSE(v.isOk());
  EXPECT_EQ(v.status().errorClass(), ErrorClass::kConfig);
  EXPECT_EQ(v.status().nativeCode(), 404);
  EXPECT_EQ(http_.requests().size(), 1u);
}

}  // namespace
}  // namespace tenure::cp::connectors
