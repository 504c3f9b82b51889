#pragma once
// The access audit log: who read or changed what, hash chained so that an edited, removed or
// reordered entry is detected. One chain per tenant store (requests about that tenant, including
// operators' access to it) and one in the control database for operator actions not tied to a
// single tenant (component schema "audit" in both).
//
// Each entry stores prev_hash (the previous entry's hash; 64 zeros for the first) and
// hash = SHA-256(prev_hash || canonical JSON of the entry): a JSON object with the entry's
// fields (id, at_ms, principal_kind, principal, tenant_id, method, path, query, resource,
// action, status) in that key order, no whitespace.

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/status.h"
#include "controlplane/http/http_server.h"
#include "controlplane/store/access_chain_store.h"
#include "controlplane/store/control_store.h"
#include "controlplane/store/tenant_store.h"

namespace tenure::cp {

// AccessEntry (the stored row) and kGenesisHash: controlplane/store/access_chain_store.h.

// The canonical JSON the hash covers (see above).
std::string canonicalJson(const AccessEntry& e);
// SHA-256 hex of prev_hash || canonical JSON.
std::string chainHash(const std::string& prev_hash, const AccessEntry& e);

// Appends to `chain`, filling id, prev_hash and hash.
Result<AccessEntry> appendAccessEntry(AccessChainStore& chain, AccessEntry e);

struct ChainCheck {
  bool ok = true;
  int64_t entries = 0;     // entries checked
  int64_t broken_id = 0;   // first entry whose link does not hold
  std::string field;       // "prev_hash" (link to the previous entry) or "hash" (the entry itself)
  std::string expected;
  std::string found;
};
// Walks the chain in id order: each prev_hash must equal the previous hash (ids without gaps),
// and each hash must match the entry's content. Stops at the first broken link.
Result<ChainCheck> verifyAccessChain(AccessChainStore& chain);

boost::json::object toJson(const AccessEntry& e);
boost::json::object toJson(const ChainCheck& c);

// Records requests into the right chain. Thread-safe (the stores serialize their connection).
class AccessAuditLog {
 public:
  AccessAuditLog(ControlStore& control, TenantStores& tenants, const Clock& clock)
      : control_(control), tenants_(tenants), clock_(clock) {}

  // Appends to the tenant's chain when e.tenant_id names an existing tenant, else to the control
  // chain (tenant_id cleared: an unknown id must not create a store).
  Status record(AccessEntry e);
  // A Responder that records `e` with the answer's status, then answers. A recording failure is
  // logged; the answer still goes out. Recording takes the store's lock: a handler must not
  // answer from inside a store call (a callback the store runs under its lock).
  Responder recording(AccessEntry e, Responder respond);
  // Entries of one chain: a tenant's, or the control chain when tenant_id is "".
  Result<std::vector<AccessEntry>> list(const std::string& tenant_id, int64_t after_id, int limit);

  // The entry for a request, with resource and action derived from method and path.
  static AccessEntry describe(const HttpServerRequest& req, std::string principal_kind,
                              std::string principal, std::string tenant_id);

 private:
  ControlStore& control_;
  TenantStores& tenants_;
  const Clock& clock_;
};

// `tenure-cp audit verify`: checks the control chain and every tenant's chain (or only
// `tenant_id`'s), printing one JSON line per chain to `out`. Returns 0 when all hold, 1 when a
// link is broken, 2 on another failure.
int verifyAuditChains(const std::string& data_dir, const std::string& tenant_id,
                      std::ostream& out, std::ostream& err);

}  // namespace tenure::cp
