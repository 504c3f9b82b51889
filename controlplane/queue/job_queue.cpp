#include "controlplane/queue/job_queue.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include <algorithm>
#include <utility>

#include "common/base/json_fields.h"
#include "common/policy/policy.h"
#include "controlplane/audit/identity_events.h"
#include "controlplane/policy/tenant_policy.h"

namespace tenure::cp {

namespace bj = boost::json;

JobQueue::JobQueue(boost::asio::io_context& io, ControlStore& control, TenantStores& tenants,
                   const Clock& clock, TicketRaiser& tickets, QueueOptions options)
    : io_(io),
      control_(control),
      tenants_(tenants),
      clock_(clock),
      tickets_(tickets),
      options_(options),
      alive_(std::make_shared<std::atomic<bool>>(true)) {
  control_.setRetryBackoff(RetryBackoff{options_.retry_base.count(), options_.retry_cap.count()});
}

JobQueue::~JobQueue() {
  *alive_ = false;
  if (sweep_timer_) sweep_timer_->cancel();
}

// ---------------------------------------------------------------------------------------------
// Queueing and held polls

Status JobQueue::enqueue(const JobRecord& job) {
  RETURN_IF_ERROR(control_.enqueueJob(job));
  wake(job.tenant_id);
  return Status::ok();
}

void JobQueue::start() { scheduleSweep(); }

void JobQueue::scheduleSweep() {
  sweep_timer_ = std::make_shared<boost::asio::steady_timer>(io_);
  sweep_timer_->expires_after(options_.sweep_interval);
  auto alive = alive_;
  sweep_timer_->async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    // One held poll per tenant tries to lease: this hands over jobs whose lease expired.
    std::vector<std::string> tenants;
    {
      std::lock_guard lk(waiters_mu_);
      if (!holding_) return;
      for (const auto& [id, w] : waiters_) {
        if (std::find(tenants.begin(), tenants.end(), w->tenant_id) == tenants.end()) {
          tenants.push_back(w->tenant_id);
        }
      }
    }
    for (const auto& t : tenants) wake(t);
    if (++sweeps_ % 30 == 0) {
      if (Status st = failQuarantinedRuns(); !st.isOk()) {
        spdlog::error("quarantine sweep: {}", st.toString());
      }
    }
    scheduleSweep();
  });
}

size_t JobQueue::heldPolls() const {
  std::lock_guard lk(waiters_mu_);
  return waiters_.size();
}

size_t JobQueue::heldPollsOf(const std::string& agent_id) const {
  std::lock_guard lk(waiters_mu_);
  return static_cast<size_t>(std::count_if(waiters_.begin(), waiters_.end(), [&](const auto& w) {
    // A poll whose agent closed the connection waits for nothing (it is dropped on the next wake).
    return w.second->agent_id == agent_id &&
           !(w.second->peer_closed && w.second->peer_closed->load());
  }));
}

std::optional<protocol::JobTimeZone> JobQueue::zoneForJob(const std::string& name,
                                                          const std::string& job_id) const {
  if (name == "UTC") return std::nullopt;  // every agent knows UTC without data
  const ZoneDatabase& zones = options_.zones != nullptr ? *options_.zones : systemZoneDatabase();
  auto tzif = zones.tzif(name);
  if (!tzif.isOk()) {
    // The zone was checked against this database when the policy was saved, so only a tzdata
    // change since then gets here: the job goes without it, and the agent falls back on its own
    // tz database as it does for a control plane older than the field.
    spdlog::warn("job {}: time zone {} not sent with it: {}", job_id, name,
                 tzif.status().toString());
    return std::nullopt;
  }
  return protocol::JobTimeZone{name, std::move(*tzif)};
}

Result<std::optional<protocol::Job>> JobQueue::leaseFor(const std::string& tenant_id,
                                                        const std::string& agent_id) {
  ASSIGN_OR_RETURN(auto store, tenants_.forTenant(tenant_id));
  for (;;) {
    std::vector<JobRecord> quarantined;
    ASSIGN_OR_RETURN(auto leased, control_.leaseNextJob(tenant_id, agent_id, options_.lease.count(),
                                                        options_.max_attempts, &quarantined));
    for (const auto& q : quarantined) {
      if (Status st = onJobQuarantined(q,
                                       "its lease expired each time (agent crashed, hung or "
                                       "lost its connection while working on it)");
          !st.isOk()) {
        spdlog::error("quarantine of job {}: {}", q.job_id, st.toString());
      }
    }
    if (!leased) return std::optional<protocol::Job>();
    const JobRecord& rec = *leased;
    ASSIGN_OR_RETURN(auto run, store->run(rec.run_id));
    if (!run) {
      // The job outlived its run (cannot happen in normal operation): drop it rather than wedge.
      spdlog::error("job {} has no run {} in tenant {}; completing it", rec.job_id, rec.run_id,
                    tenant_id);
      (void)control_.completeJob(rec.job_id);
      continue;
    }
    ASSIGN_OR_RETURN(auto identities, store->runIdentities(rec.run_id));
    ASSIGN_OR_RETURN(policy::Policy pol, tenantPolicyVersion(*store, run->policy_version));
    const int64_t now = clock_.nowUnixMillis();
    ASSIGN_OR_RETURN(auto reserved, store->reservedNames(now, pol.lifecycle.name_reuse_days));
    RETURN_IF_ERROR(store->markRunning(rec.run_id, agent_id));
    protocol::Job job;
    // The window is judged here, never by the agent.
    if (bj::value doc = policy::toJson(policy::agentPolicy(pol)); doc.is_object()) {
      job.policy = std::move(doc.get_object());
    }
    job.time_zone = zoneForJob(pol.lifecycle.time_zone, rec.job_id);
    job.now_ms = now;
    job.approved = rec.approved;
    job.reserved_names = std::move(reserved);
    job.job_id = rec.job_id;
    job.run_id = rec.run_id;
    job.kind = rec.kind;
    job.attempt = rec.attempts;
    job.dry_run = run->dry_run;
    job.lease_expires_at_ms = rec.lease_expires_at_ms;
    job.identities = std::move(identities);
    spdlog::info("job {} (run {}, {} identities, attempt {}) leased to agent {}", job.job_id,
                 job.run_id, job.identities.size(), job.attempt, agent_id);
    return std::optional<protocol::Job>(std::move(job));
  }
}

void JobQueue::poll(const std::string& tenant_id, const std::string& agent_id, int wait_s,
                    std::shared_ptr<const std::atomic<bool>> peer_closed, PollCallback done) {
  // Before leasing: a job must go to this live poll, not to a poll the agent left behind.
  releaseStaleWaiters(agent_id);
  auto job = leaseFor(tenant_id, agent_id);
  if (!job.isOk()) {
    done(PollAnswer{PollAnswer::Kind::kFailed, {}, job.status()});
    return;
  }
  if (job->has_value()) {
    PollAnswer answer;
    answer.jobs.push_back(std::move(**job));
    done(std::move(answer));
    return;
  }
  wait_s = std::min(wait_s, options_.max_wait_s);
  std::unique_lock lk(waiters_mu_);
  if (wait_s <= 0 || !holding_) {
    lk.unlock();
    done(PollAnswer{});
    return;
  }
  auto w = std::make_shared<Waiter>();
  w->id = next_waiter_id_++;
  w->tenant_id = tenant_id;
  w->agent_id = agent_id;
  w->done = std::move(done);
  w->peer_closed = std::move(peer_closed);
  w->timer = std::make_shared<boost::asio::steady_timer>(io_);
  w->timer->expires_after(std::chrono::seconds(wait_s));
  waiters_[w->id] = w;
  lk.unlock();
  uint64_t id = w->id;
  auto alive = alive_;
  std::weak_ptr<Waiter> weak = w;
  w->timer->async_wait([this, alive, id, weak](const boost::system::error_code& ec) {
    if (ec || !*alive) return;  // cancelled: someone else answered
    std::shared_ptr<Waiter> taken;
    {
      std::lock_guard lk(waiters_mu_);
      if (auto it = waiters_.find(id); it != waiters_.end()) {
        taken = it->second;
        waiters_.erase(it);
      } else if (auto held = weak.lock()) {
        held->expired = true;  // wake() holds it now and answers it instead of keeping it
      }
    }
    if (taken) answerWaiter(taken, /*try_lease=*/true);
  });
}

void JobQueue::releaseStaleWaiters(const std::string& agent_id) {
  std::vector<std::shared_ptr<Waiter>> stale;
  {
    std::lock_guard lk(waiters_mu_);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      const bool closed = it->second->peer_closed && it->second->peer_closed->load();
      if (closed || it->second->agent_id == agent_id) {
        stale.push_back(it->second);
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& w : stale) {
    spdlog::debug("released a stale held poll of agent {}", w->agent_id);
    answerWaiter(w, /*try_lease=*/false);  // a no-op write when the connection is gone
  }
}

void JobQueue::answerWaiter(const std::shared_ptr<Waiter>& w, bool try_lease) {
  w->timer->cancel();
  PollAnswer answer;
  if (try_lease && !(w->peer_closed && w->peer_closed->load())) {
    auto job = leaseFor(w->tenant_id, w->agent_id);
    if (!job.isOk()) {
      // The store refuses a lease only to an agent revoked while its poll was held (by the
      // command line, or another replica): what its next call would hear.
      if (job.status().errorClass() == ErrorClass::kPermission) {
        answerRevoked(w);
      } else {
        w->done(PollAnswer{PollAnswer::Kind::kFailed, {}, job.status()});
      }
      return;
    }
    if (job->has_value()) answer.jobs.push_back(std::move(**job));
  }
  w->done(std::move(answer));
}

void JobQueue::answerRevoked(const std::shared_ptr<Waiter>& w) {
  w->timer->cancel();
  w->done(PollAnswer{PollAnswer::Kind::kRevoked, {}, Status::ok()});
}

void JobQueue::wake(const std::string& tenant_id) {
  // Hand jobs to held polls of this tenant until one of them finds nothing to lease.
  for (;;) {
    std::shared_ptr<Waiter> w;
    {
      std::lock_guard lk(waiters_mu_);
      for (auto it = waiters_.begin(); it != waiters_.end();) {
        if (it->second->tenant_id != tenant_id) {
          ++it;
          continue;
        }
        w = it->second;
        it = waiters_.erase(it);
        if (w->peer_closed && w->peer_closed->load()) {
          // The agent closed this poll's connection: a job leased to it would sit until its
          // lease expired. Drop it (its timer's answer finds nothing) and try the next one.
          w->timer->cancel();
          w.reset();
          continue;
        }
        break;
      }
    }
    if (!w) return;
    auto job = leaseFor(w->tenant_id, w->agent_id);
    if (!job.isOk() && job.status().errorClass() == ErrorClass::kPermission) {
      // Revoked while its poll was held (see answerWaiter): it leases nothing, the next held
      // poll of the tenant gets the job.
      answerRevoked(w);
      continue;
    }
    if (!job.isOk()) {
      w->timer->cancel();
      w->done(PollAnswer{PollAnswer::Kind::kFailed, {}, job.status()});
      return;
    }
    if (!job->has_value()) {
      // Nothing to hand out: put the poll back to keep waiting, unless its wait ran out meanwhile
      // (its timer found it gone): then it is answered empty below.
      std::lock_guard lk(waiters_mu_);
      if (holding_ && !w->expired) {
        waiters_[w->id] = w;
        return;
      }
    }
    w->timer->cancel();
    PollAnswer answer;
    if (job->has_value()) answer.jobs.push_back(std::move(**job));
    const bool handed_out = !answer.jobs.empty();
    w->done(std::move(answer));
    if (!handed_out) return;
  }
}

void JobQueue::releaseRevoked(const std::string& agent_id) {
  std::vector<std::shared_ptr<Waiter>> held;
  {
    std::lock_guard lk(waiters_mu_);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second->agent_id == agent_id) {
        held.push_back(it->second);
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& w : held) answerRevoked(w);
}

void JobQueue::releaseTenant(const std::string& tenant_id) {
  std::vector<std::shared_ptr<Waiter>> held;
  {
    std::lock_guard lk(waiters_mu_);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second->tenant_id == tenant_id) {
        held.push_back(it->second);
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& w : held) answerWaiter(w, /*try_lease=*/false);
}

void JobQueue::stopHoldingPolls() {
  std::map<uint64_t, std::shared_ptr<Waiter>> held;
  {
    std::lock_guard lk(waiters_mu_);
    holding_ = false;
    held.swap(waiters_);
  }
  if (sweep_timer_) sweep_timer_->cancel();
  for (auto& [id, w] : held) answerWaiter(w, /*try_lease=*/false);
}

// ---------------------------------------------------------------------------------------------
// Heartbeats and results

Status JobQueue::heartbeat(const std::string& job_id, const std::string& agent_id) {
  return control_.extendLease(job_id, agent_id, options_.lease.count());
}

Result<Completion> JobQueue::complete(const AgentRecord& agent, const JobRecord& rec,
                                      const protocol::JobResult& result) {
  // A retry of a result we already committed (the agent did not see our answer).
  if (rec.state == JobState::kDone) return Completion::kDuplicate;
  // Nothing was applied and the run waits for an operator: a result now must not finish it.
  if (rec.state == JobState::kHeld) return Completion::kIgnoredHeld;
  if (retryTransientFailure(agent, rec, result)) return Completion::kRetryLater;
  ASSIGN_OR_RETURN(auto store, tenants_.forTenant(agent.tenant_id));
  // The tenant store first, then the queue: a crash in between leaves the job leased, and
  // recover() completes it because its run is finished.
  // Names of deleted accounts are tombstoned first, so a crash can never free them early.
  std::vector<Tombstone> tombstones;
  for (const auto& o : result.outcomes) {
    if (o.action != "deleted") continue;
    for (const auto& [name, kind] : {std::pair{o.sam_account_name, "sam"}, std::pair{o.upn, "upn"},
                                     std::pair{o.mail, "mail"}}) {
      if (!name.empty()) {
        tombstones.push_back(Tombstone{name, kind, o.employee_id, clock_.nowUnixMillis()});
      }
    }
  }
  if (!tombstones.empty()) RETURN_IF_ERROR(store->addTombstones(tombstones));
  RETURN_IF_ERROR(store->recordResult(rec.run_id, result, agent.agent_id));
  // On failure the job stays open, so the agent posts again and the events are recorded then.
  RETURN_IF_ERROR(
      recordDirectoryEvents(*store, rec.run_id, agent.agent_id, clock_.nowUnixMillis(), result));
  ASSIGN_OR_RETURN(bool completed, control_.completeJob(rec.job_id));
  (void)completed;
  detectResultProblems(agent.tenant_id, rec, result);
  spdlog::info("job {} result from agent {}: {} ({} outcomes)", rec.job_id, agent.agent_id,
               result.status, result.outcomes.size());
  return Completion::kRecorded;
}

bool JobQueue::retryTransientFailure(const AgentRecord& agent, const JobRecord& job,
                                     const protocol::JobResult& result) {
  const bool failed = result.status == "failed";
  std::string error = result.error_message;
  if (error.empty()) {
    for (const auto& o : result.outcomes) {
      if (o.failed()) {
        error = o.employee_id + ": " + o.error_message;
        break;
      }
    }
  }
  if (Status st = control_.recordAgentResult(agent.agent_id, failed, error); !st.isOk()) {
    spdlog::warn("agent health of {}: {}", agent.agent_id, st.toString());
  }
  const bool transient = failed && result.error_class == errorClassName(ErrorClass::kTransient);
  if (!transient || job.state != JobState::kLeased || job.agent_id != agent.agent_id) {
    return false;
  }
  if (job.attempts >= options_.max_attempts) {
    if (Status st = control_.quarantineJob(job.job_id); !st.isOk()) {
      spdlog::error("quarantine of job {}: {}", job.job_id, st.toString());
      return false;
    }
    JobRecord q = job;
    q.state = JobState::kQuarantined;
    if (Status st = onJobQuarantined(
            q, "the agent reported a transient failure each time (" + result.error_message + ")");
        !st.isOk()) {
      spdlog::error("quarantine of job {}: {}", job.job_id, st.toString());
    }
    return true;
  }
  auto retried = control_.retryJobLater(job.job_id, agent.agent_id);
  if (!retried.isOk()) {
    spdlog::warn("retry of job {}: {}", job.job_id, retried.status().toString());
    return false;
  }
  spdlog::warn("tenant {}: job {} failed transiently on agent {} ({}); retry {} not before {}",
               job.tenant_id, job.job_id, agent.agent_id, result.error_message, job.attempts + 1,
               formatIso8601Utc(retried->not_before_ms / 1000));
  return true;
}

Status JobQueue::onJobQuarantined(const JobRecord& job, const std::string& why) {
  ASSIGN_OR_RETURN(auto store, tenants_.forTenant(job.tenant_id));
  ASSIGN_OR_RETURN(auto run, store->run(job.run_id));
  if (run && (run->status == RunStatus::kQueued || run->status == RunStatus::kRunning)) {
    protocol::JobResult failed;
    failed.job_id = job.job_id;
    failed.status = "failed";
    failed.error_class = std::string(errorClassName(ErrorClass::kTransient));
    failed.error_message =
        "job quarantined after " + std::to_string(job.attempts) + " attempts: " + why;
    RETURN_IF_ERROR(store->recordResult(job.run_id, failed));
    spdlog::error("tenant {}: run {} failed: {}", job.tenant_id, job.run_id, failed.error_message);
  }
  tickets_.raise(Detection{job.tenant_id, "job_quarantined", job.job_id,
                           "job " + job.job_id + " (" + job.kind + ") quarantined after " +
                               std::to_string(job.attempts) + " attempts: " + why,
                           "check the agents' logs and the directory's reachability; the run "
                           "can be submitted again once the cause is fixed"});
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// Recovery

Status JobQueue::recover() {
  ASSIGN_OR_RETURN(auto tenants, control_.listTenants());
  int requeued = 0, completed = 0;
  for (const auto& t : tenants) {
    ASSIGN_OR_RETURN(auto store, tenants_.forTenant(t.tenant_id));
    ASSIGN_OR_RETURN(auto unfinished, store->unfinishedRuns());
    for (const auto& run : unfinished) {
      JobRecord job;
      job.job_id = run.run_id;
      job.tenant_id = t.tenant_id;
      job.run_id = run.run_id;
      job.kind = run.kind;
      job.priority = run.source == "schedule" ? 0 : 10;  // batch work stays behind pushes
      job.created_at_ms = run.created_at_ms;
      ASSIGN_OR_RETURN(auto existing, control_.job(job.job_id));
      if (!existing) {
        RETURN_IF_ERROR(control_.enqueueJob(job));
        ++requeued;
      }
    }
    ASSIGN_OR_RETURN(auto jobs, control_.listJobs(t.tenant_id));
    for (const auto& j : jobs) {
      if (j.state == JobState::kDone || j.state == JobState::kQuarantined) continue;
      ASSIGN_OR_RETURN(auto run, store->run(j.run_id));
      if (!run) continue;
      if (run->status == RunStatus::kSucceeded || run->status == RunStatus::kPartial ||
          run->status == RunStatus::kFailed || run->status == RunStatus::kRejected) {
        ASSIGN_OR_RETURN(bool changed, control_.completeJob(j.job_id));
        if (changed) ++completed;
      } else if (run->status == RunStatus::kHeld && j.state != JobState::kHeld) {
        RETURN_IF_ERROR(control_.holdJob(j.job_id));  // crashed between holding run and job
      } else if (run->status == RunStatus::kQueued && j.state == JobState::kHeld &&
                 !run->approved_by.empty()) {
        RETURN_IF_ERROR(control_.requeueApproved(j.job_id));  // crashed inside an approval
        ++requeued;
      }
    }
  }
  RETURN_IF_ERROR(failQuarantinedRuns());
  if (requeued || completed) {
    spdlog::info("recovery: {} run(s) re-queued, {} finished job(s) completed", requeued,
                 completed);
  }
  return Status::ok();
}

Status JobQueue::failQuarantinedRuns() {
  ASSIGN_OR_RETURN(auto tenants, control_.listTenants());
  for (const auto& t : tenants) {
    ASSIGN_OR_RETURN(auto jobs, control_.listJobs(t.tenant_id));
    std::shared_ptr<TenantStore> store;
    for (const auto& j : jobs) {
      if (j.state != JobState::kQuarantined) continue;
      if (!store) {
        ASSIGN_OR_RETURN(store, tenants_.forTenant(t.tenant_id));
      }
      ASSIGN_OR_RETURN(auto run, store->run(j.run_id));
      if (!run || (run->status != RunStatus::kQueued && run->status != RunStatus::kRunning)) {
        continue;
      }
      RETURN_IF_ERROR(onJobQuarantined(j,
                                       "its lease expired each time (agent crashed, hung or "
                                       "lost its connection while working on it)"));
    }
  }
  return Status::ok();
}

}  // namespace tenure::cp
