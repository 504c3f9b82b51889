#pragma once
// std::gmtime/std::localtime without their shared static buffer (thread-safe): gmtime_r and
// localtime_r on POSIX (posix/calendar_time.cpp), gmtime_s and localtime_s on Windows
// (windows/calendar_time.cpp), whose argument order and return type differ.

#include <ctime>

namespace tenure {

// The calendar fields of `t` in UTC. A time the C library cannot represent gives all-zero fields.
std::tm utcCalendarTime(std::time_t t);
// The same in the process's local time zone (TZ); for log and console text only: the lifecycle
// works in each tenant's own zone (common/base/time_zone.h).
std::tm localCalendarTime(std::time_t t);

}  // namespace tenure
