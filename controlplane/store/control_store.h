#pragma once
// ControlStore: the control-plane database (SQLite, WAL). It holds no personal data: job payloads
// live in the tenant's own store; secrets (enroll secrets, API tokens, node keys, admin tokens)
// only as SHA-256 hashes. One interface per component, composed here; a component that needs only
// one part takes that interface.

#include <memory>
#include <string>

#include "common/base/clock.h"
#include "common/base/status.h"
#include "controlplane/store/access_chain_store.h"
#include "controlplane/store/admin_token_store.h"
#include "controlplane/store/agent_registry.h"
#include "controlplane/store/data_key_store.h"
#include "controlplane/store/job_store.h"
#include "controlplane/store/schedule_store.h"
#include "controlplane/store/tenant_registry.h"
#include "controlplane/store/ticket_index_store.h"

namespace tenure::cp {

class ControlStore : public TenantRegistry,
                     public AgentRegistry,
                     public JobStore,
                     public ScheduleStore,
                     public AdminTokenStore {
 public:
  ~ControlStore() override = default;

  // Opens (creating and migrating as needed) the control database file at `path` (SQLite).
  static Result<std::unique_ptr<ControlStore>> open(const std::string& path, const Clock& clock);

  // The stores of the components that keep rows in the control database.
  virtual AccessChainStore& accessChain() = 0;
  virtual TicketIndexStore& ticketIndex() = 0;
  virtual DataKeyStore& dataKeys() = 0;
};

}  // namespace tenure::cp
