#pragma once
// The Authenticator of the control plane's own credentials, looked up in the control store: an
// agent's node key (its last-seen time is touched), a tenant's API token (one in its grace period
// included) and an operator's admin token. A tenant token is never an admin token and the other
// way round.

#include <string>
#include <string_view>

#include "controlplane/api/route_table.h"
#include "controlplane/store/control_store.h"

namespace tenure::cp::api {

class StoreAuthenticator : public Authenticator {
 public:
  explicit StoreAuthenticator(ControlStore& control) : control_(control) {}

  std::variant<Principal, AuthRefusal> authenticate(AuthKind kind,
                                                    const HttpServerRequest& request) override;

 private:
  ControlStore& control_;
};

// "Authorization: <scheme> <credential>" -> credential, or "" when absent or of another scheme
// (the scheme is case-insensitive).
std::string authorizationCredential(const HttpServerRequest& request, std::string_view scheme);

}  // namespace tenure::cp::api
