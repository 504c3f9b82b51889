#pragma once
// Deleting a tenant: what it had in the control DB (credentials, agents, jobs), its data key, and
// its own store file. Used by DELETE /admin/v1/tenants/{t} and `tenure-cp tenant delete`.

#include <functional>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "controlplane/secrets/secret_box.h"
#include "controlplane/store/control_store.h"
#include "controlplane/store/tenant_store.h"

namespace tenure::cp {

// A component that keeps rows of its own for a tenant (schedules, tickets, connectors, ...)
// removes them here. Must be idempotent: a deletion that crashed is run again.
using TenantDeletionHook = std::function<Status(const std::string& tenant_id)>;

struct TenantDeletion {
  bool tenant_existed = false;  // the tenant row was there (false: only leftovers were removed)
  bool store_existed = false;   // its store file was there
};

// In this order, each step idempotent so that running it again finishes a deletion that crashed
// half way: (1) the tenant row with its agents, jobs and credentials in one transaction, so every
// credential is refused from here on; (2) the hooks; (3) the data key (`secrets` may be null when
// the caller has no SecretBox: then `drop_data_key` must remove it); (4) the store file.
// not_found when none of these existed.
Result<TenantDeletion> deleteTenant(const std::string& tenant_id, ControlStore& control,
                                    TenantStores& stores, SecretBox* secrets,
                                    const std::function<Status(const std::string&)>& drop_data_key,
                                    const std::vector<TenantDeletionHook>& hooks = {});

}  // namespace tenure::cp
