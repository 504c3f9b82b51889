#pragma once
// ThresholdWindowStore: the rolling window of admitted plans that safety thresholds count over
// (controlplane/service/threshold_window.h). One entry per run let through; a tenant's window
// lives in its tenant database. Implemented for SQLite by SqliteThresholdWindowStore
// (controlplane/store/sqlite/).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/base/status.h"

namespace tenure::cp {

// The disables and deletes of a run the plan gate let through (or an operator approved).
struct WindowAdmission {
  std::string run_id;
  int64_t admitted_at_ms = 0;
  int disables = 0;
  int deletes = 0;
};

// What the window held before a decision: the sums over the runs admitted in it.
struct WindowCounts {
  int disables = 0;
  int deletes = 0;
};

class ThresholdWindowStore {
 public:
  virtual ~ThresholdWindowStore() = default;

  // Returns true when `admission` is to join the window.
  using AdmissionDecision = std::function<Result<bool>(const WindowCounts& earlier)>;

  // One plan gate, atomic with respect to every other call on this store: `decide` receives the
  // sums of the runs admitted after `counted_after_ms` (the run itself excluded; zero, without
  // reading, when `counted_after_ms` is nullopt), and when it returns true the admission is
  // recorded (as admit()) before anyone else reads the window. Returns what `decide` returned;
  // nothing is written when it fails.
  virtual Result<bool> admitIf(const WindowAdmission& admission,
                               std::optional<int64_t> counted_after_ms,
                               const AdmissionDecision& decide,
                               int64_t forget_before_ms) = 0;

  // Records the admission, replacing the run's earlier entry (a re-planned run counts once). An
  // admission with neither disables nor deletes is not recorded (an earlier entry of the run
  // stays). Entries admitted before `forget_before_ms` are dropped in the same transaction.
  virtual Status admit(const WindowAdmission& admission, int64_t forget_before_ms) = 0;
};

}  // namespace tenure::cp
