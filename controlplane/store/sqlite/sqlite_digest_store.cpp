#include "controlplane/store/sqlite/sqlite_digest_store.h"

namespace tenure::cp {

const std::vector<std::string>& SqliteDigestStore::migrations() {
  static const std::vector<std::string> kMigrations = {
    R"(CREATE TABLE report_digest_settings(
         id INTEGER PRIMARY KEY CHECK (id = 1),
         document TEXT NOT NULL,
         origin_ms INTEGER NOT NULL,
         next_slot_ms INTEGER NOT NULL DEFAULT 0,
         schedule_error TEXT NOT NULL DEFAULT '',
         created_at_ms INTEGER NOT NULL,
         updated_at_ms INTEGER NOT NULL);
       CREATE TABLE report_digests(
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         period_start_ms INTEGER NOT NULL,
         period_end_ms INTEGER NOT NULL UNIQUE,
         trigger TEXT NOT NULL,
         status TEXT NOT NULL,
         attempts INTEGER NOT NULL DEFAULT 0,
         next_attempt_at_ms INTEGER NOT NULL,
         last_error TEXT NOT NULL DEFAULT '',
         created_at_ms INTEGER NOT NULL,
         sent_at_ms INTEGER NOT NULL DEFAULT 0,
         subject TEXT NOT NULL DEFAULT '');
       CREATE INDEX report_digests_due ON report_digests(status, next_attempt_at_ms);)"};
  return kMigrations;
}

namespace {

constexpr const char* kDigestColumns =
    "id, period_start_ms, period_end_ms, trigger, status, attempts, next_attempt_at_ms, "
    "last_error, created_at_ms, sent_at_ms, subject";

DigestRecord readDigest(const sqlite::Statement& st) {
  DigestRecord d;
  d.id = st.columnInt64(0);
  d.period_start_ms = st.columnInt64(1);
  d.period_end_ms = st.columnInt64(2);
  d.trigger = st.columnText(3);
  d.status = st.columnText(4);
  d.attempts = st.columnInt64(5);
  d.next_attempt_at_ms = st.columnInt64(6);
  d.last_error = st.columnText(7);
  d.created_at_ms = st.columnInt64(8);
  d.sent_at_ms = st.columnInt64(9);
  d.subject = st.columnText(10);
  return d;
}

Result<std::vector<DigestRecord>> readDigests(sqlite::Statement& st) {
  std::vector<DigestRecord> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return out;
    out.push_back(readDigest(st));
  }
}

Result<std::optional<DigestSettingsRecord>> readSettings(sqlite::Database& db) {
  ASSIGN_OR_RETURN(auto st, db.prepare("SELECT document, origin_ms, next_slot_ms, schedule_error, "
                                       "created_at_ms, updated_at_ms FROM report_digest_settings "
                                       "WHERE id = 1"));
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<DigestSettingsRecord>();
  return std::optional<DigestSettingsRecord>(
      DigestSettingsRecord{st.columnText(0), st.columnInt64(1), st.columnInt64(2),
                           st.columnText(3), st.columnInt64(4), st.columnInt64(5)});
}

// The end of the last digest, nullopt when there was none.
Result<std::optional<int64_t>> lastEnd(sqlite::Database& db) {
  ASSIGN_OR_RETURN(auto st, db.prepare("SELECT MAX(period_end_ms) FROM report_digests"));
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row || st.columnIsNull(0)) return std::optional<int64_t>();
  return std::optional<int64_t>(st.columnInt64(0));
}

}  // namespace

Result<std::optional<DigestSettingsRecord>> SqliteDigestStore::settings() {
  return conn_.run([](sqlite::Database& db) { return readSettings(db); });
}

Result<DigestSettingsRecord> SqliteDigestStore::saveSettings(const std::string& document,
                                                             int64_t next_slot_ms,
                                                             const std::string& schedule_error,
                                                             int64_t now_ms) {
  return conn_.run([&](sqlite::Database& db) -> Result<DigestSettingsRecord> {
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    ASSIGN_OR_RETURN(
        auto st,
        db.prepare(
            "INSERT INTO report_digest_settings(id, document, origin_ms, next_slot_ms, "
            "schedule_error, created_at_ms, updated_at_ms) VALUES(1, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET document = excluded.document, next_slot_ms = "
            "excluded.next_slot_ms, schedule_error = excluded.schedule_error, updated_at_ms = "
            "excluded.updated_at_ms"));
    st.bindText(1, document).bindInt64(2, now_ms).bindInt64(3, next_slot_ms);
    st.bindText(4, schedule_error).bindInt64(5, now_ms).bindInt64(6, now_ms);
    RETURN_IF_ERROR(st.run());
    ASSIGN_OR_RETURN(auto after, readSettings(db));
    RETURN_IF_ERROR(tx.commit());
    if (!after) return internalError("digest settings vanished");
    return *after;
  });
}

Result<bool> SqliteDigestStore::deleteSettings() {
  return conn_.run([&](sqlite::Database& db) -> Result<bool> {
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    ASSIGN_OR_RETURN(auto before, readSettings(db));
    RETURN_IF_ERROR(db.exec("DELETE FROM report_digest_settings; DELETE FROM report_digests;"));
    RETURN_IF_ERROR(tx.commit());
    return before.has_value();
  });
}

Status SqliteDigestStore::scheduleIfUnscheduled(int64_t next_slot_ms) {
  return conn_.run([&](sqlite::Database& db) -> Status {
    ASSIGN_OR_RETURN(
        auto st,
        db.prepare("UPDATE report_digest_settings SET next_slot_ms = ?, schedule_error = '' "
                   "WHERE id = 1 AND next_slot_ms = 0"));
    st.bindInt64(1, next_slot_ms);
    return st.run();
  });
}

Result<std::optional<int64_t>> SqliteDigestStore::nextPeriodStart() {
  return conn_.run([&](sqlite::Database& db) -> Result<std::optional<int64_t>> {
    ASSIGN_OR_RETURN(auto last, lastEnd(db));
    if (last) return last;
    ASSIGN_OR_RETURN(auto s, readSettings(db));
    return s ? std::optional<int64_t>(s->origin_ms) : std::nullopt;
  });
}

Result<std::optional<DigestRecord>> SqliteDigestStore::createDigest(const NewDigest& n) {
  return conn_.run([&](sqlite::Database& db) -> Result<std::optional<DigestRecord>> {
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    ASSIGN_OR_RETURN(auto s, readSettings(db));
    if (!s) return std::optional<DigestRecord>();  // deleted meanwhile
    ASSIGN_OR_RETURN(auto last, lastEnd(db));
    // Contiguous periods: only when nothing was created since `period_start_ms` was read.
    if (last.value_or(s->origin_ms) != n.period_start_ms) return std::optional<DigestRecord>();
    if (n.slot_ms && s->next_slot_ms != *n.slot_ms) return std::optional<DigestRecord>();
    std::optional<DigestRecord> created;
    if (n.period_end_ms > n.period_start_ms) {
      ASSIGN_OR_RETURN(
          auto ins,
          db.prepare("INSERT INTO report_digests(period_start_ms, period_end_ms, trigger, status, "
                     "next_attempt_at_ms, created_at_ms) VALUES(?,?,?,?,?,?)"));
      ins.bindInt64(1, n.period_start_ms).bindInt64(2, n.period_end_ms).bindText(3, n.trigger);
      ins.bindText(4, n.status).bindInt64(5, n.created_at_ms).bindInt64(6, n.created_at_ms);
      RETURN_IF_ERROR(ins.run());
      ASSIGN_OR_RETURN(auto q, db.prepare(std::string("SELECT ") + kDigestColumns +
                                          " FROM report_digests WHERE id = last_insert_rowid()"));
      ASSIGN_OR_RETURN(bool row, q.step());
      if (!row) return internalError("digest row vanished");
      created = readDigest(q);
    }
    if (n.slot_ms) {
      ASSIGN_OR_RETURN(auto upd, db.prepare("UPDATE report_digest_settings SET next_slot_ms = ?, "
                                            "schedule_error = ? WHERE id = 1"));
      upd.bindInt64(1, n.next_slot_ms).bindText(2, n.next_slot_ms ? "" : n.next_slot_error);
      RETURN_IF_ERROR(upd.run());
    }
    RETURN_IF_ERROR(tx.commit());
    return created;
  });
}

Result<std::vector<DigestRecord>> SqliteDigestStore::dueDigests(int64_t now_ms, int limit) {
  return conn_.run([&](sqlite::Database& db) -> Result<std::vector<DigestRecord>> {
    ASSIGN_OR_RETURN(auto st, db.prepare(std::string("SELECT ") + kDigestColumns +
                                         " FROM report_digests WHERE status = 'pending' AND "
                                         "next_attempt_at_ms <= ? ORDER BY id LIMIT ?"));
    st.bindInt64(1, now_ms).bindInt64(2, limit);
    return readDigests(st);
  });
}

Status SqliteDigestStore::markSent(int64_t id, int64_t sent_at_ms, const std::string& subject) {
  return conn_.run([&](sqlite::Database& db) -> Status {
    ASSIGN_OR_RETURN(
        auto st,
        db.prepare("UPDATE report_digests SET status = 'sent', sent_at_ms = ?, attempts = "
                   "attempts + 1, last_error = '', subject = ? WHERE id = ? AND "
                   "status = 'pending'"));
    st.bindInt64(1, sent_at_ms).bindText(2, subject).bindInt64(3, id);
    return st.run();
  });
}

Status SqliteDigestStore::markFailed(int64_t id, int64_t retry_at_ms, const std::string& error) {
  return conn_.run([&](sqlite::Database& db) -> Status {
    ASSIGN_OR_RETURN(
        auto st,
        db.prepare("UPDATE report_digests SET attempts = attempts + 1, next_attempt_at_ms = ?, "
                   "last_error = ? WHERE id = ? AND status = 'pending'"));
    st.bindInt64(1, retry_at_ms).bindText(2, error).bindInt64(3, id);
    return st.run();
  });
}

Result<std::vector<DigestRecord>> SqliteDigestStore::digests(int limit) {
  return conn_.run([&](sqlite::Database& db) -> Result<std::vector<DigestRecord>> {
    ASSIGN_OR_RETURN(auto st, db.prepare(std::string("SELECT ") + kDigestColumns +
                                         " FROM report_digests ORDER BY id DESC LIMIT ?"));
    st.bindInt64(1, limit);
    return readDigests(st);
  });
}

}  // namespace tenure::cp
