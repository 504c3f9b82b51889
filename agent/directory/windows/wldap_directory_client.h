#pragma once
// WldapDirectoryClient: DirectoryClient over wldap32 (Windows agent), with the semantics of
// LdapDirectoryClient: LDAPS or StartTLS (plain LDAP only with allow_plain), paged searches, referrals
// off, one connection pinned to the URL's server, errors mapped by errorFromLdap (declared in
// ldap_errors.h, defined for Windows in this module). Server certificates are checked by
// Schannel against the Windows store; LdapSettings::ca_file adds a private CA. Every call holds one
// mutex. Strings cross the API as UTF-16 (the W functions), values as raw bytes (berval).

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "agent/directory/directory_client.h"
#include "agent/directory/ldap_errors.h"

typedef struct ldap LDAP;  // NOLINT: from <winldap.h>, kept out of this header

namespace tenure::agent {

class WldapDirectoryClient final : public DirectoryClient {
 public:
  explicit WldapDirectoryClient(LdapSettings settings);
  ~WldapDirectoryClient() override;
  WldapDirectoryClient(const WldapDirectoryClient&) = delete;
  WldapDirectoryClient& operator=(const WldapDirectoryClient&) = delete;

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

  // The parts of an ldap[s]:// URL (host, port, scheme); exposed for tests.
  struct UrlParts {
    std::string scheme;  // "ldap" or "ldaps"
    std::string host;
    int port = 0;        // the scheme's default when the URL names none
  };
  static Result<UrlParts> parseUrl(const std::string& url);

 private:
  struct Impl;
  Status connectLocked();
  void disconnectLocked();
  template <typename Op>
  auto withConnection(Op&& op) -> decltype(op(static_cast<LDAP*>(nullptr)));
  Status lastError(LDAP* ld, unsigned long rc, std::string_view context) const;

  LdapSettings settings_;
  UrlParts url_;
  Status url_status_;
  std::mutex mu_;
  LDAP* ld_ = nullptr;
  void* private_roots_ = nullptr;  // HCERTSTORE of settings_.ca_file, for the TLS callback
};

}  // namespace tenure::agent
