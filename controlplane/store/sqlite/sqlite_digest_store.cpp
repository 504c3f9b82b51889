#include "controlplane/store/sqlite/sqlite_digest_store.h"

namespace tenure::cp {

const std::vector<std::string>& SqliteDigestStore::migrations() {
  static const std::vector<std::string> kMigrations;
  return kMigrations;
}

}  // namespace tenure::cp
