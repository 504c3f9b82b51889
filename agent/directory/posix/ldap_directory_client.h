#pragma once
// LdapDirectoryClient: DirectoryClient over OpenLDAP libldap (Linux agent).
// One connection per client, pinned to the server in the URL; every call holds one mutex, so a
// client may be shared between threads but calls are serialized. TLS settings are applied to the
// connection's own TLS context (LDAP_OPT_X_TLS_NEWCTX), never to libldap's process-wide defaults.

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "agent/directory/directory_client.h"
#include "agent/directory/ldap_errors.h"

typedef struct ldap LDAP;  // NOLINT: from <ldap.h>, kept out of this header

namespace tenure::agent {

// errorFromLdap and normalizeLdapCode: agent/directory/ldap_errors.h.

class LdapDirectoryClient final : public DirectoryClient {
 public:
  explicit LdapDirectoryClient(LdapSettings settings);
  ~LdapDirectoryClient() override;
  LdapDirectoryClient(const LdapDirectoryClient&) = delete;
  LdapDirectoryClient& operator=(const LdapDirectoryClient&) = delete;

  Status connect() override;
  std::string serverName() const override;

  Result<std::vector<DirectoryEntry>> search(const std::string& base_dn, SearchScope scope,
                                             const std::string& filter,
                                             const std::vector<std::string>& attributes) override;
  Status add(const std::string& dn, const std::vector<Modification>& attributes) override;
  Status modify(const std::string& dn, const std::vector<Modification>& changes) override;
  Status rename(const std::string& dn, const std::string& new_rdn,
                const std::string& new_parent_dn) override;
  Status remove(const std::string& dn) override;

 private:
  Status connectLocked();
  void disconnectLocked();
  // Runs `op` on a connected handle; when the connection turns out to be lost (server down),
  // reconnects once and runs it again. A write whose reply was lost may then answer "already
  // exists"/"no such attribute"; callers reconcile such conflicts as they would any other.
  template <typename Op>
  auto withConnection(Op&& op) -> decltype(op(static_cast<LDAP*>(nullptr)));
  Status lastError(LDAP* ld, int rc, std::string_view context) const;
  // Reclassifies a transient TLS connection failure as config when the cause is trust.
  Status tlsFailure(Status failure, bool start_tls) const;

  LdapSettings settings_;
  std::string host_;
  std::mutex mu_;
  LDAP* ld_ = nullptr;
};

}  // namespace tenure::agent
