#pragma once
// AccessChainStore on SQLite: table access_log (component "audit") in the control or tenant
// database, on the store's connection.

#include <string>
#include <vector>

#include "common/base/clock.h"
#include "controlplane/store/access_chain_store.h"
#include "controlplane/store/sqlite/sqlite_connection.h"

namespace tenure::cp {

class SqliteAccessChainStore final : public AccessChainStore {
 public:
  // The component's migrations (sqlite::migrateComponent), run once when the database opens.
  static constexpr const char* kComponent = "audit";
  static const std::vector<std::string>& migrations();

  SqliteAccessChainStore(SqliteConnection& conn, const Clock& clock) : conn_(conn), clock_(clock) {}

  Result<AccessEntry> append(AccessEntry e, const HashOf& hash_of) override;
  Result<std::vector<AccessEntry>> list(int64_t after_id, int limit) override;
  Status forEach(const std::function<bool(const AccessEntry&)>& visit) override;

 private:
  SqliteConnection& conn_;
  const Clock& clock_;
};

}  // namespace tenure::cp
