#include "common/hr/json_records.h"

#include <gtest/gtest.h>

namespace tenure::hr {
namespace {

TEST(ParseJsonRecords, AcceptsAnArrayOfObjectsWithCustomFields) {
  auto b = parseJsonRecords(R"([
    {"employee_id": "E1", "given_name": " Jane ", "family_name": "Doe", "Status": "LEAVE",
     "badge": "B7", "custom": {"cost_center": "42"}},
    {"employee_id": 1002, "given_name": "Max", "family_name": "Muster", "manager_id": null}
  ])");
  ASSERT_TRUE(b.isOk()) << b.status().toString();
  ASSERT_EQ(b->accepted.size(), 2u);
  EXPECT_EQ(b->accepted[0].given_name, "Jane");
  EXPECT_EQ(b->accepted[0].status, "leave");
  EXPECT_EQ(b->accepted[0].custom.at("badge"), "B7");
  EXPECT_EQ(b->accepted[0].custom.at("cost_center"), "42");
  EXPECT_EQ(b->accepted[1].employee_id, "1002");
}

TEST(ParseJsonRecords, NonArrayBodyIsAWholeUploadError) {
  EXPECT_FALSE(parseJsonRecords(R"({"employee_id": "E1"})").isOk());
  EXPECT_FALSE(parseJsonRecords("[{").isOk());
}

TEST(ParseJsonRecords, NonObjectElementAndWrongTypesAreRowErrors) {
  auto b = parseJsonRecords(R"([
    "E1",
    {"employee_id": "E2", "given_name": "A", "family_name": "B", "title": ["x"]},
    {"employee_id": "E3", "given_name": "A", "family_name": "B", "start_date": "2025-02-30"},
    {"employee_id": "E4", "given_name": "A", "family_name": "B"},
    {"employee_id": "e4", "given_name": "A", "family_name": "B"}
  ])");
  ASSERT_TRUE(b.isOk());
  EXPECT_EQ(b->accepted_rows, (std::vector<int>{4}));
  ASSERT_EQ(b->rejected.size(), 4u);
  EXPECT_EQ(b->rejected[0].reason, "row 1: is not a JSON object");
  EXPECT_EQ(b->rejected[1].reason, "row 2: title: must be a string");
  EXPECT_EQ(b->rejected[1].employee_id, "E2");
  EXPECT_EQ(b->rejected[2].field, "start_date");
  EXPECT_EQ(b->rejected[3].reason, "row 5: employee_id: \"e4\" duplicates row 4");
}

}  // namespace
}  // namespace tenure::hr
