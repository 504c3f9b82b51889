#include "common/lifecycle/naming.h"

#include <gtest/gtest.h>

#include "common/policy/policy.h"

#include "common/lifecycle/desired_account.h"

namespace tenure::lifecycle {
namespace {

hr::HrRecord person(std::string given, std::string family, std::string preferred = "",
                    std::string id = "E1") {
  hr::HrRecord r;
  r.employee_id = std::move(id);
  r.given_name = std::move(given);
  r.family_name = std::move(family);
  r.preferred_name = std::move(preferred);
  return r;
}

struct SamCase {
  const char* given;
  const char* family;
  const char* preferred;
  const char* expected;
};

TEST(SamAccountBase, FollowsTheNamingTable) {
  const SamCase cases[] = {
      {"Patrick", "O'Brien", "", "pobrien"},
      {"John", "Smith, Jr.", "", "jsmithjr"},
      {"Zoë", "Ångström", "", "zangstroem"},
      {"Łukasz", "Żółć", "", "lzolc"},
      {"José", "Núñez", "", "jnunez"},
      {"Jürgen", "Müller-Lüdenscheidt", "", "jmuellerluedenscheid"},  // 20 chars
      {"Åse", "Ødegård", "", "aodegard"},
      {"Þóra", "Þórsdóttir", "", "tthorsdottir"},
      {"Đorđe", "Đoković", "", "ddokovic"},
      {"Aeneas", "Straße", "", "astrasse"},
      {"Elizabeth", "Windsor", "Lilibet", "lwindsor"},
      {"Nguyễn", "Trần", "", "ntran"},
      {"Jane", "Doe van der Berg-Smithson", "", "jdoevanderbergsmiths"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(samAccountBase(person(c.given, c.family, c.preferred)), c.expected)
        << c.given << " " << c.family;
  }
}

TEST(SamAccountBase, NonLatinNamesFallBackToEmployeeId) {
  EXPECT_EQ(samAccountBase(person("伟", "王", "", "CN-0042")), "ucn0042");
  // Latin family name with a non-Latin given name keeps the family name.
  EXPECT_EQ(samAccountBase(person("伟", "Wang")), "wang");
}

TEST(Transliterate, KeepsCaseAndHandlesDecomposedUmlauts) {
  EXPECT_EQ(transliterate("Ärger Öl Übel"), "Aerger Oel Uebel");
  EXPECT_EQ(transliterate("Mu\xCC\x88ller"), "Mueller");  // u + combining diaeresis
  EXPECT_EQ(transliterate("Jose\xCC\x81"), "Jose");
  EXPECT_EQ(transliterate("Œuvre æ ø å ł đ þ"), "Oeuvre ae o a l d th");
  EXPECT_EQ(transliterate("王伟"), "");
}

TEST(SamAccountCandidate, NumbersCollisionsWithinTwentyCharacters) {
  EXPECT_EQ(samAccountCandidate("jsmith", 1), "jsmith");
  EXPECT_EQ(samAccountCandidate("jsmith", 2), "jsmith2");
  const std::string base = "jmuellerluedenscheid";
  ASSERT_EQ(base.size(), 20u);
  EXPECT_EQ(samAccountCandidate(base, 2), "jmuellerluedenschei2");
  EXPECT_EQ(samAccountCandidate(base, 10), "jmuellerluedensche10");
  for (int n = 1; n < 200; ++n) EXPECT_LE(samAccountCandidate(base, n).size(), kMaxSamLength);
}

DesiredAccount desired(const hr::HrRecord& r, std::string users_ou, std::string leavers_ou,
                       std::string upn_suffix) {
  DesiredContext ctx;
  ctx.users_ou = std::move(users_ou);
  ctx.leavers_ou = std::move(leavers_ou);
  ctx.upn_suffix = std::move(upn_suffix);
  ctx.now_unix = 1'750'000'000;
  auto d = desiredAccount(r, policy::defaultPolicy(), ctx);
  EXPECT_TRUE(d.isOk()) << d.status().toString();
  return d.isOk() ? *d : DesiredAccount{};
}

TEST(DesiredAccount, NamesKeepUnicodeAndUseTheUpnSuffix) {
  hr::HrRecord r = person("Zoë", "Ångström", "", "E7");
  r.status = "active";
  DesiredAccount d =
      desired(r, "OU=Staff,DC=example,DC=test", "OU=Leavers,DC=example,DC=test", "example.test");
  EXPECT_EQ(d.sam_account_name, "zangstroem");
  EXPECT_EQ(d.upn, "zangstroem@example.test");
  EXPECT_EQ(d.cn, "Zoë Ångström");
  EXPECT_EQ(d.cn_alternate, "Zoë Ångström (E7)");
  EXPECT_EQ(d.attribute("displayName"), "Zoë Ångström");
  EXPECT_EQ(d.dn(), "CN=Zoë Ångström,OU=Staff,DC=example,DC=test");
  EXPECT_TRUE(d.enabled);
  d.useSamCandidate(2);
  EXPECT_EQ(d.upn, "zangstroem2@example.test");
}

TEST(DesiredAccount, CnIsEscapedInTheDn) {
  DesiredAccount d = desired(person("John", "Smith, Jr."), "OU=Staff,DC=x", "", "x");
  EXPECT_EQ(d.dn(), "CN=John Smith\\, Jr.,OU=Staff,DC=x");
}

TEST(DesiredAccount, TerminatedGoesToLeaversOuDisabled) {
  hr::HrRecord r = person("Jane", "Doe");
  r.status = "terminated";
  DesiredAccount d = desired(r, "OU=Staff,DC=x", "OU=Leavers,DC=x", "x");
  EXPECT_FALSE(d.enabled);
  EXPECT_EQ(d.parent_ou, "OU=Leavers,DC=x");
  d = desired(r, "OU=Staff,DC=x", "", "x");
  EXPECT_EQ(d.parent_ou, "OU=Staff,DC=x");
}

}  // namespace
}  // namespace tenure::lifecycle
