// Windows has no IANA tz database (its own zones live in the registry, under other names, with
// less history), and the agent ships none: the zone a job carries is the source there, and "UTC"
// works without data.
#include "common/base/zone_database.h"

namespace tenure {

const ZoneDatabase& systemZoneDatabase() {
  static const InMemoryZoneDatabase kNone;
  return kNone;
}

}  // namespace tenure
