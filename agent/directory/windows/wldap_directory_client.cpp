#include "agent/directory/windows/wldap_directory_client.h"

#include <windows.h>
#include <wincrypt.h>
#include <winldap.h>
#include <winber.h>

#include "agent/directory/ldap_common.h"

#include <memory>
#include <utility>

#include "common/base/windows/tls_trust.h"
#include "common/base/windows/wide.h"

namespace tenure::agent {

namespace {

using win::narrow;
using win::widen;

// The server's diagnostic text (AD: "... data 52e, ...").
std::string diagnosticOf(LDAP* ld) {
  if (ld == nullptr) return "";
  wchar_t* msg = nullptr;
  if (ldap_get_optionW(ld, LDAP_OPT_SERVER_ERROR, &msg) != LDAP_SUCCESS || msg == nullptr) {
    return "";
  }
  std::string out = narrow(msg);
  ldap_memfreeW(msg);
  return out;
}

// The wldap32 side of ldap_common.h's templates: UTF-16 through the W functions.
struct WldapApi {
  using Char = wchar_t;
  using Mod = LDAPModW;
  static std::wstring toApi(std::string_view utf8) { return widen(utf8); }
  static std::string fromApi(const wchar_t* s) { return narrow(s); }
  static std::string dnOf(LDAP* ld, LDAPMessage* msg) {
    wchar_t* dn = ldap_get_dnW(ld, msg);
    if (dn == nullptr) return "";
    std::string out = narrow(dn);
    ldap_memfreeW(dn);
    return out;
  }
  static wchar_t* firstAttribute(LDAP* ld, LDAPMessage* msg, BerElement** ber) {
    return ldap_first_attributeW(ld, msg, ber);
  }
  static wchar_t* nextAttribute(LDAP* ld, LDAPMessage* msg, BerElement* ber) {
    return ldap_next_attributeW(ld, msg, ber);
  }
  static berval** valuesOf(LDAP* ld, LDAPMessage* msg, wchar_t* attribute) {
    return ldap_get_values_lenW(ld, msg, attribute);
  }
  static void freeText(wchar_t* s) { ldap_memfreeW(s); }
};

using ModList = ldap_common::ModList<WldapApi>;
using NameArray = ldap_common::NameArray<WldapApi>;

// Called by wldap32 during the TLS handshake when a private CA is configured. wldap32 frees nothing
// for us here: the certificate context passed in must be released by the callback.
BOOLEAN __cdecl verifyServerCert(LDAP* ld, PCCERT_CONTEXT* cert);

struct CallbackState {
  HCERTSTORE roots = nullptr;
  std::wstring host;
};
// One TLS callback context per connection handle (wldap32 passes only the LDAP*).
std::mutex g_callback_mu;
std::vector<std::pair<LDAP*, CallbackState>> g_callback_state;

BOOLEAN __cdecl verifyServerCert(LDAP* ld, PCCERT_CONTEXT* cert) {
  if (cert == nullptr || *cert == nullptr) return FALSE;
  CallbackState state;
  {
    std::lock_guard lock(g_callback_mu);
    for (const auto& [h, s] : g_callback_state) {
      if (h == ld) state = s;
    }
  }
  const bool ok = win::serverCertificateTrusted(*cert, state.roots, state.host);
  CertFreeCertificateContext(*cert);
  return ok ? TRUE : FALSE;
}

void forgetCallbackState(LDAP* ld) {
  std::lock_guard lock(g_callback_mu);
  std::erase_if(g_callback_state, [ld](const auto& e) { return e.first == ld; });
}

}  // namespace

Status errorFromLdap(int rc, std::string_view diagnostic, std::string_view context) {
  const int code = normalizeLdapCode(rc);
  const wchar_t* text = code >= 0 ? ldap_err2stringW(static_cast<ULONG>(code)) : nullptr;
  return ldap_common::ldapError(
      code, text != nullptr && *text != L'\0' ? narrow(text) : "LDAP error " + std::to_string(code),
      diagnostic, context);
}

Result<WldapDirectoryClient::UrlParts> WldapDirectoryClient::parseUrl(const std::string& url) {
  UrlParts p;
  const size_t sep = url.find("://");
  if (sep == std::string::npos) return configError("invalid LDAP URL \"" + url + "\"");
  p.scheme = url.substr(0, sep);
  if (p.scheme != "ldap" && p.scheme != "ldaps") {
    return configError("LDAP URL \"" + url + "\" must be ldaps:// or ldap://");
  }
  std::string rest = url.substr(sep + 3);
  rest = rest.substr(0, rest.find('/'));
  std::string port;
  if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
    const size_t close = rest.find(']');
    if (close == std::string::npos) return configError("invalid LDAP URL \"" + url + "\"");
    p.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else {
    const size_t colon = rest.rfind(':');
    p.host = rest.substr(0, colon);
    if (colon != std::string::npos) port = rest.substr(colon + 1);
  }
  if (p.host.empty()) return configError("LDAP URL \"" + url + "\" names no server");
  p.port = p.scheme == "ldaps" ? LDAP_SSL_PORT : LDAP_PORT;
  if (!port.empty()) {
    int n = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || n > 65535) return configError("invalid port in \"" + url + "\"");
      n = n * 10 + (c - '0');
    }
    if (n < 1 || n > 65535) return configError("invalid port in \"" + url + "\"");
    p.port = n;
  }
  return p;
}

WldapDirectoryClient::WldapDirectoryClient(LdapSettings settings) : settings_(std::move(settings)) {
  auto parts = parseUrl(settings_.url);
  if (parts.isOk()) {
    url_ = *parts;
  } else {
    url_status_ = parts.status();
  }
}

WldapDirectoryClient::~WldapDirectoryClient() {
  std::lock_guard lock(mu_);
  disconnectLocked();
  if (private_roots_ != nullptr) CertCloseStore(static_cast<HCERTSTORE>(private_roots_), 0);
}

std::string WldapDirectoryClient::serverName() const { return url_.host; }

Status WldapDirectoryClient::connect() {
  std::lock_guard lock(mu_);
  return connectLocked();
}

void WldapDirectoryClient::disconnectLocked() {
  if (ld_ != nullptr) {
    forgetCallbackState(ld_);
    ldap_unbind_s(ld_);
    ld_ = nullptr;
  }
}

Status WldapDirectoryClient::lastError(LDAP* ld, unsigned long rc, std::string_view context) const {
  return errorFromLdap(static_cast<int>(rc), diagnosticOf(ld), context);
}

Status WldapDirectoryClient::connectLocked() {
  if (ld_ != nullptr) return Status::ok();
  RETURN_IF_ERROR(url_status_);
  ASSIGN_OR_RETURN(const ldap_common::Transport transport,
                   ldap_common::transportOf(url_.scheme, settings_));
  const bool ldaps = transport.ldaps;
  const bool start_tls = transport.start_tls;
  const bool tls = transport.tls();
  if (tls && !settings_.ca_file.empty() && private_roots_ == nullptr) {
    std::string error;
    private_roots_ = win::loadPemBundle(settings_.ca_file, &error);
    if (private_roots_ == nullptr) return configError("LDAP CA file: " + error);
  }

  const std::wstring host = widen(url_.host);
  LDAP* ld = ldaps ? ldap_sslinitW(const_cast<wchar_t*>(host.c_str()), url_.port, 1)
                   : ldap_initW(const_cast<wchar_t*>(host.c_str()), url_.port);
  if (ld == nullptr) {
    return configError("ldap_init(" + settings_.url + ") failed", static_cast<int>(LdapGetLastError()));
  }
  std::unique_ptr<LDAP, void (*)(LDAP*)> guard(ld, [](LDAP* p) {
    forgetCallbackState(p);
    ldap_unbind_s(p);
  });

  ULONG version = LDAP_VERSION3;
  ULONG timeout_s = static_cast<ULONG>(settings_.timeout_s);
  struct Option {
    int option;
    const void* value;
    const char* name;
  };
  std::vector<Option> options = {
      {LDAP_OPT_PROTOCOL_VERSION, &version, "protocol version"},
      // AD answers subtree searches from the domain root with continuation references; chasing
      // them would bind elsewhere (and, with wldap32, as the current Windows identity).
      {LDAP_OPT_REFERRALS, LDAP_OPT_OFF, "referrals"},
      {LDAP_OPT_TIMELIMIT, &timeout_s, "time limit"},
  };
  if (private_roots_ != nullptr) {
    std::lock_guard lock(g_callback_mu);
    g_callback_state.push_back({ld, CallbackState{static_cast<HCERTSTORE>(private_roots_), host}});
    options.push_back({LDAP_OPT_SERVER_CERTIFICATE, reinterpret_cast<const void*>(&verifyServerCert),
                       "server certificate callback"});
  }
  for (const auto& o : options) {
    ULONG rc = ldap_set_optionW(ld, o.option, o.value);
    if (rc != LDAP_SUCCESS) {
      return errorFromLdap(static_cast<int>(rc), "", std::string("setting LDAP option ") + o.name);
    }
  }

  l_timeval connect_timeout{static_cast<LONG>(settings_.timeout_s), 0};
  ULONG rc = ldap_connect(ld, &connect_timeout);
  if (rc != LDAP_SUCCESS) return lastError(ld, rc, "connect to " + url_.host);
  if (start_tls) {
    ULONG server_rc = 0;
    LDAPMessage* result = nullptr;
    rc = ldap_start_tls_sW(ld, &server_rc, &result, nullptr, nullptr);
    if (result != nullptr) ldap_msgfree(result);
    if (rc != LDAP_SUCCESS) return lastError(ld, rc, "StartTLS with " + url_.host);
  }

  const std::wstring dn = widen(settings_.bind_dn);
  const std::wstring password = widen(settings_.password);
  rc = ldap_simple_bind_sW(ld, const_cast<wchar_t*>(dn.c_str()),
                           const_cast<wchar_t*>(password.c_str()));
  if (rc != LDAP_SUCCESS) return lastError(ld, rc, "bind as " + settings_.bind_dn + " to " + url_.host);
  ld_ = guard.release();
  return Status::ok();
}

template <typename Op>
auto WldapDirectoryClient::withConnection(Op&& op) -> decltype(op(static_cast<LDAP*>(nullptr))) {
  std::lock_guard lock(mu_);
  return ldap_common::withReconnect(
      ld_, [this] { return connectLocked(); }, [this] { disconnectLocked(); },
      std::forward<Op>(op));
}

Result<std::vector<DirectoryEntry>> WldapDirectoryClient::search(
    const std::string& base_dn, SearchScope scope, const std::string& filter,
    const std::vector<std::string>& attributes) {
  NameArray attrs(attributes);
  const std::wstring base = widen(base_dn);
  const std::wstring wfilter = widen(filter);
  const std::string context = ldap_common::searchContext(base_dn, filter);

  return withConnection([&](LDAP* ld) -> Result<std::vector<DirectoryEntry>> {
    berval* cookie = nullptr;
    struct CookieFree {
      berval** c;
      ~CookieFree() {
        if (*c != nullptr) ber_bvfree(*c);
      }
    } cookie_free{&cookie};
    l_timeval timeout{static_cast<LONG>(settings_.timeout_s), 0};
    const ULONG page_size = static_cast<ULONG>(ldap_common::pageSizeOf(settings_));
    return ldap_common::collectPages([&](std::vector<DirectoryEntry>& entries) -> Result<bool> {
      LDAPControlW* page_control = nullptr;
      ULONG rc = ldap_create_page_controlW(ld, page_size, cookie, 0, &page_control);
      if (rc != LDAP_SUCCESS) return lastError(ld, rc, context + ": paged results control");
      LDAPControlW* server_controls[] = {page_control, nullptr};

      LDAPMessage* result = nullptr;
      rc = ldap_search_ext_sW(ld, const_cast<wchar_t*>(base.c_str()), ldap_common::scopeOf(scope),
                              const_cast<wchar_t*>(wfilter.c_str()), attrs.get(), 0,
                              server_controls, nullptr, &timeout, 0, &result);
      ldap_control_freeW(page_control);
      std::unique_ptr<LDAPMessage, ULONG(__cdecl*)(LDAPMessage*)> result_owner(result,
                                                                                &ldap_msgfree);
      if (rc != LDAP_SUCCESS) return lastError(ld, rc, context);

      if (cookie != nullptr) {
        ber_bvfree(cookie);
        cookie = nullptr;
      }
      for (LDAPMessage* msg = ldap_first_entry(ld, result); msg != nullptr;
           msg = ldap_next_entry(ld, msg)) {
        entries.push_back(ldap_common::readEntry<WldapApi>(ld, msg));
      }
      // Continuation references (ldap_first_reference) are skipped, not chased.
      ULONG err = LDAP_SUCCESS;
      LDAPControlW** returned = nullptr;
      rc = ldap_parse_resultW(ld, result, &err, nullptr, nullptr, nullptr, &returned, FALSE);
      if (rc != LDAP_SUCCESS) return lastError(ld, rc, context + ": parsing result");
      if (returned != nullptr) {
        ULONG estimate = 0;
        rc = ldap_parse_page_controlW(ld, returned, &estimate, &cookie);
        ldap_controls_freeW(returned);
        // No page control in the answer: the server returned everything at once.
        if (rc != LDAP_SUCCESS && rc != LDAP_CONTROL_NOT_FOUND) {
          return lastError(ld, rc, context + ": paged results response");
        }
      }
      if (err != LDAP_SUCCESS) return lastError(ld, err, context);
      return cookie != nullptr && cookie->bv_len > 0;
    });
  });
}

Status WldapDirectoryClient::add(const std::string& dn,
                                 const std::vector<Modification>& attributes) {
  ModList mods(attributes, /*for_add=*/true);
  const std::wstring wdn = widen(dn);
  return withConnection([&](LDAP* ld) -> Status {
    const ULONG rc =
        ldap_add_ext_sW(ld, const_cast<wchar_t*>(wdn.c_str()), mods.get(), nullptr, nullptr);
    if (rc != LDAP_SUCCESS) return lastError(ld, rc, "add " + dn);
    return Status::ok();
  });
}

Status WldapDirectoryClient::modify(const std::string& dn,
                                    const std::vector<Modification>& changes) {
  ModList mods(changes, /*for_add=*/false);
  if (mods.empty()) return Status::ok();
  const std::wstring wdn = widen(dn);
  return withConnection([&](LDAP* ld) -> Status {
    const ULONG rc =
        ldap_modify_ext_sW(ld, const_cast<wchar_t*>(wdn.c_str()), mods.get(), nullptr, nullptr);
    if (rc != LDAP_SUCCESS) return lastError(ld, rc, "modify " + dn);
    return Status::ok();
  });
}

Status WldapDirectoryClient::rename(const std::string& dn, const std::string& new_rdn,
                                    const std::string& new_parent_dn) {
  const std::wstring wdn = widen(dn);
  const std::wstring wrdn = widen(new_rdn);
  const std::wstring wparent = widen(new_parent_dn);
  return withConnection([&](LDAP* ld) -> Status {
    const ULONG rc = ldap_rename_ext_sW(
        ld, const_cast<wchar_t*>(wdn.c_str()), const_cast<wchar_t*>(wrdn.c_str()),
        new_parent_dn.empty() ? nullptr : const_cast<wchar_t*>(wparent.c_str()), 1, nullptr,
        nullptr);
    if (rc != LDAP_SUCCESS) {
      return lastError(ld, rc, ldap_common::renameContext(dn, new_rdn, new_parent_dn));
    }
    return Status::ok();
  });
}

Status WldapDirectoryClient::remove(const std::string& dn) {
  const std::wstring wdn = widen(dn);
  return withConnection([&](LDAP* ld) -> Status {
    const ULONG rc = ldap_delete_ext_sW(ld, const_cast<wchar_t*>(wdn.c_str()), nullptr, nullptr);
    if (rc != LDAP_SUCCESS) return lastError(ld, rc, "delete " + dn);
    return Status::ok();
  });
}

}  // namespace tenure::agent
