#include "agent/main/agent_main.h"

#include <boost/json.hpp>

#include <filesystem>
#include <iostream>
#include <map>
#include <vector>

#include "agent/enroll/node_key_store.h"
#include "agent/main/agent_config.h"
#include "agent/main/agent_runner.h"
#include "agent/main/platform.h"
#include "agent/spool/result_spool.h"
#include "agent/transport/control_plane_client.h"
#include "common/base/logging.h"

namespace fs = std::filesystem;

namespace tenure::agent {

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  tenure-agent enroll --url URL --secret SECRET --state-dir DIR [--ca-file PEM]\n"
    "  tenure-agent run --state-dir DIR --config FILE\n"
    "  tenure-agent version\n";

// The control plane's CA, copied at enrollment so `run` needs no extra flag.
constexpr const char* kCaFileName = "control-plane-ca.pem";

int fail(const std::string& message) {
  std::cerr << "tenure-agent: " << message << "\n";
  return 2;
}

struct Args {
  std::map<std::string, std::string> flags;
  bool ok = true;
};

Args parseFlags(int argc, char** argv, int first) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) != 0) {
      a.ok = false;
      continue;
    }
    auto eq = s.find('=');
    if (eq != std::string::npos) {
      a.flags[s.substr(2, eq - 2)] = s.substr(eq + 1);
    } else if (i + 1 < argc) {
      a.flags[s.substr(2)] = argv[++i];
    } else {
      a.ok = false;
    }
  }
  return a;
}

std::vector<std::string> capabilities() { return {"ldap", "ad-users", "ad-groups", "spool"}; }

// The node key is a bearer credential: it only ever travels over TLS.
bool isHttps(const std::string& url) { return url.rfind("https://", 0) == 0; }

int enrollCommand(const Args& a, const std::string& host, const std::atomic<bool>& stop) {
  if (!a.flags.count("url") || !a.flags.count("secret") || !a.flags.count("state-dir")) {
    return fail(kUsage);
  }
  if (!isHttps(a.flags.at("url"))) return fail("--url must be an https:// URL");
  initLogging("tenure-agent", "info");
  fs::path state = a.flags.at("state-dir");
  std::error_code ec;
  fs::create_directories(state, ec);
  fs::permissions(state, fs::perms::owner_all, fs::perm_options::replace, ec);
  std::string ca;
  if (a.flags.count("ca-file")) {
    fs::copy_file(a.flags.at("ca-file"), state / kCaFileName, fs::copy_options::overwrite_existing,
                  ec);
    if (ec) return fail("cannot copy --ca-file: " + ec.message());
    ca = (state / kCaFileName).string();
  }
  HttpClientSettings hs;
  hs.ca_file = ca;
  hs.user_agent = std::string("tenure-agent/") + kAgentVersion;
  hs.abort = &stop;
  auto http = makeHttpClient(hs);
  auto keys = makeNodeKeyStore(state);
  ControlPlaneClient cp(*http, *keys,
                        ControlPlaneSettings{a.flags.at("url"), a.flags.at("secret"), host,
                                             kAgentVersion, capabilities()});
  if (Status st = cp.enroll(); !st.isOk()) return fail("enrollment failed: " + st.toString());
  std::cout << boost::json::serialize(boost::json::object{
                   {"agent_id", cp.agentId()}, {"state_dir", state.string()}})
            << std::endl;
  return 0;
}

int runCommand(const Args& a, const std::string& host, const std::atomic<bool>& stop) {
  if (!a.flags.count("state-dir") || !a.flags.count("config")) return fail(kUsage);
  fs::path state = a.flags.at("state-dir");
  auto config = loadAgentConfig(a.flags.at("config"), makeSecretFileReader());
  if (!config.isOk()) return fail(config.status().message());
  initLogging("tenure-agent", config->log_level, config->log_file);

  auto keys = makeNodeKeyStore(state);
  auto stored = keys->load();
  if (!stored.isOk()) return fail("node key store: " + stored.status().toString());
  std::string url = config->control_plane_url;
  if (url.empty() && stored->has_value()) url = (*stored)->cp_url;
  if (url.empty()) return fail("not enrolled: run `tenure-agent enroll` or set control_plane_url");
  if (!isHttps(url)) return fail("the control plane URL must be https://");
  if (!stored->has_value() && config->enroll_secret.empty()) {
    return fail("not enrolled and no enroll_secret_file in the config");
  }
  std::string ca = config->control_plane_ca_file;
  if (ca.empty() && fs::exists(state / kCaFileName)) ca = (state / kCaFileName).string();

  auto spool = ResultSpool::open((state / "spool.db").string());
  if (!spool.isOk()) return fail("spool: " + spool.status().toString());

  HttpClientSettings hs;
  hs.ca_file = ca;
  hs.user_agent = std::string("tenure-agent/") + kAgentVersion;
  hs.abort = &stop;
  auto http = makeHttpClient(hs);
  ControlPlaneClient cp(*http, *keys,
                        ControlPlaneSettings{url, config->enroll_secret, host, kAgentVersion,
                                             capabilities()});
  auto directory = makeDirectoryClient(config->ldap);

  RunnerOptions options;
  options.poll_wait_s = config->poll_wait_s;
  options.executor.agent_version = kAgentVersion;
  options.executor.users_base_dn = config->users_base_dn;
  options.executor.leavers_ou = config->leavers_ou;
  options.executor.upn_suffix = config->upn_suffix;
  options.executor.cancel = &stop;
  AgentRunner runner(cp, **spool, *directory, SystemClock::instance(), options);
  spdlog::info("tenure-agent {} running: control plane {}, directory {}", kAgentVersion, url,
               config->ldap.url);
  runner.run(stop);
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int agentMain(int argc, char** argv, const std::string& host_name, const std::atomic<bool>& stop) {
  if (argc < 2) return fail(kUsage);
  std::string cmd = argv[1];
  if (cmd == "version" || cmd == "--version") {
    std::cout << "tenure-agent " << kAgentVersion << "\n";
    return 0;
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    std::cout << kUsage;
    return 0;
  }
  Args a = parseFlags(argc, argv, 2);
  if (!a.ok) return fail(kUsage);
  if (cmd == "enroll") return enrollCommand(a, host_name, stop);
  if (cmd == "run") return runCommand(a, host_name, stop);
  return fail(kUsage);
}

}  // namespace tenure::agent
