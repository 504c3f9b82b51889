#include "controlplane/answers/submission_answer.h"

#include <boost/json.hpp>

#include "common/protocol/messages.h"
#include "controlplane/http/responses.h"

namespace tenure::cp {

namespace bj = boost::json;
using protocol::ErrorBody;

int submissionHttpStatus(const IntakeResult& r) {
  switch (r.outcome) {
    case IntakeOutcome::kQueued:
      return 202;
    case IntakeOutcome::kTooMany:
      return 413;
    case IntakeOutcome::kNothingAccepted:
      return 422;
    case IntakeOutcome::kStoreFailure:
      break;
  }
  // As storeFailure(): transient faults are 503 so clients retry.
  return r.status.errorClass() == ErrorClass::kTransient ? 503 : 500;
}

SubmitResult submissionAnswer(const IntakeResult& r) {
  SubmitResult out;
  out.http_status = submissionHttpStatus(r);
  out.status = r.status;
  out.run_id = r.run_id;
  out.rejected = r.rejected;
  bj::array rejected;
  for (const auto& e : r.rejected) {
    rejected.push_back(bj::object{
        {"row", e.row}, {"employee_id", e.employee_id}, {"field", e.field}, {"reason", e.reason}});
  }
  switch (r.outcome) {
    case IntakeOutcome::kTooMany:
      out.body = protocol::toJson(ErrorBody{protocol::kErrTooLarge, r.status.message()}).as_object();
      break;
    case IntakeOutcome::kStoreFailure: {
      out.body = bj::parse(storeFailure(r.status).body).as_object();
      break;
    }
    case IntakeOutcome::kNothingAccepted:
      out.body = bj::object{{"run_id", nullptr},
                            {"accepted", 0},
                            {"rejected_count", static_cast<int64_t>(rejected.size())},
                            {"rejected", std::move(rejected)}};
      break;
    case IntakeOutcome::kQueued:
      out.body = bj::object{{"run_id", r.run_id},
                            {"status", "queued"},
                            {"dry_run", r.dry_run},
                            {"policy_version", r.policy_version},
                            {"accepted", r.accepted},
                            {"rejected_count", static_cast<int64_t>(rejected.size())},
                            {"rejected", std::move(rejected)}};
      break;
  }
  return out;
}

}  // namespace tenure::cp
