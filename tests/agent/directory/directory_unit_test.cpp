// Parts of the LDAP directory client that need no server: error mapping, unicodePwd encoding,
// entries, and settings refused before any connection is made.
#include <gtest/gtest.h>

#include <string>

#include "agent/directory/posix/ldap_directory_client.h"
#include "agent/directory/unicode_pwd.h"

namespace tenure::agent {
namespace {

using namespace std::string_literals;

TEST(ErrorFromLdap, ClassifiesResultCodesAsTheInterfacePromises) {
  struct Case {
    int rc;
    ErrorClass cls;
  };
  for (auto [rc, cls] :
       {Case{68, ErrorClass::kConflict}, Case{20, ErrorClass::kConflict},
        Case{49, ErrorClass::kPermission}, Case{50, ErrorClass::kPermission},
        Case{32, ErrorClass::kNotFound}, Case{51, ErrorClass::kTransient},
        Case{52, ErrorClass::kTransient}, Case{-1, ErrorClass::kTransient},
        Case{-5, ErrorClass::kTransient}, Case{-11, ErrorClass::kTransient},
        Case{19, ErrorClass::kData}, Case{21, ErrorClass::kData}, Case{53, ErrorClass::kData},
        Case{64, ErrorClass::kData}, Case{65, ErrorClass::kData}, Case{1, ErrorClass::kInternal},
        Case{66, ErrorClass::kInternal}, Case{-7, ErrorClass::kInternal}}) {
    EXPECT_EQ(errorFromLdap(rc, "").errorClass(), cls) << "rc " << rc;
  }
  EXPECT_TRUE(errorFromLdap(0, "").isOk());
}

TEST(DirectoryResultPredicates, NameWhatTheDirectorysAnswersMean) {
  EXPECT_TRUE(isAlreadyExists(errorFromLdap(68, "")));
  EXPECT_TRUE(isNoSuchObject(errorFromLdap(32, "")));
  EXPECT_TRUE(isAttributeOrValueExists(errorFromLdap(20, "")));
  EXPECT_TRUE(isValueAlreadyGone(errorFromLdap(16, "")));
  EXPECT_TRUE(isValueAlreadyGone(errorFromLdap(53, "")));
  for (int rc : {0, 1, 19, 21, 49, 50, 51, 64, 65, 81}) {
    const Status st = errorFromLdap(rc, "");
    EXPECT_FALSE(isAlreadyExists(st) || isNoSuchObject(st) || isAttributeOrValueExists(st) ||
                 isValueAlreadyGone(st))
        << "rc " << rc;
  }
}

TEST(ErrorFromLdap, NormalizesOpenLdapClientCodesToCApiNumbers) {
  EXPECT_EQ(normalizeLdapCode(-1), 81);
  EXPECT_EQ(normalizeLdapCode(-5), 85);
  EXPECT_EQ(normalizeLdapCode(-11), 91);
  EXPECT_EQ(normalizeLdapCode(49), 49);
  EXPECT_EQ(errorFromLdap(-1, "").nativeCode(), 81);
}

TEST(ErrorFromLdap, KeepsContextAndTheServersDiagnostic) {
  Status s = errorFromLdap(49,
                           "80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext "
                           "error, data 52e, v4563",
                           "bind as x");
  EXPECT_EQ(s.nativeCode(), 49);
  EXPECT_NE(s.message().find("bind as x"), std::string::npos);
  EXPECT_NE(s.message().find("Invalid credentials"), std::string::npos);
  EXPECT_NE(s.message().find("data 52e"), std::string::npos);
}

TEST(EncodeUnicodePwd, QuotesThePasswordAndEncodesUtf16Le) {
  EXPECT_EQ(encodeUnicodePwd("ab"), "\"\0a\0b\0\"\0"s);
  EXPECT_EQ(encodeUnicodePwd(""), "\"\0\"\0"s);
  EXPECT_EQ(encodeUnicodePwd("Ж"), "\"\0\x16\x04\"\0"s);
  // U+1F600 needs a surrogate pair: D83D DE00.
  EXPECT_EQ(encodeUnicodePwd("😀"), "\"\0\x3d\xd8\x00\xde\"\0"s);
}

TEST(EncodeUnicodePwd, ReplacesIllFormedUtf8) {
  EXPECT_EQ(encodeUnicodePwd("\xff"), "\"\0\xfd\xff\"\0"s);
  EXPECT_FALSE(isWellFormedUtf8("a\xff"));
  EXPECT_FALSE(isWellFormedUtf8("\xed\xa0\x80"));  // a UTF-16 surrogate
  EXPECT_TRUE(isWellFormedUtf8("Пароль1 密码 \xef\xbf\xbd"));
}

TEST(DirectoryEntry, LooksUpAttributesCaseInsensitively) {
  DirectoryEntry e;
  e.attributes["sAMAccountName"] = {"jdoe"};
  e.attributes["member"] = {};
  EXPECT_EQ(e.first("samaccountname"), "jdoe");
  EXPECT_TRUE(e.has("SAMACCOUNTNAME"));
  EXPECT_EQ(e.first("mail"), "");
  EXPECT_FALSE(e.has("mail"));
  EXPECT_FALSE(e.has("member"));  // present but empty counts as absent
  EXPECT_EQ(e.attributes.count("MEMBER"), 1u);
}

TEST(LdapDirectoryClient, ServerNameIsTheUrlHost) {
  LdapSettings s;
  s.url = "ldaps://dc1.example.test:636";
  EXPECT_EQ(LdapDirectoryClient(s).serverName(), "dc1.example.test");
}

TEST(LdapDirectoryClient, RefusesPlainLdapUnlessAllowed) {
  LdapSettings s;
  s.url = "ldap://127.0.0.1:1";
  s.start_tls = false;
  Status st = LdapDirectoryClient(s).connect();
  EXPECT_EQ(st.errorClass(), ErrorClass::kConfig) << st.toString();
  EXPECT_NE(st.message().find("unencrypted"), std::string::npos);
}

TEST(LdapDirectoryClient, RejectsUrlsThatAreNotLdap) {
  for (const char* url : {"https://dc1", "not a url", "ldaps://"}) {
    LdapSettings s;
    s.url = url;
    EXPECT_EQ(LdapDirectoryClient(s).connect().errorClass(), ErrorClass::kConfig) << url;
  }
}

TEST(LdapDirectoryClient, AMissingCaFileIsAConfigError) {
  LdapSettings s;
  s.url = "ldaps://127.0.0.1:1";
  s.ca_file = "/nonexistent/ca.pem";
  Status st = LdapDirectoryClient(s).connect();
  EXPECT_EQ(st.errorClass(), ErrorClass::kConfig) << st.toString();
}

TEST(LdapDirectoryClient, AnUnreachableServerIsTransient) {
  LdapSettings s;
  s.url = "ldap://127.0.0.1:1";  // nothing listens on port 1
  s.allow_plain = true;
  s.start_tls = false;
  s.timeout_s = 2;
  LdapDirectoryClient client(s);
  Status st = client.connect();
  EXPECT_EQ(st.errorClass(), ErrorClass::kTransient) << st.toString();
  EXPECT_EQ(st.nativeCode(), 81);
  auto r = client.search("DC=x", SearchScope::kBase, "(objectClass=*)", {});
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kTransient);
}

}  // namespace
}  // namespace tenure::agent
