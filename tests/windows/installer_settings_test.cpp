// The hand-over of MSI properties (registry) to the agent's config: settings land in agent.json,
// secrets in the state directory and out of the registry, and an upgrade without properties keeps
// the configuration. Uses a scratch key under HKCU.

#include <gtest/gtest.h>
#include <windows.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/main/agent_config.h"
#include "agent/main/windows/secret_files.h"
#include "agent/main/windows/service.h"
#include "agent/directory/windows/wldap_directory_client.h"
#include "common/base/crypto.h"
#include "common/base/windows/wide.h"

namespace tenure::agent {
namespace {

namespace fs = std::filesystem;

class InstallerSettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = L"Software\\TenureTest\\" + win::widen(randomHex(6));
    dir_ = fs::temp_directory_path() / ("tenure-settings-" + randomHex(8));
    paths_.data_dir = dir_;
    paths_.state_dir = dir_ / "state";
    paths_.config = dir_ / "agent.json";
    paths_.log_file = dir_ / "logs" / "agent.log";
  }
  void TearDown() override {
    RegDeleteTreeW(HKEY_CURRENT_USER, key_.c_str());
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void set(const wchar_t* name, const std::wstring& value) {
    HKEY k = nullptr;
    ASSERT_EQ(RegCreateKeyExW(HKEY_CURRENT_USER, key_.c_str(), 0, nullptr, 0, KEY_ALL_ACCESS,
                              nullptr, &k, nullptr),
              ERROR_SUCCESS);
    RegSetValueExW(k, name, 0, REG_SZ, reinterpret_cast<const BYTE*>(value.c_str()),
                   static_cast<DWORD>((value.size() + 1) * sizeof(wchar_t)));
    RegCloseKey(k);
  }
  bool has(const wchar_t* name) {
    HKEY k = nullptr;
    if (RegOpenKeyExW(HKEY_CURRENT_USER, key_.c_str(), 0, KEY_READ, &k) != ERROR_SUCCESS) {
      return false;
    }
    const bool found = RegQueryValueExW(k, name, nullptr, nullptr, nullptr, nullptr) ==
                       ERROR_SUCCESS;
    RegCloseKey(k);
    return found;
  }
  boost::json::object config() {
    std::ifstream in(paths_.config, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return boost::json::parse(ss.str()).as_object();
  }
  static std::string readAll(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::wstring key_;
  fs::path dir_;
  winsvc::Paths paths_;
};

TEST_F(InstallerSettingsTest, PropertiesBecomeConfigAndSecretsLeaveTheRegistry) {
  set(L"ControlPlaneUrl", L"https://cp.example:8443");
  set(L"EnrollSecret", L"s3cret");
  set(L"LdapUrl", L"ldap://dc1.example.test");
  set(L"BindDn", L"svc-tenure@example.test");
  set(L"BindPassword", L"Pässword1");
  set(L"UsersBaseDn", L"OU=Staff,DC=example,DC=test");
  set(L"AllowPlainLdap", L"1");
  bool changed = false;
  ASSERT_TRUE(winsvc::applyInstallerSettings(HKEY_CURRENT_USER, key_, paths_, &changed));
  EXPECT_TRUE(changed);
  auto c = config();
  EXPECT_EQ(c.at("control_plane_url"), "https://cp.example:8443");
  EXPECT_EQ(c.at("ldap_url"), "ldap://dc1.example.test");
  EXPECT_EQ(c.at("users_base_dn"), "OU=Staff,DC=example,DC=test");
  EXPECT_EQ(c.at("allow_plain_ldap"), true);
  // On disk only as DPAPI blobs, which the agent's secret reader turns back into the secrets.
  const std::string secret_file(c.at("enroll_secret_file").as_string());
  const std::string password_file(c.at("password_file").as_string());
  EXPECT_EQ(fs::path(password_file).extension(), ".dpapi");
  EXPECT_EQ(readAll(secret_file).find("s3cret"), std::string::npos);
  EXPECT_EQ(readAll(password_file).find("ssword1"), std::string::npos);
  EXPECT_EQ(*winsvc::readSecretFile(secret_file, "enroll_secret_file"), "s3cret");
  EXPECT_EQ(*winsvc::readSecretFile(password_file, "password_file"), "P\xC3\xA4ssword1");
  EXPECT_FALSE(has(L"EnrollSecret"));
  EXPECT_FALSE(has(L"BindPassword"));
  EXPECT_TRUE(has(L"ControlPlaneUrl"));
}

TEST_F(InstallerSettingsTest, UpgradeWithoutPropertiesKeepsTheConfiguration) {
  set(L"ControlPlaneUrl", L"https://cp.example:8443");
  set(L"LdapUrl", L"ldaps://dc1.example.test");
  ASSERT_TRUE(winsvc::applyInstallerSettings(HKEY_CURRENT_USER, key_, paths_));
  RegDeleteTreeW(HKEY_CURRENT_USER, key_.c_str());
  set(L"ControlPlaneUrl", L"");  // MSI property not given on the upgrade
  bool changed = true;
  ASSERT_TRUE(winsvc::applyInstallerSettings(HKEY_CURRENT_USER, key_, paths_, &changed));
  EXPECT_FALSE(changed);
  EXPECT_EQ(config().at("control_plane_url"), "https://cp.example:8443");
  EXPECT_EQ(config().at("ldap_url"), "ldaps://dc1.example.test");
}

TEST_F(InstallerSettingsTest, TheAgentConfigLoadsTheProtectedPassword) {
  set(L"LdapUrl", L"ldaps://dc1.example.test");
  set(L"BindDn", L"svc-tenure@example.test");
  set(L"BindPassword", L"Bind-Pw-7");
  set(L"UsersBaseDn", L"OU=Staff,DC=example,DC=test");
  ASSERT_TRUE(winsvc::applyInstallerSettings(HKEY_CURRENT_USER, key_, paths_));
  auto loaded = loadAgentConfig(paths_.config.string(), &winsvc::readSecretFile);
  ASSERT_TRUE(loaded.isOk()) << loaded.status().toString();
  EXPECT_EQ(loaded->ldap.password, "Bind-Pw-7");
  // The plain reader (Linux) gets the blob, not the password: the DPAPI reader is what decrypts.
  auto plain = loadAgentConfig(paths_.config.string());
  ASSERT_TRUE(plain.isOk()) << plain.status().toString();
  EXPECT_NE(plain->ldap.password, "Bind-Pw-7");
}

TEST_F(InstallerSettingsTest, SetPasswordReplacesTheStoredPassword) {
  set(L"BindPassword", L"old-password");
  ASSERT_TRUE(winsvc::applyInstallerSettings(HKEY_CURRENT_USER, key_, paths_));
  ASSERT_TRUE(winsvc::storeSecret(paths_, winsvc::kPasswordField, "new-password"));
  const std::string file(config().at("password_file").as_string());
  EXPECT_EQ(*winsvc::readSecretFile(file, "password_file"), "new-password");
  EXPECT_EQ(readAll(file).find("new-password"), std::string::npos);
}

TEST_F(InstallerSettingsTest, ABlobForOneSecretDoesNotPassForAnother) {
  ASSERT_TRUE(winsvc::storeSecret(paths_, winsvc::kEnrollSecretField, "enroll-me"));
  const std::string file(config().at("enroll_secret_file").as_string());
  auto r = winsvc::readSecretFile(file, "password_file");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kConfig) << r.status().toString();
}

TEST_F(InstallerSettingsTest, PlainSecretsOfAnOlderAgentAreProtectedAndDeleted) {
  // What agents before DPAPI-protected secrets left behind: plain files in the state directory.
  fs::create_directories(paths_.state_dir);
  const fs::path old_pw = paths_.state_dir / "ldap_password";
  const fs::path old_secret = paths_.state_dir / "enroll_secret";
  std::ofstream(old_pw, std::ios::binary) << "legacy-pw";
  std::ofstream(old_secret, std::ios::binary) << "legacy-secret";
  boost::json::object c{{"ldap_url", "ldaps://dc1"}, {"password_file", old_pw.string()},
                        {"enroll_secret_file", old_secret.string()}};
  std::ofstream(paths_.config, std::ios::binary) << boost::json::serialize(c);
  bool changed = false;
  ASSERT_TRUE(winsvc::protectPlainSecrets(paths_, &changed));
  EXPECT_TRUE(changed);
  EXPECT_FALSE(fs::exists(old_pw));
  EXPECT_FALSE(fs::exists(old_secret));
  const auto after = config();
  EXPECT_EQ(after.at("ldap_url"), "ldaps://dc1");
  EXPECT_EQ(*winsvc::readSecretFile(std::string(after.at("password_file").as_string()),
                                    "password_file"),
            "legacy-pw");
  EXPECT_EQ(*winsvc::readSecretFile(std::string(after.at("enroll_secret_file").as_string()),
                                    "enroll_secret_file"),
            "legacy-secret");
  ASSERT_TRUE(winsvc::protectPlainSecrets(paths_, &changed));
  EXPECT_FALSE(changed);
}

TEST_F(InstallerSettingsTest, UninstallRemovesTheStateUnlessAskedToKeepIt) {
  set(L"ControlPlaneUrl", L"https://cp.example:8443");
  set(L"BindPassword", L"pw");
  ASSERT_TRUE(winsvc::applyInstallerSettings(HKEY_CURRENT_USER, key_, paths_));
  bool removed = true;
  ASSERT_TRUE(winsvc::removeAgentState(paths_, /*keep=*/true, &removed));
  EXPECT_FALSE(removed);
  EXPECT_TRUE(fs::exists(paths_.config));
  ASSERT_TRUE(winsvc::removeAgentState(paths_, /*keep=*/false, &removed));
  EXPECT_TRUE(removed);
  EXPECT_FALSE(fs::exists(paths_.data_dir));
}

TEST_F(InstallerSettingsTest, KeepStateGivenAtInstallIsRememberedForTheUninstall) {
  set(L"KeepState", L"1");
  ASSERT_TRUE(winsvc::applyInstallerSettings(HKEY_CURRENT_USER, key_, paths_));
  set(L"KeepState", L"");  // an upgrade without the property keeps the choice
  ASSERT_TRUE(winsvc::applyInstallerSettings(HKEY_CURRENT_USER, key_, paths_));
  bool removed = true;
  ASSERT_TRUE(winsvc::removeAgentState(paths_, /*keep=*/false, &removed));
  EXPECT_FALSE(removed);
  EXPECT_TRUE(fs::exists(paths_.config));
  set(L"KeepState", L"0");
  ASSERT_TRUE(winsvc::applyInstallerSettings(HKEY_CURRENT_USER, key_, paths_));
  ASSERT_TRUE(winsvc::removeAgentState(paths_, /*keep=*/false, &removed));
  EXPECT_TRUE(removed);
}

TEST_F(InstallerSettingsTest, TheServiceStartClearsTheUpgradeMarker) {
  set(winsvc::kUpgradeMarker, L"{6B0E51F4-0000-0000-0000-000000000000}");
  ASSERT_TRUE(has(winsvc::kUpgradeMarker));
  ASSERT_TRUE(winsvc::applyInstallerSettings(HKEY_CURRENT_USER, key_, paths_));
  EXPECT_FALSE(has(winsvc::kUpgradeMarker));
}

TEST_F(InstallerSettingsTest, MissingKeyChangesNothing) {
  bool changed = true;
  ASSERT_TRUE(winsvc::applyInstallerSettings(HKEY_CURRENT_USER, key_, paths_, &changed));
  EXPECT_FALSE(changed);
  EXPECT_FALSE(fs::exists(paths_.config));
}

TEST(WldapUrl, ParsesHostPortAndScheme) {
  auto p = WldapDirectoryClient::parseUrl("ldaps://dc1.example.test:1636");
  ASSERT_TRUE(p.isOk());
  EXPECT_EQ(p->scheme, "ldaps");
  EXPECT_EQ(p->host, "dc1.example.test");
  EXPECT_EQ(p->port, 1636);
  auto d = WldapDirectoryClient::parseUrl("ldap://127.0.0.1");
  ASSERT_TRUE(d.isOk());
  EXPECT_EQ(d->port, 389);
  EXPECT_FALSE(WldapDirectoryClient::parseUrl("http://dc1").isOk());
  EXPECT_FALSE(WldapDirectoryClient::parseUrl("ldap://:389").isOk());
}

TEST(WldapClient, PlainLdapIsRefusedUnlessAllowed) {
  LdapSettings s;
  s.url = "ldap://127.0.0.1:1";
  s.start_tls = false;
  WldapDirectoryClient client(s);
  Status st = client.connect();
  EXPECT_EQ(st.errorClass(), ErrorClass::kConfig) << st.toString();
}

TEST(WldapClient, UnreachableServerIsTransient) {
  LdapSettings s;
  s.url = "ldap://127.0.0.1:1";
  s.start_tls = false;
  s.allow_plain = true;
  s.timeout_s = 2;
  WldapDirectoryClient client(s);
  Status st = client.connect();
  EXPECT_EQ(st.errorClass(), ErrorClass::kTransient) << st.toString();
}

}  // namespace
}  // namespace tenure::agent
