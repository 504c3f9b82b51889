#pragma once
// ScheduleStore: tenants' cron schedules and the slots they claimed.
// Part of the control database (ControlStore); SQLite implementation in
// controlplane/store/sqlite/sqlite_control_store*.cpp.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace tenure::cp {

// A tenant's cron schedule (see docs/operations/scheduling.md). No personal data.
struct Schedule {
  std::string schedule_id;
  std::string tenant_id;
  std::string kind;  // reconcile | expiry_sweep | preview | hr_pull
  std::string cron;  // 5-field cron expression, evaluated in the tenant's time zone
  bool enabled = true;
  int64_t next_run_at_ms = 0;  // 0: not scheduled (disabled, or the expression never matches)
  int64_t last_run_at_ms = 0;
  std::string last_run_id;
  std::string last_error;  // why the last due run could not be queued, empty when it was
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

class ScheduleStore {
 public:
  virtual ~ScheduleStore() = default;

  // Schedules (sqlite/sqlite_control_store_scheduling.cpp). Lookups are scoped to the tenant:
  // another tenant's schedule is not_found / nullopt.
  virtual Result<Schedule> createSchedule(const Schedule& schedule) = 0;
  virtual Result<std::vector<Schedule>> listSchedules(const std::string& tenant_id) = 0;
  virtual Result<std::optional<Schedule>> schedule(const std::string& tenant_id,
                                                   const std::string& schedule_id) = 0;
  // Replaces kind, cron, enabled and next_run_at_ms. not_found when unknown to the tenant.
  virtual Status updateSchedule(const Schedule& schedule) = 0;
  // false when unknown to the tenant.
  virtual Result<bool> deleteSchedule(const std::string& tenant_id,
                                      const std::string& schedule_id) = 0;
  // Enabled schedules of every tenant with 0 < next_run_at_ms <= now_ms, oldest slot first.
  virtual Result<std::vector<Schedule>> dueSchedules(int64_t now_ms) = 0;
  // Claims the due slot `slot_ms`: moves next_run_at_ms to `next_ms` and sets last_run_at_ms,
  // only if next_run_at_ms still is `slot_ms`. false when someone else claimed or changed it.
  virtual Result<bool> claimScheduleSlot(const std::string& schedule_id, int64_t slot_ms,
                                         int64_t next_ms) = 0;
  // The run the last claimed slot queued (or why it could not be queued).
  virtual Status recordScheduleRun(const std::string& schedule_id, const std::string& run_id,
                                   const std::string& error) = 0;
};

}  // namespace tenure::cp
