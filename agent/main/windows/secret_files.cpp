#include "agent/main/windows/secret_files.h"

#include <windows.h>

#include <boost/json.hpp>

#include <fstream>
#include <iostream>

#include "agent/enroll/windows/dpapi_node_key_store.h"
#include "agent/main/agent_config.h"
#include "common/base/files.h"
#include "common/base/windows/wide.h"

namespace fs = std::filesystem;

namespace tenure::agent::winsvc {

namespace {

constexpr size_t kMaxSecretFileBytes = 64 * 1024;

std::string purposeOf(std::string_view field) {
  return "tenure-agent " + std::string(field) + " v1";
}

bool isDpapiFile(const fs::path& p) { return p.extension() == ".dpapi"; }

Result<std::string> readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return configError("cannot read " + p.string());
  std::string data;
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > kMaxSecretFileBytes) return dataError(p.string() + " is too large");
  }
  return data;
}

Result<boost::json::object> readConfig(const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(p, ec)) return boost::json::object{};
  ASSIGN_OR_RETURN(std::string text, readFile(p));
  boost::system::error_code jec;
  auto v = boost::json::parse(text, jec);
  if (jec || !v.is_object()) return configError(p.string() + ": not a JSON object");
  return v.as_object();
}

bool insideStateDir(const Paths& paths, const fs::path& p) {
  std::error_code ec;
  return fs::equivalent(p.parent_path(), paths.state_dir, ec);
}

}  // namespace

fs::path secretFilePath(const Paths& paths, std::string_view field) {
  return paths.state_dir /
         (std::string(field == kPasswordField ? "ldap_password" : "enroll_secret") + ".dpapi");
}

Result<std::string> readSecretFile(const std::string& path, const std::string& field) {
  const fs::path p = win::widen(path);
  if (!isDpapiFile(p)) return readPlainSecretFile(path, field);
  auto blob = readFile(p);
  if (!blob.isOk()) return configError(field + ": " + blob.status().message());
  auto plain = dpapiUnprotect(*blob, purposeOf(field));
  // Made on another machine or damaged: set it again (`tenure-agent config set-password`).
  if (!plain.isOk()) return configError(field + ": " + path + ": " + plain.status().message());
  if (plain->empty()) return configError(field + ": " + path + " holds an empty secret");
  return plain;
}

Status storeSecret(const Paths& paths, std::string_view field, std::string_view secret) {
  if (secret.empty()) return configError(std::string(field) + ": the secret is empty");
  RETURN_IF_ERROR(ensurePrivateDirectory(paths.state_dir));
  ASSIGN_OR_RETURN(std::string blob, dpapiProtect(secret, purposeOf(field)));
  const fs::path target = secretFilePath(paths, field);
  // Atomic: a torn write must not lose the only copy of a secret. Owner only, like the node key:
  // SYSTEM (the service) can always read it.
  RETURN_IF_ERROR(replaceFileAtomically(target, blob, FileAccess::kOwnerOnly));

  ASSIGN_OR_RETURN(boost::json::object config, readConfig(paths.config));
  fs::path previous;
  if (const auto* v = config.if_contains(field); v != nullptr && v->is_string()) {
    previous = win::widen(std::string(v->as_string()));
  }
  config[field] = target.string();
  std::error_code ec;
  fs::create_directories(paths.config.parent_path(), ec);
  // The config holds no secret (only where they are) and administrators edit it: its ACL is the
  // folder's.
  RETURN_IF_ERROR(
      replaceFileAtomically(paths.config, boost::json::serialize(config), FileAccess::kInherited));
  // A plain copy the agent made (state directory) goes; one an administrator keeps elsewhere is
  // theirs to remove.
  if (!previous.empty() && !isDpapiFile(previous) && insideStateDir(paths, previous)) {
    fs::remove(previous, ec);
  }
  return Status::ok();
}

Status protectPlainSecrets(const Paths& paths, bool* changed) {
  if (changed != nullptr) *changed = false;
  ASSIGN_OR_RETURN(boost::json::object config, readConfig(paths.config));
  for (const char* field : {kPasswordField, kEnrollSecretField}) {
    const auto* v = config.if_contains(field);
    if (v == nullptr || !v->is_string()) continue;
    const fs::path file = win::widen(std::string(v->as_string()));
    if (isDpapiFile(file) || !insideStateDir(paths, file)) continue;
    ASSIGN_OR_RETURN(std::string secret, readPlainSecretFile(file.string(), field));
    RETURN_IF_ERROR(storeSecret(paths, field, secret));
    SecureZeroMemory(secret.data(), secret.size());
    if (changed != nullptr) *changed = true;
  }
  return Status::ok();
}

int configCommand(const Paths& paths, int argc, char** argv) {
  const std::string verb = argc >= 3 ? argv[2] : "";
  if (verb != "set-password") {
    std::cerr << "usage: tenure-agent config set-password   (reads the AD service-account "
                 "password from standard input)\n";
    return 2;
  }
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  DWORD mode = 0;
  const bool console = GetConsoleMode(in, &mode);
  if (console) {
    std::cerr << "AD service-account password: " << std::flush;
    SetConsoleMode(in, mode & ~static_cast<DWORD>(ENABLE_ECHO_INPUT));
  }
  std::string password;
  std::getline(std::cin, password);
  if (console) {
    SetConsoleMode(in, mode);
    std::cerr << "\n";
  }
  while (!password.empty() && (password.back() == '\r' || password.back() == '\n')) {
    password.pop_back();
  }
  const Status st = storeSecret(paths, kPasswordField, password);
  SecureZeroMemory(password.data(), password.size());
  if (!st.isOk()) {
    std::cerr << "tenure-agent: " << st.message() << "\n";
    return 1;
  }
  std::cout << "password stored (DPAPI, machine scope) in "
            << secretFilePath(paths, kPasswordField).string()
            << "; restart the service: tenure-agent service stop && tenure-agent service start\n";
  return 0;
}

}  // namespace tenure::agent::winsvc
