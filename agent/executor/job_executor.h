#pragma once
// JobExecutor: runs one leased job against the directory in two phases. First it plans everyone
// (reads only: the live accounts by employeeID, name checks, group memberships through memberOf),
// with the tenant policy the job carries and the job's evaluation instant. Then it asks the gate
// (the control plane's safety thresholds) and applies the plan only when told to proceed; a held
// run writes nothing. A dry run plans, reports the operations and writes nothing.
// Safe to run twice: a job re-run after a crash finds its own earlier work and does nothing more.

#include <atomic>
#include <functional>
#include <map>
#include <string>

#include "agent/directory/directory_client.h"
#include "common/base/clock.h"
#include "common/base/zone_database.h"
#include "common/protocol/messages.h"

namespace tenure::agent {

struct ExecutorSettings {
  std::string users_base_dn;  // OU new accounts go to, e.g. "OU=Staff,DC=example,DC=test"
  std::string leavers_ou;     // OU terminated accounts move to; empty: they stay where they are
  std::string upn_suffix;     // derived from the DC= parts of users_base_dn when empty
  std::string agent_version;  // reported in JobResult
  // When set and it becomes true, execute() stops between two people and wasCancelled() is true;
  // the partial result must not be reported (the job is resumed from the spool later).
  const std::atomic<bool>* cancel = nullptr;
  // Asked after planning and before anything is written (never for dry runs): the control plane
  // checks the run against the tenant's safety thresholds. Absent: proceed.
  std::function<protocol::PlanDecision(const protocol::PlanSummary&)> gate;
  // The agent's own tz database, used only for a job that carries no zone (from a control plane
  // older than Job::time_zone). Null: systemZoneDatabase(), which is empty on Windows.
  const ZoneDatabase* zones = nullptr;
};

// Told about each person's outcome as soon as it is known (the agent spools it). It may be called
// twice for a person whose manager could only be set after the rest of the job: the later call
// supersedes the earlier one.
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void onOutcome(const std::string& job_id, const protocol::IdentityOutcome& outcome) = 0;
};

// A random password of 24 characters with upper- and lower-case letters, digits and symbols
// (meets AD complexity). Accounts are created with "must change password at next logon".
std::string generateInitialPassword();

class JobExecutor {
 public:
  // `password_generator` defaults to generateInitialPassword.
  JobExecutor(DirectoryClient& dir, ExecutorSettings s, const Clock& clock,
              ProgressSink* sink = nullptr, std::function<std::string()> password_generator = {});

  // Runs `job`. `prior`: outcomes already recorded for this job by an earlier, interrupted attempt,
  // by employee_id; a person whose plan is now empty is reported with the prior outcome.
  // `job.policy` is the tenant policy document (empty: the default policy; invalid: the job fails
  // with a config error); the settings' OUs and UPN suffix apply where the policy names none.
  // Dates are evaluated in the policy's time zone with the rules `job.time_zone` carries, else
  // those of settings.zones (a zone found in neither fails the job with a config error).
  // `job.now_ms` is the evaluation instant for effective dates (0: the clock);
  // `job.reserved_names` are never given to anyone. Result status: succeeded | partial | failed |
  // held (the gate held the run; nothing was written; outcomes hold the plan).
  protocol::JobResult execute(const protocol::Job& job,
                              const std::map<std::string, protocol::IdentityOutcome>& prior = {});
  // True when the last execute() stopped early because settings.cancel was set.
  bool wasCancelled() const { return cancelled_; }

 private:
  bool cancelRequested() const { return settings_.cancel != nullptr && settings_.cancel->load(); }
  DirectoryClient& dir_;
  ExecutorSettings settings_;
  const Clock& clock_;
  ProgressSink* sink_;
  std::function<std::string()> password_generator_;
  bool cancelled_ = false;
};

}  // namespace tenure::agent
