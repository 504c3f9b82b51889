#pragma once
// The answer every endpoint that takes HR records gives (the upload, the connector's pull, SCIM's
// status code): an intake result as an HTTP status and a JSON body. API layer, shared by the
// handlers of several modules; the intake itself knows no HTTP.

#include <boost/json/object.hpp>

#include <string>
#include <vector>

#include "common/base/status.h"
#include "controlplane/intake/intake.h"

namespace tenure::cp {

// The answer to a submission, ready to send (upload) or to inspect (connectors).
struct SubmitResult {
  int http_status = 202;  // 202 queued, 413 too many, 422 nothing accepted, 5xx store failure
  Status status;          // ok when queued
  std::string run_id;     // empty unless queued
  std::vector<RejectedRow> rejected;
  boost::json::object body;
};

// The HTTP status of an intake result: 202 queued, 413 too many, 422 nothing accepted, 503 for a
// transient store failure, 500 otherwise.
int submissionHttpStatus(const IntakeResult& r);
SubmitResult submissionAnswer(const IntakeResult& r);

}  // namespace tenure::cp
