#pragma once
// RouteTable: every HTTP endpoint of the control plane, registered once with its method, path
// pattern and authentication kind (controlplane/api/routes.cpp holds the whole list). The table
// matches a request, authenticates it for the route's kind through the Authenticator seam, records
// it in the access audit log when the route is audited, and calls the route's handler with the
// principal and the path's parameters. A path that matches no route is a 404, one that matches
// with another method a 405 (after authentication, so neither tells an unauthenticated caller
// more than a 401 would).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/base/status.h"
#include "controlplane/http/http_server.h"
#include "controlplane/store/control_store.h"

namespace tenure::cp::api {

// How a route's caller proves who it is. kUnspecified is never valid in a table: it is what a
// route gets when its author forgot to say (tests/controlplane/api checks every route).
enum class AuthKind {
  kUnspecified,
  kNone,         // health check, agent enrollment (its secret is in the body)
  kNodeKey,      // Authorization: NodeKey <key> — an enrolled agent of one tenant
  kTenantToken,  // Authorization: Bearer <tenant API token> — one tenant's systems and people
  kAdminToken,   // Authorization: Bearer <admin token> — an operator, across tenants
};
std::string_view authKindName(AuthKind kind);

// The caller, as authentication established it. The tenant of a node key or tenant token is the
// only tenant its requests can reach: handlers never take it from the path, query or body.
struct Principal {
  AuthKind kind = AuthKind::kNone;
  Tenant tenant;          // kTenantToken (tenant_id alone for kNodeKey)
  AgentRecord agent;      // kNodeKey
  AdminToken admin;       // kAdminToken
  std::string credential;  // the secret presented (rotating one's own token checks it)

  const std::string& tenantId() const { return tenant.tenant_id; }
};

struct ApiRequest {
  HttpServerRequest http;
  Principal principal;
  std::vector<std::pair<std::string, std::string>> params;  // the pattern's {name} segments

  // The value of the pattern's {name} segment ("" when the pattern has none).
  const std::string& param(std::string_view name) const;
  // A query parameter, or `fallback`.
  std::string query(const std::string& name, const std::string& fallback = "") const;
};

using Handler = std::function<void(ApiRequest&, Responder)>;

// How a family of routes words its refusals: the protocol's {"error", "message"} body, or SCIM's.
struct ErrorStyle {
  std::function<HttpServerResponse(int status, const std::string& code, const std::string& message)>
      refuse;
  std::function<HttpServerResponse(const Status& store_failure)> store_failure;
};
// The protocol's error body (common/protocol) and storeFailure (responses.h).
ErrorStyle protocolErrors();

// Routes under one path prefix (e.g. "/api/v1"): the error style of their refusals, and the
// authentication that a request under the prefix matching no route gets before its 404.
struct Surface {
  std::string prefix;
  AuthKind auth = AuthKind::kUnspecified;
  ErrorStyle errors = protocolErrors();
};

struct Route {
  std::string method;   // "GET", "POST", ...
  std::string pattern;  // "/api/v1/runs/{run_id}/report.{format}" — {name} matches one segment
                        // (or the rest of one after a literal prefix, as in "report.{format}")
  AuthKind auth = AuthKind::kUnspecified;
  Handler handler;
  // Recorded in the access audit log (default: every route with a tenant or admin token).
  std::optional<bool> audited;
};

// What the listing test and `tenure-cp routes` see of a route.
struct RouteInfo {
  std::string method;
  std::string pattern;
  AuthKind auth;
  bool audited;
};

// Why authentication refused a request: a status with the protocol's error code, or a store
// failure (never reported as a bad credential: agents would re-enroll en masse).
struct AuthRefusal {
  int status = 401;
  std::string code;
  std::string message;
  Status store_failure;  // not ok: the lookup failed
};

// The authentication step: finds the principal behind a request's credential for a route's kind.
// The console adds session cookies and roles here.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual std::variant<Principal, AuthRefusal> authenticate(AuthKind kind,
                                                            const HttpServerRequest& request) = 0;
};

// Wraps the responder of an authenticated, audited request so that its answer is recorded.
using AuditRecorder =
    std::function<Responder(const ApiRequest& request, const RouteInfo& route, Responder respond)>;

class RouteTable {
 public:
  RouteTable(Authenticator& authenticator, AuditRecorder recorder);
  ~RouteTable();
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  void addSurface(Surface surface);
  // Registers a route. Refuses (kInternal) an unspecified authentication kind, a pattern that
  // does not start with '/', and a method and pattern registered before.
  Status add(Route route);

  // Entry point for HttpServer.
  void handle(HttpServerRequest request, Responder respond) const;

  // Every route, in registration order.
  std::vector<RouteInfo> routes() const;

 private:
  struct Compiled;
  const Surface* surfaceOf(const std::vector<std::string>& segments) const;

  Authenticator& authenticator_;
  AuditRecorder recorder_;
  std::vector<Surface> surfaces_;
  std::vector<std::unique_ptr<Compiled>> routes_;
};

}  // namespace tenure::cp::api
