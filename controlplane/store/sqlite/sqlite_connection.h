#pragma once
// SqliteConnection: one database file's connection and the lock that serialises its use. A
// SQLite store and the component stores that keep tables in the same file share one; nothing
// above the stores sees it.

#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/status.h"
#include "common/sqlite/database.h"

namespace tenure::cp {

class SqliteConnection {
 public:
  explicit SqliteConnection(sqlite::Database db) : db_(std::move(db)) {}

  // `f(sqlite::Database&)` under the connection's lock; keep it short.
  template <class F>
  auto run(F&& f) {
    std::lock_guard lock(mu_);
    return f(db_);
  }

  const std::string& path() const { return db_.path(); }

  // For the store that owns the connection, whose methods take the lock themselves.
  sqlite::Database& database() { return db_; }
  std::mutex& mutex() { return mu_; }

 private:
  sqlite::Database db_;
  std::mutex mu_;
};

// One component's tables in a shared database file, with its numbered migrations.
struct ComponentSchema {
  std::string_view component;
  const std::vector<std::string>& migrations;
};

// The one migration mechanism: brings every component's tables to its latest version
// (sqlite::migrateComponent), in order, when a store opens its database. Components with no
// migrations yet are skipped.
Status migrateComponents(sqlite::Database& db, const std::vector<ComponentSchema>& components);

}  // namespace tenure::cp
