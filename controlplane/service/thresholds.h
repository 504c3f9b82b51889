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

// Disables and deletes of the runs the plan gate let through (or an operator approved) in the
// rolling window, the run being judged not included.
struct WindowTotals {
  int disables = 0;
  int deletes = 0;
};

// Checks `earlier` plus the plan's own `disable` / `delete` counts against the window limits
// (a run that adds none of a kind is never held for it, nor one when no earlier run in the window
// did: a run alone is judged by the per-run thresholds). Pure; proceeds when there is no window.
// Reason e.g. "disable: 26 > 25 in 60 min (window.max_disables; 25 by earlier runs)".
protocol::PlanDecision evaluateWindow(const std::optional<policy::WindowThreshold>& window,
                                      const WindowTotals& earlier,
                                      const protocol::PlanSummary& plan);

// Both decisions in one: held when either holds, the reasons joined with "; ".
protocol::PlanDecision combineDecisions(protocol::PlanDecision a, const protocol::PlanDecision& b);

}  // namespace tenure::cp
