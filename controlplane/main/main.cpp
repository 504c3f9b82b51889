// tenure-cp: the Tenure control plane.
//
//   tenure-cp serve --data-dir DIR --listen ADDR:PORT [--tls-cert PEM --tls-key PEM]
//                   [--threads N] [--lease-seconds N] [--max-body-bytes N] [--drain-seconds N]
//                   [--log-level LEVEL] [--agent-silent-seconds N] [--ticket-check-seconds N]
//                   [--cert-warn-days N] [--master-key-file FILE] [--public-url URL]
//                   [--digest-retry-seconds N] [--clock-offset-file FILE]
//   tenure-cp tenant create --data-dir DIR NAME
//   tenure-cp tenant list --data-dir DIR
//   tenure-cp tenant delete --data-dir DIR TENANT_ID
//   tenure-cp tenant rotate-token --data-dir DIR TENANT_ID [--grace-seconds N]
//   tenure-cp tenant rotate-enroll-secret --data-dir DIR TENANT_ID
//   tenure-cp agent revoke --data-dir DIR TENANT_ID AGENT_ID
//   tenure-cp keys rotate-master --data-dir DIR [--master-key-file FILE]
//   tenure-cp admin-token create|rotate|revoke --data-dir DIR NAME
//   tenure-cp admin-token list --data-dir DIR
//   tenure-cp audit verify --data-dir DIR [--tenant TENANT_ID]
//   tenure-cp routes
//   tenure-cp preview --url URL --token TOKEN [--ca-file PEM] [--timeout-seconds N] FILE

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>

#include <pwd.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "common/base/clock.h"
#include "common/base/logging.h"
#include "common/net/curl_http_client.h"
#include "controlplane/api/control_plane_api.h"
#include "controlplane/main/control_plane.h"
#include "controlplane/audit/access_log.h"
#include "controlplane/http/http_server.h"
#include "controlplane/main/preview.h"
#include "controlplane/secrets/tenant_keys.h"
#include "controlplane/service/tenant_deletion.h"
#include "controlplane/store/control_store.h"
#include "controlplane/store/tenant_store.h"

namespace fs = std::filesystem;
namespace bj = boost::json;
using namespace tenure;

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  tenure-cp serve --data-dir DIR --listen ADDR:PORT [--tls-cert PEM --tls-key PEM]\n"
    "                  [--threads N] [--lease-seconds N] [--max-body-bytes N]\n"
    "                  [--drain-seconds N] [--log-level trace|debug|info|warn|error]\n"
    "                  [--agent-silent-seconds N] [--ticket-check-seconds N]\n"
    "                  [--cert-warn-days N]\n"
    "                  [--public-url URL]   (run links in report digests)\n"
    "                  [--digest-retry-seconds N]   (first retry of a failed digest, default 60)\n"
    "                  [--master-key-file FILE]   (default DIR/master.key)\n"
    "                  [--clock-offset-file FILE]   (tests only: FILE holds milliseconds added to the\n"
    "                                               time, so a test need not wait for a cron slot)\n"
    "  tenure-cp tenant create --data-dir DIR NAME\n"
    "  tenure-cp tenant list --data-dir DIR\n"
    "  tenure-cp tenant delete --data-dir DIR TENANT_ID   (prefer DELETE /admin/v1/tenants/{t}\n"
    "                                                     while the server runs)\n"
    "  tenure-cp tenant rotate-token --data-dir DIR TENANT_ID [--grace-seconds N]\n"
    "                                (N: 0..604800, default 0; the old token works N s more)\n"
    "  tenure-cp tenant rotate-enroll-secret --data-dir DIR TENANT_ID\n"
    "  tenure-cp agent revoke --data-dir DIR TENANT_ID AGENT_ID\n"
    "  tenure-cp keys rotate-master --data-dir DIR [--master-key-file FILE]\n"
    "  tenure-cp admin-token create|rotate|revoke --data-dir DIR NAME\n"
    "                                (rotate and revoke take effect at once)\n"
    "  tenure-cp admin-token list --data-dir DIR\n"
    "  tenure-cp audit verify --data-dir DIR [--tenant TENANT_ID]\n"
    "  tenure-cp routes   (every endpoint with its authentication kind, JSON lines)\n"
    "  tenure-cp preview --url URL --token TOKEN [--ca-file PEM] [--timeout-seconds N]\n"
    "                    FILE.csv|FILE.json\n";

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;
};

Result<Args> parseArgs(int argc, char** argv, int first) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) == 0) {
      auto eq = s.find('=');
      if (eq != std::string::npos) {
        a.flags[s.substr(2, eq - 2)] = s.substr(eq + 1);
      } else if (i + 1 < argc) {
        a.flags[s.substr(2)] = argv[++i];
      } else {
        return configError("flag " + s + " needs a value");
      }
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

int fail(const std::string& message) {
  std::cerr << "tenure-cp: " << message << "\n";
  return 2;
}

Result<int64_t> intFlag(const Args& a, const std::string& name, int64_t fallback) {
  auto it = a.flags.find(name);
  if (it == a.flags.end()) return fallback;
  try {
    size_t pos = 0;
    int64_t v = std::stoll(it->second, &pos);
    if (pos != it->second.size() || v < 0) throw std::invalid_argument("x");
    return v;
  } catch (...) {
    return configError("--" + name + " must be a non-negative integer");
  }
}

// Who runs a command-line change, for the audit log: the invoking login (through sudo too).
std::string cliActor() {
  for (const char* var : {"SUDO_USER", "LOGNAME", "USER"}) {
    if (const char* v = std::getenv(var); v != nullptr && *v != '\0') {
      return std::string("cli:") + v;
    }
  }
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr) {
    return std::string("cli:") + pw->pw_name;
  }
  return "cli:uid " + std::to_string(getuid());
}

// Records a credential change made from the command line in the tenant's access audit chain (the
// control chain when tenant_id is empty), like the same change through the admin API (resource and
// action as there). The plaintext secret is not part of the entry.
void auditCliChange(cp::ControlStore& control, const fs::path& data_dir,
                    const std::string& tenant_id, const std::string& command,
                    const std::string& resource, const std::string& action) {
  cp::TenantStores tenants((data_dir / "tenants").string(), SystemClock::instance());
  cp::AccessAuditLog audit(control, tenants, SystemClock::instance());
  cp::AccessEntry e;
  e.principal_kind = "operator";
  e.principal = cliActor();
  e.tenant_id = tenant_id;
  e.method = "CLI";
  e.path = "tenure-cp " + command;
  e.resource = resource;
  e.action = action;
  e.status = 200;
  if (Status st = audit.record(e); !st.isOk()) {
    // The change is made; say loudly that its record is missing rather than pretend it failed.
    std::cerr << "tenure-cp: warning: the change was made but not recorded in the audit log: "
              << st.toString() << "\n";
  }
}

int tenantCommand(const Args& a) {
  auto dir = a.flags.find("data-dir");
  if (dir == a.flags.end() || a.positional.empty()) return fail(kUsage);
  fs::create_directories(dir->second);
  auto store = cp::ControlStore::open((fs::path(dir->second) / "control.db").string(),
                                      SystemClock::instance());
  if (!store.isOk()) return fail(store.status().toString());
  const std::string& verb = a.positional[0];
  if (verb == "create") {
    if (a.positional.size() != 2) return fail(kUsage);
    auto creds = (*store)->createTenant(a.positional[1]);
    if (!creds.isOk()) return fail(creds.status().toString());
    // The tenant's own store is created now so that a backup taken right away is complete.
    cp::TenantStores tenants((fs::path(dir->second) / "tenants").string(), SystemClock::instance());
    auto ts = tenants.forTenant(creds->tenant.tenant_id);
    if (!ts.isOk()) return fail(ts.status().toString());
    std::cout << bj::serialize(bj::object{{"tenant_id", creds->tenant.tenant_id},
                                          {"name", creds->tenant.name},
                                          {"enroll_secret", creds->enroll_secret},
                                          {"api_token", creds->api_token}})
              << std::endl;
    return 0;
  }
  if (verb == "list") {
    auto list = (*store)->listTenants();
    if (!list.isOk()) return fail(list.status().toString());
    bj::array arr;
    for (const auto& t : *list) {
      arr.push_back(bj::object{{"tenant_id", t.tenant_id},
                               {"name", t.name},
                               {"created_at", formatIso8601Utc(t.created_at_ms / 1000)}});
    }
    std::cout << bj::serialize(bj::object{{"tenants", std::move(arr)}}) << std::endl;
    return 0;
  }
  if (verb == "delete") {
    if (a.positional.size() != 2) return fail(kUsage);
    const std::string& tenant_id = a.positional[1];
    cp::TenantStores tenants((fs::path(dir->second) / "tenants").string(), SystemClock::instance());
    cp::ControlStore& control = **store;
    auto deleted = cp::deleteTenant(
        tenant_id, control, tenants, nullptr,
        [&control](const std::string& t) { return cp::TenantKeys::dropDataKey(control, t); });
    if (!deleted.isOk()) return fail(deleted.status().toString());
    std::cout << bj::serialize(bj::object{{"tenant_id", tenant_id},
                                          {"deleted", true},
                                          {"store_removed", deleted->store_existed}})
              << std::endl;
    return 0;
  }
  if (verb == "rotate-token") {
    if (a.positional.size() != 2) return fail(kUsage);
    for (const auto& [flag, value] : a.flags) {
      if (flag != "data-dir" && flag != "grace-seconds") return fail("unknown flag --" + flag);
    }
    auto grace = intFlag(a, "grace-seconds", 0);
    if (!grace.isOk()) return fail(grace.status().message());
    const std::string& tenant_id = a.positional[1];
    auto rotated = (*store)->rotateApiToken(tenant_id, *grace);
    if (!rotated.isOk()) return fail(rotated.status().toString());
    auditCliChange(**store, dir->second, tenant_id, "tenant rotate-token",
                   "tenants/" + tenant_id + "/api-token/rotate", "rotate");
    std::cout << bj::serialize(bj::object{
                     {"tenant_id", tenant_id},
                     {"api_token", rotated->api_token},
                     {"previous_valid_until",
                      rotated->previous_valid_until_ms > 0
                          ? bj::value(formatIso8601Utc(rotated->previous_valid_until_ms / 1000))
                          : bj::value(nullptr)}})
              << std::endl;
    return 0;
  }
  if (verb == "rotate-enroll-secret") {
    if (a.positional.size() != 2 || a.flags.size() != 1) return fail(kUsage);
    const std::string& tenant_id = a.positional[1];
    auto secret = (*store)->rotateEnrollSecret(tenant_id);
    if (!secret.isOk()) return fail(secret.status().toString());
    auditCliChange(**store, dir->second, tenant_id, "tenant rotate-enroll-secret",
                   "tenants/" + tenant_id + "/enroll-secret/rotate", "rotate");
    std::cout << bj::serialize(bj::object{{"tenant_id", tenant_id}, {"enroll_secret", *secret}})
              << std::endl;
    return 0;
  }
  return fail(kUsage);
}

// Revokes an agent's node key. A running server answers the agent's held poll, if any, when it
// next tries to lease to it; the agent's next request gets 401 node_invalid.
int agentCommand(const Args& a) {
  auto dir = a.flags.find("data-dir");
  if (dir == a.flags.end() || a.flags.size() != 1 || a.positional.size() != 3 ||
      a.positional[0] != "revoke") {
    return fail(kUsage);
  }
  auto store = cp::ControlStore::open((fs::path(dir->second) / "control.db").string(),
                                      SystemClock::instance());
  if (!store.isOk()) return fail(store.status().toString());
  const std::string& tenant_id = a.positional[1];
  const std::string& agent_id = a.positional[2];
  auto revoked = (*store)->revokeAgent(tenant_id, agent_id);
  if (!revoked.isOk()) return fail(revoked.status().toString());
  auditCliChange(**store, dir->second, tenant_id, "agent revoke",
                 "tenants/" + tenant_id + "/agents/" + agent_id + "/revoke", "revoke");
  std::cout << bj::serialize(bj::object{{"tenant_id", tenant_id},
                                        {"agent_id", agent_id},
                                        {"revoked", true},
                                        {"was_revoked_already", !*revoked}})
            << std::endl;
  return 0;
}

std::string masterKeyFile(const Args& a, const fs::path& data_dir) {
  auto it = a.flags.find("master-key-file");
  return it != a.flags.end() ? it->second : (data_dir / "master.key").string();
}

int keysCommand(const Args& a) {
  auto dir = a.flags.find("data-dir");
  if (dir == a.flags.end() || a.positional.size() != 1 || a.positional[0] != "rotate-master") {
    return fail(kUsage);
  }
  auto store = cp::ControlStore::open((fs::path(dir->second) / "control.db").string(),
                                      SystemClock::instance());
  if (!store.isOk()) return fail(store.status().toString());
  const std::string file = masterKeyFile(a, dir->second);
  if (Status st = cp::TenantKeys::rotateMaster(**store, file); !st.isOk()) {
    return fail("master key rotation: " + st.toString());
  }
  std::cout << bj::serialize(bj::object{{"rotated", true}, {"master_key_file", file}})
            << std::endl;
  return 0;
}

// Operator credentials. Every change is recorded in the control chain of the access audit log
// (principal cli:<login>, resource admin-tokens/NAME); the plaintext is printed once, never stored.
int adminTokenCommand(const Args& a) {
  auto dir = a.flags.find("data-dir");
  if (dir == a.flags.end() || a.flags.size() != 1 || a.positional.empty()) return fail(kUsage);
  const std::string& verb = a.positional[0];
  const bool named = verb == "create" || verb == "rotate" || verb == "revoke";
  if (!named && verb != "list") return fail(kUsage);
  if (a.positional.size() != (named ? 2U : 1U)) return fail(kUsage);
  fs::create_directories(dir->second);
  auto store = cp::ControlStore::open((fs::path(dir->second) / "control.db").string(),
                                      SystemClock::instance());
  if (!store.isOk()) return fail(store.status().toString());
  if (verb == "list") {
    auto list = (*store)->listAdminTokens();
    if (!list.isOk()) return fail(list.status().toString());
    bj::array arr;
    for (const auto& t : *list) {
      arr.push_back(bj::object{{"name", t.name},
                               {"created_at", formatIso8601Utc(t.created_at_ms / 1000)}});
    }
    std::cout << bj::serialize(bj::object{{"admin_tokens", std::move(arr)}}) << std::endl;
    return 0;
  }
  const std::string& name = a.positional[1];
  // As the audit log names changes elsewhere: `rotate`/`revoke` on `…/rotate`/`…/revoke`, else
  // `change`.
  const bool create = verb == "create";
  auto audit = [&] {
    auditCliChange(**store, dir->second, "", "admin-token " + verb,
                   "admin-tokens/" + name + (create ? "" : "/" + verb), create ? "change" : verb);
  };
  if (verb == "revoke") {
    if (Status st = (*store)->revokeAdminToken(name); !st.isOk()) return fail(st.toString());
    audit();
    std::cout << bj::serialize(bj::object{{"name", name}, {"revoked", true}}) << std::endl;
    return 0;
  }
  auto issued = create ? (*store)->createAdminToken(name) : (*store)->rotateAdminToken(name);
  if (!issued.isOk()) return fail(issued.status().toString());
  audit();
  std::cout << bj::serialize(bj::object{{"name", issued->admin.name}, {"token", issued->token}})
            << std::endl;
  return 0;
}

// Walks the access audit chains; exit 0 when every chain holds, 1 at a broken link.
int auditCommand(const Args& a) {
  auto dir = a.flags.find("data-dir");
  if (dir == a.flags.end() || a.positional.size() != 1 || a.positional[0] != "verify") {
    return fail(kUsage);
  }
  const std::string tenant = a.flags.count("tenant") ? a.flags.at("tenant") : "";
  return cp::verifyAuditChains(dir->second, tenant, std::cout, std::cerr);
}

int previewCommand(const Args& a) {
  if (!a.flags.count("url") || !a.flags.count("token") || a.positional.size() != 1) {
    return fail(kUsage);
  }
  auto timeout = intFlag(a, "timeout-seconds", 300);
  if (!timeout.isOk()) return fail(timeout.status().message());
  cp::PreviewOptions o;
  o.url = a.flags.at("url");
  while (!o.url.empty() && o.url.back() == '/') o.url.pop_back();
  o.token = a.flags.at("token");
  if (a.flags.count("ca-file")) o.ca_file = a.flags.at("ca-file");
  o.file = a.positional[0];
  o.timeout = std::chrono::seconds(*timeout);
  // A bearer token goes out: https only, and no redirect takes it elsewhere.
  net::HttpClientSettings settings;
  settings.ca_file = o.ca_file;
  settings.https_only = true;
  settings.user_agent = "tenure-cp";
  settings.default_content_type.clear();
  net::CurlHttpClient http(std::move(settings));
  return cp::runPreview(http, o, std::cout, std::cerr);
}

// Prints the route table: every endpoint with its authentication kind (JSON lines). Built on a
// throwaway data directory: the table does not depend on any data.
int routesCommand() {
  std::error_code ec;
  fs::path dir = fs::temp_directory_path() / ("tenure-cp-routes-" + std::to_string(getpid()));
  fs::create_directories(dir, ec);
  if (ec) return fail("cannot create " + dir.string() + ": " + ec.message());
  int rc = 0;
  {
    boost::asio::io_context io;
    cp::ControlPlaneOptions options;
    options.data_dir = dir;
    auto opened = cp::ControlPlane::open(io, SystemClock::instance(), options);
    if (!opened.isOk()) {
      rc = fail(opened.status().toString());
    } else {
      for (const auto& r : (*opened)->api().routes()) {
        std::cout << bj::serialize(bj::object{{"method", r.method},
                                              {"pattern", r.pattern},
                                              {"auth", std::string(cp::api::authKindName(r.auth))},
                                              {"audited", r.audited}})
                  << "\n";
      }
    }
  }
  fs::remove_all(dir, ec);
  return rc;
}

int serveCommand(const Args& a) {
  auto dir_it = a.flags.find("data-dir");
  auto listen_it = a.flags.find("listen");
  if (dir_it == a.flags.end() || listen_it == a.flags.end()) return fail(kUsage);
  const fs::path data_dir = dir_it->second;
  const std::string listen = listen_it->second;
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return fail("--listen must be ADDR:PORT");
  std::string address = listen.substr(0, colon);
  if (address.size() > 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  auto threads = intFlag(a, "threads", 2);
  auto lease_s = intFlag(a, "lease-seconds", 120);
  auto max_body = intFlag(a, "max-body-bytes", 16 * 1024 * 1024);
  auto drain_s = intFlag(a, "drain-seconds", 20);
  auto silent_s = intFlag(a, "agent-silent-seconds", 120);
  auto check_s = intFlag(a, "ticket-check-seconds", 30);
  auto cert_days = intFlag(a, "cert-warn-days", 30);
  auto digest_retry_s = intFlag(a, "digest-retry-seconds", 60);
  Result<int64_t> port = configError("bad port");
  try {
    port = std::stoll(listen.substr(colon + 1));
  } catch (...) {
  }
  for (const auto* r : {&threads, &lease_s, &max_body, &drain_s, &port, &silent_s, &check_s,
                        &cert_days, &digest_retry_s}) {
    if (!r->isOk()) return fail(r->status().message());
  }
  if (*port > 65535) return fail("--listen port out of range");
  const std::string public_url = a.flags.count("public-url") ? a.flags.at("public-url") : "";
  if (!public_url.empty() && public_url.rfind("https://", 0) != 0 &&
      public_url.rfind("http://", 0) != 0) {
    return fail("--public-url must be an http(s) URL");
  }

  std::string level = a.flags.count("log-level") ? a.flags.at("log-level") : "info";
  initLogging("tenure-cp", level);
  std::error_code ec;
  fs::create_directories(data_dir / "tenants", ec);
  if (ec) return fail("cannot create " + data_dir.string() + ": " + ec.message());
  fs::permissions(data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);

  cp::HttpServerOptions http;
  http.address = address;
  http.port = static_cast<uint16_t>(*port);
  http.max_body_bytes = static_cast<size_t>(*max_body);
  if (a.flags.count("tls-cert") || a.flags.count("tls-key")) {
    if (!a.flags.count("tls-cert") || !a.flags.count("tls-key")) {
      return fail("--tls-cert and --tls-key go together");
    }
    http.tls_cert_file = a.flags.at("tls-cert");
    http.tls_key_file = a.flags.at("tls-key");
  } else {
    http.tls_cert_file = (data_dir / "tls" / "cert.pem").string();
    http.tls_key_file = (data_dir / "tls" / "key.pem").string();
    std::vector<std::string> names;
    if (address != "0.0.0.0" && address != "::") names.push_back(address);
    Status st = cp::ensureSelfSignedCertificate(http.tls_cert_file, http.tls_key_file, names);
    if (!st.isOk()) return fail(st.toString());
  }

  // Tests of the whole process move its time forward through this file (docs/testing.md).
  std::unique_ptr<FileOffsetClock> test_clock;
  if (a.flags.count("clock-offset-file")) {
    test_clock = std::make_unique<FileOffsetClock>(a.flags.at("clock-offset-file"));
    spdlog::warn("test clock: the time is moved by the milliseconds in {}",
                 a.flags.at("clock-offset-file"));
  }
  const Clock& clock = test_clock ? static_cast<const Clock&>(*test_clock) : SystemClock::instance();
  boost::asio::io_context io;
  cp::ControlPlaneOptions options;
  options.data_dir = data_dir;
  options.master_key_file = masterKeyFile(a, data_dir);
  options.service.lease = std::chrono::seconds(*lease_s);
  options.tickets.agent_silent_after = std::chrono::seconds(*silent_s);
  options.tickets.check_interval = std::chrono::seconds(std::max<int64_t>(1, *check_s));
  options.tickets.certificate_warn_days = static_cast<int>(*cert_days);
  options.tickets.tls_cert_file = http.tls_cert_file;
  options.digest.public_url = public_url;
  options.digest.retry_base = std::chrono::seconds(std::max<int64_t>(1, *digest_retry_s));
  auto opened = cp::ControlPlane::open(io, clock, options);
  if (!opened.isOk()) return fail(opened.status().toString());
  cp::ControlPlane& control_plane = **opened;
  if (Status st = control_plane.start(); !st.isOk()) return fail(st.toString());

  cp::api::ControlPlaneApi& api = control_plane.api();
  cp::HttpServer server(io, http, [&api](cp::HttpServerRequest req, cp::Responder respond) {
    api.handle(std::move(req), std::move(respond));
  });
  if (Status st = server.start(); !st.isOk()) return fail(st.toString());

  std::string url = "https://" + (address.find(':') != std::string::npos ? "[" + address + "]"
                                                                          : address) +
                    ":" + std::to_string(server.port());
  {
    // Written after the port is bound: tests and scripts wait for this file.
    std::ofstream((data_dir / "tenure-cp.url.tmp").string()) << url << "\n";
    fs::rename(data_dir / "tenure-cp.url.tmp", data_dir / "tenure-cp.url", ec);
  }
  spdlog::info("listening on {} (data dir {}, CA certificate {})", url, data_dir.string(),
               http.tls_cert_file);
  std::cout << bj::serialize(bj::object{{"event", "listening"}, {"url", url}}) << std::endl;

  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& sec, int sig) {
    if (sec) return;
    spdlog::info("signal {}: draining (up to {} s)", sig, *drain_s);
    server.drain(
        std::chrono::seconds(*drain_s),
        [&control_plane] { control_plane.stopAccepting(); },
        [&io] {
          spdlog::info("drained; exiting");
          io.stop();
        });
  });

  std::vector<std::thread> pool;
  for (int64_t i = 1; i < std::max<int64_t>(1, *threads); ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  control_plane.stop();
  fs::remove(data_dir / "tenure-cp.url", ec);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  if (argc < 2) return fail(kUsage);
  std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (cmd == "version" || cmd == "--version") {
    std::cout << "tenure-cp 0.1.0\n";
    return 0;
  }
  if (cmd == "serve") {
    auto a = parseArgs(argc, argv, 2);
    if (!a.isOk()) return fail(a.status().message());
    return serveCommand(*a);
  }
  if (cmd == "tenant") {
    auto a = parseArgs(argc, argv, 2);
    if (!a.isOk()) return fail(a.status().message());
    return tenantCommand(*a);
  }
  if (cmd == "agent") {
    auto a = parseArgs(argc, argv, 2);
    if (!a.isOk()) return fail(a.status().message());
    return agentCommand(*a);
  }
  if (cmd == "keys") {
    auto a = parseArgs(argc, argv, 2);
    if (!a.isOk()) return fail(a.status().message());
    return keysCommand(*a);
  }
  if (cmd == "admin-token") {
    auto a = parseArgs(argc, argv, 2);
    if (!a.isOk()) return fail(a.status().message());
    return adminTokenCommand(*a);
  }
  if (cmd == "audit") {
    auto a = parseArgs(argc, argv, 2);
    if (!a.isOk()) return fail(a.status().message());
    return auditCommand(*a);
  }
  if (cmd == "routes") return routesCommand();
  if (cmd == "preview") {
    auto a = parseArgs(argc, argv, 2);
    if (!a.isOk()) return fail(a.status().message());
    return previewCommand(*a);
  }
  return fail(kUsage);
}
