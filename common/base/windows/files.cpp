// common/base/files.h on Windows: "owner only" is a protected DACL (no ACEs inherited from the
// folder) with full control for the current user and for SYSTEM, given to CreateFileW when the
// file is created; the atomic replace is MoveFileExW with MOVEFILE_WRITE_THROUGH, which keeps the
// temporary file's security descriptor.

#include "common/base/files.h"

#include <windows.h>  // before the other Windows headers, which need its macros

#include <sddl.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>

#include "common/base/windows/wide.h"

namespace tenure {

namespace {

struct LocalFreer {
  void operator()(void* p) const { LocalFree(p); }
};
using LocalPtr = std::unique_ptr<void, LocalFreer>;

std::string display(const std::filesystem::path& p) { return win::narrow(p.wstring()); }

Status win32Error(const std::string& what, const std::filesystem::path& p, DWORD err) {
  std::string msg = what + " " + display(p) + ": " + win::errorText(err);
  if (err == ERROR_ACCESS_DENIED || err == ERROR_SHARING_VIOLATION || err == ERROR_WRITE_PROTECT) {
    return permissionError(std::move(msg), static_cast<int>(err));
  }
  return configError(std::move(msg), static_cast<int>(err));
}

// The SID of the user this process runs as, in SDDL's string form.
Result<std::wstring> currentUserSid() {
  HANDLE token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
    return internalError("OpenProcessToken: " + win::errorText(GetLastError()));
  }
  DWORD size = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  std::string buf(size, '\0');
  const BOOL ok = GetTokenInformation(token, TokenUser, buf.data(), size, &size);
  const DWORD err = GetLastError();
  CloseHandle(token);
  if (!ok) return internalError("GetTokenInformation(TokenUser): " + win::errorText(err));
  wchar_t* sid = nullptr;
  if (!ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(buf.data())->User.Sid, &sid)) {
    return internalError("ConvertSidToStringSid: " + win::errorText(GetLastError()));
  }
  LocalPtr owner(sid);
  return std::wstring(sid);
}

// P: protected, nothing inherited from the folder. FA: full access. SY: LocalSystem (a second
// ACE for the same SID when the process runs as SYSTEM is harmless, but kept out for clarity).
Result<LocalPtr> ownerOnlyDescriptor() {
  ASSIGN_OR_RETURN(std::wstring user, currentUserSid());
  std::wstring sddl = L"D:P(A;;FA;;;" + user + L")";
  if (user != L"S-1-5-18") sddl += L"(A;;FA;;;SY)";
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1, &sd,
                                                            nullptr)) {
    return internalError("cannot build an owner-only ACL: " + win::errorText(GetLastError()));
  }
  return LocalPtr(sd);
}

class Handle {
 public:
  explicit Handle(HANDLE h) : h_(h) {}
  ~Handle() { close(); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  bool valid() const { return h_ != INVALID_HANDLE_VALUE; }
  HANDLE get() const { return h_; }
  BOOL close() {
    if (!valid()) return TRUE;
    const BOOL ok = CloseHandle(h_);
    h_ = INVALID_HANDLE_VALUE;
    return ok;
  }

 private:
  HANDLE h_;
};

// CreateFileW with the DACL of `access`; `disposition` is CREATE_NEW or OPEN_ALWAYS (a security
// descriptor only applies when the file is created).
Result<std::unique_ptr<Handle>> openWith(const std::filesystem::path& p, DWORD desired,
                                         DWORD disposition, DWORD flags, FileAccess access) {
  LocalPtr sd;
  SECURITY_ATTRIBUTES sa{sizeof sa, nullptr, FALSE};  // not inherited by child processes
  if (access == FileAccess::kOwnerOnly) {
    ASSIGN_OR_RETURN(sd, ownerOnlyDescriptor());
    sa.lpSecurityDescriptor = sd.get();
  }
  auto h = std::make_unique<Handle>(
      CreateFileW(p.wstring().c_str(), desired, 0, &sa, disposition, flags, nullptr));
  if (!h->valid()) {
    return win32Error(disposition == CREATE_NEW ? "cannot create" : "cannot open", p,
                      GetLastError());
  }
  return h;
}

}  // namespace

Status createPrivateFile(const std::filesystem::path& path) {
  ASSIGN_OR_RETURN(auto h, openWith(path, GENERIC_READ | GENERIC_WRITE, OPEN_ALWAYS,
                                    FILE_ATTRIBUTE_NORMAL, FileAccess::kOwnerOnly));
  return Status::ok();
}

Status replaceFileAtomically(const std::filesystem::path& target, std::string_view data,
                             FileAccess access) {
  // Unique per process and call: two threads replacing the same file must not share a temporary.
  static std::atomic<unsigned> counter{0};
  const std::filesystem::path tmp = target.wstring() + L".tmp." +
                                    std::to_wstring(GetCurrentProcessId()) + L"." +
                                    std::to_wstring(counter.fetch_add(1));
  DeleteFileW(tmp.wstring().c_str());  // left over from a crashed process that had the same id
  ASSIGN_OR_RETURN(auto h, openWith(tmp, GENERIC_WRITE, CREATE_NEW,
                                    FILE_ATTRIBUTE_NORMAL | FILE_FLAG_WRITE_THROUGH, access));
  Status st = Status::ok();
  while (st && !data.empty()) {
    const DWORD chunk = static_cast<DWORD>(std::min<size_t>(data.size(), 1u << 30));
    DWORD written = 0;
    if (!WriteFile(h->get(), data.data(), chunk, &written, nullptr) || written == 0) {
      st = win32Error("cannot write", tmp, GetLastError());
    }
    data.remove_prefix(written);
  }
  if (st && !FlushFileBuffers(h->get())) st = win32Error("cannot flush", tmp, GetLastError());
  if (!h->close() && st) st = win32Error("cannot close", tmp, GetLastError());
  if (st && !MoveFileExW(tmp.wstring().c_str(), target.wstring().c_str(),
                         MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    st = win32Error("cannot replace", target, GetLastError());
  }
  if (!st) DeleteFileW(tmp.wstring().c_str());
  return st;
}

std::filesystem::path pathFromUtf8(std::string_view utf8) { return win::widen(utf8); }

}  // namespace tenure
