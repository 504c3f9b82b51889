#pragma once
// Messages between the agent and the control plane (protocol v1, see docs/protocol.md).
// All bodies are JSON. Unknown fields are ignored by both sides so either can add fields.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/hr/hr_record.h"

namespace tenure::protocol {

inline constexpr int kProtocolVersion = 1;

// Error codes in `{"error": CODE, "message": ...}` bodies.
inline constexpr const char* kErrNodeInvalid = "node_invalid";  // unknown or revoked node key
inline constexpr const char* kErrBadRequest = "bad_request";
inline constexpr const char* kErrUnauthorized = "unauthorized";
inline constexpr const char* kErrNotFound = "not_found";
inline constexpr const char* kErrTooLarge = "payload_too_large";
inline constexpr const char* kErrInternal = "internal";
inline constexpr const char* kErrUnavailable = "unavailable";

struct EnrollRequest {
  std::string enroll_secret;
  std::string host;
  std::string version;
  std::vector<std::string> capabilities;
};

struct EnrollResponse {
  std::string node_key;
  std::string agent_id;
};

struct PollRequest {
  int wait_s = 25;  // how long the server may hold the request when no job is ready
};

// The rules of the tenant's time zone as the control plane's tz database has them, sent with each
// job so that every agent (a Windows one has no tz database) evaluates dates alike.
struct JobTimeZone {
  std::string name;  // IANA name, the policy's lifecycle.time_zone
  std::string tzif;  // the zone's TZif file (binary; base64 on the wire)

  bool operator==(const JobTimeZone&) const = default;
};

// A unit of work leased to one agent. `identities` are the HR records to bring into the directory.
struct Job {
  std::string job_id;
  std::string run_id;
  std::string kind = "apply";  // apply
  int attempt = 1;
  bool dry_run = false;
  int64_t lease_expires_at_ms = 0;
  bool approved = false;  // an operator approved this run past its thresholds
  int64_t now_ms = 0;     // the control plane's clock when leased (effective dates use it)
  std::vector<hr::HrRecord> identities;
  std::vector<std::string> reserved_names;  // names of deleted leavers not to be reused (lower case)
  boost::json::object policy;  // the tenant's policy document (may be empty: defaults apply)
  // The policy's zone; absent from control planes older than the field, and for "UTC".
  std::optional<JobTimeZone> time_zone;
};

struct PollResponse {
  std::vector<Job> jobs;
};

// One planned (or applied) directory operation for a person, with why it is needed.
struct PlannedOperation {
  // create | modify | rename | enable | disable | move | add_member | remove_member | delete
  std::string kind;
  std::string dn;      // the entry it acts on
  std::string target;  // move: the new parent OU; add/remove_member: the group DN
  std::string reason;  // "new hire", "HR changed department (Sales -> Marketing)", "rule sales-groups"
  std::vector<std::string> changes;  // attribute names it writes

  bool operator==(const PlannedOperation&) const = default;
};

// What happened to one person in a job.
struct IdentityOutcome {
  std::string employee_id;
  // created | updated | enabled | disabled | moved | deleted | unchanged | failed
  std::string action;
  std::string dn;
  std::string sam_account_name;
  std::string upn;   // userPrincipalName of the account (as it is, or as planned)
  std::string mail;  // mail of the account, when it has one
  std::vector<std::string> changes;  // attribute or operation names, e.g. "department", "move"
  std::string error_class;           // empty when ok; else an errorClassName()
  std::string error_message;         // the directory's own message
  int directory_code = 0;            // the directory's result code (LDAP rc), 0 when none
  std::vector<PlannedOperation> operations;  // what was done (or, in a dry run, would be done)
  // Lifecycle state the person was evaluated in: not_yet, pre_hire, active, leave, terminated,
  // rescinded, rehire.
  std::string state;

  bool failed() const { return !error_class.empty(); }
};

// Sent by the agent after planning and before applying anything (POST /agent/v1/jobs/{id}/plan):
// the control plane checks the tenant's safety thresholds and answers whether to go ahead.
struct PlanSummary {
  std::string job_id;
  int population = 0;                 // people the job covers
  std::map<std::string, int> counts;  // by operation kind: create, disable, delete, move, ...
  std::vector<IdentityOutcome> outcomes;  // the plan per person (action + operations)
};

struct PlanDecision {
  bool proceed = true;
  bool held = false;    // over a threshold: the run waits for an operator
  std::string reason;   // which threshold, e.g. "disable: 120 > 50"
};

struct JobResult {
  std::string job_id;
  // succeeded | partial | failed; "held" only inside the agent (the gate held the run: nothing was
  // written, outcomes hold the plan) and never sent as a result.
  std::string status;
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;
  std::string agent_version;
  std::string domain_controller;  // the DC all operations of the job were pinned to
  std::string error_class;        // job-level failure (e.g. cannot bind), empty otherwise
  std::string error_message;
  std::vector<IdentityOutcome> outcomes;
};

struct ErrorBody {
  std::string error;
  std::string message;
};

boost::json::value toJson(const EnrollRequest& m);
boost::json::value toJson(const EnrollResponse& m);
boost::json::value toJson(const PollRequest& m);
boost::json::value toJson(const Job& m);
boost::json::value toJson(const PollResponse& m);
boost::json::value toJson(const IdentityOutcome& m);
boost::json::value toJson(const JobResult& m);
boost::json::value toJson(const ErrorBody& m);
boost::json::value toJson(const PlannedOperation& m);
boost::json::value toJson(const PlanSummary& m);
boost::json::value toJson(const PlanDecision& m);

// Parsing never throws: a missing required field or a wrong type is a kData error naming the field.
Result<EnrollRequest> parseEnrollRequest(const boost::json::value& v);
Result<EnrollResponse> parseEnrollResponse(const boost::json::value& v);
Result<PollRequest> parsePollRequest(const boost::json::value& v);
Result<Job> parseJob(const boost::json::value& v);
Result<PollResponse> parsePollResponse(const boost::json::value& v);
Result<IdentityOutcome> parseIdentityOutcome(const boost::json::value& v);
Result<JobResult> parseJobResult(const boost::json::value& v);
Result<ErrorBody> parseErrorBody(const boost::json::value& v);
Result<PlannedOperation> parsePlannedOperation(const boost::json::value& v);
Result<PlanSummary> parsePlanSummary(const boost::json::value& v);
Result<PlanDecision> parsePlanDecision(const boost::json::value& v);

// Parses text into a JSON value; malformed JSON is a kData error.
Result<boost::json::value> parseJsonText(std::string_view text);
std::string serialize(const boost::json::value& v);

}  // namespace tenure::protocol
