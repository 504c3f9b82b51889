#pragma once
// ConnectorStore: a tenant's HR pull connectors (controlplane/connectors): each one's settings
// with its API key sealed, and what its last pull did. One row of each per connector kind
// ("bamboohr"). Implemented for SQLite by SqliteConnectorStore (controlplane/store/sqlite/).

#include <cstdint>
#include <optional>
#include <string>

#include "common/base/status.h"

namespace tenure::cp {

// A connector as configured. `settings` is the connector's JSON settings document, stored as
// given; the API key only ever sealed (SecretBox).
struct ConnectorConfig {
  std::string kind;
  std::string settings;
  std::string sealed_api_key;
  int64_t updated_at_ms = 0;
};

// What the last pull of a tenant's connector did (GET shows it).
struct ConnectorPullState {
  std::string status = "never";  // never | running | succeeded | failed
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;
  int64_t last_success_at_ms = 0;
  std::string run_id;
  int records = 0;   // employees read from the source
  int rejected = 0;  // rows refused (mapping or validation)
  int pages = 0;
  std::string last_error;
};

class ConnectorStore {
 public:
  virtual ~ConnectorStore() = default;

  // nullopt when no connector of `kind` is configured.
  virtual Result<std::optional<ConnectorConfig>> config(const std::string& kind) = 0;
  // Creates or replaces the connector of `kind` (updated_at_ms: now).
  virtual Status saveConfig(const std::string& kind, const std::string& settings,
                            const std::string& sealed_api_key) = 0;
  // Removes the connector of `kind` and its pull state, together. false when none was
  // configured (any pull state is removed all the same).
  virtual Result<bool> removeConnector(const std::string& kind) = 0;

  // The last pull of `kind`; a default ConnectorPullState (status "never") when there was none.
  virtual Result<ConnectorPullState> pullState(const std::string& kind) = 0;
  // Replaces the pull state of `kind`.
  virtual Status savePullState(const std::string& kind, const ConnectorPullState& state) = 0;
};

}  // namespace tenure::cp
