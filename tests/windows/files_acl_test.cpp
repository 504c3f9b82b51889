// common/base/windows/files.cpp: "owner only" is a protected DACL whose only ACEs grant the current
// user (and SYSTEM, the service's account) full control; "inherited" leaves the folder's ACL.

#include <gtest/gtest.h>
#include <windows.h>  // before the other Windows headers, which need its macros

#include <aclapi.h>
#include <sddl.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "common/base/crypto.h"
#include "common/base/files.h"

namespace tenure {
namespace {

namespace fs = std::filesystem;

struct LocalFreer {
  void operator()(void* p) const { LocalFree(p); }
};

std::wstring sidText(PSID sid) {
  wchar_t* text = nullptr;
  if (!ConvertSidToStringSidW(sid, &text)) return L"?";
  std::unique_ptr<void, LocalFreer> owner(text);
  return text;
}

std::wstring currentUserSid() {
  HANDLE token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return L"";
  DWORD size = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  std::string buf(size, '\0');
  const BOOL ok = GetTokenInformation(token, TokenUser, buf.data(), size, &size);
  CloseHandle(token);
  return ok ? sidText(reinterpret_cast<TOKEN_USER*>(buf.data())->User.Sid) : L"";
}

// Wine keeps a file's ACEs but does not report SE_DACL_PROTECTED back.
bool underWine() {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

struct Dacl {
  bool is_protected = false;
  int inherited = 0;  // ACEs marked INHERITED_ACE (copied from the folder)
  // SID -> access mask of each ACCESS_ALLOWED ACE; any other ACE type is counted in `others`.
  std::multiset<std::pair<std::wstring, DWORD>> allowed;
  int others = 0;
};

Dacl daclOf(const fs::path& p) {
  Dacl out;
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR sd = nullptr;
  const DWORD rc =
      GetNamedSecurityInfoW(p.wstring().c_str(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr,
                            nullptr, &dacl, nullptr, &sd);
  EXPECT_EQ(rc, static_cast<DWORD>(ERROR_SUCCESS)) << "GetNamedSecurityInfoW " << p.string();
  if (rc != ERROR_SUCCESS) return out;
  std::unique_ptr<void, LocalFreer> owner(sd);
  SECURITY_DESCRIPTOR_CONTROL control = 0;
  DWORD revision = 0;
  if (GetSecurityDescriptorControl(sd, &control, &revision)) {
    out.is_protected = (control & SE_DACL_PROTECTED) != 0;
  }
  EXPECT_NE(dacl, nullptr) << "a NULL DACL grants everyone everything";
  if (dacl == nullptr) return out;
  for (DWORD i = 0; i < dacl->AceCount; ++i) {
    void* ace = nullptr;
    if (!GetAce(dacl, i, &ace)) continue;
    const auto* header = static_cast<ACE_HEADER*>(ace);
    if ((header->AceFlags & INHERITED_ACE) != 0) ++out.inherited;
    if (header->AceType == ACCESS_ALLOWED_ACE_TYPE) {
      auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(ace);
      out.allowed.insert({sidText(&allowed->SidStart), allowed->Mask});
    } else {
      ++out.others;
    }
  }
  return out;
}

class FilesAclTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tenure-acl-" + randomHex(8));
    fs::create_directories(dir_);
    user_ = currentUserSid();
    ASSERT_FALSE(user_.empty());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // The owner-only DACL: the user, and SYSTEM unless that is the user.
  void expectOwnerOnly(const fs::path& p) const {
    const Dacl d = daclOf(p);
    if (!underWine()) {
      EXPECT_TRUE(d.is_protected) << "would inherit ACEs from the folder";
    }
    EXPECT_EQ(d.inherited, 0);
    EXPECT_EQ(d.others, 0);
    std::multiset<std::pair<std::wstring, DWORD>> expected = {{user_, FILE_ALL_ACCESS}};
    if (user_ != L"S-1-5-18") expected.insert({L"S-1-5-18", FILE_ALL_ACCESS});
    EXPECT_EQ(d.allowed, expected);
  }
  fs::path dir_;
  std::wstring user_;
};

TEST_F(FilesAclTest, CreatePrivateFileGrantsOnlyTheOwnerAndSystem) {
  const fs::path p = dir_ / "spool.db";
  ASSERT_TRUE(createPrivateFile(p));
  expectOwnerOnly(p);
}

TEST_F(FilesAclTest, ReplaceFileAtomicallyOwnerOnlyGrantsOnlyTheOwnerAndSystem) {
  const fs::path p = dir_ / "node_key.dpapi";
  ASSERT_TRUE(replaceFileAtomically(p, "first", FileAccess::kInherited));
  ASSERT_TRUE(replaceFileAtomically(p, "second", FileAccess::kOwnerOnly));
  expectOwnerOnly(p);
}

TEST_F(FilesAclTest, ReplaceFileAtomicallyInheritedIsNotProtected) {
  const fs::path p = dir_ / "agent.json";
  ASSERT_TRUE(replaceFileAtomically(p, "{}", FileAccess::kInherited));
  if (!underWine()) {
    EXPECT_FALSE(daclOf(p).is_protected);
  }
}

}  // namespace
}  // namespace tenure
