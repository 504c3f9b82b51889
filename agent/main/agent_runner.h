#pragma once
// AgentRunner: the agent's main loop, the same on Linux and Windows. Long-polls the control plane,
// executes leased jobs against the directory, keeps every job and result in the local spool until
// the control plane acknowledges it, and resumes interrupted work after a restart.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "agent/directory/directory_client.h"
#include "agent/executor/job_executor.h"
#include "agent/spool/result_spool.h"
#include "agent/transport/control_plane_client.h"
#include "common/base/clock.h"

namespace tenure::agent {

struct RunnerOptions {
  int poll_wait_s = 25;
  int job_retries = 4;  // executions of a job whose failure is transient (directory unreachable)
  ExecutorSettings executor;
};

class AgentRunner : public ProgressSink {
 public:
  AgentRunner(ControlPlaneClient& cp, ResultSpool& spool, DirectoryClient& directory,
              const Clock& clock, RunnerOptions options);

  // Runs until `stop` becomes true. Returns after finishing or abandoning (to the spool) the
  // current step; nothing is lost either way.
  void run(const std::atomic<bool>& stop);

  // ProgressSink: spools each person's outcome and keeps the job's lease alive.
  void onOutcome(const std::string& job_id, const protocol::IdentityOutcome& outcome) override;

 private:
  void executeAndReport(const protocol::Job& job, const std::atomic<bool>& stop);
  // The plan gate: asks the control plane whether the job may be applied.
  protocol::PlanDecision askGate(const protocol::PlanSummary& plan, const std::atomic<bool>& stop);
  // Posts spooled results; true when nothing is left pending.
  bool flushPending(const std::atomic<bool>& stop);
  void sleepFor(std::chrono::milliseconds d, const std::atomic<bool>& stop);

  ControlPlaneClient& cp_;
  ResultSpool& spool_;
  DirectoryClient& directory_;
  const Clock& clock_;
  RunnerOptions options_;
  // Lease heartbeat of the job being executed.
  int64_t heartbeat_interval_ms_ = 30'000;
  int64_t last_heartbeat_ms_ = 0;
};

}  // namespace tenure::agent
