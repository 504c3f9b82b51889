#pragma once
// AdminTokenStore: operators' admin API tokens (SHA-256 hashes only).
// Part of the control database (ControlStore); SQLite implementation in
// controlplane/store/sqlite/sqlite_control_store*.cpp.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace tenure::cp {

// An operator credential for the admin API. The plaintext token is returned once, at creation.
struct AdminToken {
  std::string name;
  int64_t created_at_ms = 0;
};

struct CreatedAdminToken {
  AdminToken admin;
  std::string token;  // plaintext, returned once
};

class AdminTokenStore {
 public:
  virtual ~AdminTokenStore() = default;

  // Admin tokens. Names are unique (a second token with the same name is a conflict).
  virtual Result<CreatedAdminToken> createAdminToken(const std::string& name) = 0;
  virtual Result<std::optional<AdminToken>> adminByToken(const std::string& token) = 0;
  // Every admin token's name and creation time (never a hash), by name.
  virtual Result<std::vector<AdminToken>> listAdminTokens() = 0;
  // A new secret under the same name; the old one stops working at once (tokens are looked up on
  // every request). Not found when no token has that name.
  virtual Result<CreatedAdminToken> rotateAdminToken(const std::string& name) = 0;
  // Deletes the token; it stops working at once. Not found when no token has that name.
  virtual Status revokeAdminToken(const std::string& name) = 0;
};

}  // namespace tenure::cp
