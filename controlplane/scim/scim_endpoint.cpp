#include "controlplane/scim/scim_endpoint.h"

#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <optional>

#include "common/base/crypto.h"
#include "common/base/time_zone.h"
#include "common/policy/policy.h"

namespace tenure::cp::scim {

namespace bj = boost::json;

namespace {

constexpr const char* kPrefix = "/scim/v2";
constexpr const char* kRunHeader = "X-Tenure-Run-Id";

HttpServerResponse scimJson(int status, const bj::value& v) {
  HttpServerResponse r;
  r.status = status;
  r.content_type = "application/scim+json";
  r.body = bj::serialize(v);
  return r;
}

bj::object errorBody(const ScimError& e) {
  bj::object o{{"schemas", bj::array{kErrorSchema}},
               {"status", std::to_string(e.status)},
               {"detail", e.detail}};
  if (!e.scim_type.empty()) o["scimType"] = e.scim_type;
  return o;
}

}  // namespace

HttpServerResponse scimError(const ScimError& e) { return scimJson(e.status, errorBody(e)); }

ScimError storeError(const Status& st) {
  spdlog::error("scim: store failure: {}", st.toString());
  if (st.errorClass() == ErrorClass::kTransient) {
    return ScimError{503, "", "temporarily unavailable, retry"};
  }
  return ScimError{500, "", "internal error"};
}

namespace {

std::string etagOf(int64_t version) { return "W/\"" + std::to_string(version) + "\""; }

// True when If-Match allows a write of a resource at `version` (absent or "*" always do).
bool ifMatchAllows(const std::string& if_match, int64_t version) {
  if (if_match.empty()) return true;
  auto strip = [](std::string s) {
    while (!s.empty() && s.front() == ' ') s.erase(s.begin());
    while (!s.empty() && s.back() == ' ') s.pop_back();
    if (s.rfind("W/", 0) == 0) s = s.substr(2);
    return s;
  };
  std::string want = strip(etagOf(version));
  size_t start = 0;
  while (start <= if_match.size()) {
    size_t comma = if_match.find(',', start);
    std::string one = strip(
        if_match.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (one == "*" || one == want) return true;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return false;
}

// Today in the tenant's time zone (the policy's lifecycle.time_zone; UTC without a policy), so
// "terminated effective today" means the tenant's today, wherever the tenant is.
std::string tenantToday(TenantStore& store, const Clock& clock) {
  const int64_t now_s = clock.nowUnixMillis() / 1000;
  auto stored = store.currentPolicy();
  if (stored.isOk() && stored->has_value()) {
    boost::system::error_code ec;
    bj::value doc = bj::parse((*stored)->document, ec);
    if (!ec) {
      auto pol = policy::parsePolicy(doc, nullptr);
      if (pol.isOk()) {
        auto tz = TimeZone::load(pol->lifecycle.time_zone);
        if (tz.isOk()) return tz->localDate(now_s);
      }
    }
  }
  return TimeZone::utc().localDate(now_s);
}

std::string isoMillis(int64_t ms) { return formatIso8601Utc(ms / 1000); }

// Reason of a rejected HR row without the "row 1: " prefix the upload format puts first.
std::string bareReason(const std::string& reason) {
  if (reason.rfind("row ", 0) == 0) {
    size_t colon = reason.find(": ");
    if (colon != std::string::npos) return reason.substr(colon + 2);
  }
  return reason;
}

std::string asciiUpperCopy(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

bool jsonMediaType(const HttpServerRequest& req) {
  std::string ct = asciiLowerCopy(req.header("content-type"));
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  return ct.empty() || ct == "application/scim+json" || ct == "application/json";
}

// Replaces every "bulkId:X" string in `v` with the id created for X; returns the first bulkId
// that is not (yet) known, or "" when all resolved.
std::string substituteBulkIds(bj::value& v, const std::map<std::string, std::string>& ids) {
  if (v.is_string()) {
    std::string_view s = v.get_string();
    if (s.rfind("bulkId:", 0) == 0) {
      std::string ref(s.substr(7));
      auto it = ids.find(ref);
      if (it == ids.end()) return ref.empty() ? std::string(" ") : ref;
      v = it->second;
    }
    return "";
  }
  if (v.is_array()) {
    for (auto& e : v.get_array()) {
      if (auto r = substituteBulkIds(e, ids); !r.empty()) return r;
    }
  }
  if (v.is_object()) {
    for (auto& kv : v.get_object()) {
      if (auto r = substituteBulkIds(kv.value(), ids); !r.empty()) return r;
    }
  }
  return "";
}

}  // namespace

struct ScimEndpoint::Context {
  std::string tenant_id;
  std::shared_ptr<TenantStore> tenant_store;
  ScimUserStore* store = nullptr;  // the tenant store's, alive while tenant_store is held
  std::string base_url;  // https://host/scim/v2

  bj::object render(const ScimUserRow& row) const {
    bj::object out = row.resource;
    bj::array schemas{kUserSchema};
    if (out.contains(kEnterpriseSchema)) schemas.push_back(kEnterpriseSchema);
    if (out.contains(kTenureSchema)) schemas.push_back(kTenureSchema);
    out["schemas"] = std::move(schemas);
    out["id"] = row.id;
    if (auto* ent = out.if_contains(kEnterpriseSchema); ent && ent->is_object()) {
      if (auto* m = ent->get_object().if_contains("manager"); m && m->is_object()) {
        if (auto* v = m->get_object().if_contains("value"); v && v->is_string()) {
          m->get_object()["$ref"] = base_url + "/Users/" + std::string(v->get_string());
        }
      }
    }
    out["meta"] = bj::object{{"resourceType", "User"},
                             {"created", isoMillis(row.created_ms)},
                             {"lastModified", isoMillis(row.modified_ms)},
                             {"location", base_url + "/Users/" + row.id},
                             {"version", etagOf(row.version)}};
    return out;
  }
};

struct ScimEndpoint::OpResult {
  int status = 200;
  bj::object body;       // the resource, or an error
  std::string location;  // of the resource written
  std::string etag;
  std::string run_id;
  bool failed() const { return status >= 400; }

  static OpResult error(const ScimError& e) {
    OpResult r;
    r.status = e.status;
    r.body = errorBody(e);
    return r;
  }
  HttpServerResponse response() const {
    HttpServerResponse res;
    res.status = status;
    res.content_type = "application/scim+json";
    if (status != 204) res.body = bj::serialize(body);
    if (!etag.empty()) res.headers["ETag"] = etag;
    if (!location.empty() && status == 201) res.headers["Location"] = location;
    if (!run_id.empty()) res.headers[kRunHeader] = run_id;
    return res;
  }
};

ScimEndpoint::ScimEndpoint(ControlStore& control, TenantStores& tenants, const Clock& clock,
                           SubmitHr submit, ScimOptions options)
    : control_(control),
      tenants_(tenants),
      clock_(clock),
      submit_(std::move(submit)),
      options_(options) {}

void ScimEndpoint::handle(const HttpServerRequest& req, const std::string& tenant_id,
                          const Responder& respond) {
  Context ctx;
  ctx.tenant_id = tenant_id;
  std::string host = req.header("host");
  ctx.base_url = (host.empty() ? std::string("") : "https://" + host) + kPrefix;

  const std::vector<std::string> seg = pathSegments(std::string_view(req.path).substr(strlen(kPrefix)));
  const std::string& m = req.method;
  auto methodNotAllowed = [&] { respond(scimError({405, "", m + " is not supported here"})); };
  if (seg.empty()) {
    respond(scimError({404, "", "no such endpoint"}));
    return;
  }
  if (seg[0] == "ServiceProviderConfig" && seg.size() == 1) {
    if (m != "GET") return methodNotAllowed();
    respond(scimJson(200, serviceProviderConfig(ctx.base_url, options_.max_operations,
                                                options_.max_payload_bytes, options_.max_results)));
    return;
  }
  if (seg[0] == "Schemas" && seg.size() <= 2) {
    if (m != "GET") return methodNotAllowed();
    bj::array docs = schemaDocuments(ctx.base_url);
    if (seg.size() == 2) {
      for (const auto& d : docs) {
        if (d.as_object().at("id").as_string() == seg[1]) {
          respond(scimJson(200, d));
          return;
        }
      }
      respond(scimError({404, "", "no schema " + seg[1]}));
      return;
    }
    const auto n = static_cast<int64_t>(docs.size());
    respond(scimJson(200, bj::object{{"schemas", bj::array{kListSchema}},
                                     {"totalResults", n},
                                     {"itemsPerPage", n},
                                     {"startIndex", 1},
                                     {"Resources", std::move(docs)}}));
    return;
  }
  if (seg[0] == "ResourceTypes" && seg.size() <= 2) {
    if (m != "GET") return methodNotAllowed();
    if (seg.size() == 2) {
      if (seg[1] != "User") {
        respond(scimError({404, "", "no resource type " + seg[1]}));
        return;
      }
      respond(scimJson(200, userResourceType(ctx.base_url)));
      return;
    }
    respond(scimJson(200, bj::object{{"schemas", bj::array{kListSchema}},
                                     {"totalResults", 1},
                                     {"itemsPerPage", 1},
                                     {"startIndex", 1},
                                     {"Resources", bj::array{userResourceType(ctx.base_url)}}}));
    return;
  }
  const bool users = seg[0] == "Users" && seg.size() <= 2;
  const bool bulk = seg[0] == "Bulk" && seg.size() == 1;
  if (!users && !bulk) {
    respond(scimError({404, "", "no such endpoint"}));
    return;
  }
  if (!req.body.empty()) {
    if (!jsonMediaType(req)) {
      respond(scimError({415, "", "send application/scim+json (or application/json)"}));
      return;
    }
    if (req.body.size() > options_.max_payload_bytes) {
      respond(scimError({413, "tooLarge",
                         "the request body exceeds maxPayloadSize (" +
                             std::to_string(options_.max_payload_bytes) + " bytes)"}));
      return;
    }
  }
  auto store = tenants_.forTenant(ctx.tenant_id);
  if (!store.isOk()) {
    respond(scimError(storeError(store.status())));
    return;
  }
  ctx.tenant_store = *store;
  ctx.store = &ctx.tenant_store->scimUsers();

  if (bulk) {
    if (m != "POST") return methodNotAllowed();
    handleBulk(ctx, req, respond);
    return;
  }
  auto parseBody = [&]() -> std::optional<bj::value> {
    boost::system::error_code ec;
    bj::value v = bj::parse(req.body, ec);
    if (ec) {
      respond(scimError({400, "invalidSyntax", "the body is not valid JSON: " + ec.message()}));
      return std::nullopt;
    }
    return v;
  };
  const std::string if_match = req.header("if-match");
  if (seg.size() == 1) {
    if (m == "GET") {
      handleList(ctx, req, respond);
    } else if (m == "POST") {
      auto body = parseBody();
      if (body) respond(createUser(ctx, *body).response());
    } else {
      methodNotAllowed();
    }
    return;
  }
  const std::string& id = seg[1];
  if (m == "GET") {
    auto row = ctx.store->byId(id);
    if (!row.isOk()) {
      respond(scimError(storeError(row.status())));
      return;
    }
    if (!row->has_value()) {
      respond(scimError({404, "", "no User " + id}));
      return;
    }
    HttpServerResponse res = scimJson(200, ctx.render(**row));
    res.headers["ETag"] = etagOf((*row)->version);
    respond(std::move(res));
  } else if (m == "PUT" || m == "PATCH") {
    auto body = parseBody();
    if (!body) return;
    respond(
        (m == "PUT" ? replaceUser(ctx, id, *body, if_match) : patchUser(ctx, id, *body, if_match))
            .response());
  } else if (m == "DELETE") {
    respond(deleteUser(ctx, id, if_match).response());
  } else {
    methodNotAllowed();
  }
}

void ScimEndpoint::handleList(Context& ctx, const HttpServerRequest& req,
                              const Responder& respond) {
  ScimMatch match = ScimMatch::kAll;
  std::string value;
  if (auto f = req.query.find("filter"); f != req.query.end() && !f->second.empty()) {
    const std::string& filter = f->second;
    std::string lower = asciiLowerCopy(filter);
    size_t eq = lower.find(" eq ");
    std::string attr = eq == std::string::npos ? "" : lower.substr(0, eq);
    while (!attr.empty() && attr.front() == ' ') attr.erase(attr.begin());
    const std::string core = asciiLowerCopy(kUserSchema) + ":";
    if (attr.rfind(core, 0) == 0) attr = attr.substr(core.size());
    std::string rest = eq == std::string::npos ? "" : filter.substr(eq + 4);
    while (!rest.empty() && rest.front() == ' ') rest.erase(rest.begin());
    while (!rest.empty() && rest.back() == ' ') rest.pop_back();
    const bool quoted = rest.size() >= 2 && rest.front() == '"' && rest.back() == '"' &&
                        rest.find('"', 1) == rest.size() - 1;
    if ((attr != "username" && attr != "externalid") || !quoted) {
      respond(scimError({400, "invalidFilter",
                         "only `userName eq \"...\"` and `externalId eq \"...\"` are supported"}));
      return;
    }
    match = attr == "username" ? ScimMatch::kUserName : ScimMatch::kExternalId;
    value = rest.substr(1, rest.size() - 2);
  }
  auto number = [&](const char* name, int64_t fallback) -> std::optional<int64_t> {
    auto it = req.query.find(name);
    if (it == req.query.end() || it->second.empty()) return fallback;
    try {
      size_t used = 0;
      int64_t n = std::stoll(it->second, &used);
      if (used != it->second.size()) throw std::invalid_argument("trailing");
      return n;
    } catch (...) {
      respond(scimError({400, "invalidValue", std::string(name) + " must be an integer"}));
      return std::nullopt;
    }
  };
  auto start = number("startIndex", 1);
  if (!start) return;
  auto count = number("count", static_cast<int64_t>(options_.max_results));
  if (!count) return;
  const int64_t start_index = std::max<int64_t>(1, *start);
  const int64_t limit = std::clamp<int64_t>(*count, 0, static_cast<int64_t>(options_.max_results));
  auto page = ctx.store->list(match, value, start_index - 1, limit);
  if (!page.isOk()) {
    respond(scimError(storeError(page.status())));
    return;
  }
  bj::array resources;
  for (const auto& row : page->rows) resources.push_back(ctx.render(row));
  respond(scimJson(200, bj::object{{"schemas", bj::array{kListSchema}},
                                   {"totalResults", page->total},
                                   {"itemsPerPage", static_cast<int64_t>(resources.size())},
                                   {"startIndex", start_index},
                                   {"Resources", std::move(resources)}}));
}

ScimEndpoint::OpResult ScimEndpoint::createUser(Context& ctx, const bj::value& data) {
  bj::object resource;
  if (auto e = sanitizeUser(data, resource)) return OpResult::error(*e);
  std::lock_guard lk(write_mu_);
  return commit(ctx, nullptr, std::move(resource), false, 201);
}

ScimEndpoint::OpResult ScimEndpoint::replaceUser(Context& ctx, const std::string& id,
                                                 const bj::value& data,
                                                 const std::string& if_match) {
  bj::object resource;
  if (auto e = sanitizeUser(data, resource)) return OpResult::error(*e);
  std::lock_guard lk(write_mu_);
  auto row = ctx.store->byId(id);
  if (!row.isOk()) return OpResult::error(storeError(row.status()));
  if (!row->has_value()) return OpResult::error({404, "", "no User " + id});
  if (!ifMatchAllows(if_match, (*row)->version)) {
    return OpResult::error(
        {412, "", "If-Match does not match the current version " + etagOf((*row)->version)});
  }
  return commit(ctx, &**row, std::move(resource), false, 200);
}

ScimEndpoint::OpResult ScimEndpoint::patchUser(Context& ctx, const std::string& id,
                                               const bj::value& data, const std::string& if_match) {
  std::lock_guard lk(write_mu_);
  auto row = ctx.store->byId(id);
  if (!row.isOk()) return OpResult::error(storeError(row.status()));
  if (!row->has_value()) return OpResult::error({404, "", "no User " + id});
  if (!ifMatchAllows(if_match, (*row)->version)) {
    return OpResult::error(
        {412, "", "If-Match does not match the current version " + etagOf((*row)->version)});
  }
  bj::object patched = (*row)->resource;
  if (auto e = applyPatch(patched, data)) return OpResult::error(*e);
  bj::object resource;
  if (auto e = sanitizeUser(patched, resource)) return OpResult::error(*e);
  return commit(ctx, &**row, std::move(resource), false, 200);
}

ScimEndpoint::OpResult ScimEndpoint::deleteUser(Context& ctx, const std::string& id,
                                                const std::string& if_match) {
  std::lock_guard lk(write_mu_);
  auto row = ctx.store->byId(id);
  if (!row.isOk()) return OpResult::error(storeError(row.status()));
  if (!row->has_value()) return OpResult::error({404, "", "no User " + id});
  if (!ifMatchAllows(if_match, (*row)->version)) {
    return OpResult::error(
        {412, "", "If-Match does not match the current version " + etagOf((*row)->version)});
  }
  return commit(ctx, &**row, (*row)->resource, true, 204);
}

ScimEndpoint::OpResult ScimEndpoint::commit(Context& ctx, const ScimUserRow* existing,
                                            bj::object resource, bool deleting,
                                            int success_status) {
  UserKeys keys;
  if (auto e = userKeys(resource, keys)) return OpResult::error(*e);
  if (existing && asciiLowerCopy(keys.employee_id) != asciiLowerCopy(existing->employee_id)) {
    return OpResult::error({400, "mutability",
                            "the employee ID (employeeNumber, else externalId) is the person's "
                            "anchor and cannot change: it is \"" +
                                existing->employee_id + "\""});
  }
  const std::string self = existing ? existing->id : "";
  if (existing && !deleting && resource == existing->resource) {
    // Provisioning clients repeat writes that change nothing: no run, no new version.
    OpResult same;
    same.status = success_status;
    same.body = ctx.render(*existing);
    same.location = ctx.base_url + "/Users/" + existing->id;
    same.etag = etagOf(existing->version);
    return same;
  }
  if (!deleting) {
    auto by_name = ctx.store->byUserName(keys.user_name);
    if (!by_name.isOk()) return OpResult::error(storeError(by_name.status()));
    if (by_name->has_value() && (*by_name)->id != self) {
      return OpResult::error({409, "uniqueness", "userName \"" + keys.user_name + "\" is taken"});
    }
    auto by_eid = ctx.store->byEmployeeId(keys.employee_id);
    if (!by_eid.isOk()) return OpResult::error(storeError(by_eid.status()));
    if (by_eid->has_value() && (*by_eid)->id != self) {
      return OpResult::error(
          {409, "uniqueness",
           "employeeNumber \"" + keys.employee_id + "\" belongs to another User"});
    }
  }
  std::string manager_eid;
  if (!keys.manager_ref.empty()) {
    if (!self.empty() && keys.manager_ref == self) {
      return OpResult::error({400, "invalidValue", "a User cannot be their own manager"});
    }
    auto mgr = ctx.store->byId(keys.manager_ref);
    if (!mgr.isOk()) return OpResult::error(storeError(mgr.status()));
    if (mgr->has_value()) {
      manager_eid = (*mgr)->employee_id;
    } else if (existing && existing->manager_id == keys.manager_ref) {
      manager_eid = existing->manager_employee_id;  // the manager's User was deleted since
    } else {
      return OpResult::error(
          {400, "invalidValue",
           "manager.value \"" + keys.manager_ref + "\" is not the id of a User"});
    }
  }

  hr::HrRecord record = toHrRecord(resource, manager_eid, deleting || !keys.active,
                                   tenantToday(*ctx.tenant_store, clock_));
  // Validated exactly like an upload row; the control plane adds the policy's rules.
  hr::BatchValidator validator;
  validator.addRecord(1, record);
  hr::ParsedBatch batch = std::move(validator).finish();
  auto refused = [](const std::vector<std::string>& reasons,
                    const std::vector<std::string>& fields) {
    std::string detail = "the HR record was refused: ";
    for (size_t i = 0; i < reasons.size(); ++i) {
      if (i) detail += "; ";
      const std::string& f = i < fields.size() ? fields[i] : "";
      detail += f.empty() ? bareReason(reasons[i])
                          : scimPathOfHrField(f) + " (" + bareReason(reasons[i]) + ")";
    }
    return OpResult::error({400, "invalidValue", detail});
  };
  if (!batch.rejected.empty()) {
    std::vector<std::string> reasons, fields;
    for (const auto& e : batch.rejected) {
      reasons.push_back(e.reason);
      fields.push_back(e.field);
    }
    return refused(reasons, fields);
  }
  HrSubmission sub = submit_(ctx.tenant_id, std::move(batch));
  if (sub.http_status >= 500) return OpResult::error({sub.http_status, "", "internal error"});
  if (sub.http_status == 413) return OpResult::error({413, "tooLarge", "too many records"});
  if (sub.http_status != 202) return refused(sub.reasons, sub.fields);

  const int64_t now = clock_.nowUnixMillis();
  OpResult out;
  out.run_id = sub.run_id;
  if (deleting) {
    if (Status st = ctx.store->remove(existing->id); !st.isOk())
      return OpResult::error(storeError(st));
    out.status = success_status;
    return out;
  }
  ScimUserRow row;
  row.id = existing ? existing->id : randomHex(16);
  row.user_name = keys.user_name;
  row.external_id = keys.external_id;
  row.employee_id = keys.employee_id;
  row.manager_id = keys.manager_ref;
  row.manager_employee_id = manager_eid;
  row.resource = std::move(resource);
  row.version = existing ? existing->version + 1 : 1;
  row.created_ms = existing ? existing->created_ms : now;
  row.modified_ms = now;
  Status st = existing ? ctx.store->update(row) : ctx.store->insert(row);
  if (!st.isOk()) {
    // The run is queued with the record; the SCIM view could not be saved (the client retries).
    spdlog::error("scim: tenant {}: run {} queued but the User was not stored", ctx.tenant_id,
                  sub.run_id);
    return OpResult::error(storeError(st));
  }
  out.status = success_status;
  out.body = ctx.render(row);
  out.location = ctx.base_url + "/Users/" + row.id;
  out.etag = etagOf(row.version);
  return out;
}

void ScimEndpoint::handleBulk(Context& ctx, const HttpServerRequest& req,
                              const Responder& respond) {
  boost::system::error_code ec;
  bj::value body = bj::parse(req.body, ec);
  if (ec || !body.is_object()) {
    respond(scimError({400, "invalidSyntax", "a BulkRequest must be a JSON object"}));
    return;
  }
  bj::object& b = body.get_object();
  bj::value* ops_v = b.if_contains("Operations");
  if (!ops_v || !ops_v->is_array()) {
    respond(scimError({400, "invalidSyntax", "a BulkRequest needs an Operations array"}));
    return;
  }
  bj::array& ops = ops_v->get_array();
  if (ops.size() > options_.max_operations) {
    respond(scimError({413, "tooMany",
                       std::to_string(ops.size()) + " operations exceed maxOperations (" +
                           std::to_string(options_.max_operations) + ")"}));
    return;
  }
  int64_t fail_on_errors = 0;  // 0: process every operation
  if (bj::value* f = b.if_contains("failOnErrors"); f && !f->is_null()) {
    if (!f->is_int64() || f->get_int64() < 0) {
      respond(scimError({400, "invalidValue", "failOnErrors must be a non-negative integer"}));
      return;
    }
    fail_on_errors = f->get_int64();
  }

  // bulkIds declared by POST operations, so a reference to one not yet run can wait for it.
  std::set<std::string> declared;
  for (const auto& op : ops) {
    if (op.is_object()) {
      if (auto* id = op.get_object().if_contains("bulkId"); id && id->is_string()) {
        declared.insert(std::string(id->get_string()));
      }
    }
  }
  std::map<std::string, std::string> created;  // bulkId -> id
  std::set<std::string> failed_bulk_ids;
  bj::array results;
  std::vector<std::string> run_ids;
  int64_t errors = 0;
  std::vector<size_t> pending(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) pending[i] = i;

  auto runOne = [&](bj::object& op) -> bj::object {
    const std::string method = asciiUpperCopy(op.contains("method") && op["method"].is_string()
                                                  ? std::string(op["method"].get_string())
                                                  : "");
    const std::string bulk_id = op.contains("bulkId") && op["bulkId"].is_string()
                                    ? std::string(op["bulkId"].get_string())
                                    : "";
    std::string path =
        op.contains("path") && op["path"].is_string() ? std::string(op["path"].get_string()) : "";
    const std::string version = op.contains("version") && op["version"].is_string()
                                    ? std::string(op["version"].get_string())
                                    : "";
    bj::object res{{"method", method}};
    if (!bulk_id.empty()) res["bulkId"] = bulk_id;
    auto fill = [&](const OpResult& r) {
      res["status"] = std::to_string(r.status);
      if (r.failed()) {
        res["response"] = r.body;
      } else if (!r.location.empty()) {
        res["location"] = r.location;
      }
      if (!r.etag.empty()) res["version"] = r.etag;
      if (!r.run_id.empty()) run_ids.push_back(r.run_id);
      return res;
    };
    if (path.rfind("/Users/bulkId:", 0) == 0) {
      auto it = created.find(path.substr(14));
      if (it != created.end()) path = "/Users/" + it->second;
    }
    bj::value empty;
    const bj::value& data = op.contains("data") ? op["data"] : empty;
    if (method == "POST" && path == "/Users") {
      if (bulk_id.empty())
        return fill(OpResult::error({400, "invalidValue", "POST needs a bulkId"}));
      OpResult r = createUser(ctx, data);
      if (!r.failed()) {
        created[bulk_id] = std::string(r.body.at("id").as_string());
        res["location"] = r.location;
      } else {
        failed_bulk_ids.insert(bulk_id);
      }
      return fill(r);
    }
    if (path.rfind("/Users/", 0) == 0 && path.size() > 7 &&
        path.find('/', 7) == std::string::npos) {
      const std::string id = path.substr(7);
      if (method == "PUT") return fill(replaceUser(ctx, id, data, version));
      if (method == "PATCH") return fill(patchUser(ctx, id, data, version));
      if (method == "DELETE") return fill(deleteUser(ctx, id, version));
    }
    return fill(
        OpResult::error({400, "invalidValue", "unsupported operation " + method + " " + path}));
  };

  bool stop = false;
  while (!pending.empty() && !stop) {
    std::vector<size_t> deferred;
    for (size_t i : pending) {
      if (stop) break;
      bj::value& opv = ops[i];
      bj::object res;
      if (!opv.is_object()) {
        res = bj::object{
            {"status", "400"},
            {"response", errorBody({400, "invalidSyntax", "an operation must be an object"})}};
      } else {
        bj::object& op = opv.get_object();
        std::string missing;
        if (op.contains("data")) missing = substituteBulkIds(op["data"], created);
        if (missing.empty() && op.contains("path") && op["path"].is_string()) {
          std::string p(op["path"].get_string());
          if (p.rfind("/Users/bulkId:", 0) == 0 && !created.count(p.substr(14)))
            missing = p.substr(14);
        }
        if (!missing.empty() && declared.count(missing) && !failed_bulk_ids.count(missing)) {
          deferred.push_back(i);  // its target is created by a later operation
          continue;
        }
        if (!missing.empty()) {
          res = bj::object{{"method", op.contains("method") ? op["method"] : bj::value("")},
                           {"status", "409"},
                           {"response", errorBody({409, "invalidValue",
                                                   "bulkId \"" + missing + "\" was not created"})}};
          if (op.contains("bulkId")) {
            res["bulkId"] = op["bulkId"];
            if (op["bulkId"].is_string())
              failed_bulk_ids.insert(std::string(op["bulkId"].get_string()));
          }
        } else {
          res = runOne(op);
        }
      }
      if (std::stoi(std::string(res["status"].as_string())) >= 400) {
        ++errors;
        if (fail_on_errors > 0 && errors >= fail_on_errors) stop = true;
      }
      results.push_back(std::move(res));
    }
    if (deferred.size() == pending.size()) {
      // Every remaining operation waits for another: a circular reference.
      for (size_t i : deferred) {
        bj::object& op = ops[i].get_object();
        bj::object res{{"method", op.contains("method") ? op["method"] : bj::value("")},
                       {"status", "409"},
                       {"response", errorBody({409, "invalidValue", "circular bulkId reference"})}};
        if (op.contains("bulkId")) res["bulkId"] = op["bulkId"];
        results.push_back(std::move(res));
        ++errors;
        if (fail_on_errors > 0 && errors >= fail_on_errors) break;
      }
      break;
    }
    pending = std::move(deferred);
  }
  HttpServerResponse res = scimJson(200, bj::object{{"schemas", bj::array{kBulkResponseSchema}},
                                                    {"Operations", std::move(results)}});
  std::string joined;
  for (const auto& r : run_ids) joined += (joined.empty() ? "" : ",") + r;
  if (!joined.empty()) res.headers[kRunHeader] = joined;
  respond(std::move(res));
}

}  // namespace tenure::cp::scim
