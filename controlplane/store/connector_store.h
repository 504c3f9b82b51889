#pragma once
// ConnectorStore: HR pull connectors' settings (API keys sealed) and pull state (controlplane/connectors).
// Implemented for SQLite by SqliteConnectorStore (controlplane/store/sqlite/).

namespace tenure::cp {

class ConnectorStore {
 public:
  virtual ~ConnectorStore() = default;
};

}  // namespace tenure::cp
