#pragma once
// DirectoryClient: the seam between the agent and a directory server (AD over LDAP).
// Implementations: LdapDirectoryClient (OpenLDAP libldap, Linux), a wldap32 one on Windows, and
// FakeDirectoryClient in tests. All operations of one client are pinned to one domain controller.
// Values are raw bytes (UTF-8 strings, or binary such as unicodePwd); callers never pre-escape
// values, but DNs and filters passed in must already be escaped (common/ldap/escape.h).

#include <map>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace tenure::agent {

struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};

struct DirectoryEntry {
  std::string dn;
  // Attribute names compare case-insensitively, as in LDAP.
  std::map<std::string, std::vector<std::string>, CaseInsensitiveLess> attributes;

  // First value of `name`, or "" when absent.
  std::string first(const std::string& name) const;
  bool has(const std::string& name) const;
};

enum class SearchScope { kBase, kOneLevel, kSubtree };

struct Modification {
  enum class Op { kAdd, kDelete, kReplace };
  Op op = Op::kReplace;
  std::string attribute;
  std::vector<std::string> values;  // empty with kDelete/kReplace removes the whole attribute
};

// Errors carry the LDAP result code as nativeCode() and the server's diagnostic message (for AD it
// holds the data code, e.g. "... data 52e"). Classes: 68/20 conflict, 49/50 permission,
// 32 not_found, 51/52/81/85/91 transient, 19/21/53/64/65 data, others internal.
class DirectoryClient {
 public:
  virtual ~DirectoryClient() = default;

  // Connects and binds (idempotent). A lost connection is re-established on the next call.
  virtual Status connect() = 0;
  // The host of the domain controller this client is pinned to.
  virtual std::string serverName() const = 0;

  // Paged search (AD caps a page at 1000). Referrals are not chased and not returned.
  virtual Result<std::vector<DirectoryEntry>> search(const std::string& base_dn, SearchScope scope,
                                                     const std::string& filter,
                                                     const std::vector<std::string>& attributes) = 0;
  // Adds an entry; `attributes` ops are ignored (all are values to add).
  virtual Status add(const std::string& dn, const std::vector<Modification>& attributes) = 0;
  virtual Status modify(const std::string& dn, const std::vector<Modification>& changes) = 0;
  // Renames and/or moves: new_rdn like "CN=Jane Doe" (escaped); new_parent_dn may be empty (same
  // parent). The old RDN value is deleted.
  virtual Status rename(const std::string& dn, const std::string& new_rdn,
                        const std::string& new_parent_dn) = 0;
  virtual Status remove(const std::string& dn) = 0;
};

// What a directory's answer means, by its LDAP result code (RFC 4511; AD answers the same
// codes). Callers above this seam ask these instead of comparing numbers.
namespace ldap_result {
inline constexpr int kNoSuchAttribute = 16;
inline constexpr int kAttributeOrValueExists = 20;
inline constexpr int kNoSuchObject = 32;
inline constexpr int kUnwillingToPerform = 53;
inline constexpr int kAlreadyExists = 68;
}  // namespace ldap_result

// The entry (or a same-named one) exists already.
inline bool isAlreadyExists(const Status& st) {
  return st.nativeCode() == ldap_result::kAlreadyExists;
}
// The entry, or a parent of the DN, does not exist.
inline bool isNoSuchObject(const Status& st) {
  return st.nativeCode() == ldap_result::kNoSuchObject;
}
// The value to add is there already (e.g. a member added twice).
inline bool isAttributeOrValueExists(const Status& st) {
  return st.nativeCode() == ldap_result::kAttributeOrValueExists;
}
// The value to delete is not there. AD answers a member delete of a non-member with
// "unwilling to perform" (53) rather than "no such attribute" (16): both mean it is gone.
inline bool isValueAlreadyGone(const Status& st) {
  return st.nativeCode() == ldap_result::kNoSuchAttribute ||
         st.nativeCode() == ldap_result::kUnwillingToPerform;
}

// Connection settings for LDAP-based clients.
struct LdapSettings {
  std::string url;        // ldaps://host[:port] or ldap://host[:port]
  std::string bind_dn;    // or a UPN such as svc-tenure@example.test
  std::string password;
  std::string ca_file;    // PEM bundle used to verify the server certificate
  bool start_tls = true;  // for ldap:// URLs: upgrade with StartTLS (required unless allow_plain)
  bool allow_plain = false;  // allow unencrypted ldap:// (tests under Wine only; never for passwords)
  int timeout_s = 15;        // network and operation timeout
  int page_size = 500;
};

}  // namespace tenure::agent
