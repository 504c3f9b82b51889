#pragma once
// DataKeyStore on SQLite: tables secrets_master and secrets_data_keys (component "secrets") in the
// control database, on the store's connection.

#include <string>
#include <vector>

#include "common/base/clock.h"
#include "controlplane/store/data_key_store.h"
#include "controlplane/store/sqlite/sqlite_connection.h"

namespace tenure::cp {

class SqliteDataKeyStore final : public DataKeyStore {
 public:
  // The component's migrations (sqlite::migrateComponent), run once when the database opens.
  static constexpr const char* kComponent = "secrets";
  static const std::vector<std::string>& migrations();

  SqliteDataKeyStore(SqliteConnection& conn, const Clock& clock) : conn_(conn), clock_(clock) {}

  Result<std::optional<std::string>> masterFingerprint() override;
  Status setMasterFingerprint(const std::string& fingerprint) override;
  Result<std::optional<std::string>> wrappedKey(const std::string& tenant_id) override;
  Result<std::optional<std::string>> addWrappedKey(const std::string& tenant_id,
                                                   const std::string& wrapped,
                                                   const std::string& master_fingerprint) override;
  Status removeKey(const std::string& tenant_id) override;
  Status rotateMaster(const Rewrap& rewrap, const std::string& new_fingerprint) override;

 private:
  SqliteConnection& conn_;
  const Clock& clock_;
};

}  // namespace tenure::cp
