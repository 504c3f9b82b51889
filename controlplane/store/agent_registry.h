#pragma once
// AgentRegistry: the enrolled agents (node keys as SHA-256 hashes only), their revocation and
// health. Part of the control database (ControlStore); SQLite implementation in
// controlplane/store/sqlite/sqlite_control_store*.cpp.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace tenure::cp {

struct AgentRecord {
  std::string agent_id;
  std::string tenant_id;
  std::string host;
  std::string version;
  int64_t enrolled_at_ms = 0;
  int64_t last_seen_ms = 0;
  bool revoked = false;
};

struct EnrolledAgent {
  AgentRecord agent;
  std::string node_key;  // plaintext, returned once
};

// What operators and tenants see of an agent.
struct AgentHealth {
  AgentRecord agent;
  int64_t jobs_done = 0;    // results reported succeeded or partial
  int64_t jobs_failed = 0;  // results reported failed
  std::string last_error;
  int64_t last_error_at_ms = 0;
  std::string current_job;  // the job it holds an unexpired lease on, if any
};

class AgentRegistry {
 public:
  virtual ~AgentRegistry() = default;

  virtual Result<EnrolledAgent> enrollAgent(const std::string& tenant_id, const std::string& host,
                                            const std::string& version) = 0;
  // nullopt when the key is unknown or revoked (the only case that means node_invalid).
  virtual Result<std::optional<AgentRecord>> agentByNodeKey(const std::string& node_key) = 0;
  virtual Status touchAgent(const std::string& agent_id) = 0;
  virtual Result<std::vector<AgentRecord>> listAgents(const std::string& tenant_id) = 0;
  // Revokes an agent of `tenant_id`: its node key answers node_invalid from now on, and it
  // leases nothing more (jobs it holds go to other agents when their lease expires). Idempotent:
  // true when the agent was live until now, false when it was revoked already. not_found when
  // the agent is not the tenant's.
  virtual Result<bool> revokeAgent(const std::string& tenant_id, const std::string& agent_id) = 0;

  // Agent health (sqlite/sqlite_control_store_scheduling.cpp).
  virtual Status recordAgentResult(const std::string& agent_id, bool failed,
                                   const std::string& error) = 0;
  // One tenant's agents; every tenant's when tenant_id is empty.
  virtual Result<std::vector<AgentHealth>> agentHealth(const std::string& tenant_id) = 0;
};

}  // namespace tenure::cp
