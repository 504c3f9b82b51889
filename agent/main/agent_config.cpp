#include "agent/main/agent_config.h"

#include <boost/json.hpp>

#include <fstream>
#include <sstream>

#include "common/base/json_fields.h"
#include "common/protocol/messages.h"

namespace tenure::agent {

Result<std::string> readPlainSecretFile(const std::string& path, const std::string& field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return configError(field + ": cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  // A trailing newline is an editor artefact, not part of the secret.
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.empty()) return configError(field + ": " + path + " is empty");
  return s;
}

Result<AgentConfig> loadAgentConfig(const std::string& path, const SecretFileReader& read_secret) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return configError("cannot read config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto v = protocol::parseJsonText(ss.str());
  if (!v.isOk()) return configError(path + ": " + v.status().message());
  auto obj = json::asObject(*v, "config");
  if (!obj.isOk()) return configError(path + ": " + obj.status().message());
  const auto& o = **obj;

  auto wrap = [&path](const Status& st) { return configError(path + ": " + st.message()); };
  AgentConfig c;
#define TENURE_READ(dst, expr)            \
  do {                                    \
    auto _r = (expr);                     \
    if (!_r.isOk()) return wrap(_r.status()); \
    dst = std::move(_r).value();          \
  } while (0)
  TENURE_READ(c.ldap.url, json::requireString(o, "ldap_url"));
  TENURE_READ(c.ldap.bind_dn, json::requireString(o, "bind_dn"));
  std::string password_file;
  TENURE_READ(password_file, json::requireString(o, "password_file"));
  TENURE_READ(c.users_base_dn, json::requireString(o, "users_base_dn"));
  TENURE_READ(c.ldap.ca_file, json::optionalString(o, "ca_file"));
  TENURE_READ(c.ldap.start_tls, json::optionalBool(o, "start_tls", true));
  TENURE_READ(c.ldap.allow_plain, json::optionalBool(o, "allow_plain_ldap", false));
  int64_t timeout = 0, page = 0, wait = 0;
  TENURE_READ(timeout, json::optionalInt(o, "ldap_timeout_s", 15));
  TENURE_READ(page, json::optionalInt(o, "ldap_page_size", 500));
  TENURE_READ(c.leavers_ou, json::optionalString(o, "leavers_ou"));
  TENURE_READ(c.upn_suffix, json::optionalString(o, "upn_suffix"));
  TENURE_READ(c.search_base_dn, json::optionalString(o, "search_base_dn"));
  TENURE_READ(c.control_plane_url, json::optionalString(o, "control_plane_url"));
  TENURE_READ(c.control_plane_ca_file, json::optionalString(o, "control_plane_ca_file"));
  std::string secret_file;
  TENURE_READ(secret_file, json::optionalString(o, "enroll_secret_file"));
  TENURE_READ(wait, json::optionalInt(o, "poll_wait_s", 25));
  TENURE_READ(c.log_level, json::optionalString(o, "log_level", "info"));
  TENURE_READ(c.log_file, json::optionalString(o, "log_file"));
#undef TENURE_READ

  if (timeout < 1 || timeout > 600) return configError(path + ": ldap_timeout_s must be 1..600");
  if (page < 1 || page > 1000) return configError(path + ": ldap_page_size must be 1..1000");
  if (wait < 0 || wait > 120) return configError(path + ": poll_wait_s must be 0..120");
  c.ldap.timeout_s = static_cast<int>(timeout);
  c.ldap.page_size = static_cast<int>(page);
  c.poll_wait_s = static_cast<int>(wait);
  if (c.ldap.url.rfind("ldaps://", 0) != 0 && c.ldap.url.rfind("ldap://", 0) != 0) {
    return configError(path + ": ldap_url must start with ldaps:// or ldap://");
  }
  if (c.ldap.url.rfind("ldap://", 0) == 0 && !c.ldap.start_tls && !c.ldap.allow_plain) {
    return configError(path +
                       ": ldap:// without start_tls would send passwords in clear; use ldaps://, "
                       "start_tls, or allow_plain_ldap for a lab");
  }
  auto pw = read_secret(password_file, "password_file");
  if (!pw.isOk()) return configError(path + ": " + pw.status().message());
  c.ldap.password = *pw;
  if (!secret_file.empty()) {
    auto s = read_secret(secret_file, "enroll_secret_file");
    if (!s.isOk()) return configError(path + ": " + s.status().message());
    c.enroll_secret = *s;
  }
  return c;
}

}  // namespace tenure::agent
