// userAttributes() against an in-memory schema shaped like AD's: user inherits from
// organizationalPerson, person and top, and pulls in auxiliary classes; unrelated classes add
// nothing.
#include "agent/directory/schema.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/mocks/fake_directory_client.h"

namespace tenure::agent {
namespace {

constexpr char kDomain[] = "DC=example,DC=test";
constexpr char kSchema[] = "CN=Schema,CN=Configuration,DC=example,DC=test";

using Values = std::vector<std::string>;

class SchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DirectoryEntry root;
    root.dn = "";
    root.attributes["objectClass"] = {"top"};
    root.attributes["schemaNamingContext"] = {kSchema};
    dir_.seed(root);
    dir_.addOu(kSchema);
    addClass("Top", "top",
             {{"subClassOf", {"top"}},
              {"systemMustContain", {"objectClass"}},
              {"systemMayContain", {"cn", "description"}}});
    addClass("Person", "person",
             {{"subClassOf", {"top"}},
              {"mustContain", {"cn"}},
              {"mayContain", {"sn", "telephoneNumber"}}});
    addClass("Organizational-Person", "organizationalPerson",
             {{"subClassOf", {"person"}}, {"mayContain", {"givenName", "department", "manager"}}});
    addClass("User", "user",
             {{"subClassOf", {"organizationalPerson"}},
              {"systemAuxiliaryClass", {"securityPrincipal"}},
              {"auxiliaryClass", {"mailRecipient"}},
              {"mayContain", {"employeeID", "accountExpires"}},
              {"systemMayContain", {"userAccountControl"}}});
    addClass("Security-Principal", "securityPrincipal",
             {{"subClassOf", {"top"}}, {"systemMustContain", {"sAMAccountName"}}});
    addClass("Mail-Recipient", "mailRecipient",
             {{"subClassOf", {"top"}}, {"mayContain", {"proxyAddresses", "mail"}}});
    addClass("Group", "group", {{"subClassOf", {"top"}}, {"mayContain", {"member", "groupType"}}});
  }

  void addClass(const std::string& cn, const std::string& name,
                std::vector<std::pair<std::string, Values>> attributes) {
    DirectoryEntry e;
    e.dn = "CN=" + cn + "," + kSchema;
    e.attributes["objectClass"] = {"top", "classSchema"};
    e.attributes["lDAPDisplayName"] = {name};
    for (auto& [attr, values] : attributes) e.attributes[attr] = std::move(values);
    dir_.seed(std::move(e));
  }

  // Gives the User class the attributes Exchange setup adds (proxyAddresses comes with
  // mailRecipient).
  void extendWithExchange(Values extra = {"mailNickname", "targetAddress",
                                          "msExchHideFromAddressLists"}) {
    DirectoryEntry user = *dir_.find(std::string("CN=User,") + kSchema);
    auto& may = user.attributes["mayContain"];
    may.insert(may.end(), extra.begin(), extra.end());
    dir_.seed(std::move(user));
  }

  testing::FakeDirectoryClient dir_;
};

TEST_F(SchemaTest, CollectsAttributesOfUserItsSuperclassesAndAuxiliaryClasses) {
  auto attrs = userAttributes(dir_, kDomain);
  ASSERT_TRUE(attrs.isOk()) << attrs.status().toString();
  const AttributeSet expected = {"objectClass",        "cn",
                                 "description",        "sn",
                                 "telephoneNumber",    "givenName",
                                 "department",         "manager",
                                 "employeeID",         "accountExpires",
                                 "userAccountControl", "sAMAccountName",
                                 "proxyAddresses",     "mail"};
  EXPECT_EQ(*attrs, expected);
}

TEST_F(SchemaTest, AttributeNamesCompareCaseInsensitively) {
  auto attrs = userAttributes(dir_, kDomain);
  ASSERT_TRUE(attrs.isOk()) << attrs.status().toString();
  EXPECT_EQ(attrs->count("EMPLOYEEID"), 1u);
  EXPECT_EQ(attrs->count("samaccountname"), 1u);
}

TEST_F(SchemaTest, AttributesOfUnrelatedClassesAreNotIncluded) {
  auto attrs = userAttributes(dir_, kDomain);
  ASSERT_TRUE(attrs.isOk()) << attrs.status().toString();
  EXPECT_EQ(attrs->count("member"), 0u);
  EXPECT_EQ(attrs->count("groupType"), 0u);
}

TEST_F(SchemaTest, ExchangeAttributesAreReportedOnlyWhenTheSchemaHasThem) {
  auto plain = userAttributes(dir_, kDomain);
  ASSERT_TRUE(plain.isOk()) << plain.status().toString();
  EXPECT_FALSE(hasExchangeAttributes(*plain));

  extendWithExchange();
  auto extended = userAttributes(dir_, kDomain);
  ASSERT_TRUE(extended.isOk()) << extended.status().toString();
  EXPECT_TRUE(hasExchangeAttributes(*extended));
}

TEST_F(SchemaTest, APartialExchangeSchemaDoesNotCount) {
  extendWithExchange({"mailNickname", "targetAddress"});
  auto attrs = userAttributes(dir_, kDomain);
  ASSERT_TRUE(attrs.isOk()) << attrs.status().toString();
  EXPECT_FALSE(hasExchangeAttributes(*attrs));
  EXPECT_FALSE(
      hasExchangeAttributes({"mailNickname", "targetAddress", "msExchHideFromAddressLists"}));
  EXPECT_TRUE(hasExchangeAttributes(
      {"MAILNICKNAME", "targetaddress", "proxyAddresses", "msExchHideFromAddressLists"}));
}

TEST_F(SchemaTest, ReadsTheSchemaWhereTheRootDseSaysItIs) {
  const std::string elsewhere = "CN=Schema,CN=Configuration,DC=forest-root,DC=test";
  DirectoryEntry root;
  root.dn = "";
  root.attributes["objectClass"] = {"top"};
  root.attributes["schemaNamingContext"] = {elsewhere};
  dir_.seed(root);
  dir_.addOu(elsewhere);
  auto attrs = userAttributes(dir_, kDomain);
  ASSERT_FALSE(attrs.isOk());  // the classes live under kSchema, not where the rootDSE points
  EXPECT_EQ(attrs.status().errorClass(), ErrorClass::kNotFound);
  EXPECT_NE(attrs.status().message().find(elsewhere), std::string::npos);
}

TEST_F(SchemaTest, FallsBackToTheDomainsConfigurationWhenTheRootDseIsSilent) {
  testing::FakeDirectoryClient no_root_dse;
  no_root_dse.addOu(kSchema);
  for (const char* cls :
       {"top", "person", "organizationalPerson", "user", "securityPrincipal", "mailRecipient"}) {
    DirectoryEntry e;
    e.dn = std::string("CN=") + cls + "," + kSchema;
    e.attributes["objectClass"] = {"classSchema"};
    e.attributes["lDAPDisplayName"] = {cls};
    no_root_dse.seed(e);
  }
  DirectoryEntry user = *no_root_dse.find(std::string("CN=user,") + kSchema);
  user.attributes["mayContain"] = {"employeeID"};
  user.attributes["subClassOf"] = {"organizationalPerson"};
  no_root_dse.seed(user);
  auto attrs = userAttributes(no_root_dse, kDomain);
  ASSERT_TRUE(attrs.isOk()) << attrs.status().toString();
  EXPECT_EQ(*attrs, AttributeSet{"employeeID"});
}

TEST_F(SchemaTest, AMissingSuperclassIsNotFound) {
  addClass("User", "user", {{"subClassOf", {"organizationalPersonX"}}});
  auto attrs = userAttributes(dir_, kDomain);
  ASSERT_FALSE(attrs.isOk());
  EXPECT_EQ(attrs.status().errorClass(), ErrorClass::kNotFound);
  EXPECT_NE(attrs.status().message().find("organizationalPersonX"), std::string::npos);
}

TEST_F(SchemaTest, ClassNamesThatWouldNeedEscapingAreRefused) {
  addClass("User", "user", {{"subClassOf", {"person)(objectClass=*"}}});
  auto attrs = userAttributes(dir_, kDomain);
  ASSERT_FALSE(attrs.isOk());
  EXPECT_EQ(attrs.status().errorClass(), ErrorClass::kData);
}

TEST_F(SchemaTest, ADirectoryFailureIsPassedOn) {
  dir_.failWhen("search", "classSchema", transientError("server busy", 51));
  auto attrs = userAttributes(dir_, kDomain);
  ASSERT_FALSE(attrs.isOk());
  EXPECT_EQ(attrs.status().errorClass(), ErrorClass::kTransient);
  EXPECT_EQ(attrs.status().nativeCode(), 51);
}

TEST_F(SchemaTest, ReadsTheClassGraphInOneSearchPerLevel) {
  const int before = dir_.searchCount();
  ASSERT_TRUE(userAttributes(dir_, kDomain).isOk());
  // rootDSE, then user; organizationalPerson + securityPrincipal + mailRecipient; person + top;
  // top's self-reference is not searched again.
  EXPECT_EQ(dir_.searchCount() - before, 4);
}

}  // namespace
}  // namespace tenure::agent
