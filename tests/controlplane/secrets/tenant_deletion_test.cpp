// Tenant deletion against real SQLite files: the control DB, the tenant's own store file (with
// its -wal/-shm) and the data key.

#include "controlplane/service/tenant_deletion.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <set>

#include "common/base/clock.h"
#include "common/sqlite/database.h"
#include "controlplane/secrets/tenant_keys.h"
#include "controlplane/store/sqlite/sqlite_control_store.h"
#include "controlplane/tickets/ticket_service.h"
#include "tests/mocks/fake_http_client.h"

namespace tenure::cp {
namespace {

namespace fs = std::filesystem;

template <typename T>
T unwrap(Result<T> r) {
  EXPECT_TRUE(r.isOk()) << r.status().toString();
  return std::move(r).value();
}

class TenantDeletionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tenure-tdel-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto control = unwrap(SqliteControlStore::open(dir_ + "/control.db", clock_));
    control_file_ = control.get();
    control_ = std::move(control);
    stores_ = std::make_unique<TenantStores>(dir_ + "/tenants", clock_);
    keys_ = unwrap(TenantKeys::open(*control_, dir_ + "/master.key"));
    a_ = unwrap(control_->createTenant("A"));
    b_ = unwrap(control_->createTenant("B"));
    for (const auto* t : {&a_, &b_}) {
      auto store = unwrap(stores_->forTenant(t->tenant.tenant_id));
      RunRecord run;
      run.run_id = "r_" + t->tenant.name;
      run.created_at_ms = clock_.nowUnixMillis();
      hr::HrRecord person;
      person.employee_id = "E-" + t->tenant.name;
      person.given_name = "Given";
      person.family_name = "Family";
      ASSERT_TRUE(store->createRun(run, {person}).isOk());
      JobRecord job;
      job.job_id = run.run_id;
      job.tenant_id = t->tenant.tenant_id;
      job.run_id = run.run_id;
      job.created_at_ms = run.created_at_ms;
      ASSERT_TRUE(control_->enqueueJob(job).isOk());
    }
    a_agent_ = unwrap(control_->enrollAgent(a_.tenant.tenant_id, "h", "1"));
    b_agent_ = unwrap(control_->enrollAgent(b_.tenant.tenant_id, "h", "1"));
    a_sealed_ = unwrap(keys_->seal(a_.tenant.tenant_id, "c", "a-secret"));
    b_sealed_ = unwrap(keys_->seal(b_.tenant.tenant_id, "c", "b-secret"));
  }
  void TearDown() override {
    keys_.reset();
    stores_.reset();
    control_.reset();
    fs::remove_all(dir_);
  }
  Result<TenantDeletion> remove(const std::string& tenant_id) {
    return deleteTenant(tenant_id, *control_, *stores_, keys_.get(), nullptr);
  }
  std::string storePath(const TenantCredentials& t) {
    return dir_ + "/tenants/" + t.tenant.tenant_id + ".db";
  }

  ManualClock clock_;
  std::string dir_;
  std::unique_ptr<ControlStore> control_;
  SqliteControlStore* control_file_ = nullptr;  // control_, for inspecting the file in SQL
  std::unique_ptr<TenantStores> stores_;
  std::unique_ptr<TenantKeys> keys_;
  TenantCredentials a_, b_;
  EnrolledAgent a_agent_, b_agent_;
  std::string a_sealed_, b_sealed_;
};

TEST_F(TenantDeletionTest, RemovesTheStoreFilesCredentialsAgentsJobsAndDataKey) {
  ASSERT_TRUE(fs::exists(storePath(a_)));
  ASSERT_TRUE(fs::exists(storePath(a_) + "-wal")) << "the store is open in WAL mode";
  auto deleted = unwrap(remove(a_.tenant.tenant_id));
  EXPECT_TRUE(deleted.tenant_existed);
  EXPECT_TRUE(deleted.store_existed);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    EXPECT_FALSE(fs::exists(storePath(a_) + suffix)) << suffix;
  }
  EXPECT_FALSE(unwrap(control_->tenantById(a_.tenant.tenant_id)).has_value());
  EXPECT_FALSE(unwrap(control_->tenantByApiToken(a_.api_token)).has_value());
  EXPECT_FALSE(unwrap(control_->tenantByEnrollSecret(a_.enroll_secret)).has_value());
  EXPECT_FALSE(unwrap(control_->agentByNodeKey(a_agent_.node_key)).has_value());
  EXPECT_TRUE(unwrap(control_->listJobs(a_.tenant.tenant_id)).empty());
  EXPECT_FALSE(unwrap(control_->job("r_A")).has_value());
  auto opened = keys_->open(a_.tenant.tenant_id, "c", a_sealed_);
  ASSERT_FALSE(opened.isOk());
  EXPECT_EQ(opened.status().errorClass(), ErrorClass::kData);
}

// Rows other components keep per tenant in the control DB: schedules, agent health and the
// operators' ticket index. Seeds both tenants, deletes A, and reads every table back.
class TenantDeletionComponentsTest : public TenantDeletionTest {
 protected:
  void SetUp() override {
    TenantDeletionTest::SetUp();
    tickets_ = std::make_unique<TicketService>(io_, *control_, *stores_, clock_,
                                               [] { return nullptr; },
                                               SinkTransport{http_, mail_});
    for (const auto* t : {&a_, &b_}) {
      Schedule s;
      s.tenant_id = t->tenant.tenant_id;
      s.kind = "reconcile";
      s.cron = "* * * * *";
      s.next_run_at_ms = clock_.nowUnixMillis() + 60'000;
      ASSERT_TRUE(control_->createSchedule(s).isOk());
      ASSERT_TRUE(tickets_
                      ->raiseOrFail(Detection{t->tenant.tenant_id, "bad_hr_data",
                                              "E-" + t->tenant.name, "rejected", "fix it"})
                      .isOk());
    }
    for (const auto* agent : {&a_agent_, &b_agent_}) {
      ASSERT_TRUE(control_->recordAgentResult(agent->agent.agent_id, true, "bind failed").isOk());
    }
  }
  void TearDown() override {
    tickets_.reset();
    TenantDeletionTest::TearDown();
  }
  std::set<std::string> dueTenants() {
    std::set<std::string> out;
    for (const auto& s : unwrap(control_->dueSchedules(clock_.nowUnixMillis() + 86'400'000))) {
      out.insert(s.tenant_id);
    }
    return out;
  }
  std::set<std::string> ticketTenants() {
    std::set<std::string> out;
    for (const auto& e : unwrap(tickets_->listAll(TicketFilter{}))) out.insert(e.tenant_id);
    return out;
  }
  int64_t rows(const std::string& sql) {
    return unwrap(control_file_->withDatabase([&](sqlite::Database& db) -> Result<int64_t> {
      ASSIGN_OR_RETURN(auto st, db.prepare(sql));
      ASSIGN_OR_RETURN(bool row, st.step());
      return row ? st.columnInt64(0) : 0;
    }));
  }

  boost::asio::io_context io_;
  // No sink is configured: nothing is ever sent.
  tenure::testing::FakeHttpClient http_;
  tenure::testing::FakeMailTransport mail_;
  std::unique_ptr<TicketService> tickets_;
};

TEST_F(TenantDeletionComponentsTest, SchedulesAgentHealthAndTicketIndexGoWithTheTenant) {
  const std::string a = a_.tenant.tenant_id, b = b_.tenant.tenant_id;
  ASSERT_EQ(dueTenants(), (std::set<std::string>{a, b}));
  ASSERT_EQ(ticketTenants(), (std::set<std::string>{a, b}));
  ASSERT_EQ(rows("SELECT count(*) FROM agent_health"), 2);
  ASSERT_TRUE(remove(a).isOk());
  // A's schedules are no longer due at any time: the scheduler never fires them.
  EXPECT_EQ(dueTenants(), std::set<std::string>{b});
  EXPECT_EQ(rows("SELECT count(*) FROM schedules WHERE tenant_id = '" + a + "'"), 0);
  EXPECT_EQ(ticketTenants(), std::set<std::string>{b});
  EXPECT_EQ(rows("SELECT count(*) FROM ticket_index WHERE tenant_id = '" + a + "'"), 0);
  EXPECT_EQ(rows("SELECT count(*) FROM agent_health WHERE agent_id = '" + a_agent_.agent.agent_id +
                 "'"),
            0);
  EXPECT_EQ(rows("SELECT count(*) FROM agent_health WHERE agent_id = '" + b_agent_.agent.agent_id +
                 "'"),
            1);
}

TEST_F(TenantDeletionTest, AControlDbWithoutTheTicketIndexStillDeletes) {
  // The ticket component never ran here: its table does not exist. (Every component's tables are
  // created when the file opens now; a file from before the ticket index is made by dropping it.)
  {
    auto db = unwrap(sqlite::Database::open(dir_ + "/control.db"));
    ASSERT_TRUE(db.exec("DROP TABLE ticket_index").isOk());
  }
  EXPECT_EQ(unwrap(control_file_->withDatabase([](sqlite::Database& db) -> Result<bool> {
              ASSIGN_OR_RETURN(auto st, db.prepare("SELECT 1 FROM sqlite_master WHERE name = "
                                                   "'ticket_index'"));
              return st.step();
            })),
            false);
  auto deleted = unwrap(remove(a_.tenant.tenant_id));
  EXPECT_TRUE(deleted.tenant_existed);
}

TEST_F(TenantDeletionTest, LeavesOtherTenantsAlone) {
  ASSERT_TRUE(remove(a_.tenant.tenant_id).isOk());
  EXPECT_TRUE(fs::exists(storePath(b_)));
  EXPECT_TRUE(unwrap(control_->tenantByApiToken(b_.api_token)).has_value());
  EXPECT_TRUE(unwrap(control_->agentByNodeKey(b_agent_.node_key)).has_value());
  EXPECT_EQ(unwrap(control_->listJobs(b_.tenant.tenant_id)).size(), 1u);
  EXPECT_EQ(unwrap(keys_->open(b_.tenant.tenant_id, "c", b_sealed_)), "b-secret");
  auto b_store = unwrap(stores_->forTenant(b_.tenant.tenant_id));
  EXPECT_TRUE(unwrap(b_store->identity("E-B")).has_value());
}

TEST_F(TenantDeletionTest, TheStoreIsNotRecreatedAfterDeletion) {
  ASSERT_TRUE(remove(a_.tenant.tenant_id).isOk());
  auto again = stores_->forTenant(a_.tenant.tenant_id);
  ASSERT_FALSE(again.isOk());
  EXPECT_EQ(again.status().errorClass(), ErrorClass::kNotFound);
  EXPECT_FALSE(fs::exists(storePath(a_)));
}

TEST_F(TenantDeletionTest, AnUnknownTenantIsNotFound) {
  for (const std::string& id : std::vector<std::string>{"t_nosuch", "../control", ""}) {
    auto r = remove(id);
    ASSERT_FALSE(r.isOk()) << id;
    EXPECT_EQ(r.status().errorClass(), ErrorClass::kNotFound) << id;
  }
  EXPECT_TRUE(fs::exists(dir_ + "/control.db"));
}

TEST_F(TenantDeletionTest, ADeletionThatCrashedAfterTheControlDbIsFinishedByRunningItAgain) {
  // The control DB step committed; the store file and data key were left behind.
  ASSERT_TRUE(unwrap(control_->deleteTenant(a_.tenant.tenant_id)));
  // A fresh process: nothing open.
  stores_ = std::make_unique<TenantStores>(dir_ + "/tenants", clock_);
  ASSERT_TRUE(fs::exists(storePath(a_)));
  auto deleted = unwrap(remove(a_.tenant.tenant_id));
  EXPECT_FALSE(deleted.tenant_existed);
  EXPECT_TRUE(deleted.store_existed);
  EXPECT_FALSE(fs::exists(storePath(a_)));
  EXPECT_FALSE(keys_->open(a_.tenant.tenant_id, "c", a_sealed_).isOk());
}

TEST_F(TenantDeletionTest, HooksRunForTheDeletedTenant) {
  std::vector<std::string> seen;
  auto r = deleteTenant(a_.tenant.tenant_id, *control_, *stores_, keys_.get(), nullptr,
                        {[&](const std::string& t) {
                          seen.push_back(t);
                          return Status::ok();
                        }});
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(seen, std::vector<std::string>{a_.tenant.tenant_id});
}

}  // namespace
}  // namespace tenure::cp
