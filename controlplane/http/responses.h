#pragma once
// JSON answers shared by the service's API files (tenant, agent, admin, schedules, credentials),
// so every route shapes a body, an error and a store failure the same way.

#include <boost/json/value.hpp>

#include <string>

#include "common/base/status.h"
#include "controlplane/http/http_server.h"

namespace tenure::cp {

// `v` serialized as an application/json answer with `status`.
HttpServerResponse jsonResponse(int status, const boost::json::value& v);

// The protocol's error body {"error": code, "message": message}.
HttpServerResponse errorResponse(int status, const std::string& code, const std::string& message);

// HTTP status for a store failure: transient faults are 503 so clients retry (never
// node_invalid); anything else is a logged 500 with no detail.
HttpServerResponse storeFailure(const Status& st);

}  // namespace tenure::cp
