#pragma once
// IdentityEventStore on SQLite: table identity_events (component "events") in the tenant
// database, on the store's connection.

#include <string>
#include <vector>

#include "common/base/clock.h"
#include "controlplane/store/identity_event_store.h"
#include "controlplane/store/sqlite/sqlite_connection.h"

namespace tenure::cp {

class SqliteIdentityEventStore final : public IdentityEventStore {
 public:
  // The component's migrations (sqlite::migrateComponent), run once when the database opens.
  static constexpr const char* kComponent = "events";
  static const std::vector<std::string>& migrations();

  SqliteIdentityEventStore(SqliteConnection& conn, const Clock& clock)
      : conn_(conn), clock_(clock) {}

  Status record(const std::function<Status(Recording&)>& work) override;
  Result<IdentityHistory> history(const std::string& employee_id, int64_t as_of_ms) override;
  Result<std::vector<IdentityEvent>> events(const std::string& employee_id, int64_t after_id,
                                            int limit) override;

 private:
  SqliteConnection& conn_;
  const Clock& clock_;
};

}  // namespace tenure::cp
