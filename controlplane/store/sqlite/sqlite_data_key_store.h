#pragma once
// DataKeyStore on SQLite: tables of the component "secrets" in the control database, on the store's connection.

#include <string>
#include <vector>

#include "common/base/clock.h"
#include "controlplane/store/data_key_store.h"
#include "controlplane/store/sqlite/sqlite_connection.h"

namespace tenure::cp {

class SqliteDataKeyStore final : public DataKeyStore {
 public:
  // The component's migrations (sqlite::migrateComponent), run once when the database opens.
  static constexpr const char* kComponent = "secrets";
  static const std::vector<std::string>& migrations();

  SqliteDataKeyStore(SqliteConnection& conn, const Clock& clock) : conn_(conn), clock_(clock) {}

 private:
  SqliteConnection& conn_;
  const Clock& clock_;
};

}  // namespace tenure::cp
