#include "agent/directory/posix/ldap_directory_client.h"

#include <ldap.h>
#include <sys/time.h>
#include <unistd.h>

#include "agent/directory/ldap_common.h"

#include <memory>
#include <utility>

namespace tenure::agent {

namespace {

std::string takeLdapString(char* s) {
  if (s == nullptr) return "";
  std::string out(s);
  ldap_memfree(s);
  return out;
}

std::string diagnosticOf(LDAP* ld) {
  char* msg = nullptr;
  if (ld == nullptr || ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) != LDAP_OPT_SUCCESS) {
    return "";
  }
  return takeLdapString(msg);
}

// libldap reports a TLS handshake that failed certificate verification like a network failure
// ("Can't contact LDAP server", no reason). To tell "the server is down" (transient) from "we do
// not trust the server" (config: wrong CA file, or the URL host is not in the certificate), this
// repeats only the handshake without verification. Nothing is sent over that connection: no bind,
// no data.
bool handshakeSucceedsWithoutVerification(const std::string& url, bool start_tls, int timeout_s) {
  LDAP* ld = nullptr;
  if (ldap_initialize(&ld, url.c_str()) != LDAP_SUCCESS) return false;
  const int version = LDAP_VERSION3;
  const int never = LDAP_OPT_X_TLS_NEVER;
  const int is_server = 0;
  timeval timeout{timeout_s, 0};
  bool ok = ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) == LDAP_OPT_SUCCESS &&
            ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &timeout) == LDAP_OPT_SUCCESS &&
            ldap_set_option(ld, LDAP_OPT_TIMEOUT, &timeout) == LDAP_OPT_SUCCESS &&
            ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &never) == LDAP_OPT_SUCCESS &&
            ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server) == LDAP_OPT_SUCCESS;
  if (ok) {
    ok = (start_tls ? ldap_start_tls_s(ld, nullptr, nullptr) : ldap_connect(ld)) == LDAP_SUCCESS;
  }
  ldap_unbind_ext_s(ld, nullptr, nullptr);
  return ok;
}

// The OpenLDAP side of ldap_common.h's templates: UTF-8 strings as they are.
struct OpenLdapApi {
  using Char = char;
  using Mod = LDAPMod;
  static std::string toApi(std::string_view utf8) { return std::string(utf8); }
  static std::string fromApi(const char* s) { return s; }
  static std::string dnOf(LDAP* ld, LDAPMessage* msg) {
    return takeLdapString(ldap_get_dn(ld, msg));
  }
  static char* firstAttribute(LDAP* ld, LDAPMessage* msg, BerElement** ber) {
    return ldap_first_attribute(ld, msg, ber);
  }
  static char* nextAttribute(LDAP* ld, LDAPMessage* msg, BerElement* ber) {
    return ldap_next_attribute(ld, msg, ber);
  }
  static berval** valuesOf(LDAP* ld, LDAPMessage* msg, char* attribute) {
    return ldap_get_values_len(ld, msg, attribute);
  }
  static void freeText(char* s) { ldap_memfree(s); }
};

using ModList = ldap_common::ModList<OpenLdapApi>;
using NameArray = ldap_common::NameArray<OpenLdapApi>;

struct MessageDeleter {
  void operator()(LDAPMessage* m) const { ldap_msgfree(m); }
};
using MessagePtr = std::unique_ptr<LDAPMessage, MessageDeleter>;

struct ControlDeleter {
  void operator()(LDAPControl* c) const { ldap_control_free(c); }
};
using ControlPtr = std::unique_ptr<LDAPControl, ControlDeleter>;

}  // namespace

Status errorFromLdap(int rc, std::string_view diagnostic, std::string_view context) {
  // libldap fills the diagnostic of client-side failures with this placeholder; it says nothing.
  if (diagnostic == "(unknown error code)") diagnostic = {};
  return ldap_common::ldapError(normalizeLdapCode(rc), ldap_err2string(rc), diagnostic, context);
}

LdapDirectoryClient::LdapDirectoryClient(LdapSettings settings) : settings_(std::move(settings)) {
  LDAPURLDesc* url = nullptr;
  if (ldap_url_parse(settings_.url.c_str(), &url) == LDAP_URL_SUCCESS) {
    if (url->lud_host != nullptr) host_ = url->lud_host;
    ldap_free_urldesc(url);
  }
}

LdapDirectoryClient::~LdapDirectoryClient() {
  std::lock_guard lock(mu_);
  disconnectLocked();
}

std::string LdapDirectoryClient::serverName() const { return host_; }

Status LdapDirectoryClient::connect() {
  std::lock_guard lock(mu_);
  return connectLocked();
}

void LdapDirectoryClient::disconnectLocked() {
  if (ld_ != nullptr) {
    ldap_unbind_ext_s(ld_, nullptr, nullptr);
    ld_ = nullptr;
  }
}

Status LdapDirectoryClient::lastError(LDAP* ld, int rc, std::string_view context) const {
  return errorFromLdap(rc, diagnosticOf(ld), context);
}

Status LdapDirectoryClient::tlsFailure(Status failure, bool start_tls) const {
  if (failure.errorClass() != ErrorClass::kTransient) return failure;
  if (!handshakeSucceedsWithoutVerification(settings_.url, start_tls, settings_.timeout_s)) {
    return failure;
  }
  // A server we cannot trust is a configuration problem: retrying will not fix it.
  return configError(failure.message() +
                         ": the server certificate is not trusted (check ca_file, and that the "
                         "URL host is named in the certificate)",
                     failure.nativeCode());
}

Status LdapDirectoryClient::connectLocked() {
  if (ld_ != nullptr) return Status::ok();

  LDAPURLDesc* url = nullptr;
  if (ldap_url_parse(settings_.url.c_str(), &url) != LDAP_URL_SUCCESS) {
    return configError("invalid LDAP URL \"" + settings_.url + "\"");
  }
  const std::string scheme = url->lud_scheme != nullptr ? url->lud_scheme : "";
  const bool has_host = url->lud_host != nullptr && *url->lud_host != '\0';
  ldap_free_urldesc(url);
  if (!has_host) return configError("LDAP URL \"" + settings_.url + "\" names no server");
  ASSIGN_OR_RETURN(const ldap_common::Transport transport,
                   ldap_common::transportOf(scheme, settings_));
  const bool ldaps = transport.ldaps;
  const bool start_tls = transport.start_tls;
  const bool tls = transport.tls();
  if (tls && !settings_.ca_file.empty() && ::access(settings_.ca_file.c_str(), R_OK) != 0) {
    return configError("cannot read LDAP CA file " + settings_.ca_file);
  }

  LDAP* ld = nullptr;
  int rc = ldap_initialize(&ld, settings_.url.c_str());
  if (rc != LDAP_SUCCESS) {
    return configError("ldap_initialize(" + settings_.url + "): " + ldap_err2string(rc), rc);
  }
  // Owns `ld` until it is handed to ld_.
  std::unique_ptr<LDAP, void (*)(LDAP*)> guard(
      ld, [](LDAP* p) { ldap_unbind_ext_s(p, nullptr, nullptr); });

  const int version = LDAP_VERSION3;
  timeval timeout{settings_.timeout_s, 0};
  const int demand = LDAP_OPT_X_TLS_DEMAND;
  const int tls_min = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
  const int is_server = 0;
  struct Option {
    int option;
    const void* value;
    const char* name;
  };
  std::vector<Option> options = {
      {LDAP_OPT_PROTOCOL_VERSION, &version, "protocol version"},
      // AD answers subtree searches from the domain root with continuation references to
      // ForestDnsZones etc.; chasing them would bind anonymously elsewhere.
      {LDAP_OPT_REFERRALS, LDAP_OPT_OFF, "referrals"},
      {LDAP_OPT_NETWORK_TIMEOUT, &timeout, "network timeout"},
      {LDAP_OPT_TIMEOUT, &timeout, "timeout"},
      {LDAP_OPT_RESTART, LDAP_OPT_ON, "restart"},
  };
  if (tls) {
    if (!settings_.ca_file.empty()) {
      options.push_back({LDAP_OPT_X_TLS_CACERTFILE, settings_.ca_file.c_str(), "CA file"});
    }
    options.push_back({LDAP_OPT_X_TLS_REQUIRE_CERT, &demand, "require cert"});
    options.push_back({LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls_min, "TLS minimum"});
    // Builds this handle's own TLS context from the options above (the process default context
    // may have been created by someone else with other settings).
    options.push_back({LDAP_OPT_X_TLS_NEWCTX, &is_server, "TLS context"});
  }
  for (const auto& o : options) {
    rc = ldap_set_option(ld, o.option, o.value);
    if (rc != LDAP_OPT_SUCCESS) {
      const std::string diag = diagnosticOf(ld);
      Status s = errorFromLdap(rc, diag, std::string("setting LDAP option ") + o.name);
      if (o.option == LDAP_OPT_X_TLS_NEWCTX) return configError(s.message(), s.nativeCode());
      return s;
    }
  }

  if (start_tls) {
    rc = ldap_start_tls_s(ld, nullptr, nullptr);
    if (rc != LDAP_SUCCESS) return tlsFailure(lastError(ld, rc, "StartTLS with " + host_), true);
  }

  berval cred;
  cred.bv_val = const_cast<char*>(settings_.password.data());
  cred.bv_len = settings_.password.size();
  rc = ldap_sasl_bind_s(ld, settings_.bind_dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr,
                        nullptr);
  if (rc != LDAP_SUCCESS) {
    Status s = lastError(ld, rc, "bind as " + settings_.bind_dn + " to " + host_);
    // With ldaps:// the TLS handshake happens here, on the first operation.
    return ldaps ? tlsFailure(std::move(s), false) : s;
  }
  ld_ = guard.release();
  return Status::ok();
}

template <typename Op>
auto LdapDirectoryClient::withConnection(Op&& op) -> decltype(op(static_cast<LDAP*>(nullptr))) {
  std::lock_guard lock(mu_);
  return ldap_common::withReconnect(
      ld_, [this] { return connectLocked(); }, [this] { disconnectLocked(); },
      std::forward<Op>(op));
}

Result<std::vector<DirectoryEntry>> LdapDirectoryClient::search(
    const std::string& base_dn, SearchScope scope, const std::string& filter,
    const std::vector<std::string>& attributes) {
  NameArray attrs(attributes);
  const std::string context = ldap_common::searchContext(base_dn, filter);

  return withConnection([&](LDAP* ld) -> Result<std::vector<DirectoryEntry>> {
    berval cookie{0, nullptr};
    struct CookieFree {
      berval* c;
      ~CookieFree() { ber_memfree(c->bv_val); }
    } cookie_free{&cookie};
    timeval timeout{settings_.timeout_s, 0};
    const int page_size = ldap_common::pageSizeOf(settings_);
    return ldap_common::collectPages([&](std::vector<DirectoryEntry>& entries) -> Result<bool> {
      LDAPControl* raw_control = nullptr;
      int rc = ldap_create_page_control(ld, page_size, cookie.bv_val != nullptr ? &cookie : nullptr,
                                        0, &raw_control);
      if (rc != LDAP_SUCCESS) return lastError(ld, rc, context + ": paged results control");
      ControlPtr page_control(raw_control);
      LDAPControl* server_controls[] = {page_control.get(), nullptr};

      LDAPMessage* raw_result = nullptr;
      rc = ldap_search_ext_s(ld, base_dn.c_str(), ldap_common::scopeOf(scope), filter.c_str(),
                             attrs.get(), 0, server_controls, nullptr, &timeout, LDAP_NO_LIMIT,
                             &raw_result);
      MessagePtr result(raw_result);
      if (rc != LDAP_SUCCESS) return lastError(ld, rc, context);

      ber_memfree(cookie.bv_val);
      cookie = berval{0, nullptr};
      for (LDAPMessage* msg = ldap_first_message(ld, result.get()); msg != nullptr;
           msg = ldap_next_message(ld, msg)) {
        const int type = ldap_msgtype(msg);
        if (type == LDAP_RES_SEARCH_ENTRY) {
          entries.push_back(ldap_common::readEntry<OpenLdapApi>(ld, msg));
        } else if (type == LDAP_RES_SEARCH_RESULT) {
          LDAPControl** returned = nullptr;
          int err = LDAP_SUCCESS;
          rc = ldap_parse_result(ld, msg, &err, nullptr, nullptr, nullptr, &returned, 0);
          if (rc != LDAP_SUCCESS) return lastError(ld, rc, context + ": parsing result");
          if (returned != nullptr) {
            LDAPControl* page = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, returned, nullptr);
            ber_int_t estimate = 0;
            if (page != nullptr) {
              rc = ldap_parse_pageresponse_control(ld, page, &estimate, &cookie);
            }
            ldap_controls_free(returned);
            if (rc != LDAP_SUCCESS) return lastError(ld, rc, context + ": paged results response");
          }
        }
        // LDAP_RES_SEARCH_REFERENCE: continuation references are skipped, not chased.
      }
      return cookie.bv_val != nullptr && cookie.bv_len > 0;
    });
  });
}

Status LdapDirectoryClient::add(const std::string& dn,
                                const std::vector<Modification>& attributes) {
  ModList mods(attributes, /*for_add=*/true);
  return withConnection([&](LDAP* ld) -> Status {
    const int rc = ldap_add_ext_s(ld, dn.c_str(), mods.get(), nullptr, nullptr);
    if (rc != LDAP_SUCCESS) return lastError(ld, rc, "add " + dn);
    return Status::ok();
  });
}

Status LdapDirectoryClient::modify(const std::string& dn,
                                   const std::vector<Modification>& changes) {
  ModList mods(changes, /*for_add=*/false);
  if (mods.empty()) return Status::ok();
  return withConnection([&](LDAP* ld) -> Status {
    const int rc = ldap_modify_ext_s(ld, dn.c_str(), mods.get(), nullptr, nullptr);
    if (rc != LDAP_SUCCESS) return lastError(ld, rc, "modify " + dn);
    return Status::ok();
  });
}

Status LdapDirectoryClient::rename(const std::string& dn, const std::string& new_rdn,
                                   const std::string& new_parent_dn) {
  return withConnection([&](LDAP* ld) -> Status {
    const int rc =
        ldap_rename_s(ld, dn.c_str(), new_rdn.c_str(),
                      new_parent_dn.empty() ? nullptr : new_parent_dn.c_str(), 1, nullptr, nullptr);
    if (rc != LDAP_SUCCESS) {
      return lastError(ld, rc, ldap_common::renameContext(dn, new_rdn, new_parent_dn));
    }
    return Status::ok();
  });
}

Status LdapDirectoryClient::remove(const std::string& dn) {
  return withConnection([&](LDAP* ld) -> Status {
    const int rc = ldap_delete_ext_s(ld, dn.c_str(), nullptr, nullptr);
    if (rc != LDAP_SUCCESS) return lastError(ld, rc, "delete " + dn);
    return Status::ok();
  });
}

}  // namespace tenure::agent
