#include "controlplane/intake/intake.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "common/base/crypto.h"
#include "common/base/time_zone.h"
#include "common/protocol/messages.h"
#include "controlplane/audit/identity_events.h"
#include "controlplane/policy/tenant_policy.h"

namespace tenure::cp {

Intake::Intake(TenantStores& tenants, JobQueue& queue, const Clock& clock, TicketRaiser& tickets,
               IntakeOptions options)
    : tenants_(tenants), queue_(queue), clock_(clock), tickets_(tickets), options_(options) {}

Result<policy::Policy> Intake::policyVersion(TenantStore& store, int version) {
  return tenantPolicyVersion(store, version);
}

Result<policy::Policy> Intake::currentPolicy(TenantStore& store) {
  return currentTenantPolicy(store);
}

Result<policy::Policy> Intake::currentPolicy(const std::string& tenant_id) {
  ASSIGN_OR_RETURN(auto store, tenants_.forTenant(tenant_id));
  return currentPolicy(*store);
}

namespace {

IntakeResult failure(IntakeOutcome outcome, Status st) {
  IntakeResult out;
  out.outcome = outcome;
  out.status = std::move(st);
  return out;
}

}  // namespace

IntakeResult Intake::submit(const std::string& tenant_id, hr::ParsedBatch batch,
                            const Submission& sub) {
  if (batch.accepted.size() > options_.max_identities_per_submission) {
    return failure(IntakeOutcome::kTooMany, dataError("too many records in one upload"));
  }
  auto store = tenants_.forTenant(tenant_id);
  if (!store.isOk()) return failure(IntakeOutcome::kStoreFailure, store.status());
  auto pol = currentPolicy(**store);
  if (!pol.isOk()) return failure(IntakeOutcome::kStoreFailure, pol.status());
  // Rows that break the policy's employment-type rules join the rejected rows: never applied.
  // "Today" is the tenant's, as for every effective date.
  const int64_t now = clock_.nowUnixMillis();
  auto zone = TimeZone::load(pol->lifecycle.time_zone);
  auto today = parseIsoDate((zone.isOk() ? *zone : TimeZone::utc()).localDate(now / 1000));
  hr::applyEmploymentRules(batch, policy::employmentRules(*pol), today.isOk() ? *today : now / 86'400'000);

  RunRecord run;
  run.run_id = "r_" + randomHex(8);
  run.kind = sub.kind;
  run.source = sub.source;
  run.status = RunStatus::kQueued;
  run.dry_run = sub.dry_run;
  run.created_at_ms = now;
  run.accepted = static_cast<int>(batch.accepted.size());
  run.policy_version = pol->version;
  for (const auto& e : batch.rejected) {
    run.rejected.push_back(RejectedRow{e.row, e.employee_id, e.field, e.reason});
  }
  const bool nothing = batch.accepted.empty() && !sub.allow_empty;
  for (const auto& r : run.rejected) {
    // A row without an employee_id has nothing stable to count it by but its position.
    const std::string subject =
        r.employee_id.empty() ? "row:" + std::to_string(r.row) : r.employee_id;
    tickets_.raise(Detection{
        tenant_id, "bad_hr_data", subject,
        "HR row " + std::to_string(r.row) + (r.employee_id.empty() ? "" : " (" + r.employee_id + ")") +
            " rejected" + (nothing ? "" : " in run " + run.run_id) + ": " + r.reason,
        "Fix the " + (r.field.empty() ? std::string("record") : "field '" + r.field + "'") +
            " in the HR system (employee_id must be unique; contractors and other externals need "
            "an end date; a manager must be a known employee) and send the record again."});
  }

  IntakeResult out;
  out.dry_run = run.dry_run;
  out.policy_version = run.policy_version;
  out.accepted = run.accepted;
  out.rejected = run.rejected;
  if (nothing) {
    // Nothing to apply: no run, no job; the caller learns why every row was refused.
    out.outcome = IntakeOutcome::kNothingAccepted;
    out.status = dataError("no record was accepted");
    return out;
  }
  if (Status st = (*store)->createRun(run, batch.accepted); !st.isOk()) {
    return failure(IntakeOutcome::kStoreFailure, st);
  }
  if (Status st = recordHrEvents(**store, run.run_id, sub.source,
                                 sub.actor.empty() ? "hr" : sub.actor, run.created_at_ms,
                                 sub.dry_run, batch.accepted);
      !st.isOk()) {
    spdlog::error("tenant {}: run {}: HR events not recorded: {}", tenant_id, run.run_id,
                  st.toString());
  }
  JobRecord job;
  job.job_id = run.run_id;  // one job per run: re-enqueueing after a crash is idempotent
  job.tenant_id = tenant_id;
  job.run_id = run.run_id;
  job.kind = run.kind;
  job.priority = sub.priority;
  job.created_at_ms = run.created_at_ms;
  // Queued and the tenant's held polls woken.
  if (Status st = queue_.enqueue(job); !st.isOk()) {
    // The run is recorded; recovery re-enqueues it at the next start.
    return failure(IntakeOutcome::kStoreFailure, st);
  }
  spdlog::info("tenant {}: run {} queued ({}, {} accepted, {} rejected rows)", tenant_id,
               run.run_id, run.source, run.accepted, run.rejected.size());
  out.run_id = run.run_id;
  return out;
}

}  // namespace tenure::cp
