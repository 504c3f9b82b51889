// AccessChainStore on real SQLite files: the chain in the control database and in a tenant's.

#include "controlplane/store/access_chain_store.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "controlplane/store/sqlite/sqlite_access_chain_store.h"
#include "tests/controlplane/store/component_store_fixture.h"

namespace tenure::cp {
namespace {

using testing::ComponentStoreTest;
using testing::unwrap;

AccessEntry entry(const std::string& principal) {
  AccessEntry e;
  e.at_ms = 1'700'000'000'000;
  e.principal_kind = "tenant_token";
  e.principal = principal;
  e.method = "GET";
  e.path = "/api/v1/runs";
  e.resource = "runs";
  e.action = "read";
  e.status = 200;
  return e;
}

// A stand-in for the chain's hash: enough to see what the store passes to it.
std::string fakeHash(const AccessEntry& e) {
  return "h" + std::to_string(e.id) + "<" + e.prev_hash.substr(0, 4) + ":" + e.principal;
}

class AccessChainStoreTest : public ComponentStoreTest {};

TEST_F(AccessChainStoreTest, TheMigrationRunsWhenEitherFileOpens) {
  EXPECT_EQ(componentVersion(*control_, SqliteAccessChainStore::kComponent), 1);
  EXPECT_EQ(componentVersion(*tenant_, SqliteAccessChainStore::kComponent), 1);
  EXPECT_TRUE(unwrap(control_->accessChain().list(0, 10)).empty());
}

TEST_F(AccessChainStoreTest, AppendLinksEachEntryToThePreviousOne) {
  AccessChainStore& chain = tenant_->accessChain();
  AccessEntry first = unwrap(chain.append(entry("A"), fakeHash));
  EXPECT_EQ(first.id, 1);
  EXPECT_EQ(first.prev_hash, kGenesisHash);
  EXPECT_EQ(first.hash, "h1<0000:A");
  AccessEntry second = unwrap(chain.append(entry("B"), fakeHash));
  EXPECT_EQ(second.id, 2);
  EXPECT_EQ(second.prev_hash, first.hash);
  EXPECT_EQ(second.hash, "h2<h1<0:B");
}

TEST_F(AccessChainStoreTest, EntriesSurviveAReopenAndArePagedById) {
  for (const char* p : {"A", "B", "C", "D"}) {
    ASSERT_TRUE(control_->accessChain().append(entry(p), fakeHash).isOk());
  }
  reopen();
  auto page = unwrap(control_->accessChain().list(1, 2));
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].id, 2);
  EXPECT_EQ(page[0].principal, "B");
  EXPECT_EQ(page[0].method, "GET");
  EXPECT_EQ(page[0].path, "/api/v1/runs");
  EXPECT_EQ(page[0].resource, "runs");
  EXPECT_EQ(page[0].action, "read");
  EXPECT_EQ(page[0].status, 200);
  EXPECT_EQ(page[0].at_ms, 1'700'000'000'000);
  EXPECT_EQ(page[1].id, 3);
  EXPECT_TRUE(unwrap(control_->accessChain().list(4, 10)).empty());
  // The tenant's chain is another one.
  EXPECT_TRUE(unwrap(tenant_->accessChain().list(0, 10)).empty());
}

TEST_F(AccessChainStoreTest, ForEachVisitsInIdOrderUntilTheVisitorStops) {
  for (const char* p : {"A", "B", "C"}) {
    ASSERT_TRUE(tenant_->accessChain().append(entry(p), fakeHash).isOk());
  }
  std::vector<int64_t> seen;
  ASSERT_TRUE(tenant_->accessChain()
                  .forEach([&](const AccessEntry& e) {
                    seen.push_back(e.id);
                    return true;
                  })
                  .isOk());
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2, 3}));
  seen.clear();
  ASSERT_TRUE(tenant_->accessChain()
                  .forEach([&](const AccessEntry& e) {
                    seen.push_back(e.id);
                    return e.id < 2;
                  })
                  .isOk());
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2}));
}

TEST_F(AccessChainStoreTest, ConcurrentAppendsKeepOneUnbrokenChain) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(tenant_->accessChain().append(entry("P"), fakeHash).isOk());
      }
    });
  }
  for (auto& t : threads) t.join();
  auto all = unwrap(tenant_->accessChain().list(0, 100));
  ASSERT_EQ(all.size(), 40u);
  std::string prev = kGenesisHash;
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].id, static_cast<int64_t>(i + 1));
    EXPECT_EQ(all[i].prev_hash, prev);
    prev = all[i].hash;
  }
}

}  // namespace
}  // namespace tenure::cp
