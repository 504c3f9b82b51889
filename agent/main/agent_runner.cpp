#include "agent/main/agent_runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

namespace tenure::agent {

AgentRunner::AgentRunner(ControlPlaneClient& cp, ResultSpool& spool, DirectoryClient& directory,
                         const Clock& clock, RunnerOptions options)
    : cp_(cp), spool_(spool), directory_(directory), clock_(clock), options_(std::move(options)) {}

void AgentRunner::sleepFor(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  auto until = std::chrono::steady_clock::now() + d;
  while (!stop && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(100),
        std::chrono::duration_cast<std::chrono::milliseconds>(until -
                                                              std::chrono::steady_clock::now())));
  }
}

void AgentRunner::onOutcome(const std::string& job_id, const protocol::IdentityOutcome& outcome) {
  if (Status st = spool_.saveOutcome(job_id, outcome); !st.isOk()) {
    spdlog::warn("spool: cannot record progress of job {}: {}", job_id, st.toString());
  }
  int64_t now = clock_.nowUnixMillis();
  if (now - last_heartbeat_ms_ >= heartbeat_interval_ms_) {
    last_heartbeat_ms_ = now;
    // Best effort: if the control plane is down the lease may lapse; the spool still has the
    // progress, and a re-run of the job is idempotent.
    if (Status st = cp_.reportProgress(job_id); !st.isOk()) {
      spdlog::warn("job {}: lease heartbeat failed: {}", job_id, st.toString());
    }
  }
}

void AgentRunner::executeAndReport(const protocol::Job& job, const std::atomic<bool>& stop) {
  if (Status st = spool_.saveJob(job); !st.isOk()) {
    // Without the spool a crash could lose the result; the lease will expire and the job return.
    spdlog::error("spool: cannot save job {}: {}; skipping it", job.job_id, st.toString());
    return;
  }
  auto prior = spool_.outcomes(job.job_id);
  std::map<std::string, protocol::IdentityOutcome> prior_outcomes;
  if (prior.isOk()) prior_outcomes = std::move(*prior);
  int64_t now = clock_.nowUnixMillis();
  if (job.lease_expires_at_ms > now) {
    heartbeat_interval_ms_ = std::max<int64_t>(1'000, (job.lease_expires_at_ms - now) / 3);
  }
  last_heartbeat_ms_ = now;
  spdlog::info("job {} (run {}): {} identities, attempt {}{}{}", job.job_id, job.run_id,
               job.identities.size(), job.attempt, job.dry_run ? ", dry run" : "",
               prior_outcomes.empty() ? ""
                                      : fmt::format(", resuming after {} done",
                                                    prior_outcomes.size()));
  ExecutorSettings settings = options_.executor;
  settings.gate = [this, &stop](const protocol::PlanSummary& plan) { return askGate(plan, stop); };
  JobExecutor executor(directory_, settings, clock_, this);
  protocol::JobResult result;
  for (int attempt = 1;; ++attempt) {
    result = executor.execute(job, prior_outcomes);
    if (executor.wasCancelled()) {
      // Stopping: what was done is in the spool; the job resumes at the next start.
      spdlog::info("job {} interrupted by shutdown; it resumes at the next start", job.job_id);
      return;
    }
    // A directory that cannot be reached now may be back in a minute: retry the job here (the
    // heartbeat keeps the lease) before reporting it failed. Other failures are final.
    bool transient = result.error_class == errorClassName(ErrorClass::kTransient);
    if (!transient || attempt >= options_.job_retries || stop) break;
    auto wait = cp_.nextBackoff(attempt + 2);
    spdlog::warn("job {}: {} (attempt {} of {}); retrying in {} ms", job.job_id,
                 result.error_message, attempt, options_.job_retries, wait.count());
    sleepFor(wait, stop);
    if (stop) return;
    if (Status st = cp_.reportProgress(job.job_id); !st.isOk()) {
      spdlog::warn("job {}: lease heartbeat failed: {}", job.job_id, st.toString());
    }
  }
  if (result.status == "held") {
    if (stop) return;  // no decision was had: the job resumes at the next start
    // The control plane holds the run until an operator decides; an approval re-queues the job.
    spdlog::warn("job {} held by the control plane: {}", job.job_id, result.error_message);
    (void)spool_.acknowledge(job.job_id);
    return;
  }
  if (Status st = spool_.saveResult(result); !st.isOk()) {
    spdlog::error("spool: cannot save result of job {}: {}", job.job_id, st.toString());
  }
  spdlog::info("job {} finished: {} ({} outcomes)", job.job_id, result.status,
               result.outcomes.size());
  flushPending(stop);
}

protocol::PlanDecision AgentRunner::askGate(const protocol::PlanSummary& plan,
                                            const std::atomic<bool>& stop) {
  // Nothing is applied without the control plane's word: retry until it answers (the lease may
  // lapse meanwhile; the job then simply runs again) or the agent stops.
  for (int attempt = 1;; ++attempt) {
    auto decision = cp_.submitPlan(plan);
    if (decision.isOk()) return *decision;
    if (decision.status().errorClass() == ErrorClass::kNotFound) {
      return protocol::PlanDecision{false, true, "the control plane no longer knows this job"};
    }
    if (stop) return protocol::PlanDecision{false, true, "agent stopping"};
    auto wait = cp_.nextBackoff(attempt);
    spdlog::warn("job {}: cannot submit the plan ({}); retrying in {} ms", plan.job_id,
                 decision.status().toString(), wait.count());
    sleepFor(wait, stop);
  }
}

bool AgentRunner::flushPending(const std::atomic<bool>& stop) {
  auto pending = spool_.pendingResults();
  if (!pending.isOk()) {
    spdlog::error("spool: cannot read pending results: {}", pending.status().toString());
    return false;
  }
  for (const auto& result : *pending) {
    for (int attempt = 0; !stop; ++attempt) {
      Status st = cp_.postResult(result);
      if (st.isOk()) {
        (void)spool_.acknowledge(result.job_id);
        break;
      }
      if (st.errorClass() == ErrorClass::kNotFound || st.errorClass() == ErrorClass::kData) {
        // The control plane will never take this result (unknown job, or it rejects the body):
        // keeping it would block every later result.
        spdlog::error("job {}: result refused permanently: {}; dropping it", result.job_id,
                      st.toString());
        (void)spool_.acknowledge(result.job_id);
        break;
      }
      auto wait = cp_.nextBackoff(attempt + 1);
      spdlog::warn("job {}: cannot deliver result ({}); retrying in {} ms", result.job_id,
                   st.toString(), wait.count());
      sleepFor(wait, stop);
    }
    if (stop) return false;
  }
  return true;
}

void AgentRunner::run(const std::atomic<bool>& stop) {
  // Work interrupted by a crash or a stop: finish it before asking for more.
  if (auto unfinished = spool_.unfinishedJobs(); unfinished.isOk()) {
    for (const auto& job : *unfinished) {
      if (stop) return;
      spdlog::info("resuming job {} from the spool", job.job_id);
      executeAndReport(job, stop);
    }
  }
  flushPending(stop);

  int failures = 0;
  while (!stop) {
    if (!flushPending(stop)) continue;
    auto polled = cp_.poll(options_.poll_wait_s);
    if (stop) break;
    if (!polled.isOk()) {
      auto wait = cp_.nextBackoff(++failures);
      spdlog::warn("poll failed: {}; retrying in {} ms", polled.status().toString(), wait.count());
      sleepFor(wait, stop);
      continue;
    }
    failures = 0;
    for (const auto& job : polled->jobs) {
      if (stop) break;
      executeAndReport(job, stop);
    }
  }
}

}  // namespace tenure::agent
