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

 private:
  SqliteConnection& conn_;
  const Clock& clock_;
};

}  // namespace tenure::cp
