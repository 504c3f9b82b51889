#include "common/base/clock.h"

#include <ctime>
#include <fstream>

#include "common/base/calendar_time.h"

namespace tenure {

std::string formatIso8601Utc(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  const std::tm tm = utcCalendarTime(t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

SystemTime FileOffsetClock::now() const {
  const auto steady = std::chrono::steady_clock::now();
  std::lock_guard lk(mu_);
  if (steady >= next_read_) {
    next_read_ = steady + std::chrono::milliseconds(100);
    std::ifstream in(path_);
    int64_t ms = 0;
    if (in >> ms && ms > offset_ms_) offset_ms_ = ms;
  }
  return std::chrono::system_clock::now() + std::chrono::milliseconds(offset_ms_);
}

}  // namespace tenure
