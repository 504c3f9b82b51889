// IdentityEventStore on a real SQLite tenant file.

#include "controlplane/store/identity_event_store.h"

#include <gtest/gtest.h>

#include "controlplane/store/sqlite/sqlite_identity_event_store.h"
#include "tests/controlplane/store/component_store_fixture.h"

namespace tenure::cp {
namespace {

using testing::ComponentStoreTest;
using testing::unwrap;

IdentityEvent event(const std::string& employee_id, const std::string& kind, int64_t at_ms,
                    const std::string& run_id) {
  IdentityEvent e;
  e.employee_id = employee_id;
  e.kind = kind;
  e.at_ms = at_ms;
  e.run_id = run_id;
  e.source = kind == "hr" ? "csv" : "agent";
  e.actor = kind == "hr" ? "hr" : "agent a1";
  e.agent_id = kind == "hr" ? "" : "a1";
  e.summary = kind + " at " + std::to_string(at_ms);
  e.detail = boost::json::object{{"n", at_ms}};
  return e;
}

class IdentityEventStoreTest : public ComponentStoreTest {
 protected:
  Status append(const IdentityEvent& e, const std::string& snapshot) {
    return tenant_->events().record(
        [&](IdentityEventStore::Recording& r) { return r.append(e, snapshot); });
  }
};

TEST_F(IdentityEventStoreTest, TheMigrationRunsWhenTheFileOpens) {
  EXPECT_EQ(componentVersion(*tenant_, SqliteIdentityEventStore::kComponent), 1);
  EXPECT_EQ(unwrap(tenant_->events().history("E1", INT64_MAX)).total_events, 0);
}

TEST_F(IdentityEventStoreTest, EventsSurviveAReopenWithEveryField) {
  ASSERT_TRUE(append(event("E1", "directory", 100, "r1"), R"({"dn":"CN=x"})").isOk());
  reopen();
  auto events = unwrap(tenant_->events().events("E1", 0, 10));
  ASSERT_EQ(events.size(), 1u);
  const IdentityEvent& e = events[0];
  EXPECT_EQ(e.id, 1);
  EXPECT_EQ(e.employee_id, "E1");
  EXPECT_EQ(e.kind, "directory");
  EXPECT_EQ(e.at_ms, 100);
  EXPECT_EQ(e.run_id, "r1");
  EXPECT_EQ(e.source, "agent");
  EXPECT_EQ(e.actor, "agent a1");
  EXPECT_EQ(e.agent_id, "a1");
  EXPECT_EQ(e.summary, "directory at 100");
  EXPECT_EQ(e.detail, (boost::json::object{{"n", 100}}));
}

TEST_F(IdentityEventStoreTest, AFailedRecordingKeepsNothing) {
  Status st = tenant_->events().record([&](IdentityEventStore::Recording& r) -> Status {
    RETURN_IF_ERROR(r.append(event("E1", "hr", 100, "r1"), "{}"));
    return dataError("changed my mind");
  });
  EXPECT_EQ(st.errorClass(), ErrorClass::kData);
  EXPECT_TRUE(unwrap(tenant_->events().events("E1", 0, 10)).empty());
}

TEST_F(IdentityEventStoreTest, LastSnapshotIsTheNewestAtOrBeforeTheInstantAndSeesTheRecording) {
  ASSERT_TRUE(append(event("E1", "hr", 100, "r1"), "hr@100").isOk());
  ASSERT_TRUE(append(event("E1", "lifecycle", 150, "r1"), "").isOk());
  ASSERT_TRUE(append(event("E1", "hr", 200, "r2"), "hr@200").isOk());
  ASSERT_TRUE(append(event("E2", "hr", 300, "r3"), "other person").isOk());
  ASSERT_TRUE(tenant_->events()
                  .record([&](IdentityEventStore::Recording& r) -> Status {
                    EXPECT_EQ(unwrap(r.lastSnapshot("E1", "hr", 199)), "hr@100");
                    EXPECT_EQ(unwrap(r.lastSnapshot("E1", "hr", INT64_MAX)), "hr@200");
                    EXPECT_EQ(unwrap(r.lastSnapshot("E1", "hr", INT64_MAX, "r2")), "hr@100");
                    EXPECT_FALSE(unwrap(r.lastSnapshot("E1", "hr", 99)).has_value());
                    EXPECT_FALSE(unwrap(r.lastSnapshot("E1", "directory", INT64_MAX)).has_value());
                    RETURN_IF_ERROR(r.append(event("E1", "hr", 200, "r4"), "hr@200 again"));
                    // Same instant: the later insert is the newer.
                    EXPECT_EQ(unwrap(r.lastSnapshot("E1", "hr", INT64_MAX)), "hr@200 again");
                    return Status::ok();
                  })
                  .isOk());
}

TEST_F(IdentityEventStoreTest, RemovingARunsAgentEventsKeepsItsHrEvents) {
  ASSERT_TRUE(append(event("E1", "hr", 100, "r1"), "hr").isOk());
  ASSERT_TRUE(append(event("E1", "directory", 110, "r1"), "dir").isOk());
  ASSERT_TRUE(append(event("E1", "lifecycle", 110, "r1"), "").isOk());
  ASSERT_TRUE(append(event("E1", "directory", 120, "r2"), "dir2").isOk());
  ASSERT_TRUE(
      tenant_->events()
          .record([](IdentityEventStore::Recording& r) { return r.removeAgentEvents("r1"); })
          .isOk());
  auto left = unwrap(tenant_->events().events("E1", 0, 10));
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].kind, "hr");
  EXPECT_EQ(left[1].run_id, "r2");
}

TEST_F(IdentityEventStoreTest, HistoryIsUpToTheInstantInTimeOrder) {
  ASSERT_TRUE(append(event("E1", "hr", 300, "r2"), "hr@300").isOk());
  ASSERT_TRUE(append(event("E1", "hr", 100, "r1"), "hr@100").isOk());
  ASSERT_TRUE(append(event("E1", "directory", 200, "r1"), "dir@200").isOk());
  auto h = unwrap(tenant_->events().history("E1", 250));
  EXPECT_EQ(h.total_events, 3);
  EXPECT_EQ(h.hr_snapshot, "hr@100");
  EXPECT_EQ(h.directory_snapshot, "dir@200");
  ASSERT_EQ(h.events.size(), 2u);
  EXPECT_EQ(h.events[0].at_ms, 100);
  EXPECT_EQ(h.events[1].at_ms, 200);
  auto before = unwrap(tenant_->events().history("E1", 50));
  EXPECT_EQ(before.total_events, 3);
  EXPECT_FALSE(before.hr_snapshot.has_value());
  EXPECT_TRUE(before.events.empty());
}

TEST_F(IdentityEventStoreTest, EventsArePagedByIdPerPerson) {
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(append(event("E1", "hr", i, "r"), "s").isOk());
  ASSERT_TRUE(append(event("E2", "hr", 4, "r"), "s").isOk());
  auto page = unwrap(tenant_->events().events("E1", 1, 1));
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].id, 2);
  EXPECT_EQ(unwrap(tenant_->events().events("E1", 0, 10)).size(), 3u);
}

}  // namespace
}  // namespace tenure::cp
