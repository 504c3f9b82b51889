#include "controlplane/api/control_plane_api.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "controlplane/scim/scim_endpoint.h"
#include "controlplane/service/control_plane_service.h"

namespace tenure::cp::api {

namespace {

// Who the access audit log names for a request, by its authentication kind. Operators' access to
// one tenant's data goes to that tenant's chain (the tenant in the path, or the one whose audit log
// they read), the rest to the control chain.
AccessEntry describe(const ApiRequest& r, const RouteInfo& route) {
  const Principal& p = r.principal;
  switch (route.auth) {
    case AuthKind::kNodeKey:
      return AccessAuditLog::describe(r.http, "agent", p.agent.agent_id, p.agent.tenant_id);
    case AuthKind::kAdminToken: {
      std::string about = r.param("tenant_id");
      if (about.empty() && route.pattern == "/admin/v1/audit") about = r.query("tenant");
      return AccessAuditLog::describe(r.http, "operator", p.admin.name, about);
    }
    default:
      return AccessAuditLog::describe(r.http, "tenant_token", p.tenant.name, p.tenant.tenant_id);
  }
}

}  // namespace

ControlPlaneApi::ControlPlaneApi(ApiComponents components)
    : c_(components),
      authenticator_(c_.control),
      audit_(c_.control, c_.tenants, c_.clock),
      table_(authenticator_, [this](const ApiRequest& r, const RouteInfo& route, Responder w) {
        return audit_.recording(describe(r, route), std::move(w));
      }) {
  // SCIM writes are HR pushes: real-time runs through the same intake as an upload.
  Intake& intake = c_.service.intake();
  scim_ = std::make_unique<scim::ScimEndpoint>(
      c_.control, c_.tenants, c_.clock, [&intake](const std::string& tenant_id, hr::ParsedBatch batch) {
        Submission sub;
        sub.source = "scim";
        sub.priority = 10;
        IntakeResult r = intake.submit(tenant_id, std::move(batch), sub);
        scim::HrSubmission out{submissionHttpStatus(r), r.run_id, {}, {}};
        for (const auto& row : r.rejected) {
          out.reasons.push_back(row.reason);
          out.fields.push_back(row.field);
        }
        if (out.reasons.empty() && !r.status.isOk()) out.reasons.push_back(r.status.message());
        return out;
      });
  registerRoutes();
}

ControlPlaneApi::~ControlPlaneApi() = default;

void ControlPlaneApi::handle(HttpServerRequest request, Responder respond) const {
  table_.handle(std::move(request), std::move(respond));
}

void ControlPlaneApi::add(const char* method, const char* pattern, AuthKind auth, Handler handler,
                          std::optional<bool> audited) {
  Status st = table_.add(Route{method, pattern, auth, std::move(handler), audited});
  if (!st.isOk()) {
    // A route table that does not say who may call what must never serve.
    spdlog::critical("route table: {}", st.toString());
    std::abort();
  }
}

}  // namespace tenure::cp::api
