#pragma once
// ScimUserStore on SQLite: tables of the component "scim" in the tenant database, on the store's connection.

#include <string>
#include <vector>

#include "common/base/clock.h"
#include "controlplane/store/scim_user_store.h"
#include "controlplane/store/sqlite/sqlite_connection.h"

namespace tenure::cp {

class SqliteScimUserStore final : public ScimUserStore {
 public:
  // The component's migrations (sqlite::migrateComponent), run once when the database opens.
  static constexpr const char* kComponent = "scim";
  static const std::vector<std::string>& migrations();

  SqliteScimUserStore(SqliteConnection& conn, const Clock& clock) : conn_(conn), clock_(clock) {}

 private:
  SqliteConnection& conn_;
  const Clock& clock_;
};

}  // namespace tenure::cp
