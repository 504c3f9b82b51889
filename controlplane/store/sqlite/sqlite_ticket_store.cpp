#include "controlplane/store/sqlite/sqlite_ticket_store.h"

namespace tenure::cp {

const std::vector<std::string>& SqliteTicketStore::migrations() {
  static const std::vector<std::string> kMigrations;
  return kMigrations;
}

}  // namespace tenure::cp
