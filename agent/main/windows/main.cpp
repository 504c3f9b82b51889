// tenure-agent (Windows): the same commands as on Linux (`enroll`, `run`, `version`) on a console,
// plus the Windows service.
//
//   tenure-agent service install|uninstall|start|stop|status   (administrators)
//   tenure-agent config set-password                           (administrators; reads stdin)
//   tenure-agent service-run                                   (started by the SCM only)

#include <windows.h>

#include <atomic>
#include <string>
#include <vector>

#include "agent/main/agent_main.h"
#include "agent/main/windows/secret_files.h"
#include "agent/main/windows/service.h"
#include "common/base/windows/wide.h"

namespace {

std::atomic<bool> g_stop{false};

BOOL WINAPI onConsoleControl(DWORD type) {
  switch (type) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT:
    case CTRL_SHUTDOWN_EVENT:
      g_stop = true;
      return TRUE;  // agentMain returns once it sees the flag
    default:
      return FALSE;
  }
}

std::string hostName() {
  wchar_t buf[256];
  DWORD n = 256;
  if (GetComputerNameExW(ComputerNameDnsFullyQualified, buf, &n)) {
    return tenure::win::narrow({buf, n});
  }
  return "unknown";
}

}  // namespace

int wmain(int argc, wchar_t** wargv) {
  // Arguments as UTF-8, like on Linux.
  std::vector<std::string> args;
  for (int i = 0; i < argc; ++i) args.push_back(tenure::win::narrow(wargv[i]));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const std::string cmd = argc >= 2 ? args[1] : "";
  if (cmd == "service-run") return tenure::agent::winsvc::runAsService();
  if (cmd == "service") return tenure::agent::winsvc::serviceCommand(argc, argv.data());
  if (cmd == "msi-remove-state") return tenure::agent::winsvc::removeStateCommand(argc, argv.data());
  if (cmd == "config") {
    return tenure::agent::winsvc::configCommand(tenure::agent::winsvc::defaultPaths(), argc,
                                                argv.data());
  }

  SetConsoleCtrlHandler(&onConsoleControl, TRUE);
  return tenure::agent::agentMain(argc, argv.data(), hostName(), g_stop);
}
