#include "controlplane/service/thresholds.h"

#include <sstream>
#include <string>
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

}  // namespace tenure::cp
