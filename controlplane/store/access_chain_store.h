#pragma once
// AccessChainStore: the access audit log: a hash chain of who called which route (controlplane/audit/access_log.h); one in the control database, one per tenant.
// Implemented for SQLite by SqliteAccessChainStore (controlplane/store/sqlite/).

namespace tenure::cp {

class AccessChainStore {
 public:
  virtual ~AccessChainStore() = default;
};

}  // namespace tenure::cp
