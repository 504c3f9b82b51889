#pragma once
// IdentityEventStore: the per-person timeline of a tenant: HR changes, directory outcomes and
// lifecycle changes (controlplane/audit/identity_events.h), each event with the snapshot it
// leaves, from which the person's state at a past instant is rebuilt.
// Implemented for SQLite by SqliteIdentityEventStore (controlplane/store/sqlite/).

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace tenure::cp {

struct IdentityEvent {
  int64_t id = 0;
  std::string employee_id;
  int64_t at_ms = 0;
  std::string kind;    // hr | directory | lifecycle
  std::string source;  // hr: csv | json | scim | ...; directory/lifecycle: agent
  std::string actor;   // hr: the submitting token's name or "hr"; else "agent <agent_id>"
  std::string run_id;
  std::string agent_id;        // directory / lifecycle only
  std::string summary;         // one human sentence: the cause
  boost::json::object detail;  // hr: {"changes": {field: {old, new}}}; directory: operations
};

// What the store keeps of a person up to an instant (IdentityEventStore::history).
struct IdentityHistory {
  int64_t total_events = 0;  // the person's events at any time
  // The snapshots the newest "hr" and "directory" events at or before the instant left.
  std::optional<std::string> hr_snapshot;
  std::optional<std::string> directory_snapshot;
  std::vector<IdentityEvent> events;  // at or before the instant, oldest first
};

class IdentityEventStore {
 public:
  virtual ~IdentityEventStore() = default;

  // The reads and writes of one recording, inside its transaction. A snapshot is the JSON
  // document of what an event left behind (the HR record, or the directory state); "" for an
  // event that leaves none (lifecycle).
  class Recording {
   public:
    virtual ~Recording() = default;
    // The newest non-empty snapshot of `kind` ("hr" | "directory") of a person at or before
    // `as_of_ms` (newest by time, then by insertion), ignoring the events of `except_run`.
    // Sees what this recording appended.
    virtual Result<std::optional<std::string>> lastSnapshot(const std::string& employee_id,
                                                            std::string_view kind, int64_t as_of_ms,
                                                            const std::string& except_run = "") = 0;
    virtual Status append(const IdentityEvent& e, const std::string& snapshot) = 0;
    // Removes a run's directory and lifecycle events (its result is being recorded again).
    virtual Status removeAgentEvents(const std::string& run_id) = 0;
  };

  // Runs `work` atomically: what it appended and removed is kept when it returns ok, nothing
  // when it fails. Recordings of one tenant run one at a time.
  virtual Status record(const std::function<Status(Recording&)>& work) = 0;

  // A person's history up to `as_of_ms` (events with at_ms <= as_of_ms), read at one point in
  // time.
  virtual Result<IdentityHistory> history(const std::string& employee_id, int64_t as_of_ms) = 0;
  // A person's events with id > after_id, in id order, at most `limit`.
  virtual Result<std::vector<IdentityEvent>> events(const std::string& employee_id,
                                                    int64_t after_id, int limit) = 0;
};

}  // namespace tenure::cp
