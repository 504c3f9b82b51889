#include "controlplane/tickets/ticket_service.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <spdlog/spdlog.h>
#include <boost/json.hpp>
#include <cstdio>
#include <ctime>
#include <map>

#include "common/base/crypto.h"
#include "common/sqlite/database.h"

namespace tenure::cp {

namespace bj = boost::json;

namespace {

const std::vector<std::string> kTenantSchema = {
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

const std::vector<std::string> kIndexSchema = {
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

constexpr const char* kTicketColumns =
    "ticket_id, detector, subject, state, count, reopened, summary, hint, first_seen_ms, "
    "last_seen_ms, acknowledged_by, acknowledged_at_ms, resolved_by, resolved_at_ms";

Ticket readTicket(const sqlite::Statement& st, const std::string& tenant_id) {
  Ticket t;
  t.tenant_id = tenant_id;
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

Result<std::optional<Ticket>> findTicket(sqlite::Database& db, const std::string& tenant_id,
                                         const std::string& where, const std::string& a,
                                         const std::string& b = "") {
  ASSIGN_OR_RETURN(auto st, db.prepare(std::string("SELECT ") + kTicketColumns +
                                       " FROM tickets WHERE " + where));
  st.bindText(1, a);
  if (!b.empty()) st.bindText(2, b);
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<Ticket>();
  return std::optional<Ticket>(readTicket(st, tenant_id));
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

std::string iso(int64_t ms) { return ms ? formatIso8601Utc(ms / 1000) : ""; }

bj::object ticketJson(const Ticket& t) {
  bj::object o{{"id", t.ticket_id},
               {"tenant_id", t.tenant_id},
               {"detector", t.detector},
               {"subject", t.subject},
               {"state", t.state},
               {"count", t.count},
               {"reopened", t.reopened},
               {"first_seen", iso(t.first_seen_ms)},
               {"last_seen", iso(t.last_seen_ms)},
               {"summary", t.summary},
               {"hint", t.hint}};
  o["acknowledged"] = t.acknowledged_by.empty()
                          ? bj::value(nullptr)
                          : bj::value(bj::object{{"by", t.acknowledged_by},
                                                 {"at", iso(t.acknowledged_at_ms)}});
  o["resolved"] = t.resolved_by.empty() ? bj::value(nullptr)
                                        : bj::value(bj::object{{"by", t.resolved_by},
                                                               {"at", iso(t.resolved_at_ms)}});
  bj::array external;
  for (const auto& e : t.external) {
    external.push_back(
        bj::object{{"sink", e.sink_id}, {"type", e.sink_type}, {"ref", e.ref}, {"url", e.url}});
  }
  o["external"] = std::move(external);
  return o;
}

bj::object indexJson(const TicketIndexEntry& e) {
  return bj::object{{"id", e.ticket_id},       {"tenant_id", e.tenant_id},
                    {"detector", e.detector},  {"state", e.state},
                    {"count", e.count},        {"first_seen", iso(e.first_seen_ms)},
                    {"last_seen", iso(e.last_seen_ms)}};
}

HttpServerResponse json(int status, const bj::value& v) {
  HttpServerResponse r;
  r.status = status;
  r.body = bj::serialize(v);
  return r;
}

HttpServerResponse error(int status, const std::string& code, const std::string& message) {
  return json(status, bj::object{{"error", code}, {"message", message}});
}

HttpServerResponse failure(const Status& st) {
  switch (st.errorClass()) {
    case ErrorClass::kNotFound:
      return error(404, "not_found", st.message());
    case ErrorClass::kConflict:
      return error(409, "conflict", st.message());
    case ErrorClass::kData:
      return error(400, "bad_request", st.message());
    case ErrorClass::kTransient:
      spdlog::error("tickets: {}", st.toString());
      return error(503, "unavailable", "temporarily unavailable, retry");
    case ErrorClass::kConfig:
      spdlog::error("tickets: {}", st.toString());
      return error(503, "unavailable", st.message());
    default:
      spdlog::error("tickets: {}", st.toString());
      return error(500, "internal", "internal error");
  }
}

bool validState(const std::string& s) {
  return s.empty() || s == "open" || s == "acknowledged" || s == "resolved";
}

std::string query(const HttpServerRequest& req, const std::string& key) {
  auto it = req.query.find(key);
  return it == req.query.end() ? "" : it->second;
}

std::string sealContext(const SinkConfig& s, const std::string& field) {
  return "ticket-sink:" + s.id + ":" + field;
}

// The stored document of a sink: settings plus "<field>_sealed" for each secret.
std::string sinkDocument(const SinkConfig& s) {
  bj::object o = s.settings;
  o["id"] = s.id;
  o["type"] = s.type;
  for (const auto& [k, v] : s.secrets) o[k + "_sealed"] = v;
  return bj::serialize(o);
}

Result<SinkConfig> sinkFromDocument(const std::string& text) {
  boost::system::error_code ec;
  bj::value v = bj::parse(text, ec);
  if (ec || !v.is_object()) return internalError("stored ticket sink does not parse");
  SinkConfig s;
  for (auto& [key, value] : v.get_object()) {
    const std::string k(key);
    if (k == "id" && value.is_string()) {
      s.id = std::string(value.get_string());
    } else if (k == "type" && value.is_string()) {
      s.type = std::string(value.get_string());
    } else if (k.size() > 7 && k.substr(k.size() - 7) == "_sealed" && value.is_string()) {
      s.secrets[k.substr(0, k.size() - 7)] = std::string(value.get_string());
    } else {
      s.settings[key] = value;
    }
  }
  return s;
}

bj::object sinkJson(const SinkConfig& s) {
  bj::object o = s.settings;
  o["id"] = s.id;
  o["type"] = s.type;
  for (const auto& f : sinkSecretFields(s.type)) o[f + "_set"] = s.secrets.count(f) > 0;
  return o;
}

}  // namespace

TicketService::TicketService(boost::asio::io_context& io, ControlStore& control,
                             TenantStores& tenants, const Clock& clock,
                             std::function<SecretBox*()> secrets, SinkTransport transport,
                             TicketOptions options)
    : io_(io),
      control_(control),
      tenants_(tenants),
      clock_(clock),
      secrets_(std::move(secrets)),
      transport_(transport),
      options_(std::move(options)),
      alive_(std::make_shared<std::atomic<bool>>(true)) {}

TicketService::~TicketService() { stop(); }

template <class F>
auto TicketService::withTenantDb(const std::string& tenant_id, F&& f)
    -> decltype(f(std::declval<sqlite::Database&>())) {
  ASSIGN_OR_RETURN(auto store, tenants_.forTenant(tenant_id));
  bool migrated;
  {
    std::lock_guard lk(migrated_mu_);
    migrated = migrated_.count(tenant_id) > 0;
  }
  if (!migrated) {
    RETURN_IF_ERROR(store->withDatabase(
        [](sqlite::Database& db) { return sqlite::migrateComponent(db, "tickets", kTenantSchema); }));
    std::lock_guard lk(migrated_mu_);
    migrated_.insert(tenant_id);
  }
  return store->withDatabase(std::forward<F>(f));
}

Status TicketService::updateIndex(const Ticket& t) {
  return control_.withDatabase([&](sqlite::Database& db) -> Status {
    if (!index_migrated_) {
      RETURN_IF_ERROR(sqlite::migrateComponent(db, "ticket_index", kIndexSchema));
      index_migrated_ = true;
    }
    ASSIGN_OR_RETURN(auto st, db.prepare(
        "INSERT INTO ticket_index(ticket_id, tenant_id, detector, state, count, first_seen_ms, "
        "last_seen_ms) VALUES(?,?,?,?,?,?,?) ON CONFLICT(ticket_id) DO UPDATE SET "
        "state = excluded.state, count = excluded.count, last_seen_ms = excluded.last_seen_ms"));
    st.bindText(1, t.ticket_id).bindText(2, t.tenant_id).bindText(3, t.detector);
    st.bindText(4, t.state).bindInt64(5, t.count).bindInt64(6, t.first_seen_ms);
    st.bindInt64(7, t.last_seen_ms);
    return st.run();
  });
}

void TicketService::raise(const Detection& d) {
  if (Status st = raiseOrFail(d); !st.isOk()) {
    spdlog::error("ticket {}/{} for tenant {} not recorded: {}", d.detector, d.subject,
                  d.tenant_id, st.toString());
  }
}

void TicketService::clear(const std::string& tenant_id, const std::string& detector,
                          const std::string& subject) {
  if (Status st = clearOrFail(tenant_id, detector, subject); !st.isOk()) {
    spdlog::error("ticket {}/{} for tenant {} not cleared: {}", detector, subject, tenant_id,
                  st.toString());
  }
}

Status TicketService::raiseOrFail(const Detection& d) {
  if (d.detector.empty() || d.subject.empty()) return dataError("detection without fingerprint");
  std::lock_guard lk(mu_);
  const int64_t now = clock_.nowUnixMillis();
  std::string event;
  ASSIGN_OR_RETURN(Ticket t, withTenantDb(d.tenant_id, [&](sqlite::Database& db) -> Result<Ticket> {
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    ASSIGN_OR_RETURN(auto found, findTicket(db, d.tenant_id, "detector = ? AND subject = ?",
                                            d.detector, d.subject));
    Ticket t;
    if (!found) {
      t.ticket_id = "tk_" + randomHex(8);
      t.tenant_id = d.tenant_id;
      t.detector = d.detector;
      t.subject = d.subject;
      t.state = "open";
      t.count = 1;
      t.first_seen_ms = now;
      event = "opened";
    } else {
      t = std::move(*found);
      ++t.count;
      if (t.state == "resolved") {
        // The same ticket comes back: one id and one history per condition.
        t.state = "open";
        ++t.reopened;
        t.acknowledged_by.clear();
        t.acknowledged_at_ms = 0;
        event = "reopened";
      }
    }
    t.last_seen_ms = now;
    t.summary = d.summary;
    t.hint = d.hint;
    RETURN_IF_ERROR(saveTicket(db, t));
    if (!event.empty()) RETURN_IF_ERROR(queueNotifications(db, t, event, now));
    RETURN_IF_ERROR(tx.commit());
    return t;
  }));
  if (!event.empty()) {
    spdlog::warn("ticket {} {} for tenant {}: {} ({})", t.ticket_id, event, d.tenant_id,
                 d.detector, t.count);
    std::lock_guard wk(wake_mu_);
    wake_pending_ = true;
    wake_.notify_all();
  }
  // The tenant store is the truth; a failed index write is repaired by reindex() at start.
  return updateIndex(t);
}

Status TicketService::clearOrFail(const std::string& tenant_id, const std::string& detector,
                                  const std::string& subject) {
  std::lock_guard lk(mu_);
  const int64_t now = clock_.nowUnixMillis();
  ASSIGN_OR_RETURN(auto cleared, withTenantDb(tenant_id, [&](sqlite::Database& db)
                                                  -> Result<std::optional<Ticket>> {
    ASSIGN_OR_RETURN(auto found, findTicket(db, tenant_id,
                                            "detector = ? AND subject = ? AND state != 'resolved'",
                                            detector, subject));
    if (!found) return found;
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    Ticket& t = *found;
    t.state = "resolved";
    t.resolved_by = "auto";
    t.resolved_at_ms = now;
    RETURN_IF_ERROR(saveTicket(db, t));
    RETURN_IF_ERROR(queueNotifications(db, t, "resolved", now));
    RETURN_IF_ERROR(tx.commit());
    return found;
  }));
  if (!cleared) return Status::ok();
  spdlog::info("ticket {} resolved for tenant {}: the condition cleared", cleared->ticket_id,
               tenant_id);
  {
    std::lock_guard wk(wake_mu_);
    wake_pending_ = true;
    wake_.notify_all();
  }
  return updateIndex(*cleared);
}

Status TicketService::transition(const std::string& tenant_id, const std::string& ticket_id,
                                 const std::string& to, const std::string& by) {
  std::lock_guard lk(mu_);
  const int64_t now = clock_.nowUnixMillis();
  ASSIGN_OR_RETURN(Ticket t, withTenantDb(tenant_id, [&](sqlite::Database& db) -> Result<Ticket> {
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    ASSIGN_OR_RETURN(auto found, findTicket(db, tenant_id, "ticket_id = ?", ticket_id));
    if (!found) return notFoundError("no such ticket");
    Ticket t = std::move(*found);
    if (t.state == "resolved") return conflictError("the ticket is resolved");
    if (to == "acknowledged") {
      if (t.state == "acknowledged") return t;
      t.acknowledged_by = by;
      t.acknowledged_at_ms = now;
    } else {
      t.resolved_by = by;
      t.resolved_at_ms = now;
      RETURN_IF_ERROR(queueNotifications(db, t, "resolved", now));
    }
    t.state = to;
    RETURN_IF_ERROR(saveTicket(db, t));
    RETURN_IF_ERROR(tx.commit());
    return t;
  }));
  spdlog::warn("ticket {} of tenant {} {} by {}", ticket_id, tenant_id, to, by);
  return updateIndex(t);
}

Status TicketService::acknowledge(const std::string& tenant_id, const std::string& ticket_id,
                                  const std::string& by) {
  return transition(tenant_id, ticket_id, "acknowledged", by);
}

Status TicketService::resolve(const std::string& tenant_id, const std::string& ticket_id,
                              const std::string& by) {
  return transition(tenant_id, ticket_id, "resolved", by);
}

Result<std::vector<Ticket>> TicketService::list(const std::string& tenant_id,
                                                const std::string& state) {
  return withTenantDb(tenant_id, [&](sqlite::Database& db) -> Result<std::vector<Ticket>> {
    ASSIGN_OR_RETURN(auto st, db.prepare(std::string("SELECT ") + kTicketColumns +
                                         " FROM tickets WHERE (?1 = '' OR state = ?1) "
                                         "ORDER BY last_seen_ms DESC, ticket_id LIMIT 1000"));
    st.bindText(1, state);
    std::vector<Ticket> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      out.push_back(readTicket(st, tenant_id));
    }
    RETURN_IF_ERROR(loadExternal(db, out, ""));
    return out;
  });
}

Result<std::optional<Ticket>> TicketService::get(const std::string& tenant_id,
                                                 const std::string& ticket_id) {
  return withTenantDb(tenant_id, [&](sqlite::Database& db) -> Result<std::optional<Ticket>> {
    ASSIGN_OR_RETURN(auto found, findTicket(db, tenant_id, "ticket_id = ?", ticket_id));
    if (!found) return found;
    std::vector<Ticket> one{std::move(*found)};
    RETURN_IF_ERROR(loadExternal(db, one, ticket_id));
    return std::optional<Ticket>(std::move(one.front()));
  });
}

Result<std::vector<TicketIndexEntry>> TicketService::listAll(const TicketFilter& f, int limit) {
  return control_.withDatabase([&](sqlite::Database& db) -> Result<std::vector<TicketIndexEntry>> {
    if (!index_migrated_) {
      RETURN_IF_ERROR(sqlite::migrateComponent(db, "ticket_index", kIndexSchema));
      index_migrated_ = true;
    }
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

Status TicketService::reindex() {
  ASSIGN_OR_RETURN(auto tenants, control_.listTenants());
  std::vector<std::string> ids{kOperatorTenant};
  for (const auto& t : tenants) ids.push_back(t.tenant_id);
  for (const auto& id : ids) {
    ASSIGN_OR_RETURN(auto tickets, list(id));
    for (const auto& t : tickets) RETURN_IF_ERROR(updateIndex(t));
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// Sinks and delivery

Status TicketService::setSinks(const std::string& tenant_id, std::vector<SinkConfig> sinks) {
  std::set<std::string> ids;
  for (const auto& s : sinks) {
    if (!ids.insert(s.id).second) return dataError("sink id '" + s.id + "' is used twice");
  }
  ASSIGN_OR_RETURN(auto previous, this->sinks(tenant_id));
  for (auto& s : sinks) {
    std::map<std::string, std::string> sealed;
    for (const auto& field : sinkSecretFields(s.type)) {
      auto given = s.secrets.find(field);
      if (given != s.secrets.end()) {
        SecretBox* box = secrets_ ? secrets_() : nullptr;
        if (!box) return configError("secret storage is not configured on this control plane");
        ASSIGN_OR_RETURN(sealed[field], box->seal(tenant_id, sealContext(s, field), given->second));
        continue;
      }
      for (const auto& p : previous) {
        if (p.id == s.id && p.type == s.type && p.secrets.count(field)) {
          sealed[field] = p.secrets.at(field);
        }
      }
    }
    s.secrets = std::move(sealed);
  }
  return withTenantDb(tenant_id, [&](sqlite::Database& db) -> Status {
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    RETURN_IF_ERROR(db.exec("DELETE FROM ticket_sinks"));
    int position = 0;
    for (const auto& s : sinks) {
      ASSIGN_OR_RETURN(auto st, db.prepare(
          "INSERT INTO ticket_sinks(sink_id, position, document) VALUES(?,?,?)"));
      st.bindText(1, s.id).bindInt64(2, position++).bindText(3, sinkDocument(s));
      RETURN_IF_ERROR(st.run());
    }
    return tx.commit();
  });
}

Result<std::vector<SinkConfig>> TicketService::sinks(const std::string& tenant_id) {
  return withTenantDb(tenant_id, [&](sqlite::Database& db) -> Result<std::vector<SinkConfig>> {
    ASSIGN_OR_RETURN(auto st, db.prepare("SELECT document FROM ticket_sinks ORDER BY position"));
    std::vector<SinkConfig> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      ASSIGN_OR_RETURN(auto s, sinkFromDocument(st.columnText(0)));
      out.push_back(std::move(s));
    }
    return out;
  });
}

Result<SinkConfig> TicketService::openSink(const std::string& tenant_id,
                                           const std::string& sink_id) {
  ASSIGN_OR_RETURN(auto configured, sinks(tenant_id));
  auto it = std::find_if(configured.begin(), configured.end(),
                         [&](const SinkConfig& s) { return s.id == sink_id; });
  if (it == configured.end()) return notFoundError("no ticket sink '" + sink_id + "'");
  SinkConfig open = *it;
  for (auto& [field, sealed] : open.secrets) {
    SecretBox* box = secrets_ ? secrets_() : nullptr;
    if (!box) return configError("secret storage is not configured");
    ASSIGN_OR_RETURN(sealed, box->open(tenant_id, sealContext(open, field), sealed));
  }
  return open;
}

void TicketService::wakeDelivery() {
  std::lock_guard wk(wake_mu_);
  wake_pending_ = true;
  wake_.notify_all();
}

namespace {

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

}  // namespace

Result<std::vector<PendingNotification>> TicketService::pendingNotifications(
    const std::string& tenant_id) {
  return withTenantDb(tenant_id, [&](sqlite::Database& db) {
    return readOutbox(db, "delivered_at_ms IS NULL", "");
  });
}

Result<std::vector<PendingNotification>> TicketService::notifications(
    const std::string& tenant_id, const std::string& ticket_id) {
  return withTenantDb(tenant_id, [&](sqlite::Database& db) {
    return readOutbox(db, "ticket_id = ?", ticket_id);
  });
}

namespace {

// The record a sink created for a ticket, if any, with the target it was created on.
Result<std::optional<ExternalRecord>> storedRecord(sqlite::Database& db,
                                                   const std::string& ticket_id,
                                                   const std::string& sink_id) {
  ASSIGN_OR_RETURN(auto st, db.prepare("SELECT ref, record_id, url, target FROM ticket_external "
                                       "WHERE ticket_id = ? AND sink_id = ?"));
  st.bindText(1, ticket_id).bindText(2, sink_id);
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<ExternalRecord>();
  return std::optional<ExternalRecord>(
      ExternalRecord{st.columnText(0), st.columnText(1), st.columnText(2), st.columnText(3)});
}

Status keepRecord(sqlite::Database& db, const std::string& ticket_id, const SinkConfig& sink,
                  const std::optional<ExternalRecord>& record, int64_t now_ms) {
  if (!record) {
    ASSIGN_OR_RETURN(auto st, db.prepare(
        "DELETE FROM ticket_external WHERE ticket_id = ? AND sink_id = ?"));
    st.bindText(1, ticket_id).bindText(2, sink.id);
    return st.run();
  }
  ASSIGN_OR_RETURN(auto st, db.prepare(
      "INSERT INTO ticket_external(ticket_id, sink_id, sink_type, target, ref, record_id, url, "
      "created_at_ms) VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(ticket_id, sink_id) DO UPDATE SET "
      "sink_type = excluded.sink_type, target = excluded.target, ref = excluded.ref, "
      "record_id = excluded.record_id, url = excluded.url, created_at_ms = CASE WHEN "
      "record_id = excluded.record_id THEN created_at_ms ELSE excluded.created_at_ms END"));
  st.bindText(1, ticket_id).bindText(2, sink.id).bindText(3, sink.type).bindText(4, record->target);
  st.bindText(5, record->ref).bindText(6, record->record_id).bindText(7, record->url);
  st.bindInt64(8, now_ms);
  return st.run();
}

}  // namespace

Result<int> TicketService::deliverDue() {
  ASSIGN_OR_RETURN(auto tenants, control_.listTenants());
  int delivered = 0;
  for (const auto& tenant : tenants) {
    const int64_t now = clock_.nowUnixMillis();
    struct Due {
      int64_t id;
      std::string sink_id;
      std::string event;
      int64_t attempts;
      int64_t progress;
      TicketNotice notice;
    };
    std::vector<Due> due;
    ASSIGN_OR_RETURN(auto configured, sinks(tenant.tenant_id));
    RETURN_IF_ERROR(withTenantDb(tenant.tenant_id, [&](sqlite::Database& db) -> Status {
      // In order per (ticket, sink): a row waits while an earlier one of the same pair is backing
      // off, so a resolution never overtakes the create it is meant to update.
      ASSIGN_OR_RETURN(auto st, db.prepare(
          "SELECT o.id, o.sink_id, o.event, o.attempts, o.state, o.count, t.ticket_id, "
          "t.detector, t.subject, t.first_seen_ms, t.last_seen_ms, t.summary, t.hint, o.actor, "
          "o.progress FROM ticket_outbox o JOIN tickets t ON t.ticket_id = o.ticket_id "
          "WHERE o.delivered_at_ms IS NULL AND o.next_attempt_at_ms <= ?1 AND NOT EXISTS ("
          "  SELECT 1 FROM ticket_outbox p WHERE p.ticket_id = o.ticket_id AND "
          "  p.sink_id = o.sink_id AND p.delivered_at_ms IS NULL AND p.id < o.id AND "
          "  p.next_attempt_at_ms > ?1) "
          "ORDER BY o.id LIMIT 100"));
      st.bindInt64(1, now);
      for (;;) {
        ASSIGN_OR_RETURN(bool row, st.step());
        if (!row) break;
        Due d;
        d.id = st.columnInt64(0);
        d.sink_id = st.columnText(1);
        d.event = st.columnText(2);
        d.attempts = st.columnInt64(3);
        d.notice.event = d.event;
        d.notice.tenant_id = tenant.tenant_id;
        d.notice.state = st.columnText(4);
        d.notice.count = st.columnInt64(5);
        d.notice.ticket_id = st.columnText(6);
        d.notice.detector = st.columnText(7);
        d.notice.subject = st.columnText(8);
        d.notice.first_seen_ms = st.columnInt64(9);
        d.notice.last_seen_ms = st.columnInt64(10);
        d.notice.summary = st.columnText(11);
        d.notice.hint = st.columnText(12);
        d.notice.actor = st.columnText(13);
        d.progress = st.columnInt64(14);
        due.push_back(std::move(d));
      }
      return Status::ok();
    }));
    // (ticket, sink) pairs whose earlier row failed in this pass: their later rows wait.
    std::set<std::pair<std::string, std::string>> blocked;
    for (auto& d : due) {
      const auto pair = std::make_pair(d.notice.ticket_id, d.sink_id);
      if (blocked.count(pair)) continue;
      SinkOutcome outcome;
      bool ran = false;  // the sink was called: its record and progress are to be stored
      auto sink = std::find_if(configured.begin(), configured.end(),
                               [&](const SinkConfig& s) { return s.id == d.sink_id; });
      if (sink == configured.end()) {
        // The tenant removed the sink: nowhere left to deliver to.
        outcome.status = notFoundError("sink removed");
        outcome.permanent = true;
        outcome.kind = "dropped";
      } else {
        SinkConfig open = *sink;
        SecretBox* box = secrets_ ? secrets_() : nullptr;
        for (auto& [field, sealed] : open.secrets) {
          if (!box) {
            outcome.status = configError("secret storage is not configured");
            break;
          }
          auto plain = box->open(tenant.tenant_id, sealContext(open, field), sealed);
          if (!plain.isOk()) {
            outcome.status = plain.status();
            break;
          }
          sealed = std::move(*plain);
        }
        SinkDeliveryState state;
        state.steps_done = d.progress;
        if (outcome.status.isOk() && sinkKeepsRecords(open.type)) {
          auto stored = withTenantDb(tenant.tenant_id, [&](sqlite::Database& db) {
            return storedRecord(db, d.notice.ticket_id, d.sink_id);
          });
          if (!stored.isOk()) {
            outcome.status = stored.status();
          } else if (*stored && (*stored)->target == sinkTarget(open)) {
            // A record on another instance (the sink was repointed) is not updated: the new
            // target gets its own record.
            state.record = std::move(*stored);
          }
        }
        // The network calls run without any store lock held.
        if (outcome.status.isOk()) {
          outcome = deliverToSink(transport_, open, d.notice, state, clock_.nowUnix(),
                                  options_.delivery_timeout);
          ran = true;
        }
      }
      const bool done = outcome.status.isOk() || outcome.permanent;
      const int64_t after = clock_.nowUnixMillis();
      // The record and the outbox row change in one transaction: once the row is marked
      // delivered its record is stored, so a restart never creates the record twice from here.
      RETURN_IF_ERROR(withTenantDb(tenant.tenant_id, [&](sqlite::Database& db) -> Status {
        ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
        if (ran && sinkKeepsRecords(sink->type)) {
          RETURN_IF_ERROR(keepRecord(db, d.notice.ticket_id, *sink, outcome.record, after));
        }
        const std::string error = outcome.status.isOk() ? outcome.note : outcome.status.message();
        const int64_t progress = ran ? outcome.steps_done : d.progress;
        if (done) {
          ASSIGN_OR_RETURN(auto st, db.prepare(
              "UPDATE ticket_outbox SET delivered_at_ms = ?, attempts = attempts + 1, "
              "last_error = ?, outcome = ?, progress = ? WHERE id = ?"));
          st.bindInt64(1, after).bindText(2, error).bindText(3, outcome.kind);
          st.bindInt64(4, progress).bindInt64(5, d.id);
          RETURN_IF_ERROR(st.run());
        } else {
          // Exponential backoff, capped: base, 2*base, 4*base, ... retry_max, forever.
          int64_t delay = options_.retry_base.count();
          for (int64_t i = 0; i < d.attempts && delay < options_.retry_max.count(); ++i) delay *= 2;
          delay = std::min<int64_t>(delay, options_.retry_max.count());
          ASSIGN_OR_RETURN(auto st, db.prepare(
              "UPDATE ticket_outbox SET attempts = attempts + 1, next_attempt_at_ms = ?, "
              "last_error = ?, progress = ? WHERE id = ?"));
          st.bindInt64(1, after + delay).bindText(2, error).bindInt64(3, progress);
          st.bindInt64(4, d.id);
          RETURN_IF_ERROR(st.run());
        }
        return tx.commit();
      }));
      if (outcome.status.isOk()) {
        ++delivered;
        const std::string ref = outcome.record ? " (" + outcome.record->ref + ")" : "";
        spdlog::info("ticket {} {} delivered to sink {} of tenant {}: {}{}", d.notice.ticket_id,
                     d.event, d.sink_id, tenant.tenant_id, outcome.kind, ref);
        if (!outcome.note.empty()) {
          spdlog::warn("ticket {} {} to sink {} of tenant {}: {}", d.notice.ticket_id, d.event,
                       d.sink_id, tenant.tenant_id, outcome.note);
        }
      } else if (outcome.kind == "dropped") {
        spdlog::warn("ticket {} {}: sink {} of tenant {} was removed; notification dropped",
                     d.notice.ticket_id, d.event, d.sink_id, tenant.tenant_id);
      } else if (outcome.permanent) {
        spdlog::warn("ticket {} {} to sink {} of tenant {} given up: {}", d.notice.ticket_id,
                     d.event, d.sink_id, tenant.tenant_id, outcome.status.toString());
      } else {
        blocked.insert(pair);
        spdlog::warn("ticket {} {} to sink {} of tenant {} failed (attempt {}): {}",
                     d.notice.ticket_id, d.event, d.sink_id, tenant.tenant_id, d.attempts + 1,
                     outcome.status.toString());
      }
    }
  }
  return delivered;
}

// ---------------------------------------------------------------------------------------------
// Periodic detectors

Status TicketService::checkAgents() {
  ASSIGN_OR_RETURN(auto tenants, control_.listTenants());
  const int64_t now = clock_.nowUnixMillis();
  const int64_t limit_ms = std::chrono::milliseconds(options_.agent_silent_after).count();
  for (const auto& t : tenants) {
    ASSIGN_OR_RETURN(auto agents, control_.listAgents(t.tenant_id));
    for (const auto& a : agents) {
      const int64_t last = a.last_seen_ms ? a.last_seen_ms : a.enrolled_at_ms;
      if (!a.revoked && now - last > limit_ms) {
        RETURN_IF_ERROR(raiseOrFail(Detection{
            t.tenant_id, "agent_silent", a.agent_id,
            "Agent " + a.agent_id + " on " + a.host + " has not polled for " +
                std::to_string((now - last) / 1000) + " s (last seen " + iso(last) + ")",
            "Check that the tenure-agent service is running on " + a.host +
                " and can reach the control plane over HTTPS (proxy, firewall, DNS); its log "
                "says why it stopped polling."}));
      } else {
        RETURN_IF_ERROR(clearOrFail(t.tenant_id, "agent_silent", a.agent_id));
      }
    }
  }
  return Status::ok();
}

Status TicketService::checkCertificate() {
  if (options_.tls_cert_file.empty()) return Status::ok();
  FILE* f = std::fopen(options_.tls_cert_file.c_str(), "r");
  if (!f) return configError("cannot open " + options_.tls_cert_file);
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!cert) return configError("no certificate in " + options_.tls_cert_file);
  struct tm tm {};
  const int ok = ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm);
  X509_free(cert);
  if (!ok) return configError("unreadable notAfter in " + options_.tls_cert_file);
  const int64_t not_after = static_cast<int64_t>(timegm(&tm));
  const int64_t left_s = not_after - clock_.nowUnix();
  if (left_s < int64_t{options_.certificate_warn_days} * 86'400) {
    return raiseOrFail(Detection{
        kOperatorTenant, "certificate_expiry", "cp-tls",
        left_s <= 0 ? "The control plane's TLS certificate expired on " + iso(not_after * 1000)
                    : "The control plane's TLS certificate expires on " + iso(not_after * 1000) +
                          " (in " + std::to_string(left_s / 86'400) + " days)",
        "Renew the certificate in " + options_.tls_cert_file +
            " (same names, a CA the agents trust) and restart tenure-cp; agents refuse an "
            "expired certificate and stop receiving jobs."});
  }
  return clearOrFail(kOperatorTenant, "certificate_expiry", "cp-tls");
}

void TicketService::start() {
  if (Status st = reindex(); !st.isOk()) spdlog::error("ticket index: {}", st.toString());
  scheduleChecks();
  std::lock_guard lk(wake_mu_);
  if (!worker_.joinable() && !stopping_) worker_ = std::thread([this] { deliveryLoop(); });
}

void TicketService::stop() {
  *alive_ = false;
  if (check_timer_) check_timer_->cancel();
  {
    std::lock_guard lk(wake_mu_);
    stopping_ = true;
    wake_.notify_all();
  }
  if (worker_.joinable()) worker_.join();
}

void TicketService::scheduleChecks() {
  // Run once right away, then every check_interval.
  auto alive = alive_;
  auto run = [this] {
    if (Status st = checkAgents(); !st.isOk()) spdlog::error("agent check: {}", st.toString());
    if (Status st = checkCertificate(); !st.isOk()) {
      spdlog::error("certificate check: {}", st.toString());
    }
  };
  if (!check_timer_) run();
  check_timer_ = std::make_shared<boost::asio::steady_timer>(io_);
  check_timer_->expires_after(options_.check_interval);
  check_timer_->async_wait([this, alive, run](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    run();
    scheduleChecks();
  });
}

void TicketService::deliveryLoop() {
  std::unique_lock lk(wake_mu_);
  while (!stopping_) {
    wake_pending_ = false;
    lk.unlock();
    auto n = deliverDue();
    if (!n.isOk()) spdlog::error("ticket delivery: {}", n.status().toString());
    for (const auto& task : tasks_) task();
    lk.lock();
    // A new ticket event wakes the loop at once; retries are picked up on the next period.
    wake_.wait_for(lk, options_.delivery_interval, [this] { return stopping_ || wake_pending_; });
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

HttpServerResponse TicketService::handleTenantRequest(const std::string& tenant_id,
                                                      const HttpServerRequest& req,
                                                      const std::vector<std::string>& seg) {
  if (!seg.empty() && seg[0] == "tickets") {
    if (req.method != "GET") return error(405, "bad_request", "use GET");
    if (seg.size() == 1) {
      const std::string state = query(req, "state");
      if (!validState(state)) return error(400, "bad_request", "state: open, acknowledged or resolved");
      auto tickets = list(tenant_id, state);
      if (!tickets.isOk()) return failure(tickets.status());
      bj::array arr;
      for (const auto& t : *tickets) arr.push_back(ticketJson(t));
      return json(200, bj::object{{"tickets", std::move(arr)}});
    }
    if (seg.size() == 2) {
      auto t = get(tenant_id, seg[1]);
      if (!t.isOk()) return failure(t.status());
      if (!t->has_value()) return error(404, "not_found", "no such ticket");
      return json(200, ticketJson(**t));
    }
  }
  if (seg.size() == 1 && seg[0] == "ticket-sinks") {
    if (req.method == "PUT") {
      boost::system::error_code ec;
      bj::value v = bj::parse(req.body, ec);
      if (ec || !v.is_object() || !v.get_object().contains("sinks") ||
          !v.get_object().at("sinks").is_array()) {
        return error(400, "bad_request", "body must be {\"sinks\": [...]}");
      }
      std::vector<SinkConfig> parsed;
      for (const auto& s : v.get_object().at("sinks").get_array()) {
        auto one = parseSinkConfig(s);
        if (!one.isOk()) return error(400, "bad_request", one.status().message());
        parsed.push_back(std::move(*one));
      }
      if (parsed.size() > 20) return error(400, "bad_request", "at most 20 sinks");
      if (Status st = setSinks(tenant_id, std::move(parsed)); !st.isOk()) return failure(st);
    } else if (req.method != "GET") {
      return error(405, "bad_request", "use GET or PUT");
    }
    auto stored = sinks(tenant_id);
    if (!stored.isOk()) return failure(stored.status());
    bj::array arr;
    for (const auto& s : *stored) arr.push_back(sinkJson(s));
    return json(200, bj::object{{"sinks", std::move(arr)}});
  }
  return error(404, "not_found", "no such endpoint");
}

HttpServerResponse TicketService::handleAdminRequest(const std::string& admin,
                                                     const HttpServerRequest& req,
                                                     const std::vector<std::string>& seg) {
  if (seg.size() == 1 && seg[0] == "tickets") {
    if (req.method != "GET") return error(405, "bad_request", "use GET");
    TicketFilter f{query(req, "state"), query(req, "tenant"), query(req, "detector")};
    if (!validState(f.state)) return error(400, "bad_request", "state: open, acknowledged or resolved");
    auto all = listAll(f);
    if (!all.isOk()) return failure(all.status());
    bj::array arr;
    for (const auto& e : *all) arr.push_back(indexJson(e));
    return json(200, bj::object{{"tickets", std::move(arr)}});
  }
  if (seg.size() == 4 && seg[0] == "tenants" && seg[2] == "tickets") {
    // One ticket in full, with its ITSM records, for the operator who follows it up there.
    if (req.method != "GET") return error(405, "bad_request", "use GET");
    if (seg[1] != kOperatorTenant) {
      auto tenant = control_.tenantById(seg[1]);
      if (!tenant.isOk()) return failure(tenant.status());
      if (!tenant->has_value()) return error(404, "not_found", "no such tenant");
    }
    auto t = get(seg[1], seg[3]);
    if (!t.isOk()) return failure(t.status());
    if (!t->has_value()) return error(404, "not_found", "no such ticket");
    return json(200, ticketJson(**t));
  }
  if (seg.size() == 5 && seg[0] == "tenants" && seg[2] == "tickets" &&
      (seg[4] == "acknowledge" || seg[4] == "resolve")) {
    if (req.method != "POST") return error(405, "bad_request", "use POST");
    const std::string& tenant_id = seg[1];
    if (tenant_id != kOperatorTenant) {
      auto tenant = control_.tenantById(tenant_id);
      if (!tenant.isOk()) return failure(tenant.status());
      if (!tenant->has_value()) return error(404, "not_found", "no such tenant");
    }
    Status st = seg[4] == "acknowledge" ? acknowledge(tenant_id, seg[3], admin)
                                        : resolve(tenant_id, seg[3], admin);
    if (!st.isOk()) return failure(st);
    auto t = get(tenant_id, seg[3]);
    if (!t.isOk()) return failure(t.status());
    if (!t->has_value()) return error(404, "not_found", "no such ticket");
    return json(200, ticketJson(**t));
  }
  return error(404, "not_found", "no such endpoint");
}

}  // namespace tenure::cp
