#pragma once
// The agent's command line, shared by the POSIX entry point and the Windows service/console entry.

#include <atomic>
#include <string>

namespace tenure::agent {

inline constexpr const char* kAgentVersion = "0.1.0";

// Runs a tenure-agent command; `stop` is set by the platform's signal/service handler.
int agentMain(int argc, char** argv, const std::string& host_name, const std::atomic<bool>& stop);

}  // namespace tenure::agent
