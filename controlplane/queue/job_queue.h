#pragma once
// JobQueue: the control plane's work queue for agents. Jobs are queued (by intake, approvals and
// recovery), leased to an agent of the job's tenant with the run's identities and policy, kept
// alive by heartbeats, and completed with the agent's result (recorded in the tenant store first,
// then in the queue, so a crash in between is healed by recover()). A poll that finds nothing is
// held open until a job is queued for its tenant, its wait runs out or the queue stops holding.
// Retries with backoff, quarantine after max_attempts, and the tickets results call for are
// decided here. No HTTP: the API layer parses requests and turns the answers into responses.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/status.h"
#include "common/base/zone_database.h"
#include "common/protocol/messages.h"
#include "controlplane/store/control_store.h"
#include "controlplane/store/tenant_store.h"
#include "controlplane/tickets/ticket_raiser.h"

namespace tenure::cp {

struct QueueOptions {
  std::chrono::milliseconds lease{120'000};         // a job's lease; agents extend it while working
  int max_attempts = 5;                             // leases before a job is quarantined
  int max_wait_s = 60;                              // cap on a poll's wait
  std::chrono::milliseconds sweep_interval{1'000};  // how often held polls look for expired leases
  // A job whose lease expired or whose agent reported a transient failure is retried after
  // min(retry_base * 2^attempts, retry_cap).
  std::chrono::milliseconds retry_base{1'000};
  std::chrono::milliseconds retry_cap{300'000};
  // Where the zone rules a job carries come from (Job::time_zone). Null: systemZoneDatabase().
  const ZoneDatabase* zones = nullptr;
};

// How a poll ends.
struct PollAnswer {
  enum class Kind {
    kJobs,     // `jobs` (empty: nothing to do now)
    kRevoked,  // the agent was revoked while its poll was held: node_invalid
    kFailed,   // a store failed (`error`)
  };
  Kind kind = Kind::kJobs;
  std::vector<protocol::Job> jobs;
  Status error;
};
using PollCallback = std::function<void(PollAnswer)>;

// What a result did to its job.
enum class Completion {
  kRecorded,     // recorded in the run, the job is done
  kDuplicate,    // the job was done already (the agent retried a result we committed)
  kIgnoredHeld,  // the run is held for approval: nothing applied, the result must not finish it
  kRetryLater,  // a transient job-level failure: back in the queue after a backoff (or quarantined)
};

class JobQueue {
 public:
  // `tickets` receives job_quarantined and result detections (job_failed, bad_hr_data,
  // directory_permission); it must outlive the queue.
  JobQueue(boost::asio::io_context& io, ControlStore& control, TenantStores& tenants,
           const Clock& clock, TicketRaiser& tickets, QueueOptions options = {});
  ~JobQueue();
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  const QueueOptions& options() const { return options_; }

  // Queues the job (idempotent by job_id) and wakes the tenant's held polls.
  Status enqueue(const JobRecord& job);
  // Wakes the tenant's held polls (a job became leasable: queued, approved).
  void wake(const std::string& tenant_id);

  // An agent asks for work: a job is leased to it at once when one is ready, otherwise the poll is
  // held for up to `wait_s` (capped by max_wait_s; 0: answered at once). `peer_closed`, when
  // given, says the agent went away (nothing is leased to a poll whose connection closed).
  // `done` is called exactly once, possibly later on the io_context.
  void poll(const std::string& tenant_id, const std::string& agent_id, int wait_s,
            std::shared_ptr<const std::atomic<bool>> peer_closed, PollCallback done);
  // The agent's held polls are answered kRevoked now: a poll held open must not lease it a job.
  void releaseRevoked(const std::string& agent_id);
  // The tenant's held polls are answered empty now (the tenant was deleted; their agents' next
  // call is refused).
  void releaseTenant(const std::string& tenant_id);

  // The agent is still working on the job: its lease is extended by `lease`. Conflict or
  // not_found when the lease is no longer the agent's.
  Status heartbeat(const std::string& job_id, const std::string& agent_id);

  // The agent's result for `job` (a job of the agent's tenant; `result.job_id` set). Counts the
  // result in the agent's health; tombstones the names of deleted accounts, records the outcomes
  // and the identity events in the tenant store, then completes the job and raises or clears the
  // tickets the result calls for.
  Result<Completion> complete(const AgentRecord& agent, const JobRecord& job,
                              const protocol::JobResult& result);

  // Startup recovery after a crash: every unfinished run gets its job back in the queue (the run
  // is written to the tenant store before the job to the control store), jobs whose run is
  // already finished are completed, and held or approved runs bring their jobs along.
  Status recover();
  // Marks the runs of quarantined jobs failed (their leases expired max_attempts times: the agent
  // crashed or hung on them each time), so no run stays "running" forever.
  Status failQuarantinedRuns();

  // Starts the periodic sweep that hands expired leases to held polls.
  void start();
  // Answers every held poll with no jobs and stops holding new ones (graceful drain).
  void stopHoldingPolls();
  size_t heldPolls() const;
  // Held polls of one agent whose connection is still open.
  size_t heldPollsOf(const std::string& agent_id) const;

 private:
  struct Waiter {
    uint64_t id;
    std::string tenant_id;
    std::string agent_id;
    PollCallback done;
    std::shared_ptr<boost::asio::steady_timer> timer;
    std::shared_ptr<const std::atomic<bool>> peer_closed;  // the agent went away: never lease to it
    // Its wait ran out while wake() had it out of the map (guarded by waiters_mu_): it must be
    // answered, not put back to wait without a timer.
    bool expired = false;
  };

  // Leases the next job of the tenant to the agent and builds its message; nullopt when none is
  // ready. A permission error: the agent was revoked.
  Result<std::optional<protocol::Job>> leaseFor(const std::string& tenant_id,
                                                const std::string& agent_id);
  // The rules of zone `name` for a job (Job::time_zone): none for "UTC", nor when the zone
  // database cannot give them (logged).
  std::optional<protocol::JobTimeZone> zoneForJob(const std::string& name,
                                                  const std::string& job_id) const;
  void answerWaiter(const std::shared_ptr<Waiter>& w, bool try_lease);
  static void answerRevoked(const std::shared_ptr<Waiter>& w);
  // Answers the agent's held polls empty (it sent a new one: the old connections are stale, e.g.
  // the agent restarted) and forgets held polls whose connection closed.
  void releaseStaleWaiters(const std::string& agent_id);
  void scheduleSweep();

  // A job was quarantined: its run fails and a job_quarantined ticket is raised.
  Status onJobQuarantined(const JobRecord& job, const std::string& why);
  // Counts the result for the agent's health; a transient job-level failure is retried later
  // (true: the result was not recorded, the job waits in the queue).
  bool retryTransientFailure(const AgentRecord& agent, const JobRecord& job,
                             const protocol::JobResult& result);
  // Ticket detectors (result_detectors.cpp): what a job result says about the tenant's problems.
  void detectResultProblems(const std::string& tenant_id, const JobRecord& job,
                            const protocol::JobResult& result);

  boost::asio::io_context& io_;
  ControlStore& control_;
  TenantStores& tenants_;
  const Clock& clock_;
  TicketRaiser& tickets_;
  QueueOptions options_;

  mutable std::mutex waiters_mu_;
  std::map<uint64_t, std::shared_ptr<Waiter>> waiters_;
  uint64_t next_waiter_id_ = 1;
  bool holding_ = true;
  std::shared_ptr<boost::asio::steady_timer> sweep_timer_;
  int sweeps_ = 0;
  std::shared_ptr<std::atomic<bool>> alive_;
};

}  // namespace tenure::cp
