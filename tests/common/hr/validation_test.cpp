#include "common/hr/validation.h"

#include <gtest/gtest.h>

namespace tenure::hr {
namespace {

HrRecord valid() {
  HrRecord r;
  r.employee_id = "E-100.a_b";
  r.given_name = "Jane";
  r.family_name = "Doe";
  return r;
}

std::vector<std::string> fieldsOf(const std::vector<RowError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.field);
  return out;
}

TEST(IsValidIsoDate, AcceptsRealCalendarDatesOnly) {
  EXPECT_TRUE(isValidIsoDate("2025-01-31"));
  EXPECT_TRUE(isValidIsoDate("2024-02-29"));
  EXPECT_TRUE(isValidIsoDate("2000-02-29"));
  EXPECT_FALSE(isValidIsoDate("1900-02-29"));
  EXPECT_FALSE(isValidIsoDate("2025-02-29"));
  EXPECT_FALSE(isValidIsoDate("2025-02-30"));
  EXPECT_FALSE(isValidIsoDate("2025-04-31"));
  EXPECT_FALSE(isValidIsoDate("2025-13-01"));
  EXPECT_FALSE(isValidIsoDate("2025-00-10"));
  EXPECT_FALSE(isValidIsoDate("2025-1-01"));
  EXPECT_FALSE(isValidIsoDate("01/02/2025"));
  EXPECT_FALSE(isValidIsoDate("2025-01-01T00:00"));
}

TEST(NormalizeAndValidate, TrimsAsciiAndUnicodeSpaceButKeepsInnerSpace) {
  HrRecord r = valid();
  r.given_name = " \t Mary Ann\r\n";
  r.family_name = "\u00A0Müller\u3000";
  r.department = "\v\f Sales  Ops \f";
  r.title = " \t ";
  EXPECT_TRUE(normalizeAndValidate(r, 1).empty());
  EXPECT_EQ(r.given_name, "Mary Ann");
  EXPECT_EQ(r.family_name, "Müller");
  EXPECT_EQ(r.department, "Sales  Ops");
  EXPECT_EQ(r.title, "");
}

TEST(NormalizeAndValidate, RejectsAControlCharacterInsideAnAsciiValue) {
  HrRecord r = valid();
  r.department = " Sa\x01les ";
  EXPECT_EQ(fieldsOf(normalizeAndValidate(r, 1)), std::vector<std::string>{"department"});
}

TEST(NormalizeAndValidate, ValidRecordGetsDefaults) {
  HrRecord r = valid();
  EXPECT_TRUE(normalizeAndValidate(r, 1).empty());
  EXPECT_EQ(r.employment_type, "employee");
  EXPECT_EQ(r.status, "active");
}

TEST(NormalizeAndValidate, RequiresIdAndNames) {
  HrRecord r;
  r.given_name = " \xC2\xA0 ";
  EXPECT_EQ(fieldsOf(normalizeAndValidate(r, 4)),
            (std::vector<std::string>{"employee_id", "given_name", "family_name"}));
}

TEST(NormalizeAndValidate, RejectsBadEmployeeIdCharactersAndLength) {
  HrRecord r = valid();
  r.employee_id = "E 1";
  EXPECT_EQ(fieldsOf(normalizeAndValidate(r, 1)), (std::vector<std::string>{"employee_id"}));
  r = valid();
  r.employee_id = std::string(65, 'a');
  EXPECT_EQ(fieldsOf(normalizeAndValidate(r, 1)), (std::vector<std::string>{"employee_id"}));
  r = valid();
  r.employee_id = std::string(64, 'a');
  EXPECT_TRUE(normalizeAndValidate(r, 1).empty());
}

TEST(NormalizeAndValidate, NameLengthCountsCharactersNotBytes) {
  HrRecord r = valid();
  std::string name;
  for (int i = 0; i < 64; ++i) name += "\xC3\xA4";  // 64 x "ä", 128 bytes
  r.family_name = name;
  EXPECT_TRUE(normalizeAndValidate(r, 1).empty());
  r.family_name = name + "a";
  EXPECT_EQ(fieldsOf(normalizeAndValidate(r, 1)), (std::vector<std::string>{"family_name"}));
}

TEST(NormalizeAndValidate, RejectsInvalidUtf8AndControlCharacters) {
  HrRecord r = valid();
  r.title = "Chef \xC3\x28";
  r.department = "Sal\x01" "es";
  auto errors = normalizeAndValidate(r, 2);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].reason, "row 2: department: contains a control character (U+0001)");
  EXPECT_EQ(errors[1].reason, "row 2: title: is not valid UTF-8");
}

TEST(NormalizeAndValidate, EndDateBeforeStartDateIsRejected) {
  HrRecord r = valid();
  r.start_date = "2025-03-01";
  r.end_date = "2025-02-28";
  auto errors = normalizeAndValidate(r, 3);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "end_date");
  r.end_date = "2025-03-01";
  EXPECT_TRUE(normalizeAndValidate(r, 3).empty());
}

TEST(NormalizeAndValidate, ValidatesAllowedEmploymentTypes) {
  for (const char* t : {"employee", "contractor", "intern", "vendor", "volunteer", "PARTNER"}) {
    HrRecord r = valid();
    r.employment_type = t;
    EXPECT_TRUE(normalizeAndValidate(r, 1).empty()) << t;
  }
}

// 2026-12-08 is day 20795 since 1970-01-01.
constexpr int64_t kDec8 = 20795;

ParsedBatch batchOf(std::vector<HrRecord> records) {
  ParsedBatch b;
  for (size_t i = 0; i < records.size(); ++i) {
    b.accepted.push_back(std::move(records[i]));
    b.accepted_rows.push_back(static_cast<int>(i) + 1);
  }
  return b;
}

HrRecord contractor(const std::string& id, const std::string& start, const std::string& end) {
  HrRecord r = valid();
  r.employee_id = id;
  r.employment_type = "contractor";
  r.start_date = start;
  r.end_date = end;
  return r;
}

TEST(EmploymentRules, MissingEndDateAndTooLongAreRejectedInRowOrder) {
  EmploymentRules rules;
  rules.by_type["contractor"] = {true, 730};
  ParsedBatch b = batchOf({contractor("C1", "2026-01-01", "2028-01-02"), valid(),
                           contractor("C2", "2026-01-01", ""), contractor("C3", "", "2027-01-01")});
  b.rejected.push_back(RowError{3, "X", "given_name", "row 3: earlier"});
  applyEmploymentRules(b, rules, kDec8);
  ASSERT_EQ(b.accepted.size(), 2u);
  EXPECT_EQ(b.accepted[0].employee_id, "E-100.a_b");
  EXPECT_EQ(b.accepted[1].employee_id, "C3");
  EXPECT_EQ(b.accepted_rows, (std::vector<int>{2, 4}));
  ASSERT_EQ(b.rejected.size(), 3u);
  EXPECT_EQ(b.rejected[0].employee_id, "C1");
  EXPECT_EQ(b.rejected[0].reason,
            "row 1: end_date: 731 days after start_date exceeds the maximum of 730 days for "
            "contractor");
  EXPECT_EQ(b.rejected[1].row, 3);
  EXPECT_EQ(b.rejected[2].employee_id, "C2");
  EXPECT_EQ(b.rejected[2].reason, "row 3: end_date: required for contractor");
}

TEST(EmploymentRules, TypesWithoutARuleNeedAnEndDateExceptEmployees) {
  HrRecord intern = valid();
  intern.employment_type = "intern";
  ParsedBatch b = batchOf({intern, valid()});
  applyEmploymentRules(b, EmploymentRules{}, kDec8);
  ASSERT_EQ(b.accepted.size(), 1u);
  EXPECT_EQ(b.accepted[0].employment_type, "");
  ASSERT_EQ(b.rejected.size(), 1u);
  EXPECT_EQ(b.rejected[0].field, "end_date");
}

TEST(EmploymentRules, WithoutAStartDateTheLimitCountsFromTheGivenToday) {
  EmploymentRules rules;
  rules.by_type["contractor"] = {true, 730};
  // 2028-12-07 is 730 days after 2026-12-08 and 731 after 2026-12-07.
  ParsedBatch on_8th = batchOf({contractor("C1", "", "2028-12-07")});
  applyEmploymentRules(on_8th, rules, kDec8);
  EXPECT_EQ(on_8th.accepted.size(), 1u);
  ParsedBatch on_7th = batchOf({contractor("C1", "", "2028-12-07")});
  applyEmploymentRules(on_7th, rules, kDec8 - 1);
  ASSERT_EQ(on_7th.rejected.size(), 1u);
  EXPECT_NE(on_7th.rejected[0].reason.find("731 days after today"), std::string::npos);
}

}  // namespace
}  // namespace tenure::hr
