#include "controlplane/service/threshold_window.h"

#include <algorithm>

namespace tenure::cp {

namespace {

constexpr int64_t kMinuteMs = 60'000;
// Entries older than the longest window policy allows are useless.
constexpr int64_t kKeepMs = 10'080 * kMinuteMs;

int countOf(const protocol::PlanSummary& plan, const char* kind) {
  auto it = plan.counts.find(kind);
  return it == plan.counts.end() ? 0 : std::max(0, it->second);
}

WindowAdmission admissionOf(const std::string& run_id, const protocol::PlanSummary& plan,
                            int64_t now_ms) {
  return WindowAdmission{run_id, now_ms, countOf(plan, "disable"), countOf(plan, "delete")};
}

}  // namespace

Result<protocol::PlanDecision> gatePlan(TenantStore& store,
                                        const policy::ThresholdPolicy& thresholds,
                                        const std::string& run_id,
                                        const protocol::PlanSummary& plan, bool dry_run,
                                        int64_t now_ms) {
  protocol::PlanDecision decision;
  auto decide = [&](const WindowCounts& counts) -> Result<bool> {
    decision = evaluateThresholds(thresholds, plan);
    if (thresholds.window) {
      const WindowTotals earlier{counts.disables, counts.deletes};
      decision = combineDecisions(decision, evaluateWindow(thresholds.window, earlier, plan));
    }
    return !decision.held && !dry_run;
  };
  std::optional<int64_t> counted_after;
  if (thresholds.window) counted_after = now_ms - int64_t{thresholds.window->minutes} * kMinuteMs;
  // A re-planned run (its lease expired, another agent planned it again) replaces its entry.
  RETURN_IF_ERROR(store.thresholdWindow()
                      .admitIf(admissionOf(run_id, plan, now_ms), counted_after, decide,
                               now_ms - kKeepMs)
                      .status());
  return decision;
}

Status admitApprovedPlan(TenantStore& store, const std::string& run_id,
                         const protocol::PlanSummary& plan, int64_t now_ms) {
  return store.thresholdWindow().admit(admissionOf(run_id, plan, now_ms), now_ms - kKeepMs);
}

}  // namespace tenure::cp
