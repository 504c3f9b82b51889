#pragma once
// The rolling window of the plan gate: which disables and deletes the tenant's runs were let
// through recently. Kept in the tenant store (ThresholdWindowStore), one entry per run.

#include <cstdint>
#include <string>

#include "common/base/status.h"
#include "common/policy/policy.h"
#include "common/protocol/messages.h"
#include "controlplane/service/thresholds.h"
#include "controlplane/store/tenant_store.h"

namespace tenure::cp {

// The plan gate for one run, atomic per tenant store: the per-run thresholds and the window
// (the runs admitted in the last window->minutes before `now_ms`, this run excluded, plus this
// plan). When the run may proceed and is not a dry run, its counts join the window before the
// store's lock is released, so two runs planned at once cannot both slip under the limit.
Result<protocol::PlanDecision> gatePlan(TenantStore& store,
                                        const policy::ThresholdPolicy& thresholds,
                                        const std::string& run_id,
                                        const protocol::PlanSummary& plan, bool dry_run,
                                        int64_t now_ms);

// Records a run an operator approved (it proceeds past every threshold) in the window.
Status admitApprovedPlan(TenantStore& store, const std::string& run_id,
                         const protocol::PlanSummary& plan, int64_t now_ms);

}  // namespace tenure::cp
