#include "common/hr/csv.h"

#include <gtest/gtest.h>

namespace tenure::hr {
namespace {

constexpr const char* kHeader = "employee_id,given_name,family_name,department,start_date,status";

std::string reasons(const ParsedBatch& b) {
  std::string out;
  for (const auto& e : b.rejected) out += e.reason + "\n";
  return out;
}

TEST(ReadCsv, HandlesQuotesEmbeddedCommasDoubledQuotesAndNewlines) {
  auto doc = readCsv("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"line1\nline2\"\nlast,row,here\n");
  ASSERT_TRUE(doc.isOk()) << doc.status().toString();
  ASSERT_EQ(doc->records.size(), 2u);
  EXPECT_EQ(doc->records[0].fields, (std::vector<std::string>{"x, y", "say \"hi\"", "line1\nline2"}));
  EXPECT_EQ(doc->records[0].row, 1);
  EXPECT_EQ(doc->records[1].row, 2);
  EXPECT_EQ(doc->records[1].fields[0], "last");
}

TEST(ReadCsv, StripsBomAndAcceptsCrlf) {
  auto doc = readCsv("\xEF\xBB\xBF" "a,b\r\n1,2\r\n3,4");
  ASSERT_TRUE(doc.isOk());
  EXPECT_EQ(doc->header, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(doc->records.size(), 2u);
  EXPECT_EQ(doc->records[0].fields, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(doc->records[1].fields, (std::vector<std::string>{"3", "4"}));
}

TEST(ReadCsv, UnterminatedQuoteRejectsOnlyTheRestOfTheFile) {
  auto doc = readCsv("a,b\n1,2\n3,\"open\n4,5\n");
  ASSERT_TRUE(doc.isOk());
  ASSERT_EQ(doc->records.size(), 2u);
  EXPECT_TRUE(doc->records[0].error.empty());
  EXPECT_EQ(doc->records[1].row, 2);
  EXPECT_NE(doc->records[1].error.find("unterminated"), std::string::npos);
}

TEST(ParseCsv, AcceptsValidRowsWithBomCrlfAndTrimmedValues) {
  auto b = parseCsv(std::string("\xEF\xBB\xBF") + " Employee_ID , Given_Name,FAMILY_NAME,department,start_date,status\r\n" +
                    "E1,  Jane ,Doe,\xC2\xA0Sales\xC2\xA0,2025-01-06,ACTIVE\r\n" +
                    "E2,John,Smith,,,\r\n");
  ASSERT_TRUE(b.isOk()) << b.status().toString();
  ASSERT_EQ(b->accepted.size(), 2u) << reasons(*b);
  EXPECT_EQ(b->accepted[0].given_name, "Jane");
  EXPECT_EQ(b->accepted[0].department, "Sales");
  EXPECT_EQ(b->accepted[0].status, "active");
  EXPECT_EQ(b->accepted[1].status, "active");
  EXPECT_EQ(b->accepted[1].employment_type, "employee");
  EXPECT_EQ(b->accepted_rows, (std::vector<int>{1, 2}));
}

TEST(ParseCsv, QuotedNameWithCommaIsOneField) {
  auto b = parseCsv(std::string(kHeader) + "\nE1,John,\"Smith, Jr.\",Sales,,\n");
  ASSERT_TRUE(b.isOk());
  ASSERT_EQ(b->accepted.size(), 1u) << reasons(*b);
  EXPECT_EQ(b->accepted[0].family_name, "Smith, Jr.");
}

TEST(ParseCsv, EmbeddedNewlineInANameIsRejectedAndLaterRowsKeepTheirNumbers) {
  auto b = parseCsv(std::string(kHeader) + "\nE1,\"Ja\nne\",Doe,,,\nE2,Max,Mustermann,,,\n");
  ASSERT_TRUE(b.isOk());
  ASSERT_EQ(b->accepted.size(), 1u);
  EXPECT_EQ(b->accepted_rows[0], 2);
  ASSERT_EQ(b->rejected.size(), 1u);
  EXPECT_EQ(b->rejected[0].row, 1);
  EXPECT_EQ(b->rejected[0].field, "given_name");
  EXPECT_EQ(b->rejected[0].reason, "row 1: given_name: contains a control character (U+000A)");
}

TEST(ParseCsv, MissingHeaderIsAWholeUploadError) {
  auto b = parseCsv("");
  ASSERT_FALSE(b.isOk());
  EXPECT_EQ(b.status().errorClass(), ErrorClass::kData);
}

TEST(ParseCsv, MissingEmployeeIdColumnIsAWholeUploadError) {
  auto b = parseCsv("given_name,family_name\nJane,Doe\n");
  ASSERT_FALSE(b.isOk());
  EXPECT_NE(b.status().message().find("employee_id"), std::string::npos);
}

TEST(ParseCsv, DuplicateHeaderColumnIsAWholeUploadError) {
  EXPECT_FALSE(parseCsv("employee_id,given_name,family_name,Title,title\n").isOk());
}

TEST(ParseCsv, UnknownColumnsGoToCustom) {
  auto b = parseCsv("employee_id,given_name,family_name, Cost Center \nE1,Jane,Doe,CC-42\n");
  ASSERT_TRUE(b.isOk());
  ASSERT_EQ(b->accepted.size(), 1u);
  EXPECT_EQ(b->accepted[0].custom.at("Cost Center"), "CC-42");
}

TEST(ParseCsv, WrongFieldCountRejectsOnlyThatRow) {
  auto b = parseCsv(std::string(kHeader) + "\nE1,Jane,Doe,,,\nE2,Max\nE3,Eva,Berg,,,\n");
  ASSERT_TRUE(b.isOk());
  EXPECT_EQ(b->accepted_rows, (std::vector<int>{1, 3}));
  ASSERT_EQ(b->rejected.size(), 1u);
  EXPECT_EQ(b->rejected[0].row, 2);
  EXPECT_EQ(b->rejected[0].employee_id, "E2");
  EXPECT_EQ(b->rejected[0].reason, "row 2: has 2 fields but the header has 6");
}

TEST(ParseCsv, UnterminatedQuoteRejectsTheRestButKeepsEarlierRows) {
  auto b = parseCsv(std::string(kHeader) + "\nE1,Jane,Doe,,,\nE2,\"Max,Muster,,,\nE3,Eva,Berg,,,\n");
  ASSERT_TRUE(b.isOk());
  EXPECT_EQ(b->accepted.size(), 1u);
  ASSERT_EQ(b->rejected.size(), 1u);
  EXPECT_EQ(b->rejected[0].row, 2);
}

TEST(ParseCsv, DuplicateEmployeeIdRejectsTheLaterRowAndNamesTheFirst) {
  auto b = parseCsv(std::string(kHeader) + "\nE1,Jane,Doe,,,\nE2,Max,Muster,,,\ne1,Jane,Doe,,,\n");
  ASSERT_TRUE(b.isOk());
  EXPECT_EQ(b->accepted_rows, (std::vector<int>{1, 2}));
  ASSERT_EQ(b->rejected.size(), 1u);
  EXPECT_EQ(b->rejected[0].reason, "row 3: employee_id: \"e1\" duplicates row 1");
}

TEST(ParseCsv, InvalidDateNamesRowFieldAndValue) {
  std::string text = std::string(kHeader) + "\n";
  for (int i = 1; i <= 6; ++i) text += "E" + std::to_string(i) + ",A,B,,,\n";
  text += "E7,A,B,,2025-13-01,\n";
  auto b = parseCsv(text);
  ASSERT_TRUE(b.isOk());
  ASSERT_EQ(b->rejected.size(), 1u);
  EXPECT_EQ(b->rejected[0].reason,
            "row 7: start_date: \"2025-13-01\" is not a valid date (YYYY-MM-DD)");
}

TEST(ParseCsv, BadEnumIsRejectedAndCaseIsNormalized) {
  auto b = parseCsv(
      "employee_id,given_name,family_name,employment_type,status\n"
      "E1,A,B,Contractor,Leave\nE2,A,B,freelancer,\nE3,A,B,,retired\n");
  ASSERT_TRUE(b.isOk());
  ASSERT_EQ(b->accepted.size(), 1u);
  EXPECT_EQ(b->accepted[0].employment_type, "contractor");
  EXPECT_EQ(b->accepted[0].status, "leave");
  ASSERT_EQ(b->rejected.size(), 2u);
  EXPECT_EQ(b->rejected[0].field, "employment_type");
  EXPECT_EQ(b->rejected[1].field, "status");
}

TEST(ParseCsv, UnnamedEmptyColumnIsIgnoredButAValueInItRejectsTheRow) {
  auto b = parseCsv("employee_id,given_name,family_name,\nE1,A,B,\nE2,A,B,oops\n");
  ASSERT_TRUE(b.isOk());
  EXPECT_EQ(b->accepted_rows, (std::vector<int>{1}));
  ASSERT_EQ(b->rejected.size(), 1u);
  EXPECT_EQ(b->rejected[0].row, 2);
}

}  // namespace
}  // namespace tenure::hr
