#include "controlplane/store/threshold_window_store.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "tests/controlplane/store/component_store_fixture.h"

namespace tenure::cp {
namespace {

using testing::componentVersion;
using testing::unwrap;

constexpr int64_t kNow = 1'700'000'000'000;

class ThresholdWindowStoreTest : public testing::StoreTestDir {
 protected:
  // The window's sums after `after_ms`, as a decision sees them (without admitting `run_id`).
  WindowCounts countsAfter(ThresholdWindowStore& w, int64_t after_ms,
                           const std::string& run_id = "r_probe") {
    WindowCounts seen;
    EXPECT_FALSE(unwrap(w.admitIf(WindowAdmission{run_id, kNow, 1, 1}, after_ms,
                                  [&](const WindowCounts& c) -> Result<bool> {
                                    seen = c;
                                    return false;
                                  },
                                  0)));
    return seen;
  }
};

TEST_F(ThresholdWindowStoreTest, TheComponentIsMigratedWhenTheFileOpens) {
  auto store = openTenant();
  EXPECT_EQ(componentVersion(tenantPath(), "threshold_window"), 1);
}

TEST_F(ThresholdWindowStoreTest, AdmittedRunsAreSummedAfterTheGivenTimeWithoutTheRunItself) {
  auto store = openTenant();
  auto& w = store->thresholdWindow();
  ASSERT_TRUE(w.admit(WindowAdmission{"r1", kNow - 10'000, 3, 1}, 0).isOk());
  ASSERT_TRUE(w.admit(WindowAdmission{"r2", kNow - 5'000, 2, 0}, 0).isOk());
  WindowCounts all = countsAfter(w, kNow - 60'000);
  EXPECT_EQ(all.disables, 5);
  EXPECT_EQ(all.deletes, 1);
  WindowCounts recent = countsAfter(w, kNow - 7'000);
  EXPECT_EQ(recent.disables, 2);
  EXPECT_EQ(recent.deletes, 0);
  WindowCounts without_r1 = countsAfter(w, kNow - 60'000, "r1");
  EXPECT_EQ(without_r1.disables, 2);
}

TEST_F(ThresholdWindowStoreTest, WithoutAWindowNothingIsCountedAndTheDecisionStillAdmits) {
  auto store = openTenant();
  auto& w = store->thresholdWindow();
  ASSERT_TRUE(w.admit(WindowAdmission{"r1", kNow, 3, 1}, 0).isOk());
  std::optional<WindowCounts> seen;
  EXPECT_TRUE(unwrap(w.admitIf(WindowAdmission{"r2", kNow, 4, 0}, std::nullopt,
                               [&](const WindowCounts& c) -> Result<bool> {
                                 seen = c;
                                 return true;
                               },
                               0)));
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->disables, 0);
  EXPECT_EQ(countsAfter(w, 0).disables, 7);
}

TEST_F(ThresholdWindowStoreTest, ARefusedOrFailedDecisionWritesNothing) {
  auto store = openTenant();
  auto& w = store->thresholdWindow();
  EXPECT_FALSE(unwrap(w.admitIf(WindowAdmission{"r1", kNow, 3, 0}, 0,
                                [](const WindowCounts&) -> Result<bool> { return false; }, 0)));
  auto failed = w.admitIf(WindowAdmission{"r2", kNow, 3, 0}, 0,
                          [](const WindowCounts&) -> Result<bool> {
                            return conflictError("no");
                          },
                          0);
  EXPECT_EQ(failed.status().errorClass(), ErrorClass::kConflict);
  EXPECT_EQ(countsAfter(w, 0).disables, 0);
}

TEST_F(ThresholdWindowStoreTest, AReplannedRunReplacesItsEntryAndAnEmptyPlanKeepsIt) {
  auto store = openTenant();
  auto& w = store->thresholdWindow();
  ASSERT_TRUE(w.admit(WindowAdmission{"r1", kNow, 3, 1}, 0).isOk());
  ASSERT_TRUE(w.admit(WindowAdmission{"r1", kNow, 2, 0}, 0).isOk());
  EXPECT_EQ(countsAfter(w, 0).disables, 2);
  EXPECT_EQ(countsAfter(w, 0).deletes, 0);
  ASSERT_TRUE(w.admit(WindowAdmission{"r1", kNow, 0, 0}, 0).isOk());
  EXPECT_EQ(countsAfter(w, 0).disables, 2);
}

TEST_F(ThresholdWindowStoreTest, EntriesOlderThanTheForgetTimeAreDropped) {
  auto store = openTenant();
  auto& w = store->thresholdWindow();
  ASSERT_TRUE(w.admit(WindowAdmission{"old", kNow - 100'000, 5, 0}, 0).isOk());
  ASSERT_TRUE(w.admit(WindowAdmission{"new", kNow, 1, 0}, kNow - 50'000).isOk());
  EXPECT_EQ(countsAfter(w, 0).disables, 1);
}

TEST_F(ThresholdWindowStoreTest, AReopenedFileKeepsTheWindow) {
  {
    auto store = openTenant();
    ASSERT_TRUE(store->thresholdWindow().admit(WindowAdmission{"r1", kNow, 3, 2}, 0).isOk());
  }
  auto store = openTenant();
  EXPECT_EQ(countsAfter(store->thresholdWindow(), 0).deletes, 2);
  EXPECT_EQ(componentVersion(tenantPath(), "threshold_window"), 1);
}

}  // namespace
}  // namespace tenure::cp
