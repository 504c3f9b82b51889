// FieldMapping: BambooHR employee objects to canonical HR records, and tenant overrides.

#include "controlplane/connectors/field_mapping.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "controlplane/connectors/bamboohr.h"

namespace tenure::cp::connectors {
namespace {

namespace bj = boost::json;

bj::object employee(const char* json) { return bj::parse(json).as_object(); }

TEST(FieldMappingTest, DefaultMappingTurnsABambooHrEmployeeIntoACanonicalRecord) {
  auto r = defaultBambooHrMapping().map(employee(R"({
      "id": "123", "employeeNumber": "E-9", "firstName": "Ann", "lastName": "Lee",
      "preferredName": "Annie", "department": "Engineering", "jobTitle": "Engineer",
      "location": "Berlin", "supervisorEId": "7", "hireDate": "2021-03-01",
      "terminationDate": "2026-06-30", "status": "Active",
      "employmentHistoryStatus": "Full-Time", "workEmail": "ann@example.com"})"));
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->employee_id, "123");
  EXPECT_EQ(r->given_name, "Ann");
  EXPECT_EQ(r->family_name, "Lee");
  EXPECT_EQ(r->preferred_name, "Annie");
  EXPECT_EQ(r->department, "Engineering");
  EXPECT_EQ(r->title, "Engineer");
  EXPECT_EQ(r->location, "Berlin");
  EXPECT_EQ(r->manager_id, "7");
  EXPECT_EQ(r->start_date, "2021-03-01");
  EXPECT_EQ(r->end_date, "2026-06-30");
  EXPECT_EQ(r->status, "active");
  EXPECT_EQ(r->employment_type, "employee");
  EXPECT_TRUE(r->custom.empty()) << "unmapped fields are not carried";
}

TEST(FieldMappingTest, ZeroDatesMeanNoDate) {
  auto r = defaultBambooHrMapping().map(employee(
      R"({"id": 1, "hireDate": "0000-00-00", "terminationDate": "0000-00-00"})"));
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->employee_id, "1") << "numbers are taken as their decimal text";
  EXPECT_EQ(r->start_date, "");
  EXPECT_EQ(r->end_date, "");
}

TEST(FieldMappingTest, InactiveMeansTerminatedAndContractorsStayContractors) {
  auto r = defaultBambooHrMapping().map(employee(
      R"({"id": "5", "status": "Inactive", "employmentHistoryStatus": "Contractor"})"));
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->status, "terminated");
  EXPECT_EQ(r->employment_type, "contractor");
}

TEST(FieldMappingTest, EmployeeNumberStandsInWhenIdIsMissing) {
  auto r = defaultBambooHrMapping().map(employee(R"({"employeeNumber": "E-9", "id": null})"));
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->employee_id, "E-9");
}

TEST(FieldMappingTest, AnObjectWhereAValueBelongsIsADataError) {
  auto r = defaultBambooHrMapping().map(employee(R"({"id": "5", "firstName": {"x": 1}})"));
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("firstName"), std::string::npos);
}

TEST(FieldMappingTest, TenantOverridesReplaceRemoveAndAddFields) {
  auto m = applyOverrides(defaultBambooHrMapping(), bj::parse(R"({
      "field_mapping": {"id": "", "employeeNumber": "employee_id", "supervisorEId": "",
                        "supervisorId": "manager_id", "workEmail": "custom.mail",
                        "division": "Department"},
      "employment_type_values": {"Seasonal": "contractor"}})").as_object());
  ASSERT_TRUE(m.isOk()) << m.status().toString();
  auto r = m->map(employee(R"({"id": "1", "employeeNumber": "E-1", "supervisorEId": "2",
      "supervisorId": "E-2", "workEmail": "a@example.com", "division": "R&D",
      "department": "Eng", "employmentHistoryStatus": "Seasonal"})"));
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->employee_id, "E-1");
  EXPECT_EQ(r->manager_id, "E-2");
  EXPECT_EQ(r->custom.at("mail"), "a@example.com");
  EXPECT_EQ(r->employment_type, "contractor");
  // department and division both map to department: the first in name order with a value wins.
  EXPECT_EQ(r->department, "Eng");
}

TEST(FieldMappingTest, AnOverrideToAnUnknownFieldIsRefused) {
  auto m = applyOverrides(defaultBambooHrMapping(),
                          bj::parse(R"({"field_mapping": {"x": "shoe_size"}})").as_object());
  ASSERT_FALSE(m.isOk());
  EXPECT_EQ(m.status().errorClass(), ErrorClass::kData);
}

TEST(FieldMappingTest, AMappingWithoutEmployeeIdIsRefused) {
  auto m = applyOverrides(defaultBambooHrMapping(),
                          bj::parse(R"({"field_mapping": {"id": "", "employeeNumber": ""}})")
                              .as_object());
  ASSERT_FALSE(m.isOk());
}

TEST(BambooHrConfigTest, DefaultsAndRefusals) {
  auto c = parseBambooHrConfig(bj::parse(R"({"company_domain": "acme"})").as_object());
  ASSERT_TRUE(c.isOk()) << c.status().toString();
  EXPECT_EQ(c->base_url, "https://api.bamboohr.com");
  EXPECT_EQ(c->mode, BambooHrMode::kCustomReport);
  EXPECT_EQ(c->timeout_s, 30);
  for (const char* bad : {R"({})", R"({"company_domain": "acme/../x"})",
                          R"({"company_domain": "acme", "base_url": "http://example.com"})",
                          R"({"company_domain": "acme", "mode": "scrape"})",
                          R"({"company_domain": "acme", "timeout_s": 0})",
                          R"({"company_domain": "acme", "colour": "blue"})"}) {
    EXPECT_FALSE(parseBambooHrConfig(bj::parse(bad).as_object()).isOk()) << bad;
  }
}

}  // namespace
}  // namespace tenure::cp::connectors
