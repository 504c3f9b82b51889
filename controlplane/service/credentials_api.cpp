// Credential rotation and agent revocation: the admin API's
// /admin/v1/tenants/{t}/{api-token,enroll-secret}/rotate and /agents/{a}/revoke, and the tenant
// API's /api/v1/api-token/rotate. See docs/operations/rotating-secrets.md.
//
// New plaintext secrets go only into the answer (never into a log line or the audit log, which
// records who called which path with which status).

#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/protocol/messages.h"
#include "controlplane/service/control_plane_service.h"
#include "controlplane/http/responses.h"

namespace tenure::cp {

namespace bj = boost::json;

namespace {

// 400 naming the field and the reason (field "" for the body as a whole).
HttpServerResponse badField(const std::string& field, const std::string& reason) {
  return jsonResponse(400, bj::object{{"error", protocol::kErrBadRequest},
                                      {"message", field.empty() ? reason : field + ": " + reason},
                                      {"field", field},
                                      {"reason", reason}});
}

// Rotation calls take no query parameters and at most the fields in `allowed` (an empty body is
// `{}`); a parameter meant for something else (a tenant id, a misspelt grace) is refused rather
// than ignored.
std::optional<bj::object> rotationBody(const HttpServerRequest& req,
                                       std::initializer_list<std::string_view> allowed,
                                       Responder& respond) {
  if (!req.query.empty()) {
    respond(badField(req.query.begin()->first, "unknown query parameter"));
    return std::nullopt;
  }
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return bj::object{};
  auto v = protocol::parseJsonText(req.body);
  if (!v.isOk()) {
    respond(badField("", v.status().message()));
    return std::nullopt;
  }
  if (!v->is_object()) {
    respond(badField("", "the body must be a JSON object"));
    return std::nullopt;
  }
  for (const auto& [key, value] : v->get_object()) {
    if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
      respond(badField(std::string(key), "unknown field"));
      return std::nullopt;
    }
  }
  return std::move(v->get_object());
}

// `grace_seconds` of a token rotation body: an integer 0..kMaxApiTokenGraceSeconds, 0 if absent.
std::optional<int64_t> graceSeconds(const bj::object& body, Responder& respond) {
  const bj::value* g = body.if_contains("grace_seconds");
  if (g == nullptr) return 0;
  const std::string range =
      "must be an integer from 0 to " + std::to_string(kMaxApiTokenGraceSeconds) + " (7 days)";
  std::optional<int64_t> n;
  if (g->is_int64()) n = g->get_int64();
  if (g->is_uint64() && g->get_uint64() <= static_cast<uint64_t>(kMaxApiTokenGraceSeconds)) {
    n = static_cast<int64_t>(g->get_uint64());
  }
  if (!n || *n < 0 || *n > kMaxApiTokenGraceSeconds) {
    respond(badField("grace_seconds", range));
    return std::nullopt;
  }
  return n;
}

bj::object rotatedTokenJson(const RotatedApiToken& r) {
  return bj::object{
      {"api_token", r.api_token},
      {"previous_valid_until", r.previous_valid_until_ms > 0
                                   ? bj::value(formatIso8601Utc(r.previous_valid_until_ms / 1000))
                                   : bj::value(nullptr)}};
}

}  // namespace

void ControlPlaneService::rotateApiTokenFor(const HttpServerRequest& req, Responder& respond,
                                            const std::string& tenant_id,
                                            const std::string& actor) {
  auto body = rotationBody(req, {"grace_seconds"}, respond);
  if (!body) return;
  auto grace = graceSeconds(*body, respond);
  if (!grace) return;
  auto rotated = control_.rotateApiToken(tenant_id, *grace);
  if (!rotated.isOk()) {
    if (rotated.status().errorClass() == ErrorClass::kNotFound) {
      respond(errorResponse(404, protocol::kErrNotFound, "no such tenant"));
    } else {
      respond(storeFailure(rotated.status()));
    }
    return;
  }
  spdlog::warn("tenant {}: API token rotated by {} (previous token {})", tenant_id, actor,
               *grace > 0 ? "valid for " + std::to_string(*grace) + " s more" : "refused now");
  respond(jsonResponse(200, rotatedTokenJson(*rotated)));
}

void ControlPlaneService::handleTenantRotateToken(const HttpServerRequest& req, Responder& respond,
                                                  const Tenant& tenant, const std::string& token) {
  if (req.method != "POST") {
    respond(errorResponse(405, protocol::kErrBadRequest, "use POST"));
    return;
  }
  // A token in its grace was replaced, perhaps because it leaked: it may still read and push,
  // but never mint the tenant a new token (that would lock out the holder of the current one).
  auto current = control_.tenantByApiToken(token, /*current_only=*/true);
  if (!current.isOk()) {
    respond(storeFailure(current.status()));
    return;
  }
  if (!current->has_value() || (*current)->tenant_id != tenant.tenant_id) {
    respond(errorResponse(403, "forbidden",
                          "this API token has been replaced; rotate with the current token"));
    return;
  }
  // Only the caller's own token: the tenant comes from the credential, as everywhere here.
  rotateApiTokenFor(req, respond, tenant.tenant_id, "tenant " + tenant.name);
}

void ControlPlaneService::handleAdminCredentials(const HttpServerRequest& req, Responder& respond,
                                                 const AdminToken& admin,
                                                 const std::vector<std::string>& seg) {
  const bool token = seg.size() == 4 && seg[2] == "api-token" && seg[3] == "rotate";
  const bool secret = seg.size() == 4 && seg[2] == "enroll-secret" && seg[3] == "rotate";
  const bool revoke = seg.size() == 5 && seg[2] == "agents" && seg[4] == "revoke";
  if (!token && !secret && !revoke) {
    respond(errorResponse(404, protocol::kErrNotFound, "no such endpoint"));
    return;
  }
  if (req.method != "POST") {
    respond(errorResponse(405, protocol::kErrBadRequest, "use POST"));
    return;
  }
  const std::string& tenant_id = seg[1];
  const std::string actor = "operator " + admin.name;
  if (token) {
    rotateApiTokenFor(req, respond, tenant_id, actor);
    return;
  }
  if (!rotationBody(req, {}, respond)) return;
  if (secret) {
    auto rotated = control_.rotateEnrollSecret(tenant_id);
    if (!rotated.isOk()) {
      respond(rotated.status().errorClass() == ErrorClass::kNotFound
                  ? errorResponse(404, protocol::kErrNotFound, "no such tenant")
                  : storeFailure(rotated.status()));
      return;
    }
    spdlog::warn("tenant {}: enroll secret rotated by {}", tenant_id, actor);
    respond(jsonResponse(200, bj::object{{"enroll_secret", *rotated}}));
    return;
  }
  const std::string& agent_id = seg[3];
  auto revoked = control_.revokeAgent(tenant_id, agent_id);
  if (!revoked.isOk()) {
    respond(revoked.status().errorClass() == ErrorClass::kNotFound
                ? errorResponse(404, protocol::kErrNotFound, "no such agent")
                : storeFailure(revoked.status()));
    return;
  }
  // Its held polls are answered now: a poll held open must not lease it another job.
  queue_.releaseRevoked(agent_id);
  if (*revoked) spdlog::warn("tenant {}: agent {} revoked by {}", tenant_id, agent_id, actor);
  respond(jsonResponse(200, bj::object{{"agent_id", agent_id}, {"revoked", true}}));
}

}  // namespace tenure::cp
