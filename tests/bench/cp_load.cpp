// tenure_cp_load: load generator for the control plane's benchmarks (docs/benchmarks.md). One
// thread, Boost.Beast/Asio over HTTPS with keep-alive: thousands of simulated agents without
// thousands of processes.
//
//   tenure_cp_load polls    --url U --ca PEM --tenants FILE --agents N [--wait-s 60]
//                           [--hold-seconds 60] [--cp-pid PID] [--concurrency 200]
//   tenure_cp_load dispatch --url U --ca PEM --tenants FILE --jobs-per-tenant N [--cp-pid PID]
//   tenure_cp_load latency  --url U --ca PEM --tenants FILE --samba-env ENV --users-ou DN
//                           [--changes 200] [--gap-ms 200]
//
// FILE holds the JSON lines printed by `tenure-cp tenant create` (tenant_id, enroll_secret,
// api_token). Output: key=value lines on stdout.

#include <sys/resource.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/fixtures/samba_env.h"
#include "tests/integration/ldap_probe.h"

namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace bj = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Args {
  std::string mode;
  std::map<std::string, std::string> flags;
  std::string get(const std::string& k, const std::string& d = "") const {
    auto it = flags.find(k);
    return it == flags.end() ? d : it->second;
  }
  long num(const std::string& k, long d) const {
    auto it = flags.find(k);
    return it == flags.end() ? d : std::stol(it->second);
  }
};

struct TenantLine {
  std::string tenant_id, enroll_secret, api_token;
};

std::vector<TenantLine> readTenants(const std::string& path) {
  std::vector<TenantLine> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto o = bj::parse(line).as_object();
    out.push_back({std::string(o.at("tenant_id").as_string()),
                   std::string(o.at("enroll_secret").as_string()),
                   std::string(o.at("api_token").as_string())});
  }
  return out;
}

long rssKb(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

void raiseFdLimit() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  getrlimit(RLIMIT_NOFILE, &rl);
  std::cout << "fd_limit=" << rl.rlim_cur << std::endl;
}

struct Response {
  int status = 0;  // 0: transport error
  std::string body;
};

// One HTTPS keep-alive connection; requests are issued one at a time (like an agent).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Done = std::function<void(Response)>;
  Connection(asio::io_context& io, ssl::context& tls, tcp::endpoint ep)
      : io_(io), tls_(tls), ep_(ep) {}

  void request(http::verb method, std::string target, std::string auth, std::string body,
               std::string content_type, Done done) {
    req_ = {};
    req_.method(method);
    req_.target(target);
    req_.version(11);
    req_.set(http::field::host, "127.0.0.1");
    req_.keep_alive(true);
    if (!auth.empty()) req_.set(http::field::authorization, auth);
    if (!body.empty()) req_.set(http::field::content_type, content_type);
    req_.body() = std::move(body);
    req_.prepare_payload();
    done_ = std::move(done);
    retried_ = false;
    if (stream_) {
      write();
    } else {
      connect();
    }
  }

 private:
  void connect() {
    stream_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io_, tls_);
    auto self = shared_from_this();
    beast::get_lowest_layer(*stream_).async_connect(ep_, [self](beast::error_code ec) {
      if (ec) return self->fail();
      self->stream_->async_handshake(ssl::stream_base::client, [self](beast::error_code ec2) {
        if (ec2) return self->fail();
        self->write();
      });
    });
  }
  void write() {
    auto self = shared_from_this();
    http::async_write(*stream_, req_, [self](beast::error_code ec, size_t) {
      if (ec) return self->retryOrFail();
      self->res_ = {};
      self->buf_.clear();
      http::async_read(
          *self->stream_, self->buf_, self->res_, [self](beast::error_code ec2, size_t) {
            if (ec2) return self->retryOrFail();
            Response r{static_cast<int>(self->res_.result_int()), std::move(self->res_.body())};
            if (!self->res_.keep_alive()) self->stream_.reset();
            auto done = std::move(self->done_);
            done(std::move(r));
          });
    });
  }
  // The server may close an idle keep-alive connection: reconnect once.
  void retryOrFail() {
    stream_.reset();
    if (!retried_) {
      retried_ = true;
      connect();
      return;
    }
    fail();
  }
  void fail() {
    stream_.reset();
    auto done = std::move(done_);
    done(Response{});
  }

  asio::io_context& io_;
  ssl::context& tls_;
  tcp::endpoint ep_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  beast::flat_buffer buf_;
  Done done_;
  bool retried_ = false;
};

struct Env {
  asio::io_context io;
  ssl::context tls{ssl::context::tls_client};
  tcp::endpoint ep;
  std::vector<TenantLine> tenants;

  explicit Env(const Args& a) {
    tls.load_verify_file(a.get("ca"));
    // The CA is the control plane's own self-signed certificate: trusting only it is the check.
    tls.set_verify_mode(ssl::verify_peer);
    std::string url = a.get("url");  // https://127.0.0.1:PORT
    auto colon = url.rfind(':');
    auto host = url.substr(8, colon - 8);
    ep = tcp::endpoint(asio::ip::make_address(host),
                       static_cast<unsigned short>(std::stoi(url.substr(colon + 1))));
    tenants = readTenants(a.get("tenants"));
  }
  std::shared_ptr<Connection> connection() { return std::make_shared<Connection>(io, tls, ep); }
};

struct Agent {
  std::string tenant_id, api_token, node_key;
  std::shared_ptr<Connection> conn;
  long done = 0, target = 0;
};

// Enrolls `n` agents round robin over the tenants, `concurrency` at a time; each keeps its
// connection open when `keep` (else the pool's connections are shared and dropped afterwards).
std::vector<Agent> enrollAgents(Env& env, size_t n, size_t concurrency, bool keep) {
  std::vector<Agent> agents(n);
  size_t next = 0, finished = 0, failed = 0;
  std::function<void(size_t)> enrollOne = [&](size_t i) {
    Agent& ag = agents[i];
    const TenantLine& t = env.tenants[i % env.tenants.size()];
    ag.tenant_id = t.tenant_id;
    ag.api_token = t.api_token;
    ag.conn = env.connection();
    std::string body = bj::serialize(bj::object{{"enroll_secret", t.enroll_secret},
                                                {"host", "load-" + std::to_string(i)},
                                                {"version", "bench"}});
    ag.conn->request(
        http::verb::post, "/agent/v1/enroll", "", body, "application/json", [&, i](Response r) {
          if (r.status == 200) {
            agents[i].node_key = std::string(bj::parse(r.body).at("node_key").as_string());
          } else {
            ++failed;
          }
          if (!keep) agents[i].conn.reset();
          ++finished;
          if (next < n) enrollOne(next++);
        });
  };
  for (; next < std::min(n, concurrency); ++next) enrollOne(next);
  env.io.restart();
  env.io.run();
  if (failed) std::cerr << failed << " enrollments failed\n";
  return agents;
}

std::string pollBody(int wait_s) { return "{\"wait_s\":" + std::to_string(wait_s) + "}"; }

// ---------------------------------------------------------------------------------------------
// polls: N agents each hold a long-poll; RSS before/after and the /poll rate while held.

int pollsMode(const Args& a) {
  raiseFdLimit();
  Env env(a);
  const size_t n = a.num("agents", 5000);
  // --idle 1: the yardstick. Each agent makes one poll with wait_s 0 and then keeps its TLS
  // keep-alive connection open without a request: what a connection costs without a held poll.
  const bool idle = a.num("idle", 0) != 0;
  const int wait_s = idle ? 0 : static_cast<int>(a.num("wait-s", 60));
  const double hold = static_cast<double>(a.num("hold-seconds", 60));
  const size_t concurrency = a.num("concurrency", 200);
  const long pid = a.num("cp-pid", 0);
  // Extra agents that poll with wait_s 0 as fast as they can during the window: the /poll rate
  // the server sustains while it holds the others.
  const size_t active = a.num("active-pollers", 20);
  auto t_enroll = Clock::now();
  auto agents = enrollAgents(env, n + active, concurrency, /*keep=*/false);
  std::cout << "agents=" << n << "\nenroll_seconds=" << secondsSince(t_enroll) << std::endl;
  std::this_thread::sleep_for(std::chrono::seconds(2));  // let the server free the pool's TLS
  const long rss_before = pid ? rssKb(pid) : -1;

  // Each agent: its own connection, then poll forever (re-poll at once when answered).
  size_t opened = 0, in_flight = 0, errors = 0;
  long answered = 0, answered_in_window = 0, jobs_seen = 0;
  bool measuring = false;
  std::function<void(size_t)> pollOnce = [&](size_t i) {
    ++in_flight;
    agents[i].conn->request(http::verb::post, "/agent/v1/poll", "NodeKey " + agents[i].node_key,
                            pollBody(wait_s), "application/json", [&, i](Response r) {
                              --in_flight;
                              if (r.status != 200) {
                                ++errors;
                              } else {
                                ++answered;
                                if (measuring) ++answered_in_window;
                                if (r.body.find("\"job_id\"") != std::string::npos) ++jobs_seen;
                              }
                              if (!idle) pollOnce(i);
                            });
  };
  // Open connections `concurrency` at a time: a poll counts as opened when it was sent (its
  // connection is up); a handshake storm of 5,000 at once only measures the accept queue.
  asio::steady_timer ramp(env.io);
  std::function<void()> rampStep = [&] {
    size_t batch = std::min(n - opened, concurrency);
    for (size_t k = 0; k < batch; ++k) {
      agents[opened].conn = env.connection();
      pollOnce(opened++);
    }
    if (opened < n) {
      ramp.expires_after(std::chrono::milliseconds(100));
      ramp.async_wait([&](beast::error_code) { rampStep(); });
    }
  };
  auto t_ramp = Clock::now();
  rampStep();
  // Poll the loop in small steps to take the measurements at the right moments.
  auto runFor = [&](double seconds) {
    env.io.restart();
    env.io.run_for(std::chrono::milliseconds(static_cast<long>(seconds * 1000)));
  };
  while (opened < n) runFor(0.1);
  runFor(5.0);  // the last handshakes and polls reach the server
  std::cout << "ramp_seconds=" << secondsSince(t_ramp) << "\nin_flight=" << in_flight
            << "\nerrors_during_ramp=" << errors << std::endl;
  const long rss_held = pid ? rssKb(pid) : -1;
  measuring = true;
  long active_answered = 0, active_errors = 0;
  std::function<void(size_t)> activeOnce = [&](size_t i) {
    if (!measuring) return;
    agents[i].conn->request(http::verb::post, "/agent/v1/poll", "NodeKey " + agents[i].node_key,
                            pollBody(0), "application/json", [&, i](Response r) {
                              if (!measuring) return;
                              if (r.status == 200) {
                                ++active_answered;
                              } else {
                                ++active_errors;
                              }
                              activeOnce(i);
                            });
  };
  auto t_window = Clock::now();
  for (size_t i = n; i < n + active; ++i) {
    agents[i].conn = env.connection();
    activeOnce(i);
  }
  runFor(hold);
  const double window = secondsSince(t_window);
  measuring = false;
  std::cout << "active_pollers=" << active << "\nactive_polls_answered=" << active_answered
            << "\nactive_poll_rate_per_s=" << active_answered / window
            << "\nactive_poll_errors=" << active_errors << std::endl;
  const long rss_end = pid ? rssKb(pid) : -1;
  std::cout << "idle_connections_mode=" << idle << "\nheld_polls_in_flight=" << in_flight
            << "\nwindow_seconds=" << window << "\npolls_answered_in_window=" << answered_in_window
            << "\npoll_rate_per_s=" << answered_in_window / window << "\nerrors=" << errors
            << "\njobs_seen=" << jobs_seen << std::endl;
  if (pid) {
    std::cout << "cp_rss_kb_before=" << rss_before << "\ncp_rss_kb_held=" << rss_held
              << "\ncp_rss_kb_end=" << rss_end << "\nkb_per_held_poll="
              << static_cast<double>(rss_held - rss_before) / static_cast<double>(n) << std::endl;
  }
  return errors == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// dispatch: one agent per tenant; N jobs queued per tenant; agents lease and report as fast as
// they can.

int dispatchMode(const Args& a) {
  raiseFdLimit();
  Env env(a);
  const long per_tenant = a.num("jobs-per-tenant", 50);
  const long pid = a.num("cp-pid", 0);
  auto agents = enrollAgents(env, env.tenants.size(), 100, /*keep=*/true);
  const long total = per_tenant * static_cast<long>(agents.size());

  // Enqueue: one connection per tenant, its uploads one after the other (one record each).
  long uploaded = 0, upload_errors = 0;
  std::vector<std::shared_ptr<Connection>> uploaders;
  std::function<void(size_t, long)> uploadNext = [&](size_t i, long k) {
    if (k == per_tenant) return;
    std::string body = "[{\"employee_id\":\"D" + std::to_string(k) +
                       "\",\"given_name\":\"Dis\",\"family_name\":\"Patch" + std::to_string(k) +
                       "\"}]";
    uploaders[i]->request(http::verb::post, "/api/v1/hr/records", "Bearer " + agents[i].api_token,
                          body, "application/json", [&, i, k](Response r) {
                            if (r.status == 202) {
                              ++uploaded;
                            } else {
                              ++upload_errors;
                            }
                            uploadNext(i, k + 1);
                          });
  };
  auto t_enqueue = Clock::now();
  for (size_t i = 0; i < agents.size(); ++i) {
    uploaders.push_back(env.connection());
    uploadNext(i, 0);
  }
  env.io.restart();
  env.io.run();
  const double enqueue_s = secondsSince(t_enqueue);
  uploaders.clear();
  std::cout << "tenants=" << agents.size() << "\njobs_queued=" << uploaded
            << "\nupload_errors=" << upload_errors << "\nenqueue_seconds=" << enqueue_s
            << "\nenqueue_rate_per_s=" << uploaded / enqueue_s << std::endl;

  // Drain: poll (wait_s 5: a leased job comes back at once), post a succeeded result, repeat.
  long completed = 0, errors = 0, polls = 0;
  std::function<void(size_t)> work = [&](size_t i) {
    Agent& ag = agents[i];
    if (ag.done >= per_tenant) return;
    ++polls;
    ag.conn->request(
        http::verb::post, "/agent/v1/poll", "NodeKey " + ag.node_key, pollBody(5),
        "application/json", [&, i](Response r) {
          Agent& g = agents[i];
          if (r.status != 200) {
            ++errors;
            return work(i);
          }
          auto v = bj::parse(r.body);
          const auto& jobs = v.at("jobs").as_array();
          if (jobs.empty()) return work(i);
          const auto& job = jobs[0].as_object();
          std::string job_id(job.at("job_id").as_string());
          std::string emp(job.at("identities").as_array()[0].at("employee_id").as_string());
          bj::object outcome{{"employee_id", emp},
                             {"action", "created"},
                             {"state", "active"},
                             {"dn", "CN=" + emp + ",OU=Bench,DC=example,DC=test"},
                             {"sam_account_name", "b" + emp}};
          std::string result = bj::serialize(bj::object{
              {"job_id", job_id}, {"status", "succeeded"}, {"outcomes", bj::array{outcome}}});
          g.conn->request(http::verb::post, "/agent/v1/jobs/" + job_id + "/result",
                          "NodeKey " + g.node_key, result, "application/json", [&, i](Response rr) {
                            if (rr.status == 200) {
                              ++completed;
                              ++agents[i].done;
                            } else {
                              ++errors;
                            }
                            work(i);
                          });
        });
  };
  const long rss_before = pid ? rssKb(pid) : -1;
  auto t_drain = Clock::now();
  for (size_t i = 0; i < agents.size(); ++i) work(i);
  env.io.restart();
  env.io.run();
  const double drain_s = secondsSince(t_drain);
  std::cout << "jobs_completed=" << completed << "\njobs_expected=" << total
            << "\nerrors=" << errors << "\npolls=" << polls << "\ndrain_seconds=" << drain_s
            << "\njobs_per_s=" << completed / drain_s << std::endl;
  if (pid)
    std::cout << "cp_rss_kb_before_drain=" << rss_before << "\ncp_rss_kb_after=" << rssKb(pid)
              << std::endl;
  return completed == total && errors == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// latency: HR push of one changed record -> the change visible in AD via an independent LDAP
// read (libldap, not the agent's client).

int latencyMode(const Args& a) {
  Env env(a);
  auto samba = tenure::testing::loadSambaEnvFile(a.get("samba-env"));
  if (!samba.isOk()) {
    std::cerr << samba.status().toString() << "\n";
    return 2;
  }
  std::string error;
  auto probe = tenure::testing::LdapProbe::connect(samba->url, samba->ca_file, samba->bind_dn,
                                                   samba->password, &error);
  if (!probe) {
    std::cerr << "ldap: " << error << "\n";
    return 2;
  }
  const std::string base = a.get("users-ou", samba->base_dn);
  const int changes = static_cast<int>(a.num("changes", 200));
  const int gap_ms = static_cast<int>(a.num("gap-ms", 200));
  const TenantLine& t = env.tenants.at(0);
  auto conn = env.connection();
  auto upload = [&](const std::string& department) {
    Response out;
    std::string body =
        "[{\"employee_id\":\"LAT1\",\"given_name\":\"Lara\",\"family_name\":"
        "\"Latency\",\"department\":\"" +
        department + "\",\"title\":\"Probe\"}]";
    conn->request(http::verb::post, "/api/v1/hr/records", "Bearer " + t.api_token, body,
                  "application/json", [&](Response r) { out = std::move(r); });
    env.io.restart();
    env.io.run();
    return out;
  };
  auto departmentInAd = [&]() {
    auto found = probe->search(base, "(employeeID=LAT1)", {"department"});
    return found.empty() ? std::string("<absent>") : found[0].first("department");
  };
  auto waitFor = [&](const std::string& value, double timeout_s) -> std::optional<double> {
    auto t0 = Clock::now();
    while (secondsSince(t0) < timeout_s) {
      if (departmentInAd() == value) return secondsSince(t0);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return std::nullopt;
  };
  // The joiner first (not measured): later changes are modifies of an existing account.
  auto first = upload("Dept-initial");
  if (first.status != 202 || !waitFor("Dept-initial", 120)) {
    std::cerr << "the joiner never appeared in AD: " << first.status << " " << first.body << "\n";
    return 1;
  }
  std::vector<double> ms;
  int timeouts = 0;
  std::mt19937 rng(42);
  for (int i = 0; i < changes; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms + rng() % (gap_ms + 1)));
    const std::string value = "Dept-" + std::to_string(i) + "-" + std::to_string(rng() % 100000);
    auto t0 = Clock::now();
    auto r = upload(value);
    if (r.status != 202) {
      std::cerr << "upload " << i << ": " << r.status << " " << r.body << "\n";
      return 1;
    }
    auto seen = waitFor(value, 30);
    if (!seen) {
      ++timeouts;
      continue;
    }
    ms.push_back(secondsSince(t0) * 1000.0);
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) {
    if (ms.empty()) return 0.0;
    size_t idx = static_cast<size_t>(std::ceil(p * static_cast<double>(ms.size()))) - 1;
    return ms[std::min(idx, ms.size() - 1)];
  };
  double sum = 0;
  for (double v : ms) sum += v;
  std::cout << "changes=" << changes << "\nseen=" << ms.size() << "\ntimeouts=" << timeouts
            << "\np50_ms=" << pct(0.50) << "\np90_ms=" << pct(0.90) << "\np99_ms=" << pct(0.99)
            << "\nmax_ms=" << (ms.empty() ? 0 : ms.back())
            << "\nmin_ms=" << (ms.empty() ? 0 : ms.front())
            << "\nmean_ms=" << (ms.empty() ? 0 : sum / static_cast<double>(ms.size())) << std::endl;
  return timeouts == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: tenure_cp_load polls|dispatch|latency --url U --ca PEM --tenants FILE "
                 "[...]\n";
    return 2;
  }
  Args a;
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) {
      std::cerr << "bad flag " << k << "\n";
      return 2;
    }
    a.flags[k.substr(2)] = argv[i + 1];
  }
  try {
    if (a.mode == "polls") return pollsMode(a);
    if (a.mode == "dispatch") return dispatchMode(a);
    if (a.mode == "latency") return latencyMode(a);
  } catch (const std::exception& e) {
    std::cerr << "tenure_cp_load: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "unknown mode " << a.mode << "\n";
  return 2;
}
