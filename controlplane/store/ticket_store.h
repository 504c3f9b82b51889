#pragma once
// TicketStore: a tenant's tickets and their history (controlplane/tickets).
// Implemented for SQLite by SqliteTicketStore (controlplane/store/sqlite/).

namespace tenure::cp {

class TicketStore {
 public:
  virtual ~TicketStore() = default;
};

}  // namespace tenure::cp
