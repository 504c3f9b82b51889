#include "common/protocol/messages.h"

#include <boost/json.hpp>

#include "common/base/base64.h"
#include "common/base/json_fields.h"

namespace tenure::protocol {

namespace bj = boost::json;
using json::optionalBool;
using json::optionalInt;
using json::optionalString;
using json::optionalStringArray;
using json::requireString;

namespace {

// Parses the optional array `key` of `o` element by element with `parse`, appending to `out`.
template <typename T, typename Parse>
Status parseArray(const bj::object& o, std::string_view key, Parse parse, std::vector<T>& out) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return Status::ok();
  if (!it->value().is_array()) {
    return dataError("field '" + std::string(key) + "' must be an array");
  }
  for (const auto& e : it->value().get_array()) {
    ASSIGN_OR_RETURN(auto item, parse(e));
    out.push_back(std::move(item));
  }
  return Status::ok();
}

}  // namespace

bj::value toJson(const EnrollRequest& m) {
  return bj::object{{"enroll_secret", m.enroll_secret},
                    {"host", m.host},
                    {"version", m.version},
                    {"protocol", kProtocolVersion},
                    {"capabilities", json::toJsonArray(m.capabilities)}};
}

bj::value toJson(const EnrollResponse& m) {
  return bj::object{{"node_key", m.node_key}, {"agent_id", m.agent_id}};
}

bj::value toJson(const PollRequest& m) { return bj::object{{"wait_s", m.wait_s}}; }

bj::value toJson(const Job& m) {
  bj::array ids;
  ids.reserve(m.identities.size());
  for (const auto& r : m.identities) ids.push_back(hr::toJson(r));
  bj::object o{{"job_id", m.job_id},
               {"run_id", m.run_id},
               {"kind", m.kind},
               {"attempt", m.attempt},
               {"dry_run", m.dry_run},
               {"lease_expires_at_ms", m.lease_expires_at_ms},
               {"approved", m.approved},
               {"now_ms", m.now_ms},
               {"identities", std::move(ids)},
               {"reserved_names", json::toJsonArray(m.reserved_names)},
               {"policy", m.policy}};
  if (m.time_zone) {
    o["time_zone"] = bj::object{{"name", m.time_zone->name},
                                {"tzif", base64Encode(m.time_zone->tzif)}};
  }
  return o;
}

bj::value toJson(const PollResponse& m) {
  bj::array jobs;
  for (const auto& j : m.jobs) jobs.push_back(toJson(j));
  return bj::object{{"jobs", std::move(jobs)}};
}

bj::value toJson(const IdentityOutcome& m) {
  bj::object o{{"employee_id", m.employee_id},
               {"action", m.action},
               {"dn", m.dn},
               {"sam_account_name", m.sam_account_name},
               {"changes", json::toJsonArray(m.changes)}};
  if (!m.state.empty()) o["state"] = m.state;
  if (!m.upn.empty()) o["upn"] = m.upn;
  if (!m.mail.empty()) o["mail"] = m.mail;
  if (!m.operations.empty()) {
    bj::array ops;
    for (const auto& op : m.operations) ops.push_back(toJson(op));
    o["operations"] = std::move(ops);
  }
  if (m.failed()) {
    o["error_class"] = m.error_class;
    o["error_message"] = m.error_message;
    o["directory_code"] = m.directory_code;
  }
  return o;
}

bj::value toJson(const JobResult& m) {
  bj::array outs;
  outs.reserve(m.outcomes.size());
  for (const auto& o : m.outcomes) outs.push_back(toJson(o));
  bj::object o{{"job_id", m.job_id},
               {"status", m.status},
               {"started_at_ms", m.started_at_ms},
               {"finished_at_ms", m.finished_at_ms},
               {"agent_version", m.agent_version},
               {"domain_controller", m.domain_controller},
               {"outcomes", std::move(outs)}};
  if (!m.error_class.empty()) {
    o["error_class"] = m.error_class;
    o["error_message"] = m.error_message;
  }
  return o;
}

bj::value toJson(const ErrorBody& m) {
  return bj::object{{"error", m.error}, {"message", m.message}};
}

Result<EnrollRequest> parseEnrollRequest(const bj::value& v) {
  ASSIGN_OR_RETURN(const bj::object* o, json::asObject(v, "enroll request"));
  EnrollRequest m;
  ASSIGN_OR_RETURN(m.enroll_secret, requireString(*o, "enroll_secret"));
  ASSIGN_OR_RETURN(m.host, optionalString(*o, "host"));
  ASSIGN_OR_RETURN(m.version, optionalString(*o, "version"));
  ASSIGN_OR_RETURN(m.capabilities, optionalStringArray(*o, "capabilities"));
  return m;
}

Result<EnrollResponse> parseEnrollResponse(const bj::value& v) {
  ASSIGN_OR_RETURN(const bj::object* o, json::asObject(v, "enroll response"));
  EnrollResponse m;
  ASSIGN_OR_RETURN(m.node_key, requireString(*o, "node_key"));
  ASSIGN_OR_RETURN(m.agent_id, requireString(*o, "agent_id"));
  return m;
}

Result<PollRequest> parsePollRequest(const bj::value& v) {
  ASSIGN_OR_RETURN(const bj::object* o, json::asObject(v, "poll request"));
  PollRequest m;
  ASSIGN_OR_RETURN(int64_t w, optionalInt(*o, "wait_s", 25));
  if (w < 0 || w > 300) return dataError("field 'wait_s' must be between 0 and 300");
  m.wait_s = static_cast<int>(w);
  return m;
}

Result<Job> parseJob(const bj::value& v) {
  ASSIGN_OR_RETURN(const bj::object* o, json::asObject(v, "job"));
  Job m;
  ASSIGN_OR_RETURN(m.job_id, requireString(*o, "job_id"));
  ASSIGN_OR_RETURN(m.run_id, optionalString(*o, "run_id"));
  ASSIGN_OR_RETURN(m.kind, optionalString(*o, "kind", "apply"));
  ASSIGN_OR_RETURN(int64_t attempt, optionalInt(*o, "attempt", 1));
  m.attempt = static_cast<int>(attempt);
  ASSIGN_OR_RETURN(m.dry_run, optionalBool(*o, "dry_run", false));
  ASSIGN_OR_RETURN(m.lease_expires_at_ms, optionalInt(*o, "lease_expires_at_ms", 0));
  ASSIGN_OR_RETURN(m.approved, optionalBool(*o, "approved", false));
  ASSIGN_OR_RETURN(m.now_ms, optionalInt(*o, "now_ms", 0));
  ASSIGN_OR_RETURN(m.reserved_names, optionalStringArray(*o, "reserved_names"));
  RETURN_IF_ERROR(parseArray(*o, "identities", [](const bj::value& e) { return hr::hrRecordFromJson(e); }, m.identities));
  if (auto it = o->find("policy"); it != o->end() && it->value().is_object()) {
    m.policy = it->value().get_object();
  }
  if (auto it = o->find("time_zone"); it != o->end() && !it->value().is_null()) {
    ASSIGN_OR_RETURN(const bj::object* tz, json::asObject(it->value(), "time_zone"));
    JobTimeZone zone;
    ASSIGN_OR_RETURN(zone.name, requireString(*tz, "name"));
    ASSIGN_OR_RETURN(std::string tzif, requireString(*tz, "tzif"));
    auto bytes = base64Decode(tzif);
    if (!bytes.isOk()) return bytes.status().withContext("field 'time_zone.tzif'");
    zone.tzif = std::move(*bytes);
    m.time_zone = std::move(zone);
  }
  return m;
}

Result<PollResponse> parsePollResponse(const bj::value& v) {
  ASSIGN_OR_RETURN(const bj::object* o, json::asObject(v, "poll response"));
  PollResponse m;
  RETURN_IF_ERROR(parseArray(*o, "jobs", [](const bj::value& e) { return parseJob(e); }, m.jobs));
  return m;
}

Result<IdentityOutcome> parseIdentityOutcome(const bj::value& v) {
  ASSIGN_OR_RETURN(const bj::object* o, json::asObject(v, "outcome"));
  IdentityOutcome m;
  ASSIGN_OR_RETURN(m.employee_id, requireString(*o, "employee_id"));
  ASSIGN_OR_RETURN(m.action, requireString(*o, "action"));
  ASSIGN_OR_RETURN(m.dn, optionalString(*o, "dn"));
  ASSIGN_OR_RETURN(m.sam_account_name, optionalString(*o, "sam_account_name"));
  ASSIGN_OR_RETURN(m.changes, optionalStringArray(*o, "changes"));
  ASSIGN_OR_RETURN(m.error_class, optionalString(*o, "error_class"));
  ASSIGN_OR_RETURN(m.error_message, optionalString(*o, "error_message"));
  ASSIGN_OR_RETURN(int64_t code, optionalInt(*o, "directory_code", 0));
  m.directory_code = static_cast<int>(code);
  ASSIGN_OR_RETURN(m.state, optionalString(*o, "state"));
  ASSIGN_OR_RETURN(m.upn, optionalString(*o, "upn"));
  ASSIGN_OR_RETURN(m.mail, optionalString(*o, "mail"));
  RETURN_IF_ERROR(parseArray(*o, "operations", [](const bj::value& e) { return parsePlannedOperation(e); }, m.operations));
  return m;
}

Result<JobResult> parseJobResult(const bj::value& v) {
  ASSIGN_OR_RETURN(const bj::object* o, json::asObject(v, "job result"));
  JobResult m;
  ASSIGN_OR_RETURN(m.job_id, optionalString(*o, "job_id"));
  ASSIGN_OR_RETURN(m.status, requireString(*o, "status"));
  if (m.status != "succeeded" && m.status != "partial" && m.status != "failed") {
    return dataError("field 'status' must be succeeded, partial or failed");
  }
  ASSIGN_OR_RETURN(m.started_at_ms, optionalInt(*o, "started_at_ms", 0));
  ASSIGN_OR_RETURN(m.finished_at_ms, optionalInt(*o, "finished_at_ms", 0));
  ASSIGN_OR_RETURN(m.agent_version, optionalString(*o, "agent_version"));
  ASSIGN_OR_RETURN(m.domain_controller, optionalString(*o, "domain_controller"));
  ASSIGN_OR_RETURN(m.error_class, optionalString(*o, "error_class"));
  ASSIGN_OR_RETURN(m.error_message, optionalString(*o, "error_message"));
  RETURN_IF_ERROR(parseArray(*o, "outcomes", [](const bj::value& e) { return parseIdentityOutcome(e); }, m.outcomes));
  return m;
}

Result<ErrorBody> parseErrorBody(const bj::value& v) {
  ASSIGN_OR_RETURN(const bj::object* o, json::asObject(v, "error body"));
  ErrorBody m;
  ASSIGN_OR_RETURN(m.error, requireString(*o, "error"));
  ASSIGN_OR_RETURN(m.message, optionalString(*o, "message"));
  return m;
}

bj::value toJson(const PlannedOperation& m) {
  bj::object o{{"kind", m.kind}, {"dn", m.dn}, {"reason", m.reason},
               {"changes", json::toJsonArray(m.changes)}};
  if (!m.target.empty()) o["target"] = m.target;
  return o;
}

bj::value toJson(const PlanSummary& m) {
  bj::object counts;
  for (const auto& [k, n] : m.counts) counts[k] = n;
  bj::array outs;
  for (const auto& o : m.outcomes) outs.push_back(toJson(o));
  return bj::object{{"job_id", m.job_id},
                    {"population", m.population},
                    {"counts", std::move(counts)},
                    {"outcomes", std::move(outs)}};
}

bj::value toJson(const PlanDecision& m) {
  return bj::object{{"proceed", m.proceed}, {"held", m.held}, {"reason", m.reason}};
}

Result<PlannedOperation> parsePlannedOperation(const bj::value& v) {
  ASSIGN_OR_RETURN(const bj::object* o, json::asObject(v, "operation"));
  PlannedOperation m;
  ASSIGN_OR_RETURN(m.kind, requireString(*o, "kind"));
  ASSIGN_OR_RETURN(m.dn, optionalString(*o, "dn"));
  ASSIGN_OR_RETURN(m.target, optionalString(*o, "target"));
  ASSIGN_OR_RETURN(m.reason, optionalString(*o, "reason"));
  ASSIGN_OR_RETURN(m.changes, optionalStringArray(*o, "changes"));
  return m;
}

Result<PlanSummary> parsePlanSummary(const bj::value& v) {
  ASSIGN_OR_RETURN(const bj::object* o, json::asObject(v, "plan summary"));
  PlanSummary m;
  ASSIGN_OR_RETURN(m.job_id, optionalString(*o, "job_id"));
  ASSIGN_OR_RETURN(int64_t population, optionalInt(*o, "population", 0));
  if (population < 0 || population > 10'000'000) return dataError("field 'population' out of range");
  m.population = static_cast<int>(population);
  if (auto it = o->find("counts"); it != o->end() && !it->value().is_null()) {
    if (!it->value().is_object()) return dataError("field 'counts' must be an object");
    for (const auto& kv : it->value().get_object()) {
      if (!kv.value().is_int64() || kv.value().get_int64() < 0) {
        return dataError("counts." + std::string(kv.key()) + " must be a non-negative integer");
      }
      m.counts[std::string(kv.key())] = static_cast<int>(kv.value().get_int64());
    }
  }
  RETURN_IF_ERROR(parseArray(*o, "outcomes", [](const bj::value& e) { return parseIdentityOutcome(e); }, m.outcomes));
  return m;
}

Result<PlanDecision> parsePlanDecision(const bj::value& v) {
  ASSIGN_OR_RETURN(const bj::object* o, json::asObject(v, "plan decision"));
  PlanDecision m;
  ASSIGN_OR_RETURN(m.proceed, optionalBool(*o, "proceed", false));
  ASSIGN_OR_RETURN(m.held, optionalBool(*o, "held", false));
  ASSIGN_OR_RETURN(m.reason, optionalString(*o, "reason"));
  return m;
}

Result<bj::value> parseJsonText(std::string_view text) {
  boost::system::error_code ec;
  bj::value v = bj::parse(text, ec);
  if (ec) return dataError("malformed JSON: " + ec.message());
  return v;
}

std::string serialize(const bj::value& v) { return bj::serialize(v); }

}  // namespace tenure::protocol
