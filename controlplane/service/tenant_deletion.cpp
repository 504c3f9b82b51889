#include "controlplane/service/tenant_deletion.h"

#include <spdlog/spdlog.h>

#include <filesystem>

namespace tenure::cp {

Result<TenantDeletion> deleteTenant(const std::string& tenant_id, ControlStore& control,
                                    TenantStores& stores, SecretBox* secrets,
                                    const std::function<Status(const std::string&)>& drop_data_key,
                                    const std::vector<TenantDeletionHook>& hooks) {
  TenantDeletion out;
  const bool safe_id = !tenant_id.empty() && tenant_id.size() <= 64 &&
                       tenant_id.find_first_not_of(
                           "abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == std::string::npos;
  if (!safe_id) return notFoundError("no tenant " + tenant_id);
  ASSIGN_OR_RETURN(out.tenant_existed, control.deleteTenant(tenant_id));
  if (!out.tenant_existed) {
    // A deletion that crashed half way is finished; an id that never existed is not found.
    std::error_code ec;
    if (!std::filesystem::exists(stores.pathFor(tenant_id), ec)) {
      RETURN_IF_ERROR(drop_data_key ? drop_data_key(tenant_id) : Status::ok());
      if (secrets) RETURN_IF_ERROR(secrets->forgetTenant(tenant_id));
      for (const auto& hook : hooks) RETURN_IF_ERROR(hook(tenant_id));
      return notFoundError("no tenant " + tenant_id);
    }
  }
  for (const auto& hook : hooks) RETURN_IF_ERROR(hook(tenant_id));
  if (secrets) RETURN_IF_ERROR(secrets->forgetTenant(tenant_id));
  if (drop_data_key) RETURN_IF_ERROR(drop_data_key(tenant_id));
  ASSIGN_OR_RETURN(out.store_existed, stores.remove(tenant_id));
  spdlog::warn("tenant {} deleted (store file {})", tenant_id,
               out.store_existed ? "removed" : "was already gone");
  return out;
}

}  // namespace tenure::cp
