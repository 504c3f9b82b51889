#pragma once
// The Windows service around agentMain: SCM registration and control, the administrator commands
// (`tenure-agent service install|uninstall|start|stop|status`), and the hand-over of installer
// settings (MSI properties written to the registry) into the agent's config file.

#include <windows.h>

#include <filesystem>
#include <string>

#include "common/base/status.h"

namespace tenure::agent::winsvc {

inline constexpr const wchar_t* kServiceName = L"TenureAgent";
inline constexpr const wchar_t* kDisplayName = L"Tenure Agent";
// Where the MSI writes its properties (HKLM).
inline constexpr const wchar_t* kInstallerKey = L"SOFTWARE\\Tenure\\Agent";
// Registry value (under kInstallerKey) the MSI sets while a major upgrade removes the old product:
// the state must survive that removal. Deleted by the service when it starts.
inline constexpr const wchar_t* kUpgradeMarker = L"UpgradeInProgress";

struct Paths {
  std::filesystem::path data_dir;   // %ProgramData%\Tenure
  std::filesystem::path state_dir;  // <data_dir>\state: node key, spool, secrets (SYSTEM/Admins)
  std::filesystem::path config;     // <data_dir>\agent.json
  std::filesystem::path log_file;   // <data_dir>\logs\agent.log
};
Paths defaultPaths();

// Merges the installer's registry values under `root`\`key` into the JSON config at paths.config
// (creating it when missing). Secrets (EnrollSecret, BindPassword) go to files in the state
// directory and their registry values are deleted, so they stay readable only by SYSTEM and
// Administrators. Values that are absent or empty leave the config as it is (an upgrade without
// properties keeps the configuration). `changed` tells whether anything was written.
Status applyInstallerSettings(HKEY root, const std::wstring& key, const Paths& paths,
                              bool* changed = nullptr);

// Uninstall: removes the agent's data directory (configuration, node key, spool, secrets, logs)
// unless keeping it was asked for, now (`keep`, the MSI's KEEP_STATE on the uninstall) or at
// install time (KEEP_STATE=1 then, recorded as keep_state_on_uninstall in agent.json). `removed`
// tells whether it was removed.
Status removeAgentState(const Paths& paths, bool keep, bool* removed = nullptr);

// `tenure-agent msi-remove-state KEEP_STATE=<value>`: run by the MSI on uninstall (not on an
// upgrade), after the service has stopped. Returns the process exit code.
int removeStateCommand(int argc, char** argv);

// Sets restart-on-failure recovery actions (also for a non-zero exit, not only crashes).
Status setRecoveryActions(SC_HANDLE service);

// `tenure-agent service <verb>`; returns the process exit code.
int serviceCommand(int argc, char** argv);

// Entered when the SCM starts the program (`tenure-agent service-run`): blocks until the service
// stops. Returns the process exit code.
int runAsService();

}  // namespace tenure::agent::winsvc
