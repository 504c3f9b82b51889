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

  Result<std::optional<TicketChange>> editTicketFor(const std::string& detector,
                                                    const std::string& subject,
                                                    const TicketEdit& edit) override;
  Result<std::optional<TicketChange>> editTicket(const std::string& ticket_id,
                                                 const TicketEdit& edit) override;
  Result<std::vector<Ticket>> tickets(const std::string& state, int limit) override;
  Result<std::optional<Ticket>> ticket(const std::string& ticket_id) override;
  Status replaceSinks(const std::vector<StoredTicketSink>& sinks) override;
  Result<std::vector<StoredTicketSink>> sinks() override;
  Result<std::vector<PendingNotification>> pendingNotifications() override;
  Result<std::vector<PendingNotification>> notifications(const std::string& ticket_id) override;
  Result<std::vector<DueNotification>> dueNotifications(int64_t now_ms, int limit) override;
  Result<std::optional<ExternalTicketRecord>> externalRecord(const std::string& ticket_id,
                                                             const std::string& sink_id) override;
  Status recordDelivery(const DeliveryAttempt& attempt) override;

 private:
  // Under the connection's lock: the ticket `where` names, edited and stored in one transaction.
  Result<std::optional<TicketChange>> edit(sqlite::Database& db, const std::string& where,
                                           const std::string& a, const std::string& b,
                                           const TicketEdit& edit);

  SqliteConnection& conn_;
  const Clock& clock_;
};

}  // namespace tenure::cp
