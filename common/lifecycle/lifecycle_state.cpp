#include "common/lifecycle/lifecycle_state.h"

#include <charconv>
#include <limits>

namespace tenure::lifecycle {

namespace {

// The first instant of the local day `days` (since 1970-01-01) after `date`.
Result<int64_t> startOfDayAfter(const TimeZone& tz, const std::string& date, int64_t days) {
  ASSIGN_OR_RETURN(int64_t d, parseIsoDate(date));
  return tz.startOfLocalDayNumber(d + days);
}

}  // namespace

std::string_view stateName(LifecycleState s) {
  switch (s) {
    case LifecycleState::kNotYet:
      return "not_yet";
    case LifecycleState::kPreHire:
      return "pre_hire";
    case LifecycleState::kActive:
      return "active";
    case LifecycleState::kLeave:
      return "leave";
    case LifecycleState::kTerminated:
      return "terminated";
    case LifecycleState::kRescinded:
      return "rescinded";
  }
  return "unknown";
}

bool isExternalType(std::string_view t) {
  return t == "contractor" || t == "intern" || t == "vendor" || t == "volunteer" || t == "partner";
}

int64_t unixToFileTime(int64_t unix_seconds) {
  return unix_seconds * 10'000'000 + kFileTimeUnixEpoch;
}

int64_t fileTimeToUnix(int64_t file_time) { return (file_time - kFileTimeUnixEpoch) / 10'000'000; }

std::optional<int64_t> accountExpiresToUnix(std::string_view value) {
  int64_t v = 0;
  if (value.empty() ||
      std::from_chars(value.data(), value.data() + value.size(), v).ec != std::errc()) {
    return std::nullopt;
  }
  if (v <= 0 || v == std::numeric_limits<int64_t>::max()) return std::nullopt;
  return fileTimeToUnix(v);
}

Result<StateDecision> evaluateState(const hr::HrRecord& r, const policy::Policy& policy,
                                    int64_t now, const TimeZone& tz) {
  const policy::LifecyclePolicy& lp = policy.lifecycle;
  const std::string status = r.status.empty() ? "active" : r.status;
  const std::string type = r.employment_type.empty() ? "employee" : r.employment_type;
  const bool external = isExternalType(type);

  bool end_required = external;
  if (auto it = policy.employment_types.find(type); it != policy.employment_types.end()) {
    end_required = it->second.end_date_required;
  }
  if (end_required && r.end_date.empty() && status != "terminated" && status != "rescinded") {
    return dataError(type + " without an end date (the policy requires one)");
  }

  std::optional<int64_t> start_at;
  std::optional<int64_t> end_at;  // the start of the local day after end_date
  if (!r.start_date.empty()) {
    auto s = startOfDayAfter(tz, r.start_date, 0);
    if (!s.isOk()) return s.status().withContext("start_date");
    start_at = *s;
  }
  if (!r.end_date.empty()) {
    auto e = startOfDayAfter(tz, r.end_date, 1);
    if (!e.isOk()) return e.status().withContext("end_date");
    end_at = *e;
    if (start_at && *end_at <= *start_at) {
      return dataError("end_date " + r.end_date + " is before start_date " + r.start_date);
    }
  }

  StateDecision d;
  d.end_date = r.end_date;
  if (end_at && (external || lp.leaver_set_account_expires)) d.account_expires = end_at;
  const bool before_start = start_at && now < *start_at;

  if (status == "rescinded" || (status == "terminated" && before_start)) {
    d.state = LifecycleState::kRescinded;
    d.reason = status == "rescinded"
                   ? "rescinded: hire cancelled"
                   : "rescinded: terminated before the start date " + r.start_date;
    d.enabled = false;
    d.may_create = false;
    d.delete_account = true;
    d.account_expires.reset();
    return d;
  }

  const bool end_passed = end_at && now >= *end_at;
  if (end_passed || (status == "terminated" && !end_at)) {
    d.state = LifecycleState::kTerminated;
    d.reason = end_passed ? "terminated: end date " + r.end_date + " passed"
                          : "terminated: status terminated";
    d.enabled = false;
    d.may_create = false;
    d.terminated_at = end_at;
    if (lp.leaver_set_account_expires || external) {
      d.account_expires = end_at ? *end_at : now;
    } else {
      d.account_expires.reset();
    }
    return d;
  }

  if (before_start) {
    ASSIGN_OR_RETURN(int64_t window, startOfDayAfter(tz, r.start_date, -lp.prehire_days));
    d.enabled = false;
    if (now < window) {
      d.state = LifecycleState::kNotYet;
      d.reason = "pre-hire: starts " + r.start_date + ", created from " +
                 formatIsoDate(*parseIsoDate(r.start_date) - lp.prehire_days);
      d.may_create = false;
    } else {
      d.state = LifecycleState::kPreHire;
      d.reason = "pre-hire: starts " + r.start_date;
    }
    return d;
  }

  if (status == "leave") {
    d.state = LifecycleState::kLeave;
    d.reason = "leave";
    d.enabled = !lp.leave_disables;
    return d;
  }

  d.state = LifecycleState::kActive;
  d.reason = r.start_date.empty() ? "active" : "active: started " + r.start_date;
  if (end_at) d.reason += ", ends " + r.end_date;
  return d;
}

}  // namespace tenure::lifecycle
