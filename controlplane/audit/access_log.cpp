#include "controlplane/audit/access_log.h"

#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <filesystem>
#include <ostream>

#include "common/base/crypto.h"

namespace tenure::cp {

namespace bj = boost::json;

namespace {

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

std::string canonicalJson(const AccessEntry& e) {
  // bj::object keeps insertion order: this order is the canonical one.
  bj::object o;
  o["id"] = e.id;
  o["at_ms"] = e.at_ms;
  o["principal_kind"] = e.principal_kind;
  o["principal"] = e.principal;
  o["tenant_id"] = e.tenant_id;
  o["method"] = e.method;
  o["path"] = e.path;
  o["query"] = e.query;
  o["resource"] = e.resource;
  o["action"] = e.action;
  o["status"] = e.status;
  return bj::serialize(o);
}

std::string chainHash(const std::string& prev_hash, const AccessEntry& e) {
  return sha256Hex(prev_hash + canonicalJson(e));
}

Result<AccessEntry> appendAccessEntry(AccessChainStore& chain, AccessEntry e) {
  return chain.append(std::move(e), [](const AccessEntry& linked) {
    return chainHash(linked.prev_hash, linked);
  });
}

Result<ChainCheck> verifyAccessChain(AccessChainStore& chain) {
  ChainCheck c;
  std::string prev_hash = kGenesisHash;
  int64_t prev_id = 0;
  RETURN_IF_ERROR(chain.forEach([&](const AccessEntry& e) {
    ++c.entries;
    auto broken = [&](std::string field, std::string expected, std::string found) {
      c.ok = false;
      c.broken_id = e.id;
      c.field = std::move(field);
      c.expected = std::move(expected);
      c.found = std::move(found);
      return false;
    };
    if (e.id != prev_id + 1) {
      return broken("id", std::to_string(prev_id + 1), std::to_string(e.id));
    }
    if (e.prev_hash != prev_hash) return broken("prev_hash", prev_hash, e.prev_hash);
    const std::string expected = chainHash(e.prev_hash, e);
    if (e.hash != expected) return broken("hash", expected, e.hash);
    prev_hash = e.hash;
    prev_id = e.id;
    return true;
  }));
  return c;
}

bj::object toJson(const AccessEntry& e) {
  return bj::object{{"id", e.id},
                    {"at", formatIso8601Utc(e.at_ms / 1000)},
                    {"at_ms", e.at_ms},
                    {"principal_kind", e.principal_kind},
                    {"principal", e.principal},
                    {"tenant_id", e.tenant_id},
                    {"method", e.method},
                    {"path", e.path},
                    {"query", e.query},
                    {"resource", e.resource},
                    {"action", e.action},
                    {"status", e.status},
                    {"prev_hash", e.prev_hash},
                    {"hash", e.hash}};
}

bj::object toJson(const ChainCheck& c) {
  bj::object o{{"ok", c.ok}, {"entries", c.entries}};
  if (!c.ok) {
    o["broken_id"] = c.broken_id;
    o["field"] = c.field;
    o["expected"] = c.expected;
    o["found"] = c.found;
  }
  return o;
}

AccessEntry AccessAuditLog::describe(const HttpServerRequest& req, std::string principal_kind,
                                     std::string principal, std::string tenant_id) {
  AccessEntry e;
  e.principal_kind = std::move(principal_kind);
  e.principal = std::move(principal);
  e.tenant_id = std::move(tenant_id);
  e.method = req.method;
  e.path = req.path;
  for (const auto& [k, v] : req.query) {  // std::map: sorted
    if (!e.query.empty()) e.query += '&';
    e.query += k + "=" + v;
  }
  std::string_view rest = req.path;
  for (std::string_view prefix : {"/api/v1/", "/admin/v1/", "/agent/v1/", "/scim/v2/"}) {
    if (startsWith(rest, prefix)) {
      rest.remove_prefix(prefix.size());
      break;
    }
  }
  e.resource = std::string(rest);
  if (req.method == "GET" || req.method == "HEAD") {
    e.action = "read";
  } else if (rest.ends_with("/approve")) {
    e.action = "approve";
  } else if (rest.ends_with("/reject")) {
    e.action = "reject";
  } else if (rest.ends_with("/result")) {
    e.action = "result";
  } else if (rest.ends_with("/rotate")) {
    e.action = "rotate";
  } else if (rest.ends_with("/revoke")) {
    e.action = "revoke";
  } else {
    e.action = "change";
  }
  return e;
}

Status AccessAuditLog::record(AccessEntry e) {
  if (e.at_ms == 0) e.at_ms = clock_.nowUnixMillis();
  if (!e.tenant_id.empty()) {
    ASSIGN_OR_RETURN(auto tenant, control_.tenantById(e.tenant_id));
    if (tenant) {
      ASSIGN_OR_RETURN(auto store, tenants_.forTenant(e.tenant_id));
      return appendAccessEntry(store->accessChain(), std::move(e)).status();
    }
    e.tenant_id.clear();
  }
  return appendAccessEntry(control_.accessChain(), std::move(e)).status();
}

Responder AccessAuditLog::recording(AccessEntry e, Responder respond) {
  return [this, e = std::move(e), respond = std::move(respond)](HttpServerResponse r) mutable {
    e.status = r.status;
    if (Status st = record(e); !st.isOk()) {
      spdlog::error("access audit: cannot record {} {} by {} {}: {}", e.method, e.path,
                    e.principal_kind, e.principal, st.toString());
    }
    respond(std::move(r));
  };
}

Result<std::vector<AccessEntry>> AccessAuditLog::list(const std::string& tenant_id,
                                                      int64_t after_id, int limit) {
  if (tenant_id.empty()) {
    return control_.accessChain().list(after_id, limit);
  }
  ASSIGN_OR_RETURN(auto store, tenants_.forTenant(tenant_id));
  return store->accessChain().list(after_id, limit);
}

int verifyAuditChains(const std::string& data_dir, const std::string& tenant_id,
                      std::ostream& out, std::ostream& err) {
  namespace fs = std::filesystem;
  const Clock& clock = SystemClock::instance();
  if (!fs::exists(fs::path(data_dir) / "control.db")) {
    err << "tenure-cp: no control.db in " << data_dir << "\n";
    return 2;
  }
  auto control = ControlStore::open((fs::path(data_dir) / "control.db").string(), clock);
  if (!control.isOk()) {
    err << "tenure-cp: " << control.status().toString() << "\n";
    return 2;
  }
  bool broken = false;
  auto report = [&](const std::string& chain, const Result<ChainCheck>& check) -> bool {
    if (!check.isOk()) {
      err << "tenure-cp: " << chain << ": " << check.status().toString() << "\n";
      return false;
    }
    bj::object o = toJson(*check);
    o["chain"] = chain;
    out << bj::serialize(o) << std::endl;
    broken = broken || !check->ok;
    return true;
  };
  std::vector<std::string> ids;
  if (tenant_id.empty()) {
    if (!report("control", verifyAccessChain((*control)->accessChain()))) {
      return 2;
    }
    auto tenants = (*control)->listTenants();
    if (!tenants.isOk()) {
      err << "tenure-cp: " << tenants.status().toString() << "\n";
      return 2;
    }
    for (const auto& t : *tenants) ids.push_back(t.tenant_id);
  } else {
    auto t = (*control)->tenantById(tenant_id);
    if (!t.isOk() || !t->has_value()) {
      err << "tenure-cp: no tenant " << tenant_id << "\n";
      return 2;
    }
    ids.push_back(tenant_id);
  }
  TenantStores stores((fs::path(data_dir) / "tenants").string(), clock);
  for (const auto& id : ids) {
    auto store = stores.forTenant(id);
    if (!store.isOk()) {
      err << "tenure-cp: tenant " << id << ": " << store.status().toString() << "\n";
      return 2;
    }
    if (!report("tenant:" + id, verifyAccessChain((*store)->accessChain()))) {
      return 2;
    }
  }
  return broken ? 1 : 0;
}

}  // namespace tenure::cp
