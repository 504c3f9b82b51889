#include "common/base/zone_database.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

namespace tenure {

bool isZoneName(std::string_view n) {
  return !n.empty() && n.front() != '/' && n.back() != '/' && n.find("..") == std::string::npos &&
         std::all_of(n.begin(), n.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '/' || c == '_' || c == '-' || c == '+';
         });
}

Result<TimeZone> loadZone(const ZoneDatabase& db, const std::string& iana_name) {
  if (iana_name == "UTC") return TimeZone::utc();
  ASSIGN_OR_RETURN(std::string bytes, db.tzif(iana_name));
  return TimeZone::fromTzif(iana_name, bytes);
}

Result<std::string> ZoneinfoDirectory::tzif(const std::string& iana_name) const {
  if (!isZoneName(iana_name)) return configError("not a time zone name: '" + iana_name + "'");
  const std::string path = dir_ + "/" + iana_name;
  std::error_code ec;
  // A directory (e.g. "Europe") is not a zone, and on Linux opening one for reading succeeds.
  if (!std::filesystem::is_regular_file(std::filesystem::path(path), ec)) {
    return notFoundError("unknown time zone '" + iana_name + "' (no " + path + ")");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return notFoundError("unknown time zone '" + iana_name + "' (no " + path + ")");
  std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return configError("cannot read " + path);
  return bytes;
}

bool ZoneinfoDirectory::complete() const {
  std::error_code ec;
  return std::filesystem::is_directory(std::filesystem::path(dir_), ec);
}

Result<std::string> InMemoryZoneDatabase::tzif(const std::string& iana_name) const {
  if (!isZoneName(iana_name)) return configError("not a time zone name: '" + iana_name + "'");
  auto it = zones_.find(iana_name);
  if (it == zones_.end()) return notFoundError("unknown time zone '" + iana_name + "'");
  return it->second;
}

Result<std::string> LayeredZoneDatabase::tzif(const std::string& iana_name) const {
  auto found = first_.tzif(iana_name);
  if (found.isOk() || found.status().errorClass() != ErrorClass::kNotFound) return found;
  return fallback_.tzif(iana_name);
}

}  // namespace tenure
