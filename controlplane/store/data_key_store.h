#pragma once
// DataKeyStore: tenants' data keys wrapped under the master key, and the master key's fingerprint (controlplane/secrets), in the control database.
// Implemented for SQLite by SqliteDataKeyStore (controlplane/store/sqlite/).

namespace tenure::cp {

class DataKeyStore {
 public:
  virtual ~DataKeyStore() = default;
};

}  // namespace tenure::cp
