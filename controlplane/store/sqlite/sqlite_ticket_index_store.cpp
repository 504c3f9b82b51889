#include "controlplane/store/sqlite/sqlite_ticket_index_store.h"

namespace tenure::cp {

const std::vector<std::string>& SqliteTicketIndexStore::migrations() {
  static const std::vector<std::string> kMigrations = {
      R"(CREATE TABLE ticket_index(
         ticket_id TEXT PRIMARY KEY,
         tenant_id TEXT NOT NULL,
         detector TEXT NOT NULL,
         state TEXT NOT NULL,
         count INTEGER NOT NULL,
         first_seen_ms INTEGER NOT NULL,
         last_seen_ms INTEGER NOT NULL);
       CREATE INDEX ticket_index_by_state ON ticket_index(state, last_seen_ms);
       CREATE INDEX ticket_index_by_tenant ON ticket_index(tenant_id, last_seen_ms);)"};
  return kMigrations;
}

Status SqliteTicketIndexStore::indexTicket(const TicketIndexEntry& e) {
  return conn_.run([&](sqlite::Database& db) -> Status {
    ASSIGN_OR_RETURN(auto st, db.prepare(
        "INSERT INTO ticket_index(ticket_id, tenant_id, detector, state, count, first_seen_ms, "
        "last_seen_ms) VALUES(?,?,?,?,?,?,?) ON CONFLICT(ticket_id) DO UPDATE SET "
        "state = excluded.state, count = excluded.count, last_seen_ms = excluded.last_seen_ms"));
    st.bindText(1, e.ticket_id).bindText(2, e.tenant_id).bindText(3, e.detector);
    st.bindText(4, e.state).bindInt64(5, e.count).bindInt64(6, e.first_seen_ms);
    st.bindInt64(7, e.last_seen_ms);
    return st.run();
  });
}

Result<std::vector<TicketIndexEntry>> SqliteTicketIndexStore::indexedTickets(const TicketFilter& f,
                                                                             int limit) {
  return conn_.run([&](sqlite::Database& db) -> Result<std::vector<TicketIndexEntry>> {
    ASSIGN_OR_RETURN(auto st, db.prepare(
        "SELECT ticket_id, tenant_id, detector, state, count, first_seen_ms, last_seen_ms "
        "FROM ticket_index WHERE (?1 = '' OR state = ?1) AND (?2 = '' OR tenant_id = ?2) AND "
        "(?3 = '' OR detector = ?3) ORDER BY last_seen_ms DESC, ticket_id LIMIT ?4"));
    st.bindText(1, f.state).bindText(2, f.tenant_id).bindText(3, f.detector).bindInt64(4, limit);
    std::vector<TicketIndexEntry> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      out.push_back(TicketIndexEntry{st.columnText(0), st.columnText(1), st.columnText(2),
                                     st.columnText(3), st.columnInt64(4), st.columnInt64(5),
                                     st.columnInt64(6)});
    }
    return out;
  });
}

}  // namespace tenure::cp
