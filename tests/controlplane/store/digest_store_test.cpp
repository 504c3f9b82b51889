#include "controlplane/store/digest_store.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "tests/controlplane/store/component_store_fixture.h"

namespace tenure::cp {
namespace {

using testing::componentVersion;
using testing::unwrap;

constexpr int64_t kNow = 1'700'000'000'000;

NewDigest onDemand(int64_t start_ms, int64_t end_ms) {
  NewDigest n;
  n.period_start_ms = start_ms;
  n.period_end_ms = end_ms;
  n.trigger = "on_demand";
  n.status = "pending";
  n.created_at_ms = end_ms;
  return n;
}

class DigestStoreTest : public testing::StoreTestDir {
 protected:
  void SetUp() override {
    StoreTestDir::SetUp();
    tenant_ = openTenant();
  }
  DigestStore& digests() { return tenant_->digests(); }

  std::unique_ptr<SqliteTenantStore> tenant_;
};

TEST_F(DigestStoreTest, TheComponentIsMigratedWhenTheFileOpens) {
  EXPECT_EQ(componentVersion(tenantPath(), "report_digest"), 1);
}

TEST_F(DigestStoreTest, SettingsKeepTheirOriginAndCreationTimeWhenReplaced) {
  EXPECT_FALSE(unwrap(digests().settings()));
  auto first = unwrap(digests().saveSettings("{\"v\":1}", kNow + 100, "", kNow));
  EXPECT_EQ(first.document, "{\"v\":1}");
  EXPECT_EQ(first.origin_ms, kNow);
  EXPECT_EQ(first.next_slot_ms, kNow + 100);
  auto second = unwrap(digests().saveSettings("{\"v\":2}", 0, "no time zone", kNow + 50));
  EXPECT_EQ(second.document, "{\"v\":2}");
  EXPECT_EQ(second.origin_ms, kNow);
  EXPECT_EQ(second.created_at_ms, kNow);
  EXPECT_EQ(second.updated_at_ms, kNow + 50);
  EXPECT_EQ(second.next_slot_ms, 0);
  EXPECT_EQ(second.schedule_error, "no time zone");
  auto read = unwrap(digests().settings());
  ASSERT_TRUE(read);
  EXPECT_EQ(read->document, "{\"v\":2}");
}

TEST_F(DigestStoreTest, AnUnscheduledSlotIsSetOnlyWhileNoneIs) {
  ASSERT_TRUE(digests().saveSettings("{}", 0, "no time zone", kNow).isOk());
  ASSERT_TRUE(digests().scheduleIfUnscheduled(kNow + 10).isOk());
  EXPECT_EQ(unwrap(digests().settings())->next_slot_ms, kNow + 10);
  EXPECT_EQ(unwrap(digests().settings())->schedule_error, "");
  ASSERT_TRUE(digests().scheduleIfUnscheduled(kNow + 20).isOk());
  EXPECT_EQ(unwrap(digests().settings())->next_slot_ms, kNow + 10);
}

TEST_F(DigestStoreTest, PeriodsAreContiguousFromTheOrigin) {
  EXPECT_FALSE(unwrap(digests().nextPeriodStart()));
  EXPECT_FALSE(unwrap(digests().createDigest(onDemand(kNow, kNow + 10)))) << "no settings";
  ASSERT_TRUE(digests().saveSettings("{}", 0, "", kNow).isOk());
  EXPECT_EQ(unwrap(digests().nextPeriodStart()), kNow);
  EXPECT_FALSE(unwrap(digests().createDigest(onDemand(kNow - 1, kNow + 10))))
      << "not where the last period ended";
  auto d = unwrap(digests().createDigest(onDemand(kNow, kNow + 10)));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->period_start_ms, kNow);
  EXPECT_EQ(d->period_end_ms, kNow + 10);
  EXPECT_EQ(d->trigger, "on_demand");
  EXPECT_EQ(d->status, "pending");
  EXPECT_EQ(d->next_attempt_at_ms, kNow + 10);
  EXPECT_EQ(unwrap(digests().nextPeriodStart()), kNow + 10);
  EXPECT_FALSE(unwrap(digests().createDigest(onDemand(kNow, kNow + 20))));
}

TEST_F(DigestStoreTest, AScheduledDigestNeedsItsSlotAndMovesIt) {
  ASSERT_TRUE(digests().saveSettings("{}", kNow + 10, "", kNow).isOk());
  NewDigest n = onDemand(kNow, kNow + 10);
  n.trigger = "schedule";
  n.slot_ms = kNow + 5;  // not the settings' slot
  n.next_slot_ms = kNow + 20;
  EXPECT_FALSE(unwrap(digests().createDigest(n)));
  n.slot_ms = kNow + 10;
  ASSERT_TRUE(unwrap(digests().createDigest(n)));
  EXPECT_EQ(unwrap(digests().settings())->next_slot_ms, kNow + 20);
  // An empty period creates nothing but still moves the slot, with the error when there is no
  // next one.
  NewDigest empty = onDemand(kNow + 10, kNow + 10);
  empty.slot_ms = kNow + 20;
  empty.next_slot_ms = 0;
  empty.next_slot_error = "cannot compute";
  EXPECT_FALSE(unwrap(digests().createDigest(empty)));
  EXPECT_EQ(unwrap(digests().settings())->next_slot_ms, 0);
  EXPECT_EQ(unwrap(digests().settings())->schedule_error, "cannot compute");
  EXPECT_EQ(unwrap(digests().digests(10)).size(), 1u);
}

TEST_F(DigestStoreTest, DueDigestsAreSentOrRetriedOnlyWhilePending) {
  ASSERT_TRUE(digests().saveSettings("{}", 0, "", kNow).isOk());
  auto a = *unwrap(digests().createDigest(onDemand(kNow, kNow + 10)));
  auto b = *unwrap(digests().createDigest(onDemand(kNow + 10, kNow + 20)));
  EXPECT_EQ(unwrap(digests().dueDigests(kNow + 10, 20)).size(), 1u);
  EXPECT_EQ(unwrap(digests().dueDigests(kNow + 20, 1)).size(), 1u);
  ASSERT_TRUE(digests().markFailed(a.id, kNow + 1'000, "refused").isOk());
  auto due = unwrap(digests().dueDigests(kNow + 20, 20));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].id, b.id);
  ASSERT_TRUE(digests().markSent(b.id, kNow + 30, "Digest").isOk());
  ASSERT_TRUE(digests().markFailed(b.id, kNow + 99, "late").isOk());  // sent: unchanged
  auto list = unwrap(digests().digests(10));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, b.id) << "newest first";
  EXPECT_EQ(list[0].status, "sent");
  EXPECT_EQ(list[0].sent_at_ms, kNow + 30);
  EXPECT_EQ(list[0].subject, "Digest");
  EXPECT_EQ(list[0].attempts, 1);
  EXPECT_EQ(list[0].last_error, "");
  EXPECT_EQ(list[1].status, "pending");
  EXPECT_EQ(list[1].attempts, 1);
  EXPECT_EQ(list[1].last_error, "refused");
  EXPECT_EQ(list[1].next_attempt_at_ms, kNow + 1'000);
}

TEST_F(DigestStoreTest, DeletingTheSettingsDeletesEveryDigest) {
  EXPECT_FALSE(unwrap(digests().deleteSettings()));
  ASSERT_TRUE(digests().saveSettings("{}", 0, "", kNow).isOk());
  ASSERT_TRUE(unwrap(digests().createDigest(onDemand(kNow, kNow + 10))));
  EXPECT_TRUE(unwrap(digests().deleteSettings()));
  EXPECT_FALSE(unwrap(digests().settings()));
  EXPECT_TRUE(unwrap(digests().digests(10)).empty());
  EXPECT_FALSE(unwrap(digests().nextPeriodStart()));
}

TEST_F(DigestStoreTest, AReopenedFileKeepsSettingsAndDigests) {
  ASSERT_TRUE(digests().saveSettings("{}", 0, "", kNow).isOk());
  ASSERT_TRUE(unwrap(digests().createDigest(onDemand(kNow, kNow + 10))));
  tenant_.reset();
  tenant_ = openTenant();
  EXPECT_TRUE(unwrap(digests().settings()));
  EXPECT_EQ(unwrap(digests().digests(10)).size(), 1u);
  EXPECT_EQ(componentVersion(tenantPath(), "report_digest"), 1);
}

}  // namespace
}  // namespace tenure::cp
