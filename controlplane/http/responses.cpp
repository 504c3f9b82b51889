#include "controlplane/http/responses.h"

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>

#include "common/protocol/messages.h"

namespace tenure::cp {

HttpServerResponse jsonResponse(int status, const boost::json::value& v) {
  HttpServerResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = boost::json::serialize(v);
  return r;
}

HttpServerResponse errorResponse(int status, const std::string& code, const std::string& message) {
  return jsonResponse(status, protocol::toJson(protocol::ErrorBody{code, message}));
}

HttpServerResponse storeFailure(const Status& st) {
  spdlog::error("store failure: {}", st.toString());
  if (st.errorClass() == ErrorClass::kTransient) {
    return errorResponse(503, protocol::kErrUnavailable, "temporarily unavailable, retry");
  }
  return errorResponse(500, protocol::kErrInternal, "internal error");
}

}  // namespace tenure::cp
