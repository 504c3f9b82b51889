#pragma once
// TicketIndexStore on SQLite: tables of the component "ticket_index" in the control database, on the store's connection.

#include <string>
#include <vector>

#include "common/base/clock.h"
#include "controlplane/store/ticket_index_store.h"
#include "controlplane/store/sqlite/sqlite_connection.h"

namespace tenure::cp {

class SqliteTicketIndexStore final : public TicketIndexStore {
 public:
  // The component's migrations (sqlite::migrateComponent), run once when the database opens.
  static constexpr const char* kComponent = "ticket_index";
  static const std::vector<std::string>& migrations();

  SqliteTicketIndexStore(SqliteConnection& conn, const Clock& clock) : conn_(conn), clock_(clock) {}

  Status indexTicket(const TicketIndexEntry& entry) override;
  Result<std::vector<TicketIndexEntry>> indexedTickets(const TicketFilter& filter,
                                                       int limit) override;

 private:
  SqliteConnection& conn_;
  const Clock& clock_;
};

}  // namespace tenure::cp
