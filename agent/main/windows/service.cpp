#include "agent/main/windows/service.h"

#include <knownfolders.h>
#include <objbase.h>
#include <shlobj.h>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

#include "agent/enroll/windows/dpapi_node_key_store.h"
#include "agent/main/agent_main.h"
#include "agent/main/windows/secret_files.h"
#include "common/base/files.h"
#include "common/base/logging.h"
#include "common/base/windows/wide.h"

namespace fs = std::filesystem;

namespace tenure::agent::winsvc {

namespace {

using win::narrow;
using win::widen;

// The agent notices a raised stop flag within about a second (held long-polls are abandoned); the
// hint leaves room for finishing the current directory operation.
constexpr DWORD kStopWaitHintMs = 10'000;
constexpr DWORD kStartWaitHintMs = 10'000;

std::atomic<bool> g_stop{false};
SERVICE_STATUS_HANDLE g_status_handle = nullptr;
SERVICE_STATUS g_status{};
std::mutex g_status_mu;

void reportStatus(DWORD state, DWORD exit_code = NO_ERROR, DWORD wait_hint = 0,
                  DWORD specific = 0) {
  std::lock_guard lock(g_status_mu);
  g_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  g_status.dwCurrentState = state;
  g_status.dwWin32ExitCode = exit_code;
  g_status.dwServiceSpecificExitCode = specific;
  g_status.dwWaitHint = wait_hint;
  g_status.dwControlsAccepted =
      state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
  const bool pending = state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING;
  g_status.dwCheckPoint = pending ? g_status.dwCheckPoint + 1 : 0;
  if (g_status_handle != nullptr) SetServiceStatus(g_status_handle, &g_status);
}

DWORD WINAPI controlHandler(DWORD control, DWORD, LPVOID, LPVOID) {
  switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
      g_stop = true;
      reportStatus(SERVICE_STOP_PENDING, NO_ERROR, kStopWaitHintMs);
      return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
      return NO_ERROR;
    default:
      return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

std::string hostName() {
  wchar_t buf[256];
  DWORD n = 256;
  if (GetComputerNameExW(ComputerNameDnsFullyQualified, buf, &n)) return narrow({buf, n});
  n = 256;
  if (GetComputerNameW(buf, &n)) return narrow({buf, n});
  return "unknown";
}

Result<std::wstring> readRegistryString(HKEY key, const wchar_t* name) {
  DWORD type = 0;
  DWORD bytes = 0;
  LSTATUS rc = RegQueryValueExW(key, name, nullptr, &type, nullptr, &bytes);
  if (rc == ERROR_FILE_NOT_FOUND) return std::wstring();
  if (rc != ERROR_SUCCESS) return configError("registry value " + narrow(name), rc);
  if (type == REG_DWORD) {
    DWORD v = 0;
    bytes = sizeof v;
    RegQueryValueExW(key, name, nullptr, nullptr, reinterpret_cast<BYTE*>(&v), &bytes);
    return std::to_wstring(v);
  }
  if (type != REG_SZ && type != REG_EXPAND_SZ) {
    return configError("registry value " + narrow(name) + " is not a string");
  }
  std::wstring s(bytes / sizeof(wchar_t) + 1, L'\0');
  bytes = static_cast<DWORD>(s.size() * sizeof(wchar_t));
  rc = RegQueryValueExW(key, name, nullptr, nullptr, reinterpret_cast<BYTE*>(s.data()), &bytes);
  if (rc != ERROR_SUCCESS) return configError("registry value " + narrow(name), rc);
  s.resize(wcsnlen(s.c_str(), s.size()));
  return s;
}

bool truthy(const std::wstring& v) { return v == L"1" || v == L"true" || v == L"yes"; }

}  // namespace

Paths defaultPaths() {
  // The known-folder API, not %ProgramData%: a service's environment is not the user's.
  fs::path base = L"C:\\ProgramData";
  PWSTR known = nullptr;
  if (SUCCEEDED(SHGetKnownFolderPath(FOLDERID_ProgramData, 0, nullptr, &known))) base = known;
  if (known != nullptr) CoTaskMemFree(known);
  Paths p;
  p.data_dir = base / L"Tenure";
  p.state_dir = p.data_dir / L"state";
  p.config = p.data_dir / L"agent.json";
  p.log_file = p.data_dir / L"logs" / L"agent.log";
  return p;
}

Status applyInstallerSettings(HKEY root, const std::wstring& key, const Paths& paths,
                              bool* changed) {
  if (changed != nullptr) *changed = false;
  HKEY k = nullptr;
  LSTATUS rc = RegOpenKeyExW(root, key.c_str(), 0, KEY_READ | KEY_SET_VALUE | KEY_WOW64_64KEY, &k);
  if (rc == ERROR_FILE_NOT_FOUND) return Status::ok();
  if (rc != ERROR_SUCCESS) return configError("cannot open registry key " + narrow(key), rc);
  struct KeyCloser {
    HKEY k;
    ~KeyCloser() { RegCloseKey(k); }
  } closer{k};

  // Registry value -> config field (strings).
  static const std::pair<const wchar_t*, const char*> kStrings[] = {
      {L"ControlPlaneUrl", "control_plane_url"},
      {L"ControlPlaneCaFile", "control_plane_ca_file"},
      {L"LdapUrl", "ldap_url"},
      {L"BindDn", "bind_dn"},
      {L"UsersBaseDn", "users_base_dn"},
      {L"SearchBaseDn", "search_base_dn"},
      {L"LeaversOu", "leavers_ou"},
      {L"UpnSuffix", "upn_suffix"},
      {L"LdapCaFile", "ca_file"},
      {L"LogLevel", "log_level"},
  };
  static const std::pair<const wchar_t*, const char*> kBools[] = {
      {L"StartTls", "start_tls"},
      {L"AllowPlainLdap", "allow_plain_ldap"},
      {L"KeepState", "keep_state_on_uninstall"},
  };
  // Registry value -> config field naming the DPAPI file that keeps it.
  static const std::pair<const wchar_t*, const char*> kSecrets[] = {
      {L"EnrollSecret", kEnrollSecretField},
      {L"BindPassword", kPasswordField},
  };

  boost::json::object config;
  {
    std::ifstream in(paths.config, std::ios::binary);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      boost::system::error_code ec;
      auto v = boost::json::parse(ss.str(), ec);
      if (!ec && v.is_object()) config = v.as_object();
    }
  }
  bool dirty = false;
  for (const auto& [name, field] : kStrings) {
    ASSIGN_OR_RETURN(std::wstring v, readRegistryString(k, name));
    if (v.empty()) continue;
    const std::string value = narrow(v);
    if (!config.contains(field) || config.at(field) != boost::json::value(value)) {
      config[field] = value;
      dirty = true;
    }
  }
  for (const auto& [name, field] : kBools) {
    ASSIGN_OR_RETURN(std::wstring v, readRegistryString(k, name));
    if (v.empty()) continue;
    const bool value = truthy(v);
    if (!config.contains(field) || config.at(field) != boost::json::value(value)) {
      config[field] = value;
      dirty = true;
    }
  }
  std::vector<std::pair<const wchar_t*, std::string>> secrets;
  for (const auto& [name, field] : kSecrets) {
    ASSIGN_OR_RETURN(std::wstring v, readRegistryString(k, name));
    if (v.empty()) continue;
    secrets.emplace_back(name, narrow(v));
    SecureZeroMemory(v.data(), v.size() * sizeof(wchar_t));
  }
  if (!config.contains("log_file")) {
    config["log_file"] = paths.log_file.string();
    dirty = true;
  }
  if (dirty) {
    std::error_code ec;
    fs::create_directories(paths.config.parent_path(), ec);
    fs::create_directories(paths.log_file.parent_path(), ec);
    // Atomically (a crash mid-write must not leave a config the service cannot start with); the
    // ACL is the folder's, as for every config writer (secret_files.cpp).
    RETURN_IF_ERROR(replaceFileAtomically(paths.config, boost::json::serialize(config),
                                          FileAccess::kInherited));
  }
  // DPAPI-protected into the state directory (never in clear on disk); the registry copy goes only
  // once that worked, since it is readable more widely than the state directory.
  for (auto& [name, secret] : secrets) {
    const char* field = nullptr;
    for (const auto& [n, f] : kSecrets) {
      if (n == name) field = f;
    }
    const Status st = storeSecret(paths, field, secret);
    SecureZeroMemory(secret.data(), secret.size());
    RETURN_IF_ERROR(st);
    RegDeleteValueW(k, name);
  }
  // Left by the MSI of an upgrade so that removing the old product keeps the state; the service of
  // the new one runs, so the upgrade is over.
  RegDeleteValueW(k, kUpgradeMarker);
  if (changed != nullptr) *changed = dirty || !secrets.empty();
  return Status::ok();
}

Status removeAgentState(const Paths& paths, bool keep, bool* removed) {
  if (removed != nullptr) *removed = false;
  std::error_code ec;
  if (!fs::exists(paths.data_dir, ec)) return Status::ok();
  if (!keep) {
    std::ifstream in(paths.config, std::ios::binary);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      boost::system::error_code jec;
      auto v = boost::json::parse(ss.str(), jec);
      if (!jec && v.is_object()) {
        const auto* k = v.as_object().if_contains("keep_state_on_uninstall");
        keep = k != nullptr && k->is_bool() && k->as_bool();
      }
    }
  }
  if (keep) return Status::ok();
  fs::remove_all(paths.data_dir, ec);
  if (ec) return configError("cannot remove " + paths.data_dir.string() + ": " + ec.message());
  if (removed != nullptr) *removed = true;
  return Status::ok();
}

int removeStateCommand(int argc, char** argv) {
  bool keep = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("KEEP_STATE=", 0) == 0) keep = truthy(widen(a.substr(11)));
  }
  const Paths paths = defaultPaths();
  HKEY k = nullptr;
  if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, kInstallerKey, 0, KEY_READ | KEY_WOW64_64KEY, &k) ==
      ERROR_SUCCESS) {
    const bool upgrading =
        RegQueryValueExW(k, kUpgradeMarker, nullptr, nullptr, nullptr, nullptr) == ERROR_SUCCESS;
    RegCloseKey(k);
    if (upgrading) {
      std::cout << "upgrade in progress: kept " << paths.data_dir.string() << "\n";
      return 0;
    }
  }
  bool removed = false;
  if (Status st = removeAgentState(paths, keep, &removed); !st.isOk()) {
    std::cerr << "tenure-agent: " << st.message() << "\n";
    return 1;
  }
  std::cout << (removed ? "removed " : "kept ") << paths.data_dir.string() << "\n";
  return 0;
}

Status setRecoveryActions(SC_HANDLE service) {
  SC_ACTION actions[] = {
      {SC_ACTION_RESTART, 10'000},
      {SC_ACTION_RESTART, 30'000},
      {SC_ACTION_RESTART, 60'000},
  };
  SERVICE_FAILURE_ACTIONSW fa{};
  fa.dwResetPeriod = 24 * 60 * 60;  // a day without failures resets the counter
  fa.cActions = 3;
  fa.lpsaActions = actions;
  if (!ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS, &fa)) {
    return internalError("ChangeServiceConfig2W(failure actions): " +
                             win::errorText(GetLastError()),
                         static_cast<int>(GetLastError()));
  }
  // Also when the agent exits with an error (bad config, lost state), not only on a crash. Wine
  // does not implement this level; Windows does (Vista+). Without it only crashes restart.
  SERVICE_FAILURE_ACTIONS_FLAG flag{TRUE};
  if (!ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &flag)) {
    spdlog::warn("recovery on non-crash failures not set: {}", win::errorText(GetLastError()));
  }
  return Status::ok();
}

namespace {

void applyRecoveryToSelf() {
  SC_HANDLE scm = OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT);
  if (scm == nullptr) return;
  SC_HANDLE svc = OpenServiceW(scm, kServiceName, SERVICE_CHANGE_CONFIG);
  if (svc != nullptr) {
    // The MSI cannot set recovery actions (wixl has no ServiceConfig); the service sets its own.
    if (Status st = setRecoveryActions(svc); !st.isOk()) spdlog::warn("{}", st.message());
    CloseServiceHandle(svc);
  }
  CloseServiceHandle(scm);
}

bool hasDirectorySettings(const fs::path& config) {
  std::ifstream in(config, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  auto v = boost::json::parse(ss.str(), ec);
  return !ec && v.is_object() && v.as_object().contains("ldap_url");
}

int runAgent(const Paths& paths) {
  std::vector<std::string> args = {"tenure-agent", "run", "--state-dir", paths.state_dir.string(),
                                   "--config", paths.config.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return agentMain(static_cast<int>(argv.size()), argv.data(), hostName(), g_stop);
}

void WINAPI serviceMain(DWORD, LPWSTR*) {
  g_status_handle = RegisterServiceCtrlHandlerExW(kServiceName, &controlHandler, nullptr);
  if (g_status_handle == nullptr) return;
  reportStatus(SERVICE_START_PENDING, NO_ERROR, kStartWaitHintMs);

  const Paths paths = defaultPaths();
  std::error_code ec;
  fs::create_directories(paths.log_file.parent_path(), ec);
  initLogging("tenure-agent", "info", paths.log_file.string());
  if (Status st = ensurePrivateDirectory(paths.state_dir); !st.isOk()) {
    spdlog::error("state directory: {}", st.toString());
  }
  bool changed = false;
  if (Status st = applyInstallerSettings(HKEY_LOCAL_MACHINE, kInstallerKey, paths, &changed);
      !st.isOk()) {
    spdlog::error("installer settings: {}", st.toString());
  } else if (changed) {
    spdlog::info("configuration updated from the installer settings: {}", paths.config.string());
  }
  // Secrets left in clear by an older agent (upgrade) become DPAPI blobs.
  bool converted = false;
  if (Status st = protectPlainSecrets(paths, &converted); !st.isOk()) {
    spdlog::error("protecting stored secrets: {}", st.toString());
  } else if (converted) {
    spdlog::warn("stored secrets moved to DPAPI-protected files in {}", paths.state_dir.string());
  }
  applyRecoveryToSelf();

  reportStatus(SERVICE_RUNNING);
  spdlog::warn("service started (tenure-agent {})", kAgentVersion);
  int rc = 0;
  if (!hasDirectorySettings(paths.config)) {
    // Installed without settings: stay up (the MSI's StartServices must not fail and roll the
    // install back) so an administrator can complete agent.json and restart.
    spdlog::error("no directory settings (ldap_url) in {}; waiting for a stop",
                  paths.config.string());
    while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } else {
    std::thread agent([&] { rc = runAgent(paths); });
    agent.join();
  }
  if (rc != 0 && !g_stop) {
    spdlog::error("agent exited with code {}; the service stops (recovery restarts it)", rc);
    reportStatus(SERVICE_STOPPED, ERROR_SERVICE_SPECIFIC_ERROR, 0, static_cast<DWORD>(rc));
    return;
  }
  spdlog::warn("service stopped");
  spdlog::default_logger()->flush();
  reportStatus(SERVICE_STOPPED);
}

struct ScHandle {
  SC_HANDLE h = nullptr;
  ~ScHandle() {
    if (h != nullptr) CloseServiceHandle(h);
  }
};

const char* stateName(DWORD s) {
  switch (s) {
    case SERVICE_STOPPED:
      return "stopped";
    case SERVICE_START_PENDING:
      return "start_pending";
    case SERVICE_STOP_PENDING:
      return "stop_pending";
    case SERVICE_RUNNING:
      return "running";
    case SERVICE_CONTINUE_PENDING:
      return "continue_pending";
    case SERVICE_PAUSE_PENDING:
      return "pause_pending";
    case SERVICE_PAUSED:
      return "paused";
    default:
      return "unknown";
  }
}

int winFail(const std::string& what) {
  const DWORD err = GetLastError();
  std::cerr << "tenure-agent: " << what << ": " << win::errorText(err) << "\n";
  return 1;
}

// Waits until the service leaves `pending`, following its wait hints (at most `limit`).
DWORD waitWhile(SC_HANDLE svc, DWORD pending, std::chrono::milliseconds limit) {
  SERVICE_STATUS_PROCESS st{};
  DWORD needed = 0;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (!QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&st), sizeof st,
                              &needed)) {
      return SERVICE_STOPPED;
    }
    if (st.dwCurrentState != pending || std::chrono::steady_clock::now() > deadline) {
      return st.dwCurrentState;
    }
    const DWORD hint = std::clamp<DWORD>(st.dwWaitHint / 10, 100, 1000);
    Sleep(hint);
  }
}

}  // namespace

int runAsService() {
  SERVICE_TABLE_ENTRYW table[] = {{const_cast<wchar_t*>(kServiceName), &serviceMain},
                                  {nullptr, nullptr}};
  if (!StartServiceCtrlDispatcherW(table)) {
    return winFail("not started by the service control manager (use `tenure-agent run` on a "
                   "console)");
  }
  return 0;
}

int serviceCommand(int argc, char** argv) {
  const std::string verb = argc >= 3 ? argv[2] : "";
  const std::string usage =
      "usage: tenure-agent service install|uninstall|start|stop|status\n";
  if (verb.empty()) {
    std::cerr << usage;
    return 2;
  }
  ScHandle scm{OpenSCManagerW(nullptr, nullptr,
                              SC_MANAGER_CONNECT |
                                  (verb == "install" ? SC_MANAGER_CREATE_SERVICE : 0))};
  if (scm.h == nullptr) return winFail("cannot open the service control manager");

  if (verb == "install") {
    wchar_t exe[MAX_PATH];
    DWORD n = GetModuleFileNameW(nullptr, exe, MAX_PATH);
    if (n == 0 || n == MAX_PATH) return winFail("cannot find the program path");
    const std::wstring command = L"\"" + std::wstring(exe, n) + L"\" service-run";
    ScHandle svc{CreateServiceW(scm.h, kServiceName, kDisplayName, SERVICE_ALL_ACCESS,
                                SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                                SERVICE_ERROR_NORMAL, command.c_str(), nullptr, nullptr,
                                nullptr, nullptr, nullptr)};
    if (svc.h == nullptr) return winFail("cannot create the service");
    SERVICE_DESCRIPTIONW desc{const_cast<wchar_t*>(
        L"Keeps Active Directory accounts in step with the HR system (Tenure).")};
    ChangeServiceConfig2W(svc.h, SERVICE_CONFIG_DESCRIPTION, &desc);
    // Delayed auto-start: the directory and network are up by then on a domain controller's peer.
    SERVICE_DELAYED_AUTO_START_INFO delayed{TRUE};
    ChangeServiceConfig2W(svc.h, SERVICE_CONFIG_DELAYED_AUTO_START_INFO, &delayed);
    if (Status st = setRecoveryActions(svc.h); !st.isOk()) {
      std::cerr << "tenure-agent: " << st.message() << "\n";
      return 1;
    }
    std::cout << "installed service " << narrow(kServiceName) << "\n";
    return 0;
  }

  DWORD access = SERVICE_QUERY_STATUS;
  if (verb == "start") access |= SERVICE_START;
  if (verb == "stop") access |= SERVICE_STOP;
  if (verb == "uninstall") access |= SERVICE_STOP | DELETE;
  ScHandle svc{OpenServiceW(scm.h, kServiceName, access)};
  if (svc.h == nullptr) return winFail("cannot open service " + narrow(kServiceName));

  if (verb == "start") {
    if (!StartServiceW(svc.h, 0, nullptr) && GetLastError() != ERROR_SERVICE_ALREADY_RUNNING) {
      return winFail("cannot start the service");
    }
    const DWORD s = waitWhile(svc.h, SERVICE_START_PENDING, std::chrono::seconds(30));
    std::cout << stateName(s) << "\n";
    return s == SERVICE_RUNNING ? 0 : 1;
  }
  if (verb == "stop" || verb == "uninstall") {
    SERVICE_STATUS st{};
    if (ControlService(svc.h, SERVICE_CONTROL_STOP, &st)) {
      waitWhile(svc.h, SERVICE_STOP_PENDING, std::chrono::seconds(30));
    } else if (GetLastError() != ERROR_SERVICE_NOT_ACTIVE) {
      if (verb == "stop") return winFail("cannot stop the service");
    }
    if (verb == "stop") {
      std::cout << "stopped\n";
      return 0;
    }
    if (!DeleteService(svc.h)) return winFail("cannot delete the service");
    std::cout << "uninstalled service " << narrow(kServiceName) << "\n";
    return 0;
  }
  if (verb == "status") {
    SERVICE_STATUS_PROCESS st{};
    DWORD needed = 0;
    if (!QueryServiceStatusEx(svc.h, SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&st),
                              sizeof st, &needed)) {
      return winFail("cannot query the service");
    }
    std::cout << stateName(st.dwCurrentState) << "\n";
    return st.dwCurrentState == SERVICE_RUNNING ? 0 : 3;
  }
  std::cerr << usage;
  return 2;
}

}  // namespace tenure::agent::winsvc
