#pragma once
// DataKeyStore: tenants' data keys wrapped under the master key, and the fingerprint of that
// master key (controlplane/secrets), in the control database. The store keeps only wrapped keys;
// wrapping and unwrapping happen in the secrets module.
// Implemented for SQLite by SqliteDataKeyStore (controlplane/store/sqlite/).

#include <functional>
#include <optional>
#include <string>

#include "common/base/status.h"

namespace tenure::cp {

class DataKeyStore {
 public:
  virtual ~DataKeyStore() = default;

  // The fingerprint of the master key the data keys are wrapped with; nullopt until one is
  // recorded.
  virtual Result<std::optional<std::string>> masterFingerprint() = 0;
  // Records the master key's fingerprint, replacing any earlier one.
  virtual Status setMasterFingerprint(const std::string& fingerprint) = 0;

  // The tenant's wrapped data key; nullopt when it has none.
  virtual Result<std::optional<std::string>> wrappedKey(const std::string& tenant_id) = 0;
  // Atomically: when the recorded master fingerprint is `master_fingerprint`, keeps `wrapped` as
  // the tenant's data key unless it has one already (of two racing first uses, the first wins),
  // and returns the tenant's wrapped key as stored. nullopt, storing nothing, when another
  // master key (or none) is recorded: a key wrapped under it would never open again.
  virtual Result<std::optional<std::string>> addWrappedKey(
      const std::string& tenant_id, const std::string& wrapped,
      const std::string& master_fingerprint) = 0;
  // Removes the tenant's data key; ok when it had none.
  virtual Status removeKey(const std::string& tenant_id) = 0;

  // The key wrapped under the new master key, from the tenant id and the key wrapped under the
  // old one.
  using Rewrap =
      std::function<Result<std::string>(const std::string& tenant_id, const std::string& wrapped)>;
  // Master key rotation, in one transaction: every data key is replaced by rewrap(...) and
  // `new_fingerprint` is recorded; when any rewrap fails, nothing changes and its error is
  // returned.
  virtual Status rotateMaster(const Rewrap& rewrap, const std::string& new_fingerprint) = 0;
};

}  // namespace tenure::cp
