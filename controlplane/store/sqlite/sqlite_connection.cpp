#include "controlplane/store/sqlite/sqlite_connection.h"

#include <string>

namespace tenure::cp {

Status migrateComponents(sqlite::Database& db, const std::vector<ComponentSchema>& components) {
  for (const ComponentSchema& c : components) {
    if (c.migrations.empty()) continue;
    RETURN_IF_ERROR(sqlite::migrateComponent(db, c.component, c.migrations)
                        .withContext(std::string(c.component) + " schema"));
  }
  return Status::ok();
}

}  // namespace tenure::cp
