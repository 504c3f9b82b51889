// ScimUserStore on a real SQLite tenant file.

#include "controlplane/store/scim_user_store.h"

#include <gtest/gtest.h>

#include "controlplane/store/sqlite/sqlite_scim_user_store.h"
#include "tests/controlplane/store/component_store_fixture.h"

namespace tenure::cp {
namespace {

using testing::ComponentStoreTest;
using testing::unwrap;

ScimUserRow user(const std::string& id, const std::string& user_name,
                 const std::string& employee_id, const std::string& external_id = "") {
  ScimUserRow r;
  r.id = id;
  r.user_name = user_name;
  r.employee_id = employee_id;
  r.external_id = external_id;
  r.resource = boost::json::object{{"userName", user_name}};
  r.created_ms = 10;
  r.modified_ms = 20;
  return r;
}

class ScimUserStoreTest : public ComponentStoreTest {
 protected:
  ScimUserStore& users() { return tenant_->scimUsers(); }
};

TEST_F(ScimUserStoreTest, TheMigrationRunsWhenTheFileOpens) {
  EXPECT_EQ(componentVersion(*tenant_, SqliteScimUserStore::kComponent), 1);
  EXPECT_EQ(unwrap(users().list(ScimMatch::kAll, "", 0, 10)).total, 0);
}

TEST_F(ScimUserStoreTest, ARowSurvivesAReopenWithEveryField) {
  ScimUserRow r = user("u1", "Ann.Lee@Example.com", "E-1", "ext-1");
  r.manager_id = "u0";
  r.manager_employee_id = "E-0";
  r.version = 3;
  ASSERT_TRUE(users().insert(r).isOk());
  reopen();
  auto got = unwrap(users().byId("u1"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->user_name, "Ann.Lee@Example.com");
  EXPECT_EQ(got->external_id, "ext-1");
  EXPECT_EQ(got->employee_id, "E-1");
  EXPECT_EQ(got->manager_id, "u0");
  EXPECT_EQ(got->manager_employee_id, "E-0");
  EXPECT_EQ(got->resource, r.resource);
  EXPECT_EQ(got->version, 3);
  EXPECT_EQ(got->created_ms, 10);
  EXPECT_EQ(got->modified_ms, 20);
}

TEST_F(ScimUserStoreTest, UserNameAndEmployeeIdAreFoundAndUniqueIgnoringAsciiCase) {
  ASSERT_TRUE(users().insert(user("u1", "Ann.Lee@Example.com", "E-1")).isOk());
  EXPECT_EQ(unwrap(users().byUserName("ann.lee@example.COM"))->id, "u1");
  EXPECT_EQ(unwrap(users().byEmployeeId("e-1"))->id, "u1");
  EXPECT_FALSE(unwrap(users().byUserName("bob@example.com")).has_value());
  EXPECT_FALSE(users().insert(user("u2", "ANN.LEE@example.com", "E-2")).isOk());
  EXPECT_FALSE(users().insert(user("u3", "bob@example.com", "e-1")).isOk());
  EXPECT_FALSE(users().insert(user("u1", "carl@example.com", "E-3")).isOk()) << "same id";
  EXPECT_EQ(unwrap(users().list(ScimMatch::kAll, "", 0, 10)).total, 1);
}

TEST_F(ScimUserStoreTest, ListsInCreationOrderWithFiltersAndPages) {
  ASSERT_TRUE(users().insert(user("z", "zed@x", "E1", "X1")).isOk());
  ASSERT_TRUE(users().insert(user("a", "amy@x", "E2", "x1")).isOk());
  ASSERT_TRUE(users().insert(user("m", "max@x", "E3", "X1")).isOk());
  auto all = unwrap(users().list(ScimMatch::kAll, "", 1, 1));
  EXPECT_EQ(all.total, 3);
  ASSERT_EQ(all.rows.size(), 1u);
  EXPECT_EQ(all.rows[0].id, "a");
  auto by_name = unwrap(users().list(ScimMatch::kUserName, "AMY@X", 0, 10));
  EXPECT_EQ(by_name.total, 1);
  EXPECT_EQ(by_name.rows.at(0).id, "a");
  auto by_external = unwrap(users().list(ScimMatch::kExternalId, "X1", 0, 10));
  EXPECT_EQ(by_external.total, 2) << "externalId is case-exact";
  ASSERT_EQ(by_external.rows.size(), 2u);
  EXPECT_EQ(by_external.rows[0].id, "z");
  EXPECT_EQ(by_external.rows[1].id, "m");
}

TEST_F(ScimUserStoreTest, UpdateReplacesTheRowAndAGoneRowIsAConflict) {
  ASSERT_TRUE(users().insert(user("u1", "ann@x", "E1")).isOk());
  ScimUserRow changed = user("u1", "ann.lee@x", "E1");
  changed.version = 2;
  changed.modified_ms = 99;
  ASSERT_TRUE(users().update(changed).isOk());
  auto got = unwrap(users().byId("u1"));
  EXPECT_EQ(got->user_name, "ann.lee@x");
  EXPECT_EQ(got->version, 2);
  EXPECT_EQ(got->modified_ms, 99);
  EXPECT_FALSE(unwrap(users().byUserName("ann@x")).has_value());

  ASSERT_TRUE(users().remove("u1").isOk());
  EXPECT_FALSE(unwrap(users().byId("u1")).has_value());
  EXPECT_TRUE(users().remove("u1").isOk()) << "removing a missing row is ok";
  EXPECT_EQ(users().update(changed).errorClass(), ErrorClass::kConflict);
}

}  // namespace
}  // namespace tenure::cp
