#pragma once
// AccessChainStore: the access audit log's rows, a hash chain of who called which route
// (controlplane/audit/access_log.h). One chain in the control database, one in each tenant's.
// Implemented for SQLite by SqliteAccessChainStore (controlplane/store/sqlite/).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace tenure::cp {

// The prev_hash of a chain's first entry.
inline constexpr const char* kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// One entry of a chain, as stored.
struct AccessEntry {
  int64_t id = 0;  // position in its chain (1, 2, ...)
  int64_t at_ms = 0;
  std::string principal_kind;  // tenant_token | operator | agent
  std::string principal;       // token / operator name, or the agent id
  std::string tenant_id;       // the tenant whose data it touched; "" in the control chain
  std::string method;
  std::string path;
  std::string query;     // decoded query parameters as k=v&k=v, sorted
  std::string resource;  // e.g. "runs/r_1a2b/report.csv", "identities/E1"
  std::string action;    // read | change | approve | reject | result | rotate | revoke
  int status = 0;        // HTTP status of the answer
  std::string prev_hash;
  std::string hash;
};

class AccessChainStore {
 public:
  virtual ~AccessChainStore() = default;

  // The hash of an entry whose id and prev_hash are set (the chain's rule: access_log.h).
  using HashOf = std::function<std::string(const AccessEntry&)>;

  // Appends `e` atomically: it gets the next id (1 for the first entry) and the last entry's
  // hash as prev_hash (kGenesisHash for the first), then hash = hash_of(e). Concurrent appends
  // to one chain are serialised, so ids have no gaps and every link points at its predecessor.
  // Returns the entry as stored.
  virtual Result<AccessEntry> append(AccessEntry e, const HashOf& hash_of) = 0;
  // Entries with id > after_id, oldest first, at most `limit`.
  virtual Result<std::vector<AccessEntry>> list(int64_t after_id, int limit) = 0;
  // Visits every entry in id order, as stored, while `visit` returns true (a verifier stops at
  // the first broken link). Appends made meanwhile may or may not be visited.
  virtual Status forEach(const std::function<bool(const AccessEntry&)>& visit) = 0;
};

}  // namespace tenure::cp
