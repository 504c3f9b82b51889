#pragma once
// ScimUserStore on SQLite: table scim_users (component "scim") in the tenant database, on the
// store's connection.

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

  Result<std::optional<ScimUserRow>> byId(const std::string& id) override;
  Result<std::optional<ScimUserRow>> byUserName(const std::string& user_name) override;
  Result<std::optional<ScimUserRow>> byEmployeeId(const std::string& employee_id) override;
  Result<ScimPage> list(ScimMatch match, const std::string& value, int64_t offset,
                        int64_t limit) override;
  Status insert(const ScimUserRow& row) override;
  Status update(const ScimUserRow& row) override;
  Status remove(const std::string& id) override;

 private:
  SqliteConnection& conn_;
  const Clock& clock_;
};

}  // namespace tenure::cp
