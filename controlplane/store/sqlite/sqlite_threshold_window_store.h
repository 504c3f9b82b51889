#pragma once
// ThresholdWindowStore on SQLite: tables of the component "threshold_window" in the tenant database, on the store's connection.

#include <string>
#include <vector>

#include "common/base/clock.h"
#include "controlplane/store/threshold_window_store.h"
#include "controlplane/store/sqlite/sqlite_connection.h"

namespace tenure::cp {

class SqliteThresholdWindowStore final : public ThresholdWindowStore {
 public:
  // The component's migrations (sqlite::migrateComponent), run once when the database opens.
  static constexpr const char* kComponent = "threshold_window";
  static const std::vector<std::string>& migrations();

  SqliteThresholdWindowStore(SqliteConnection& conn, const Clock& clock) : conn_(conn), clock_(clock) {}

  Result<bool> admitIf(const WindowAdmission& admission, std::optional<int64_t> counted_after_ms,
                       const AdmissionDecision& decide, int64_t forget_before_ms) override;
  Status admit(const WindowAdmission& admission, int64_t forget_before_ms) override;

 private:
  SqliteConnection& conn_;
  const Clock& clock_;
};

}  // namespace tenure::cp
