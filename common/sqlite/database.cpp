#include "common/sqlite/database.h"

#include <sqlite3.h>

#include <filesystem>
#include <system_error>
#include <utility>

#include "common/base/files.h"

namespace tenure::sqlite {

namespace {
Status classify(int rc, std::string msg) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return transientError(std::move(msg), rc);
    case SQLITE_CONSTRAINT:
      return conflictError(std::move(msg), rc);
    default:
      return internalError(std::move(msg), rc);
  }
}
}  // namespace

Status errorFromCode(int rc, std::string_view context, sqlite3* db) {
  std::string msg(context);
  msg += ": ";
  // sqlite3_errmsg describes the most recent failure on the connection, which is richer than the
  // generic text of the code (it names the constraint, the missing table, ...).
  msg += (db != nullptr) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return classify(rc, std::move(msg));
}

// ---------------------------------------------------------------------------------------------
// Statement

Statement::Statement(Statement&& o) noexcept
    : stmt_(std::exchange(o.stmt_, nullptr)),
      db_(std::exchange(o.db_, nullptr)),
      bind_error_(std::move(o.bind_error_)) {}

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    stmt_ = std::exchange(o.stmt_, nullptr);
    db_ = std::exchange(o.db_, nullptr);
    bind_error_ = std::move(o.bind_error_);
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

int Statement::indexOf(std::string_view name) {
  std::string n(name);
  int idx = sqlite3_bind_parameter_index(stmt_, n.c_str());
  if (idx == 0 && bind_error_.isOk()) {
    bind_error_ = internalError("unknown SQL parameter " + n, SQLITE_RANGE);
  }
  return idx;
}

void Statement::noteBind(int rc, std::string_view what) {
  if (rc != SQLITE_OK && bind_error_.isOk()) {
    bind_error_ = errorFromCode(rc, std::string("bind ") + std::string(what), db_);
  }
}

Statement& Statement::bindText(int index, std::string_view value) {
  noteBind(
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
      std::to_string(index));
  return *this;
}
Statement& Statement::bindText(std::string_view name, std::string_view value) {
  if (int i = indexOf(name); i > 0) bindText(i, value);
  return *this;
}
Statement& Statement::bindInt64(int index, int64_t value) {
  noteBind(sqlite3_bind_int64(stmt_, index, value), std::to_string(index));
  return *this;
}
Statement& Statement::bindInt64(std::string_view name, int64_t value) {
  if (int i = indexOf(name); i > 0) bindInt64(i, value);
  return *this;
}
Statement& Statement::bindNull(int index) {
  noteBind(sqlite3_bind_null(stmt_, index), std::to_string(index));
  return *this;
}
Statement& Statement::bindNull(std::string_view name) {
  if (int i = indexOf(name); i > 0) bindNull(i);
  return *this;
}
Statement& Statement::bindBlob(int index, std::string_view bytes) {
  noteBind(sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT),
           std::to_string(index));
  return *this;
}
Statement& Statement::bindBlob(std::string_view name, std::string_view bytes) {
  if (int i = indexOf(name); i > 0) bindBlob(i, bytes);
  return *this;
}

Result<bool> Statement::step() {
  if (stmt_ == nullptr) return internalError("step on an empty statement");
  if (!bind_error_.isOk()) return bind_error_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(stmt_);
  Status st = errorFromCode(rc, std::string("step ") + (sql != nullptr ? sql : ""), db_);
  // A failed statement must be reset before it can be used again; the error is already captured.
  sqlite3_reset(stmt_);
  return st;
}

Status Statement::run() {
  while (true) {
    ASSIGN_OR_RETURN(bool row, step());
    if (!row) return Status::ok();
  }
}

void Statement::reset() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = Status::ok();
}

int Statement::columnCount() const { return sqlite3_column_count(stmt_); }

bool Statement::columnIsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

std::string Statement::columnText(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);  // after the text call: its length in UTF-8
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
}

int64_t Statement::columnInt64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Statement::columnBlob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr) return {};
  return std::string(static_cast<const char*>(p), static_cast<size_t>(n));
}

// ---------------------------------------------------------------------------------------------
// Database

namespace {

bool isFilePath(const std::string& path) {
  return !path.empty() && path != ":memory:" && path.rfind("file:", 0) != 0;
}

// SQLite would create the file with 0644 (less the umask) or the folder's inherited ACL; the
// databases hold secrets' hashes and personal data, so the file is created here first for its
// owner only (common/base/files.h). SQLite gives the -wal and -shm files the same mode as the
// database file (on POSIX; on Windows they inherit the folder's ACL, which is why the agent's state
// folder is private itself).
Status prepareFile(const std::string& path) {
  const std::filesystem::path p = pathFromUtf8(path);
  if (p.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(p.parent_path(), ec);
    if (ec) {
      return configError(
          "cannot create directory " + p.parent_path().string() + ": " + ec.message(), ec.value());
    }
  }
  Status st = createPrivateFile(p);
  // A database that cannot be opened is the deployment's to fix, whatever the cause.
  if (!st) return configError(st.message(), st.nativeCode());
  return Status::ok();
}

}  // namespace

Result<Database> Database::open(const std::string& path, const OpenOptions& options) {
  if (isFilePath(path)) RETURN_IF_ERROR(prepareFile(path));
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status st = errorFromCode(rc, "open " + path, raw);
    sqlite3_close_v2(raw);  // a handle is returned even on failure
    return st;
  }
  Database db(raw, path);
  sqlite3_extended_result_codes(raw, 1);
  // The busy timeout first: switching to WAL needs a lock another connection may hold.
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  RETURN_IF_ERROR(db.exec("PRAGMA journal_mode=WAL").withContext(path));
  RETURN_IF_ERROR(
      db.exec(options.full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL")
          .withContext(path));
  RETURN_IF_ERROR(db.exec("PRAGMA foreign_keys=ON").withContext(path));
  return db;
}

Database::Database(Database&& o) noexcept
    : db_(std::exchange(o.db_, nullptr)), path_(std::move(o.path_)) {}

Database& Database::operator=(Database&& o) noexcept {
  if (this != &o) {
    close();
    db_ = std::exchange(o.db_, nullptr);
    path_ = std::move(o.path_);
  }
  return *this;
}

Database::~Database() { close(); }

void Database::close() {
  // close_v2 defers the close until outstanding statements are finalized.
  if (db_ != nullptr) sqlite3_close_v2(db_);
  db_ = nullptr;
}

Status Database::exec(std::string_view sql) {
  if (db_ == nullptr) return internalError("database is not open");
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = "exec: ";
    msg += err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return classify(rc, std::move(msg));
  }
  return Status::ok();
}

Result<Statement> Database::prepare(std::string_view sql) {
  if (db_ == nullptr) return internalError("database is not open");
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return errorFromCode(rc, "prepare " + std::string(sql), db_);
  }
  return Statement(stmt, db_);
}

int64_t Database::lastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int64_t Database::changes() const { return sqlite3_changes64(db_); }
bool Database::inTransaction() const { return db_ != nullptr && sqlite3_get_autocommit(db_) == 0; }

// ---------------------------------------------------------------------------------------------
// Transaction

Result<Transaction> Transaction::begin(Database& db) {
  RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
  Transaction t(&db);
  t.active_ = true;
  return t;
}

Transaction::Transaction(Transaction&& o) noexcept
    : db_(std::exchange(o.db_, nullptr)), active_(std::exchange(o.active_, false)) {}

Transaction::~Transaction() { rollback(); }

Status Transaction::commit() {
  if (!active_) return internalError("commit without an active transaction");
  // On failure (e.g. SQLITE_BUSY) the transaction stays open and the destructor rolls it back.
  RETURN_IF_ERROR(db_->exec("COMMIT"));
  active_ = false;
  return Status::ok();
}

void Transaction::rollback() {
  if (!active_) return;
  active_ = false;
  // Some errors (SQLITE_FULL, IOERR, ...) already rolled the transaction back.
  if (db_->inTransaction()) (void)db_->exec("ROLLBACK");
}

// ---------------------------------------------------------------------------------------------
// Migrations

Result<int64_t> schemaVersion(Database& db) {
  ASSIGN_OR_RETURN(Statement st, db.prepare("PRAGMA user_version"));
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return internalError("PRAGMA user_version returned no row");
  return st.columnInt64(0);
}

Status migrate(Database& db, const std::vector<std::string>& migrations) {
  const auto target = static_cast<int64_t>(migrations.size());
  auto tooNew = [&](int64_t v) {
    return configError(db.path() + " has schema version " + std::to_string(v) +
                       ", newer than this program's " + std::to_string(target));
  };
  ASSIGN_OR_RETURN(int64_t version, schemaVersion(db));
  while (version < target) {
    ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(db));
    // Re-read under the write lock: another connection may have migrated meanwhile.
    ASSIGN_OR_RETURN(version, schemaVersion(db));
    if (version >= target) break;  // tx rolls back: nothing was written
    RETURN_IF_ERROR(db.exec(migrations[static_cast<size_t>(version)])
                        .withContext("migration " + std::to_string(version + 1)));
    RETURN_IF_ERROR(db.exec("PRAGMA user_version = " + std::to_string(version + 1)));
    RETURN_IF_ERROR(tx.commit());
    ++version;
  }
  if (version > target) return tooNew(version);
  return Status::ok();
}

namespace {

Result<int64_t> componentVersion(Database& db, std::string_view component) {
  ASSIGN_OR_RETURN(Statement st,
                   db.prepare("SELECT version FROM schema_components WHERE name = ?"));
  st.bindText(1, component);
  ASSIGN_OR_RETURN(bool row, st.step());
  return row ? st.columnInt64(0) : int64_t{0};
}

}  // namespace

Status migrateComponent(Database& db, std::string_view component,
                        const std::vector<std::string>& migrations) {
  const auto target = static_cast<int64_t>(migrations.size());
  RETURN_IF_ERROR(db.exec("CREATE TABLE IF NOT EXISTS schema_components ("
                          "name TEXT PRIMARY KEY, version INTEGER NOT NULL)"));
  ASSIGN_OR_RETURN(int64_t version, componentVersion(db, component));
  while (version < target) {
    ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(db));
    ASSIGN_OR_RETURN(version, componentVersion(db, component));
    if (version >= target) break;
    RETURN_IF_ERROR(db.exec(migrations[static_cast<size_t>(version)])
                        .withContext(std::string(component) + " migration " +
                                     std::to_string(version + 1)));
    ASSIGN_OR_RETURN(Statement up, db.prepare("INSERT INTO schema_components (name, version) "
                                              "VALUES (?, ?) ON CONFLICT(name) DO UPDATE "
                                              "SET version = excluded.version"));
    up.bindText(1, component).bindInt64(2, version + 1);
    RETURN_IF_ERROR(up.run());
    RETURN_IF_ERROR(tx.commit());
    ++version;
  }
  if (version > target) {
    return configError(db.path() + ": component " + std::string(component) +
                       " has schema version " + std::to_string(version) +
                       ", newer than this program's " + std::to_string(target));
  }
  return Status::ok();
}

}  // namespace tenure::sqlite
