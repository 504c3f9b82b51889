// ConnectorStore on a real SQLite tenant file.

#include "controlplane/store/connector_store.h"

#include <gtest/gtest.h>

#include <chrono>

#include "controlplane/store/sqlite/sqlite_connector_store.h"
#include "tests/controlplane/store/component_store_fixture.h"

namespace tenure::cp {
namespace {

using testing::ComponentStoreTest;
using testing::unwrap;

class ConnectorStoreTest : public ComponentStoreTest {
 protected:
  ConnectorStore& connectors() { return tenant_->connectors(); }
};

TEST_F(ConnectorStoreTest, TheMigrationRunsWhenTheFileOpens) {
  EXPECT_EQ(componentVersion(*tenant_, SqliteConnectorStore::kComponent), 1);
  EXPECT_FALSE(unwrap(connectors().config("bamboohr")).has_value());
  EXPECT_EQ(unwrap(connectors().pullState("bamboohr")).status, "never");
}

TEST_F(ConnectorStoreTest, ConfigIsKeptAcrossAReopenAndReplacedBySavingAgain) {
  ASSERT_TRUE(
      connectors().saveConfig("bamboohr", R"({"company_domain":"acme"})", "v1:sealed").isOk());
  reopen();
  auto config = unwrap(connectors().config("bamboohr"));
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->kind, "bamboohr");
  EXPECT_EQ(config->settings, R"({"company_domain":"acme"})");
  EXPECT_EQ(config->sealed_api_key, "v1:sealed");
  EXPECT_EQ(config->updated_at_ms, clock_.nowUnixMillis());
  clock_.advance(std::chrono::seconds(5));
  ASSERT_TRUE(connectors().saveConfig("bamboohr", "{}", "v1:other").isOk());
  config = unwrap(connectors().config("bamboohr"));
  EXPECT_EQ(config->settings, "{}");
  EXPECT_EQ(config->sealed_api_key, "v1:other");
  EXPECT_EQ(config->updated_at_ms, clock_.nowUnixMillis());
  EXPECT_FALSE(unwrap(connectors().config("workday")).has_value());
}

TEST_F(ConnectorStoreTest, PullStateRoundTripsEveryField) {
  ConnectorPullState s;
  s.status = "failed";
  s.started_at_ms = 1;
  s.finished_at_ms = 2;
  s.last_success_at_ms = 3;
  s.run_id = "r_1";
  s.records = 40;
  s.rejected = 2;
  s.pages = 3;
  s.last_error = "timeout";
  ASSERT_TRUE(connectors().savePullState("bamboohr", s).isOk());
  reopen();
  auto got = unwrap(connectors().pullState("bamboohr"));
  EXPECT_EQ(got.status, "failed");
  EXPECT_EQ(got.started_at_ms, 1);
  EXPECT_EQ(got.finished_at_ms, 2);
  EXPECT_EQ(got.last_success_at_ms, 3);
  EXPECT_EQ(got.run_id, "r_1");
  EXPECT_EQ(got.records, 40);
  EXPECT_EQ(got.rejected, 2);
  EXPECT_EQ(got.pages, 3);
  EXPECT_EQ(got.last_error, "timeout");
}

TEST_F(ConnectorStoreTest, RemovingAConnectorRemovesItsPullStateToo) {
  ASSERT_TRUE(connectors().saveConfig("bamboohr", "{}", "v1:k").isOk());
  ConnectorPullState s;
  s.status = "succeeded";
  ASSERT_TRUE(connectors().savePullState("bamboohr", s).isOk());
  EXPECT_TRUE(unwrap(connectors().removeConnector("bamboohr")));
  EXPECT_FALSE(unwrap(connectors().config("bamboohr")).has_value());
  EXPECT_EQ(unwrap(connectors().pullState("bamboohr")).status, "never");
  EXPECT_FALSE(unwrap(connectors().removeConnector("bamboohr")));
}

}  // namespace
}  // namespace tenure::cp
