#include "common/policy/name_template.h"

#include <gtest/gtest.h>

#include <set>

namespace tenure::policy {
namespace {

hr::HrRecord person(std::string given, std::string family, std::string preferred = "",
                    std::string id = "E1") {
  hr::HrRecord r;
  r.employee_id = std::move(id);
  r.given_name = std::move(given);
  r.family_name = std::move(family);
  r.preferred_name = std::move(preferred);
  r.employment_type = "employee";
  r.status = "active";
  return r;
}

struct Names {
  std::string sam;
  std::string upn;
  std::string mail;
  std::string display;
  std::string cn;
};

// What the lifecycle engine does (name_template.h): names in order, numbering against `taken`.
Names nameFor(const NamingPolicy& n, const hr::HrRecord& r,
              const std::set<std::string>& taken = {}) {
  NameContext ctx{.record = &r,
                  .computed = {{"upn_suffix", n.upn_suffix}, {"mail_domain", n.mail_domain}}};
  Names out;
  out.display = applyRule(n.display_name, ctx).value();
  ctx.computed["display_name"] = out.display;
  const std::string sam_base = applyRule(n.sam_account_name, ctx).value();
  for (int i = 1;; ++i) {
    out.sam = numberedCandidate(n.sam_account_name, sam_base, i);
    if (!taken.count(out.sam)) break;
  }
  ctx.computed["sam_account_name"] = out.sam;
  out.upn = applyRule(n.user_principal_name, ctx).value();
  const std::string local = applyRule(n.mail, ctx).value();
  for (int i = 1;; ++i) {
    out.mail = numberedCandidate(n.mail, local, i) + "@" + n.mail_domain;
    if (!taken.count(out.mail)) break;
  }
  out.cn = applyRule(n.cn, ctx).value();
  return out;
}

NamingPolicy defaults() {
  NamingPolicy n = defaultPolicy().naming;
  n.upn_suffix = "example.com";
  n.mail_domain = "example.com";
  return n;
}

std::string eval(std::string_view tmpl, const hr::HrRecord& r) {
  auto t = compileTemplate(tmpl);
  EXPECT_TRUE(t.isOk()) << tmpl << ": " << t.status().toString();
  if (!t) return "<error>";
  return t->evaluate(NameContext{.record = &r});
}

TEST(NameHelpers, AsciiAndNonAsciiTextCountAndCaseTheSameWay) {
  EXPECT_EQ(toLowerLatin("Jane O'Brien-SMITH 42"), "jane o'brien-smith 42");
  EXPECT_EQ(toUpperLatin("jane o'brien"), "JANE O'BRIEN");
  EXPECT_EQ(toLowerLatin("ÅSA Ölund"), "åsa ölund");
  EXPECT_EQ(firstCodePoints("Smith", 3), "Smi");
  EXPECT_EQ(firstCodePoints("Smith", 9), "Smith");
  EXPECT_EQ(firstCodePoints("Żółć", 2), "Żó");
  EXPECT_EQ(lastCodePoints("Smith", 2), "th");
  EXPECT_EQ(lastCodePoints("Żółć", 2), "łć");
  // transliterate drops NUL even in otherwise plain ASCII text, and keeps the rest.
  EXPECT_EQ(applyTransform("transliterate", std::string_view("a\0b", 3)), "ab");
  EXPECT_EQ(applyTransform("transliterate", "O'Brien"), "O'Brien");
  EXPECT_EQ(applyTransform("transliterate", "Müller"), "Mueller");
}

TEST(DefaultNaming, AFamilyNameWithNoLatinLettersFallsBackInsteadOfASingleLetter) {
  // "l" alone would be shared by every Liam with a family name in another script.
  EXPECT_EQ(nameFor(defaults(), person("Liam", "王", "", "E77")).sam, "ue77");
  EXPECT_EQ(nameFor(defaults(), person("Li", "O")).sam, "lo") << "two letters are enough";
}

TEST(DefaultNaming, DropsApostrophes) {
  const Names n = nameFor(defaults(), person("Mary", "O'Brien"));
  EXPECT_EQ(n.sam, "mobrien");
  EXPECT_EQ(n.mail, "mary.obrien@example.com");
  EXPECT_EQ(n.display, "Mary O'Brien");
  EXPECT_EQ(n.cn, "Mary O'Brien");
  EXPECT_EQ(n.upn, "mobrien@example.com");
}

TEST(DefaultNaming, TransliteratesUmlautsAndRingsButKeepsDisplayNameInOriginalScript) {
  const Names n = nameFor(defaults(), person("Zoë", "Ångström"));
  EXPECT_EQ(n.sam, "zangstroem");
  EXPECT_EQ(n.mail, "zoe.angstroem@example.com");
  EXPECT_EQ(n.display, "Zoë Ångström");
}

TEST(DefaultNaming, TransliteratesPolishLetters) {
  const Names n = nameFor(defaults(), person("Łukasz", "Żółć"));
  EXPECT_EQ(n.sam, "lzolc");
  EXPECT_EQ(n.mail, "lukasz.zolc@example.com");
}

TEST(DefaultNaming, PreferredNameGivesTheInitialAndDisplayNameButNotTheMail) {
  const Names n = nameFor(defaults(), person("José", "Núñez", "Pepe"));
  EXPECT_EQ(n.sam, "pnunez");
  EXPECT_EQ(n.display, "Pepe Núñez");
  EXPECT_EQ(n.mail, "jose.nunez@example.com");
}

TEST(DefaultNaming, DropsPunctuationAndSpacesOfSuffixes) {
  const Names n = nameFor(defaults(), person("John", "Smith, Jr."));
  EXPECT_EQ(n.sam, "jsmithjr");
  EXPECT_EQ(n.mail, "john.smithjr@example.com");
  EXPECT_EQ(n.display, "John Smith, Jr.");
}

TEST(DefaultNaming, DropsHyphensFromSamAndMail) {
  const Names n = nameFor(defaults(), person("Anna-Lena", "Meyer-Ott"));
  EXPECT_EQ(n.sam, "ameyerott");
  EXPECT_EQ(n.mail, "annalena.meyerott@example.com");
}

TEST(DefaultNaming, CutsSamAtTwentyAndNumbersWithinTwenty) {
  const hr::HrRecord r = person("Jürgen", "Müller-Lüdenscheidt");
  const Names first = nameFor(defaults(), r);
  EXPECT_EQ(first.sam, "jmuellerluedenscheid");
  ASSERT_EQ(first.sam.size(), 20u);
  const Names second = nameFor(defaults(), r, {"jmuellerluedenscheid"});
  EXPECT_EQ(second.sam, "jmuellerluedenschei2");
  EXPECT_EQ(second.upn, "jmuellerluedenschei2@example.com");
  const Names third = nameFor(defaults(), r, {"jmuellerluedenscheid", "jmuellerluedenschei2"});
  EXPECT_EQ(third.sam, "jmuellerluedenschei3");
  for (int i = 1; i < 150; ++i) {
    EXPECT_LE(numberedCandidate(defaults().sam_account_name, first.sam, i).size(), 20u);
  }
  EXPECT_EQ(numberedCandidate(defaults().sam_account_name, first.sam, 10), "jmuellerluedensche10");
}

TEST(DefaultNaming, NumbersMailCollisionsBeforeTheAt) {
  const Names n =
      nameFor(defaults(), person("John", "Smith"), {"jsmith", "john.smith@example.com"});
  EXPECT_EQ(n.sam, "jsmith2");
  EXPECT_EQ(n.mail, "john.smith2@example.com");
}

TEST(DefaultNaming, NamesInChineseScriptFallBackToEmployeeId) {
  const Names n = nameFor(defaults(), person("伟", "王", "", "CN-0042"));
  EXPECT_EQ(n.sam, "ucn0042");
  EXPECT_EQ(n.mail, "ucn0042@example.com");
  EXPECT_EQ(n.display, "伟 王");
  EXPECT_EQ(n.cn, "伟 王");
}

TEST(DefaultNaming, LatinFamilyNameWithChineseGivenNameKeepsTheFamilyName) {
  const Names n = nameFor(defaults(), person("伟", "Wang"));
  EXPECT_EQ(n.sam, "wang");
  EXPECT_EQ(n.mail, "wang@example.com");  // no dangling dot
}

TEST(DefaultNaming, DisplayNameWithoutGivenNameHasNoLeadingSpace) {
  EXPECT_EQ(nameFor(defaults(), person("", "Madonna")).display, "Madonna");
}

TEST(DefaultNaming, CnIsCutAtACodePointBoundary) {
  const std::string family(62, 'a');
  const Names n = nameFor(defaults(), person("Zoë", family + "ö"));
  // "Zoë " + 62 a's + "ö" is 67 code points; the cut keeps 64 whole code points.
  EXPECT_EQ(n.cn, "Zoë " + std::string(60, 'a'));
}

TEST(Template, FirstAndLastCountCodePointsNotBytes) {
  const hr::HrRecord r = person("Zoë", "Ångström");
  EXPECT_EQ(eval("{first(given_name, 3)}", r), "Zoë");
  EXPECT_EQ(eval("{first(family_name, 1)}", r), "Å");
  EXPECT_EQ(eval("{last(family_name, 3)}", r), "röm");
  EXPECT_EQ(eval("{first(given_name, 10)}", r), "Zoë");
  EXPECT_EQ(eval("{first(given_name, 0)}", r), "");
}

TEST(Template, CustomTemplateTwoLettersOfGivenNameAndFamilyName) {
  NamingPolicy n = defaults();
  n.sam_account_name.template_text = "{first(given_name,2)}{family_name}";
  EXPECT_EQ(nameFor(n, person("Zoë", "Ångström")).sam, "zoangstroem");
  EXPECT_EQ(nameFor(n, person("Łukasz", "Żółć")).sam, "luzolc");
}

TEST(Template, UpperLowerAndLatinCaseMapping) {
  const hr::HrRecord r = person("zoë", "ångström");
  EXPECT_EQ(eval("{upper(family_name)}, {given_name}", r), "ÅNGSTRÖM, zoë");
  EXPECT_EQ(eval("{lower(\"ŁUKASZ ŻÓŁĆ\")}", r), "łukasz żółć");
  EXPECT_EQ(eval("{upper(ascii(family_name))}", r), "ANGSTROEM");
}

TEST(Template, StripReplaceTrimAndAlnum) {
  const hr::HrRecord r = person("  Mary  Ann ", "O'Brien-Smith");
  EXPECT_EQ(eval("{strip(family_name, \"'-\")}", r), "OBrienSmith");
  EXPECT_EQ(eval("{replace(family_name, \"-\", \"_\")}", r), "O'Brien_Smith");
  EXPECT_EQ(eval("[{trim(given_name)}]", r), "[Mary Ann]");
  EXPECT_EQ(eval("{alnum(family_name)}", r), "OBrienSmith");
  EXPECT_EQ(eval("{strip(\"Zoë Å\", \"ë \")}", r), "ZoÅ");
}

TEST(Template, CoalesceTakesTheFirstNonEmptyValueIncludingCustomFields) {
  hr::HrRecord r = person("Robert", "Tables");
  EXPECT_EQ(eval("{coalesce(custom.nickname, preferred_name, given_name)}", r), "Robert");
  r.custom["Nickname"] = "Bobby";
  EXPECT_EQ(eval("{coalesce(custom.nickname, preferred_name, given_name)}", r), "Bobby");
  r.custom["nickname"] = "Bob";
  EXPECT_EQ(eval("{coalesce(custom.nickname, given_name)}", r), "Bob");  // exact key first
  EXPECT_EQ(eval("{coalesce(custom.missing, \"x\")}", r), "x");
}

TEST(Template, LiteralTextBracesAndComputedNames) {
  const hr::HrRecord r = person("Ann", "Lee");
  auto t = compileTemplate("{{{sam_account_name}}} at {mail_domain}");
  ASSERT_TRUE(t.isOk()) << t.status().toString();
  EXPECT_EQ(t->evaluate(NameContext{
                .record = &r,
                .computed = {{"sam_account_name", "alee"}, {"mail_domain", "example.com"}}}),
            "{alee} at example.com");
  EXPECT_EQ(t->fields(), (std::vector<std::string>{"sam_account_name", "mail_domain"}));
  EXPECT_TRUE(t->references("mail_domain"));
  EXPECT_FALSE(t->references("given_name"));
}

TEST(Template, SyntaxErrorsNameTheCharacterPosition) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"{frist(given_name, 1)}", "at character 2: unknown function \"frist\""},
      {"ë{given_nme}", "at character 3: unknown field \"given_nme\""},
      {"{given_name", "at character 1: { is never closed"},
      {"x}", "at character 2: a literal } is written }}"},
      {"{first(given_name)}", "at character 2: first() takes 2 arguments, not 1"},
      {"{first(given_name, \"2\")}",
       "at character 20: first() takes a number of characters as its second argument"},
      {"{lower(given_name, family_name)}", "at character 2: lower() takes 1 argument, not 2"},
      {"{upper(3)}", "at character 8: a number is only allowed as the count of first() or last()"},
      {"{\"abc}", "at character 2: the string is never closed"},
      {"{}", "at character 2: empty {}"},
      {"{given_name family_name}", "at character 13: expected } here"},
      {"{coalesce()}", "at character 2: coalesce() takes at least 1 arguments, not 0"},
      {"{custom.}", "at character 9: expected the custom field's name after \"custom.\""},
  };
  for (const auto& c : cases) {
    auto t = compileTemplate(c.text);
    ASSERT_FALSE(t.isOk()) << c.text;
    EXPECT_EQ(t.status().errorClass(), ErrorClass::kData);
    EXPECT_EQ(t.status().message(), c.message) << c.text;
  }
}

TEST(Template, RejectsDeepNestingAndOversizedTemplates) {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "lower(";
  deep = "{" + deep + "given_name" + std::string(40, ')') + "}";
  auto t = compileTemplate(deep);
  ASSERT_FALSE(t.isOk());
  EXPECT_NE(t.status().message().find("nested too deeply"), std::string::npos);
  EXPECT_FALSE(compileTemplate(std::string(2000, 'a')).isOk());
  EXPECT_FALSE(compileTemplate("\xff{given_name}").isOk());  // not UTF-8
  EXPECT_TRUE(compileTemplate("{lower(upper(lower(trim(given_name))))}").isOk());
}

TEST(ApplyRule, UsesTheFallbackWhenTheResultIsEmptyAndAppliesTransformsToIt) {
  const NameRule rule{.template_text = "{ascii(family_name)}",
                      .transforms = {"lower", "alnum"},
                      .max_length = 8,
                      .fallback_template = "U-{employee_id}"};
  const hr::HrRecord swede = person("A", "Ångströmer");
  EXPECT_EQ(applyRule(rule, NameContext{.record = &swede}).value(), "angstroe");
  const hr::HrRecord chinese = person("伟", "王", "", "cn-123456789");
  EXPECT_EQ(applyRule(rule, NameContext{.record = &chinese}).value(), "ucn12345");
}

TEST(ApplyRule, ReportsCompileErrorsOfEitherTemplate) {
  const hr::HrRecord r = person("A", "B");
  auto bad = applyRule(NameRule{.template_text = "{x}"}, NameContext{.record = &r});
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().message(), "template: at character 2: unknown field \"x\"");
  auto bad_fallback = applyRule(NameRule{.template_text = "{given_name}", .fallback_template = "{"},
                                NameContext{.record = &r});
  ASSERT_FALSE(bad_fallback.isOk());
  EXPECT_EQ(bad_fallback.status().message().rfind("fallback: ", 0), 0u);
}

TEST(Transforms, MailLocalKeepsMailCharactersAndCollapsesDots) {
  EXPECT_EQ(applyTransform("mail_local", ".Anna..Lena_O'Brien-x."), "anna.lena_obrien-x");
  EXPECT_EQ(applyTransform("strip_spaces", "a b\tc"), "abc");
  EXPECT_EQ(applyTransform("trim", "  a   b "), "a b");
  EXPECT_EQ(applyTransform("transliterate", "Straße"), "Strasse");
  EXPECT_FALSE(isKnownTransform("lowercase"));
}

TEST(NumberedCandidate, NumbersAWholeAddressInItsLocalPart) {
  const NameRule upn{.template_text = "{given_name}.{family_name}@{upn_suffix}", .max_length = 16};
  EXPECT_EQ(numberedCandidate(upn, "john.smith@ex.com", 1), "john.smit@ex.com");
  EXPECT_EQ(numberedCandidate(upn, "john.smith@ex.com", 2), "john.smi2@ex.com");
  const NameRule unlimited{.template_text = "{given_name}"};
  EXPECT_EQ(numberedCandidate(unlimited, "anna", 12), "anna12");
}

TEST(NumberedCandidate, CutsTheBaseAtACodePointBoundary) {
  const NameRule rule{.template_text = "{family_name}", .max_length = 4};
  EXPECT_EQ(numberedCandidate(rule, "ÅÅÅÅÅ", 1), "ÅÅÅÅ");
  EXPECT_EQ(numberedCandidate(rule, "ÅÅÅÅÅ", 2), "ÅÅÅ2");
}

}  // namespace
}  // namespace tenure::policy
