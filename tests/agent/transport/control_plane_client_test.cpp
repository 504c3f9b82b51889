#include "agent/transport/control_plane_client.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <thread>

#include "agent/enroll/node_key_store.h"
#include "common/net/curl_http_client.h"
#include "tests/agent/transport/loopback_fixture.h"

namespace tenure::agent {
namespace {

namespace bj = boost::json;
using std::chrono::milliseconds;

// Passes requests through to a real client and remembers them.
class RecordingHttpClient final : public HttpClient {
 public:
  explicit RecordingHttpClient(HttpClient& inner) : inner_(inner) {}
  Result<HttpResponse> send(const HttpRequest& request) override {
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
    }
    return inner_.send(request);
  }
  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  HttpClient& inner_;
  mutable std::mutex mu_;
  std::vector<HttpRequest> requests_;
};

class ControlPlaneClientTest : public testing::LoopbackServerTest {
 protected:
  void SetUp() override {
    LoopbackServerTest::SetUp();
    state_dir_ = std::make_unique<testing::TempDir>();
    store_ = std::make_unique<FileNodeKeyStore>(state_dir_->path() / "state");
    http_ = std::make_unique<CurlHttpClient>(trustingSettings());
  }

  ControlPlaneSettings settings(std::string secret = "s3cret") const {
    ControlPlaneSettings s;
    s.url = baseUrl() + "/";
    s.enroll_secret = std::move(secret);
    s.host = "dc-agent-01";
    s.version = "0.1.0";
    s.capabilities = {"ldap"};
    return s;
  }

  static int64_t stat(const char* name) { return stats()[name].as_int64(); }
  static std::vector<std::string> authSeen() {
    std::vector<std::string> out;
    const bj::object all = stats();
    for (const auto& v : all.at("auth_seen").as_array()) {
      out.push_back(v.is_null() ? "" : std::string(v.as_string()));
    }
    return out;
  }
  static void setState(const bj::object& o) { control("POST", "/control/set", bj::serialize(o)); }

  std::unique_ptr<testing::TempDir> state_dir_;
  std::unique_ptr<FileNodeKeyStore> store_;
  std::unique_ptr<CurlHttpClient> http_;
};

TEST_F(ControlPlaneClientTest, EnrollStoresTheKeyAndPollUsesIt) {
  ControlPlaneClient cp(*http_, *store_, settings());
  ASSERT_TRUE(cp.enroll());
  EXPECT_EQ(cp.agentId(), "agent-1");
  auto rec = store_->load();
  ASSERT_TRUE(rec.isOk() && rec->has_value());
  EXPECT_EQ((*rec)->node_key, "key-1");
  EXPECT_EQ((*rec)->agent_id, "agent-1");
  EXPECT_EQ((*rec)->cp_url, baseUrl());

  setState({{"jobs", bj::array{bj::object{{"job_id", "job-1"}, {"run_id", "run-1"}}}}});
  auto polled = cp.poll(0);
  ASSERT_TRUE(polled.isOk()) << polled.status().toString();
  ASSERT_EQ(polled->jobs.size(), 1u);
  EXPECT_EQ(polled->jobs[0].job_id, "job-1");
  EXPECT_EQ(authSeen(), std::vector<std::string>{"key-1"});
}

TEST_F(ControlPlaneClientTest, EnrollRequestCarriesSecretHostAndCapabilities) {
  RecordingHttpClient rec(*http_);
  ControlPlaneClient cp(rec, *store_, settings());
  ASSERT_TRUE(cp.enroll());
  auto reqs = rec.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].url, baseUrl() + "/agent/v1/enroll");
  bj::object body = bj::parse(reqs[0].body).as_object();
  EXPECT_EQ(body["enroll_secret"], "s3cret");
  EXPECT_EQ(body["host"], "dc-agent-01");
  EXPECT_EQ(body["capabilities"], (bj::array{"ldap"}));
}

TEST_F(ControlPlaneClientTest, WrongEnrollSecretIsPermissionErrorWithServerMessage) {
  ControlPlaneClient cp(*http_, *store_, settings("nope"));
  Status st = cp.enroll();
  EXPECT_EQ(st.errorClass(), ErrorClass::kPermission) << st.toString();
  EXPECT_NE(st.message().find("bad enroll secret"), std::string::npos) << st.toString();
  EXPECT_EQ(st.nativeCode(), 401);
  auto rec = store_->load();
  ASSERT_TRUE(rec.isOk());
  EXPECT_FALSE(rec->has_value());
}

TEST_F(ControlPlaneClientTest, PollEnrollsFirstWhenNoKeyIsStored) {
  ControlPlaneClient cp(*http_, *store_, settings());
  auto polled = cp.poll(0);
  ASSERT_TRUE(polled.isOk()) << polled.status().toString();
  EXPECT_EQ(stat("enroll_count"), 1);
  EXPECT_EQ(authSeen(), std::vector<std::string>{"key-1"});
}

TEST_F(ControlPlaneClientTest, StoredKeyIsUsedWithoutEnrollingOrSecret) {
  setState({{"valid_key", "stored-key"}});
  ASSERT_TRUE(store_->save({"stored-key", "agent-9", baseUrl()}));
  ControlPlaneClient cp(*http_, *store_, settings(""));
  auto polled = cp.poll(0);
  ASSERT_TRUE(polled.isOk()) << polled.status().toString();
  EXPECT_EQ(stat("enroll_count"), 0);
  EXPECT_EQ(authSeen(), std::vector<std::string>{"stored-key"});
  EXPECT_EQ(cp.agentId(), "agent-9");
}

TEST_F(ControlPlaneClientTest, KeyFromAnotherControlPlaneIsNotSent) {
  setState({{"valid_key", "stored-key"}});
  ASSERT_TRUE(store_->save({"stored-key", "agent-9", "https://old-cp.example"}));
  ControlPlaneClient cp(*http_, *store_, settings());
  ASSERT_TRUE(cp.poll(0).isOk());
  EXPECT_EQ(stat("enroll_count"), 1);
  EXPECT_EQ(authSeen(), std::vector<std::string>{"key-1"});
}

TEST_F(ControlPlaneClientTest, NotEnrolledWithoutSecretIsConfigError) {
  ControlPlaneClient cp(*http_, *store_, settings(""));
  auto polled = cp.poll(0);
  ASSERT_FALSE(polled.isOk());
  EXPECT_EQ(polled.status().errorClass(), ErrorClass::kConfig);
  EXPECT_EQ(stat("enroll_count"), 0);
}

TEST_F(ControlPlaneClientTest, NodeInvalidReenrollsOnceAndRetriesWithTheNewKey) {
  ControlPlaneClient cp(*http_, *store_, settings());
  ASSERT_TRUE(cp.enroll());
  setState({{"valid_key", "revoked-by-operator"}});

  auto polled = cp.poll(0);
  ASSERT_TRUE(polled.isOk()) << polled.status().toString();
  EXPECT_EQ(stat("enroll_count"), 2);
  EXPECT_EQ(authSeen(), (std::vector<std::string>{"key-1", "key-2"}));
  auto rec = store_->load();
  ASSERT_TRUE(rec.isOk() && rec->has_value());
  EXPECT_EQ((*rec)->node_key, "key-2");
}

TEST_F(ControlPlaneClientTest, KeyRejectedAgainAfterReenrollmentIsPermissionErrorNotALoop) {
  ControlPlaneClient cp(*http_, *store_, settings());
  ASSERT_TRUE(cp.enroll());
  setState({{"reject_all", true}});
  auto polled = cp.poll(0);
  ASSERT_FALSE(polled.isOk());
  EXPECT_EQ(polled.status().errorClass(), ErrorClass::kPermission) << polled.status().toString();
  EXPECT_EQ(stat("enroll_count"), 2);
  EXPECT_EQ(authSeen(), (std::vector<std::string>{"key-1", "key-2"}));
}

TEST_F(ControlPlaneClientTest, NodeInvalidWithoutSecretIsConfigError) {
  setState({{"valid_key", "something-else"}});
  ASSERT_TRUE(store_->save({"stale-key", "agent-9", baseUrl()}));
  ControlPlaneClient cp(*http_, *store_, settings(""));
  auto polled = cp.poll(0);
  ASSERT_FALSE(polled.isOk());
  EXPECT_EQ(polled.status().errorClass(), ErrorClass::kConfig);
  EXPECT_NE(polled.status().message().find("node key invalid and no enroll secret"),
            std::string::npos);
  EXPECT_EQ(stat("enroll_count"), 0);
}

TEST_F(ControlPlaneClientTest, ServiceUnavailableIsTransientAndNeverReenrolls) {
  ControlPlaneClient cp(*http_, *store_, settings());
  ASSERT_TRUE(cp.enroll());
  setState({{"fail_503", 3}});
  for (int i = 0; i < 3; ++i) {
    auto polled = cp.poll(0);
    ASSERT_FALSE(polled.isOk());
    EXPECT_EQ(polled.status().errorClass(), ErrorClass::kTransient);
    EXPECT_EQ(polled.status().nativeCode(), 503);
    EXPECT_NE(polled.status().message().find("draining"), std::string::npos);
  }
  auto polled = cp.poll(0);
  EXPECT_TRUE(polled.isOk()) << polled.status().toString();
  EXPECT_EQ(stat("enroll_count"), 1);
  EXPECT_EQ(authSeen(), std::vector<std::string>(4, "key-1"));
}

TEST_F(ControlPlaneClientTest, TransportFailureIsTransientAndNeverReenrolls) {
  ControlPlaneSettings s = settings();
  s.url = "https://127.0.0.1:" + std::to_string(testing::unusedPort());
  ASSERT_TRUE(store_->save({"key-x", "agent-9", s.url}));
  RecordingHttpClient rec(*http_);
  ControlPlaneClient cp(rec, *store_, s);
  auto polled = cp.poll(0);
  ASSERT_FALSE(polled.isOk());
  EXPECT_EQ(polled.status().errorClass(), ErrorClass::kTransient);
  ASSERT_EQ(rec.requests().size(), 1u);
  EXPECT_EQ(rec.requests()[0].url, s.url + "/agent/v1/poll");
}

TEST_F(ControlPlaneClientTest, ConcurrentCallersReenrollOnce) {
  ControlPlaneClient cp(*http_, *store_, settings());
  ASSERT_TRUE(cp.enroll());
  // Revoke the key and slow enrollment down so the callers pile up on the re-enrollment.
  setState({{"valid_key", "revoked"}, {"enroll_delay_ms", 300}});
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (cp.poll(0).isOk()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(stat("enroll_count"), 2);
}

TEST_F(ControlPlaneClientTest, PollTimeoutIsWaitPlusGrace) {
  RecordingHttpClient rec(*http_);
  ControlPlaneClient cp(rec, *store_, settings());
  ASSERT_TRUE(cp.enroll());
  ASSERT_TRUE(cp.poll(1).isOk());
  auto reqs = rec.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].url, baseUrl() + "/agent/v1/poll");
  EXPECT_EQ(reqs[1].timeout, milliseconds(16'000));
  EXPECT_EQ(bj::parse(reqs[1].body).at("wait_s"), 1);
}

TEST_F(ControlPlaneClientTest, PostResultSendsTheResult) {
  ControlPlaneClient cp(*http_, *store_, settings());
  protocol::JobResult r;
  r.job_id = "job-7";
  r.status = "succeeded";
  r.domain_controller = "dc1.example.test";
  ASSERT_TRUE(cp.postResult(r));
  bj::object last = stats()["last_result"].as_object();
  EXPECT_EQ(last["job_id"], "job-7");
  EXPECT_EQ(last["body"].at("status"), "succeeded");
  EXPECT_EQ(last["body"].at("domain_controller"), "dc1.example.test");
}

TEST_F(ControlPlaneClientTest, PostResultReenrollsOnNodeInvalid) {
  ControlPlaneClient cp(*http_, *store_, settings());
  ASSERT_TRUE(cp.enroll());
  setState({{"valid_key", "revoked"}});
  protocol::JobResult r;
  r.job_id = "job-8";
  r.status = "failed";
  ASSERT_TRUE(cp.postResult(r));
  EXPECT_EQ(stat("enroll_count"), 2);
  EXPECT_EQ(stat("result_count"), 1);
  EXPECT_EQ(authSeen(), (std::vector<std::string>{"key-1", "key-2"}));
}

TEST_F(ControlPlaneClientTest, PostResultForUnknownJobIsNotFound) {
  ControlPlaneClient cp(*http_, *store_, settings());
  protocol::JobResult r;
  r.job_id = "missing";
  r.status = "succeeded";
  Status st = cp.postResult(r);
  EXPECT_EQ(st.errorClass(), ErrorClass::kNotFound) << st.toString();
  EXPECT_NE(st.message().find("no such job"), std::string::npos);
}

TEST_F(ControlPlaneClientTest, JobIdIsEscapedInThePath) {
  RecordingHttpClient rec(*http_);
  ControlPlaneClient cp(rec, *store_, settings());
  protocol::JobResult r;
  r.job_id = "../poll?x=1";
  r.status = "succeeded";
  ASSERT_TRUE(cp.postResult(r));
  EXPECT_EQ(rec.requests().back().url, baseUrl() + "/agent/v1/jobs/..%2Fpoll%3Fx%3D1/result");
  EXPECT_EQ(stats()["last_result"].at("job_id"), "..%2Fpoll%3Fx%3D1");
}

TEST(StatusFromHttpResponseTest, MapsStatusCodesToErrorClasses) {
  auto cls = [](int code, std::string body = "") {
    return statusFromHttpResponse(HttpResponse{code, std::move(body), ""}, "x").errorClass();
  };
  EXPECT_EQ(cls(500), ErrorClass::kTransient);
  EXPECT_EQ(cls(502, "<html>Bad Gateway</html>"), ErrorClass::kTransient);
  EXPECT_EQ(cls(503), ErrorClass::kTransient);
  EXPECT_EQ(cls(429), ErrorClass::kTransient);
  EXPECT_EQ(cls(401, R"({"error":"unauthorized"})"), ErrorClass::kPermission);
  EXPECT_EQ(cls(403), ErrorClass::kPermission);
  EXPECT_EQ(cls(404), ErrorClass::kNotFound);
  EXPECT_EQ(cls(409), ErrorClass::kConflict);
  EXPECT_EQ(cls(400), ErrorClass::kData);
  EXPECT_EQ(cls(413), ErrorClass::kData);
  EXPECT_EQ(cls(302), ErrorClass::kConfig);
}

TEST(StatusFromHttpResponseTest, UsesTheErrorBodyMessageOrABodyExcerpt) {
  Status json = statusFromHttpResponse(
      HttpResponse{400, R"({"error":"bad_request","message":"wait_s must be >= 0"})", ""}, "poll");
  EXPECT_EQ(json.message(), "poll: HTTP 400: bad_request: wait_s must be >= 0");
  Status html = statusFromHttpResponse(HttpResponse{502, "<h1>Bad\nGateway</h1>", ""}, "poll");
  EXPECT_EQ(html.message(), "poll: HTTP 502: <h1>Bad Gateway</h1>");
}

class NullHttpClient final : public HttpClient {
 public:
  Result<HttpResponse> send(const HttpRequest&) override { return transientError("offline"); }
};

class NullKeyStore final : public NodeKeyStore {
 public:
  Result<std::optional<NodeKeyRecord>> load() override { return std::optional<NodeKeyRecord>{}; }
  Status save(const NodeKeyRecord&) override { return Status::ok(); }
  Status clear() override { return Status::ok(); }
};

TEST(ControlPlaneBackoffTest, BackoffIsCappedAndJittered) {
  NullHttpClient http;
  NullKeyStore keys;
  ControlPlaneSettings s;
  s.initial_backoff = milliseconds(100);
  s.max_backoff = milliseconds(5'000);
  ControlPlaneClient cp(http, keys, s);
  for (int attempt = 1; attempt <= 64; ++attempt) {
    const int64_t ceiling = std::min<int64_t>(5'000, attempt > 7 ? 5'000 : 100 << (attempt - 1));
    int64_t lo = ceiling, hi = 0;
    for (int i = 0; i < 500; ++i) {
      const int64_t d = cp.nextBackoff(attempt).count();
      ASSERT_GE(d, 0);
      ASSERT_LE(d, ceiling) << "attempt " << attempt;
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    // Jitter spreads over the whole range (a fixed delay would make lo == hi); the chance of
    // 500 uniform draws all missing a quarter of the range is negligible.
    EXPECT_LT(lo, ceiling / 4) << "attempt " << attempt;
    EXPECT_GT(hi, ceiling * 3 / 4) << "attempt " << attempt;
  }
  EXPECT_LE(cp.nextBackoff(0).count(), 100);
  EXPECT_LE(cp.nextBackoff(-5).count(), 100);
  EXPECT_LE(cp.nextBackoff(1'000'000).count(), 5'000);
}

}  // namespace
}  // namespace tenure::agent
