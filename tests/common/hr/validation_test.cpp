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

}  // namespace
}  // namespace tenure::hr
