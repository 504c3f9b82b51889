#pragma once
// The agent's configuration file (JSON). AD credentials stay on the agent: the password is read
// from `password_file`, never sent to the control plane.

#include <functional>
#include <string>

#include "agent/directory/directory_client.h"
#include "common/base/status.h"

namespace tenure::agent {

struct AgentConfig {
  // Directory.
  LdapSettings ldap;           // url, bind_dn, password (from password_file), ca_file, start_tls
  std::string users_base_dn;   // where new accounts are created
  std::string leavers_ou;      // optional: terminated accounts are moved here
  std::string upn_suffix;      // optional: derived from the DC= parts of users_base_dn
  std::string search_base_dn;  // optional: where accounts are looked up (default: the domain)
  // Control plane (defaults come from the enrollment state).
  std::string control_plane_url;
  std::string control_plane_ca_file;
  std::string enroll_secret;  // from enroll_secret_file, for automatic re-enrollment
  int poll_wait_s = 25;
  // Logging.
  std::string log_level = "info";
  std::string log_file;
};

// Reads a secret file the config names (`password_file`, `enroll_secret_file`; `field` is that
// name): the seam where the platform decides how secrets rest on disk. Linux: a plain file that only
// the agent's user may read. Windows: a DPAPI (machine scope) blob, see makeSecretFileReader().
using SecretFileReader =
    std::function<Result<std::string>(const std::string& path, const std::string& field)>;

// A plain text file; a trailing newline is dropped, an empty file is an error (kConfig).
Result<std::string> readPlainSecretFile(const std::string& path, const std::string& field);

// Reads and validates the file; errors name the field (kConfig).
Result<AgentConfig> loadAgentConfig(const std::string& path,
                                    const SecretFileReader& read_secret = readPlainSecretFile);

}  // namespace tenure::agent
