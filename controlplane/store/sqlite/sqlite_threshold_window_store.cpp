#include "controlplane/store/sqlite/sqlite_threshold_window_store.h"

namespace tenure::cp {

const std::vector<std::string>& SqliteThresholdWindowStore::migrations() {
  static const std::vector<std::string> kMigrations = {R"sql(
CREATE TABLE threshold_window (
  run_id TEXT PRIMARY KEY,
  admitted_at_ms INTEGER NOT NULL,
  disables INTEGER NOT NULL,
  deletes INTEGER NOT NULL
);
CREATE INDEX threshold_window_at ON threshold_window(admitted_at_ms);
)sql"};
  return kMigrations;
}

namespace {

// In the caller's transaction.
Status insertAdmission(sqlite::Database& db, const WindowAdmission& a, int64_t forget_before_ms) {
  ASSIGN_OR_RETURN(auto prune,
                   db.prepare("DELETE FROM threshold_window WHERE admitted_at_ms < ?"));
  prune.bindInt64(1, forget_before_ms);
  RETURN_IF_ERROR(prune.run());
  if (a.disables == 0 && a.deletes == 0) return Status::ok();
  ASSIGN_OR_RETURN(auto ins, db.prepare("INSERT OR REPLACE INTO threshold_window "
                                        "(run_id, admitted_at_ms, disables, deletes) "
                                        "VALUES (?, ?, ?, ?)"));
  ins.bindText(1, a.run_id).bindInt64(2, a.admitted_at_ms).bindInt64(3, a.disables);
  ins.bindInt64(4, a.deletes);
  return ins.run();
}

}  // namespace

Result<bool> SqliteThresholdWindowStore::admitIf(const WindowAdmission& admission,
                                                 std::optional<int64_t> counted_after_ms,
                                                 const AdmissionDecision& decide,
                                                 int64_t forget_before_ms) {
  // The connection's lock is held from the read to the write: two plans gated at once cannot
  // both slip under the limit.
  return conn_.run([&](sqlite::Database& db) -> Result<bool> {
    WindowCounts earlier;
    if (counted_after_ms) {
      ASSIGN_OR_RETURN(auto sum, db.prepare("SELECT COALESCE(SUM(disables), 0), "
                                            "COALESCE(SUM(deletes), 0) FROM threshold_window "
                                            "WHERE admitted_at_ms > ? AND run_id <> ?"));
      sum.bindInt64(1, *counted_after_ms).bindText(2, admission.run_id);
      ASSIGN_OR_RETURN(bool row, sum.step());
      if (row) {
        earlier.disables = static_cast<int>(sum.columnInt64(0));
        earlier.deletes = static_cast<int>(sum.columnInt64(1));
      }
    }
    ASSIGN_OR_RETURN(bool admit, decide(earlier));
    if (!admit) return false;
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    RETURN_IF_ERROR(insertAdmission(db, admission, forget_before_ms));
    RETURN_IF_ERROR(tx.commit());
    return true;
  });
}

Status SqliteThresholdWindowStore::admit(const WindowAdmission& admission,
                                         int64_t forget_before_ms) {
  return conn_.run([&](sqlite::Database& db) -> Status {
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    RETURN_IF_ERROR(insertAdmission(db, admission, forget_before_ms));
    return tx.commit();
  });
}

}  // namespace tenure::cp
