#pragma once
// JobExecutor: applies one leased job to the directory. For each person it reads the live account
// (found by employeeID), plans with the lifecycle engine, applies the plan, and reports an outcome.
// Safe to run twice: a job re-run after a crash finds its own earlier work and does nothing more.

#include <atomic>
#include <functional>
#include <map>
#include <string>

#include "agent/directory/directory_client.h"
#include "common/base/clock.h"
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
  // Job policy keys "users_ou", "leavers_ou" and "upn_suffix" (strings) override the settings.
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
