#include "controlplane/store/ticket_store.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "controlplane/store/ticket_index_store.h"
#include "tests/controlplane/store/component_store_fixture.h"

namespace tenure::cp {
namespace {

using testing::componentVersion;
using testing::unwrap;

constexpr int64_t kNow = 1'700'000'000'000;

Ticket newTicket(const std::string& id, const std::string& subject, int64_t seen_ms) {
  Ticket t;
  t.ticket_id = id;
  t.detector = "bad_hr_data";
  t.subject = subject;
  t.state = "open";
  t.count = 1;
  t.first_seen_ms = seen_ms;
  t.last_seen_ms = seen_ms;
  t.summary = subject + " has no start date";
  t.hint = "fix it in HR";
  return t;
}

// An edit that stores `t` with `event` whatever is stored.
TicketStore::TicketEdit store(Ticket t, std::string event = "opened", int64_t at_ms = kNow) {
  return [t = std::move(t), event = std::move(event), at_ms](std::optional<Ticket>)
             -> Result<std::optional<TicketChange>> {
    return std::optional<TicketChange>(TicketChange{t, event, at_ms});
  };
}

class TicketStoreTest : public testing::StoreTestDir {
 protected:
  void SetUp() override {
    StoreTestDir::SetUp();
    tenant_ = openTenant();
  }
  TicketStore& tickets() { return tenant_->tickets(); }
  void twoSinks() {
    ASSERT_TRUE(tickets().replaceSinks({{"mail", R"({"id":"mail"})"}, {"snow", "{}"}}).isOk());
  }

  std::unique_ptr<SqliteTenantStore> tenant_;
};

TEST_F(TicketStoreTest, TheComponentsAreMigratedWhenTheFilesOpen) {
  EXPECT_EQ(componentVersion(tenantPath(), "tickets"), 2);
  auto control = openControl();
  EXPECT_EQ(componentVersion(controlPath(), "ticket_index"), 1);
}

TEST_F(TicketStoreTest, AnEditSeesTheStoredTicketAndStoresItsChangeWithOneNotificationPerSink) {
  twoSinks();
  std::optional<Ticket> seen = newTicket("x", "x", 0);
  ASSERT_TRUE(tickets().editTicketFor("bad_hr_data", "E1",
                                      [&](std::optional<Ticket> current)
                                          -> Result<std::optional<TicketChange>> {
                                        seen = current;
                                        return std::optional<TicketChange>(TicketChange{
                                            newTicket("tk_1", "E1", kNow), "opened", kNow});
                                      })
                  .isOk());
  EXPECT_FALSE(seen) << "no ticket with that fingerprint yet";
  ASSERT_TRUE(tickets().editTicketFor("bad_hr_data", "E1",
                                      [&](std::optional<Ticket> current)
                                          -> Result<std::optional<TicketChange>> {
                                        seen = current;
                                        return std::optional<TicketChange>();
                                      })
                  .isOk());
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->ticket_id, "tk_1");
  EXPECT_EQ(seen->summary, "E1 has no start date");
  auto pending = unwrap(tickets().pendingNotifications());
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].sink_id, "mail");
  EXPECT_EQ(pending[1].sink_id, "snow");
  EXPECT_EQ(pending[0].event, "opened");
  EXPECT_EQ(pending[0].next_attempt_at_ms, kNow);
}

TEST_F(TicketStoreTest, AFailedOrEmptyEditWritesNothing) {
  twoSinks();
  auto failed = tickets().editTicket("tk_1", [](std::optional<Ticket> current)
                                                 -> Result<std::optional<TicketChange>> {
    if (!current) return notFoundError("no such ticket");
    return std::optional<TicketChange>();
  });
  EXPECT_EQ(failed.status().errorClass(), ErrorClass::kNotFound);
  EXPECT_FALSE(unwrap(tickets().editTicket("tk_1", [](std::optional<Ticket>)
                                                       -> Result<std::optional<TicketChange>> {
    return std::optional<TicketChange>();
  })));
  EXPECT_TRUE(unwrap(tickets().tickets("", 100)).empty());
  EXPECT_TRUE(unwrap(tickets().pendingNotifications()).empty());
}

TEST_F(TicketStoreTest, AChangeWithoutAnEventQueuesNothingAndAResolutionNamesItsActor) {
  twoSinks();
  Ticket t = newTicket("tk_1", "E1", kNow);
  ASSERT_TRUE(tickets().editTicket("tk_1", store(t, "")).isOk());
  EXPECT_TRUE(unwrap(tickets().pendingNotifications()).empty());
  t.state = "resolved";
  t.resolved_by = "olga";
  t.resolved_at_ms = kNow + 5;
  ASSERT_TRUE(tickets().editTicket("tk_1", store(t, "resolved", kNow + 5)).isOk());
  auto due = unwrap(tickets().dueNotifications(kNow + 5, 100));
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].event, "resolved");
  EXPECT_EQ(due[0].actor, "olga");
  EXPECT_EQ(due[0].state, "resolved");
  EXPECT_EQ(due[0].ticket.subject, "E1");
  EXPECT_EQ(due[0].ticket.summary, "E1 has no start date");
}

TEST_F(TicketStoreTest, TicketsAreListedByStateMostRecentFirstWithTheirRecords) {
  ASSERT_TRUE(tickets().editTicket("tk_1", store(newTicket("tk_1", "E1", kNow))).isOk());
  Ticket later = newTicket("tk_2", "E2", kNow + 10);
  later.state = "acknowledged";
  ASSERT_TRUE(tickets().editTicket("tk_2", store(later)).isOk());
  auto all = unwrap(tickets().tickets("", 100));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].ticket_id, "tk_2");
  EXPECT_EQ(all[1].ticket_id, "tk_1");
  EXPECT_EQ(unwrap(tickets().tickets("open", 100)).size(), 1u);
  EXPECT_EQ(unwrap(tickets().tickets("", 1)).size(), 1u);
  EXPECT_FALSE(unwrap(tickets().ticket("tk_none")));

  DeliveryAttempt a;
  a.notification_id = 0;
  a.at_ms = kNow;
  a.finished = true;
  a.sink_record = DeliveryAttempt::SinkRecord{
      "tk_1", "snow", "servicenow",
      ExternalTicketRecord{"INC0010001", "sys1", "https://snow/inc1", "https://snow"}};
  ASSERT_TRUE(tickets().recordDelivery(a).isOk());
  auto one = unwrap(tickets().ticket("tk_1"));
  ASSERT_TRUE(one);
  ASSERT_EQ(one->external.size(), 1u);
  EXPECT_EQ(one->external[0].ref, "INC0010001");
  EXPECT_EQ(one->external[0].sink_type, "servicenow");
  EXPECT_EQ(unwrap(tickets().tickets("", 100))[1].external.size(), 1u);
}

TEST_F(TicketStoreTest, SinksAreReplacedWholeAndKeepTheirOrder) {
  twoSinks();
  ASSERT_TRUE(tickets().replaceSinks({{"hook", "{\"a\":1}"}, {"mail", "{}"}}).isOk());
  auto sinks = unwrap(tickets().sinks());
  ASSERT_EQ(sinks.size(), 2u);
  EXPECT_EQ(sinks[0].sink_id, "hook");
  EXPECT_EQ(sinks[0].document, "{\"a\":1}");
  EXPECT_EQ(sinks[1].sink_id, "mail");
}

TEST_F(TicketStoreTest, AFailedAttemptBacksOffAndHoldsBackLaterRowsOfTheSamePair) {
  twoSinks();
  Ticket t = newTicket("tk_1", "E1", kNow);
  ASSERT_TRUE(tickets().editTicket("tk_1", store(t, "opened")).isOk());
  t.state = "resolved";
  t.resolved_by = "auto";
  ASSERT_TRUE(tickets().editTicket("tk_1", store(t, "resolved")).isOk());
  auto due = unwrap(tickets().dueNotifications(kNow, 100));
  ASSERT_EQ(due.size(), 4u);
  // The opening to "mail" fails: its resolution waits; "snow" goes on.
  DeliveryAttempt failed;
  failed.notification_id = due[0].id;
  failed.at_ms = kNow;
  failed.retry_at_ms = kNow + 1'000;
  failed.last_error = "connection refused";
  failed.progress = 1;
  ASSERT_TRUE(tickets().recordDelivery(failed).isOk());
  due = unwrap(tickets().dueNotifications(kNow + 500, 100));
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].sink_id, "snow");
  EXPECT_EQ(due[1].sink_id, "snow");
  due = unwrap(tickets().dueNotifications(kNow + 1'000, 100));
  ASSERT_EQ(due.size(), 4u);
  EXPECT_EQ(due[0].attempts, 1);
  EXPECT_EQ(due[0].progress, 1);
  auto history = unwrap(tickets().notifications("tk_1"));
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history[0].last_error, "connection refused");
  EXPECT_EQ(history[0].delivered_at_ms, 0);
}

TEST_F(TicketStoreTest, AFinishedAttemptIsDeliveredWithItsOutcomeAndItsRecordKeptOrForgotten) {
  twoSinks();
  ASSERT_TRUE(tickets().editTicket("tk_1", store(newTicket("tk_1", "E1", kNow))).isOk());
  auto due = unwrap(tickets().dueNotifications(kNow, 100));
  ASSERT_EQ(due.size(), 2u);
  DeliveryAttempt done;
  done.notification_id = due[1].id;
  done.at_ms = kNow + 7;
  done.finished = true;
  done.outcome = "created";
  done.progress = 0;
  done.sink_record = DeliveryAttempt::SinkRecord{
      "tk_1", "snow", "servicenow", ExternalTicketRecord{"INC1", "sys1", "u", "https://snow"}};
  ASSERT_TRUE(tickets().recordDelivery(done).isOk());
  auto record = unwrap(tickets().externalRecord("tk_1", "snow"));
  ASSERT_TRUE(record);
  EXPECT_EQ(record->record_id, "sys1");
  EXPECT_EQ(record->target, "https://snow");
  auto pending = unwrap(tickets().pendingNotifications());
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].sink_id, "mail");
  auto history = unwrap(tickets().notifications("tk_1"));
  EXPECT_EQ(history[1].outcome, "created");
  EXPECT_EQ(history[1].delivered_at_ms, kNow + 7);
  EXPECT_EQ(history[1].attempts, 1);

  done.notification_id = due[0].id;
  done.outcome = "gone";
  done.sink_record->record.reset();
  ASSERT_TRUE(tickets().recordDelivery(done).isOk());
  EXPECT_FALSE(unwrap(tickets().externalRecord("tk_1", "snow")));
}

TEST_F(TicketStoreTest, AReopenedFileKeepsTicketsSinksAndOutbox) {
  twoSinks();
  ASSERT_TRUE(tickets().editTicket("tk_1", store(newTicket("tk_1", "E1", kNow))).isOk());
  tenant_.reset();
  tenant_ = openTenant();
  EXPECT_EQ(unwrap(tickets().tickets("", 100)).size(), 1u);
  EXPECT_EQ(unwrap(tickets().sinks()).size(), 2u);
  EXPECT_EQ(unwrap(tickets().pendingNotifications()).size(), 2u);
  EXPECT_EQ(componentVersion(tenantPath(), "tickets"), 2);
}

class TicketIndexStoreTest : public testing::StoreTestDir {};

TEST_F(TicketIndexStoreTest, AnEntryIsAddedThenUpdatedAndFilteredMostRecentFirst) {
  auto control = openControl();
  auto& index = control->ticketIndex();
  ASSERT_TRUE(index.indexTicket({"tk_1", "t_a", "bad_hr_data", "open", 1, kNow, kNow}).isOk());
  ASSERT_TRUE(index.indexTicket({"tk_2", "t_b", "agent_silent", "open", 1, kNow, kNow + 5}).isOk());
  // Tenant, detector and first_seen never change.
  ASSERT_TRUE(
      index.indexTicket({"tk_1", "t_x", "x", "resolved", 3, kNow + 1, kNow + 9}).isOk());
  auto all = unwrap(index.indexedTickets({}, 10));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].ticket_id, "tk_1");
  EXPECT_EQ(all[0].tenant_id, "t_a");
  EXPECT_EQ(all[0].detector, "bad_hr_data");
  EXPECT_EQ(all[0].state, "resolved");
  EXPECT_EQ(all[0].count, 3);
  EXPECT_EQ(all[0].first_seen_ms, kNow);
  EXPECT_EQ(all[0].last_seen_ms, kNow + 9);
  EXPECT_EQ(unwrap(index.indexedTickets({"open", "", ""}, 10)).size(), 1u);
  EXPECT_EQ(unwrap(index.indexedTickets({"", "t_b", ""}, 10)).size(), 1u);
  EXPECT_EQ(unwrap(index.indexedTickets({"", "", "agent_silent"}, 10)).size(), 1u);
  EXPECT_TRUE(unwrap(index.indexedTickets({"open", "t_a", ""}, 10)).empty());
  EXPECT_EQ(unwrap(index.indexedTickets({}, 1)).size(), 1u);
}

TEST_F(TicketIndexStoreTest, AReopenedFileKeepsTheIndexAndDeletingTheTenantEmptiesIt) {
  {
    auto control = openControl();
    ASSERT_TRUE(control->ticketIndex().indexTicket({"tk_1", "t_a", "d", "open", 1, 1, 1}).isOk());
  }
  auto control = openControl();
  EXPECT_EQ(unwrap(control->ticketIndex().indexedTickets({}, 10)).size(), 1u);
  EXPECT_EQ(componentVersion(controlPath(), "ticket_index"), 1);
  ASSERT_TRUE(control->deleteTenant("t_a").isOk());
  EXPECT_TRUE(unwrap(control->ticketIndex().indexedTickets({}, 10)).empty());
}

}  // namespace
}  // namespace tenure::cp
