#pragma once
// For the component stores' tests: a temp directory, the tenant and control stores opened on real
// SQLite files in it, and a look at the file itself (the components' schema versions).

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "common/base/clock.h"
#include "common/sqlite/database.h"
#include "controlplane/store/sqlite/sqlite_control_store.h"
#include "controlplane/store/sqlite/sqlite_tenant_store.h"

namespace tenure::cp::testing {

template <typename T>
T unwrap(Result<T> r) {
  EXPECT_TRUE(r.isOk()) << r.status().toString();
  return std::move(r).value();
}

// The component's version in the file's schema_components table (0: no row, -1: unreadable).
inline int64_t componentVersion(const std::string& path, const std::string& component) {
  auto db = sqlite::Database::open(path);
  if (!db.isOk()) return -1;
  auto st = db->prepare("SELECT version FROM schema_components WHERE name = ?");
  if (!st.isOk()) return -1;
  st->bindText(1, component);
  auto row = st->step();
  if (!row.isOk()) return -1;
  return *row ? st->columnInt64(0) : 0;
}

// A temp directory; the stores are opened by the test.
class StoreTestDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tenure-cstore-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<SqliteTenantStore> openTenant() {
    return unwrap(SqliteTenantStore::open(tenantPath(), clock_));
  }
  std::unique_ptr<SqliteControlStore> openControl() {
    return unwrap(SqliteControlStore::open(controlPath(), clock_));
  }
  std::string tenantPath() const { return dir_ + "/t_0123456789abcdef.db"; }
  std::string controlPath() const { return dir_ + "/control.db"; }

  std::string dir_;
  ManualClock clock_;
};

// A temp directory with both stores open.
class ComponentStoreTest : public StoreTestDir {
 protected:
  void SetUp() override {
    StoreTestDir::SetUp();
    reopen();
  }
  void TearDown() override {
    tenant_.reset();
    control_.reset();
    StoreTestDir::TearDown();
  }
  // Closes and opens both files again (as a restart does).
  void reopen() {
    tenant_.reset();
    control_.reset();
    control_ = openControl();
    tenant_ = openTenant();
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

  std::unique_ptr<SqliteControlStore> control_;
  std::unique_ptr<SqliteTenantStore> tenant_;
};

}  // namespace tenure::cp::testing
