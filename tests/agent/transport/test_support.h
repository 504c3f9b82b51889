#pragma once
// Test support: temp dirs, self-signed certificates made with the openssl CLI, and the scripted
// Python HTTPS server / CONNECT proxy (test_server.py) run as child processes on port 0.

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace tenure::agent::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs argv to completion (stdout/stderr discarded); an error unless it exits 0.
Status runCommand(const std::vector<std::string>& argv);

// Writes `<dir>/<name>.pem` (certificate) and `<dir>/<name>.key`, self-signed, with the given
// subjectAltName (e.g. "DNS:localhost,IP:127.0.0.1"). The certificate is its own CA.
Status makeSelfSignedCert(const std::filesystem::path& dir, const std::string& name,
                          const std::string& san);

// A child process that prints "PORT <n>" when ready; killed (SIGTERM) and reaped on destruction.
class ChildServer {
 public:
  static Result<std::unique_ptr<ChildServer>> start(const std::vector<std::string>& argv);
  ~ChildServer();
  int port() const { return port_; }

 private:
  ChildServer(pid_t pid, int port) : pid_(pid), port_(port) {}
  pid_t pid_;
  int port_;
};

// The scripted control plane over HTTPS with the given certificate.
Result<std::unique_ptr<ChildServer>> startTestServer(const std::filesystem::path& cert,
                                                     const std::filesystem::path& key);
// A plain-HTTP CONNECT proxy; GET /targets lists the CONNECT targets it saw.
Result<std::unique_ptr<ChildServer>> startTestProxy();

// A TCP port on 127.0.0.1 that nothing listens on (bound, then closed).
int unusedPort();

// Unsets every proxy variable so the tests reach loopback directly whatever the environment.
void clearProxyEnvironment();

}  // namespace tenure::agent::testing
