#pragma once
// TicketIndexStore: the operators' cross-tenant index of open tickets (controlplane/tickets), in the control database.
// Implemented for SQLite by SqliteTicketIndexStore (controlplane/store/sqlite/).

namespace tenure::cp {

class TicketIndexStore {
 public:
  virtual ~TicketIndexStore() = default;
};

}  // namespace tenure::cp
