#pragma once
// TicketStore on SQLite: tables of the component "tickets" in the tenant database, on the store's connection.

#include <string>
#include <vector>

#include "common/base/clock.h"
#include "controlplane/store/ticket_store.h"
#include "controlplane/store/sqlite/sqlite_connection.h"

namespace tenure::cp {

class SqliteTicketStore final : public TicketStore {
 public:
  // The component's migrations (sqlite::migrateComponent), run once when the database opens.
  static constexpr const char* kComponent = "tickets";
  static const std::vector<std::string>& migrations();

  SqliteTicketStore(SqliteConnection& conn, const Clock& clock) : conn_(conn), clock_(clock) {}

 private:
  SqliteConnection& conn_;
  const Clock& clock_;
};

}  // namespace tenure::cp
