#pragma once
// DigestStore: the report digest's settings and the record of every digest (controlplane/digest),
// in the tenant's database. Implemented for SQLite by SqliteDigestStore
// (controlplane/store/sqlite/).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace tenure::cp {

// The tenant's digest settings as kept: `document` is the caller's text, kept as given.
struct DigestSettingsRecord {
  std::string document;
  int64_t origin_ms = 0;     // where the first period starts
  int64_t next_slot_ms = 0;  // the next scheduled digest (0: not scheduled)
  std::string schedule_error;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

struct DigestRecord {
  int64_t id = 0;
  int64_t period_start_ms = 0;
  int64_t period_end_ms = 0;
  std::string trigger;  // schedule | on_demand
  std::string status;   // pending | sent | skipped (empty period, send_when_empty off)
  int64_t attempts = 0;
  int64_t next_attempt_at_ms = 0;
  std::string last_error;
  int64_t created_at_ms = 0;
  int64_t sent_at_ms = 0;
  std::string subject;  // as sent
};

// A digest to create for [period_start_ms, period_end_ms), due at once.
struct NewDigest {
  int64_t period_start_ms = 0;
  int64_t period_end_ms = 0;
  std::string trigger;
  std::string status;
  int64_t created_at_ms = 0;
  // A scheduled digest: the slot it is for, which must still be the settings' next slot; it
  // moves to `next_slot_ms` (with `next_slot_error` as the schedule error when that is 0).
  std::optional<int64_t> slot_ms;
  int64_t next_slot_ms = 0;
  std::string next_slot_error;
};

class DigestStore {
 public:
  virtual ~DigestStore() = default;

  // nullopt when no digest is configured.
  virtual Result<std::optional<DigestSettingsRecord>> settings() = 0;
  // Creates or replaces the settings (origin and creation time are set on creation only), and
  // returns them as stored.
  virtual Result<DigestSettingsRecord> saveSettings(const std::string& document,
                                                    int64_t next_slot_ms,
                                                    const std::string& schedule_error,
                                                    int64_t now_ms) = 0;
  // Removes the settings and every digest in one transaction; false when there were no settings.
  virtual Result<bool> deleteSettings() = 0;
  // Sets the next slot (and clears the schedule error) only while no slot is scheduled.
  virtual Status scheduleIfUnscheduled(int64_t next_slot_ms) = 0;

  // Where the next digest starts: the end of the last one, else the settings' origin; nullopt
  // when there is neither.
  virtual Result<std::optional<int64_t>> nextPeriodStart() = 0;
  // In one transaction, only if the settings still exist, the next period still starts at
  // `period_start_ms` (nothing was created since it was read) and, for a scheduled digest, its
  // slot is still the next one: creates the digest (unless the period is empty) and moves the
  // slot. nullopt when nothing was created.
  virtual Result<std::optional<DigestRecord>> createDigest(const NewDigest& digest) = 0;

  // Pending digests due at `now_ms`, oldest first, at most `limit`.
  virtual Result<std::vector<DigestRecord>> dueDigests(int64_t now_ms, int limit) = 0;
  // A pending digest -> sent (an attempt counted, the error cleared).
  virtual Status markSent(int64_t id, int64_t sent_at_ms, const std::string& subject) = 0;
  // A pending digest's failed attempt: counted, due again at `retry_at_ms`.
  virtual Status markFailed(int64_t id, int64_t retry_at_ms, const std::string& error) = 0;
  // The newest digests first, at most `limit`.
  virtual Result<std::vector<DigestRecord>> digests(int limit) = 0;
};

}  // namespace tenure::cp
