#pragma once
// IdentityEventStore: the per-person timeline: HR changes, directory outcomes and operator actions (controlplane/audit/identity_events.h).
// Implemented for SQLite by SqliteIdentityEventStore (controlplane/store/sqlite/).

namespace tenure::cp {

class IdentityEventStore {
 public:
  virtual ~IdentityEventStore() = default;
};

}  // namespace tenure::cp
