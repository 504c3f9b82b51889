#pragma once
// A small RAII layer over the SQLite C API: connections opened with Tenure's settings (WAL,
// foreign keys, busy timeout, 0600 files), prepared statements, IMMEDIATE transactions and
// numbered schema migrations. Every SQLite error becomes a Status that keeps SQLite's own
// (extended) result code as the native code.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tenure::sqlite {

// SQLITE_BUSY / SQLITE_LOCKED -> transient, SQLITE_CONSTRAINT -> conflict, anything else ->
// internal. `db` (optional) supplies SQLite's own message.
Status errorFromCode(int rc, std::string_view context, sqlite3* db = nullptr);

// A prepared statement. Bind errors are remembered and reported by the next step()/run(), so
// binds can be chained: `stmt.bindText(1, a).bindInt64(":n", 2); RETURN_IF_ERROR(stmt.run());`
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& o) noexcept;
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, or named including their prefix (":id", "@id", "$id").
  Statement& bindText(int index, std::string_view value);
  Statement& bindText(std::string_view name, std::string_view value);
  Statement& bindInt64(int index, int64_t value);
  Statement& bindInt64(std::string_view name, int64_t value);
  Statement& bindNull(int index);
  Statement& bindNull(std::string_view name);
  Statement& bindBlob(int index, std::string_view bytes);
  Statement& bindBlob(std::string_view name, std::string_view bytes);

  // true when a row is available, false when the statement is done.
  Result<bool> step();
  // Steps to completion, discarding any rows (INSERT/UPDATE/DELETE).
  Status run();
  // Makes the statement runnable again and clears all bindings.
  void reset();

  // Column getters for the current row; columns are 0-based. NULL reads as "" / 0.
  int columnCount() const;
  bool columnIsNull(int col) const;
  std::string columnText(int col) const;
  int64_t columnInt64(int col) const;
  std::string columnBlob(int col) const;

 private:
  friend class Database;
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  int indexOf(std::string_view name);
  void noteBind(int rc, std::string_view what);

  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
  Status bind_error_;
};

struct OpenOptions {
  // synchronous=FULL (durable at every commit even on power loss) instead of NORMAL (durable
  // across process crashes; WAL may lose the last commits on power loss).
  bool full_sync = false;
  int busy_timeout_ms = 5000;
};

// One connection. Movable, not copyable. Not for concurrent use from several threads without
// external locking: a transaction belongs to the connection, not to a thread.
class Database {
 public:
  // Creates the parent directory and the file (mode 0600) when missing, then sets WAL,
  // synchronous, foreign_keys=ON and the busy timeout. ":memory:" opens an in-memory database.
  static Result<Database> open(const std::string& path, const OpenOptions& options = {});

  Database() = default;
  Database(Database&& o) noexcept;
  Database& operator=(Database&& o) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more SQL statements; any rows they return are discarded.
  Status exec(std::string_view sql);
  Result<Statement> prepare(std::string_view sql);

  int64_t lastInsertRowId() const;
  // Rows changed by the most recent INSERT/UPDATE/DELETE on this connection.
  int64_t changes() const;
  bool inTransaction() const;
  bool isOpen() const { return db_ != nullptr; }
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  void close();

  sqlite3* db_ = nullptr;
  std::string path_;
};

// BEGIN IMMEDIATE: takes the write lock up front, so a read-then-write inside the transaction
// cannot be invalidated by another connection (and waits up to the busy timeout for it).
// Rolled back on destruction unless committed.
class Transaction {
 public:
  static Result<Transaction> begin(Database& db);

  Transaction(Transaction&& o) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status commit();
  void rollback();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_ = nullptr;
  bool active_ = false;
};

// Brings the schema to version migrations.size(). migrations[i] moves the schema from version i
// to i+1; the version lives in PRAGMA user_version. Each missing step runs in its own
// transaction together with the version bump, so a crash leaves a consistent version. A database
// newer than the list is refused (config error): an older binary must not write to it.
Status migrate(Database& db, const std::vector<std::string>& migrations);

// Current PRAGMA user_version.
Result<int64_t> schemaVersion(Database& db);

// Like migrate(), for one component's own tables in a shared database file: the component's
// version lives in the table `schema_components` (name, version), not in PRAGMA user_version,
// so features that own tables in the same file evolve independently.
Status migrateComponent(Database& db, std::string_view component,
                        const std::vector<std::string>& migrations);

}  // namespace tenure::sqlite
