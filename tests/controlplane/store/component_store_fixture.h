#pragma once
// A temp directory with a control database and a tenant database opened through their SQLite
// stores, for the tests of the component stores that live in them.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "common/base/clock.h"
#include "controlplane/store/sqlite/sqlite_control_store.h"
#include "controlplane/store/sqlite/sqlite_tenant_store.h"

namespace tenure::cp::testing {

template <typename T>
T unwrap(Result<T> r) {
  EXPECT_TRUE(r.isOk()) << r.status().toString();
  return std::move(r).value();
}

class ComponentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tenure-cstore-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    reopen();
  }
  void TearDown() override {
    tenant_.reset();
    control_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Closes and opens both files again (as a restart does).
  void reopen() {
    tenant_.reset();
    control_.reset();
    control_ = unwrap(SqliteControlStore::open(dir_ + "/control.db", clock_));
    tenant_ = unwrap(SqliteTenantStore::open(dir_ + "/t_0123456789abcdef.db", clock_));
  }
  // The version of `component` recorded in the file's schema_components; 0 when none.
  template <typename Store>
  static int64_t componentVersion(Store& store, const std::string& component) {
    return unwrap(store.withDatabase([&](sqlite::Database& db) -> Result<int64_t> {
      ASSIGN_OR_RETURN(auto st, db.prepare("SELECT version FROM schema_components WHERE name = ?"));
      st.bindText(1, component);
      ASSIGN_OR_RETURN(bool row, st.step());
      return row ? st.columnInt64(0) : 0;
    }));
  }

  ManualClock clock_;
  std::string dir_;
  std::unique_ptr<SqliteControlStore> control_;
  std::unique_ptr<SqliteTenantStore> tenant_;
};

}  // namespace tenure::cp::testing
