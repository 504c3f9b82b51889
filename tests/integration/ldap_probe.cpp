#include "tests/integration/ldap_probe.h"

#include <ldap.h>

#include <algorithm>
#include <cstring>

namespace tenure::testing {

LdapProbe::~LdapProbe() {
  if (ld_) ldap_unbind_ext_s(ld_, nullptr, nullptr);
}

std::unique_ptr<LdapProbe> LdapProbe::connect(const std::string& url, const std::string& ca_file,
                                              const std::string& bind_dn,
                                              const std::string& password, std::string* error) {
  auto p = std::unique_ptr<LdapProbe>(new LdapProbe());
  if (ldap_initialize(&p->ld_, url.c_str()) != LDAP_SUCCESS) {
    *error = "ldap_initialize failed";
    return nullptr;
  }
  int v3 = LDAP_VERSION3;
  ldap_set_option(p->ld_, LDAP_OPT_PROTOCOL_VERSION, &v3);
  ldap_set_option(p->ld_, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
  ldap_set_option(p->ld_, LDAP_OPT_X_TLS_CACERTFILE, ca_file.c_str());
  int demand = LDAP_OPT_X_TLS_DEMAND;
  ldap_set_option(p->ld_, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
  int zero = 0;
  ldap_set_option(p->ld_, LDAP_OPT_X_TLS_NEWCTX, &zero);
  berval cred{static_cast<ber_len_t>(password.size()), const_cast<char*>(password.data())};
  int rc = ldap_sasl_bind_s(p->ld_, bind_dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr,
                            nullptr);
  if (rc != LDAP_SUCCESS) {
    *error = std::string("bind failed: ") + ldap_err2string(rc);
    return nullptr;
  }
  return p;
}

std::vector<ProbeEntry> LdapProbe::search(const std::string& base, const std::string& filter,
                                          const std::vector<std::string>& attrs, bool subtree) {
  std::vector<ProbeEntry> out;
  std::vector<char*> attr_ptrs;
  for (const auto& a : attrs) attr_ptrs.push_back(const_cast<char*>(a.c_str()));
  attr_ptrs.push_back(nullptr);
  LDAPMessage* res = nullptr;
  int rc = ldap_search_ext_s(ld_, base.c_str(), subtree ? LDAP_SCOPE_SUBTREE : LDAP_SCOPE_BASE,
                             filter.c_str(), attrs.empty() ? nullptr : attr_ptrs.data(), 0,
                             nullptr, nullptr, nullptr, 0, &res);
  if (rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED) {
    for (LDAPMessage* e = ldap_first_entry(ld_, res); e; e = ldap_next_entry(ld_, e)) {
      ProbeEntry pe;
      char* dn = ldap_get_dn(ld_, e);
      pe.dn = dn ? dn : "";
      ldap_memfree(dn);
      BerElement* ber = nullptr;
      for (char* a = ldap_first_attribute(ld_, e, &ber); a; a = ldap_next_attribute(ld_, e, ber)) {
        std::string name = a;
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        berval** vals = ldap_get_values_len(ld_, e, a);
        for (int i = 0; vals && vals[i]; ++i) {
          pe.attrs[name].emplace_back(vals[i]->bv_val, vals[i]->bv_len);
        }
        ldap_value_free_len(vals);
        ldap_memfree(a);
      }
      if (ber) ber_free(ber, 0);
      out.push_back(std::move(pe));
    }
  }
  if (res) ldap_msgfree(res);
  return out;
}

bool LdapProbe::addEntry(const std::string& dn,
                         const std::map<std::string, std::vector<std::string>>& attrs) {
  std::vector<LDAPMod> mods(attrs.size());
  std::vector<std::vector<berval>> bvs(attrs.size());
  std::vector<std::vector<berval*>> bvps(attrs.size());
  std::vector<LDAPMod*> modps;
  size_t i = 0;
  for (const auto& [name, values] : attrs) {
    for (const auto& v : values) {
      bvs[i].push_back(berval{static_cast<ber_len_t>(v.size()), const_cast<char*>(v.data())});
    }
    for (auto& b : bvs[i]) bvps[i].push_back(&b);
    bvps[i].push_back(nullptr);
    mods[i].mod_op = LDAP_MOD_ADD | LDAP_MOD_BVALUES;
    mods[i].mod_type = const_cast<char*>(name.c_str());
    mods[i].mod_bvalues = bvps[i].data();
    modps.push_back(&mods[i]);
    ++i;
  }
  modps.push_back(nullptr);
  int rc = ldap_add_ext_s(ld_, dn.c_str(), modps.data(), nullptr, nullptr);
  return rc == LDAP_SUCCESS || rc == LDAP_ALREADY_EXISTS;
}

bool LdapProbe::ensureOu(const std::string& dn) {
  return addEntry(dn, {{"objectClass", {"organizationalUnit"}}});
}

void LdapProbe::deleteTree(const std::string& dn) {
  auto entries = search(dn, "(objectClass=*)", {"1.1"});
  // Deepest first: longer DNs are below shorter ones within one tree.
  std::sort(entries.begin(), entries.end(),
            [](const ProbeEntry& a, const ProbeEntry& b) { return a.dn.size() > b.dn.size(); });
  for (const auto& e : entries) ldap_delete_ext_s(ld_, e.dn.c_str(), nullptr, nullptr);
}

}  // namespace tenure::testing
