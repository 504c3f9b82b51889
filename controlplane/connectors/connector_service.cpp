#include "controlplane/connectors/connector_service.h"

#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include "common/hr/validation.h"
#include "common/protocol/messages.h"
#include "controlplane/answers/submission_answer.h"

namespace tenure::cp::connectors {
namespace {

namespace bj = boost::json;

constexpr const char* kKind = "bamboohr";
// The SecretBox context: a sealed key copied to another row or tenant does not open.
constexpr const char* kSecretContext = "connector:bamboohr";

HttpServerResponse jsonResponse(int status, const bj::value& v) {
  HttpServerResponse r;
  r.status = status;
  r.body = bj::serialize(v);
  return r;
}

HttpServerResponse errorResponse(int status, const std::string& code, const std::string& message) {
  return jsonResponse(status, protocol::toJson(protocol::ErrorBody{code, message}));
}

HttpServerResponse storeFailure(const Status& st) {
  spdlog::error("connectors: store failure: {}", st.toString());
  if (st.errorClass() == ErrorClass::kTransient) {
    return errorResponse(503, protocol::kErrUnavailable, "temporarily unavailable, retry");
  }
  return errorResponse(500, protocol::kErrInternal, "internal error");
}

std::string iso(int64_t ms) { return ms == 0 ? std::string() : formatIso8601Utc(ms / 1000); }

bj::object toJson(const PullState& s) {
  bj::object o{{"status", s.status},
               {"records", s.records},
               {"rejected_count", s.rejected},
               {"pages", s.pages},
               {"run_id", s.run_id.empty() ? bj::value(nullptr) : bj::value(s.run_id)},
               {"last_error", s.last_error.empty() ? bj::value(nullptr) : bj::value(s.last_error)}};
  o["last_pull_at"] = s.started_at_ms ? bj::value(iso(s.started_at_ms)) : bj::value(nullptr);
  o["finished_at"] = s.finished_at_ms ? bj::value(iso(s.finished_at_ms)) : bj::value(nullptr);
  o["last_success_at"] =
      s.last_success_at_ms ? bj::value(iso(s.last_success_at_ms)) : bj::value(nullptr);
  return o;
}

// HTTP status of a failed pull for the caller of POST .../pull.
int httpStatusOf(const Status& st) {
  switch (st.errorClass()) {
    case ErrorClass::kNotFound:
      return 404;
    case ErrorClass::kConflict:
      return 409;
    default:
      // The HR system, not our caller, failed (or answered something unusable).
      return 502;
  }
}

std::string hintFor(const Status& st) {
  switch (st.errorClass()) {
    case ErrorClass::kPermission:
      return "Check the BambooHR API key (PUT /api/v1/connectors/bamboohr with a new api_key) "
             "and that its user may read the requested fields.";
    case ErrorClass::kConfig:
      return "Check company_domain, base_url, mode and dataset settings of the connector.";
    case ErrorClass::kData:
      return "BambooHR answered something the connector cannot read (not JSON, too large, or "
             "an unexpected shape); check base_url and mode, and the field mapping.";
    default:
      return "BambooHR was unreachable or failing; the next scheduled pull retries. Nothing "
             "was changed: the previous HR state stays in effect.";
  }
}

}  // namespace

ConnectorService::ConnectorService(Intake& intake, TicketRaiser& tickets, SecretBox* secrets,
                                   TenantStores& tenants, const Clock& clock, net::HttpClient& http,
                                   ConnectorServiceOptions options)
    : intake_(intake),
      tickets_(tickets),
      secrets_(secrets),
      tenants_(tenants),
      clock_(clock),
      http_(http),
      options_(std::move(options)) {}

ConnectorService::~ConnectorService() {
  std::list<Worker> workers;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    workers.swap(workers_);
  }
  for (auto& w : workers) w.thread.join();
}

Result<std::optional<ConnectorService::Stored>> ConnectorService::load(
    const std::string& tenant_id) {
  ASSIGN_OR_RETURN(auto store, tenants_.forTenant(tenant_id));
  ASSIGN_OR_RETURN(auto row, store->connectors().config(kKind));
  if (!row) return std::optional<Stored>();
  boost::system::error_code ec;
  bj::value v = bj::parse(row->settings, ec);
  if (ec || !v.is_object()) return internalError("stored connector settings are not JSON");
  ASSIGN_OR_RETURN(BambooHrConfig config, parseBambooHrConfig(v.get_object()));
  return std::make_optional(Stored{std::move(config), row->sealed_api_key});
}

Status ConnectorService::saveState(const std::string& tenant_id, const PullState& s) {
  ASSIGN_OR_RETURN(auto store, tenants_.forTenant(tenant_id));
  return store->connectors().savePullState(kKind, s);
}

Result<PullState> ConnectorService::pullState(const std::string& tenant_id) {
  ASSIGN_OR_RETURN(auto store, tenants_.forTenant(tenant_id));
  return store->connectors().pullState(kKind);
}

void ConnectorService::handle(const HttpServerRequest& req, Responder respond,
                              const std::string& tenant_id, const std::vector<std::string>& seg) {
  if (seg.size() < 2 || seg[0] != "connectors" || seg[1] != kKind || seg.size() > 3) {
    respond(errorResponse(404, protocol::kErrNotFound, "no such connector"));
    return;
  }
  if (seg.size() == 3) {
    if (seg[2] != "pull") {
      respond(errorResponse(404, protocol::kErrNotFound, "no such endpoint"));
    } else if (req.method != "POST") {
      respond(errorResponse(405, protocol::kErrBadRequest, "use POST"));
    } else {
      startPull(std::move(respond), tenant_id);
    }
    return;
  }
  if (req.method == "PUT") {
    handlePut(req, respond, tenant_id);
  } else if (req.method == "GET") {
    handleGet(respond, tenant_id);
  } else if (req.method == "DELETE") {
    handleDelete(respond, tenant_id);
  } else {
    respond(errorResponse(405, protocol::kErrBadRequest, "use GET, PUT or DELETE"));
  }
}

void ConnectorService::handlePut(const HttpServerRequest& req, Responder& respond,
                                 const std::string& tenant_id) {
  boost::system::error_code ec;
  bj::value v = bj::parse(req.body, ec);
  if (ec || !v.is_object()) {
    respond(errorResponse(400, protocol::kErrBadRequest, "the body must be a JSON object"));
    return;
  }
  const bj::object& body = v.get_object();
  auto config = parseBambooHrConfig(body);
  if (!config.isOk()) {
    respond(errorResponse(400, protocol::kErrBadRequest, config.status().message()));
    return;
  }
  std::string api_key;
  if (auto it = body.find("api_key"); it != body.end() && !it->value().is_null()) {
    if (!it->value().is_string() || it->value().get_string().empty()) {
      respond(errorResponse(400, protocol::kErrBadRequest, "api_key must be a non-empty string"));
      return;
    }
    api_key = std::string(it->value().get_string());
  }
  SecretBox* box = secrets_;
  if (box == nullptr) {
    respond(errorResponse(503, protocol::kErrUnavailable,
                          "secret storage is not configured on this control plane"));
    return;
  }
  std::string sealed;
  if (!api_key.empty()) {
    auto s = box->seal(tenant_id, kSecretContext, api_key);
    if (!s.isOk()) {
      respond(storeFailure(s.status()));
      return;
    }
    sealed = std::move(*s);
  } else {
    // Changing settings without resending the key keeps the stored one.
    auto existing = load(tenant_id);
    if (!existing.isOk()) {
      respond(storeFailure(existing.status()));
      return;
    }
    if (!existing->has_value()) {
      respond(errorResponse(400, protocol::kErrBadRequest, "api_key is required"));
      return;
    }
    sealed = (*existing)->sealed_api_key;
  }
  auto store = tenants_.forTenant(tenant_id);
  if (!store.isOk()) {
    respond(storeFailure(store.status()));
    return;
  }
  const std::string settings = bj::serialize(toJson(*config));
  Status st = (*store)->connectors().saveConfig(kKind, settings, sealed);
  if (!st.isOk()) {
    respond(storeFailure(st));
    return;
  }
  spdlog::info("tenant {}: bamboohr connector configured (domain {}, mode {})", tenant_id,
               config->company_domain, modeName(config->mode));
  bj::object out = toJson(*config);
  out["api_key_set"] = true;
  respond(jsonResponse(200, out));
}

void ConnectorService::handleGet(Responder& respond, const std::string& tenant_id) {
  auto stored = load(tenant_id);
  if (!stored.isOk()) {
    respond(storeFailure(stored.status()));
    return;
  }
  if (!stored->has_value()) {
    respond(errorResponse(404, protocol::kErrNotFound, "no bamboohr connector configured"));
    return;
  }
  auto state = pullState(tenant_id);
  if (!state.isOk()) {
    respond(storeFailure(state.status()));
    return;
  }
  bj::object out = toJson((*stored)->config);
  out["api_key_set"] = true;
  out["last_pull"] = toJson(*state);
  respond(jsonResponse(200, out));
}

void ConnectorService::handleDelete(Responder& respond, const std::string& tenant_id) {
  auto store = tenants_.forTenant(tenant_id);
  if (!store.isOk()) {
    respond(storeFailure(store.status()));
    return;
  }
  auto removed = (*store)->connectors().removeConnector(kKind);
  if (!removed.isOk()) {
    respond(storeFailure(removed.status()));
    return;
  }
  if (!*removed) {
    respond(errorResponse(404, protocol::kErrNotFound, "no bamboohr connector configured"));
    return;
  }
  // No connector, no failing feed.
  tickets_.clear(tenant_id, "hr_feed", kKind);
  respond(jsonResponse(200, bj::object{{"deleted", true}}));
}

void ConnectorService::pullInBackground(const std::string& tenant_id) {
  startPull(
      [tenant_id](HttpServerResponse r) {
        spdlog::info("tenant {}: scheduled BambooHR pull answered {}", tenant_id, r.status);
      },
      tenant_id);
}

void ConnectorService::startPull(Responder respond, const std::string& tenant_id) {
  std::lock_guard lock(mu_);
  if (stopping_) {
    respond(errorResponse(503, protocol::kErrUnavailable, "shutting down"));
    return;
  }
  // Finished workers are joined here, so the list holds only pulls still running.
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::thread t([this, respond = std::move(respond), tenant_id, done]() mutable {
    PullOutcome out = pull(tenant_id);
    respond(jsonResponse(out.http_status, out.body));
    done->store(true);
  });
  workers_.push_back(Worker{std::move(t), std::move(done)});
}

void ConnectorService::failed(const std::string& tenant_id, PullState& state, const Status& st) {
  state.status = "failed";
  state.finished_at_ms = clock_.nowUnixMillis();
  state.last_error = st.message();
  spdlog::warn("tenant {}: bamboohr pull failed: {}", tenant_id, st.toString());
  if (Status s = saveState(tenant_id, state); !s.isOk()) {
    spdlog::error("tenant {}: cannot record the pull state: {}", tenant_id, s.toString());
  }
  tickets_.raise(Detection{tenant_id, "hr_feed", kKind,
                                     "BambooHR pull failed: " + st.message(), hintFor(st)});
}

PullOutcome ConnectorService::pull(const std::string& tenant_id) {
  PullOutcome out;
  auto fail = [&](int http, const Status& st) {
    out.status = st;
    out.http_status = http;
    out.body = protocol::toJson(protocol::ErrorBody{http == 404   ? protocol::kErrNotFound
                                                    : http == 409 ? "conflict"
                                                    : http >= 500 && http != 502
                                                        ? protocol::kErrInternal
                                                        : "hr_source_failed",
                                                    st.message()})
                   .as_object();
    return out;
  };

  auto stored = load(tenant_id);
  if (!stored.isOk()) return fail(500, stored.status());
  if (!stored->has_value()) return fail(404, notFoundError("no bamboohr connector configured"));
  {
    std::lock_guard lock(mu_);
    if (!pulling_.insert(tenant_id).second) {
      return fail(409, conflictError("a pull of this connector is already running"));
    }
  }
  struct Release {
    ConnectorService* self;
    const std::string& tenant;
    ~Release() {
      std::lock_guard lock(self->mu_);
      self->pulling_.erase(tenant);
    }
  } release{this, tenant_id};

  const BambooHrConfig& config = (*stored)->config;
  auto previous = pullState(tenant_id);
  PullState state;
  if (previous.isOk()) state.last_success_at_ms = previous->last_success_at_ms;
  state.status = "running";
  state.started_at_ms = clock_.nowUnixMillis();
  (void)saveState(tenant_id, state);

  SecretBox* box = secrets_;
  if (box == nullptr) {
    Status st = configError("secret storage is not configured on this control plane");
    failed(tenant_id, state, st);
    return fail(503, st);
  }
  auto api_key = box->open(tenant_id, kSecretContext, (*stored)->sealed_api_key);
  if (!api_key.isOk()) {
    Status st = configError("the stored API key cannot be opened; set it again");
    failed(tenant_id, state, st);
    return fail(500, st);
  }

  HttpJsonOptions http = options_.http;
  http.timeout = std::chrono::seconds(config.timeout_s);
  HttpJsonClient client(http_, http, options_.sleeper);
  auto fetched = fetchBambooHrEmployees(client, config, *api_key);
  if (!fetched.isOk()) {
    failed(tenant_id, state, fetched.status());
    return fail(httpStatusOf(fetched.status()), fetched.status());
  }
  state.pages = fetched->pages;
  state.records = static_cast<int>(fetched->employees.size());
  if (fetched->employees.empty()) {
    // An HR system with nobody in it is a broken feed (wrong report, lost permission), not a
    // reason to treat everybody as gone.
    Status st = dataError("BambooHR returned no employees");
    failed(tenant_id, state, st);
    return fail(502, st);
  }

  hr::BatchValidator validator;
  int row = 0;
  for (const bj::object& employee : fetched->employees) {
    ++row;
    auto record = config.mapping.map(employee);
    if (!record.isOk()) {
      validator.reject(hr::RowError{row, "", "", hr::rowReason(row, "", record.status().message())});
      continue;
    }
    validator.addRecord(row, std::move(*record));
  }
  hr::ParsedBatch batch = std::move(validator).finish();
  Submission sub;
  sub.source = kKind;
  sub.priority = options_.submit_priority;
  SubmitResult submitted = submissionAnswer(intake_.submit(tenant_id, std::move(batch), sub));
  state.rejected = static_cast<int>(submitted.rejected.size());
  if (submitted.http_status != 202) {
    // Every row refused, or the store failed: the feed did not deliver a usable HR state.
    Status st = submitted.status.isOk() ? internalError("submission failed") : submitted.status;
    failed(tenant_id, state, st.withContext("submitting the pulled records"));
    out.status = st;
    out.http_status = submitted.http_status;
    out.body = std::move(submitted.body);
    return out;
  }
  state.status = "succeeded";
  state.run_id = submitted.run_id;
  state.finished_at_ms = clock_.nowUnixMillis();
  state.last_success_at_ms = state.finished_at_ms;
  if (Status s = saveState(tenant_id, state); !s.isOk()) {
    spdlog::error("tenant {}: cannot record the pull state: {}", tenant_id, s.toString());
  }
  tickets_.clear(tenant_id, "hr_feed", kKind);
  spdlog::info("tenant {}: bamboohr pull: {} employees in {} pages, run {}, {} rejected", tenant_id,
               state.records, state.pages, state.run_id, state.rejected);
  out.run_id = submitted.run_id;
  out.http_status = 202;
  out.body = std::move(submitted.body);
  out.body["records"] = state.records;
  out.body["pages"] = state.pages;
  return out;
}

Status ConnectorService::pullNow(const std::string& tenant_id) { return pull(tenant_id).status; }

}  // namespace tenure::cp::connectors
