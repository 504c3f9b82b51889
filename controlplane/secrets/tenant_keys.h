#pragma once
// TenantKeys: the SecretBox of the Linux control plane. A master key (32 random bytes in a 0600
// file, by default DATA_DIR/master.key) wraps one data key per tenant (32 random bytes, created
// on first use) with AES-256-GCM; the wrapped keys live in the control DB (component schema
// "secrets"). Values are sealed under the tenant's data key with AES-256-GCM and associated data
// tenant_id '\0' context:  "v1:" base64(nonce(12) || ciphertext || tag(16)).
//
// The control DB remembers a fingerprint of the master key (SHA-256 of a label and the key), so a
// wrong or lost key file is a config error at start rather than a data error on every secret.

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/base/base64.h"
#include "controlplane/secrets/secret_box.h"
#include "controlplane/store/control_store.h"

namespace tenure::cp {

using SecretKey = std::array<unsigned char, 32>;

class TenantKeys : public SecretBox {
 public:
  // Loads the master key from `master_key_file`, creating it (atomically, mode 0600) when both
  // the file and any record of a master key in the control DB are missing. Finishes a master key
  // rotation that crashed after its transaction committed (see rotateMaster).
  static Result<std::unique_ptr<TenantKeys>> open(ControlStore& control,
                                                  const std::string& master_key_file);

  // Rewraps every data key under a new master key. Crash-safe in three steps: the new key is
  // written to `master_key_file`.new (fsync), all rewraps and the new fingerprint commit in one
  // transaction, then the .new file is renamed over the old one. A crash before the commit leaves
  // the old key in force (the stale .new is replaced next time); a crash after it is finished by
  // the next open(), which finds the DB's fingerprint matches the .new file.
  static Status rotateMaster(ControlStore& control, const std::string& master_key_file);

  // Removes the tenant's data key (and so makes every value sealed for it unreadable). Needs no
  // master key; ok when there was none.
  static Status dropDataKey(ControlStore& control, const std::string& tenant_id);

  Result<std::string> seal(const std::string& tenant_id, std::string_view context,
                           std::string_view plaintext) override;
  Result<std::string> open(const std::string& tenant_id, std::string_view context,
                           std::string_view sealed) override;
  Status forgetTenant(const std::string& tenant_id) override;

 private:
  TenantKeys(ControlStore& control, const SecretKey& master) : control_(control), master_(master) {}
  // The tenant's data key, unwrapped; created when `create` and missing. not_found otherwise.
  Result<SecretKey> dataKey(const std::string& tenant_id, bool create);

  ControlStore& control_;
  SecretKey master_;
  std::mutex mu_;
  std::map<std::string, SecretKey> cache_;
};

// Lower-level pieces, exposed for tests.
namespace secrets {
// AES-256-GCM: nonce(12) || ciphertext || tag(16), with a fresh random nonce.
Result<std::string> aeadSeal(const SecretKey& key, std::string_view aad, std::string_view plain);
// A data error when the input is short, altered, or was sealed under another key or aad.
Result<std::string> aeadOpen(const SecretKey& key, std::string_view aad, std::string_view boxed);
// The sealed text's encoding (common/base/base64).
using tenure::base64Decode;
using tenure::base64Encode;
// Hex fingerprint identifying a master key without revealing it.
std::string masterFingerprint(const SecretKey& key);
}  // namespace secrets

}  // namespace tenure::cp
