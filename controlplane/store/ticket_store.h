#pragma once
// TicketStore: a tenant's tickets and their history (controlplane/tickets), in the tenant's
// database: the tickets (subject, summary and hint may name people), the tenant's sinks, the
// notification outbox, and the records sinks created in ITSM tools. Implemented for SQLite by
// SqliteTicketStore (controlplane/store/sqlite/).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace tenure::cp {

// A record in a tenant's ITSM tool that stands for a ticket.
struct ExternalLink {
  std::string sink_id;
  std::string sink_type;  // servicenow | jira
  std::string ref;        // INC0010001, OPS-1
  std::string url;        // for people
};

struct Ticket {
  std::string ticket_id;
  std::string tenant_id;  // not stored in the tenant's own store: set by the ticket service
  std::string detector;
  std::string subject;
  std::string state;  // open | acknowledged | resolved
  int64_t count = 0;  // occurrences, over the ticket's whole life (reopenings included)
  int64_t reopened = 0;
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
  std::string summary;
  std::string hint;
  std::string acknowledged_by;
  int64_t acknowledged_at_ms = 0;
  std::string resolved_by;  // an operator, or "auto" when the condition cleared
  int64_t resolved_at_ms = 0;
  std::vector<ExternalLink> external;  // one per sink that created a record for it
};

// One outbox row, for inspection.
struct PendingNotification {
  int64_t id = 0;
  std::string ticket_id;
  std::string sink_id;
  std::string event;
  int64_t attempts = 0;
  int64_t next_attempt_at_ms = 0;
  std::string last_error;
  int64_t delivered_at_ms = 0;  // 0 while pending
  // Once done: sent | created | adopted | updated | unchanged (see SinkOutcome), gone (the
  // record was deleted in the ITSM tool: given up), dropped (the sink was removed).
  std::string outcome;
};

// A ticket as it is to be stored and, when `event` is set (opened | reopened | resolved), the
// notification queued with it for every configured sink, due at `at_ms` (a resolution's actor is
// the ticket's resolved_by).
struct TicketChange {
  Ticket ticket;
  std::string event;
  int64_t at_ms = 0;
};

// A sink's configuration as kept: `document` is the caller's text (its secrets sealed), kept
// as given; sinks keep the order they were given in.
struct StoredTicketSink {
  std::string sink_id;
  std::string document;
};

// An outbox row due for delivery, with its ticket as it is now.
struct DueNotification {
  int64_t id = 0;
  std::string sink_id;
  std::string event;
  std::string actor;
  std::string state;  // the ticket's state when the notification was queued
  int64_t count = 0;  // the ticket's count then
  int64_t attempts = 0;
  int64_t progress = 0;  // update requests of this notification already accepted
  Ticket ticket;         // id, detector, subject, first/last seen, summary and hint (no links)
};

// The record a sink created for a ticket in an ITSM tool (ServiceNow incident, Jira issue).
struct ExternalTicketRecord {
  std::string ref;        // what people quote: INC0010001, OPS-1
  std::string record_id;  // what the API addresses
  std::string url;        // where a browser opens it
  std::string target;     // the instance / base_url it lives on
};

// What one delivery attempt of an outbox row leaves behind.
struct DeliveryAttempt {
  int64_t notification_id = 0;
  int64_t at_ms = 0;        // when the attempt ended
  bool finished = false;    // delivered, or given up: the row is done
  int64_t retry_at_ms = 0;  // not finished: not tried again before then
  std::string last_error;   // the failure, or a note on a success
  std::string outcome;      // finished: how it ended (PendingNotification::outcome)
  int64_t progress = 0;     // update requests accepted so far
  // A record-keeping sink was called: the record it leaves for (ticket, sink); a record of
  // nullopt forgets the stored one.
  struct SinkRecord {
    std::string ticket_id;
    std::string sink_id;
    std::string sink_type;
    std::optional<ExternalTicketRecord> record;
  };
  std::optional<SinkRecord> sink_record;
};

class TicketStore {
 public:
  virtual ~TicketStore() = default;

  // Decides a ticket's change from the ticket as stored (nullopt when there is none; without
  // its external links): nullopt leaves everything as it is.
  using TicketEdit =
      std::function<Result<std::optional<TicketChange>>(std::optional<Ticket> current)>;

  // In one transaction: reads the ticket with this fingerprint (one per detector and subject,
  // whatever its state), lets `edit` decide, and stores the change it returns with its
  // notifications. Nothing is written when `edit` fails. Returns what `edit` returned.
  virtual Result<std::optional<TicketChange>> editTicketFor(const std::string& detector,
                                                            const std::string& subject,
                                                            const TicketEdit& edit) = 0;
  // The same for the ticket with this id.
  virtual Result<std::optional<TicketChange>> editTicket(const std::string& ticket_id,
                                                         const TicketEdit& edit) = 0;

  // The tickets in `state` ("" = any), the most recently seen first (ties by id), at most
  // `limit`, with their external links.
  virtual Result<std::vector<Ticket>> tickets(const std::string& state, int limit) = 0;
  // One ticket with its external links; nullopt when unknown.
  virtual Result<std::optional<Ticket>> ticket(const std::string& ticket_id) = 0;

  // Replaces every sink in one transaction.
  virtual Status replaceSinks(const std::vector<StoredTicketSink>& sinks) = 0;
  virtual Result<std::vector<StoredTicketSink>> sinks() = 0;

  // Outbox rows not delivered yet, oldest first.
  virtual Result<std::vector<PendingNotification>> pendingNotifications() = 0;
  // Every outbox row of one ticket, delivered or not, oldest first.
  virtual Result<std::vector<PendingNotification>> notifications(const std::string& ticket_id) = 0;
  // Rows due at `now_ms`, oldest first, at most `limit`, in order per (ticket, sink): a row
  // waits while an earlier one of the same pair is backing off, so a resolution never overtakes
  // the create it is meant to update.
  virtual Result<std::vector<DueNotification>> dueNotifications(int64_t now_ms, int limit) = 0;

  // The record the sink created for the ticket, if any.
  virtual Result<std::optional<ExternalTicketRecord>> externalRecord(const std::string& ticket_id,
                                                                     const std::string& sink_id) = 0;
  // Stores an attempt's result in one transaction: the sink's record (kept or forgotten) and the
  // outbox row (finished, or due again at retry_at_ms), attempts counted. Once a row is finished
  // its record is stored, so a restart never creates the record twice. A record kept again
  // with the same record_id keeps its first creation time.
  virtual Status recordDelivery(const DeliveryAttempt& attempt) = 0;
};

}  // namespace tenure::cp
