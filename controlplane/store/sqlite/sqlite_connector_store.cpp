#include "controlplane/store/sqlite/sqlite_connector_store.h"

namespace tenure::cp {

const std::vector<std::string>& SqliteConnectorStore::migrations() {
  static const std::vector<std::string> kMigrations;
  return kMigrations;
}

}  // namespace tenure::cp
