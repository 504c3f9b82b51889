#pragma once
// ScimEndpoint: SCIM 2.0 inbound (RFC 7643/7644) under /scim/v2 — Users (with the enterprise and
// tenure extensions), Bulk and the discovery endpoints. The tenant comes from the Bearer tenant
// API token, never from the request. Every write becomes one HR record submitted through the
// control plane's normal path (validation, run, real-time job); a record that is refused answers
// 400 with the reason and stores nothing. The response names the run in `X-Tenure-Run-Id`.
// See docs/scim.md.

#include <boost/json/object.hpp>

#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/hr/validation.h"
#include "controlplane/http/http_server.h"
#include "controlplane/scim/scim_user.h"
#include "controlplane/store/control_store.h"
#include "controlplane/store/scim_user_store.h"
#include "controlplane/store/tenant_store.h"

namespace tenure::cp::scim {

struct ScimOptions {
  size_t max_operations = 1000;         // per Bulk request
  size_t max_payload_bytes = 1u << 20;  // per request body (Bulk and single writes)
  size_t max_results = 200;             // per listing page
};

// What became of one submitted HR record (the control plane's SubmitResult, reduced).
struct HrSubmission {
  int http_status = 202;             // 202 queued; 4xx refused; 5xx store failure
  std::string run_id;                // set when queued
  std::vector<std::string> reasons;  // why the record was refused
  std::vector<std::string> fields;   // the HR field of each reason ("" when none)
};
using SubmitHr = std::function<HrSubmission(const std::string& tenant_id, hr::ParsedBatch batch)>;

// A SCIM error answer (RFC 7644 3.12), and the one for a store failure (503 when transient).
HttpServerResponse scimError(const ScimError& e);
ScimError storeError(const Status& st);

class ScimEndpoint {
 public:
  ScimEndpoint(ControlStore& control, TenantStores& tenants, const Clock& clock, SubmitHr submit,
               ScimOptions options = {});

  // Answers a request whose path is /scim/v2 or below it, for the tenant of its token (the route
  // table authenticated it: controlplane/api/routes.cpp).
  void handle(const HttpServerRequest& req, const std::string& tenant_id,
              const Responder& respond);

 private:
  struct Context;
  struct OpResult;

  OpResult createUser(Context& ctx, const boost::json::value& data);
  OpResult replaceUser(Context& ctx, const std::string& id, const boost::json::value& data,
                       const std::string& if_match);
  OpResult patchUser(Context& ctx, const std::string& id, const boost::json::value& data,
                     const std::string& if_match);
  OpResult deleteUser(Context& ctx, const std::string& id, const std::string& if_match);
  // Checks, submits and stores one write. `existing` is null for a create; a delete passes the
  // stored resource with `deleting` set. Called with write_mu_ held.
  OpResult commit(Context& ctx, const ScimUserRow* existing, boost::json::object resource,
                  bool deleting, int success_status);
  void handleList(Context& ctx, const HttpServerRequest& req, const Responder& respond);
  void handleBulk(Context& ctx, const HttpServerRequest& req, const Responder& respond);

  ControlStore& control_;
  TenantStores& tenants_;
  const Clock& clock_;
  SubmitHr submit_;
  ScimOptions options_;
  std::mutex write_mu_;  // writes are checked (uniqueness, manager) and stored one at a time
};

}  // namespace tenure::cp::scim
