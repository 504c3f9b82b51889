// Real time and high availability over real HTTPS on loopback: the control plane's HttpServer and
// ControlPlaneService with real SQLite stores, and agents' requests sent through the agent's own
// CurlHttpClient. Waits are bounded by deadlines that only turn a hang into a failure.

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "agent/transport/http_client.h"
#include "common/net/curl_http_client.h"
#include "common/protocol/messages.h"
#include "controlplane/http/http_server.h"
#include "controlplane/api/control_plane_api.h"
#include "controlplane/service/control_plane_service.h"

namespace tenure::cp {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

class RealtimeHttpTest : public ::testing::Test {
 protected:
  void start(ServiceOptions options) {
    dir_ = fs::temp_directory_path() /
           ("tenure-rt-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const std::string cert = (dir_ / "cert.pem").string(), key = (dir_ / "key.pem").string();
    ASSERT_TRUE(ensureSelfSignedCertificate(cert, key).isOk());
    control_ = std::move(ControlStore::open((dir_ / "control.db").string(), clock_).value());
    tenants_ = std::make_unique<TenantStores>((dir_ / "tenants").string(), clock_);
    service_ = std::make_unique<ControlPlaneService>(io_, *control_, *tenants_, clock_, options);
    api_ = std::make_unique<api::ControlPlaneApi>(
        api::ApiComponents{*control_, *tenants_, clock_, *service_, nullptr, nullptr, nullptr});
    HttpServerOptions http;
    http.tls_cert_file = cert;
    http.tls_key_file = key;
    server_ = std::make_unique<HttpServer>(io_, http, [this](HttpServerRequest r, Responder res) {
      api_->handle(std::move(r), std::move(res));
    });
    ASSERT_TRUE(server_->start().isOk());
    service_->queue().start();
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
    agent::HttpClientSettings hs;
    hs.ca_file = cert;
    http_ = std::make_unique<net::CurlHttpClient>(hs);
    tenant_ = control_->createTenant("A").value();
  }

  void TearDown() override {
    if (service_) service_->queue().stopHoldingPolls();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
    server_.reset();
    api_.reset();
    service_.reset();
    fs::remove_all(dir_);
  }

  struct Answer {
    int status = 0;
    bj::value json;
  };
  Answer post(const std::string& path, const std::string& auth, const std::string& body,
              const std::string& content_type = "application/json") {
    agent::HttpRequest req;
    req.url = "https://127.0.0.1:" + std::to_string(server_->port()) + path;
    if (!auth.empty()) req.headers.emplace_back("Authorization", auth);
    req.headers.emplace_back("Content-Type", content_type);
    req.body = body;
    req.timeout = 90s;
    auto r = http_->send(req);
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    if (!r.isOk()) return {};
    return Answer{r->status, r->body.empty() ? bj::value() : bj::parse(r->body)};
  }
  std::string enroll(const std::string& host) {
    auto a = post("/agent/v1/enroll", "",
                  R"({"enroll_secret":")" + tenant_.enroll_secret + R"(","host":")" + host +
                      R"(","version":"t"})");
    EXPECT_EQ(a.status, 200);
    return a.status == 200 ? std::string(a.json.at("node_key").as_string()) : "";
  }
  std::string upload(const std::string& employee_id) {
    auto a = post("/api/v1/hr/records", "Bearer " + tenant_.api_token,
                  "employee_id,given_name,family_name,status\n" + employee_id + ",Ann,Lee,active\n",
                  "text/csv");
    EXPECT_EQ(a.status, 202);
    return a.status == 202 ? std::string(a.json.at("run_id").as_string()) : "";
  }
  std::vector<protocol::Job> poll(const std::string& key, int wait_s) {
    auto a = post("/agent/v1/poll", "NodeKey " + key, R"({"wait_s":)" + std::to_string(wait_s) + "}");
    EXPECT_EQ(a.status, 200);
    if (a.status != 200) return {};
    return protocol::parsePollResponse(a.json).value().jobs;
  }
  int result(const std::string& key, const std::string& job_id) {
    return post("/agent/v1/jobs/" + job_id + "/result", "NodeKey " + key,
                R"({"status":"succeeded","outcomes":[]})")
        .status;
  }
  // Waits (bounded) until `pred` holds.
  template <typename Pred>
  bool eventually(Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }

  fs::path dir_;
  SystemClock clock_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  std::vector<std::thread> threads_;
  std::unique_ptr<ControlStore> control_;
  std::unique_ptr<TenantStores> tenants_;
  std::unique_ptr<ControlPlaneService> service_;
  std::unique_ptr<api::ControlPlaneApi> api_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<net::CurlHttpClient> http_;
  TenantCredentials tenant_;
};

TEST_F(RealtimeHttpTest, HeldLongPollIsAnsweredAtOnceWhenAnUploadArrives) {
  ServiceOptions o;
  o.sweep_interval = 1h;  // no sweep can be what answers the poll
  start(o);
  const std::string key = enroll("h1");
  auto held = std::async(std::launch::async, [&] {
    auto jobs = poll(key, 60);
    return std::make_pair(jobs, std::chrono::steady_clock::now());
  });
  ASSERT_TRUE(eventually([&] { return service_->queue().heldPolls() == 1; }));
  const auto uploaded_at = std::chrono::steady_clock::now();
  const std::string run_id = upload("E1");
  ASSERT_EQ(held.wait_for(30s), std::future_status::ready)
      << "the poll would otherwise be held for its full 60 s";
  auto [jobs, answered_at] = held.get();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].run_id, run_id);
  EXPECT_LT(answered_at - uploaded_at, 30s);
  // For docs/operations/scheduling.md: upload start -> held poll answered (includes the upload).
  RecordProperty("upload_to_poll_answer_us",
                 std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                    answered_at - uploaded_at)
                                    .count()));
}

TEST_F(RealtimeHttpTest, SilentAgentsJobMovesToTheOtherAgentAfterItsLeaseExpires) {
  ServiceOptions o;
  o.lease = 1s;
  o.retry_base = 100ms;
  o.sweep_interval = 100ms;
  start(o);
  const std::string k1 = enroll("h1");
  const std::string k2 = enroll("h2");
  const std::string run_id = upload("E1");
  auto first = poll(k1, 0);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].attempt, 1);
  // Agent 1 goes silent. Agent 2's held poll gets the job once the lease (and backoff) ran out.
  auto second = std::async(std::launch::async, [&] { return poll(k2, 30); });
  ASSERT_EQ(second.wait_for(25s), std::future_status::ready);
  auto moved = second.get();
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].job_id, run_id);
  EXPECT_EQ(moved[0].attempt, 2);
  // Agent 1 comes back: its lease is gone.
  auto beat = post("/agent/v1/jobs/" + run_id + "/progress", "NodeKey " + k1, "{}");
  EXPECT_EQ(beat.status, 409);
  EXPECT_EQ(result(k2, run_id), 200);
}

TEST_F(RealtimeHttpTest, EachJobRunsOnExactlyOneOfTwoAgents) {
  ServiceOptions o;
  o.sweep_interval = 100ms;
  start(o);
  const std::string keys[2] = {enroll("h1"), enroll("h2")};
  std::set<std::string> uploaded;
  for (int i = 0; i < 20; ++i) uploaded.insert(upload("E" + std::to_string(i)));
  std::mutex mu;
  std::map<std::string, int> runs_of;  // job id -> times handed out
  std::atomic<int> done{0};
  auto worker = [&](const std::string& key) {
    int idle = 0;
    while (done < 20 && idle < 3) {
      auto jobs = poll(key, 1);
      if (jobs.empty()) {
        ++idle;
        continue;
      }
      for (const auto& j : jobs) {
        {
          std::lock_guard lk(mu);
          ++runs_of[j.job_id];
        }
        EXPECT_EQ(result(key, j.job_id), 200);
        ++done;
      }
    }
  };
  std::thread a(worker, keys[0]), b(worker, keys[1]);
  a.join();
  b.join();
  std::set<std::string> seen;
  for (const auto& [job, n] : runs_of) {
    EXPECT_EQ(n, 1) << job << " was handed out " << n << " times";
    seen.insert(job);
  }
  EXPECT_EQ(seen, uploaded);
}

// An agent restarted (or gave up on a poll) while the old poll's connection stays open: its new
// poll answers the old one empty, and the job goes to the new poll at once instead of waiting in
// the old one for a lease to expire.
TEST_F(RealtimeHttpTest, AgentsNewPollReleasesItsOlderHeldPollSoTheJobGoesToTheLiveOne) {
  ServiceOptions o;
  o.sweep_interval = 1h;
  start(o);
  const std::string key = enroll("h1");
  agent::HttpClientSettings hs;
  hs.ca_file = (dir_ / "cert.pem").string();
  net::CurlHttpClient old_process(hs), new_process(hs);
  auto pollWith = [&](net::CurlHttpClient& client) {
    agent::HttpRequest req;
    req.url = "https://127.0.0.1:" + std::to_string(server_->port()) + "/agent/v1/poll";
    req.headers.emplace_back("Authorization", "NodeKey " + key);
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = R"({"wait_s":60})";
    req.timeout = 90s;
    auto r = client.send(req);
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    if (!r.isOk() || r->status != 200) return std::vector<protocol::Job>{};
    return protocol::parsePollResponse(bj::parse(r->body)).value().jobs;
  };
  auto old_poll = std::async(std::launch::async, [&] { return pollWith(old_process); });
  ASSERT_TRUE(eventually([&] { return service_->queue().heldPolls() == 1; }));
  auto new_poll = std::async(std::launch::async, [&] { return pollWith(new_process); });
  // The old poll is answered (empty) as soon as the new one arrives.
  ASSERT_EQ(old_poll.wait_for(30s), std::future_status::ready);
  EXPECT_TRUE(old_poll.get().empty());
  ASSERT_TRUE(eventually([&] { return service_->queue().heldPolls() == 1; }));
  const std::string run_id = upload("E1");
  ASSERT_EQ(new_poll.wait_for(30s), std::future_status::ready)
      << "the job went to the old poll; the new one would be held for its full 60 s";
  auto jobs = new_poll.get();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].run_id, run_id);
  EXPECT_EQ(jobs[0].attempt, 1);
}

// The agent's process died while its poll was held: the server sees the connection close and
// never leases a job to that poll, so another agent's poll gets it at once.
TEST_F(RealtimeHttpTest, HeldPollWhoseConnectionClosedIsDroppedAndNeverGetsAJob) {
  ServiceOptions o;
  o.sweep_interval = 100ms;
  start(o);
  const std::string k1 = enroll("h1");
  const std::string k2 = enroll("h2");
  std::atomic<bool> abort{false};
  agent::HttpClientSettings hs;
  hs.ca_file = (dir_ / "cert.pem").string();
  hs.abort = &abort;
  net::CurlHttpClient dying(hs);
  auto dead = std::async(std::launch::async, [&] {
    agent::HttpRequest req;
    req.url = "https://127.0.0.1:" + std::to_string(server_->port()) + "/agent/v1/poll";
    req.headers.emplace_back("Authorization", "NodeKey " + k1);
    req.body = R"({"wait_s":60})";
    req.timeout = 90s;
    return dying.send(req).isOk();
  });
  ASSERT_TRUE(eventually([&] { return service_->queue().heldPolls() == 1; }));
  abort = true;  // the client abandons the request and closes its connection
  ASSERT_EQ(dead.wait_for(30s), std::future_status::ready);
  EXPECT_FALSE(dead.get());
  // Without watching the connection the dead poll would stay held for its full 60 s.
  ASSERT_TRUE(eventually([&] { return service_->queue().heldPolls() == 0; }));
  auto live = std::async(std::launch::async, [&] { return poll(k2, 60); });
  ASSERT_TRUE(eventually([&] { return service_->queue().heldPolls() == 1; }));
  const std::string run_id = upload("E1");
  ASSERT_EQ(live.wait_for(30s), std::future_status::ready);
  auto jobs = live.get();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].run_id, run_id);
  EXPECT_EQ(jobs[0].attempt, 1);
}

}  // namespace
}  // namespace tenure::cp
