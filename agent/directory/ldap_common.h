#pragma once
// What the two LDAP clients share (OpenLDAP's libldap on Linux: posix/ldap_directory_client.cpp,
// wldap32 on Windows: windows/wldap_directory_client.cpp). Both C APIs spell their types (LDAP,
// LDAPMessage, BerElement, berval), search scopes and modification operations alike and differ in
// the character type of names (char vs wchar_t, the W functions), so this header is included after
// the platform's LDAP header, maps the seam's types onto the API once, and holds the logic of both
// clients as templates over a small per-platform `Api` traits struct:
//
//   struct Api {
//     using Char = char or wchar_t;                     // of DNs, attribute names, filters
//     using Mod = LDAPMod or LDAPModW;
//     static std::basic_string<Char> toApi(std::string_view utf8);
//     static std::string fromApi(const Char* s);
//     static std::string dnOf(LDAP*, LDAPMessage*);    // the entry's DN, freed
//     static Char* firstAttribute(LDAP*, LDAPMessage*, BerElement**);
//     static Char* nextAttribute(LDAP*, LDAPMessage*, BerElement*);
//     static berval** valuesOf(LDAP*, LDAPMessage*, Char* attribute);
//     static void freeText(Char*);                      // ldap_memfree / ldap_memfreeW
//   };

#ifndef LDAP_SCOPE_SUBTREE
#error "include the platform's LDAP header (<ldap.h> or <winldap.h>) before ldap_common.h"
#endif

#include <string>
#include <string_view>
#include <vector>

#include "agent/directory/directory_client.h"
#include "agent/directory/ldap_errors.h"
#include "common/base/status.h"

namespace tenure::agent::ldap_common {

// LDAP_SERVER_DOWN as normalizeLdapCode() reports it (wldap32: 0x51; OpenLDAP: -1, normalized).
inline constexpr int kServerDown = 81;

// The status of a call's outcome, for code that retries Status and Result<T> calls alike.
inline const Status& statusOf(const Status& s) { return s; }
template <typename T>
const Status& statusOf(const Result<T>& r) {
  return r.status();
}

inline int scopeOf(SearchScope s) {
  switch (s) {
    case SearchScope::kBase:
      return LDAP_SCOPE_BASE;
    case SearchScope::kOneLevel:
      return LDAP_SCOPE_ONELEVEL;
    case SearchScope::kSubtree:
      return LDAP_SCOPE_SUBTREE;
  }
  return LDAP_SCOPE_SUBTREE;
}

inline int modOpOf(Modification::Op op) {
  switch (op) {
    case Modification::Op::kAdd:
      return LDAP_MOD_ADD;
    case Modification::Op::kDelete:
      return LDAP_MOD_DELETE;
    case Modification::Op::kReplace:
      return LDAP_MOD_REPLACE;
  }
  return LDAP_MOD_REPLACE;
}

// ---------------------------------------------------------------------------------------------
// Connection policy

// How a connection is secured, from the URL's scheme and the settings.
struct Transport {
  bool ldaps = false;      // TLS from the first byte (ldaps://)
  bool start_tls = false;  // ldap:// upgraded with StartTLS
  bool tls() const { return ldaps || start_tls; }
};

// Refuses what is not ldap:// or ldaps://, and unencrypted LDAP unless allow_plain says otherwise.
inline Result<Transport> transportOf(std::string_view scheme, const LdapSettings& settings) {
  Transport t;
  t.ldaps = scheme == "ldaps";
  if (!t.ldaps && scheme != "ldap") {
    return configError("LDAP URL \"" + settings.url + "\" must be ldaps:// or ldap://");
  }
  t.start_tls = !t.ldaps && settings.start_tls;
  if (!t.tls() && !settings.allow_plain) {
    return configError("refusing unencrypted LDAP to " + settings.url +
                       ": use ldaps://, StartTLS, or allow_plain");
  }
  return t;
}

// Runs `op(handle)` after `connect()`; when its outcome says the server is down (the connection
// was lost: idle timeout, DC restart), `disconnect()`s, connects once more and runs it again. A
// write whose reply was lost may then answer "already exists"/"no such attribute"; callers
// reconcile such conflicts as they would any other. The caller holds the client's lock.
template <typename Handle, typename Connect, typename Disconnect, typename Op>
auto withReconnect(Handle*& handle, Connect&& connect, Disconnect&& disconnect, Op&& op)
    -> decltype(op(handle)) {
  RETURN_IF_ERROR(connect());
  auto result = op(handle);
  if (statusOf(result).nativeCode() != kServerDown) return result;
  disconnect();
  RETURN_IF_ERROR(connect());
  return op(handle);
}

// ---------------------------------------------------------------------------------------------
// Errors

// "<context>: <the API's text for the code> (<the server's diagnostic>)", classified by
// ldapStatus(). `code` is normalized (normalizeLdapCode).
inline Status ldapError(int code, std::string_view text, std::string_view diagnostic,
                        std::string_view context) {
  std::string message;
  if (!context.empty()) {
    message += context;
    message += ": ";
  }
  message += text;
  if (!diagnostic.empty()) {
    message += " (";
    message += diagnostic;
    message += ")";
  }
  return ldapStatus(code, std::move(message));
}

inline std::string searchContext(const std::string& base_dn, const std::string& filter) {
  return "search " + base_dn + " " + filter;
}

inline std::string renameContext(const std::string& dn, const std::string& new_rdn,
                                 const std::string& new_parent_dn) {
  return "rename " + dn + " to " + new_rdn +
         (new_parent_dn.empty() ? "" : " under " + new_parent_dn);
}

// ---------------------------------------------------------------------------------------------
// Requests

// A NULL-terminated array of the API's strings (attribute lists), owning its copies.
template <typename Api>
class NameArray {
 public:
  explicit NameArray(const std::vector<std::string>& names) {
    names_.reserve(names.size());
    for (const auto& n : names) names_.push_back(Api::toApi(n));
    for (auto& n : names_) ptrs_.push_back(n.data());
    ptrs_.push_back(nullptr);
  }
  NameArray(const NameArray&) = delete;
  NameArray& operator=(const NameArray&) = delete;
  // NULL for an empty list: "all user attributes" to both APIs.
  typename Api::Char** get() { return names_.empty() ? nullptr : ptrs_.data(); }

 private:
  std::vector<std::basic_string<typename Api::Char>> names_;
  std::vector<typename Api::Char*> ptrs_;
};

// The API's LDAPMod arrays for an add (`for_add`: every attribute added, those without values
// left out since an add cannot carry them) or a modify. Values go as berval
// (LDAP_MOD_BVALUES) so binary values (unicodePwd) and embedded NULs pass unchanged; they point
// into the caller's strings, which outlive the call.
template <typename Api>
class ModList {
 public:
  ModList(const std::vector<Modification>& mods, bool for_add) {
    for (const auto& m : mods) {
      if (for_add && m.values.empty()) continue;
      names_.push_back(Api::toApi(m.attribute));
      ops_.push_back((for_add ? LDAP_MOD_ADD : modOpOf(m.op)) | LDAP_MOD_BVALUES);
      auto& vals = values_.emplace_back();
      vals.reserve(m.values.size());
      for (const auto& v : m.values) {
        berval bv{};
        bv.bv_len = static_cast<decltype(bv.bv_len)>(v.size());
        bv.bv_val = const_cast<char*>(v.data());
        vals.push_back(bv);
      }
    }
    // Pointers are taken once every vector has its final size.
    mods_.resize(names_.size());
    value_ptrs_.resize(names_.size());
    for (size_t i = 0; i < names_.size(); ++i) {
      for (auto& bv : values_[i]) value_ptrs_[i].push_back(&bv);
      value_ptrs_[i].push_back(nullptr);
      mods_[i].mod_op = static_cast<decltype(mods_[i].mod_op)>(ops_[i]);
      mods_[i].mod_type = names_[i].data();
      mods_[i].mod_vals.modv_bvals = values_[i].empty() ? nullptr : value_ptrs_[i].data();
      mod_ptrs_.push_back(&mods_[i]);
    }
    mod_ptrs_.push_back(nullptr);
  }
  ModList(const ModList&) = delete;
  ModList& operator=(const ModList&) = delete;
  typename Api::Mod** get() { return mod_ptrs_.data(); }
  bool empty() const { return mods_.empty(); }

 private:
  std::vector<std::basic_string<typename Api::Char>> names_;
  std::vector<int> ops_;
  std::vector<std::vector<berval>> values_;
  std::vector<std::vector<berval*>> value_ptrs_;
  std::vector<typename Api::Mod> mods_;
  std::vector<typename Api::Mod*> mod_ptrs_;
};

// ---------------------------------------------------------------------------------------------
// Results

// The page size asked of the server (AD's MaxPageSize is 1000).
inline int pageSizeOf(const LdapSettings& settings) {
  return settings.page_size > 0 ? settings.page_size : 500;
}

// Runs `fetch_page(entries)` (which appends one page of a paged search and answers whether the
// server has more) until the last page; the first error ends the search.
template <typename FetchPage>
Result<std::vector<DirectoryEntry>> collectPages(FetchPage&& fetch_page) {
  std::vector<DirectoryEntry> entries;
  for (;;) {
    ASSIGN_OR_RETURN(const bool more, fetch_page(entries));
    if (!more) return entries;
  }
}

// One search result entry: its DN and every attribute's values as raw bytes.
template <typename Api>
DirectoryEntry readEntry(LDAP* ld, LDAPMessage* msg) {
  DirectoryEntry entry;
  entry.dn = Api::dnOf(ld, msg);
  BerElement* ber = nullptr;
  for (typename Api::Char* attr = Api::firstAttribute(ld, msg, &ber); attr != nullptr;
       attr = Api::nextAttribute(ld, msg, ber)) {
    auto& out = entry.attributes[Api::fromApi(attr)];
    berval** vals = Api::valuesOf(ld, msg, attr);
    if (vals != nullptr) {
      for (berval** v = vals; *v != nullptr; ++v) out.emplace_back((*v)->bv_val, (*v)->bv_len);
      ldap_value_free_len(vals);
    }
    Api::freeText(attr);
  }
  if (ber != nullptr) ber_free(ber, 0);
  return entry;
}

}  // namespace tenure::agent::ldap_common
