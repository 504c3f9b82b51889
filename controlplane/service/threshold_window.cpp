#include "controlplane/service/threshold_window.h"

#include <algorithm>

#include "common/sqlite/database.h"

namespace tenure::cp {

namespace {

constexpr int64_t kMinuteMs = 60'000;
// Rows older than the longest window policy allows are useless.
constexpr int64_t kKeepMs = 10'080 * kMinuteMs;

Status migrate(sqlite::Database& db) {
  return sqlite::migrateComponent(db, "threshold_window", {R"sql(
CREATE TABLE threshold_window (
  run_id TEXT PRIMARY KEY,
  admitted_at_ms INTEGER NOT NULL,
  disables INTEGER NOT NULL,
  deletes INTEGER NOT NULL
);
CREATE INDEX threshold_window_at ON threshold_window(admitted_at_ms);
)sql"});
}

int countOf(const protocol::PlanSummary& plan, const char* kind) {
  auto it = plan.counts.find(kind);
  return it == plan.counts.end() ? 0 : std::max(0, it->second);
}

// A re-planned run (its lease expired, another agent planned it again) replaces its row.
Status admit(sqlite::Database& db, const std::string& run_id, const protocol::PlanSummary& plan,
             int64_t now_ms) {
  const int disables = countOf(plan, "disable"), deletes = countOf(plan, "delete");
  ASSIGN_OR_RETURN(auto prune,
                   db.prepare("DELETE FROM threshold_window WHERE admitted_at_ms < ?"));
  prune.bindInt64(1, now_ms - kKeepMs);
  RETURN_IF_ERROR(prune.run());
  if (disables == 0 && deletes == 0) return Status::ok();
  ASSIGN_OR_RETURN(auto ins, db.prepare("INSERT OR REPLACE INTO threshold_window "
                                        "(run_id, admitted_at_ms, disables, deletes) "
                                        "VALUES (?, ?, ?, ?)"));
  ins.bindText(1, run_id).bindInt64(2, now_ms).bindInt64(3, disables).bindInt64(4, deletes);
  return ins.run();
}

}  // namespace

Result<protocol::PlanDecision> gatePlan(TenantStore& store,
                                        const policy::ThresholdPolicy& thresholds,
                                        const std::string& run_id,
                                        const protocol::PlanSummary& plan, bool dry_run,
                                        int64_t now_ms) {
  return store.withDatabase([&](sqlite::Database& db) -> Result<protocol::PlanDecision> {
    RETURN_IF_ERROR(migrate(db));
    protocol::PlanDecision decision = evaluateThresholds(thresholds, plan);
    if (thresholds.window) {
      ASSIGN_OR_RETURN(auto sum, db.prepare("SELECT COALESCE(SUM(disables), 0), "
                                            "COALESCE(SUM(deletes), 0) FROM threshold_window "
                                            "WHERE admitted_at_ms > ? AND run_id <> ?"));
      sum.bindInt64(1, now_ms - int64_t{thresholds.window->minutes} * kMinuteMs)
          .bindText(2, run_id);
      ASSIGN_OR_RETURN(bool row, sum.step());
      WindowTotals earlier;
      if (row) {
        earlier.disables = static_cast<int>(sum.columnInt64(0));
        earlier.deletes = static_cast<int>(sum.columnInt64(1));
      }
      decision = combineDecisions(decision, evaluateWindow(thresholds.window, earlier, plan));
    }
    if (!decision.held && !dry_run) {
      ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
      RETURN_IF_ERROR(admit(db, run_id, plan, now_ms));
      RETURN_IF_ERROR(tx.commit());
    }
    return decision;
  });
}

Status admitApprovedPlan(TenantStore& store, const std::string& run_id,
                         const protocol::PlanSummary& plan, int64_t now_ms) {
  return store.withDatabase([&](sqlite::Database& db) -> Status {
    RETURN_IF_ERROR(migrate(db));
    ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
    RETURN_IF_ERROR(admit(db, run_id, plan, now_ms));
    return tx.commit();
  });
}

}  // namespace tenure::cp
