#pragma once
// ControlPlaneApi: the HTTP API of the control plane — one route table (routes.cpp lists every
// endpoint with its authentication kind), the authentication step over the control store, and the
// access audit log of what tenants, operators and agents read or changed. HttpServer hands it
// every request; the domain components it routes to never see an unauthenticated one.

#include <memory>
#include <vector>

#include "common/base/clock.h"
#include "controlplane/api/route_table.h"
#include "controlplane/api/store_authenticator.h"
#include "controlplane/audit/access_log.h"
#include "controlplane/store/control_store.h"
#include "controlplane/store/tenant_store.h"

namespace tenure::cp {

class ControlPlaneService;
class TicketApi;
class ReportDigestService;
namespace connectors {
class ConnectorService;
}
namespace scim {
class ScimEndpoint;
}

namespace api {

// What the API routes to. The optional components' routes are registered only when present
// (a test of one component builds the API without the others).
struct ApiComponents {
  ControlStore& control;
  TenantStores& tenants;
  const Clock& clock;
  ControlPlaneService& service;
  TicketApi* tickets = nullptr;                       // /api/v1/tickets, ticket-sinks, admin
  ReportDigestService* digests = nullptr;             // /api/v1/report-digest
  connectors::ConnectorService* connectors = nullptr;  // /api/v1/connectors
};

class ControlPlaneApi {
 public:
  explicit ControlPlaneApi(ApiComponents components);
  ~ControlPlaneApi();
  ControlPlaneApi(const ControlPlaneApi&) = delete;
  ControlPlaneApi& operator=(const ControlPlaneApi&) = delete;

  // Entry point for HttpServer.
  void handle(HttpServerRequest request, Responder respond) const;

  // Every route with its authentication kind (tests, `tenure-cp routes`).
  std::vector<RouteInfo> routes() const { return table_.routes(); }

 private:
  // routes.cpp: the one list of the control plane's endpoints.
  void registerRoutes();
  void add(const char* method, const char* pattern, AuthKind auth, Handler handler,
           std::optional<bool> audited = std::nullopt);

  ApiComponents c_;
  StoreAuthenticator authenticator_;
  AccessAuditLog audit_;
  std::unique_ptr<scim::ScimEndpoint> scim_;
  RouteTable table_;
};

}  // namespace api
}  // namespace tenure::cp
