// DataKeyStore on a real SQLite control file. The store keeps opaque wrapped keys; wrapping is the
// secrets module's (tests/controlplane/secrets).

#include "controlplane/store/data_key_store.h"

#include <gtest/gtest.h>

#include "controlplane/store/sqlite/sqlite_data_key_store.h"
#include "tests/controlplane/store/component_store_fixture.h"

namespace tenure::cp {
namespace {

using testing::ComponentStoreTest;
using testing::unwrap;

class DataKeyStoreTest : public ComponentStoreTest {
 protected:
  DataKeyStore& keys() { return control_->dataKeys(); }
};

TEST_F(DataKeyStoreTest, TheMigrationRunsWhenTheFileOpens) {
  EXPECT_EQ(componentVersion(*control_, SqliteDataKeyStore::kComponent), 1);
  EXPECT_FALSE(unwrap(keys().masterFingerprint()).has_value());
  EXPECT_FALSE(unwrap(keys().wrappedKey("t_a")).has_value());
}

TEST_F(DataKeyStoreTest, FingerprintAndKeysSurviveAReopen) {
  ASSERT_TRUE(keys().setMasterFingerprint("fp1").isOk());
  // Wrapped keys are bytes, not text.
  const std::string wrapped("\x00\x01\xffkey", 6);
  EXPECT_EQ(unwrap(keys().addWrappedKey("t_a", wrapped, "fp1")), wrapped);
  reopen();
  EXPECT_EQ(unwrap(keys().masterFingerprint()), "fp1");
  EXPECT_EQ(unwrap(keys().wrappedKey("t_a")), wrapped);
  ASSERT_TRUE(keys().setMasterFingerprint("fp2").isOk());
  EXPECT_EQ(unwrap(keys().masterFingerprint()), "fp2");
}

TEST_F(DataKeyStoreTest, TheFirstKeyAddedWins) {
  ASSERT_TRUE(keys().setMasterFingerprint("fp").isOk());
  EXPECT_EQ(unwrap(keys().addWrappedKey("t_a", "first", "fp")), "first");
  EXPECT_EQ(unwrap(keys().addWrappedKey("t_a", "second", "fp")), "first");
  EXPECT_EQ(unwrap(keys().wrappedKey("t_a")), "first");
}

TEST_F(DataKeyStoreTest, NoKeyIsAddedUnderAnotherMasterKey) {
  EXPECT_FALSE(unwrap(keys().addWrappedKey("t_a", "w", "fp")).has_value()) << "none recorded";
  ASSERT_TRUE(keys().setMasterFingerprint("current").isOk());
  EXPECT_FALSE(unwrap(keys().addWrappedKey("t_a", "w", "stale")).has_value());
  EXPECT_FALSE(unwrap(keys().wrappedKey("t_a")).has_value());
}

TEST_F(DataKeyStoreTest, RemovingAKeyLeavesTheOthers) {
  ASSERT_TRUE(keys().setMasterFingerprint("fp").isOk());
  ASSERT_TRUE(keys().addWrappedKey("t_a", "a", "fp").isOk());
  ASSERT_TRUE(keys().addWrappedKey("t_b", "b", "fp").isOk());
  ASSERT_TRUE(keys().removeKey("t_a").isOk());
  ASSERT_TRUE(keys().removeKey("t_a").isOk()) << "removing a missing key is ok";
  EXPECT_FALSE(unwrap(keys().wrappedKey("t_a")).has_value());
  EXPECT_EQ(unwrap(keys().wrappedKey("t_b")), "b");
}

TEST_F(DataKeyStoreTest, RotationRewrapsEveryKeyAndRecordsTheNewFingerprint) {
  ASSERT_TRUE(keys().setMasterFingerprint("old").isOk());
  ASSERT_TRUE(keys().addWrappedKey("t_a", "a", "old").isOk());
  ASSERT_TRUE(keys().addWrappedKey("t_b", "b", "old").isOk());
  ASSERT_TRUE(
      keys()
          .rotateMaster([](const std::string& tenant_id, const std::string& wrapped)
                            -> Result<std::string> { return wrapped + "@new(" + tenant_id + ")"; },
                        "new")
          .isOk());
  EXPECT_EQ(unwrap(keys().masterFingerprint()), "new");
  EXPECT_EQ(unwrap(keys().wrappedKey("t_a")), "a@new(t_a)");
  EXPECT_EQ(unwrap(keys().wrappedKey("t_b")), "b@new(t_b)");
}

TEST_F(DataKeyStoreTest, ARotationWithOneFailedRewrapChangesNothing) {
  ASSERT_TRUE(keys().setMasterFingerprint("old").isOk());
  ASSERT_TRUE(keys().addWrappedKey("t_a", "a", "old").isOk());
  ASSERT_TRUE(keys().addWrappedKey("t_b", "b", "old").isOk());
  Status st = keys().rotateMaster(
      [](const std::string& tenant_id, const std::string& wrapped) -> Result<std::string> {
        if (tenant_id == "t_b") return dataError("does not open");
        return wrapped + "@new";
      },
      "new");
  EXPECT_EQ(st.errorClass(), ErrorClass::kData);
  EXPECT_EQ(unwrap(keys().masterFingerprint()), "old");
  EXPECT_EQ(unwrap(keys().wrappedKey("t_a")), "a");
  EXPECT_EQ(unwrap(keys().wrappedKey("t_b")), "b");
}

}  // namespace
}  // namespace tenure::cp
