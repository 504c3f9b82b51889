#pragma once
// Secrets the control plane keeps for a tenant (sink credentials, HR connector tokens) are
// sealed with that tenant's own data key (AES-256-GCM); the data key is itself wrapped by the
// control plane's master key. Code that stores a secret keeps only the sealed text.

#include <string>
#include <string_view>

#include "common/base/status.h"

namespace tenure::cp {

class SecretBox {
 public:
  virtual ~SecretBox() = default;
  // Encrypts `plaintext` with the tenant's data key (created on first use). The result is
  // printable text, safe to store in SQLite or JSON; sealing the same value twice gives
  // different texts. `context` is bound in as associated data (e.g. "sink:webhook"): a sealed
  // value copied to another place or another tenant does not open.
  virtual Result<std::string> seal(const std::string& tenant_id, std::string_view context,
                                   std::string_view plaintext) = 0;
  // Decrypts; a data error when the text was altered, belongs to another tenant or context.
  virtual Result<std::string> open(const std::string& tenant_id, std::string_view context,
                                   std::string_view sealed) = 0;
  // Destroys the tenant's data key when the tenant is deleted: its sealed values never open
  // again. A box without per-tenant keys has nothing to do.
  virtual Status forgetTenant(const std::string& tenant_id) { return Status::ok(); }
};

}  // namespace tenure::cp
