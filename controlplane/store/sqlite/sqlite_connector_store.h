#pragma once
// ConnectorStore on SQLite: tables connector_configs and connector_pulls (component
// "connectors") in the tenant database, on the store's connection.

#include <string>
#include <vector>

#include "common/base/clock.h"
#include "controlplane/store/connector_store.h"
#include "controlplane/store/sqlite/sqlite_connection.h"

namespace tenure::cp {

class SqliteConnectorStore final : public ConnectorStore {
 public:
  // The component's migrations (sqlite::migrateComponent), run once when the database opens.
  static constexpr const char* kComponent = "connectors";
  static const std::vector<std::string>& migrations();

  SqliteConnectorStore(SqliteConnection& conn, const Clock& clock) : conn_(conn), clock_(clock) {}

  Result<std::optional<ConnectorConfig>> config(const std::string& kind) override;
  Status saveConfig(const std::string& kind, const std::string& settings,
                    const std::string& sealed_api_key) override;
  Result<bool> removeConnector(const std::string& kind) override;
  Result<ConnectorPullState> pullState(const std::string& kind) override;
  Status savePullState(const std::string& kind, const ConnectorPullState& state) override;

 private:
  SqliteConnection& conn_;
  const Clock& clock_;
};

}  // namespace tenure::cp
