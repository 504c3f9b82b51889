#pragma once
// TenantRegistry: the tenants and their HR-side credentials (enroll secret, API token; stored as
// SHA-256 hashes only). Part of the control database (ControlStore); SQLite implementation in
// controlplane/store/sqlite/sqlite_control_store*.cpp.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace tenure::cp {

struct Tenant {
  std::string tenant_id;
  std::string name;
  int64_t created_at_ms = 0;
};

// Returned once, at creation: the plaintext secrets are never stored.
struct TenantCredentials {
  Tenant tenant;
  std::string enroll_secret;
  std::string api_token;
};

// The longest grace an API token rotation gives the previous token (7 days): long enough to
// switch an HR integration over, short enough that a leaked token does not live on for long.
inline constexpr int64_t kMaxApiTokenGraceSeconds = 7 * 24 * 3600;

// Returned once, by an API token rotation.
struct RotatedApiToken {
  std::string api_token;                // plaintext, returned once
  int64_t previous_valid_until_ms = 0;  // 0: the previous token was refused at once
};

class TenantRegistry {
 public:
  virtual ~TenantRegistry() = default;

  virtual Result<TenantCredentials> createTenant(const std::string& name) = 0;
  virtual Result<std::vector<Tenant>> listTenants() = 0;
  virtual Result<std::optional<Tenant>> tenantById(const std::string& tenant_id) = 0;
  virtual Result<std::optional<Tenant>> tenantByEnrollSecret(const std::string& secret) = 0;
  // The tenant whose current API token this is, or (unless `current_only`) whose previous token
  // it is while that one's grace lasts.
  virtual Result<std::optional<Tenant>> tenantByApiToken(const std::string& token,
                                                         bool current_only = false) = 0;
  // Removes the tenant with its credentials (enroll secret, API token), its agents (their node
  // keys then answer node_invalid), its jobs, and the rows components keep for it here (schedules,
  // agent health, the ticket index), in one transaction. Returns false when there was no such
  // tenant (leftover component rows are still removed).
  virtual Result<bool> deleteTenant(const std::string& tenant_id) = 0;

  // Credentials (sqlite/sqlite_control_store_credentials.cpp). Rotations return the new plaintext
  // once. A new API token for the tenant. The previous token keeps working for `grace_seconds`
  // (0..kMaxApiTokenGraceSeconds; 0: refused at once) so integrations can be switched over;
  // rotating again ends any earlier grace. not_found for an unknown tenant, data error for a
  // grace out of range.
  virtual Result<RotatedApiToken> rotateApiToken(const std::string& tenant_id,
                                                 int64_t grace_seconds) = 0;
  // A new enroll secret; the old one is refused at once. Enrolled agents keep their node keys.
  virtual Result<std::string> rotateEnrollSecret(const std::string& tenant_id) = 0;
};

}  // namespace tenure::cp
