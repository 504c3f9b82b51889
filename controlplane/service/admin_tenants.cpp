// Admin API: tenant deletion.

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "common/protocol/messages.h"
#include "controlplane/service/control_plane_service.h"

namespace tenure::cp {

namespace bj = boost::json;

void ControlPlaneService::handleAdminDeleteTenant(Responder& respond, const AdminToken& admin,
                                                  const std::string& tenant_id) {
  auto json = [](int status, const bj::value& v) {
    HttpServerResponse r;
    r.status = status;
    r.content_type = "application/json";
    r.body = bj::serialize(v);
    return r;
  };
  auto deleted = deleteTenant(tenant_id, control_, tenants_, secrets_, nullptr, deletion_hooks_);
  if (!deleted.isOk()) {
    const Status& st = deleted.status();
    if (st.errorClass() == ErrorClass::kNotFound) {
      respond(json(
          404, protocol::toJson(protocol::ErrorBody{protocol::kErrNotFound, "no such tenant"})));
    } else {
      spdlog::error("deleting tenant {}: {}", tenant_id, st.toString());
      respond(json(500, protocol::toJson(protocol::ErrorBody{
                            protocol::kErrInternal, "tenant deletion did not finish; retry"})));
    }
    return;
  }
  // Held polls of the tenant's agents are answered now (empty); their next call is node_invalid.
  queue_.releaseTenant(tenant_id);
  spdlog::warn("tenant {} deleted by {}", tenant_id, admin.name);
  respond(json(200, bj::object{{"tenant_id", tenant_id},
                               {"deleted", true},
                               {"store_removed", deleted->store_existed}}));
}

}  // namespace tenure::cp
