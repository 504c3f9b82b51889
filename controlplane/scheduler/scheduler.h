#pragma once
// Scheduler: turns tenants' cron schedules into runs. A timer on the service's io_context looks
// for due schedules every tick; each due schedule first moves its next_run_at to the next slot
// after now (persisted), then queues its run through Intake::submit (controlplane/intake). So:
//  - missed slots after downtime run once, not once per missed slot;
//  - a slot never runs twice, also across a restart or with several control planes on one
//    control.db (the slot is claimed by compare-and-set); a crash between the claim and the
//    queueing loses that one slot (at most once), and the next slot runs as usual.
// See docs/operations/scheduling.md.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/status.h"
#include "common/hr/hr_record.h"
#include "controlplane/intake/intake.h"
#include "controlplane/store/control_store.h"
#include "controlplane/store/tenant_store.h"

namespace tenure::cp {

struct SchedulerOptions {
  std::chrono::milliseconds tick{1'000};
  // expiry_sweep: dates this many days ahead count as due "soon" (the run is idempotent, so
  // carrying someone a day early is harmless and covers a missed sweep).
  int sweep_ahead_days = 1;
  // expiry_sweep: how far back dates count when the schedule never ran before.
  int sweep_first_lookback_days = 7;
};

class Scheduler {
 public:
  // Pulls an HR feed of the tenant (the HR connector's). Its records enter through the intake
  // like every other HR input.
  using HrPullHook = std::function<Status(const std::string& tenant_id)>;

  // `hr_pull` runs hr_pull schedules; without one they record "no HR connector".
  Scheduler(boost::asio::io_context& io, Intake& intake, ControlStore& control,
            TenantStores& tenants, const Clock& clock, SchedulerOptions options = {},
            HrPullHook hr_pull = {});
  ~Scheduler();

  // Starts the timer; stop() (or destruction) ends it.
  void start();
  void stop();

  // One pass: runs every schedule due at the clock's now. Returns how many ran.
  Result<int> runDue();

  // The records a run of `kind` carries for the tenant at `now_ms` (reconcile/preview: every
  // identity the tenant store knows; expiry_sweep: those with a date due between the last run
  // (`since_ms`, 0: never) and now + sweep_ahead_days).
  Result<std::vector<hr::HrRecord>> recordsFor(const std::string& tenant_id,
                                               const std::string& kind, int64_t since_ms,
                                               int64_t now_ms);

 private:
  // Queues the run of one claimed slot; returns the run id ("" for hr_pull).
  Result<std::string> runSchedule(const Schedule& s, int64_t previous_run_ms);
  void arm();

  boost::asio::io_context& io_;
  Intake& intake_;
  ControlStore& control_;
  TenantStores& tenants_;
  const Clock& clock_;
  SchedulerOptions options_;
  HrPullHook hr_pull_;
  std::mutex timer_mu_;  // stop() may run on another io thread than the tick
  std::shared_ptr<boost::asio::steady_timer> timer_;
  std::shared_ptr<std::atomic<bool>> alive_;
};

}  // namespace tenure::cp
