#pragma once
// AccessChainStore on SQLite: tables of the component "audit" in the control or tenant database, on the store's connection.

#include <string>
#include <vector>

#include "common/base/clock.h"
#include "controlplane/store/access_chain_store.h"
#include "controlplane/store/sqlite/sqlite_connection.h"

namespace tenure::cp {

class SqliteAccessChainStore final : public AccessChainStore {
 public:
  // The component's migrations (sqlite::migrateComponent), run once when the database opens.
  static constexpr const char* kComponent = "audit";
  static const std::vector<std::string>& migrations();

  SqliteAccessChainStore(SqliteConnection& conn, const Clock& clock) : conn_(conn), clock_(clock) {}

 private:
  SqliteConnection& conn_;
  const Clock& clock_;
};

}  // namespace tenure::cp
