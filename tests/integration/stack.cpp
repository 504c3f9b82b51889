#include "tests/integration/stack.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/base/crypto.h"
#include "common/protocol/messages.h"

namespace fs = std::filesystem;
namespace bj = boost::json;

namespace tenure::testing {

std::string cpBinary() { return TENURE_CP_BIN; }
std::string agentBinary() { return TENURE_AGENT_BIN; }

std::string uniqueSuffix() { return "t" + randomHex(4); }

int64_t isoUtcToUnixMillis(const std::string& iso) {
  std::tm tm{};
  const char* end = strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') return -1;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "tenure-it-XXXXXX").string();
  char* p = mkdtemp(tmpl.data());
  path_ = p ? p : "";
}

TempDir::~TempDir() {
  // Keep the logs of a failed run for a post-mortem when asked to.
  if (getenv("TENURE_KEEP_TEST_DIRS")) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

ControlPlaneProcess::ControlPlaneProcess(std::string data_dir, std::vector<std::string> extra_flags)
    : data_dir_(std::move(data_dir)), extra_flags_(std::move(extra_flags)) {
  fs::create_directories(data_dir_);
}

ControlPlaneProcess::~ControlPlaneProcess() {
  if (proc_.running()) proc_.signalAndWait(SIGTERM, std::chrono::seconds(10));
  proc_.kill9();
}

bool ControlPlaneProcess::start() {
  if (port_ == 0) port_ = freePort();
  fs::remove(data_dir_ + "/tenure-cp.url");
  std::vector<std::string> argv = {cpBinary(), "serve", "--data-dir", data_dir_, "--listen",
                                   "127.0.0.1:" + std::to_string(port_)};
  argv.insert(argv.end(), extra_flags_.begin(), extra_flags_.end());
  if (!proc_.start(argv, logPath())) return false;
  return waitFor([&] { return fs::exists(data_dir_ + "/tenure-cp.url") || !proc_.running(); },
                 std::chrono::seconds(20)) &&
         proc_.running();
}

void ControlPlaneProcess::useTestClock() {
  extra_flags_.insert(extra_flags_.end(), {"--clock-offset-file", data_dir_ + ".clock-offset"});
}

void ControlPlaneProcess::moveClockTo(int64_t unix_ms) {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const std::string path = data_dir_ + ".clock-offset";
  std::ofstream(path + ".tmp") << std::max<int64_t>(0, unix_ms - now) << "\n";
  fs::rename(path + ".tmp", path);
}

std::optional<int> ControlPlaneProcess::stop(std::chrono::milliseconds timeout) {
  return proc_.signalAndWait(SIGTERM, timeout);
}

TenantInfo ControlPlaneProcess::createTenant(const std::string& name) {
  auto [rc, out] = runCommand({cpBinary(), "tenant", "create", "--data-dir", data_dir_, name});
  TenantInfo t;
  if (rc != 0) return t;
  auto v = protocol::parseJsonText(out);
  if (!v.isOk() || !v->is_object()) return t;
  const auto& o = v->get_object();
  t.tenant_id = std::string(o.at("tenant_id").get_string());
  t.enroll_secret = std::string(o.at("enroll_secret").get_string());
  t.api_token = std::string(o.at("api_token").get_string());
  return t;
}

AgentProcess::AgentProcess(std::string state_dir, const SambaEnv& env, AgentOptions options)
    : state_dir_(std::move(state_dir)) {
  fs::create_directories(state_dir_);
  writeFile(state_dir_ + "/ad-password", env.password + "\n", 0600);
  bj::object cfg{{"ldap_url", env.url},
                 {"bind_dn", env.bind_dn},
                 {"password_file", state_dir_ + "/ad-password"},
                 {"ca_file", env.ca_file},
                 {"users_base_dn", options.users_ou},
                 {"leavers_ou", options.leavers_ou},
                 {"poll_wait_s", options.poll_wait_s},
                 {"log_level", "debug"}};
  config_path_ = state_dir_ + "/agent.json";
  writeFile(config_path_, bj::serialize(cfg), 0600);
}

AgentProcess::~AgentProcess() {
  if (proc_.running()) proc_.signalAndWait(SIGTERM, std::chrono::seconds(10));
  proc_.kill9();
}

bool AgentProcess::enroll(const std::string& cp_url, const std::string& ca_file,
                          const std::string& secret) {
  auto [rc, out] = runCommand({agentBinary(), "enroll", "--url", cp_url, "--secret", secret,
                               "--state-dir", state_dir_, "--ca-file", ca_file});
  return rc == 0;
}

bool AgentProcess::start() {
  size_t log_size = readFile(logPath()).size();
  if (!proc_.start({agentBinary(), "run", "--state-dir", state_dir_, "--config", config_path_},
                   logPath())) {
    return false;
  }
  // Started means its signal handlers are in place and it is working, not merely forked.
  return waitFor(
      [&] {
        return readFile(logPath()).find("running: control plane", log_size) != std::string::npos ||
               !proc_.running();
      },
      std::chrono::seconds(20)) &&
         proc_.running();
}

std::optional<int> AgentProcess::stop(std::chrono::milliseconds timeout) {
  return proc_.signalAndWait(SIGTERM, timeout);
}

ApiClient::ApiClient(std::string base_url, std::string ca_file)
    : base_url_(std::move(base_url)), http_([&] {
        agent::HttpClientSettings s;
        s.ca_file = ca_file;
        return s;
      }()) {}

ApiResponse ApiClient::request(const std::string& method, const std::string& path,
                               const std::string& auth_header, const std::string& content_type,
                               const std::string& body) {
  agent::HttpRequest req;
  req.method = method;
  req.url = base_url_ + path;
  if (!auth_header.empty()) req.headers.emplace_back("Authorization", auth_header);
  if (!content_type.empty()) req.headers.emplace_back("Content-Type", content_type);
  req.body = body;
  req.timeout = std::chrono::seconds(60);
  ApiResponse out;
  auto r = http_.send(req);
  if (!r.isOk()) {
    out.status = -1;
    out.body = r.status().toString();
    return out;
  }
  out.status = r->status;
  out.body = r->body;
  auto v = protocol::parseJsonText(r->body);
  if (v.isOk()) out.json = *v;
  return out;
}

ApiResponse ApiClient::uploadCsv(const std::string& token, const std::string& csv) {
  return request("POST", "/api/v1/hr/records", "Bearer " + token, "text/csv", csv);
}

ApiResponse ApiClient::getRun(const std::string& token, const std::string& run_id) {
  return request("GET", "/api/v1/runs/" + run_id, "Bearer " + token);
}

ApiResponse ApiClient::waitForRun(const std::string& token, const std::string& run_id,
                                  std::chrono::seconds timeout) {
  ApiResponse last;
  waitFor(
      [&] {
        last = getRun(token, run_id);
        if (last.status != 200 || !last.json.is_object()) return false;
        auto st = last.json.get_object().at("status").get_string();
        return st == "succeeded" || st == "partial" || st == "failed" || st == "held" ||
               st == "rejected";
      },
      timeout);
  return last;
}

std::unique_ptr<LdapProbe> connectProbe(const SambaEnv& env) {
  std::string err;
  return LdapProbe::connect(env.url, env.ca_file, env.bind_dn, env.password, &err);
}

}  // namespace tenure::testing
