#include "controlplane/api/store_authenticator.h"

#include <cctype>

#include "common/protocol/messages.h"

namespace tenure::cp::api {

std::string authorizationCredential(const HttpServerRequest& req, std::string_view scheme) {
  std::string h = req.header("authorization");
  if (h.size() <= scheme.size() + 1) return "";
  for (size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(h[i])) !=
        std::tolower(static_cast<unsigned char>(scheme[i]))) {
      return "";
    }
  }
  if (h[scheme.size()] != ' ') return "";
  std::string c = h.substr(scheme.size() + 1);
  while (!c.empty() && c.back() == ' ') c.pop_back();
  while (!c.empty() && c.front() == ' ') c.erase(c.begin());
  return c;
}

namespace {

AuthRefusal refused(const std::string& code, const std::string& message) {
  return AuthRefusal{401, code, message, Status::ok()};
}

AuthRefusal storeFault(const Status& st) { return AuthRefusal{500, "", "", st}; }

}  // namespace

std::variant<Principal, AuthRefusal> StoreAuthenticator::authenticate(
    AuthKind kind, const HttpServerRequest& req) {
  Principal p;
  p.kind = kind;
  switch (kind) {
    case AuthKind::kNodeKey: {
      p.credential = authorizationCredential(req, "NodeKey");
      if (p.credential.empty()) {
        return refused(protocol::kErrNodeInvalid, "missing NodeKey authorization");
      }
      auto agent = control_.agentByNodeKey(p.credential);
      // A database fault must never look like an invalid key: agents would re-enroll en masse.
      if (!agent.isOk()) return storeFault(agent.status());
      if (!agent->has_value()) {
        return refused(protocol::kErrNodeInvalid, "unknown or revoked node key");
      }
      p.agent = std::move(**agent);
      p.tenant.tenant_id = p.agent.tenant_id;
      (void)control_.touchAgent(p.agent.agent_id);
      return p;
    }
    case AuthKind::kTenantToken: {
      p.credential = authorizationCredential(req, "Bearer");
      if (p.credential.empty()) return refused(protocol::kErrUnauthorized, "missing Bearer token");
      auto tenant = control_.tenantByApiToken(p.credential);
      if (!tenant.isOk()) return storeFault(tenant.status());
      if (!tenant->has_value()) return refused(protocol::kErrUnauthorized, "invalid token");
      p.tenant = std::move(**tenant);
      return p;
    }
    case AuthKind::kAdminToken: {
      p.credential = authorizationCredential(req, "Bearer");
      if (p.credential.empty()) return refused(protocol::kErrUnauthorized, "missing Bearer token");
      auto admin = control_.adminByToken(p.credential);
      if (!admin.isOk()) return storeFault(admin.status());
      if (!admin->has_value()) return refused(protocol::kErrUnauthorized, "invalid admin token");
      p.admin = std::move(**admin);
      return p;
    }
    case AuthKind::kNone:
      return p;
    case AuthKind::kUnspecified:
      break;
  }
  return storeFault(internalError("a route without an authentication kind"));
}

}  // namespace tenure::cp::api
