#include "controlplane/digest/report_digest.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include <algorithm>

#include "common/base/time_zone.h"
#include "common/protocol/messages.h"
#include "common/sqlite/database.h"
#include "controlplane/reports/run_report.h"

namespace tenure::cp {

namespace bj = boost::json;

namespace {

const std::vector<std::string> kSchema = {
    R"(CREATE TABLE report_digest_settings(
         id INTEGER PRIMARY KEY CHECK (id = 1),
         document TEXT NOT NULL,
         origin_ms INTEGER NOT NULL,
         next_slot_ms INTEGER NOT NULL DEFAULT 0,
         schedule_error TEXT NOT NULL DEFAULT '',
         created_at_ms INTEGER NOT NULL,
         updated_at_ms INTEGER NOT NULL);
       CREATE TABLE report_digests(
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         period_start_ms INTEGER NOT NULL,
         period_end_ms INTEGER NOT NULL UNIQUE,
         trigger TEXT NOT NULL,
         status TEXT NOT NULL,
         attempts INTEGER NOT NULL DEFAULT 0,
         next_attempt_at_ms INTEGER NOT NULL,
         last_error TEXT NOT NULL DEFAULT '',
         created_at_ms INTEGER NOT NULL,
         sent_at_ms INTEGER NOT NULL DEFAULT 0,
         subject TEXT NOT NULL DEFAULT '');
       CREATE INDEX report_digests_due ON report_digests(status, next_attempt_at_ms);)"};

constexpr const char* kDigestColumns =
    "id, period_start_ms, period_end_ms, trigger, status, attempts, next_attempt_at_ms, "
    "last_error, created_at_ms, sent_at_ms, subject";

constexpr int64_t kDay = 86'400'000;
constexpr int kMaxRunsLoaded = 5'000;

DigestRecord readDigest(const sqlite::Statement& st) {
  DigestRecord d;
  d.id = st.columnInt64(0);
  d.period_start_ms = st.columnInt64(1);
  d.period_end_ms = st.columnInt64(2);
  d.trigger = st.columnText(3);
  d.status = st.columnText(4);
  d.attempts = st.columnInt64(5);
  d.next_attempt_at_ms = st.columnInt64(6);
  d.last_error = st.columnText(7);
  d.created_at_ms = st.columnInt64(8);
  d.sent_at_ms = st.columnInt64(9);
  d.subject = st.columnText(10);
  return d;
}

Result<std::optional<StoredDigestSettings>> readSettings(sqlite::Database& db) {
  ASSIGN_OR_RETURN(auto st, db.prepare("SELECT document, origin_ms, next_slot_ms, schedule_error, "
                                       "created_at_ms, updated_at_ms FROM report_digest_settings "
                                       "WHERE id = 1"));
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<StoredDigestSettings>();
  StoredDigestSettings s;
  ASSIGN_OR_RETURN(s.settings, digestSettingsFromJson(st.columnText(0)));
  s.origin_ms = st.columnInt64(1);
  s.next_slot_ms = st.columnInt64(2);
  s.schedule_error = st.columnText(3);
  s.created_at_ms = st.columnInt64(4);
  s.updated_at_ms = st.columnInt64(5);
  return std::optional<StoredDigestSettings>(std::move(s));
}

// The end of the last digest, nullopt when there was none.
Result<std::optional<int64_t>> lastEnd(sqlite::Database& db) {
  ASSIGN_OR_RETURN(auto st, db.prepare("SELECT MAX(period_end_ms) FROM report_digests"));
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row || st.columnIsNull(0)) return std::optional<int64_t>();
  return std::optional<int64_t>(st.columnInt64(0));
}

bj::value isoOrNull(int64_t ms) {
  return ms > 0 ? bj::value(formatIso8601Utc(ms / 1000)) : bj::value(nullptr);
}

bj::object digestJson(const DigestRecord& d) {
  return bj::object{
      {"id", d.id},
      {"period_start", isoOrNull(d.period_start_ms)},
      {"period_end", isoOrNull(d.period_end_ms)},
      {"trigger", d.trigger},
      {"status", d.status},
      {"attempts", d.attempts},
      {"next_attempt_at",
       d.status == "pending" ? isoOrNull(d.next_attempt_at_ms) : bj::value(nullptr)},
      {"last_error", d.last_error.empty() ? bj::value(nullptr) : bj::value(d.last_error)},
      {"created_at", isoOrNull(d.created_at_ms)},
      {"sent_at", isoOrNull(d.sent_at_ms)},
      {"subject", d.subject.empty() ? bj::value(nullptr) : bj::value(d.subject)}};
}

HttpServerResponse json(int status, const bj::value& v) {
  HttpServerResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = bj::serialize(v);
  return r;
}

HttpServerResponse error(int status, const std::string& code, const std::string& message) {
  return json(status, protocol::toJson(protocol::ErrorBody{code, message}));
}

HttpServerResponse failure(const Status& st) {
  switch (st.errorClass()) {
    case ErrorClass::kNotFound:
      return error(404, protocol::kErrNotFound, st.message());
    case ErrorClass::kConflict:
      return error(409, "conflict", st.message());
    case ErrorClass::kData:
      return error(400, protocol::kErrBadRequest, st.message());
    case ErrorClass::kTransient:
      spdlog::error("report digest: {}", st.toString());
      return error(503, protocol::kErrUnavailable, "temporarily unavailable, retry");
    default:
      spdlog::error("report digest: {}", st.toString());
      return error(500, protocol::kErrInternal, "internal error");
  }
}

HttpServerResponse invalid(const std::vector<DigestFieldError>& errors) {
  bj::array arr;
  for (const auto& e : errors) arr.push_back(bj::object{{"path", e.path}, {"reason", e.reason}});
  return json(422, bj::object{{"error", "invalid_report_digest"}, {"errors", std::move(arr)}});
}

constexpr const char* kNoSmtpSink =
    "no smtp ticket sink is configured: the digest is sent through the tenant's smtp ticket sink "
    "(server, port, STARTTLS, credentials); add one with PUT /api/v1/ticket-sinks first";

}  // namespace

ReportDigestService::ReportDigestService(ControlStore& control, TenantStores& tenants,
                                         ControlPlaneService& service, TicketService& tickets,
                                         const Clock& clock, DigestOptions options)
    : control_(control),
      tenants_(tenants),
      service_(service),
      tickets_(tickets),
      clock_(clock),
      options_(std::move(options)) {
  while (!options_.public_url.empty() && options_.public_url.back() == '/') {
    options_.public_url.pop_back();
  }
}

template <class F>
auto ReportDigestService::withDb(const std::string& tenant_id, F&& f)
    -> decltype(f(std::declval<sqlite::Database&>())) {
  ASSIGN_OR_RETURN(auto store, tenants_.forTenant(tenant_id));
  bool migrated;
  {
    std::lock_guard lk(migrated_mu_);
    migrated = migrated_.count(tenant_id) > 0;
  }
  if (!migrated) {
    RETURN_IF_ERROR(store->withDatabase([](sqlite::Database& db) {
      return sqlite::migrateComponent(db, "report_digest", kSchema);
    }));
    std::lock_guard lk(migrated_mu_);
    migrated_.insert(tenant_id);
  }
  return store->withDatabase(std::forward<F>(f));
}

Status ReportDigestService::forgetTenant(const std::string& tenant_id) {
  std::lock_guard lk(migrated_mu_);
  migrated_.erase(tenant_id);
  return Status::ok();
}

Result<std::optional<StoredDigestSettings>> ReportDigestService::settings(
    const std::string& tenant_id) {
  return withDb(tenant_id, [](sqlite::Database& db) { return readSettings(db); });
}

Result<SinkConfig> ReportDigestService::smtpSink(const std::string& tenant_id,
                                                 const std::string& wanted) {
  ASSIGN_OR_RETURN(auto sinks, tickets_.sinks(tenant_id));
  for (const auto& s : sinks) {
    if (s.type != "smtp") continue;
    if (wanted.empty() || s.id == wanted) return s;
  }
  if (!wanted.empty()) {
    return notFoundError("the smtp ticket sink '" + wanted + "' does not exist");
  }
  return conflictError(kNoSmtpSink);
}

Result<int64_t> ReportDigestService::nextSlot(const std::string& tenant_id, const std::string& cron,
                                              int64_t after_ms) {
  return service_.nextScheduledRun(tenant_id, cron, after_ms);
}

Result<StoredDigestSettings> ReportDigestService::putSettings(const std::string& tenant_id,
                                                              const DigestSettings& s) {
  if (!s.smtp_sink.empty() || s.enabled) {
    auto sink = smtpSink(tenant_id, s.smtp_sink);
    if (!sink.isOk()) {
      if (sink.status().errorClass() == ErrorClass::kNotFound) {
        return dataError("smtp_sink: " + sink.status().message());
      }
      return sink.status();
    }
  }
  const int64_t now = clock_.nowUnixMillis();
  int64_t next = 0;
  std::string schedule_error;
  if (s.enabled) {
    auto n = nextSlot(tenant_id, s.schedule, now);
    if (n.isOk()) {
      next = *n;
    } else if (n.status().errorClass() == ErrorClass::kNotFound ||
               n.status().errorClass() == ErrorClass::kData) {
      return dataError("schedule: never runs: " + n.status().message());
    } else {
      schedule_error = n.status().message();  // e.g. the tenant's time zone is missing
    }
  }
  return withDb(tenant_id, [&](sqlite::Database& db) -> Result<StoredDigestSettings> {
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    ASSIGN_OR_RETURN(
        auto st,
        db.prepare(
            "INSERT INTO report_digest_settings(id, document, origin_ms, next_slot_ms, "
            "schedule_error, created_at_ms, updated_at_ms) VALUES(1, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET document = excluded.document, next_slot_ms = "
            "excluded.next_slot_ms, schedule_error = excluded.schedule_error, updated_at_ms = "
            "excluded.updated_at_ms"));
    st.bindText(1, bj::serialize(digestSettingsToJson(s))).bindInt64(2, now).bindInt64(3, next);
    st.bindText(4, schedule_error).bindInt64(5, now).bindInt64(6, now);
    RETURN_IF_ERROR(st.run());
    ASSIGN_OR_RETURN(auto after, readSettings(db));
    RETURN_IF_ERROR(tx.commit());
    if (!after) return internalError("digest settings vanished");
    return *after;
  });
}

Result<bool> ReportDigestService::deleteSettings(const std::string& tenant_id) {
  return withDb(tenant_id, [&](sqlite::Database& db) -> Result<bool> {
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    ASSIGN_OR_RETURN(auto before, readSettings(db));
    RETURN_IF_ERROR(db.exec("DELETE FROM report_digest_settings; DELETE FROM report_digests;"));
    RETURN_IF_ERROR(tx.commit());
    return before.has_value();
  });
}

Result<int64_t> ReportDigestService::nextPeriodStart(const std::string& tenant_id) {
  const int64_t now = clock_.nowUnixMillis();
  return withDb(tenant_id, [&](sqlite::Database& db) -> Result<int64_t> {
    ASSIGN_OR_RETURN(auto last, lastEnd(db));
    if (last) return *last;
    ASSIGN_OR_RETURN(auto s, readSettings(db));
    return s ? s->origin_ms : now - kDay;
  });
}

Result<std::optional<DigestRecord>> ReportDigestService::createDigest(
    const std::string& tenant_id, int64_t start_ms, int64_t end_ms, const std::string& trigger,
    const std::string& status, std::optional<int64_t> expected_slot, int64_t next_slot_ms) {
  const int64_t now = clock_.nowUnixMillis();
  return withDb(tenant_id, [&](sqlite::Database& db) -> Result<std::optional<DigestRecord>> {
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    ASSIGN_OR_RETURN(auto s, readSettings(db));
    if (!s) return std::optional<DigestRecord>();  // deleted meanwhile
    ASSIGN_OR_RETURN(auto last, lastEnd(db));
    // Contiguous periods: only when nothing was created since `start_ms` was read.
    if (last.value_or(s->origin_ms) != start_ms) return std::optional<DigestRecord>();
    if (expected_slot && s->next_slot_ms != *expected_slot) return std::optional<DigestRecord>();
    std::optional<DigestRecord> created;
    if (end_ms > start_ms) {
      ASSIGN_OR_RETURN(
          auto ins,
          db.prepare("INSERT INTO report_digests(period_start_ms, period_end_ms, trigger, status, "
                     "next_attempt_at_ms, created_at_ms) VALUES(?,?,?,?,?,?)"));
      ins.bindInt64(1, start_ms).bindInt64(2, end_ms).bindText(3, trigger).bindText(4, status);
      ins.bindInt64(5, now).bindInt64(6, now);
      RETURN_IF_ERROR(ins.run());
      ASSIGN_OR_RETURN(auto q, db.prepare(std::string("SELECT ") + kDigestColumns +
                                          " FROM report_digests WHERE id = last_insert_rowid()"));
      ASSIGN_OR_RETURN(bool row, q.step());
      if (!row) return internalError("digest row vanished");
      created = readDigest(q);
    }
    if (expected_slot) {
      ASSIGN_OR_RETURN(auto upd, db.prepare("UPDATE report_digest_settings SET next_slot_ms = ?, "
                                            "schedule_error = ? WHERE id = 1"));
      upd.bindInt64(1, next_slot_ms)
          .bindText(2, next_slot_ms ? "" : "cannot compute the next digest time");
      RETURN_IF_ERROR(upd.run());
    }
    RETURN_IF_ERROR(tx.commit());
    return created;
  });
}

Result<DigestRecord> ReportDigestService::requestNow(const std::string& tenant_id) {
  ASSIGN_OR_RETURN(auto s, settings(tenant_id));
  if (!s) return notFoundError("no report digest is configured (PUT /api/v1/report-digest)");
  if (s->settings.to.empty()) return conflictError("the digest has no recipients (to)");
  RETURN_IF_ERROR(smtpSink(tenant_id, s->settings.smtp_sink).status());
  ASSIGN_OR_RETURN(int64_t start, nextPeriodStart(tenant_id));
  const int64_t end = clock_.nowUnixMillis();
  if (end <= start) return conflictError("a digest up to now was just created");
  ASSIGN_OR_RETURN(auto d,
                   createDigest(tenant_id, start, end, "on_demand", "pending", std::nullopt, 0));
  if (!d) return conflictError("another digest was created at the same time; retry");
  spdlog::info("tenant {}: report digest {} requested ({} to {})", tenant_id, d->id,
               formatIso8601Utc(start / 1000), formatIso8601Utc(end / 1000));
  tickets_.wakeDelivery();
  return *d;
}

Result<std::vector<DigestRecord>> ReportDigestService::digests(const std::string& tenant_id,
                                                               int limit) {
  return withDb(tenant_id, [&](sqlite::Database& db) -> Result<std::vector<DigestRecord>> {
    ASSIGN_OR_RETURN(auto st, db.prepare(std::string("SELECT ") + kDigestColumns +
                                         " FROM report_digests ORDER BY id DESC LIMIT ?"));
    st.bindInt64(1, limit);
    std::vector<DigestRecord> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      out.push_back(readDigest(st));
    }
    return out;
  });
}

Result<DigestContent> ReportDigestService::content(const std::string& tenant_id, int64_t start_ms,
                                                   int64_t end_ms) {
  DigestContent c;
  c.tenant_id = tenant_id;
  c.period_start_ms = start_ms;
  c.period_end_ms = end_ms;
  c.public_url = options_.public_url;
  ASSIGN_OR_RETURN(auto tenant, control_.tenantById(tenant_id));
  if (!tenant) return notFoundError("no tenant " + tenant_id);
  c.tenant_name = tenant->name;
  ASSIGN_OR_RETURN(policy::Policy pol, service_.tenantPolicy(tenant_id));
  auto zone = TimeZone::load(pol.lifecycle.time_zone);
  if (zone.isOk()) {
    c.zone = *zone;
  } else {
    spdlog::warn("tenant {}: time zone {} for the digest: {}; using UTC", tenant_id,
                 pol.lifecycle.time_zone, zone.status().toString());
  }
  ASSIGN_OR_RETURN(auto store, tenants_.forTenant(tenant_id));
  ASSIGN_OR_RETURN(auto runs, store->runsCreatedBetween(start_ms, end_ms, kMaxRunsLoaded));
  std::vector<RunReport> reports;
  for (const auto& r : runs) {
    ASSIGN_OR_RETURN(auto rep, store->report(r.run_id, /*failures_only=*/true));
    if (!rep) continue;
    if ((rep->run.status == RunStatus::kHeld || rep->run.status == RunStatus::kRejected) &&
        rep->counts_by_action.empty()) {
      // As the run report does: a held run shows the plan it was stopped with.
      ASSIGN_OR_RETURN(auto plan, store->heldPlan(r.run_id));
      if (plan) {
        for (const auto& o : plan->outcomes) rep->counts_by_action[o.action] += 1;
      }
    }
    reports.push_back(std::move(*rep));
  }
  for (size_t i = 0; i < reports.size(); ++i) {
    if (static_cast<int>(i) < options_.max_runs_listed) {
      c.runs.push_back(digestRunOf(reports[i]));
    } else {
      ++c.runs_not_listed;
    }
  }
  c.top_errors = topDigestErrors(reports, options_.top_errors);
  ASSIGN_OR_RETURN(auto tickets, tickets_.list(tenant_id));
  for (const auto& t : tickets) {
    if (t.state == "resolved") continue;
    c.open_tickets.push_back(
        DigestTicket{t.ticket_id, t.detector, t.state, t.summary, t.count, t.last_seen_ms});
  }
  return c;
}

Status ReportDigestService::createScheduled(const std::string& tenant_id, int64_t now_ms) {
  ASSIGN_OR_RETURN(auto s, settings(tenant_id));
  if (!s || !s->settings.enabled) return Status::ok();
  if (s->next_slot_ms == 0) {
    // Not schedulable when last computed (e.g. a time zone missing): try again.
    auto n = nextSlot(tenant_id, s->settings.schedule, now_ms);
    if (!n.isOk()) return Status::ok();
    return withDb(tenant_id, [&](sqlite::Database& db) -> Status {
      ASSIGN_OR_RETURN(
          auto st,
          db.prepare("UPDATE report_digest_settings SET next_slot_ms = ?, schedule_error = '' "
                     "WHERE id = 1 AND next_slot_ms = 0"));
      st.bindInt64(1, *n);
      return st.run();
    });
  }
  if (now_ms < s->next_slot_ms) return Status::ok();
  // After downtime: one digest up to the missed slot, then the schedule keeps its rhythm.
  const int64_t end = s->next_slot_ms;
  auto next = nextSlot(tenant_id, s->settings.schedule, now_ms);
  if (!next.isOk()) {
    spdlog::warn("tenant {}: next report digest time: {}", tenant_id, next.status().toString());
  }
  ASSIGN_OR_RETURN(int64_t start, nextPeriodStart(tenant_id));
  std::string status = "pending";
  if (!s->settings.send_when_empty && end > start) {
    ASSIGN_OR_RETURN(auto c, content(tenant_id, start, end));
    if (digestIsEmpty(c)) status = "skipped";
  }
  ASSIGN_OR_RETURN(auto d, createDigest(tenant_id, start, end, "schedule", status, end,
                                        next.isOk() ? *next : 0));
  if (d) {
    spdlog::info("tenant {}: report digest {} for {} to {} {}", tenant_id, d->id,
                 formatIso8601Utc(start / 1000), formatIso8601Utc(end / 1000),
                 status == "skipped" ? "skipped (nothing to report)" : "queued");
  }
  return Status::ok();
}

Status ReportDigestService::deliver(const std::string& tenant_id, const DigestRecord& d,
                                    std::string* subject) {
  ASSIGN_OR_RETURN(auto s, settings(tenant_id));
  if (!s) return notFoundError("the digest settings were deleted");
  ASSIGN_OR_RETURN(SinkConfig sealed, smtpSink(tenant_id, s->settings.smtp_sink));
  ASSIGN_OR_RETURN(SinkConfig sink, tickets_.openSink(tenant_id, sealed.id));
  ASSIGN_OR_RETURN(DigestContent c, content(tenant_id, d.period_start_ms, d.period_end_ms));
  DigestEnvelope env;
  auto from = sink.settings.if_contains("from");
  env.from = from && from->is_string() ? std::string(from->get_string()) : "";
  env.to = s->settings.to;
  // The same id on every attempt: a mail sent twice (crash after the server accepted it) is
  // recognisable as one.
  env.message_id = "digest." + std::to_string(d.id) + "." + std::to_string(d.period_end_ms) + "." +
                   tenant_id + "@tenure";
  env.date_unix = clock_.nowUnix();
  *subject = digestSubject(c);
  // No store lock is held during the network call.
  return sendSmtpMessage(tickets_.transport().mail, sink, env.to, digestEmail(c, env),
                         options_.smtp_timeout);
}

Result<int> ReportDigestService::deliverDue(const std::string& tenant_id, int64_t now_ms) {
  ASSIGN_OR_RETURN(
      auto due, withDb(tenant_id, [&](sqlite::Database& db) -> Result<std::vector<DigestRecord>> {
        ASSIGN_OR_RETURN(auto st, db.prepare(std::string("SELECT ") + kDigestColumns +
                                             " FROM report_digests WHERE status = 'pending' AND "
                                             "next_attempt_at_ms <= ? ORDER BY id LIMIT 20"));
        st.bindInt64(1, now_ms);
        std::vector<DigestRecord> out;
        for (;;) {
          ASSIGN_OR_RETURN(bool row, st.step());
          if (!row) break;
          out.push_back(readDigest(st));
        }
        return out;
      }));
  int sent = 0;
  for (const auto& d : due) {
    std::string subject;
    Status result = deliver(tenant_id, d, &subject);
    const int64_t after = clock_.nowUnixMillis();
    RETURN_IF_ERROR(withDb(tenant_id, [&](sqlite::Database& db) -> Status {
      if (result.isOk()) {
        ASSIGN_OR_RETURN(
            auto st,
            db.prepare("UPDATE report_digests SET status = 'sent', sent_at_ms = ?, attempts = "
                       "attempts + 1, "
                       "last_error = '', subject = ? WHERE id = ? AND status = 'pending'"));
        st.bindInt64(1, after).bindText(2, subject).bindInt64(3, d.id);
        return st.run();
      }
      // Capped exponential backoff, forever (as the ticket outbox): base, 2*base, ... retry_max.
      int64_t delay = options_.retry_base.count();
      for (int64_t i = 0; i < d.attempts && delay < options_.retry_max.count(); ++i) delay *= 2;
      delay = std::min<int64_t>(delay, options_.retry_max.count());
      ASSIGN_OR_RETURN(
          auto st,
          db.prepare("UPDATE report_digests SET attempts = attempts + 1, next_attempt_at_ms = ?, "
                     "last_error = ? WHERE id = ? AND status = 'pending'"));
      st.bindInt64(1, after + delay).bindText(2, result.message()).bindInt64(3, d.id);
      return st.run();
    }));
    if (result.isOk()) {
      ++sent;
      spdlog::info("tenant {}: report digest {} sent", tenant_id, d.id);
    } else {
      spdlog::warn("tenant {}: report digest {} not sent (attempt {}): {}", tenant_id, d.id,
                   d.attempts + 1, result.toString());
    }
  }
  return sent;
}

Result<int> ReportDigestService::runDue() {
  std::lock_guard lk(run_mu_);
  ASSIGN_OR_RETURN(auto tenants, control_.listTenants());
  int sent = 0;
  for (const auto& t : tenants) {
    const int64_t now = clock_.nowUnixMillis();
    // One tenant's failure (its store, its schedule) does not hold up the others.
    if (Status st = createScheduled(t.tenant_id, now); !st.isOk()) {
      if (st.errorClass() != ErrorClass::kNotFound) {
        spdlog::error("tenant {}: report digest schedule: {}", t.tenant_id, st.toString());
      }
      continue;
    }
    auto n = deliverDue(t.tenant_id, clock_.nowUnixMillis());
    if (!n.isOk()) {
      if (n.status().errorClass() != ErrorClass::kNotFound) {
        spdlog::error("tenant {}: report digest delivery: {}", t.tenant_id, n.status().toString());
      }
      continue;
    }
    sent += *n;
  }
  return sent;
}

// ---------------------------------------------------------------------------------------------
// HTTP

HttpServerResponse ReportDigestService::handle(const std::string& tenant_id,
                                               const HttpServerRequest& req,
                                               const std::vector<std::string>& seg) {
  if (seg.size() == 1) {
    if (req.method == "GET") {
      auto s = settings(tenant_id);
      if (!s.isOk()) return failure(s.status());
      auto policy = service_.tenantPolicy(tenant_id);
      if (!policy.isOk()) return failure(policy.status());
      bj::object o = digestSettingsToJson(s->has_value() ? (*s)->settings : DigestSettings{});
      o["configured"] = s->has_value();
      o["time_zone"] = policy->lifecycle.time_zone;
      o["next_digest_at"] = s->has_value() && (*s)->settings.enabled ? isoOrNull((*s)->next_slot_ms)
                                                                     : bj::value(nullptr);
      o["schedule_error"] = s->has_value() && !(*s)->schedule_error.empty()
                                ? bj::value((*s)->schedule_error)
                                : bj::value(nullptr);
      auto start = nextPeriodStart(tenant_id);
      if (!start.isOk()) return failure(start.status());
      o["next_period_start"] = s->has_value() ? isoOrNull(*start) : bj::value(nullptr);
      auto sink = smtpSink(tenant_id, s->has_value() ? (*s)->settings.smtp_sink : "");
      o["smtp_sink_in_use"] = sink.isOk() ? bj::value(sink->id) : bj::value(nullptr);
      o["created_at"] = s->has_value() ? isoOrNull((*s)->created_at_ms) : bj::value(nullptr);
      o["updated_at"] = s->has_value() ? isoOrNull((*s)->updated_at_ms) : bj::value(nullptr);
      return json(200, o);
    }
    if (req.method == "PUT") {
      boost::system::error_code ec;
      bj::value body = bj::parse(req.body, ec);
      if (ec) return error(400, protocol::kErrBadRequest, "the body is not JSON: " + ec.message());
      auto current = settings(tenant_id);
      if (!current.isOk()) return failure(current.status());
      DigestSettings s = current->has_value() ? (*current)->settings : DigestSettings{};
      if (auto errors = applyDigestSettings(body, s); !errors.empty()) return invalid(errors);
      auto stored = putSettings(tenant_id, s);
      if (!stored.isOk()) {
        const Status& st = stored.status();
        if (st.errorClass() == ErrorClass::kData) {
          const std::string& m = st.message();
          const size_t colon = m.find(": ");
          return invalid({{colon == std::string::npos ? "" : m.substr(0, colon),
                           colon == std::string::npos ? m : m.substr(colon + 2)}});
        }
        return failure(st);
      }
      spdlog::info("tenant {}: report digest settings changed (enabled {}, {} recipients, '{}')",
                   tenant_id, s.enabled, s.to.size(), s.schedule);
      HttpServerRequest get;
      get.method = "GET";
      get.path = req.path;
      return handle(tenant_id, get, seg);
    }
    if (req.method == "DELETE") {
      auto deleted = deleteSettings(tenant_id);
      if (!deleted.isOk()) return failure(deleted.status());
      if (!*deleted) return error(404, protocol::kErrNotFound, "no report digest is configured");
      spdlog::info("tenant {}: report digest removed", tenant_id);
      return json(200, bj::object{{"deleted", true}});
    }
    return error(405, protocol::kErrBadRequest, "use GET, PUT or DELETE");
  }
  if (seg.size() == 2 && seg[1] == "send") {
    if (req.method != "POST") return error(405, protocol::kErrBadRequest, "use POST");
    auto d = requestNow(tenant_id);
    if (!d.isOk()) return failure(d.status());
    return json(202, digestJson(*d));
  }
  if (seg.size() == 2 && seg[1] == "digests") {
    if (req.method != "GET") return error(405, protocol::kErrBadRequest, "use GET");
    auto list = digests(tenant_id);
    if (!list.isOk()) return failure(list.status());
    bj::array arr;
    for (const auto& d : *list) arr.push_back(digestJson(d));
    return json(200, bj::object{{"digests", std::move(arr)}});
  }
  if (seg.size() == 2 && seg[1] == "preview") {
    if (req.method != "GET") return error(405, protocol::kErrBadRequest, "use GET");
    auto format = req.query.count("format") ? req.query.at("format") : "html";
    if (format != "html" && format != "text") {
      return error(400, protocol::kErrBadRequest, "format: html or text");
    }
    auto start = nextPeriodStart(tenant_id);
    if (!start.isOk()) return failure(start.status());
    auto c = content(tenant_id, *start, clock_.nowUnixMillis());
    if (!c.isOk()) return failure(c.status());
    HttpServerResponse r;
    if (format == "text") {
      r.content_type = "text/plain; charset=utf-8";
      r.body = digestText(*c);
    } else {
      r.content_type = "text/html; charset=utf-8";
      r.body = digestHtml(*c);
      // As for report.html: the page may not load or run anything.
      r.headers["Content-Security-Policy"] =
          "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";
    }
    return r;
  }
  return error(404, protocol::kErrNotFound, "no such endpoint");
}

}  // namespace tenure::cp
