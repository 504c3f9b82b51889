#include "controlplane/store/sqlite/sqlite_data_key_store.h"

namespace tenure::cp {

const std::vector<std::string>& SqliteDataKeyStore::migrations() {
  static const std::vector<std::string> kMigrations;
  return kMigrations;
}

}  // namespace tenure::cp
