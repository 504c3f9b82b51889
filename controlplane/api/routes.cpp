// Every endpoint of the control plane, one line each: method, path pattern, authentication kind
// and handler. A new endpoint is added here and nowhere else; tests/controlplane/api lists the
// table and fails on a route without an authentication kind, and the cross-tenant isolation test
// (tests/integration/isolation_test.cpp) fails on a route without an isolation row.

#include <boost/json.hpp>

#include "common/protocol/messages.h"
#include "controlplane/api/control_plane_api.h"
#include "controlplane/audit/audit_api.h"
#include "controlplane/connectors/connector_service.h"
#include "controlplane/digest/report_digest.h"
#include "controlplane/http/responses.h"
#include "controlplane/reports/run_report.h"
#include "controlplane/scim/scim_endpoint.h"
#include "controlplane/service/control_plane_service.h"
#include "controlplane/tickets/ticket_api.h"

namespace tenure::cp::api {

namespace {

// The path's segments after the surface's prefix ("/api/v1" -> 2): what the handlers written
// before the route table still take.
std::vector<std::string> after(const ApiRequest& r, size_t prefix_segments) {
  std::vector<std::string> seg = pathSegments(r.http.path);
  seg.erase(seg.begin(), seg.begin() + static_cast<std::ptrdiff_t>(
                                           std::min(prefix_segments, seg.size())));
  return seg;
}

bool download(const ApiRequest& r) { return r.query("download", "0") != "0"; }

// Answers with the tenant's store, or with the store failure.
template <typename F>
void withStore(TenantStores& tenants, const std::string& tenant_id, Responder& respond, F f) {
  auto store = tenants.forTenant(tenant_id);
  if (!store.isOk()) {
    respond(storeFailure(store.status()));
    return;
  }
  f(**store);
}

// True when the tenant exists; otherwise answers 404 (or the store failure).
bool knownTenant(ControlStore& control, const std::string& tenant_id, Responder& respond) {
  auto tenant = control.tenantById(tenant_id);
  if (!tenant.isOk()) {
    respond(storeFailure(tenant.status()));
    return false;
  }
  if (!tenant->has_value()) {
    respond(errorResponse(404, protocol::kErrNotFound, "no such tenant"));
    return false;
  }
  return true;
}

ErrorStyle scimErrors() {
  return ErrorStyle{[](int status, const std::string&, const std::string& message) {
                      return scim::scimError({status, "", message});
                    },
                    [](const Status& st) { return scim::scimError(scim::storeError(st)); }};
}

}  // namespace

void ControlPlaneApi::registerRoutes() {
  using A = AuthKind;
  using R = ApiRequest;
  using W = Responder;
  ControlPlaneService& svc = c_.service;
  TenantStores& tenants = c_.tenants;
  ControlStore& control = c_.control;
  AccessAuditLog& audit = audit_;

  table_.addSurface({"/agent/v1", A::kNodeKey});
  table_.addSurface({"/api/v1", A::kTenantToken});
  table_.addSurface({"/admin/v1", A::kAdminToken});
  table_.addSurface({"/scim/v2", A::kTenantToken, scimErrors()});

  add("GET", "/healthz", A::kNone, [](R&, W w) { w(jsonResponse(200, boost::json::object{{"status", "ok"}})); });

  // Agent API (docs/protocol.md). An agent's reports of what it did are audited; polls are not.
  add("POST", "/agent/v1/enroll", A::kNone, [&](R& r, W w) { svc.handleEnroll(r.http, w); });
  add("POST", "/agent/v1/poll", A::kNodeKey, [&](R& r, W w) { svc.handlePoll(r.http, std::move(w), r.principal.agent); });
  add("POST", "/agent/v1/jobs/{job_id}/progress", A::kNodeKey, [&](R& r, W w) { svc.handleProgress(w, r.principal.agent, r.param("job_id")); });
  add("POST", "/agent/v1/jobs/{job_id}/plan", A::kNodeKey, [&](R& r, W w) { svc.handlePlan(r.http, w, r.principal.agent, r.param("job_id")); }, true);
  add("POST", "/agent/v1/jobs/{job_id}/result", A::kNodeKey, [&](R& r, W w) { svc.handleResult(r.http, w, r.principal.agent, r.param("job_id")); }, true);

  // Tenant API: HR input, runs and reports, identities, policy.
  add("POST", "/api/v1/hr/records", A::kTenantToken, [&](R& r, W w) { svc.handleUpload(r.http, w, r.principal.tenant); });
  add("GET", "/api/v1/runs", A::kTenantToken, [&](R& r, W w) { svc.handleListRuns(w, r.principal.tenant); });
  add("GET", "/api/v1/runs/{run_id}", A::kTenantToken, [&](R& r, W w) { svc.handleGetRun(w, r.principal.tenant, r.param("run_id")); });
  add("GET", "/api/v1/runs/{run_id}/report.{format}", A::kTenantToken, [&](R& r, W w) { withStore(tenants, r.principal.tenantId(), w, [&](TenantStore& s) { w(runReportResponse(s, r.param("run_id"), r.param("format"), download(r))); }); });
  add("GET", "/api/v1/identities/{employee_id}", A::kTenantToken, [&](R& r, W w) { withStore(tenants, r.principal.tenantId(), w, [&](TenantStore& s) { w(identityResponse(s, r.param("employee_id"), r.http.query, c_.clock.nowUnixMillis())); }); });
  add("GET", "/api/v1/identities/{employee_id}/events", A::kTenantToken, [&](R& r, W w) { withStore(tenants, r.principal.tenantId(), w, [&](TenantStore& s) { w(identityEventsResponse(s, r.param("employee_id"), r.http.query)); }); });
  add("GET", "/api/v1/audit", A::kTenantToken, [&](R& r, W w) { w(accessLogResponse(audit, r.principal.tenantId(), r.http.query)); });
  add("GET", "/api/v1/policy", A::kTenantToken, [&](R& r, W w) { svc.handlePolicyApi(r.http, w, r.principal.tenant, after(r, 2)); });
  add("PUT", "/api/v1/policy", A::kTenantToken, [&](R& r, W w) { svc.handlePolicyApi(r.http, w, r.principal.tenant, after(r, 2)); });
  add("POST", "/api/v1/policy/validate", A::kTenantToken, [&](R& r, W w) { svc.handlePolicyApi(r.http, w, r.principal.tenant, after(r, 2)); });
  add("GET", "/api/v1/policy/versions", A::kTenantToken, [&](R& r, W w) { svc.handlePolicyApi(r.http, w, r.principal.tenant, after(r, 2)); });
  add("GET", "/api/v1/policy/versions/{version}", A::kTenantToken, [&](R& r, W w) { svc.handlePolicyApi(r.http, w, r.principal.tenant, after(r, 2)); });
  // Tenant API: schedules, agents, the tenant's own credential.
  add("GET", "/api/v1/schedules", A::kTenantToken, [&](R& r, W w) { svc.handleSchedulesApi(r.http, w, r.principal.tenant, after(r, 2)); });
  add("POST", "/api/v1/schedules", A::kTenantToken, [&](R& r, W w) { svc.handleSchedulesApi(r.http, w, r.principal.tenant, after(r, 2)); });
  add("GET", "/api/v1/schedules/{schedule_id}", A::kTenantToken, [&](R& r, W w) { svc.handleSchedulesApi(r.http, w, r.principal.tenant, after(r, 2)); });
  add("PUT", "/api/v1/schedules/{schedule_id}", A::kTenantToken, [&](R& r, W w) { svc.handleSchedulesApi(r.http, w, r.principal.tenant, after(r, 2)); });
  add("DELETE", "/api/v1/schedules/{schedule_id}", A::kTenantToken, [&](R& r, W w) { svc.handleSchedulesApi(r.http, w, r.principal.tenant, after(r, 2)); });
  add("GET", "/api/v1/agents", A::kTenantToken, [&](R& r, W w) { svc.handleAgentsList(w, r.principal.tenantId()); });
  add("POST", "/api/v1/api-token/rotate", A::kTenantToken, [&](R& r, W w) { svc.handleTenantRotateToken(r.http, w, r.principal.tenant, r.principal.credential); });

  // Tenant API: tickets and their sinks.
  if (TicketApi* t = c_.tickets) {
    add("GET", "/api/v1/tickets", A::kTenantToken, [t](R& r, W w) { w(t->handleTenantRequest(r.principal.tenantId(), r.http, after(r, 2))); });
    add("GET", "/api/v1/tickets/{ticket_id}", A::kTenantToken, [t](R& r, W w) { w(t->handleTenantRequest(r.principal.tenantId(), r.http, after(r, 2))); });
    add("GET", "/api/v1/ticket-sinks", A::kTenantToken, [t](R& r, W w) { w(t->handleTenantRequest(r.principal.tenantId(), r.http, after(r, 2))); });
    add("PUT", "/api/v1/ticket-sinks", A::kTenantToken, [t](R& r, W w) { w(t->handleTenantRequest(r.principal.tenantId(), r.http, after(r, 2))); });
  }
  // Tenant API: the report digest.
  if (ReportDigestService* d = c_.digests) {
    add("GET", "/api/v1/report-digest", A::kTenantToken, [d](R& r, W w) { w(d->handle(r.principal.tenantId(), r.http, after(r, 2))); });
    add("PUT", "/api/v1/report-digest", A::kTenantToken, [d](R& r, W w) { w(d->handle(r.principal.tenantId(), r.http, after(r, 2))); });
    add("DELETE", "/api/v1/report-digest", A::kTenantToken, [d](R& r, W w) { w(d->handle(r.principal.tenantId(), r.http, after(r, 2))); });
    add("POST", "/api/v1/report-digest/send", A::kTenantToken, [d](R& r, W w) { w(d->handle(r.principal.tenantId(), r.http, after(r, 2))); });
    add("GET", "/api/v1/report-digest/digests", A::kTenantToken, [d](R& r, W w) { w(d->handle(r.principal.tenantId(), r.http, after(r, 2))); });
    add("GET", "/api/v1/report-digest/preview", A::kTenantToken, [d](R& r, W w) { w(d->handle(r.principal.tenantId(), r.http, after(r, 2))); });
  }
  // Tenant API: the HR pull connector.
  if (connectors::ConnectorService* k = c_.connectors) {
    add("GET", "/api/v1/connectors/{kind}", A::kTenantToken, [k](R& r, W w) { k->handle(r.http, std::move(w), r.principal.tenantId(), after(r, 2)); });
    add("PUT", "/api/v1/connectors/{kind}", A::kTenantToken, [k](R& r, W w) { k->handle(r.http, std::move(w), r.principal.tenantId(), after(r, 2)); });
    add("DELETE", "/api/v1/connectors/{kind}", A::kTenantToken, [k](R& r, W w) { k->handle(r.http, std::move(w), r.principal.tenantId(), after(r, 2)); });
    add("POST", "/api/v1/connectors/{kind}/pull", A::kTenantToken, [k](R& r, W w) { k->handle(r.http, std::move(w), r.principal.tenantId(), after(r, 2)); });
  }

  // SCIM 2.0 (docs/scim.md): HR pushes with the tenant API token; SCIM's own error bodies.
  scim::ScimEndpoint& scim = *scim_;
  auto scimRoute = [&scim](R& r, W w) { scim.handle(r.http, r.principal.tenantId(), w); };
  add("GET", "/scim/v2/ServiceProviderConfig", A::kTenantToken, scimRoute);
  add("GET", "/scim/v2/Schemas", A::kTenantToken, scimRoute);
  add("GET", "/scim/v2/Schemas/{schema_id}", A::kTenantToken, scimRoute);
  add("GET", "/scim/v2/ResourceTypes", A::kTenantToken, scimRoute);
  add("GET", "/scim/v2/ResourceTypes/{type}", A::kTenantToken, scimRoute);
  add("GET", "/scim/v2/Users", A::kTenantToken, scimRoute);
  add("POST", "/scim/v2/Users", A::kTenantToken, scimRoute);
  add("GET", "/scim/v2/Users/{user_id}", A::kTenantToken, scimRoute);
  add("PUT", "/scim/v2/Users/{user_id}", A::kTenantToken, scimRoute);
  add("PATCH", "/scim/v2/Users/{user_id}", A::kTenantToken, scimRoute);
  add("DELETE", "/scim/v2/Users/{user_id}", A::kTenantToken, scimRoute);
  add("POST", "/scim/v2/Bulk", A::kTenantToken, scimRoute);

  // Admin API (operators, across tenants).
  add("GET", "/admin/v1/agents", A::kAdminToken, [&](R&, W w) { svc.handleAgentsList(w, ""); });
  add("GET", "/admin/v1/audit", A::kAdminToken, [&](R& r, W w) { const std::string t = r.query("tenant"); if (t.empty() || knownTenant(control, t, w)) w(accessLogResponse(audit, t, r.http.query)); });
  add("GET", "/admin/v1/runs", A::kAdminToken, [&](R& r, W w) { svc.handleAdminListRuns(r.http, w); });
  add("DELETE", "/admin/v1/tenants/{tenant_id}", A::kAdminToken, [&](R& r, W w) { svc.handleAdminDeleteTenant(w, r.principal.admin, r.param("tenant_id")); });
  add("GET", "/admin/v1/tenants/{tenant_id}/runs/{run_id}", A::kAdminToken, [&](R& r, W w) { svc.handleAdminGetRun(w, r.param("tenant_id"), r.param("run_id")); });
  add("GET", "/admin/v1/tenants/{tenant_id}/runs/{run_id}/report.{format}", A::kAdminToken, [&](R& r, W w) { if (knownTenant(control, r.param("tenant_id"), w)) withStore(tenants, r.param("tenant_id"), w, [&](TenantStore& s) { w(runReportResponse(s, r.param("run_id"), r.param("format"), download(r))); }); });
  add("POST", "/admin/v1/tenants/{tenant_id}/runs/{run_id}/approve", A::kAdminToken, [&](R& r, W w) { svc.handleAdminDecision(w, r.principal.admin, r.param("tenant_id"), r.param("run_id"), true); });
  add("POST", "/admin/v1/tenants/{tenant_id}/runs/{run_id}/reject", A::kAdminToken, [&](R& r, W w) { svc.handleAdminDecision(w, r.principal.admin, r.param("tenant_id"), r.param("run_id"), false); });
  add("POST", "/admin/v1/tenants/{tenant_id}/api-token/rotate", A::kAdminToken, [&](R& r, W w) { svc.handleAdminCredentials(r.http, w, r.principal.admin, after(r, 2)); });
  add("POST", "/admin/v1/tenants/{tenant_id}/enroll-secret/rotate", A::kAdminToken, [&](R& r, W w) { svc.handleAdminCredentials(r.http, w, r.principal.admin, after(r, 2)); });
  add("POST", "/admin/v1/tenants/{tenant_id}/agents/{agent_id}/revoke", A::kAdminToken, [&](R& r, W w) { svc.handleAdminCredentials(r.http, w, r.principal.admin, after(r, 2)); });
  if (TicketApi* t = c_.tickets) {
    add("GET", "/admin/v1/tickets", A::kAdminToken, [t](R& r, W w) { w(t->handleAdminRequest(r.principal.admin.name, r.http, after(r, 2))); });
    add("GET", "/admin/v1/tenants/{tenant_id}/tickets/{ticket_id}", A::kAdminToken, [t](R& r, W w) { w(t->handleAdminRequest(r.principal.admin.name, r.http, after(r, 2))); });
    add("POST", "/admin/v1/tenants/{tenant_id}/tickets/{ticket_id}/acknowledge", A::kAdminToken, [t](R& r, W w) { w(t->handleAdminRequest(r.principal.admin.name, r.http, after(r, 2))); });
    add("POST", "/admin/v1/tenants/{tenant_id}/tickets/{ticket_id}/resolve", A::kAdminToken, [t](R& r, W w) { w(t->handleAdminRequest(r.principal.admin.name, r.http, after(r, 2))); });
  }
}

}  // namespace tenure::cp::api
