#include "controlplane/service/control_plane_service.h"

#include <boost/json.hpp>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <chrono>

#include "common/base/json_fields.h"
#include "common/hr/csv.h"
#include "common/hr/json_records.h"
#include "common/protocol/messages.h"
#include "controlplane/audit/audit_api.h"
#include "controlplane/audit/identity_events.h"
#include "controlplane/reports/run_report.h"
#include "controlplane/http/responses.h"
#include "controlplane/service/threshold_window.h"
#include "controlplane/service/thresholds.h"

namespace tenure::cp {

namespace bj = boost::json;
using protocol::ErrorBody;

namespace {

// True when `r` is ok; otherwise answers the request with the store failure and returns false.
template <typename T>
bool okOrAnswered(const Result<T>& r, Responder& respond) {
  if (r.isOk()) return true;
  respond(storeFailure(r.status()));
  return false;
}

// Parses the request body with `parse`; answers 400 and returns nullopt when it is not valid.
template <typename T>
std::optional<T> parseBody(const HttpServerRequest& req, Result<T> (*parse)(const bj::value&),
                           Responder& respond) {
  auto v = protocol::parseJsonText(req.body);
  if (!v.isOk()) {
    respond(errorResponse(400, protocol::kErrBadRequest, v.status().message()));
    return std::nullopt;
  }
  auto parsed = parse(*v);
  if (!parsed.isOk()) {
    respond(errorResponse(400, protocol::kErrBadRequest, parsed.status().message()));
    return std::nullopt;
  }
  return std::move(parsed).value();
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
  bj::object o{
      {"run_id", r.run_id},
      {"kind", r.kind},
      {"source", r.source},
      {"status", std::string(runStatusName(r.status))},
      {"dry_run", r.dry_run},
      {"created_at",
       r.created_at_ms ? bj::value(formatIso8601Utc(r.created_at_ms / 1000)) : bj::value(nullptr)},
      {"started_at",
       r.started_at_ms ? bj::value(formatIso8601Utc(r.started_at_ms / 1000)) : bj::value(nullptr)},
      {"finished_at", r.finished_at_ms ? bj::value(formatIso8601Utc(r.finished_at_ms / 1000))
                                       : bj::value(nullptr)},
      {"accepted", r.accepted},
      {"rejected_count", static_cast<int64_t>(r.rejected.size())},
      {"rejected", std::move(rejected)}};
  if (!r.agent_id.empty()) o["agent_id"] = r.agent_id;
  if (!r.domain_controller.empty()) o["domain_controller"] = r.domain_controller;
  if (!r.error_class.empty()) {
    o["error"] = bj::object{{"class", r.error_class}, {"message", r.error_message}};
  }
  o["policy_version"] = r.policy_version;
  if (!r.hold_reason.empty()) {
    bj::object counts;
    for (const auto& [k, n] : r.hold_counts) counts[k] = n;
    bj::object hold{{"reason", r.hold_reason},
                    {"counts", std::move(counts)},
                    {"population", r.hold_population}};
    if (!r.approved_by.empty()) {
      hold["approved_by"] = r.approved_by;
      hold["approved_at"] = formatIso8601Utc(r.approved_at_ms / 1000);
    }
    if (!r.rejected_by.empty()) {
      hold["rejected_by"] = r.rejected_by;
      hold["rejected_at"] = formatIso8601Utc(r.rejected_at_ms / 1000);
    }
    o["hold"] = std::move(hold);
  }
  return o;
}

bj::object policyErrorsToJson(const std::vector<policy::PolicyError>& errors,
                              const Status& status) {
  bj::array arr;
  for (const auto& e : errors) arr.push_back(bj::object{{"path", e.path}, {"reason", e.reason}});
  // A parser that failed without listing a problem still gets its message through.
  if (arr.empty()) arr.push_back(bj::object{{"path", ""}, {"reason", status.message()}});
  return bj::object{{"errors", std::move(arr)}};
}

}  // namespace

namespace {

QueueOptions queueOptions(const ServiceOptions& o) {
  return QueueOptions{o.lease,      o.max_attempts, o.max_wait_s, o.sweep_interval,
                      o.retry_base, o.retry_cap,    o.zones};
}

}  // namespace

ControlPlaneService::ControlPlaneService(boost::asio::io_context& io, ControlStore& control,
                                         TenantStores& tenants, const Clock& clock,
                                         ServiceOptions options, ServiceCollaborators with)
    : control_(control),
      tenants_(tenants),
      clock_(clock),
      options_(options),
      tickets_(with.tickets != nullptr ? *with.tickets : null_tickets_),
      secrets_(with.secrets),
      queue_(io, control, tenants, clock, tickets_, queueOptions(options)),
      intake_(tenants, queue_, clock, tickets_, IntakeOptions{options.max_identities_per_upload}) {}

ControlPlaneService::~ControlPlaneService() = default;

// ---------------------------------------------------------------------------------------------
// Agent API

void ControlPlaneService::handleEnroll(const HttpServerRequest& req, Responder& respond) {
  auto er = parseBody(req, &protocol::parseEnrollRequest, respond);
  if (!er) return;
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
  respond(jsonResponse(200, protocol::toJson(protocol::EnrollResponse{enrolled->node_key,
                                                                      enrolled->agent.agent_id})));
}

std::optional<JobRecord> ControlPlaneService::jobOf(const AgentRecord& agent,
                                                    const std::string& job_id, Responder& respond) {
  auto job = control_.job(job_id);
  if (!okOrAnswered(job, respond)) return std::nullopt;
  if (!job->has_value() || (*job)->tenant_id != agent.tenant_id) {
    respond(errorResponse(404, protocol::kErrNotFound, "no such job"));
    return std::nullopt;
  }
  return std::move(**job);
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
  queue_.poll(agent.tenant_id, agent.agent_id, pr.wait_s, req.peer_closed,
              [respond = std::move(respond)](PollAnswer answer) {
                switch (answer.kind) {
                  case PollAnswer::Kind::kRevoked:
                    respond(errorResponse(401, protocol::kErrNodeInvalid,
                                          "unknown or revoked node key"));
                    return;
                  case PollAnswer::Kind::kFailed:
                    respond(storeFailure(answer.error));
                    return;
                  case PollAnswer::Kind::kJobs:
                    break;
                }
                protocol::PollResponse resp;
                resp.jobs = std::move(answer.jobs);
                respond(jsonResponse(200, protocol::toJson(resp)));
              });
}

void ControlPlaneService::handleResult(const HttpServerRequest& req, Responder& respond,
                                       const AgentRecord& agent, const std::string& job_id) {
  auto job = jobOf(agent, job_id, respond);
  if (!job) return;
  auto result = parseBody(req, &protocol::parseJobResult, respond);
  if (!result) return;
  if (!result->job_id.empty() && result->job_id != job_id) {
    respond(errorResponse(400, protocol::kErrBadRequest, "job_id does not match the URL"));
    return;
  }
  result->job_id = job_id;
  auto done = queue_.complete(agent, *job, *result);
  if (!okOrAnswered(done, respond)) return;
  switch (*done) {
    case Completion::kRecorded:
      respond(jsonResponse(200, bj::object{{"status", "ok"}}));
      return;
    case Completion::kDuplicate:
      // A retry of a result we already committed (the agent did not see our answer).
      respond(jsonResponse(200, bj::object{{"status", "ok"}, {"duplicate", true}}));
      return;
    case Completion::kIgnoredHeld:
      // 200 so the agent drops it from its spool.
      respond(jsonResponse(200, bj::object{{"status", "ok"},
                                           {"ignored", true},
                                           {"reason", "the run is held for approval"}}));
      return;
    case Completion::kRetryLater:
      respond(jsonResponse(200, bj::object{{"status", "ok"}, {"retry", true}}));
      return;
  }
}

void ControlPlaneService::handleProgress(Responder& respond, const AgentRecord& agent,
                                         const std::string& job_id) {
  auto job = jobOf(agent, job_id, respond);
  if (!job) return;
  Status st = queue_.heartbeat(job_id, agent.agent_id);
  if (!st.isOk()) {
    if (st.errorClass() == ErrorClass::kConflict || st.errorClass() == ErrorClass::kNotFound) {
      respond(errorResponse(409, "lease_lost", st.message()));
    } else {
      respond(storeFailure(st));
    }
    return;
  }
  respond(jsonResponse(
      200,
      bj::object{{"status", "ok"}, {"lease_ms", static_cast<int64_t>(options_.lease.count())}}));
}

void ControlPlaneService::handlePlan(const HttpServerRequest& req, Responder& respond,
                                     const AgentRecord& agent, const std::string& job_id) {
  auto job = jobOf(agent, job_id, respond);
  if (!job) return;
  auto plan = parseBody(req, &protocol::parsePlanSummary, respond);
  if (!plan) return;
  if (!plan->job_id.empty() && plan->job_id != job_id) {
    respond(errorResponse(400, protocol::kErrBadRequest, "job_id does not match the URL"));
    return;
  }
  const JobRecord& rec = *job;
  auto store = tenants_.forTenant(agent.tenant_id);
  if (!okOrAnswered(store, respond)) return;
  auto run = (*store)->run(rec.run_id);
  if (!okOrAnswered(run, respond)) return;
  if (!run->has_value()) {
    respond(errorResponse(404, protocol::kErrNotFound, "no such run"));
    return;
  }
  protocol::PlanDecision decision;
  if (rec.approved) {
    // Approved past every threshold; its changes still count in the window for later runs.
    if (Status st = admitApprovedPlan(**store, rec.run_id, *plan, clock_.nowUnixMillis());
        !st.isOk()) {
      respond(storeFailure(st));
      return;
    }
    respond(jsonResponse(200, protocol::toJson(decision)));
    return;
  }
  if (rec.state == JobState::kHeld) {
    decision.proceed = false;
    decision.held = true;
    decision.reason = (*run)->hold_reason;
    respond(jsonResponse(200, protocol::toJson(decision)));
    return;
  }
  if (rec.state != JobState::kLeased && rec.state != JobState::kQueued) {
    decision.proceed = false;
    decision.reason = "the job is " + std::string(jobStateName(rec.state));
    respond(jsonResponse(200, protocol::toJson(decision)));
    return;
  }
  auto pol = intake_.policyVersion(**store, (*run)->policy_version);
  if (!okOrAnswered(pol, respond)) return;
  // Per run and across the tenant's recent runs (thresholds.window; threshold_window.h).
  auto gated = gatePlan(**store, pol->thresholds, rec.run_id, *plan, (*run)->dry_run,
                        clock_.nowUnixMillis());
  if (!okOrAnswered(gated, respond)) return;
  decision = *gated;
  if (!decision.held) {
    respond(jsonResponse(200, protocol::toJson(decision)));
    return;
  }
  if ((*run)->dry_run) {
    // A preview applies nothing, so there is nothing to hold; it says what would happen.
    decision.proceed = true;
    decision.held = false;
    decision.reason = "would be held: " + decision.reason;
    respond(jsonResponse(200, protocol::toJson(decision)));
    return;
  }
  // The tenant store first: a crash before the job is held re-leases the job, and the agent's
  // next plan is held again (recover() also holds jobs whose run is held).
  if (Status st = (*store)->holdRun(rec.run_id, *plan, decision.reason); !st.isOk()) {
    respond(storeFailure(st));
    return;
  }
  if (Status st = control_.holdJob(job_id); !st.isOk()) {
    respond(storeFailure(st));
    return;
  }
  spdlog::warn("tenant {}: run {} held by a safety threshold: {}", agent.tenant_id, rec.run_id,
               decision.reason);
  tickets().raise(Detection{agent.tenant_id, "run_held", rec.run_id,
                            "Run " + rec.run_id + " is held by a safety threshold: " +
                                decision.reason,
                            "Review the held plan (GET /admin/v1/tenants/" + agent.tenant_id +
                                "/runs/" + rec.run_id +
                                ") and approve or reject it; nothing was applied."});
  respond(jsonResponse(200, protocol::toJson(decision)));
}

// ---------------------------------------------------------------------------------------------
// Tenant API

void ControlPlaneService::handleUpload(const HttpServerRequest& req, Responder& respond,
                                       const Tenant& tenant) {
  std::string type = mediaType(req);
  Result<hr::ParsedBatch> parsed = dataError("unsupported");
  Submission sub;
  if (type == "text/csv") {
    parsed = hr::parseCsv(req.body);
    sub.source = "csv";
  } else if (type == "application/json") {
    parsed = hr::parseJsonRecords(req.body);
    sub.source = "json";
  } else {
    respond(errorResponse(415, protocol::kErrBadRequest,
                          "Content-Type must be text/csv or application/json"));
    return;
  }
  if (!parsed.isOk()) {
    respond(errorResponse(400, protocol::kErrBadRequest, parsed.status().message()));
    return;
  }
  sub.actor = "tenant api (" + tenant.name + ")";
  sub.dry_run = req.query.count("dry_run") &&
                (req.query.at("dry_run") == "true" || req.query.at("dry_run") == "1");
  SubmitResult result = submitRecords(tenant.tenant_id, std::move(*parsed), sub);
  respond(jsonResponse(result.http_status, std::move(result.body)));
}

SubmitResult ControlPlaneService::submitRecords(const std::string& tenant_id,
                                                hr::ParsedBatch batch, const Submission& sub) {
  return submissionAnswer(intake_.submit(tenant_id, std::move(batch), sub));
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
    o["reports"] = runReportLinks(r.run_id);
    arr.push_back(std::move(o));
  }
  respond(jsonResponse(200, bj::object{{"runs", std::move(arr)}}));
}

void ControlPlaneService::handleGetRun(Responder& respond, const Tenant& tenant,
                                       const std::string& run_id) {
  auto store = tenants_.forTenant(tenant.tenant_id);
  if (!okOrAnswered(store, respond)) return;
  auto detail = runDetail(**store, run_id);
  if (!okOrAnswered(detail, respond)) return;
  if (!detail->has_value()) {
    respond(errorResponse(404, protocol::kErrNotFound, "no such run"));
    return;
  }
  respond(jsonResponse(200, **detail));
}

Result<std::optional<bj::object>> ControlPlaneService::runDetail(TenantStore& store,
                                                                 const std::string& run_id) {
  ASSIGN_OR_RETURN(auto report, store.report(run_id));
  if (!report) return std::optional<bj::object>();
  const RunReport& rep = *report;
  bj::object o = runToJson(rep.run);
  bj::object counts;
  for (const auto& [action, n] : rep.counts_by_action) counts[action] = n;
  bj::array people;
  for (const auto& out : rep.outcomes) people.push_back(outcomeToJson(out));
  o["report"] = bj::object{{"counts", std::move(counts)}, {"identities", std::move(people)}};
  o["reports"] = runReportLinks(run_id);
  if (rep.run.status == RunStatus::kHeld) {
    // What the run would do: the plan it was stopped with, per person.
    ASSIGN_OR_RETURN(auto plan, store.heldPlan(run_id));
    if (plan && o["hold"].is_object()) {
      bj::array planned;
      for (const auto& out : plan->outcomes) planned.push_back(outcomeToJson(out));
      o["hold"].get_object()["identities"] = std::move(planned);
    }
  }
  return std::optional<bj::object>(std::move(o));
}

// ---------------------------------------------------------------------------------------------
// Policies

namespace {
bj::object policyDocument(const policy::Policy& p) {
  bj::value v = policy::toJson(p);
  bj::object o = v.is_object() ? std::move(v.get_object()) : bj::object{};
  o["version"] = p.version;
  return o;
}
}  // namespace

void ControlPlaneService::handlePolicyApi(const HttpServerRequest& req, Responder& respond,
                                          const Tenant& tenant,
                                          const std::vector<std::string>& seg) {
  auto store = tenants_.forTenant(tenant.tenant_id);
  if (!okOrAnswered(store, respond)) return;
  TenantStore& ts = **store;
  // Parses and validates the body; answers 400/422 itself and returns nullopt on failure.
  auto validated = [&]() -> std::optional<policy::Policy> {
    auto v = protocol::parseJsonText(req.body);
    if (!v.isOk()) {
      respond(errorResponse(400, protocol::kErrBadRequest, v.status().message()));
      return std::nullopt;
    }
    std::vector<policy::PolicyError> errors;
    auto parsed = policy::parsePolicy(*v, &errors);
    if (!parsed.isOk()) {
      bj::object body = policyErrorsToJson(errors, parsed.status());
      body["valid"] = false;
      respond(jsonResponse(422, body));
      return std::nullopt;
    }
    return std::move(*parsed);
  };

  if (seg.size() == 1 && req.method == "GET") {
    auto p = intake_.currentPolicy(ts);
    if (!okOrAnswered(p, respond)) return;
    respond(jsonResponse(200, policyDocument(*p)));
    return;
  }
  if (seg.size() == 1 && req.method == "PUT") {
    auto p = validated();
    if (!p) return;
    p->version = 0;
    bj::value doc = policy::toJson(*p);
    // Stored in full (defaults included) so a version keeps meaning what it meant when saved.
    auto version = ts.savePolicy(bj::serialize(doc), "tenant api (" + tenant.name + ")");
    if (!okOrAnswered(version, respond)) return;
    spdlog::info("tenant {}: policy version {} saved", tenant.tenant_id, *version);
    respond(jsonResponse(200, bj::object{{"version", *version}}));
    return;
  }
  if (seg.size() == 2 && seg[1] == "validate" && req.method == "POST") {
    if (validated())
      respond(jsonResponse(200, bj::object{{"valid", true}, {"errors", bj::array{}}}));
    return;
  }
  if (seg.size() == 2 && seg[1] == "versions" && req.method == "GET") {
    auto versions = ts.policyVersions();
    if (!okOrAnswered(versions, respond)) return;
    bj::array arr;
    for (const auto& v : *versions) {
      arr.push_back(bj::object{{"version", v.version},
                               {"created_at", formatIso8601Utc(v.created_at_ms / 1000)},
                               {"author", v.author}});
    }
    respond(jsonResponse(200, bj::object{{"versions", std::move(arr)}}));
    return;
  }
  if (seg.size() == 3 && seg[1] == "versions" && req.method == "GET") {
    int n = 0;
    const std::string& text = seg[2];
    const bool numeric =
        !text.empty() && text.size() <= 9 &&
        std::all_of(text.begin(), text.end(), [](unsigned char c) { return c >= '0' && c <= '9'; });
    if (numeric) n = std::stoi(text);
    auto stored =
        numeric && n > 0 ? ts.policyVersion(n) : Result<std::optional<StoredPolicy>>(std::nullopt);
    if (!okOrAnswered(stored, respond)) return;
    if (!stored->has_value()) {
      respond(errorResponse(404, protocol::kErrNotFound, "no such policy version"));
      return;
    }
    // The document alone (like GET /policy), so it can be PUT back to restore the version.
    auto p = intake_.policyVersion(ts, n);
    if (!okOrAnswered(p, respond)) return;
    respond(jsonResponse(200, policyDocument(*p)));
    return;
  }
  if (seg.size() <= 3) {
    respond(errorResponse(405, protocol::kErrBadRequest, "method not allowed"));
    return;
  }
  respond(errorResponse(404, protocol::kErrNotFound, "no such endpoint"));
}

// ---------------------------------------------------------------------------------------------
// Admin API

void ControlPlaneService::handleAdminGetRun(Responder& respond, const std::string& tenant_id,
                                            const std::string& run_id) {
  auto tenant = control_.tenantById(tenant_id);
  if (!okOrAnswered(tenant, respond)) return;
  if (!tenant->has_value()) {
    respond(errorResponse(404, protocol::kErrNotFound, "no such tenant"));
    return;
  }
  auto store = tenants_.forTenant(tenant_id);
  if (!okOrAnswered(store, respond)) return;
  auto detail = runDetail(**store, run_id);
  if (!okOrAnswered(detail, respond)) return;
  if (!detail->has_value()) {
    respond(errorResponse(404, protocol::kErrNotFound, "no such run"));
    return;
  }
  bj::object o = std::move(**detail);
  o["tenant_id"] = tenant_id;
  o["tenant_name"] = (*tenant)->name;
  respond(jsonResponse(200, o));
}

void ControlPlaneService::handleAdminListRuns(const HttpServerRequest& req, Responder& respond) {
  const std::string status_name = req.query.count("status") ? req.query.at("status") : "held";
  std::optional<RunStatus> status;
  for (auto s : {RunStatus::kQueued, RunStatus::kRunning, RunStatus::kSucceeded,
                 RunStatus::kPartial, RunStatus::kFailed, RunStatus::kHeld, RunStatus::kRejected}) {
    if (runStatusName(s) == status_name) status = s;
  }
  if (!status) {
    respond(errorResponse(400, protocol::kErrBadRequest, "unknown status '" + status_name + "'"));
    return;
  }
  auto tenants = control_.listTenants();
  if (!okOrAnswered(tenants, respond)) return;
  bj::array arr;
  for (const auto& t : *tenants) {
    auto store = tenants_.forTenant(t.tenant_id);
    if (!okOrAnswered(store, respond)) return;
    auto runs = (*store)->runsWithStatus(*status);
    if (!okOrAnswered(runs, respond)) return;
    for (const auto& r : *runs) {
      bj::object counts;
      for (const auto& [k, n] : r.hold_counts) counts[k] = n;
      arr.push_back(bj::object{{"tenant_id", t.tenant_id},
                               {"tenant_name", t.name},
                               {"run_id", r.run_id},
                               {"status", std::string(runStatusName(r.status))},
                               {"reason", r.hold_reason},
                               {"counts", std::move(counts)},
                               {"population", r.hold_population},
                               {"created_at", formatIso8601Utc(r.created_at_ms / 1000)}});
    }
  }
  respond(jsonResponse(200, bj::object{{"runs", std::move(arr)}}));
}

void ControlPlaneService::handleAdminDecision(Responder& respond, const AdminToken& admin,
                                              const std::string& tenant_id,
                                              const std::string& run_id, bool approve) {
  auto store = tenants_.forTenant(tenant_id);
  if (!okOrAnswered(store, respond)) return;
  auto run = (*store)->run(run_id);
  if (!okOrAnswered(run, respond)) return;
  if (!run->has_value()) {
    respond(errorResponse(404, protocol::kErrNotFound, "no such run"));
    return;
  }
  const std::string job_id = run_id;  // one job per run, named after it
  // The tenant store first: recover() finishes the job's side after a crash in between.
  Status st =
      approve ? (*store)->approveRun(run_id, admin.name) : (*store)->rejectRun(run_id, admin.name);
  if (!st.isOk()) {
    if (st.errorClass() == ErrorClass::kConflict) {
      respond(errorResponse(409, "not_held", st.message()));
    } else {
      respond(storeFailure(st));
    }
    return;
  }
  if (approve) {
    st = control_.requeueApproved(job_id);
    if (st.errorClass() == ErrorClass::kNotFound) {
      JobRecord job;
      job.job_id = job_id;
      job.tenant_id = tenant_id;
      job.run_id = run_id;
      job.kind = (*run)->kind;
      job.priority = 10;
      job.approved = true;
      st = control_.enqueueJob(job);
    }
  } else {
    auto done = control_.completeJob(job_id);
    st = done.isOk() || done.status().errorClass() == ErrorClass::kNotFound ? Status::ok()
                                                                            : done.status();
  }
  if (!st.isOk()) {
    respond(storeFailure(st));
    return;
  }
  spdlog::warn("tenant {}: held run {} {} by {}", tenant_id, run_id,
               approve ? "approved" : "rejected", admin.name);
  tickets().clear(tenant_id, "run_held", run_id);
  if (approve) queue_.wake(tenant_id);
  respond(jsonResponse(200, bj::object{{"run_id", run_id},
                                       {"status", approve ? "queued" : "rejected"},
                                       {approve ? "approved_by" : "rejected_by", admin.name}}));
}

// ---------------------------------------------------------------------------------------------

}  // namespace tenure::cp
