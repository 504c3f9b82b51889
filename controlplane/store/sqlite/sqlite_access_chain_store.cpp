#include "controlplane/store/sqlite/sqlite_access_chain_store.h"

namespace tenure::cp {

const std::vector<std::string>& SqliteAccessChainStore::migrations() {
  static const std::vector<std::string> kMigrations;
  return kMigrations;
}

}  // namespace tenure::cp
