#include "controlplane/policy/tenant_policy.h"

#include <boost/json/value.hpp>

#include <vector>

#include "common/protocol/messages.h"

namespace tenure::cp {

Result<policy::Policy> tenantPolicyVersion(TenantStore& store, int version) {
  if (version == 0) return policy::defaultPolicy();
  ASSIGN_OR_RETURN(auto stored, store.policyVersion(version));
  if (!stored) return internalError("policy version " + std::to_string(version) + " is missing");
  ASSIGN_OR_RETURN(boost::json::value doc, protocol::parseJsonText(stored->document));
  std::vector<policy::PolicyError> errors;
  auto parsed = policy::parsePolicy(doc, &errors);
  // A stored version was valid when saved; failing now is a compatibility bug, not bad input.
  if (!parsed.isOk()) {
    return internalError("stored policy version " + std::to_string(version) +
                         " no longer parses: " + parsed.status().message());
  }
  parsed->version = version;
  return parsed;
}

Result<policy::Policy> currentTenantPolicy(TenantStore& store) {
  ASSIGN_OR_RETURN(auto stored, store.currentPolicy());
  return tenantPolicyVersion(store, stored ? stored->version : 0);
}

}  // namespace tenure::cp
