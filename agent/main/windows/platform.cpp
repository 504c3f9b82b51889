#include "agent/main/platform.h"

#include "agent/directory/windows/wldap_directory_client.h"
#include "agent/enroll/windows/dpapi_node_key_store.h"
#include "agent/main/windows/secret_files.h"
#include "common/net/win_http_client.h"

namespace tenure::agent {

std::unique_ptr<HttpClient> makeHttpClient(const HttpClientSettings& settings) {
  return std::make_unique<net::WinHttpClient>(settings);
}

std::unique_ptr<NodeKeyStore> makeNodeKeyStore(const std::filesystem::path& state_dir) {
  return std::make_unique<DpapiNodeKeyStore>(state_dir);
}

std::unique_ptr<DirectoryClient> makeDirectoryClient(const LdapSettings& settings) {
  return std::make_unique<WldapDirectoryClient>(settings);
}

SecretFileReader makeSecretFileReader() { return &winsvc::readSecretFile; }

}  // namespace tenure::agent
