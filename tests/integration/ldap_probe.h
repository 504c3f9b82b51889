#pragma once
// LdapProbe: an independent reader of the directory for integration tests. It uses the raw
// OpenLDAP API, not the agent's client, so a bug in the agent cannot hide itself.

#include <map>
#include <memory>
#include <string>
#include <vector>

typedef struct ldap LDAP;

namespace tenure::testing {

struct ProbeEntry {
  std::string dn;
  std::map<std::string, std::vector<std::string>> attrs;  // lower-case attribute names
  std::string first(const std::string& lower_name) const {
    auto it = attrs.find(lower_name);
    return it == attrs.end() || it->second.empty() ? "" : it->second.front();
  }
};

class LdapProbe {
 public:
  ~LdapProbe();
  // ldaps URL verified against ca_file, simple bind.
  static std::unique_ptr<LdapProbe> connect(const std::string& url, const std::string& ca_file,
                                            const std::string& bind_dn, const std::string& password,
                                            std::string* error);
  std::vector<ProbeEntry> search(const std::string& base, const std::string& filter,
                                 const std::vector<std::string>& attrs = {}, bool subtree = true);
  // Adds an organizationalUnit; true when it exists afterwards.
  bool ensureOu(const std::string& dn);
  // Deletes `dn` and everything below it (best effort).
  void deleteTree(const std::string& dn);
  bool addEntry(const std::string& dn, const std::map<std::string, std::vector<std::string>>& attrs);

 private:
  LDAP* ld_ = nullptr;
};

}  // namespace tenure::testing
