#include "agent/main/platform.h"

#include "agent/directory/posix/ldap_directory_client.h"
#include "common/net/curl_http_client.h"

namespace tenure::agent {

std::unique_ptr<HttpClient> makeHttpClient(const HttpClientSettings& settings) {
  return std::make_unique<net::CurlHttpClient>(settings);
}

std::unique_ptr<NodeKeyStore> makeNodeKeyStore(const std::filesystem::path& state_dir) {
  return std::make_unique<FileNodeKeyStore>(state_dir);
}

std::unique_ptr<DirectoryClient> makeDirectoryClient(const LdapSettings& settings) {
  return std::make_unique<LdapDirectoryClient>(settings);
}

SecretFileReader makeSecretFileReader() { return &readPlainSecretFile; }

}  // namespace tenure::agent
