#pragma once
// A tenant's policy as the control plane uses it: the stored versions (TenantStore) parsed into
// policy::Policy, version 0 being the default policy. Intake plans runs with the current version;
// the job queue hands an agent the version its run was planned with.

#include <string>

#include "common/base/status.h"
#include "common/policy/policy.h"
#include "controlplane/store/tenant_store.h"

namespace tenure::cp {

// The policy version a run was planned with (version 0: the default policy). A stored version that
// no longer parses is an internal error (it was valid when saved).
Result<policy::Policy> tenantPolicyVersion(TenantStore& store, int version);
// The tenant's newest policy (the default policy, version 0, when none was saved).
Result<policy::Policy> currentTenantPolicy(TenantStore& store);

}  // namespace tenure::cp
