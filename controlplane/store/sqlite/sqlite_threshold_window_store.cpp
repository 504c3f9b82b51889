#include "controlplane/store/sqlite/sqlite_threshold_window_store.h"

namespace tenure::cp {

const std::vector<std::string>& SqliteThresholdWindowStore::migrations() {
  static const std::vector<std::string> kMigrations;
  return kMigrations;
}

}  // namespace tenure::cp
