#pragma once
// DigestStore: the report digest's subscriptions and what was sent (controlplane/digest).
// Implemented for SQLite by SqliteDigestStore (controlplane/store/sqlite/).

namespace tenure::cp {

class DigestStore {
 public:
  virtual ~DigestStore() = default;
};

}  // namespace tenure::cp
