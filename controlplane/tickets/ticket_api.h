#pragma once
// The ticket system's HTTP surfaces. ControlPlaneService authenticates the request (the tenant
// from its token, the operator from the admin token) and hands the rest over; the tenant is
// never taken from the request itself.

#include <string>
#include <vector>

#include "controlplane/http/http_server.h"

namespace tenure::cp {

class TicketApi {
 public:
  virtual ~TicketApi() = default;
  // /api/v1/tickets[/{id}] and /api/v1/ticket-sinks; `seg` is the path after /api/v1/.
  virtual HttpServerResponse handleTenantRequest(const std::string& tenant_id,
                                                 const HttpServerRequest& req,
                                                 const std::vector<std::string>& seg) = 0;
  // /admin/v1/tickets and /admin/v1/tenants/{t}/tickets/{id}/(acknowledge|resolve); `seg` is the
  // path after /admin/v1/; `admin` is the operator's token name (recorded on actions).
  virtual HttpServerResponse handleAdminRequest(const std::string& admin,
                                                const HttpServerRequest& req,
                                                const std::vector<std::string>& seg) = 0;
};

}  // namespace tenure::cp
