#include "common/ldap/escape.h"

#include <gtest/gtest.h>

#include <string>

namespace tenure::ldap {
namespace {

using namespace std::string_literals;

TEST(EscapeDnValue, LeavesPlainValuesAlone) {
  EXPECT_EQ(escapeDnValue("Jane Doe"), "Jane Doe");
  EXPECT_EQ(escapeDnValue(""), "");
  EXPECT_EQ(escapeDnValue("a#b"), "a#b");  // '#' only matters at the start
}

TEST(EscapeDnValue, EscapesEverySpecialCharacterWithABackslash) {
  EXPECT_EQ(escapeDnValue("Doe, Jane"), "Doe\\, Jane");
  EXPECT_EQ(escapeDnValue(",+\"\\<>;="), "\\,\\+\\\"\\\\\\<\\>\\;\\=");
}

TEST(EscapeDnValue, EscapesLeadingSpaceOrHashAndTrailingSpace) {
  EXPECT_EQ(escapeDnValue(" Jane"), "\\ Jane");
  EXPECT_EQ(escapeDnValue("#1 fan"), "\\#1 fan");
  EXPECT_EQ(escapeDnValue("Jane "), "Jane\\ ");
  EXPECT_EQ(escapeDnValue(" "), "\\ ");
  EXPECT_EQ(escapeDnValue("  "), "\\ \\ ");
  EXPECT_EQ(escapeDnValue("a  b"), "a  b");
}

TEST(EscapeDnValue, HexEscapesNulAndControlCharacters) {
  EXPECT_EQ(escapeDnValue("a\0b"s), "a\\00b");
  EXPECT_EQ(escapeDnValue("a\nb\x7f"), "a\\0Ab\\7F");
}

TEST(EscapeDnValue, PassesUtf8ThroughButHexEscapesInvalidBytes) {
  EXPECT_EQ(escapeDnValue("Иван Петров"), "Иван Петров");
  EXPECT_EQ(escapeDnValue("王小明"), "王小明");
  EXPECT_EQ(escapeDnValue("😀"), "😀");
  EXPECT_EQ(escapeDnValue("a\xff"), "a\\FF");
  EXPECT_EQ(escapeDnValue("\xc0\xaf"), "\\C0\\AF");  // overlong '/'
}

TEST(EscapeFilterValue, EscapesTheFilterMetacharactersAsHex) {
  EXPECT_EQ(escapeFilterValue("*"), "\\2a");
  EXPECT_EQ(escapeFilterValue("a(b)c"), "a\\28b\\29c");
  EXPECT_EQ(escapeFilterValue("C:\\dir"), "C:\\5cdir");
  EXPECT_EQ(escapeFilterValue("a\0b"s), "a\\00b");
  EXPECT_EQ(escapeFilterValue("*)(uid=*))(|(uid=*"),
            "\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a");
}

TEST(EscapeFilterValue, LeavesDnSpecialsAndUtf8Alone) {
  EXPECT_EQ(escapeFilterValue("Doe, Jane+\"<>;=#"), "Doe, Jane+\"<>;=#");
  EXPECT_EQ(escapeFilterValue("Иван"), "Иван");
  EXPECT_EQ(escapeFilterValue("\xfe"), "\\fe");
}

TEST(EscapeFilterBytes, HexEscapesEveryByte) {
  EXPECT_EQ(escapeFilterBytes("\x01\xab"
                              "A"),
            "\\01\\ab\\41");
}

TEST(MakeRdn, JoinsTypeAndEscapedValue) { EXPECT_EQ(makeRdn("CN", "Doe, Jane"), "CN=Doe\\, Jane"); }

TEST(ParseDn, SplitsIntoUnescapedRdns) {
  auto r = parseDn("CN=Doe\\, Jane,OU=Users,DC=example,DC=test");
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0], (Rdn{"CN", "Doe, Jane"}));
  EXPECT_EQ((*r)[1], (Rdn{"OU", "Users"}));
  EXPECT_EQ((*r)[3], (Rdn{"DC", "test"}));
}

TEST(ParseDn, UnderstandsHexEscapes) {
  auto r = parseDn("CN=Doe\\2C Jane\\2b\\5C,DC=x");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ((*r)[0].value, "Doe, Jane+\\");
}

TEST(ParseDn, DecodesHexEscapedUtf8) {
  auto r = parseDn("CN=\\D0\\98\\D0\\B2\\D0\\B0\\D0\\BD,DC=x");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ((*r)[0].value, "Иван");
}

TEST(ParseDn, IgnoresWhitespaceAroundSeparatorsButKeepsEscapedSpaces) {
  auto r = parseDn("  CN = Jane Doe ,  OU=Users  ");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ((*r)[0], (Rdn{"CN", "Jane Doe"}));
  EXPECT_EQ((*r)[1], (Rdn{"OU", "Users"}));

  auto escaped = parseDn("CN=\\ Jane\\ ,OU=x\\20");
  ASSERT_TRUE(escaped.isOk());
  EXPECT_EQ((*escaped)[0].value, " Jane ");
  EXPECT_EQ((*escaped)[1].value, "x ");
}

TEST(ParseDn, RoundTripsEveryEscapedValue) {
  for (const std::string& v :
       std::initializer_list<std::string>{"Doe, Jane", " lead", "trail ", "#hash", ",+\"\\<>;=#",
                                          "a\0b"s, "王小明", " ", "x\\", "\\"}) {
    auto r = parseDn(makeRdn("CN", v) + ",DC=example,DC=test");
    ASSERT_TRUE(r.isOk()) << v << ": " << r.status().toString();
    ASSERT_EQ(r->size(), 3u) << v;
    EXPECT_EQ((*r)[0].value, v);
  }
}

TEST(ParseDn, EmptyDnHasNoRdns) {
  auto r = parseDn("");
  ASSERT_TRUE(r.isOk());
  EXPECT_TRUE(r->empty());
}

TEST(ParseDn, AcceptsAnEmptyValue) {
  auto r = parseDn("CN=,DC=x");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ((*r)[0].value, "");
}

TEST(ParseDn, RejectsMalformedDnsAsDataErrors) {
  for (std::string_view bad : {"CN", "=x", "CN=x,", "CN=x\\", "CN=x\\q", "CN=a+UID=b", "C N=x",
                               "CN=#0401", "CN=x,,DC=y"}) {
    auto r = parseDn(bad);
    EXPECT_FALSE(r.isOk()) << bad;
    EXPECT_EQ(r.status().errorClass(), ErrorClass::kData) << bad;
  }
}

TEST(ParentDn, DropsTheFirstRdnRespectingEscapes) {
  EXPECT_EQ(parentDn("CN=Doe\\, Jane,OU=Users,DC=x"), "OU=Users,DC=x");
  EXPECT_EQ(parentDn("CN=a\\\\,OU=b"), "OU=b");
  EXPECT_EQ(parentDn("CN=a, OU=b"), "OU=b");
  EXPECT_EQ(parentDn("DC=x"), "");
  EXPECT_EQ(parentDn(""), "");
}

TEST(RdnOf, ReturnsTheFirstRdnStillEscaped) {
  EXPECT_EQ(rdnOf("CN=Doe\\, Jane,OU=Users,DC=x"), "CN=Doe\\, Jane");
  EXPECT_EQ(rdnOf("CN=x\\ ,OU=y"), "CN=x\\ ");
  EXPECT_EQ(rdnOf(" CN=x ,OU=y"), "CN=x");
  EXPECT_EQ(rdnOf("DC=x"), "DC=x");
}

TEST(DnEquals, IgnoresCaseWhitespaceAndEscapeForm) {
  EXPECT_TRUE(dnEquals("CN=Doe\\, Jane,OU=Users,DC=example,DC=test",
                       "cn=doe\\2c jane, ou=users, dc=EXAMPLE, dc=test"));
  EXPECT_TRUE(dnEquals("CN=a\\+b,DC=x", "CN=a\\2Bb,DC=x"));
  EXPECT_TRUE(dnEquals("CN=Jane,DC=x", "CN=Jane ,DC=x"));
  EXPECT_TRUE(dnEquals("", ""));
}

TEST(DnEquals, DistinguishesDifferentEntries) {
  EXPECT_FALSE(dnEquals("CN=Jane,OU=Users,DC=x", "CN=Jane,OU=Leavers,DC=x"));
  EXPECT_FALSE(dnEquals("CN=Jane\\ ,DC=x", "CN=Jane,DC=x"));
  EXPECT_FALSE(dnEquals("CN=Jane,DC=x", "OU=Jane,DC=x"));
  EXPECT_FALSE(dnEquals("CN=Jane,DC=x", "CN=Jane,DC=x,DC=y"));
}

TEST(DnEquals, FallsBackToExactComparisonForUnparsableDns) {
  EXPECT_TRUE(dnEquals("garbage", "garbage"));
  EXPECT_FALSE(dnEquals("garbage", "GARBAGE"));
}

}  // namespace
}  // namespace tenure::ldap
