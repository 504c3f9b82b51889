#include "common/base/calendar_time.h"

namespace tenure {

std::tm utcCalendarTime(std::time_t t) {
  std::tm tm{};
  if (gmtime_s(&tm, &t) != 0) return std::tm{};
  return tm;
}

std::tm localCalendarTime(std::time_t t) {
  std::tm tm{};
  if (localtime_s(&tm, &t) != 0) return std::tm{};
  return tm;
}

}  // namespace tenure
