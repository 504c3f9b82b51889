#include "controlplane/store/sqlite/sqlite_ticket_store.h"

#include <map>

namespace tenure::cp {

const std::vector<std::string>& SqliteTicketStore::migrations() {
  static const std::vector<std::string> kMigrations = {
    R"(CREATE TABLE tickets(
         ticket_id TEXT PRIMARY KEY,
         detector TEXT NOT NULL,
         subject TEXT NOT NULL,
         state TEXT NOT NULL,
         count INTEGER NOT NULL,
         reopened INTEGER NOT NULL DEFAULT 0,
         summary TEXT NOT NULL DEFAULT '',
         hint TEXT NOT NULL DEFAULT '',
         first_seen_ms INTEGER NOT NULL,
         last_seen_ms INTEGER NOT NULL,
         acknowledged_by TEXT NOT NULL DEFAULT '',
         acknowledged_at_ms INTEGER NOT NULL DEFAULT 0,
         resolved_by TEXT NOT NULL DEFAULT '',
         resolved_at_ms INTEGER NOT NULL DEFAULT 0,
         UNIQUE(detector, subject));
       CREATE INDEX tickets_by_state ON tickets(state, last_seen_ms);
       CREATE TABLE ticket_sinks(
         sink_id TEXT PRIMARY KEY,
         position INTEGER NOT NULL,
         document TEXT NOT NULL);
       CREATE TABLE ticket_outbox(
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         ticket_id TEXT NOT NULL,
         sink_id TEXT NOT NULL,
         event TEXT NOT NULL,
         state TEXT NOT NULL,
         count INTEGER NOT NULL,
         attempts INTEGER NOT NULL DEFAULT 0,
         next_attempt_at_ms INTEGER NOT NULL,
         last_error TEXT NOT NULL DEFAULT '',
         created_at_ms INTEGER NOT NULL,
         delivered_at_ms INTEGER);
       CREATE INDEX ticket_outbox_due ON ticket_outbox(delivered_at_ms, next_attempt_at_ms);)",
    // 2: the ServiceNow incident / Jira issue a sink created for a ticket, so later events
    // update it; the outbox row keeps who resolved, how far a multi-request update got (a retry
    // resumes there) and how it ended.
    R"(CREATE TABLE ticket_external(
         ticket_id TEXT NOT NULL,
         sink_id TEXT NOT NULL,
         sink_type TEXT NOT NULL,
         target TEXT NOT NULL,
         ref TEXT NOT NULL,
         record_id TEXT NOT NULL,
         url TEXT NOT NULL,
         created_at_ms INTEGER NOT NULL,
         PRIMARY KEY(ticket_id, sink_id));
       ALTER TABLE ticket_outbox ADD COLUMN actor TEXT NOT NULL DEFAULT '';
       ALTER TABLE ticket_outbox ADD COLUMN progress INTEGER NOT NULL DEFAULT 0;
       ALTER TABLE ticket_outbox ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
       CREATE INDEX ticket_outbox_by_ticket ON ticket_outbox(ticket_id, sink_id, id);)"};
  return kMigrations;
}

namespace {

constexpr const char* kTicketColumns =
    "ticket_id, detector, subject, state, count, reopened, summary, hint, first_seen_ms, "
    "last_seen_ms, acknowledged_by, acknowledged_at_ms, resolved_by, resolved_at_ms";

Ticket readTicket(const sqlite::Statement& st) {
  Ticket t;
  t.ticket_id = st.columnText(0);
  t.detector = st.columnText(1);
  t.subject = st.columnText(2);
  t.state = st.columnText(3);
  t.count = st.columnInt64(4);
  t.reopened = st.columnInt64(5);
  t.summary = st.columnText(6);
  t.hint = st.columnText(7);
  t.first_seen_ms = st.columnInt64(8);
  t.last_seen_ms = st.columnInt64(9);
  t.acknowledged_by = st.columnText(10);
  t.acknowledged_at_ms = st.columnInt64(11);
  t.resolved_by = st.columnText(12);
  t.resolved_at_ms = st.columnInt64(13);
  return t;
}

Result<std::optional<Ticket>> findTicket(sqlite::Database& db, const std::string& where,
                                         const std::string& a, const std::string& b = "") {
  ASSIGN_OR_RETURN(auto st, db.prepare(std::string("SELECT ") + kTicketColumns +
                                       " FROM tickets WHERE " + where));
  st.bindText(1, a);
  if (!b.empty()) st.bindText(2, b);
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<Ticket>();
  return std::optional<Ticket>(readTicket(st));
}

Status saveTicket(sqlite::Database& db, const Ticket& t) {
  ASSIGN_OR_RETURN(auto st, db.prepare(
      "INSERT INTO tickets(ticket_id, detector, subject, state, count, reopened, summary, hint, "
      "first_seen_ms, last_seen_ms, acknowledged_by, acknowledged_at_ms, resolved_by, "
      "resolved_at_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
      "ON CONFLICT(ticket_id) DO UPDATE SET state = excluded.state, count = excluded.count, "
      "reopened = excluded.reopened, summary = excluded.summary, hint = excluded.hint, "
      "last_seen_ms = excluded.last_seen_ms, acknowledged_by = excluded.acknowledged_by, "
      "acknowledged_at_ms = excluded.acknowledged_at_ms, resolved_by = excluded.resolved_by, "
      "resolved_at_ms = excluded.resolved_at_ms"));
  st.bindText(1, t.ticket_id).bindText(2, t.detector).bindText(3, t.subject).bindText(4, t.state);
  st.bindInt64(5, t.count).bindInt64(6, t.reopened).bindText(7, t.summary).bindText(8, t.hint);
  st.bindInt64(9, t.first_seen_ms).bindInt64(10, t.last_seen_ms).bindText(11, t.acknowledged_by);
  st.bindInt64(12, t.acknowledged_at_ms).bindText(13, t.resolved_by).bindInt64(14, t.resolved_at_ms);
  return st.run();
}

// One outbox row per configured sink, in the ticket's transaction.
Status queueNotifications(sqlite::Database& db, const Ticket& t, const std::string& event,
                          int64_t now_ms) {
  ASSIGN_OR_RETURN(auto st, db.prepare(
      "INSERT INTO ticket_outbox(ticket_id, sink_id, event, state, count, next_attempt_at_ms, "
      "created_at_ms, actor) SELECT ?, sink_id, ?, ?, ?, ?, ?, ? FROM ticket_sinks "
      "ORDER BY position"));
  st.bindText(1, t.ticket_id).bindText(2, event).bindText(3, t.state).bindInt64(4, t.count);
  st.bindInt64(5, now_ms).bindInt64(6, now_ms);
  st.bindText(7, event == "resolved" ? t.resolved_by : "");
  return st.run();
}

// The records sinks created for the tickets (all of the tenant's when `ticket_id` is empty).
Status loadExternal(sqlite::Database& db, std::vector<Ticket>& tickets,
                    const std::string& ticket_id) {
  if (tickets.empty()) return Status::ok();
  ASSIGN_OR_RETURN(auto st, db.prepare(
      "SELECT ticket_id, sink_id, sink_type, ref, url FROM ticket_external "
      "WHERE (?1 = '' OR ticket_id = ?1) ORDER BY ticket_id, created_at_ms, sink_id"));
  st.bindText(1, ticket_id);
  std::map<std::string, Ticket*> by_id;
  for (auto& t : tickets) by_id[t.ticket_id] = &t;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    auto it = by_id.find(st.columnText(0));
    if (it == by_id.end()) continue;
    it->second->external.push_back(
        ExternalLink{st.columnText(1), st.columnText(2), st.columnText(3), st.columnText(4)});
  }
  return Status::ok();
}

Result<std::vector<PendingNotification>> readOutbox(sqlite::Database& db, const std::string& where,
                                                    const std::string& arg) {
  ASSIGN_OR_RETURN(auto st, db.prepare(
      "SELECT id, ticket_id, sink_id, event, attempts, next_attempt_at_ms, last_error, "
      "delivered_at_ms, outcome FROM ticket_outbox WHERE " + where + " ORDER BY id"));
  if (!arg.empty()) st.bindText(1, arg);
  std::vector<PendingNotification> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(PendingNotification{st.columnInt64(0), st.columnText(1), st.columnText(2),
                                      st.columnText(3), st.columnInt64(4), st.columnInt64(5),
                                      st.columnText(6), st.columnInt64(7), st.columnText(8)});
  }
  return out;
}

Status keepRecord(sqlite::Database& db, const DeliveryAttempt::SinkRecord& kept, int64_t now_ms) {
  if (!kept.record) {
    ASSIGN_OR_RETURN(auto st, db.prepare(
        "DELETE FROM ticket_external WHERE ticket_id = ? AND sink_id = ?"));
    st.bindText(1, kept.ticket_id).bindText(2, kept.sink_id);
    return st.run();
  }
  const ExternalTicketRecord& record = *kept.record;
  ASSIGN_OR_RETURN(auto st, db.prepare(
      "INSERT INTO ticket_external(ticket_id, sink_id, sink_type, target, ref, record_id, url, "
      "created_at_ms) VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(ticket_id, sink_id) DO UPDATE SET "
      "sink_type = excluded.sink_type, target = excluded.target, ref = excluded.ref, "
      "record_id = excluded.record_id, url = excluded.url, created_at_ms = CASE WHEN "
      "record_id = excluded.record_id THEN created_at_ms ELSE excluded.created_at_ms END"));
  st.bindText(1, kept.ticket_id).bindText(2, kept.sink_id).bindText(3, kept.sink_type);
  st.bindText(4, record.target).bindText(5, record.ref).bindText(6, record.record_id);
  st.bindText(7, record.url).bindInt64(8, now_ms);
  return st.run();
}

}  // namespace

Result<std::optional<TicketChange>> SqliteTicketStore::edit(sqlite::Database& db,
                                                            const std::string& where,
                                                            const std::string& a,
                                                            const std::string& b,
                                                            const TicketEdit& edit) {
  ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
  ASSIGN_OR_RETURN(auto found, findTicket(db, where, a, b));
  ASSIGN_OR_RETURN(auto change, edit(std::move(found)));
  if (!change) return change;
  RETURN_IF_ERROR(saveTicket(db, change->ticket));
  if (!change->event.empty()) {
    RETURN_IF_ERROR(queueNotifications(db, change->ticket, change->event, change->at_ms));
  }
  RETURN_IF_ERROR(tx.commit());
  return change;
}

Result<std::optional<TicketChange>> SqliteTicketStore::editTicketFor(const std::string& detector,
                                                                     const std::string& subject,
                                                                     const TicketEdit& e) {
  return conn_.run([&](sqlite::Database& db) {
    return edit(db, "detector = ? AND subject = ?", detector, subject, e);
  });
}

Result<std::optional<TicketChange>> SqliteTicketStore::editTicket(const std::string& ticket_id,
                                                                  const TicketEdit& e) {
  return conn_.run([&](sqlite::Database& db) { return edit(db, "ticket_id = ?", ticket_id, "", e); });
}

Result<std::vector<Ticket>> SqliteTicketStore::tickets(const std::string& state, int limit) {
  return conn_.run([&](sqlite::Database& db) -> Result<std::vector<Ticket>> {
    ASSIGN_OR_RETURN(auto st, db.prepare(std::string("SELECT ") + kTicketColumns +
                                         " FROM tickets WHERE (?1 = '' OR state = ?1) "
                                         "ORDER BY last_seen_ms DESC, ticket_id LIMIT ?2"));
    st.bindText(1, state).bindInt64(2, limit);
    std::vector<Ticket> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      out.push_back(readTicket(st));
    }
    RETURN_IF_ERROR(loadExternal(db, out, ""));
    return out;
  });
}

Result<std::optional<Ticket>> SqliteTicketStore::ticket(const std::string& ticket_id) {
  return conn_.run([&](sqlite::Database& db) -> Result<std::optional<Ticket>> {
    ASSIGN_OR_RETURN(auto found, findTicket(db, "ticket_id = ?", ticket_id));
    if (!found) return found;
    std::vector<Ticket> one{std::move(*found)};
    RETURN_IF_ERROR(loadExternal(db, one, ticket_id));
    return std::optional<Ticket>(std::move(one.front()));
  });
}

Status SqliteTicketStore::replaceSinks(const std::vector<StoredTicketSink>& sinks) {
  return conn_.run([&](sqlite::Database& db) -> Status {
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    RETURN_IF_ERROR(db.exec("DELETE FROM ticket_sinks"));
    int position = 0;
    for (const auto& s : sinks) {
      ASSIGN_OR_RETURN(auto st, db.prepare(
          "INSERT INTO ticket_sinks(sink_id, position, document) VALUES(?,?,?)"));
      st.bindText(1, s.sink_id).bindInt64(2, position++).bindText(3, s.document);
      RETURN_IF_ERROR(st.run());
    }
    return tx.commit();
  });
}

Result<std::vector<StoredTicketSink>> SqliteTicketStore::sinks() {
  return conn_.run([&](sqlite::Database& db) -> Result<std::vector<StoredTicketSink>> {
    ASSIGN_OR_RETURN(auto st,
                     db.prepare("SELECT sink_id, document FROM ticket_sinks ORDER BY position"));
    std::vector<StoredTicketSink> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      out.push_back(StoredTicketSink{st.columnText(0), st.columnText(1)});
    }
    return out;
  });
}

Result<std::vector<PendingNotification>> SqliteTicketStore::pendingNotifications() {
  return conn_.run(
      [&](sqlite::Database& db) { return readOutbox(db, "delivered_at_ms IS NULL", ""); });
}

Result<std::vector<PendingNotification>> SqliteTicketStore::notifications(
    const std::string& ticket_id) {
  return conn_.run([&](sqlite::Database& db) { return readOutbox(db, "ticket_id = ?", ticket_id); });
}

Result<std::vector<DueNotification>> SqliteTicketStore::dueNotifications(int64_t now_ms,
                                                                         int limit) {
  return conn_.run([&](sqlite::Database& db) -> Result<std::vector<DueNotification>> {
    ASSIGN_OR_RETURN(auto st, db.prepare(
        "SELECT o.id, o.sink_id, o.event, o.attempts, o.state, o.count, t.ticket_id, "
        "t.detector, t.subject, t.first_seen_ms, t.last_seen_ms, t.summary, t.hint, o.actor, "
        "o.progress FROM ticket_outbox o JOIN tickets t ON t.ticket_id = o.ticket_id "
        "WHERE o.delivered_at_ms IS NULL AND o.next_attempt_at_ms <= ?1 AND NOT EXISTS ("
        "  SELECT 1 FROM ticket_outbox p WHERE p.ticket_id = o.ticket_id AND "
        "  p.sink_id = o.sink_id AND p.delivered_at_ms IS NULL AND p.id < o.id AND "
        "  p.next_attempt_at_ms > ?1) "
        "ORDER BY o.id LIMIT ?2"));
    st.bindInt64(1, now_ms).bindInt64(2, limit);
    std::vector<DueNotification> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      DueNotification d;
      d.id = st.columnInt64(0);
      d.sink_id = st.columnText(1);
      d.event = st.columnText(2);
      d.attempts = st.columnInt64(3);
      d.state = st.columnText(4);
      d.count = st.columnInt64(5);
      d.ticket.ticket_id = st.columnText(6);
      d.ticket.detector = st.columnText(7);
      d.ticket.subject = st.columnText(8);
      d.ticket.first_seen_ms = st.columnInt64(9);
      d.ticket.last_seen_ms = st.columnInt64(10);
      d.ticket.summary = st.columnText(11);
      d.ticket.hint = st.columnText(12);
      d.actor = st.columnText(13);
      d.progress = st.columnInt64(14);
      out.push_back(std::move(d));
    }
    return out;
  });
}

Result<std::optional<ExternalTicketRecord>> SqliteTicketStore::externalRecord(
    const std::string& ticket_id, const std::string& sink_id) {
  return conn_.run([&](sqlite::Database& db) -> Result<std::optional<ExternalTicketRecord>> {
    ASSIGN_OR_RETURN(auto st, db.prepare("SELECT ref, record_id, url, target FROM ticket_external "
                                         "WHERE ticket_id = ? AND sink_id = ?"));
    st.bindText(1, ticket_id).bindText(2, sink_id);
    ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return std::optional<ExternalTicketRecord>();
    return std::optional<ExternalTicketRecord>(ExternalTicketRecord{
        st.columnText(0), st.columnText(1), st.columnText(2), st.columnText(3)});
  });
}

Status SqliteTicketStore::recordDelivery(const DeliveryAttempt& a) {
  return conn_.run([&](sqlite::Database& db) -> Status {
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    if (a.sink_record) RETURN_IF_ERROR(keepRecord(db, *a.sink_record, a.at_ms));
    if (a.finished) {
      ASSIGN_OR_RETURN(auto st, db.prepare(
          "UPDATE ticket_outbox SET delivered_at_ms = ?, attempts = attempts + 1, "
          "last_error = ?, outcome = ?, progress = ? WHERE id = ?"));
      st.bindInt64(1, a.at_ms).bindText(2, a.last_error).bindText(3, a.outcome);
      st.bindInt64(4, a.progress).bindInt64(5, a.notification_id);
      RETURN_IF_ERROR(st.run());
    } else {
      ASSIGN_OR_RETURN(auto st, db.prepare(
          "UPDATE ticket_outbox SET attempts = attempts + 1, next_attempt_at_ms = ?, "
          "last_error = ?, progress = ? WHERE id = ?"));
      st.bindInt64(1, a.retry_at_ms).bindText(2, a.last_error).bindInt64(3, a.progress);
      st.bindInt64(4, a.notification_id);
      RETURN_IF_ERROR(st.run());
    }
    return tx.commit();
  });
}

}  // namespace tenure::cp
