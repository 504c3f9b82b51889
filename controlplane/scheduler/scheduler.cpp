#include "controlplane/scheduler/scheduler.h"

#include <spdlog/spdlog.h>

#include "common/base/time_zone.h"
#include "common/hr/validation.h"
#include "common/protocol/messages.h"

namespace tenure::cp {

namespace {

constexpr int64_t kMsPerDay = 86'400'000;

}  // namespace

Scheduler::Scheduler(boost::asio::io_context& io, Intake& intake,
                     ControlStore& control, TenantStores& tenants, const Clock& clock,
                     SchedulerOptions options, HrPullHook hr_pull)
    : io_(io),
      intake_(intake),
      control_(control),
      tenants_(tenants),
      clock_(clock),
      options_(options),
      hr_pull_(std::move(hr_pull)),
      alive_(std::make_shared<std::atomic<bool>>(true)) {}

Scheduler::~Scheduler() { stop(); }

void Scheduler::start() { arm(); }

void Scheduler::stop() {
  std::lock_guard lock(timer_mu_);
  *alive_ = false;
  if (timer_) timer_->cancel();
}

void Scheduler::arm() {
  std::lock_guard lock(timer_mu_);
  if (!*alive_) return;
  timer_ = std::make_shared<boost::asio::steady_timer>(io_);
  timer_->expires_after(options_.tick);
  auto alive = alive_;
  timer_->async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    auto ran = runDue();
    if (!ran.isOk()) spdlog::error("scheduler: {}", ran.status().toString());
    if (*alive) arm();
  });
}

Result<int> Scheduler::runDue() {
  const int64_t now = clock_.nowUnixMillis();
  ASSIGN_OR_RETURN(auto due, control_.dueSchedules(now));
  int ran = 0;
  for (const Schedule& s : due) {
    // A deleted tenant's schedules go with it; opening its store would create it again.
    ASSIGN_OR_RETURN(auto tenant, control_.tenantById(s.tenant_id));
    if (!tenant) {
      RETURN_IF_ERROR(control_.deleteSchedule(s.tenant_id, s.schedule_id).status());
      spdlog::info("schedule {} of deleted tenant {} removed", s.schedule_id, s.tenant_id);
      continue;
    }
    // The next slot is computed from now, not from the missed slot: after downtime the
    // schedule runs once and then keeps its rhythm.
    auto pol = intake_.currentPolicy(s.tenant_id);
    auto next = pol.isOk() ? policy::nextCronRunMs(*pol, s.cron, now) : Result<int64_t>(pol.status());
    int64_t next_ms = 0;
    std::string next_error;
    if (next.isOk()) {
      next_ms = *next;
    } else {
      // Unschedulable now (time zone missing, expression never runs): this slot still runs,
      // next_run_at becomes 0 and last_error says why.
      next_error = "cannot compute the next run: " + next.status().message();
    }
    ASSIGN_OR_RETURN(bool claimed, control_.claimScheduleSlot(s.schedule_id, s.next_run_at_ms,
                                                              next_ms));
    if (!claimed) continue;  // changed or claimed meanwhile (API update, another replica)
    auto run = runSchedule(s, s.last_run_at_ms);
    std::string error = next_error;
    std::string run_id;
    if (run.isOk()) {
      run_id = *run;
      ++ran;
    } else {
      error = run.status().message() + (error.empty() ? "" : "; " + error);
      spdlog::error("tenant {}: schedule {} ({}) could not run: {}", s.tenant_id, s.schedule_id,
                    s.kind, run.status().toString());
    }
    RETURN_IF_ERROR(control_.recordScheduleRun(s.schedule_id, run_id, error));
  }
  return ran;
}

Result<std::string> Scheduler::runSchedule(const Schedule& s, int64_t previous_run_ms) {
  if (s.kind == "hr_pull") {
    if (!hr_pull_) return configError("no HR connector is registered for hr_pull schedules");
    RETURN_IF_ERROR(hr_pull_(s.tenant_id));
    spdlog::info("tenant {}: schedule {} pulled the HR feed", s.tenant_id, s.schedule_id);
    return std::string();
  }
  Submission sub;
  sub.source = "schedule";
  sub.priority = 0;  // batch work: HR pushes (10) go first
  sub.allow_empty = true;
  if (s.kind == "reconcile") {
    sub.kind = "reconcile";
  } else if (s.kind == "preview") {
    sub.kind = "preview";
    sub.dry_run = true;
  } else if (s.kind == "expiry_sweep") {
    sub.kind = "expiry_sweep";
  } else {
    return dataError("unknown schedule kind '" + s.kind + "'");
  }
  hr::ParsedBatch batch;
  ASSIGN_OR_RETURN(batch.accepted,
                   recordsFor(s.tenant_id, s.kind, previous_run_ms, clock_.nowUnixMillis()));
  for (size_t i = 0; i < batch.accepted.size(); ++i) {
    batch.accepted_rows.push_back(static_cast<int>(i) + 1);
  }
  const size_t carried = batch.accepted.size();
  IntakeResult result = intake_.submit(s.tenant_id, std::move(batch), sub);
  if (!result.queued()) {
    return result.status.isOk() ? internalError("the submission was not queued") : result.status;
  }
  spdlog::info("tenant {}: schedule {} queued {} run {} ({} identities)", s.tenant_id,
               s.schedule_id, s.kind, result.run_id, carried);
  return result.run_id;
}

Result<std::vector<hr::HrRecord>> Scheduler::recordsFor(const std::string& tenant_id,
                                                        const std::string& kind,
                                                        int64_t since_ms, int64_t now_ms) {
  ASSIGN_OR_RETURN(auto store, tenants_.forTenant(tenant_id));
  ASSIGN_OR_RETURN(auto all, store->allIdentities());
  if (kind != "expiry_sweep") return all;

  ASSIGN_OR_RETURN(policy::Policy pol, intake_.currentPolicy(tenant_id));
  ASSIGN_OR_RETURN(TimeZone zone, TimeZone::load(pol.lifecycle.time_zone));
  auto localDay = [&](int64_t ms) {
    const int64_t s = ms / 1000 + zone.utcOffsetAt(ms / 1000);
    return s >= 0 ? s / 86'400 : (s - 86'399) / 86'400;
  };
  const int64_t today = localDay(now_ms);
  const int64_t lo = since_ms > 0 ? localDay(since_ms)
                                  : today - options_.sweep_first_lookback_days;
  const int64_t hi = today + options_.sweep_ahead_days;
  auto due = [&](int64_t day) { return day >= lo && day <= hi; };

  std::vector<hr::HrRecord> out;
  for (auto& r : all) {
    bool include = false;
    if (auto start = parseIsoDate(r.start_date); start.isOk()) {
      // The pre-hire account appears prehire_days ahead; it is enabled on the start date.
      include = due(*start) || due(*start - pol.lifecycle.prehire_days);
    }
    if (auto end = parseIsoDate(r.end_date); end.isOk()) {
      // Leavers leave the day after their last day; their account is deleted after retention.
      include = include || due(*end) || due(*end + 1);
      if (pol.lifecycle.delete_after_days) {
        include = include || due(*end + 1 + *pol.lifecycle.delete_after_days) ||
                  due(*end + *pol.lifecycle.delete_after_days);
      }
    }
    if (include) out.push_back(std::move(r));
  }
  return out;
}

}  // namespace tenure::cp
