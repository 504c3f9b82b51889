#include "controlplane/service/thresholds.h"

#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace tenure::cp {

namespace {

std::string formatPercent(double p) {
  std::ostringstream os;
  os << p;  // shortest natural form: 10, 2.5
  return os.str();
}

}  // namespace

protocol::PlanDecision evaluateThresholds(const policy::ThresholdPolicy& thresholds,
                                          const protocol::PlanSummary& plan) {
  const std::pair<const char*, const policy::Threshold*> checks[] = {
      {"disable", &thresholds.disables},
      {"delete", &thresholds.deletes},
      {"move", &thresholds.moves},
      {"remove_member", &thresholds.group_removals},
  };
  const bool percent_applies =
      plan.population > 0 && plan.population >= thresholds.min_population_for_percent;
  std::vector<std::string> crossed;
  for (const auto& [kind, t] : checks) {
    auto it = plan.counts.find(kind);
    const int count = it == plan.counts.end() ? 0 : it->second;
    if (count <= 0) continue;
    if (t->max_count && count > *t->max_count) {
      crossed.push_back(std::string(kind) + ": " + std::to_string(count) + " > " +
                        std::to_string(*t->max_count) + " (max_count)");
    }
    // Compared as count * 100 > percent * population, so 10 of 100 is not over 10 %.
    if (percent_applies && t->max_percent &&
        static_cast<double>(count) * 100.0 > *t->max_percent * plan.population) {
      crossed.push_back(std::string(kind) + ": " + std::to_string(count) + " > " +
                        formatPercent(*t->max_percent) + "% of " +
                        std::to_string(plan.population) + " (max_percent)");
    }
  }
  protocol::PlanDecision d;
  if (crossed.empty()) return d;
  d.proceed = false;
  d.held = true;
  for (size_t i = 0; i < crossed.size(); ++i) {
    if (i) d.reason += "; ";
    d.reason += crossed[i];
  }
  return d;
}

protocol::PlanDecision evaluateWindow(const std::optional<policy::WindowThreshold>& window,
                                      const WindowTotals& earlier,
                                      const protocol::PlanSummary& plan) {
  protocol::PlanDecision d;
  if (!window) return d;
  const std::tuple<const char*, const char*, int, std::optional<int>> checks[] = {
      {"disable", "max_disables", earlier.disables, window->max_disables},
      {"delete", "max_deletes", earlier.deletes, window->max_deletes},
  };
  for (const auto& [kind, field, before, limit] : checks) {
    auto it = plan.counts.find(kind);
    const int own = it == plan.counts.end() ? 0 : it->second;
    // A run judged alone is the per-run thresholds' business: the window holds only what
    // earlier runs take over the limit together with this one.
    if (own <= 0 || before <= 0 || !limit || before + own <= *limit) continue;
    if (!d.reason.empty()) d.reason += "; ";
    d.reason += std::string(kind) + ": " + std::to_string(before + own) + " > " +
                std::to_string(*limit) + " in " + std::to_string(window->minutes) +
                " min (window." + field + "; " + std::to_string(before) + " by earlier runs)";
  }
  if (!d.reason.empty()) {
    d.proceed = false;
    d.held = true;
  }
  return d;
}

protocol::PlanDecision combineDecisions(protocol::PlanDecision a, const protocol::PlanDecision& b) {
  if (!b.held) return a;
  if (!a.held) return b;
  a.reason += "; " + b.reason;
  return a;
}

}  // namespace tenure::cp
