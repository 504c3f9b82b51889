// tenure-agent (Linux): enrolls with the control plane and runs jobs against Active Directory.
//
//   tenure-agent enroll --url URL --secret SECRET --state-dir DIR [--ca-file PEM]
//   tenure-agent run --state-dir DIR --config FILE

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>

#include "agent/main/agent_main.h"

namespace {

std::atomic<bool> g_stop{false};

void onSignal(int) { g_stop = true; }

}  // namespace

int main(int argc, char** argv) {
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return tenure::agent::agentMain(argc, argv, host, g_stop);
}
