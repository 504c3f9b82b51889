#pragma once
// The agent's platform backends behind its seams, chosen by CMake: posix/platform.cpp (libcurl,
// 0600 file, OpenLDAP) or windows/platform.cpp (WinHTTP, DPAPI, wldap32).

#include <filesystem>
#include <memory>

#include "agent/directory/directory_client.h"
#include "agent/enroll/node_key_store.h"
#include "agent/main/agent_config.h"
#include "agent/transport/http_client.h"

namespace tenure::agent {

std::unique_ptr<HttpClient> makeHttpClient(const HttpClientSettings& settings);
std::unique_ptr<NodeKeyStore> makeNodeKeyStore(const std::filesystem::path& state_dir);
std::unique_ptr<DirectoryClient> makeDirectoryClient(const LdapSettings& settings);
// How the config's secret files are read: plain on Linux, DPAPI-protected on Windows.
SecretFileReader makeSecretFileReader();

}  // namespace tenure::agent
