#pragma once
// Lifecycle states: where a person stands on a given instant, with effective dates evaluated in the
// tenant's time zone. HR dates are local calendar days: a start date takes effect at local midnight
// of that day, an end date at the start of the local day AFTER it (the person works their last
// day). Pure: the caller supplies the instant and the zone.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "common/base/time_zone.h"
#include "common/hr/hr_record.h"
#include "common/policy/policy.h"

namespace tenure::lifecycle {

enum class LifecycleState {
  kNotYet,   // a future hire outside the pre-hire window: not created yet
  kPreHire,  // created (or kept) disabled until the start date
  kActive,
  kLeave,       // disabled (policy), groups kept
  kTerminated,  // disabled, rule groups removed, moved, hidden, expired; deleted after retention
  kRescinded,   // the hire was cancelled before the start date: never created, deleted if it exists
};
// "not_yet", "pre_hire", "active", "leave", "terminated", "rescinded".
std::string_view stateName(LifecycleState s);

struct StateDecision {
  LifecycleState state = LifecycleState::kActive;
  std::string
      reason;  // human: "pre-hire: starts 2026-12-01", "terminated: end date 2026-11-30 passed"
  bool enabled = true;
  bool may_create = true;       // an account may be created when none exists
  bool delete_account = false;  // rescinded: an existing account is deleted
  // When the account should expire (unix seconds; AD's accountExpires), nullopt: never.
  std::optional<int64_t> account_expires;
  // Terminated only: when the termination took effect, when known from the end date. Without an
  // end date it is "now" on the first run; the planner then reads it back from accountExpires.
  std::optional<int64_t> terminated_at;
  std::string end_date;  // as given, for reasons
};

// True for employment types that must have an end date unless the policy says otherwise
// (contractor, intern, vendor, volunteer, partner).
bool isExternalType(std::string_view employment_type);

// The state of `r` at `now_unix` under `policy` in zone `tz`. Data errors: an external without an
// end date (when the policy requires one), an end date before the start date, unparsable dates.
Result<StateDecision> evaluateState(const hr::HrRecord& r, const policy::Policy& policy,
                                    int64_t now_unix, const TimeZone& tz);

// AD's accountExpires / FILETIME: 100-ns intervals since 1601-01-01 UTC.
inline constexpr int64_t kFileTimeUnixEpoch = 116444736000000000;  // 1970-01-01 as FILETIME
int64_t unixToFileTime(int64_t unix_seconds);
int64_t fileTimeToUnix(int64_t file_time);
// "0", "9223372036854775807", empty or unparsable: the account never expires (nullopt).
std::optional<int64_t> accountExpiresToUnix(std::string_view value);
// The value written for "never": 0 (what AD's own tools write when an expiry is cleared).
inline constexpr const char* kAccountNeverExpires = "0";

}  // namespace tenure::lifecycle
