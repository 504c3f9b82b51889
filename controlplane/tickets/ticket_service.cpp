#include "controlplane/tickets/ticket_service.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <spdlog/spdlog.h>
#include <boost/json.hpp>
#include <cstdio>
#include <ctime>
#include <map>

#include "common/base/crypto.h"

namespace tenure::cp {

namespace bj = boost::json;

namespace {

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

Result<std::shared_ptr<TenantStore>> TicketService::tenantStore(const std::string& tenant_id) {
  return tenants_.forTenant(tenant_id);
}

Status TicketService::updateIndex(const Ticket& t) {
  return control_.ticketIndex().indexTicket(TicketIndexEntry{
      t.ticket_id, t.tenant_id, t.detector, t.state, t.count, t.first_seen_ms, t.last_seen_ms});
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
  ASSIGN_OR_RETURN(auto store, tenantStore(d.tenant_id));
  ASSIGN_OR_RETURN(auto change, store->tickets().editTicketFor(
      d.detector, d.subject,
      [&](std::optional<Ticket> found) -> Result<std::optional<TicketChange>> {
        TicketChange c;
        c.at_ms = now;
        Ticket& t = c.ticket;
        if (!found) {
          t.ticket_id = "tk_" + randomHex(8);
          t.detector = d.detector;
          t.subject = d.subject;
          t.state = "open";
          t.count = 1;
          t.first_seen_ms = now;
          c.event = "opened";
        } else {
          t = std::move(*found);
          ++t.count;
          if (t.state == "resolved") {
            // The same ticket comes back: one id and one history per condition.
            t.state = "open";
            ++t.reopened;
            t.acknowledged_by.clear();
            t.acknowledged_at_ms = 0;
            c.event = "reopened";
          }
        }
        t.tenant_id = d.tenant_id;
        t.last_seen_ms = now;
        t.summary = d.summary;
        t.hint = d.hint;
        return std::optional<TicketChange>(std::move(c));
      }));
  if (!change) return internalError("ticket change vanished");
  const Ticket& t = change->ticket;
  if (!change->event.empty()) {
    spdlog::warn("ticket {} {} for tenant {}: {} ({})", t.ticket_id, change->event, d.tenant_id,
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
  ASSIGN_OR_RETURN(auto store, tenantStore(tenant_id));
  ASSIGN_OR_RETURN(auto cleared, store->tickets().editTicketFor(
      detector, subject,
      [&](std::optional<Ticket> found) -> Result<std::optional<TicketChange>> {
        if (!found || found->state == "resolved") return std::optional<TicketChange>();
        TicketChange c{std::move(*found), "resolved", now};
        Ticket& t = c.ticket;
        t.tenant_id = tenant_id;
        t.state = "resolved";
        t.resolved_by = "auto";
        t.resolved_at_ms = now;
        return std::optional<TicketChange>(std::move(c));
      }));
  if (!cleared) return Status::ok();
  spdlog::info("ticket {} resolved for tenant {}: the condition cleared", cleared->ticket.ticket_id,
               tenant_id);
  {
    std::lock_guard wk(wake_mu_);
    wake_pending_ = true;
    wake_.notify_all();
  }
  return updateIndex(cleared->ticket);
}

Status TicketService::transition(const std::string& tenant_id, const std::string& ticket_id,
                                 const std::string& to, const std::string& by) {
  std::lock_guard lk(mu_);
  const int64_t now = clock_.nowUnixMillis();
  ASSIGN_OR_RETURN(auto store, tenantStore(tenant_id));
  Ticket t;  // as it is after the transition (or as it was, when already acknowledged)
  auto edit = [&](std::optional<Ticket> found) -> Result<std::optional<TicketChange>> {
    if (!found) return notFoundError("no such ticket");
    t = std::move(*found);
    t.tenant_id = tenant_id;
    if (t.state == "resolved") return conflictError("the ticket is resolved");
    TicketChange c;
    c.at_ms = now;
    if (to == "acknowledged") {
      if (t.state == "acknowledged") return std::optional<TicketChange>();
      t.acknowledged_by = by;
      t.acknowledged_at_ms = now;
    } else {
      t.resolved_by = by;
      t.resolved_at_ms = now;
      c.event = "resolved";
    }
    t.state = to;
    c.ticket = t;
    return std::optional<TicketChange>(std::move(c));
  };
  RETURN_IF_ERROR(store->tickets().editTicket(ticket_id, edit).status());
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
  ASSIGN_OR_RETURN(auto store, tenantStore(tenant_id));
  ASSIGN_OR_RETURN(auto out, store->tickets().tickets(state, 1000));
  for (auto& t : out) t.tenant_id = tenant_id;
  return out;
}

Result<std::optional<Ticket>> TicketService::get(const std::string& tenant_id,
                                                 const std::string& ticket_id) {
  ASSIGN_OR_RETURN(auto store, tenantStore(tenant_id));
  ASSIGN_OR_RETURN(auto found, store->tickets().ticket(ticket_id));
  if (found) found->tenant_id = tenant_id;
  return found;
}

Result<std::vector<TicketIndexEntry>> TicketService::listAll(const TicketFilter& f, int limit) {
  return control_.ticketIndex().indexedTickets(f, limit);
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
  std::vector<StoredTicketSink> stored;
  stored.reserve(sinks.size());
  for (const auto& s : sinks) stored.push_back(StoredTicketSink{s.id, sinkDocument(s)});
  ASSIGN_OR_RETURN(auto store, tenantStore(tenant_id));
  return store->tickets().replaceSinks(stored);
}

Result<std::vector<SinkConfig>> TicketService::sinks(const std::string& tenant_id) {
  ASSIGN_OR_RETURN(auto store, tenantStore(tenant_id));
  ASSIGN_OR_RETURN(auto stored, store->tickets().sinks());
  std::vector<SinkConfig> out;
  for (const auto& s : stored) {
    ASSIGN_OR_RETURN(auto sink, sinkFromDocument(s.document));
    out.push_back(std::move(sink));
  }
  return out;
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

Result<std::vector<PendingNotification>> TicketService::pendingNotifications(
    const std::string& tenant_id) {
  ASSIGN_OR_RETURN(auto store, tenantStore(tenant_id));
  return store->tickets().pendingNotifications();
}

Result<std::vector<PendingNotification>> TicketService::notifications(
    const std::string& tenant_id, const std::string& ticket_id) {
  ASSIGN_OR_RETURN(auto store, tenantStore(tenant_id));
  return store->tickets().notifications(ticket_id);
}

namespace {

ExternalRecord recordOf(ExternalTicketRecord r) {
  return ExternalRecord{std::move(r.ref), std::move(r.record_id), std::move(r.url),
                        std::move(r.target)};
}

ExternalTicketRecord storedRecordOf(const ExternalRecord& r) {
  return ExternalTicketRecord{r.ref, r.record_id, r.url, r.target};
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
    ASSIGN_OR_RETURN(auto store, tenantStore(tenant.tenant_id));
    ASSIGN_OR_RETURN(auto rows, store->tickets().dueNotifications(now, 100));
    for (auto& row : rows) {
      Due d;
      d.id = row.id;
      d.sink_id = std::move(row.sink_id);
      d.event = std::move(row.event);
      d.attempts = row.attempts;
      d.progress = row.progress;
      d.notice.event = d.event;
      d.notice.actor = std::move(row.actor);
      d.notice.tenant_id = tenant.tenant_id;
      d.notice.state = std::move(row.state);
      d.notice.count = row.count;
      d.notice.ticket_id = std::move(row.ticket.ticket_id);
      d.notice.detector = std::move(row.ticket.detector);
      d.notice.subject = std::move(row.ticket.subject);
      d.notice.first_seen_ms = row.ticket.first_seen_ms;
      d.notice.last_seen_ms = row.ticket.last_seen_ms;
      d.notice.summary = std::move(row.ticket.summary);
      d.notice.hint = std::move(row.ticket.hint);
      due.push_back(std::move(d));
    }
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
          auto stored = store->tickets().externalRecord(d.notice.ticket_id, d.sink_id);
          if (!stored.isOk()) {
            outcome.status = stored.status();
          } else if (*stored && (*stored)->target == sinkTarget(open)) {
            // A record on another instance (the sink was repointed) is not updated: the new
            // target gets its own record.
            state.record = recordOf(std::move(**stored));
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
      DeliveryAttempt attempt;
      attempt.notification_id = d.id;
      attempt.at_ms = after;
      attempt.finished = done;
      attempt.last_error = outcome.status.isOk() ? outcome.note : outcome.status.message();
      attempt.progress = ran ? outcome.steps_done : d.progress;
      if (done) {
        attempt.outcome = outcome.kind;
      } else {
        // Exponential backoff, capped: base, 2*base, 4*base, ... retry_max, forever.
        int64_t delay = options_.retry_base.count();
        for (int64_t i = 0; i < d.attempts && delay < options_.retry_max.count(); ++i) delay *= 2;
        delay = std::min<int64_t>(delay, options_.retry_max.count());
        attempt.retry_at_ms = after + delay;
      }
      if (ran && sinkKeepsRecords(sink->type)) {
        attempt.sink_record = DeliveryAttempt::SinkRecord{d.notice.ticket_id, sink->id, sink->type,
                                                          std::nullopt};
        if (outcome.record) attempt.sink_record->record = storedRecordOf(*outcome.record);
      }
      RETURN_IF_ERROR(store->tickets().recordDelivery(attempt));
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
