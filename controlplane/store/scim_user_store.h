#pragma once
// ScimUserStore: SCIM resources: ids, external ids, versions, what the client sent (controlplane/scim).
// Implemented for SQLite by SqliteScimUserStore (controlplane/store/sqlite/).

namespace tenure::cp {

class ScimUserStore {
 public:
  virtual ~ScimUserStore() = default;
};

}  // namespace tenure::cp
