#pragma once
// Test harness for the whole stack: a real tenure-cp and tenure-agent as separate processes on
// loopback, talking HTTPS, with the agent pointed at the Samba AD DC fixture.

#include <boost/json.hpp>

#include <memory>
#include <string>

#include "agent/transport/http_client.h"
#include "common/net/curl_http_client.h"
#include "tests/fixtures/samba_env.h"
#include "tests/integration/ldap_probe.h"
#include "tests/integration/process.h"

namespace tenure::testing {

struct TenantInfo {
  std::string tenant_id;
  std::string enroll_secret;
  std::string api_token;
};

// A temp directory removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class ControlPlaneProcess {
 public:
  // `port` 0 picks a free one at the first start and keeps it across restarts.
  ControlPlaneProcess(std::string data_dir, std::vector<std::string> extra_flags = {});
  ~ControlPlaneProcess();
  bool start();
  std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  void kill9() { proc_.kill9(); }
  bool running() { return proc_.running(); }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  std::string caFile() const { return data_dir_ + "/tls/cert.pem"; }
  std::string logPath() const { return data_dir_ + "/cp.log"; }
  TenantInfo createTenant(const std::string& name);
  // Runs the control plane on a test clock (--clock-offset-file): call before start(). Then
  // moveClockTo() sets its time to `unix_ms` (forward only), taking effect within 100 ms, so a
  // test waits for a cron slot by moving to it instead of sleeping until it comes.
  void useTestClock();
  void moveClockTo(int64_t unix_ms);

 private:
  std::string data_dir_;
  std::vector<std::string> extra_flags_;
  int port_ = 0;
  Process proc_;
};

struct AgentOptions {
  std::string users_ou;
  std::string leavers_ou;
  int poll_wait_s = 5;
};

class AgentProcess {
 public:
  AgentProcess(std::string state_dir, const SambaEnv& env, AgentOptions options);
  ~AgentProcess();
  bool enroll(const std::string& cp_url, const std::string& ca_file, const std::string& secret);
  bool start();
  std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  void kill9() { proc_.kill9(); }
  bool running() { return proc_.running(); }
  pid_t pid() const { return proc_.pid(); }  // e.g. to SIGSTOP it (an agent gone silent)
  std::string logPath() const { return state_dir_ + "/agent.log"; }

 private:
  std::string state_dir_;
  std::string config_path_;
  Process proc_;
};

struct ApiResponse {
  int status = 0;
  boost::json::value json;
  std::string body;
};

// The tenant / agent HTTP API over real HTTPS (libcurl).
class ApiClient {
 public:
  ApiClient(std::string base_url, std::string ca_file);
  ApiResponse request(const std::string& method, const std::string& path,
                      const std::string& auth_header, const std::string& content_type = "",
                      const std::string& body = "");
  ApiResponse uploadCsv(const std::string& token, const std::string& csv);
  ApiResponse getRun(const std::string& token, const std::string& run_id);
  // Polls the run until it is finished (succeeded / partial / failed) or the timeout passes.
  ApiResponse waitForRun(const std::string& token, const std::string& run_id,
                         std::chrono::seconds timeout = std::chrono::seconds(180));

 private:
  std::string base_url_;
  net::CurlHttpClient http_;
};

std::string cpBinary();
std::string agentBinary();
std::unique_ptr<LdapProbe> connectProbe(const SambaEnv& env);
// "t" + random hex, for names unique to one test.
std::string uniqueSuffix();
// "2026-12-07T21:16:00Z" (as the API writes times) -> milliseconds since the epoch; -1 if not.
int64_t isoUtcToUnixMillis(const std::string& iso);

}  // namespace tenure::testing
