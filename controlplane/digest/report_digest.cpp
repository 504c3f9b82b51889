#include "controlplane/digest/report_digest.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include <algorithm>

#include "common/base/time_zone.h"
#include "common/protocol/messages.h"
#include "controlplane/reports/run_report.h"

namespace tenure::cp {

namespace bj = boost::json;

namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int kMaxRunsLoaded = 5'000;

Result<StoredDigestSettings> settingsOf(const DigestSettingsRecord& r) {
  StoredDigestSettings s;
  ASSIGN_OR_RETURN(s.settings, digestSettingsFromJson(r.document));
  s.origin_ms = r.origin_ms;
  s.next_slot_ms = r.next_slot_ms;
  s.schedule_error = r.schedule_error;
  s.created_at_ms = r.created_at_ms;
  s.updated_at_ms = r.updated_at_ms;
  return s;
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
                                         Intake& intake, TicketService& tickets,
                                         const Clock& clock, DigestOptions options)
    : control_(control),
      tenants_(tenants),
      intake_(intake),
      tickets_(tickets),
      clock_(clock),
      options_(std::move(options)) {
  while (!options_.public_url.empty() && options_.public_url.back() == '/') {
    options_.public_url.pop_back();
  }
}

Result<std::shared_ptr<TenantStore>> ReportDigestService::tenantStore(
    const std::string& tenant_id) {
  return tenants_.forTenant(tenant_id);
}

Status ReportDigestService::forgetTenant(const std::string&) {
  // Nothing is cached per tenant: the digest's tables are migrated when the tenant's
  // store opens, and its rows go with the store.
  return Status::ok();
}

Result<std::optional<StoredDigestSettings>> ReportDigestService::settings(
    const std::string& tenant_id) {
  ASSIGN_OR_RETURN(auto store, tenantStore(tenant_id));
  ASSIGN_OR_RETURN(auto stored, store->digests().settings());
  if (!stored) return std::optional<StoredDigestSettings>();
  ASSIGN_OR_RETURN(auto s, settingsOf(*stored));
  return std::optional<StoredDigestSettings>(std::move(s));
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
  ASSIGN_OR_RETURN(policy::Policy pol, intake_.currentPolicy(tenant_id));
  return policy::nextCronRunMs(pol, cron, after_ms);
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
  ASSIGN_OR_RETURN(auto store, tenantStore(tenant_id));
  ASSIGN_OR_RETURN(auto stored, store->digests().saveSettings(
                                    bj::serialize(digestSettingsToJson(s)), next, schedule_error,
                                    now));
  return settingsOf(stored);
}

Result<bool> ReportDigestService::deleteSettings(const std::string& tenant_id) {
  ASSIGN_OR_RETURN(auto store, tenantStore(tenant_id));
  return store->digests().deleteSettings();
}

Result<int64_t> ReportDigestService::nextPeriodStart(const std::string& tenant_id) {
  const int64_t now = clock_.nowUnixMillis();
  ASSIGN_OR_RETURN(auto store, tenantStore(tenant_id));
  ASSIGN_OR_RETURN(auto start, store->digests().nextPeriodStart());
  return start ? *start : now - kDay;
}

Result<std::optional<DigestRecord>> ReportDigestService::createDigest(
    const std::string& tenant_id, int64_t start_ms, int64_t end_ms, const std::string& trigger,
    const std::string& status, std::optional<int64_t> expected_slot, int64_t next_slot_ms) {
  NewDigest n;
  n.period_start_ms = start_ms;
  n.period_end_ms = end_ms;
  n.trigger = trigger;
  n.status = status;
  n.created_at_ms = clock_.nowUnixMillis();
  n.slot_ms = expected_slot;
  n.next_slot_ms = next_slot_ms;
  n.next_slot_error = "cannot compute the next digest time";
  ASSIGN_OR_RETURN(auto store, tenantStore(tenant_id));
  return store->digests().createDigest(n);
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
  ASSIGN_OR_RETURN(auto store, tenantStore(tenant_id));
  return store->digests().digests(limit);
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
  ASSIGN_OR_RETURN(policy::Policy pol, intake_.currentPolicy(tenant_id));
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
    ASSIGN_OR_RETURN(auto store, tenantStore(tenant_id));
    return store->digests().scheduleIfUnscheduled(*n);
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
  ASSIGN_OR_RETURN(auto store, tenantStore(tenant_id));
  ASSIGN_OR_RETURN(auto due, store->digests().dueDigests(now_ms, 20));
  int sent = 0;
  for (const auto& d : due) {
    std::string subject;
    Status result = deliver(tenant_id, d, &subject);
    const int64_t after = clock_.nowUnixMillis();
    if (result.isOk()) {
      RETURN_IF_ERROR(store->digests().markSent(d.id, after, subject));
    } else {
      // Capped exponential backoff, forever (as the ticket outbox): base, 2*base, ... retry_max.
      int64_t delay = options_.retry_base.count();
      for (int64_t i = 0; i < d.attempts && delay < options_.retry_max.count(); ++i) delay *= 2;
      delay = std::min<int64_t>(delay, options_.retry_max.count());
      RETURN_IF_ERROR(store->digests().markFailed(d.id, after + delay, result.message()));
    }
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
      auto policy = intake_.currentPolicy(tenant_id);
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
