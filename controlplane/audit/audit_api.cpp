#include "controlplane/audit/audit_api.h"

#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/protocol/messages.h"
#include "controlplane/audit/identity_events.h"

namespace tenure::cp {

namespace bj = boost::json;

namespace {

HttpServerResponse json(int status, const bj::value& v) {
  HttpServerResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = bj::serialize(v);
  return r;
}

HttpServerResponse error(int status, const char* code, const std::string& message) {
  return json(status, protocol::toJson(protocol::ErrorBody{code, message}));
}

HttpServerResponse storeFailure(const Status& st) {
  spdlog::error("audit store failure: {}", st.toString());
  if (st.errorClass() == ErrorClass::kTransient) {
    return error(503, protocol::kErrUnavailable, "temporarily unavailable, retry");
  }
  return error(500, protocol::kErrInternal, "internal error");
}

// ?after=ID&limit=N (limit 1..1000, default 100); nullopt (and `bad` set) when malformed.
struct Page {
  int64_t after = 0;
  int limit = 100;
};
std::optional<Page> page(const std::map<std::string, std::string>& q, std::string& bad) {
  Page p;
  auto number = [&](const char* name, int64_t max, int64_t& out) {
    auto it = q.find(name);
    if (it == q.end()) return true;
    const std::string& v = it->second;
    if (v.empty() || v.size() > 15 ||
        !std::all_of(v.begin(), v.end(), [](unsigned char c) { return c >= '0' && c <= '9'; }) ||
        std::stoll(v) > max) {
      bad = std::string(name) + " must be an integer from 0 to " + std::to_string(max);
      return false;
    }
    out = std::stoll(v);
    return true;
  };
  int64_t limit = p.limit;
  if (!number("after", INT64_MAX / 2, p.after) || !number("limit", 1000, limit)) {
    return std::nullopt;
  }
  p.limit = std::max<int>(1, static_cast<int>(limit));
  return p;
}

}  // namespace

HttpServerResponse identityResponse(TenantStore& store, const std::string& employee_id,
                                    const std::map<std::string, std::string>& query,
                                    int64_t now_ms) {
  int64_t as_of = now_ms;
  if (auto it = query.find("as_of"); it != query.end()) {
    auto parsed = parseInstant(it->second);
    if (!parsed.isOk()) return error(400, protocol::kErrBadRequest, parsed.status().message());
    as_of = *parsed;
  }
  auto at = identityAt(store, employee_id, as_of);
  if (!at.isOk()) return storeFailure(at.status());
  if (!at->has_value()) return error(404, protocol::kErrNotFound, "no such identity");
  const IdentityAt& i = **at;
  bj::array events;
  for (const auto& e : i.events) events.push_back(toJson(e));
  return json(200,
              bj::object{{"employee_id", employee_id},
                         {"as_of", formatIso8601Utc(as_of / 1000)},
                         {"as_of_ms", as_of},
                         {"known", i.hr.has_value() || i.directory.has_value()},
                         {"hr", i.hr ? hr::toJson(*i.hr) : bj::value(nullptr)},
                         {"directory", i.directory ? bj::value(toJson(*i.directory))
                                                   : bj::value(nullptr)},
                         {"events", std::move(events)}});
}

HttpServerResponse identityEventsResponse(TenantStore& store, const std::string& employee_id,
                                          const std::map<std::string, std::string>& query) {
  std::string bad;
  auto p = page(query, bad);
  if (!p) return error(400, protocol::kErrBadRequest, bad);
  auto at = identityAt(store, employee_id, INT64_MAX);  // 404 for someone never seen
  if (!at.isOk()) return storeFailure(at.status());
  if (!at->has_value()) return error(404, protocol::kErrNotFound, "no such identity");
  auto events = identityEvents(store, employee_id, p->after, p->limit + 1);
  if (!events.isOk()) return storeFailure(events.status());
  const bool more = static_cast<int>(events->size()) > p->limit;
  if (more) events->pop_back();
  bj::array arr;
  for (const auto& e : *events) arr.push_back(toJson(e));
  bj::object o{{"employee_id", employee_id}, {"events", std::move(arr)}};
  o["next_after"] = more ? bj::value(events->back().id) : bj::value(nullptr);
  return json(200, o);
}

HttpServerResponse accessLogResponse(AccessAuditLog& log, const std::string& tenant_id,
                                     const std::map<std::string, std::string>& query) {
  std::string bad;
  auto p = page(query, bad);
  if (!p) return error(400, protocol::kErrBadRequest, bad);
  auto entries = log.list(tenant_id, p->after, p->limit + 1);
  if (!entries.isOk()) return storeFailure(entries.status());
  const bool more = static_cast<int>(entries->size()) > p->limit;
  if (more) entries->pop_back();
  bj::array arr;
  for (const auto& e : *entries) arr.push_back(toJson(e));
  bj::object o{{"chain", tenant_id.empty() ? "control" : "tenant"}, {"entries", std::move(arr)}};
  o["next_after"] = more ? bj::value(entries->back().id) : bj::value(nullptr);
  return json(200, o);
}

}  // namespace tenure::cp
