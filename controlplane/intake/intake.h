#pragma once
// Intake: how HR records enter the control plane — uploads, SCIM pushes, the pull connector and
// scheduled runs all make the same domain call. It validates the batch against the tenant's current
// policy (employment-type rules, dates in the tenant's time zone: common/hr/validation.h), records
// the run and its identities in the tenant store, queues the run's job (JobQueue) and says so.
// Rejected rows are reported and never applied; bad rows raise a bad_hr_data ticket. No HTTP here:
// the API layer turns an IntakeResult into an answer.

#include <cstdint>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/status.h"
#include "common/hr/validation.h"
#include "common/policy/policy.h"
#include "controlplane/queue/job_queue.h"
#include "controlplane/store/tenant_store.h"
#include "controlplane/tickets/ticket_raiser.h"

namespace tenure::cp {

// How a batch of HR records entered the control plane, and what run it becomes.
struct Submission {
  std::string source = "json";  // csv | json | scim | bamboohr | schedule | ...
  std::string kind = "apply";   // the run/job kind
  bool dry_run = false;
  int priority = 10;            // higher is leased first; HR pushes are real-time work
  bool allow_empty = false;     // queue a run even when no record was accepted (scheduled jobs)
  std::string actor;            // who sent it (token name, ...); "" records "hr" in the events
};

enum class IntakeOutcome {
  kQueued,           // a run and its job were recorded
  kNothingAccepted,  // every row was rejected: no run
  kTooMany,          // more records than one submission may carry: no run
  kStoreFailure,     // a store refused (status says how); nothing was queued
};

struct IntakeResult {
  IntakeOutcome outcome = IntakeOutcome::kQueued;
  Status status;       // ok when queued; the data error or store failure otherwise
  std::string run_id;  // when queued
  bool dry_run = false;
  int policy_version = 0;
  int accepted = 0;
  std::vector<RejectedRow> rejected;

  bool queued() const { return outcome == IntakeOutcome::kQueued; }
};

struct IntakeOptions {
  size_t max_identities_per_submission = 100'000;
};

class Intake {
 public:
  // Runs' jobs go to `queue`; `tickets` receives bad_hr_data detections.
  Intake(TenantStores& tenants, JobQueue& queue, const Clock& clock, TicketRaiser& tickets,
         IntakeOptions options = {});

  // Never half-applies: the run carries only the accepted records.
  IntakeResult submit(const std::string& tenant_id, hr::ParsedBatch batch,
                      const Submission& submission);

  // The tenant's current policy (the default policy, version 0, when none was saved).
  Result<policy::Policy> currentPolicy(const std::string& tenant_id);
  Result<policy::Policy> currentPolicy(TenantStore& store);
  // The policy version a run was planned with (version 0: the default policy).
  Result<policy::Policy> policyVersion(TenantStore& store, int version);

 private:
  TenantStores& tenants_;
  JobQueue& queue_;
  const Clock& clock_;
  TicketRaiser& tickets_;
  IntakeOptions options_;
};

}  // namespace tenure::cp
