#pragma once
// Identity events: every change to a person, with its cause, kept in the tenant's own store
// (component schema "events"). Three kinds:
//   hr         the HR record changed: which fields (old -> new), which run, source, actor
//   directory  the agent changed (or first reported) the account: operations with their reason
//              (rule), run, agent; carries the directory state after the change
//   lifecycle  the lifecycle state the agent evaluated changed (active -> leave, ...)
// From these the state of an identity at any past instant is rebuilt (time travel).

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/hr/hr_record.h"
#include "common/protocol/messages.h"
#include "controlplane/store/identity_event_store.h"
#include "controlplane/store/tenant_store.h"

namespace tenure::cp {

// IdentityEvent (the stored row): controlplane/store/identity_event_store.h.

// The account as the agent last reported it.
struct DirectoryState {
  bool exists = true;  // false after a reported delete, or a failure before any account existed
  std::string dn;
  std::string sam_account_name;
  std::string upn;
  std::string mail;
  std::optional<bool> enabled;  // nullopt when never reported
  std::string state;            // lifecycle state the agent evaluated
  std::optional<std::vector<std::string>> groups;  // group DNs Tenure added, when known
  int64_t reported_at_ms = 0;
  std::string run_id;
};

// An identity at one instant: its HR record, its directory state and the events up to then.
struct IdentityAt {
  std::optional<hr::HrRecord> hr;
  std::optional<DirectoryState> directory;
  std::vector<IdentityEvent> events;  // oldest first
};

// Records the HR side of a submission: one event per person whose record is new or differs from
// the last recorded one (unchanged records are not events).
Status recordHrEvents(TenantStore& store, const std::string& run_id, const std::string& source,
                      const std::string& actor, int64_t at_ms, bool dry_run,
                      const std::vector<hr::HrRecord>& records);

// Records an agent's result for a run: directory events per person with operations (or whose
// reported account differs from what was known), lifecycle events on a state change. Dry runs
// change nothing and record nothing. Recording the same run again replaces its events.
Status recordDirectoryEvents(TenantStore& store, const std::string& run_id,
                             const std::string& agent_id, int64_t at_ms,
                             const protocol::JobResult& result);

// The identity as of `as_of_ms` (events with at_ms <= as_of_ms); nullopt when the store has
// never heard of the person (no event and no HR record).
Result<std::optional<IdentityAt>> identityAt(TenantStore& store, const std::string& employee_id,
                                             int64_t as_of_ms);

// Events of one person, oldest first, at most `limit`, with id > after_id.
Result<std::vector<IdentityEvent>> identityEvents(TenantStore& store,
                                                  const std::string& employee_id,
                                                  int64_t after_id, int limit);

boost::json::object toJson(const IdentityEvent& e);
boost::json::object toJson(const DirectoryState& d);

// "2026-11-22T01:37:46Z", "2026-11-22T01:37:46.250+01:00" (RFC 3339) or epoch milliseconds.
// A data error for anything else.
Result<int64_t> parseInstant(std::string_view text);

}  // namespace tenure::cp
