// Tenant schedules (/api/v1/schedules), agent health (/api/v1/agents, /admin/v1/agents), and the
// service's side of retries and quarantine. See docs/operations/scheduling.md.
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <set>

#include "common/base/cron.h"
#include "common/base/time_zone.h"
#include "common/protocol/messages.h"
#include "controlplane/service/control_plane_service.h"
#include "controlplane/http/responses.h"

namespace tenure::cp {

namespace bj = boost::json;

namespace {

const std::set<std::string> kScheduleKinds = {"reconcile", "expiry_sweep", "preview", "hr_pull"};

bj::value isoOrNull(int64_t ms) {
  return ms > 0 ? bj::value(formatIso8601Utc(ms / 1000)) : bj::value(nullptr);
}

bj::object scheduleToJson(const Schedule& s, const std::string& time_zone) {
  return bj::object{
      {"id", s.schedule_id},
      {"kind", s.kind},
      {"cron", s.cron},
      {"enabled", s.enabled},
      {"time_zone", time_zone},
      {"next_run_at", isoOrNull(s.enabled ? s.next_run_at_ms : 0)},
      {"last_run_at", isoOrNull(s.last_run_at_ms)},
      {"last_run_id", s.last_run_id.empty() ? bj::value(nullptr) : bj::value(s.last_run_id)},
      {"last_error", s.last_error.empty() ? bj::value(nullptr) : bj::value(s.last_error)},
      {"created_at", isoOrNull(s.created_at_ms)},
      {"updated_at", isoOrNull(s.updated_at_ms)}};
}

struct FieldError {
  std::string path;
  std::string reason;
};

HttpServerResponse invalid(const std::vector<FieldError>& errors) {
  bj::array arr;
  for (const auto& e : errors) arr.push_back(bj::object{{"path", e.path}, {"reason", e.reason}});
  return jsonResponse(422, bj::object{{"error", "invalid_schedule"}, {"errors", std::move(arr)}});
}

}  // namespace

Result<int64_t> ControlPlaneService::nextScheduledRun(const std::string& tenant_id,
                                                      const std::string& cron, int64_t after_ms) {
  ASSIGN_OR_RETURN(policy::Policy pol, intake_.currentPolicy(tenant_id));
  return policy::nextCronRunMs(pol, cron, after_ms);
}

void ControlPlaneService::handleSchedulesApi(const HttpServerRequest& req, Responder& respond,
                                             const Tenant& tenant,
                                             const std::vector<std::string>& seg) {
  const std::string& tid = tenant.tenant_id;
  auto pol = tenantPolicy(tid);
  if (!pol.isOk()) {
    respond(storeFailure(pol.status()));
    return;
  }
  const std::string zone = pol->lifecycle.time_zone;

  // Reads and validates a body: every field checked, all problems reported together. On
  // create, kind and cron are required; on update, the fields given replace the stored ones.
  auto apply = [&](Schedule& s, bool create) -> bool {
    auto v = protocol::parseJsonText(req.body);
    if (!v.isOk() || !v->is_object()) {
      respond(errorResponse(400, protocol::kErrBadRequest,
                            v.isOk() ? "the body must be a JSON object" : v.status().message()));
      return false;
    }
    const bj::object& o = v->get_object();
    std::vector<FieldError> errors;
    for (const auto& [key, value] : o) {
      if (key != "kind" && key != "cron" && key != "enabled") {
        errors.push_back({std::string(key), "unknown field"});
      }
    }
    if (const bj::value* k = o.if_contains("kind")) {
      if (!k->is_string()) {
        errors.push_back({"kind", "must be a string"});
      } else if (!kScheduleKinds.count(std::string(k->get_string()))) {
        errors.push_back({"kind", "must be one of reconcile, expiry_sweep, preview, hr_pull"});
      } else {
        s.kind = std::string(k->get_string());
      }
    } else if (create) {
      errors.push_back({"kind", "required"});
    }
    if (const bj::value* c = o.if_contains("cron")) {
      if (!c->is_string()) {
        errors.push_back({"cron", "must be a string"});
      } else {
        CronError ce;
        auto parsed = CronExpression::parse(std::string(c->get_string()), &ce);
        if (!parsed.isOk()) {
          errors.push_back({"cron", "position " + std::to_string(ce.position) + ": " + ce.reason});
        } else {
          s.cron = std::string(c->get_string());
        }
      }
    } else if (create) {
      errors.push_back({"cron", "required"});
    }
    if (const bj::value* e = o.if_contains("enabled")) {
      if (!e->is_bool()) {
        errors.push_back({"enabled", "must be true or false"});
      } else {
        s.enabled = e->get_bool();
      }
    }
    if (errors.empty()) {
      auto next = nextScheduledRun(tid, s.cron, clock_.nowUnixMillis());
      if (next.isOk()) {
        s.next_run_at_ms = *next;
      } else if (next.status().errorClass() == ErrorClass::kNotFound &&
                 next.status().message().find("cron expression") != std::string::npos) {
        errors.push_back({"cron", "never runs: " + next.status().message()});
      } else {
        respond(storeFailure(next.status()));
        return false;
      }
    }
    if (!errors.empty()) {
      respond(invalid(errors));
      return false;
    }
    return true;
  };

  if (seg.size() == 1 && req.method == "GET") {
    auto list = control_.listSchedules(tid);
    if (!list.isOk()) {
      respond(storeFailure(list.status()));
      return;
    }
    bj::array arr;
    for (const auto& s : *list) arr.push_back(scheduleToJson(s, zone));
    respond(jsonResponse(200, bj::object{{"schedules", std::move(arr)}}));
    return;
  }
  if (seg.size() == 1 && req.method == "POST") {
    auto existing = control_.listSchedules(tid);
    if (!existing.isOk()) {
      respond(storeFailure(existing.status()));
      return;
    }
    if (existing->size() >= options_.max_schedules_per_tenant) {
      respond(
          invalid({{"", "a tenant may have at most " +
                            std::to_string(options_.max_schedules_per_tenant) + " schedules"}}));
      return;
    }
    Schedule s;
    s.tenant_id = tid;
    if (!apply(s, /*create=*/true)) return;
    auto created = control_.createSchedule(s);
    if (!created.isOk()) {
      respond(storeFailure(created.status()));
      return;
    }
    spdlog::info("tenant {}: schedule {} created ({} '{}')", tid, created->schedule_id,
                 created->kind, created->cron);
    respond(jsonResponse(201, scheduleToJson(*created, zone)));
    return;
  }
  if (seg.size() == 2) {
    auto found = control_.schedule(tid, seg[1]);
    if (!found.isOk()) {
      respond(storeFailure(found.status()));
      return;
    }
    if (!found->has_value()) {
      respond(errorResponse(404, protocol::kErrNotFound, "no such schedule"));
      return;
    }
    Schedule s = **found;
    if (req.method == "GET") {
      respond(jsonResponse(200, scheduleToJson(s, zone)));
      return;
    }
    if (req.method == "PUT") {
      if (!apply(s, /*create=*/false)) return;
      if (Status st = control_.updateSchedule(s); !st.isOk()) {
        respond(st.errorClass() == ErrorClass::kNotFound
                    ? errorResponse(404, protocol::kErrNotFound, "no such schedule")
                    : storeFailure(st));
        return;
      }
      auto updated = control_.schedule(tid, s.schedule_id);
      if (!updated.isOk() || !updated->has_value()) {
        respond(updated.isOk() ? errorResponse(404, protocol::kErrNotFound, "no such schedule")
                               : storeFailure(updated.status()));
        return;
      }
      respond(jsonResponse(200, scheduleToJson(**updated, zone)));
      return;
    }
    if (req.method == "DELETE") {
      auto deleted = control_.deleteSchedule(tid, s.schedule_id);
      if (!deleted.isOk()) {
        respond(storeFailure(deleted.status()));
        return;
      }
      respond(jsonResponse(200, bj::object{{"id", s.schedule_id}, {"deleted", *deleted}}));
      return;
    }
    respond(errorResponse(405, protocol::kErrBadRequest, "use GET, PUT or DELETE"));
    return;
  }
  if (seg.size() == 1) {
    respond(errorResponse(405, protocol::kErrBadRequest, "use GET or POST"));
    return;
  }
  respond(errorResponse(404, protocol::kErrNotFound, "no such endpoint"));
}

void ControlPlaneService::handleAgentsList(Responder& respond, const std::string& tenant_id) {
  auto agents = control_.agentHealth(tenant_id);
  if (!agents.isOk()) {
    respond(storeFailure(agents.status()));
    return;
  }
  bj::array arr;
  for (const auto& h : *agents) {
    bj::object o{
        {"agent_id", h.agent.agent_id},
        {"host", h.agent.host},
        {"version", h.agent.version},
        {"enrolled_at", isoOrNull(h.agent.enrolled_at_ms)},
        {"last_seen", isoOrNull(h.agent.last_seen_ms)},
        {"revoked", h.agent.revoked},
        {"jobs_done", h.jobs_done},
        {"jobs_failed", h.jobs_failed},
        {"last_error", h.last_error.empty() ? bj::value(nullptr) : bj::value(h.last_error)},
        {"last_error_at", isoOrNull(h.last_error_at_ms)},
        {"current_job", h.current_job.empty() ? bj::value(nullptr) : bj::value(h.current_job)},
        // Long-polls of the agent this control plane holds open now (waiting for work).
        {"held_polls", static_cast<int64_t>(queue_.heldPollsOf(h.agent.agent_id))}};
    if (tenant_id.empty()) o["tenant_id"] = h.agent.tenant_id;
    arr.push_back(std::move(o));
  }
  respond(jsonResponse(200, bj::object{{"agents", std::move(arr)}}));
}

}  // namespace tenure::cp
