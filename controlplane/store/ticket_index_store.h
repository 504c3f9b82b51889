#pragma once
// TicketIndexStore: the operators' cross-tenant index of tickets (controlplane/tickets), in the
// control database. It holds no personal data: no subject, summary or hint (those stay in the
// tenant's TicketStore). Implemented for SQLite by SqliteTicketIndexStore
// (controlplane/store/sqlite/).

#include <cstdint>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace tenure::cp {

// A row of the control DB's index (no subject, summary or hint).
struct TicketIndexEntry {
  std::string ticket_id;
  std::string tenant_id;
  std::string detector;
  std::string state;
  int64_t count = 0;
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
};

struct TicketFilter {
  std::string state;  // "" = any
  std::string tenant_id;
  std::string detector;
};

class TicketIndexStore {
 public:
  virtual ~TicketIndexStore() = default;

  // Adds the ticket, or brings its entry's state, count and last_seen_ms up to date (its tenant,
  // detector and first_seen_ms never change).
  virtual Status indexTicket(const TicketIndexEntry& entry) = 0;
  // The entries that match every non-empty field of `filter`, the most recently seen first (ties
  // by ticket id), at most `limit`.
  virtual Result<std::vector<TicketIndexEntry>> indexedTickets(const TicketFilter& filter,
                                                               int limit) = 0;
};

}  // namespace tenure::cp
