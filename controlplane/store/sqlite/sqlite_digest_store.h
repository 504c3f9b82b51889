#pragma once
// DigestStore on SQLite: tables of the component "report_digest" in the tenant database, on the store's connection.

#include <string>
#include <vector>

#include "common/base/clock.h"
#include "controlplane/store/digest_store.h"
#include "controlplane/store/sqlite/sqlite_connection.h"

namespace tenure::cp {

class SqliteDigestStore final : public DigestStore {
 public:
  // The component's migrations (sqlite::migrateComponent), run once when the database opens.
  static constexpr const char* kComponent = "report_digest";
  static const std::vector<std::string>& migrations();

  SqliteDigestStore(SqliteConnection& conn, const Clock& clock) : conn_(conn), clock_(clock) {}

  Result<std::optional<DigestSettingsRecord>> settings() override;
  Result<DigestSettingsRecord> saveSettings(const std::string& document, int64_t next_slot_ms,
                                            const std::string& schedule_error,
                                            int64_t now_ms) override;
  Result<bool> deleteSettings() override;
  Status scheduleIfUnscheduled(int64_t next_slot_ms) override;
  Result<std::optional<int64_t>> nextPeriodStart() override;
  Result<std::optional<DigestRecord>> createDigest(const NewDigest& digest) override;
  Result<std::vector<DigestRecord>> dueDigests(int64_t now_ms, int limit) override;
  Status markSent(int64_t id, int64_t sent_at_ms, const std::string& subject) override;
  Status markFailed(int64_t id, int64_t retry_at_ms, const std::string& error) override;
  Result<std::vector<DigestRecord>> digests(int limit) override;

 private:
  SqliteConnection& conn_;
  const Clock& clock_;
};

}  // namespace tenure::cp
