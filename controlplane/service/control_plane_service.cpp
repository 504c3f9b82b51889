#include "controlplane/service/control_plane_service.h"

#include <boost/json.hpp>

#include <algorithm>
#include <spdlog/spdlog.h>

#include "common/base/crypto.h"
#include "common/base/json_fields.h"
#include "common/hr/csv.h"
#include "common/hr/json_records.h"
#include "common/protocol/messages.h"

namespace tenure::cp {

namespace bj = boost::json;
using protocol::ErrorBody;

namespace {

HttpServerResponse jsonResponse(int status, const bj::value& v) {
  HttpServerResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = bj::serialize(v);
  return r;
}

HttpServerResponse errorResponse(int status, const std::string& code, const std::string& message) {
  return jsonResponse(status, protocol::toJson(ErrorBody{code, message}));
}

// HTTP status for a store failure: transient faults are 503 so agents retry (never node_invalid).
HttpServerResponse storeFailure(const Status& st) {
  spdlog::error("store failure: {}", st.toString());
  if (st.errorClass() == ErrorClass::kTransient) {
    return errorResponse(503, protocol::kErrUnavailable, "temporarily unavailable, retry");
  }
  return errorResponse(500, protocol::kErrInternal, "internal error");
}

// "Authorization: <scheme> <credential>" -> credential, or "" when absent / another scheme.
std::string credential(const HttpServerRequest& req, std::string_view scheme) {
  std::string h = req.header("authorization");
  if (h.size() <= scheme.size() + 1) return "";
  for (size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(h[i])) !=
        std::tolower(static_cast<unsigned char>(scheme[i]))) {
      return "";
    }
  }
  if (h[scheme.size()] != ' ') return "";
  std::string c = h.substr(scheme.size() + 1);
  while (!c.empty() && c.back() == ' ') c.pop_back();
  while (!c.empty() && c.front() == ' ') c.erase(c.begin());
  return c;
}

// True when `r` is ok; otherwise answers the request with the store failure and returns false.
template <typename T>
bool okOrAnswered(const Result<T>& r, Responder& respond) {
  if (r.isOk()) return true;
  respond(storeFailure(r.status()));
  return false;
}

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Splits "/a/b/c" after `prefix` into segments.
std::vector<std::string> segmentsAfter(const std::string& path, std::string_view prefix) {
  std::vector<std::string> out;
  std::string_view rest = std::string_view(path).substr(prefix.size());
  while (!rest.empty()) {
    if (rest.front() == '/') {
      rest.remove_prefix(1);
      continue;
    }
    size_t n = rest.find('/');
    out.emplace_back(rest.substr(0, n));
    if (n == std::string_view::npos) break;
    rest.remove_prefix(n);
  }
  return out;
}

std::string mediaType(const HttpServerRequest& req) {
  std::string ct = req.header("content-type");
  ct = ct.substr(0, ct.find(';'));
  std::transform(ct.begin(), ct.end(), ct.begin(), [](unsigned char c) { return std::tolower(c); });
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  return ct;
}

bj::object runToJson(const RunRecord& r) {
  bj::array rejected;
  for (const auto& row : r.rejected) {
    rejected.push_back(bj::object{{"row", row.row},
                                  {"employee_id", row.employee_id},
                                  {"field", row.field},
                                  {"reason", row.reason}});
  }
  bj::object o{{"run_id", r.run_id},
               {"kind", r.kind},
               {"source", r.source},
               {"status", std::string(runStatusName(r.status))},
               {"dry_run", r.dry_run},
               {"created_at", r.created_at_ms ? bj::value(formatIso8601Utc(r.created_at_ms / 1000))
                                              : bj::value(nullptr)},
               {"started_at", r.started_at_ms ? bj::value(formatIso8601Utc(r.started_at_ms / 1000))
                                              : bj::value(nullptr)},
               {"finished_at", r.finished_at_ms
                                   ? bj::value(formatIso8601Utc(r.finished_at_ms / 1000))
                                   : bj::value(nullptr)},
               {"accepted", r.accepted},
               {"rejected_count", static_cast<int64_t>(r.rejected.size())},
               {"rejected", std::move(rejected)}};
  if (!r.agent_id.empty()) o["agent_id"] = r.agent_id;
  if (!r.domain_controller.empty()) o["domain_controller"] = r.domain_controller;
  if (!r.error_class.empty()) {
    o["error"] = bj::object{{"class", r.error_class}, {"message", r.error_message}};
  }
  return o;
}

}  // namespace

ControlPlaneService::ControlPlaneService(boost::asio::io_context& io, ControlStore& control,
                                         TenantStores& tenants, const Clock& clock,
                                         ServiceOptions options)
    : io_(io),
      control_(control),
      tenants_(tenants),
      clock_(clock),
      options_(options),
      alive_(std::make_shared<std::atomic<bool>>(true)) {}

ControlPlaneService::~ControlPlaneService() {
  *alive_ = false;
  if (sweep_timer_) sweep_timer_->cancel();
}

void ControlPlaneService::start() { scheduleSweep(); }

void ControlPlaneService::scheduleSweep() {
  sweep_timer_ = std::make_shared<boost::asio::steady_timer>(io_);
  sweep_timer_->expires_after(options_.sweep_interval);
  auto alive = alive_;
  sweep_timer_->async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    // One held poll per tenant tries to lease: this hands over jobs whose lease expired.
    std::vector<std::string> tenants;
    {
      std::lock_guard lk(waiters_mu_);
      if (!holding_) return;
      for (const auto& [id, w] : waiters_) {
        if (std::find(tenants.begin(), tenants.end(), w->tenant_id) == tenants.end()) {
          tenants.push_back(w->tenant_id);
        }
      }
    }
    for (const auto& t : tenants) wakeWaiters(t);
    if (++sweeps_ % 30 == 0) {
      if (Status st = failQuarantinedRuns(); !st.isOk()) {
        spdlog::error("quarantine sweep: {}", st.toString());
      }
    }
    scheduleSweep();
  });
}

size_t ControlPlaneService::heldPolls() const {
  std::lock_guard lk(waiters_mu_);
  return waiters_.size();
}

void ControlPlaneService::handle(HttpServerRequest req, Responder respond) {
  const std::string& path = req.path;
  if (path == "/healthz" && req.method == "GET") {
    respond(jsonResponse(200, bj::object{{"status", "ok"}}));
    return;
  }

  if (startsWith(path, "/agent/v1/")) {
    if (req.method != "POST") {
      respond(errorResponse(405, protocol::kErrBadRequest, "use POST"));
      return;
    }
    if (path == "/agent/v1/enroll") {
      handleEnroll(req, respond);
      return;
    }
    std::string key = credential(req, "NodeKey");
    if (key.empty()) {
      respond(errorResponse(401, protocol::kErrNodeInvalid, "missing NodeKey authorization"));
      return;
    }
    auto agent = control_.agentByNodeKey(key);
    if (!agent.isOk()) {
      // A database fault must never look like an invalid key: agents would re-enroll en masse.
      respond(storeFailure(agent.status()));
      return;
    }
    if (!agent->has_value()) {
      respond(errorResponse(401, protocol::kErrNodeInvalid, "unknown or revoked node key"));
      return;
    }
    const AgentRecord& a = **agent;
    (void)control_.touchAgent(a.agent_id);
    if (path == "/agent/v1/poll") {
      handlePoll(req, std::move(respond), a);
      return;
    }
    auto seg = segmentsAfter(path, "/agent/v1/");
    if (seg.size() == 3 && seg[0] == "jobs" && seg[2] == "result") {
      handleResult(req, respond, a, seg[1]);
      return;
    }
    if (seg.size() == 3 && seg[0] == "jobs" && seg[2] == "progress") {
      handleProgress(respond, a, seg[1]);
      return;
    }
    respond(errorResponse(404, protocol::kErrNotFound, "no such endpoint"));
    return;
  }

  if (startsWith(path, "/api/v1/")) {
    std::string token = credential(req, "Bearer");
    if (token.empty()) {
      respond(errorResponse(401, protocol::kErrUnauthorized, "missing Bearer token"));
      return;
    }
    auto tenant = control_.tenantByApiToken(token);
    if (!okOrAnswered(tenant, respond)) return;
    if (!tenant->has_value()) {
      respond(errorResponse(401, protocol::kErrUnauthorized, "invalid token"));
      return;
    }
    const Tenant& t = **tenant;
    auto seg = segmentsAfter(path, "/api/v1/");
    if (seg.size() == 2 && seg[0] == "hr" && seg[1] == "records") {
      if (req.method != "POST") {
        respond(errorResponse(405, protocol::kErrBadRequest, "use POST"));
        return;
      }
      handleUpload(req, respond, t);
      return;
    }
    if (!seg.empty() && seg[0] == "runs" && req.method == "GET") {
      if (seg.size() == 1) {
        handleListRuns(respond, t);
        return;
      }
      if (seg.size() == 2) {
        handleGetRun(respond, t, seg[1]);
        return;
      }
    }
    respond(errorResponse(404, protocol::kErrNotFound, "no such endpoint"));
    return;
  }
  respond(errorResponse(404, protocol::kErrNotFound, "no such endpoint"));
}

// ---------------------------------------------------------------------------------------------
// Agent API

void ControlPlaneService::handleEnroll(const HttpServerRequest& req, Responder& respond) {
  auto v = protocol::parseJsonText(req.body);
  if (!v.isOk()) {
    respond(errorResponse(400, protocol::kErrBadRequest, v.status().message()));
    return;
  }
  auto er = protocol::parseEnrollRequest(*v);
  if (!er.isOk()) {
    respond(errorResponse(400, protocol::kErrBadRequest, er.status().message()));
    return;
  }
  auto tenant = control_.tenantByEnrollSecret(er->enroll_secret);
  if (!okOrAnswered(tenant, respond)) return;
  if (!tenant->has_value()) {
    spdlog::warn("enroll refused from {}: unknown enroll secret", req.remote_address);
    respond(errorResponse(401, protocol::kErrUnauthorized, "invalid enroll secret"));
    return;
  }
  auto enrolled = control_.enrollAgent((*tenant)->tenant_id, er->host, er->version);
  if (!okOrAnswered(enrolled, respond)) return;
  spdlog::info("agent {} enrolled for tenant {} (host {}, version {})", enrolled->agent.agent_id,
               (*tenant)->tenant_id, er->host, er->version);
  respond(jsonResponse(
      200, protocol::toJson(protocol::EnrollResponse{enrolled->node_key, enrolled->agent.agent_id})));
}

Result<std::optional<protocol::Job>> ControlPlaneService::leaseFor(const std::string& tenant_id,
                                                                   const std::string& agent_id) {
  ASSIGN_OR_RETURN(auto store, tenants_.forTenant(tenant_id));
  for (;;) {
    ASSIGN_OR_RETURN(auto leased, control_.leaseNextJob(tenant_id, agent_id, options_.lease.count(),
                                                        options_.max_attempts));
    if (!leased) return std::optional<protocol::Job>();
    const JobRecord& rec = *leased;
    ASSIGN_OR_RETURN(auto run, store->run(rec.run_id));
    if (!run) {
      // The job outlived its run (cannot happen in normal operation): drop it rather than wedge.
      spdlog::error("job {} has no run {} in tenant {}; completing it", rec.job_id, rec.run_id,
                    tenant_id);
      (void)control_.completeJob(rec.job_id);
      continue;
    }
    ASSIGN_OR_RETURN(auto identities, store->runIdentities(rec.run_id));
    RETURN_IF_ERROR(store->markRunning(rec.run_id, agent_id));
    protocol::Job job;
    job.job_id = rec.job_id;
    job.run_id = rec.run_id;
    job.kind = rec.kind;
    job.attempt = rec.attempts;
    job.dry_run = run->dry_run;
    job.lease_expires_at_ms = rec.lease_expires_at_ms;
    job.identities = std::move(identities);
    spdlog::info("job {} (run {}, {} identities, attempt {}) leased to agent {}", job.job_id,
                 job.run_id, job.identities.size(), job.attempt, agent_id);
    return std::optional<protocol::Job>(std::move(job));
  }
}

void ControlPlaneService::handlePoll(const HttpServerRequest& req, Responder respond,
                                     const AgentRecord& agent) {
  protocol::PollRequest pr;
  if (!req.body.empty()) {
    auto v = protocol::parseJsonText(req.body);
    if (!v.isOk()) {
      respond(errorResponse(400, protocol::kErrBadRequest, v.status().message()));
      return;
    }
    auto p = protocol::parsePollRequest(*v);
    if (!p.isOk()) {
      respond(errorResponse(400, protocol::kErrBadRequest, p.status().message()));
      return;
    }
    pr = *p;
  }
  auto job = leaseFor(agent.tenant_id, agent.agent_id);
  if (!okOrAnswered(job, respond)) return;
  if (job->has_value()) {
    protocol::PollResponse resp;
    resp.jobs.push_back(std::move(**job));
    respond(jsonResponse(200, protocol::toJson(resp)));
    return;
  }
  int wait_s = std::min(pr.wait_s, options_.max_wait_s);
  std::unique_lock lk(waiters_mu_);
  if (wait_s <= 0 || !holding_) {
    lk.unlock();
    respond(jsonResponse(200, protocol::toJson(protocol::PollResponse{})));
    return;
  }
  auto w = std::make_shared<Waiter>();
  w->id = next_waiter_id_++;
  w->tenant_id = agent.tenant_id;
  w->agent_id = agent.agent_id;
  w->respond = std::move(respond);
  w->timer = std::make_shared<boost::asio::steady_timer>(io_);
  w->timer->expires_after(std::chrono::seconds(wait_s));
  waiters_[w->id] = w;
  lk.unlock();
  uint64_t id = w->id;
  auto alive = alive_;
  w->timer->async_wait([this, alive, id](const boost::system::error_code& ec) {
    if (ec || !*alive) return;  // cancelled: someone else answered
    if (auto taken = takeWaiter(id)) answerWaiter(taken, /*try_lease=*/true);
  });
}

std::shared_ptr<ControlPlaneService::Waiter> ControlPlaneService::takeWaiter(uint64_t id) {
  std::lock_guard lk(waiters_mu_);
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return nullptr;
  auto w = it->second;
  waiters_.erase(it);
  return w;
}

void ControlPlaneService::answerWaiter(const std::shared_ptr<Waiter>& w, bool try_lease) {
  w->timer->cancel();
  protocol::PollResponse resp;
  if (try_lease) {
    auto job = leaseFor(w->tenant_id, w->agent_id);
    if (!job.isOk()) {
      w->respond(storeFailure(job.status()));
      return;
    }
    if (job->has_value()) resp.jobs.push_back(std::move(**job));
  }
  w->respond(jsonResponse(200, protocol::toJson(resp)));
}

void ControlPlaneService::wakeWaiters(const std::string& tenant_id) {
  // Hand jobs to held polls of this tenant until one of them finds nothing to lease.
  for (;;) {
    std::shared_ptr<Waiter> w;
    {
      std::lock_guard lk(waiters_mu_);
      for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
        if (it->second->tenant_id == tenant_id) {
          w = it->second;
          waiters_.erase(it);
          break;
        }
      }
    }
    if (!w) return;
    auto job = leaseFor(w->tenant_id, w->agent_id);
    if (!job.isOk()) {
      w->timer->cancel();
      w->respond(storeFailure(job.status()));
      return;
    }
    if (!job->has_value()) {
      // Nothing to hand out: put the poll back to keep waiting.
      std::lock_guard lk(waiters_mu_);
      if (holding_) {
        waiters_[w->id] = w;
        return;
      }
    }
    w->timer->cancel();
    protocol::PollResponse resp;
    if (job->has_value()) resp.jobs.push_back(std::move(**job));
    w->respond(jsonResponse(200, protocol::toJson(resp)));
    if (resp.jobs.empty()) return;
  }
}

void ControlPlaneService::stopHoldingPolls() {
  std::map<uint64_t, std::shared_ptr<Waiter>> held;
  {
    std::lock_guard lk(waiters_mu_);
    holding_ = false;
    held.swap(waiters_);
  }
  if (sweep_timer_) sweep_timer_->cancel();
  for (auto& [id, w] : held) answerWaiter(w, /*try_lease=*/false);
}

void ControlPlaneService::handleResult(const HttpServerRequest& req, Responder& respond,
                                       const AgentRecord& agent, const std::string& job_id) {
  auto job = control_.job(job_id);
  if (!okOrAnswered(job, respond)) return;
  // Another tenant's job is indistinguishable from a job that does not exist.
  if (!job->has_value() || (*job)->tenant_id != agent.tenant_id) {
    respond(errorResponse(404, protocol::kErrNotFound, "no such job"));
    return;
  }
  auto v = protocol::parseJsonText(req.body);
  if (!v.isOk()) {
    respond(errorResponse(400, protocol::kErrBadRequest, v.status().message()));
    return;
  }
  auto result = protocol::parseJobResult(*v);
  if (!result.isOk()) {
    respond(errorResponse(400, protocol::kErrBadRequest, result.status().message()));
    return;
  }
  if (!result->job_id.empty() && result->job_id != job_id) {
    respond(errorResponse(400, protocol::kErrBadRequest, "job_id does not match the URL"));
    return;
  }
  result->job_id = job_id;
  const JobRecord& rec = **job;
  if (rec.state == JobState::kDone) {
    // A retry of a result we already committed (the agent did not see our answer).
    respond(jsonResponse(200, bj::object{{"status", "ok"}, {"duplicate", true}}));
    return;
  }
  auto store = tenants_.forTenant(agent.tenant_id);
  if (!okOrAnswered(store, respond)) return;
  // The tenant store first, then the queue: a crash in between leaves the job leased, and
  // recover() completes it because its run is finished.
  if (Status st = (*store)->recordResult(rec.run_id, *result); !st.isOk()) {
    respond(storeFailure(st));
    return;
  }
  auto completed = control_.completeJob(job_id);
  if (!okOrAnswered(completed, respond)) return;
  spdlog::info("job {} result from agent {}: {} ({} outcomes)", job_id, agent.agent_id,
               result->status, result->outcomes.size());
  respond(jsonResponse(200, bj::object{{"status", "ok"}}));
}

void ControlPlaneService::handleProgress(Responder& respond, const AgentRecord& agent,
                                         const std::string& job_id) {
  auto job = control_.job(job_id);
  if (!okOrAnswered(job, respond)) return;
  if (!job->has_value() || (*job)->tenant_id != agent.tenant_id) {
    respond(errorResponse(404, protocol::kErrNotFound, "no such job"));
    return;
  }
  Status st = control_.extendLease(job_id, agent.agent_id, options_.lease.count());
  if (!st.isOk()) {
    if (st.errorClass() == ErrorClass::kConflict || st.errorClass() == ErrorClass::kNotFound) {
      respond(errorResponse(409, "lease_lost", st.message()));
    } else {
      respond(storeFailure(st));
    }
    return;
  }
  respond(jsonResponse(200, bj::object{{"status", "ok"},
                                       {"lease_ms", static_cast<int64_t>(options_.lease.count())}}));
}

// ---------------------------------------------------------------------------------------------
// Tenant API

void ControlPlaneService::handleUpload(const HttpServerRequest& req, Responder& respond,
                                       const Tenant& tenant) {
  std::string type = mediaType(req);
  Result<hr::ParsedBatch> parsed = dataError("unsupported");
  std::string source;
  if (type == "text/csv") {
    parsed = hr::parseCsv(req.body);
    source = "csv";
  } else if (type == "application/json") {
    parsed = hr::parseJsonRecords(req.body);
    source = "json";
  } else {
    respond(errorResponse(415, protocol::kErrBadRequest,
                          "Content-Type must be text/csv or application/json"));
    return;
  }
  if (!parsed.isOk()) {
    respond(errorResponse(400, protocol::kErrBadRequest, parsed.status().message()));
    return;
  }
  if (parsed->accepted.size() > options_.max_identities_per_upload) {
    respond(errorResponse(413, protocol::kErrTooLarge, "too many records in one upload"));
    return;
  }
  RunRecord run;
  run.run_id = "r_" + randomHex(8);
  run.kind = "apply";
  run.source = source;
  run.status = RunStatus::kQueued;
  run.dry_run = req.query.count("dry_run") &&
                (req.query.at("dry_run") == "true" || req.query.at("dry_run") == "1");
  run.created_at_ms = clock_.nowUnixMillis();
  run.accepted = static_cast<int>(parsed->accepted.size());
  for (const auto& e : parsed->rejected) {
    run.rejected.push_back(RejectedRow{e.row, e.employee_id, e.field, e.reason});
  }

  bj::array rejected;
  for (const auto& e : run.rejected) {
    rejected.push_back(bj::object{
        {"row", e.row}, {"employee_id", e.employee_id}, {"field", e.field}, {"reason", e.reason}});
  }
  if (parsed->accepted.empty()) {
    // Nothing to apply: no run, no job; the caller learns why every row was refused.
    respond(jsonResponse(422, bj::object{{"run_id", nullptr},
                                         {"accepted", 0},
                                         {"rejected_count", static_cast<int64_t>(rejected.size())},
                                         {"rejected", std::move(rejected)}}));
    return;
  }

  auto store = tenants_.forTenant(tenant.tenant_id);
  if (!okOrAnswered(store, respond)) return;
  if (Status st = (*store)->createRun(run, parsed->accepted); !st.isOk()) {
    respond(storeFailure(st));
    return;
  }
  JobRecord job;
  job.job_id = run.run_id;  // one job per run: re-enqueueing after a crash is idempotent
  job.tenant_id = tenant.tenant_id;
  job.run_id = run.run_id;
  job.kind = run.kind;
  job.priority = 10;  // HR pushes are real-time work
  job.created_at_ms = run.created_at_ms;
  if (Status st = control_.enqueueJob(job); !st.isOk()) {
    // The run is recorded; recover() re-enqueues it at the next start.
    respond(storeFailure(st));
    return;
  }
  spdlog::info("tenant {}: run {} queued ({} accepted, {} rejected rows)", tenant.tenant_id,
               run.run_id, run.accepted, run.rejected.size());
  wakeWaiters(tenant.tenant_id);
  respond(jsonResponse(202, bj::object{{"run_id", run.run_id},
                                       {"status", "queued"},
                                       {"dry_run", run.dry_run},
                                       {"accepted", run.accepted},
                                       {"rejected_count", static_cast<int64_t>(rejected.size())},
                                       {"rejected", std::move(rejected)}}));
}

void ControlPlaneService::handleListRuns(Responder& respond, const Tenant& tenant) {
  auto store = tenants_.forTenant(tenant.tenant_id);
  if (!okOrAnswered(store, respond)) return;
  auto runs = (*store)->listRuns(200);
  if (!okOrAnswered(runs, respond)) return;
  bj::array arr;
  for (const auto& r : *runs) {
    bj::object o = runToJson(r);
    o.erase("rejected");  // the list stays small; details are in GET /runs/{id}
    arr.push_back(std::move(o));
  }
  respond(jsonResponse(200, bj::object{{"runs", std::move(arr)}}));
}

void ControlPlaneService::handleGetRun(Responder& respond, const Tenant& tenant,
                                       const std::string& run_id) {
  auto store = tenants_.forTenant(tenant.tenant_id);
  if (!okOrAnswered(store, respond)) return;
  auto report = (*store)->report(run_id);
  if (!okOrAnswered(report, respond)) return;
  if (!report->has_value()) {
    respond(errorResponse(404, protocol::kErrNotFound, "no such run"));
    return;
  }
  const RunReport& rep = **report;
  bj::object o = runToJson(rep.run);
  bj::object counts;
  for (const auto& [action, n] : rep.counts_by_action) counts[action] = n;
  bj::array people;
  for (const auto& out : rep.outcomes) {
    bj::object p{{"employee_id", out.employee_id},
                 {"action", out.action},
                 {"dn", out.dn},
                 {"sam_account_name", out.sam_account_name},
                 {"changes", json::toJsonArray(out.changes)}};
    if (out.failed()) {
      p["error"] = bj::object{{"class", out.error_class},
                              {"message", out.error_message},
                              {"directory_code", out.directory_code}};
    } else {
      p["error"] = nullptr;
    }
    people.push_back(std::move(p));
  }
  o["report"] = bj::object{{"counts", std::move(counts)}, {"identities", std::move(people)}};
  respond(jsonResponse(200, o));
}

// ---------------------------------------------------------------------------------------------

Status ControlPlaneService::recover() {
  ASSIGN_OR_RETURN(auto tenants, control_.listTenants());
  int requeued = 0, completed = 0;
  for (const auto& t : tenants) {
    ASSIGN_OR_RETURN(auto store, tenants_.forTenant(t.tenant_id));
    ASSIGN_OR_RETURN(auto unfinished, store->unfinishedRuns());
    for (const auto& run : unfinished) {
      JobRecord job;
      job.job_id = run.run_id;
      job.tenant_id = t.tenant_id;
      job.run_id = run.run_id;
      job.kind = run.kind;
      job.priority = 10;
      job.created_at_ms = run.created_at_ms;
      ASSIGN_OR_RETURN(auto existing, control_.job(job.job_id));
      if (!existing) {
        RETURN_IF_ERROR(control_.enqueueJob(job));
        ++requeued;
      }
    }
    ASSIGN_OR_RETURN(auto jobs, control_.listJobs(t.tenant_id));
    for (const auto& j : jobs) {
      if (j.state == JobState::kDone || j.state == JobState::kQuarantined) continue;
      ASSIGN_OR_RETURN(auto run, store->run(j.run_id));
      if (run && (run->status == RunStatus::kSucceeded || run->status == RunStatus::kPartial ||
                  run->status == RunStatus::kFailed)) {
        ASSIGN_OR_RETURN(bool changed, control_.completeJob(j.job_id));
        if (changed) ++completed;
      }
    }
  }
  RETURN_IF_ERROR(failQuarantinedRuns());
  if (requeued || completed) {
    spdlog::info("recovery: {} run(s) re-queued, {} finished job(s) completed", requeued, completed);
  }
  return Status::ok();
}

Status ControlPlaneService::failQuarantinedRuns() {
  ASSIGN_OR_RETURN(auto tenants, control_.listTenants());
  for (const auto& t : tenants) {
    ASSIGN_OR_RETURN(auto jobs, control_.listJobs(t.tenant_id));
    std::shared_ptr<TenantStore> store;
    for (const auto& j : jobs) {
      if (j.state != JobState::kQuarantined) continue;
      if (!store) {
        ASSIGN_OR_RETURN(store, tenants_.forTenant(t.tenant_id));
      }
      ASSIGN_OR_RETURN(auto run, store->run(j.run_id));
      if (!run || (run->status != RunStatus::kQueued && run->status != RunStatus::kRunning)) {
        continue;
      }
      protocol::JobResult failed;
      failed.job_id = j.job_id;
      failed.status = "failed";
      failed.error_class = std::string(errorClassName(ErrorClass::kTransient));
      failed.error_message = "job quarantined after " + std::to_string(j.attempts) +
                             " attempts: its lease expired each time (agent crashed, hung or lost "
                             "its connection while working on it)";
      RETURN_IF_ERROR(store->recordResult(j.run_id, failed));
      spdlog::error("tenant {}: run {} failed: {}", t.tenant_id, j.run_id, failed.error_message);
    }
  }
  return Status::ok();
}

}  // namespace tenure::cp
