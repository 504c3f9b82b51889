// userAttributes() against the Samba AD fixture, whose golden domain carries the Exchange recipient
// attributes (tests/fixtures/samba-ad.sh): what the schema reading reports is what the directory
// accepts on a user, and what it leaves out the directory refuses.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/directory/posix/ldap_directory_client.h"
#include "agent/directory/schema.h"
#include "common/base/crypto.h"
#include "common/ldap/escape.h"
#include "tests/fixtures/samba_env.h"

namespace tenure::agent {
namespace {

using Op = Modification::Op;

class SchemaSambaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = testing::loadSambaEnv();
    ASSERT_TRUE(env.isOk()) << env.status().toString();
    env_ = *env;
    LdapSettings s;
    s.url = env_.url;
    s.bind_dn = env_.bind_dn;
    s.password = env_.password;
    s.ca_file = env_.ca_file;
    s.timeout_s = 10;
    client_ = std::make_unique<LdapDirectoryClient>(s);
    Status st = client_->connect();
    ASSERT_TRUE(st.isOk()) << st.toString();
  }

  void TearDown() override {
    if (client_ == nullptr) return;
    for (const auto& dn : cleanup_) {
      Status st = client_->remove(dn);
      EXPECT_TRUE(st.isOk() || st.errorClass() == ErrorClass::kNotFound) << st.toString();
    }
  }

  // Adds a (passwordless, disabled) user with `extra` attributes; returns its DN.
  Result<std::string> addUser(const std::vector<Modification>& extra) {
    const std::string sam = "sch" + randomHex(4);
    const std::string dn = ldap::makeRdn("CN", sam) + "," + env_.users_ou;
    std::vector<Modification> attrs = {
        {Op::kAdd, "objectClass", {"top", "person", "organizationalPerson", "user"}},
        {Op::kAdd, "sAMAccountName", {sam}},
        {Op::kAdd, "userAccountControl", {"514"}},
    };
    attrs.insert(attrs.end(), extra.begin(), extra.end());
    RETURN_IF_ERROR(client_->add(dn, attrs));
    cleanup_.push_back(dn);
    return dn;
  }

  Result<DirectoryEntry> read(const std::string& dn, const std::vector<std::string>& attrs) {
    ASSIGN_OR_RETURN(auto entries,
                     client_->search(dn, SearchScope::kBase, "(objectClass=*)", attrs));
    if (entries.size() != 1) return internalError("expected one entry for " + dn);
    return entries.front();
  }

  testing::SambaEnv env_;
  std::unique_ptr<LdapDirectoryClient> client_;
  std::vector<std::string> cleanup_;
};

TEST_F(SchemaSambaTest, UsersMayHoldTheStandardAndTheExchangeAttributes) {
  auto attrs = userAttributes(*client_, env_.base_dn);
  ASSERT_TRUE(attrs.isOk()) << attrs.status().toString();
  for (const char* name : {"sAMAccountName", "userPrincipalName", "givenName", "sn", "displayName",
                           "mail", "department", "title", "manager", "employeeID", "accountExpires",
                           "userAccountControl", "unicodePwd", "proxyAddresses", "objectClass"}) {
    EXPECT_EQ(attrs->count(name), 1u) << name;
  }
  EXPECT_TRUE(hasExchangeAttributes(*attrs));
  for (const char* name :
       {"mailNickname", "targetAddress", "msExchHideFromAddressLists", "msExchRecipientTypeDetails",
        "msExchRemoteRecipientType", "msExchRecipientDisplayType"}) {
    EXPECT_EQ(attrs->count(name), 1u) << name;
  }
  // Attributes of other classes are not a user's.
  EXPECT_EQ(attrs->count("member"), 0u);
  EXPECT_EQ(attrs->count("groupType"), 0u);
}

TEST_F(SchemaSambaTest, TheDirectoryAcceptsTheExchangeAttributesOnAUser) {
  auto dn = addUser({
      {Op::kAdd, "mail", {"ex.test@example.test"}},
      {Op::kAdd, "mailNickname", {"ex.test"}},
      {Op::kAdd, "targetAddress", {"SMTP:ex.test@example.mail.onmicrosoft.com"}},
      {Op::kAdd, "msExchHideFromAddressLists", {"TRUE"}},
      {Op::kAdd, "proxyAddresses", {"SMTP:ex.test@example.test", "smtp:et@example.test"}},
      {Op::kAdd, "msExchRecipientTypeDetails", {"2147483648"}},
      {Op::kAdd, "msExchRemoteRecipientType", {"1"}},
      {Op::kAdd, "msExchRecipientDisplayType", {"-2147483642"}},
  });
  ASSERT_TRUE(dn.isOk()) << dn.status().toString();
  auto e = read(*dn, {"mailNickname", "targetAddress", "msExchHideFromAddressLists",
                      "proxyAddresses", "msExchRecipientTypeDetails", "msExchRemoteRecipientType",
                      "msExchRecipientDisplayType"});
  ASSERT_TRUE(e.isOk()) << e.status().toString();
  EXPECT_EQ(e->first("mailNickname"), "ex.test");
  EXPECT_EQ(e->first("targetAddress"), "SMTP:ex.test@example.mail.onmicrosoft.com");
  EXPECT_EQ(e->first("msExchHideFromAddressLists"), "TRUE");
  EXPECT_EQ(e->first("msExchRecipientTypeDetails"), "2147483648");
  EXPECT_EQ(e->first("msExchRemoteRecipientType"), "1");
  EXPECT_EQ(e->first("msExchRecipientDisplayType"), "-2147483642");
  ASSERT_TRUE(e->has("proxyAddresses"));
  std::vector<std::string> proxies = e->attributes.at("proxyAddresses");
  std::sort(proxies.begin(), proxies.end());
  EXPECT_EQ(proxies,
            (std::vector<std::string>{"SMTP:ex.test@example.test", "smtp:et@example.test"}));

  // A leaver is shown again when rehired; a second address is added to the multi-valued list.
  Status st = client_->modify(*dn, {{Op::kReplace, "msExchHideFromAddressLists", {"FALSE"}},
                                    {Op::kAdd, "proxyAddresses", {"smtp:ex.old@example.test"}}});
  ASSERT_TRUE(st.isOk()) << st.toString();
  e = read(*dn, {"msExchHideFromAddressLists", "proxyAddresses"});
  ASSERT_TRUE(e.isOk()) << e.status().toString();
  EXPECT_EQ(e->first("msExchHideFromAddressLists"), "FALSE");
  EXPECT_EQ(e->attributes.at("proxyAddresses").size(), 3u);
}

TEST_F(SchemaSambaTest, TheDirectoryEnforcesTheExchangeAttributeSyntax) {
  auto dn = addUser({});
  ASSERT_TRUE(dn.isOk()) << dn.status().toString();
  // mailNickname is single-valued, msExchHideFromAddressLists a boolean.
  Status st = client_->modify(*dn, {{Op::kAdd, "mailNickname", {"one", "two"}}});
  EXPECT_FALSE(st.isOk());
  st = client_->modify(*dn, {{Op::kReplace, "msExchHideFromAddressLists", {"maybe"}}});
  EXPECT_FALSE(st.isOk());
  EXPECT_EQ(st.nativeCode(), 21) << st.toString();
}

TEST_F(SchemaSambaTest, AnAttributeTheSchemaReadingLeavesOutIsRefusedByTheDirectory) {
  auto attrs = userAttributes(*client_, env_.base_dn);
  ASSERT_TRUE(attrs.isOk()) << attrs.status().toString();
  // Exchange's mailbox GUID belongs to on-premises mailboxes; the fixture does not add it.
  ASSERT_EQ(attrs->count("msExchMailboxGuid"), 0u);
  auto dn = addUser({{Op::kAdd, "msExchMailboxGuid", {"0123456789abcdef"}}});
  EXPECT_FALSE(dn.isOk());
  // So is an attribute that exists in the schema but belongs to another class.
  ASSERT_EQ(attrs->count("groupType"), 0u);
  dn = addUser({{Op::kAdd, "groupType", {"-2147483646"}}});
  EXPECT_FALSE(dn.isOk());
}

}  // namespace
}  // namespace tenure::agent
