#include "tests/agent/transport/test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

extern char** environ;

namespace tenure::agent::testing {
namespace {

std::vector<char*> cArgv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "tenure-transport-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Status runCommand(const std::vector<std::string>& argv) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  auto args = cArgv(argv);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return internalError("cannot run " + argv[0] + ": " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return internalError(argv[0] + " failed");
  return Status::ok();
}

Status makeSelfSignedCert(const std::filesystem::path& dir, const std::string& name,
                          const std::string& san) {
  return runCommand({"openssl",
                     "req",
                     "-x509",
                     "-newkey",
                     "ec",
                     "-pkeyopt",
                     "ec_paramgen_curve:prime256v1",
                     "-nodes",
                     "-days",
                     "2",
                     "-subj",
                     "/CN=tenure-test-" + name,
                     "-addext",
                     "subjectAltName=" + san,
                     "-addext",
                     "basicConstraints=critical,CA:TRUE",
                     "-keyout",
                     (dir / (name + ".key")).string(),
                     "-out",
                     (dir / (name + ".pem")).string()});
}

Result<std::unique_ptr<ChildServer>> ChildServer::start(const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return internalError("pipe failed");
  auto args = cArgv(argv);
  const pid_t parent = ::getpid();
  // fork + exec rather than posix_spawn: the child must die with the test (PR_SET_PDEATHSIG).
  // A test that aborts (an ASan report, a failed ASSERT in a destructor) would otherwise leave
  // the server running, holding the test's stderr open, and ctest would wait for it forever.
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return internalError("cannot start " + argv[0] + ": " + std::strerror(err));
  }
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);  // the test died before prctl took effect
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::unique_ptr<ChildServer> child(new ChildServer(pid, 0));
  std::string line;
  while (line.find('\n') == std::string::npos) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 20'000) <= 0) break;
    char buf[256];
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (line.rfind("PORT ", 0) != 0) return internalError("server did not report a port: " + line);
  child->port_ = std::atoi(line.c_str() + 5);
  return child;
}

ChildServer::~ChildServer() {
  ::kill(pid_, SIGTERM);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

Result<std::unique_ptr<ChildServer>> startTestServer(const std::filesystem::path& cert,
                                                     const std::filesystem::path& key) {
  return ChildServer::start({"/usr/bin/python3", TENURE_TRANSPORT_TEST_SERVER, "--cert",
                             cert.string(), "--key", key.string()});
}

Result<std::unique_ptr<ChildServer>> startTestProxy() {
  return ChildServer::start({"/usr/bin/python3", TENURE_TRANSPORT_TEST_SERVER, "--proxy"});
}

int unusedPort() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

void clearProxyEnvironment() {
  for (const char* v : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                        "ALL_PROXY", "no_proxy", "NO_PROXY"}) {
    ::unsetenv(v);
  }
}

}  // namespace tenure::agent::testing
