#pragma once
// HTTP answers for the audit endpoints; the service authenticates and routes, these read.
//   GET /api/v1/identities/{employee_id}[?as_of=T]   the identity at T (default: now)
//   GET /api/v1/identities/{employee_id}/events      its events, paged (?after=ID&limit=N)
//   GET /api/v1/audit, GET /admin/v1/audit[?tenant=] an access chain, paged (?after=ID&limit=N)

#include <map>
#include <string>

#include "controlplane/audit/access_log.h"
#include "controlplane/http/http_server.h"
#include "controlplane/store/tenant_store.h"

namespace tenure::cp {

HttpServerResponse identityResponse(TenantStore& store, const std::string& employee_id,
                                    const std::map<std::string, std::string>& query,
                                    int64_t now_ms);
HttpServerResponse identityEventsResponse(TenantStore& store, const std::string& employee_id,
                                          const std::map<std::string, std::string>& query);
// `tenant_id` "" reads the control chain.
HttpServerResponse accessLogResponse(AccessAuditLog& log, const std::string& tenant_id,
                                     const std::map<std::string, std::string>& query);

}  // namespace tenure::cp
