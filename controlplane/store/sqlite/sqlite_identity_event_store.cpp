#include "controlplane/store/sqlite/sqlite_identity_event_store.h"

namespace tenure::cp {

const std::vector<std::string>& SqliteIdentityEventStore::migrations() {
  static const std::vector<std::string> kMigrations;
  return kMigrations;
}

}  // namespace tenure::cp
