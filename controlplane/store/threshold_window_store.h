#pragma once
// ThresholdWindowStore: the rolling window of admitted plans that safety thresholds count over (controlplane/service/threshold_window.h).
// Implemented for SQLite by SqliteThresholdWindowStore (controlplane/store/sqlite/).

namespace tenure::cp {

class ThresholdWindowStore {
 public:
  virtual ~ThresholdWindowStore() = default;
};

}  // namespace tenure::cp
