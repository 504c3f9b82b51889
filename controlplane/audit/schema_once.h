#pragma once
// Runs a component's migrations once per open connection instead of on every call: the audit
// log is written on every request, and migrateComponent costs two statements each time.

#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "common/sqlite/database.h"

namespace tenure::cp {

inline Status migrateOnce(sqlite::Database& db, std::string_view component,
                          const std::vector<std::string>& migrations) {
  static std::mutex mu;
  // Keyed by connection and path: a handle address reused for another file migrates again.
  static std::set<std::tuple<const void*, std::string, std::string>> done;
  auto key = std::make_tuple(static_cast<const void*>(db.handle()), db.path(),
                             std::string(component));
  {
    std::lock_guard lock(mu);
    if (done.count(key)) return Status::ok();
  }
  RETURN_IF_ERROR(sqlite::migrateComponent(db, component, migrations));
  std::lock_guard lock(mu);
  done.insert(std::move(key));
  return Status::ok();
}

}  // namespace tenure::cp
