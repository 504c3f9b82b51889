#include "controlplane/store/sqlite/sqlite_scim_user_store.h"

namespace tenure::cp {

const std::vector<std::string>& SqliteScimUserStore::migrations() {
  static const std::vector<std::string> kMigrations;
  return kMigrations;
}

}  // namespace tenure::cp
