#include "agent/spool/result_spool.h"

#include <boost/json.hpp>
#include <utility>

namespace tenure::agent {

namespace bj = boost::json;

namespace {

// Bodies are stored as the protocol's own JSON, so the spool needs no schema change when a
// message gains a field.
const std::vector<std::string> kMigrations = {
    R"sql(
CREATE TABLE jobs (
  job_id TEXT PRIMARY KEY,
  body TEXT NOT NULL
);
CREATE TABLE outcomes (
  job_id TEXT NOT NULL,
  employee_id TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (job_id, employee_id)
);
CREATE TABLE results (
  job_id TEXT PRIMARY KEY,
  body TEXT NOT NULL
);
)sql",
};

template <typename T, typename Parse>
Result<T> parseBody(const std::string& text, Parse parse, std::string_view what) {
  auto v = protocol::parseJsonText(text);
  if (!v.isOk()) return v.status().withContext(what);
  auto parsed = parse(*v);
  if (!parsed.isOk()) return parsed.status().withContext(what);
  return std::move(parsed).value();
}

}  // namespace

Result<std::unique_ptr<ResultSpool>> ResultSpool::open(const std::string& path) {
  // FULL: the agent acknowledges work to nobody before it is on disk, even across power loss.
  ASSIGN_OR_RETURN(sqlite::Database db,
                   sqlite::Database::open(path, sqlite::OpenOptions{.full_sync = true}));
  RETURN_IF_ERROR(sqlite::migrate(db, kMigrations).withContext("result spool"));
  return std::unique_ptr<ResultSpool>(new ResultSpool(std::move(db)));
}

Status ResultSpool::saveJob(const protocol::Job& job) {
  if (job.job_id.empty()) return dataError("job without job_id");
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("INSERT INTO jobs (job_id, body) VALUES (?, ?) "
                                        "ON CONFLICT(job_id) DO NOTHING"));
  st.bindText(1, job.job_id).bindText(2, protocol::serialize(protocol::toJson(job)));
  return st.run().withContext("spool job " + job.job_id);
}

Result<std::vector<protocol::Job>> ResultSpool::unfinishedJobs() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT j.job_id, j.body FROM jobs j WHERE NOT EXISTS "
                                        "(SELECT 1 FROM results r WHERE r.job_id = j.job_id) "
                                        "ORDER BY j.rowid"));
  std::vector<protocol::Job> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return out;
    ASSIGN_OR_RETURN(auto job, parseBody<protocol::Job>(st.columnText(1), protocol::parseJob,
                                                        "spooled job " + st.columnText(0)));
    out.push_back(std::move(job));
  }
}

Status ResultSpool::saveOutcome(const std::string& job_id, const protocol::IdentityOutcome& o) {
  if (job_id.empty()) return dataError("outcome without job_id");
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("INSERT INTO outcomes (job_id, employee_id, body) "
                                        "VALUES (?, ?, ?) ON CONFLICT(job_id, employee_id) "
                                        "DO UPDATE SET body = excluded.body"));
  st.bindText(1, job_id)
      .bindText(2, o.employee_id)
      .bindText(3, protocol::serialize(protocol::toJson(o)));
  return st.run().withContext("spool outcome of " + o.employee_id);
}

Result<std::map<std::string, protocol::IdentityOutcome>> ResultSpool::outcomes(
    const std::string& job_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT employee_id, body FROM outcomes WHERE job_id = ?"));
  st.bindText(1, job_id);
  std::map<std::string, protocol::IdentityOutcome> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return out;
    ASSIGN_OR_RETURN(auto o, parseBody<protocol::IdentityOutcome>(
                                 st.columnText(1), protocol::parseIdentityOutcome,
                                 "spooled outcome " + st.columnText(0)));
    out.emplace(st.columnText(0), std::move(o));
  }
}

Status ResultSpool::saveResult(const protocol::JobResult& r) {
  if (r.job_id.empty()) return dataError("result without job_id");
  // Checked here, not when re-sending: a result that cannot be parsed back would block the queue.
  if (r.status != "succeeded" && r.status != "partial" && r.status != "failed") {
    return dataError("result of " + r.job_id + " has invalid status '" + r.status + "'");
  }
  std::lock_guard lock(mu_);
  // An upsert, not REPLACE: REPLACE deletes and re-inserts, which would move a re-saved result
  // to the back of the send queue.
  ASSIGN_OR_RETURN(auto st, db_.prepare("INSERT INTO results (job_id, body) VALUES (?, ?) "
                                        "ON CONFLICT(job_id) DO UPDATE SET body = excluded.body"));
  st.bindText(1, r.job_id).bindText(2, protocol::serialize(protocol::toJson(r)));
  return st.run().withContext("spool result of " + r.job_id);
}

Result<std::vector<protocol::JobResult>> ResultSpool::pendingResults() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT job_id, body FROM results ORDER BY rowid"));
  std::vector<protocol::JobResult> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return out;
    ASSIGN_OR_RETURN(auto r,
                     parseBody<protocol::JobResult>(st.columnText(1), protocol::parseJobResult,
                                                    "spooled result " + st.columnText(0)));
    out.push_back(std::move(r));
  }
}

Status ResultSpool::acknowledge(const std::string& job_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));
  for (const char* sql :
       {"DELETE FROM outcomes WHERE job_id = ?", "DELETE FROM results WHERE job_id = ?",
        "DELETE FROM jobs WHERE job_id = ?"}) {
    ASSIGN_OR_RETURN(auto st, db_.prepare(sql));
    st.bindText(1, job_id);
    RETURN_IF_ERROR(st.run());
  }
  return tx.commit();
}

}  // namespace tenure::agent
