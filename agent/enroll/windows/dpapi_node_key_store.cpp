// Windows DpapiNodeKeyStore: the node key is a bearer credential, so it is only ever on disk as a
// DPAPI blob (machine scope), replaced atomically (a torn write would force a re-enrollment that may
// no longer be possible).

#include "agent/enroll/windows/dpapi_node_key_store.h"

#include <windows.h>
#include <dpapi.h>
#include <sddl.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <system_error>

#include "common/base/files.h"

namespace tenure::agent {

namespace {

constexpr std::string_view kPurpose = "tenure-agent node key v1";
constexpr size_t kMaxFileBytes = 64 * 1024;

std::string win32Message(DWORD err) { return std::system_category().message(static_cast<int>(err)); }

Status win32Error(const std::string& what, DWORD err) {
  std::string msg = what + ": " + win32Message(err);
  if (err == ERROR_ACCESS_DENIED || err == ERROR_SHARING_VIOLATION || err == ERROR_WRITE_PROTECT) {
    return permissionError(msg, static_cast<int>(err));
  }
  return configError(msg, static_cast<int>(err));
}

struct LocalFreer {
  void operator()(void* p) const { LocalFree(p); }
};

DATA_BLOB blobOf(std::string_view s) {
  return DATA_BLOB{static_cast<DWORD>(s.size()),
                   reinterpret_cast<BYTE*>(const_cast<char*>(s.data()))};
}

Result<std::string> readSmallFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return configError("cannot read " + p.string());
  std::string data;
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > kMaxFileBytes) return dataError(p.string() + " is too large");
  }
  return data;
}

}  // namespace

Result<std::string> dpapiProtect(std::string_view plain, std::string_view purpose) {
  DATA_BLOB in = blobOf(plain);
  DATA_BLOB entropy = blobOf(purpose);
  DATA_BLOB out{};
  // LOCAL_MACHINE: the service (LocalSystem) and an administrator's console run share the key.
  if (!CryptProtectData(&in, L"tenure-agent", &entropy, nullptr, nullptr,
                        CRYPTPROTECT_LOCAL_MACHINE | CRYPTPROTECT_UI_FORBIDDEN, &out)) {
    return internalError("CryptProtectData: " + win32Message(GetLastError()),
                         static_cast<int>(GetLastError()));
  }
  std::unique_ptr<void, LocalFreer> owner(out.pbData);
  return std::string(reinterpret_cast<const char*>(out.pbData), out.cbData);
}

Result<std::string> dpapiUnprotect(std::string_view blob, std::string_view purpose) {
  DATA_BLOB in = blobOf(blob);
  DATA_BLOB entropy = blobOf(purpose);
  DATA_BLOB out{};
  if (!CryptUnprotectData(&in, nullptr, &entropy, nullptr, nullptr, CRYPTPROTECT_UI_FORBIDDEN,
                          &out)) {
    const DWORD err = GetLastError();
    // Made on another machine, for another purpose, or damaged: the stored secret is unusable.
    return dataError("CryptUnprotectData: " + win32Message(err), static_cast<int>(err));
  }
  std::unique_ptr<void, LocalFreer> owner(out.pbData);
  std::string plain(reinterpret_cast<const char*>(out.pbData), out.cbData);
  SecureZeroMemory(out.pbData, out.cbData);
  return plain;
}

Status ensurePrivateDirectory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return Status::ok();
  if (dir.has_parent_path()) {
    std::filesystem::create_directories(dir.parent_path(), ec);
    if (ec) return configError("cannot create " + dir.parent_path().string() + ": " + ec.message());
  }
  // P: not inherited from ProgramData (where Users may read); OICI: applies to files created inside.
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(
          L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)", SDDL_REVISION_1, &sd, nullptr)) {
    return internalError("cannot build the state directory ACL: " + win32Message(GetLastError()));
  }
  std::unique_ptr<void, LocalFreer> sd_owner(sd);
  SECURITY_ATTRIBUTES sa{sizeof sa, sd, FALSE};
  if (!CreateDirectoryW(dir.wstring().c_str(), &sa)) {
    const DWORD err = GetLastError();
    if (err != ERROR_ALREADY_EXISTS) return win32Error("cannot create " + dir.string(), err);
  }
  return Status::ok();
}

DpapiNodeKeyStore::DpapiNodeKeyStore(std::filesystem::path state_dir)
    : dir_(std::move(state_dir)), file_(dir_ / "node_key.dpapi") {}

Result<std::optional<NodeKeyRecord>> DpapiNodeKeyStore::load() {
  std::error_code ec;
  if (!std::filesystem::exists(file_, ec)) return std::optional<NodeKeyRecord>{};
  ASSIGN_OR_RETURN(std::string blob, readSmallFile(file_));
  auto plain = dpapiUnprotect(blob, kPurpose);
  if (!plain.isOk()) return plain.status().withContext(file_.string());
  ASSIGN_OR_RETURN(NodeKeyRecord r, decodeNodeKeyRecord(*plain));
  SecureZeroMemory(plain->data(), plain->size());
  return std::optional<NodeKeyRecord>(std::move(r));
}

Status DpapiNodeKeyStore::save(const NodeKeyRecord& record) {
  RETURN_IF_ERROR(ensurePrivateDirectory(dir_));
  std::string plain = encodeNodeKeyRecord(record);
  auto blob = dpapiProtect(plain, kPurpose);
  SecureZeroMemory(plain.data(), plain.size());
  if (!blob.isOk()) return blob.status();

  // Owner only: the service (SYSTEM) writes it; an administrator's console run leaves a file the
  // service can still read (common/base/files.h).
  return replaceFileAtomically(file_, *blob, FileAccess::kOwnerOnly);
}

Status DpapiNodeKeyStore::clear() {
  if (!DeleteFileW(file_.wstring().c_str())) {
    const DWORD err = GetLastError();
    if (err != ERROR_FILE_NOT_FOUND && err != ERROR_PATH_NOT_FOUND) {
      return win32Error("cannot remove " + file_.string(), err);
    }
  }
  return Status::ok();
}

}  // namespace tenure::agent
