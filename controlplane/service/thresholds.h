#pragma once
// Safety thresholds: whether a planned run may go ahead or must wait for an operator.

#include "common/policy/policy.h"
#include "common/protocol/messages.h"

namespace tenure::cp {

// Checks the plan's counts against the tenant's thresholds. The counted operation kinds are
// `disable`, `delete`, `move` and `remove_member` (group removals). A count over `max_count`, or
// over `max_percent` of the population when the population is at least
// `min_population_for_percent`, holds the run; `reason` names every threshold crossed, e.g.
// "disable: 60 > 50 (max_count); delete: 3 > 2% of 100 (max_percent)". Pure.
protocol::PlanDecision evaluateThresholds(const policy::ThresholdPolicy& thresholds,
                                          const protocol::PlanSummary& plan);

}  // namespace tenure::cp
