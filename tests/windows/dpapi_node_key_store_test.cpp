// DpapiNodeKeyStore: the record survives a reopen, is never on disk in clear, and a damaged or
// foreign blob is an error (not silently "not enrolled").

#include <gtest/gtest.h>
#include <windows.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/enroll/windows/dpapi_node_key_store.h"
#include "common/base/crypto.h"

namespace tenure::agent {
namespace {

namespace fs = std::filesystem;

class DpapiNodeKeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tenure-dpapi-" + randomHex(8));
    state_ = dir_ / "state";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  static std::string readAll(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  fs::path dir_;
  fs::path state_;
};

TEST_F(DpapiNodeKeyStoreTest, LoadReturnsNothingWhenNothingWasSaved) {
  DpapiNodeKeyStore store(state_);
  auto r = store.load();
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_FALSE(r->has_value());
}

TEST_F(DpapiNodeKeyStoreTest, SavedRecordSurvivesReopenAndIsNotStoredInClear) {
  ASSERT_TRUE(DpapiNodeKeyStore(state_).save({"key-secret-123", "agent-7", "https://cp.example"}));
  DpapiNodeKeyStore reopened(state_);
  auto r = reopened.load();
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->node_key, "key-secret-123");
  EXPECT_EQ((*r)->agent_id, "agent-7");
  EXPECT_EQ((*r)->cp_url, "https://cp.example");
  const std::string raw = readAll(reopened.filePath());
  EXPECT_FALSE(raw.empty());
  EXPECT_EQ(raw.find("key-secret-123"), std::string::npos);
}

TEST_F(DpapiNodeKeyStoreTest, SaveReplacesThePreviousRecord) {
  DpapiNodeKeyStore store(state_);
  ASSERT_TRUE(store.save({"old", "a", "https://cp"}));
  ASSERT_TRUE(store.save({"new", "a", "https://cp"}));
  auto r = store.load();
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ((*r)->node_key, "new");
  EXPECT_EQ(std::distance(fs::directory_iterator(state_), fs::directory_iterator()), 1);
}

TEST_F(DpapiNodeKeyStoreTest, ClearRemovesTheRecordAndIsIdempotent) {
  DpapiNodeKeyStore store(state_);
  ASSERT_TRUE(store.save({"k", "a", "https://cp"}));
  ASSERT_TRUE(store.clear());
  ASSERT_TRUE(store.clear());
  auto r = store.load();
  ASSERT_TRUE(r.isOk());
  EXPECT_FALSE(r->has_value());
}

TEST_F(DpapiNodeKeyStoreTest, DamagedBlobIsADataError) {
  DpapiNodeKeyStore store(state_);
  ASSERT_TRUE(store.save({"k", "a", "https://cp"}));
  {
    std::ofstream out(store.filePath(), std::ios::binary | std::ios::trunc);
    out << "not a dpapi blob";
  }
  auto r = store.load();
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kData);
}

TEST(Dpapi, BlobForOnePurposeDoesNotOpenAsAnother) {
  auto blob = dpapiProtect("payload", "purpose-a");
  ASSERT_TRUE(blob.isOk()) << blob.status().toString();
  auto same = dpapiUnprotect(*blob, "purpose-a");
  ASSERT_TRUE(same.isOk()) << same.status().toString();
  EXPECT_EQ(*same, "payload");
  EXPECT_FALSE(dpapiUnprotect(*blob, "purpose-b").isOk());
}

}  // namespace
}  // namespace tenure::agent
