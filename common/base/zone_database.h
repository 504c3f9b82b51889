#pragma once
// ZoneDatabase: where the rules of IANA time zones come from, as TZif bytes. The control plane
// reads its tz database (ZoneinfoDirectory) and sends the tenant zone's bytes with each job; the
// agent evaluates dates with those (InMemoryZoneDatabase, layered over its own database for jobs
// from control planes that send none). A Windows machine has no tz database: its system database
// holds nothing, so there the zone a job carries is the only source (docs/protocol.md).

#include <map>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "common/base/time_zone.h"

namespace tenure {

class ZoneDatabase {
 public:
  virtual ~ZoneDatabase() = default;
  // The TZif bytes of zone `iana_name` (e.g. "Europe/Berlin"): not_found when this database does
  // not hold it; a config error for a name that is not of the IANA form (isZoneName) or a file
  // that cannot be read.
  virtual Result<std::string> tzif(const std::string& iana_name) const = 0;
  // True when the database holds every zone, so that a zone it lacks does not exist. False where
  // there is no tz database (a Windows agent): only a name's form can be checked there.
  virtual bool complete() const = 0;
};

// A name a zone database may be asked for: relative, no "..", letters, digits and "/_-+" only.
bool isZoneName(std::string_view iana_name);

// Zone `iana_name` from `db`. "UTC" always works, whatever the database holds; otherwise the
// database's errors, or a config error for malformed TZif bytes.
Result<TimeZone> loadZone(const ZoneDatabase& db, const std::string& iana_name);

// TZif files in a directory laid out like /usr/share/zoneinfo (<dir>/<iana_name>).
class ZoneinfoDirectory : public ZoneDatabase {
 public:
  explicit ZoneinfoDirectory(std::string dir) : dir_(std::move(dir)) {}
  Result<std::string> tzif(const std::string& iana_name) const override;
  // True when the directory exists.
  bool complete() const override;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// Zones held in memory by name, e.g. the zone a job carries. Never complete.
class InMemoryZoneDatabase : public ZoneDatabase {
 public:
  void add(std::string iana_name, std::string tzif) {
    zones_[std::move(iana_name)] = std::move(tzif);
  }
  Result<std::string> tzif(const std::string& iana_name) const override;
  bool complete() const override { return false; }

 private:
  std::map<std::string, std::string, std::less<>> zones_;
};

// `first`, and `fallback` for the zones `first` does not hold. Complete when either is.
class LayeredZoneDatabase : public ZoneDatabase {
 public:
  LayeredZoneDatabase(const ZoneDatabase& first, const ZoneDatabase& fallback)
      : first_(first), fallback_(fallback) {}
  Result<std::string> tzif(const std::string& iana_name) const override;
  bool complete() const override { return first_.complete() || fallback_.complete(); }

 private:
  const ZoneDatabase& first_;
  const ZoneDatabase& fallback_;
};

// This machine's tz database, chosen by platform (posix/, windows/): on POSIX the directory
// $TZDIR, or /usr/share/zoneinfo; on Windows an empty, incomplete database (Windows keeps its
// zones in the registry under other names, and no tzdata is shipped with the agent).
const ZoneDatabase& systemZoneDatabase();

}  // namespace tenure
