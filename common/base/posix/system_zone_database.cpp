// The tz database of a POSIX machine: the TZif files of the tzdata package.
#include <cstdlib>

#include "common/base/zone_database.h"

namespace tenure {

const ZoneDatabase& systemZoneDatabase() {
  static const ZoneinfoDirectory kSystem([] {
    const char* env = std::getenv("TZDIR");
    return std::string(env != nullptr && *env != '\0' ? env : "/usr/share/zoneinfo");
  }());
  return kSystem;
}

}  // namespace tenure
