#include "controlplane/secrets/tenant_keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/base/clock.h"

namespace tenure::cp {
namespace {

namespace fs = std::filesystem;

template <typename T>
T unwrap(Result<T> r) {
  EXPECT_TRUE(r.isOk()) << r.status().toString();
  return std::move(r).value();
}

class TenantKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tenure-keys-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    key_file_ = dir_ + "/master.key";
    control_ = unwrap(ControlStore::open(dir_ + "/control.db", clock_));
    a_ = unwrap(control_->createTenant("A")).tenant.tenant_id;
    b_ = unwrap(control_->createTenant("B")).tenant.tenant_id;
  }
  void TearDown() override {
    control_.reset();
    fs::remove_all(dir_);
  }
  std::unique_ptr<TenantKeys> openKeys() { return unwrap(TenantKeys::open(*control_, key_file_)); }
  std::string readAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  ManualClock clock_;
  std::string dir_, key_file_, a_, b_;
  std::unique_ptr<ControlStore> control_;
};

TEST_F(TenantKeysTest, FirstStartCreatesAPrivate32ByteMasterKey) {
  auto keys = openKeys();
  struct stat sb {};
  ASSERT_EQ(::stat(key_file_.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
  EXPECT_EQ(sb.st_size, 32);
  const std::string first = readAll(key_file_);
  keys.reset();
  keys = openKeys();
  EXPECT_EQ(readAll(key_file_), first) << "a second start keeps the key";
}

TEST_F(TenantKeysTest, SealedValueOpensForItsTenantAndContext) {
  auto keys = openKeys();
  std::string sealed = unwrap(keys->seal(a_, "sink:webhook", "s3cr3t-token"));
  EXPECT_EQ(sealed.rfind("v1:", 0), 0u);
  EXPECT_EQ(sealed.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(unwrap(keys->open(a_, "sink:webhook", sealed)), "s3cr3t-token");
}

TEST_F(TenantKeysTest, SealingTwiceGivesDifferentTexts) {
  auto keys = openKeys();
  EXPECT_NE(unwrap(keys->seal(a_, "c", "same")), unwrap(keys->seal(a_, "c", "same")));
}

TEST_F(TenantKeysTest, ValueDoesNotOpenUnderAnotherTenantOrContext) {
  auto keys = openKeys();
  std::string sealed = unwrap(keys->seal(a_, "sink:webhook", "s3cr3t"));
  ASSERT_TRUE(keys->seal(b_, "sink:webhook", "x").isOk());  // B has a data key too
  auto other_tenant = keys->open(b_, "sink:webhook", sealed);
  ASSERT_FALSE(other_tenant.isOk());
  EXPECT_EQ(other_tenant.status().errorClass(), ErrorClass::kData);
  auto other_context = keys->open(a_, "connector:bamboohr", sealed);
  ASSERT_FALSE(other_context.isOk());
  EXPECT_EQ(other_context.status().errorClass(), ErrorClass::kData);
}

TEST_F(TenantKeysTest, EveryTamperedByteIsADataError) {
  auto keys = openKeys();
  const std::string sealed = unwrap(keys->seal(a_, "c", "a value worth protecting"));
  for (size_t i = 3; i < sealed.size(); ++i) {
    std::string t = sealed;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    auto r = keys->open(a_, "c", t);
    // Changing base64 padding bits may decode to the same bytes; anything else must fail.
    if (r.isOk()) {
      EXPECT_EQ(*r, "a value worth protecting") << "position " << i;
      continue;
    }
    EXPECT_EQ(r.status().errorClass(), ErrorClass::kData) << "position " << i;
  }
  for (const std::string& bad :
       std::vector<std::string>{"", "v1:", "v2:" + sealed.substr(3), sealed.substr(0, 20),
                                "v1:!!!!", sealed.substr(3)}) {
    auto r = keys->open(a_, "c", bad);
    ASSERT_FALSE(r.isOk()) << bad;
    EXPECT_EQ(r.status().errorClass(), ErrorClass::kData) << bad;
  }
}

TEST_F(TenantKeysTest, DataKeysAreStoredWrappedAndSurviveARestart) {
  std::string sealed;
  {
    auto keys = openKeys();
    sealed = unwrap(keys->seal(a_, "c", "v"));
  }
  auto keys = openKeys();
  EXPECT_EQ(unwrap(keys->open(a_, "c", sealed)), "v");
}

TEST_F(TenantKeysTest, UnknownTenantGetsNoKey) {
  auto keys = openKeys();
  auto r = keys->seal("t_nosuch", "c", "v");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kNotFound);
}

TEST_F(TenantKeysTest, ForgettingATenantMakesItsValuesUnreadable) {
  auto keys = openKeys();
  std::string sealed = unwrap(keys->seal(a_, "c", "v"));
  ASSERT_TRUE(keys->forgetTenant(a_).isOk());
  auto r = keys->open(a_, "c", sealed);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kData);
  // B is untouched.
  std::string b_sealed = unwrap(keys->seal(b_, "c", "w"));
  EXPECT_EQ(unwrap(keys->open(b_, "c", b_sealed)), "w");
}

TEST_F(TenantKeysTest, AnotherMasterKeyIsRefusedAtStart) {
  { auto keys = openKeys(); }
  fs::remove(key_file_);
  auto missing = TenantKeys::open(*control_, key_file_);
  ASSERT_FALSE(missing.isOk());
  EXPECT_EQ(missing.status().errorClass(), ErrorClass::kConfig);
  EXPECT_FALSE(fs::exists(key_file_)) << "no new key is made when one is on record";
  {
    std::ofstream out(key_file_, std::ios::binary);
    out << std::string(32, 'x');
  }
  fs::permissions(key_file_, fs::perms::owner_read | fs::perms::owner_write,
                  fs::perm_options::replace);
  auto wrong = TenantKeys::open(*control_, key_file_);
  ASSERT_FALSE(wrong.isOk());
  EXPECT_EQ(wrong.status().errorClass(), ErrorClass::kConfig);
}

TEST_F(TenantKeysTest, AWorldReadableKeyFileIsRefused) {
  { auto keys = openKeys(); }
  fs::permissions(key_file_, fs::perms::others_read, fs::perm_options::add);
  auto r = TenantKeys::open(*control_, key_file_);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kConfig);
}

TEST_F(TenantKeysTest, RotationRewrapsEveryDataKeyUnderANewMasterKey) {
  std::string sa, sb;
  std::string old_key;
  {
    auto keys = openKeys();
    sa = unwrap(keys->seal(a_, "c", "alpha"));
    sb = unwrap(keys->seal(b_, "c", "beta"));
    old_key = readAll(key_file_);
  }
  ASSERT_TRUE(TenantKeys::rotateMaster(*control_, key_file_).isOk());
  EXPECT_NE(readAll(key_file_), old_key);
  EXPECT_FALSE(fs::exists(key_file_ + ".new"));
  auto keys = openKeys();
  EXPECT_EQ(unwrap(keys->open(a_, "c", sa)), "alpha");
  EXPECT_EQ(unwrap(keys->open(b_, "c", sb)), "beta");
  // The old key no longer opens anything.
  {
    std::ofstream out(key_file_, std::ios::binary | std::ios::trunc);
    out << old_key;
  }
  EXPECT_FALSE(TenantKeys::open(*control_, key_file_).isOk());
}

TEST_F(TenantKeysTest, ARunningInstanceMakesNoDataKeyAfterARotationElsewhere) {
  auto running = openKeys();
  std::string sa = unwrap(running->seal(a_, "c", "alpha"));
  ASSERT_TRUE(TenantKeys::rotateMaster(*control_, key_file_).isOk());
  // A's key is cached and unchanged: still usable. B would get a key under the old master.
  EXPECT_EQ(unwrap(running->open(a_, "c", sa)), "alpha");
  auto b = running->seal(b_, "c", "beta");
  ASSERT_FALSE(b.isOk());
  EXPECT_EQ(b.status().errorClass(), ErrorClass::kConfig);
  auto restarted = openKeys();
  EXPECT_EQ(unwrap(restarted->open(a_, "c", sa)), "alpha");
  EXPECT_TRUE(restarted->seal(b_, "c", "beta").isOk());
}

TEST_F(TenantKeysTest, RotationThatCrashedAfterItsCommitIsFinishedAtTheNextStart) {
  std::string sealed;
  {
    auto keys = openKeys();
    sealed = unwrap(keys->seal(a_, "c", "alpha"));
  }
  const std::string old_key = readAll(key_file_);
  ASSERT_TRUE(TenantKeys::rotateMaster(*control_, key_file_).isOk());
  const std::string new_key = readAll(key_file_);
  // Put the state back to "committed, file not yet renamed".
  fs::rename(key_file_, key_file_ + ".new");
  {
    std::ofstream out(key_file_, std::ios::binary);
    out << old_key;
  }
  fs::permissions(key_file_, fs::perms::owner_read | fs::perms::owner_write,
                  fs::perm_options::replace);
  auto keys = openKeys();
  EXPECT_EQ(readAll(key_file_), new_key);
  EXPECT_FALSE(fs::exists(key_file_ + ".new"));
  EXPECT_EQ(unwrap(keys->open(a_, "c", sealed)), "alpha");
}

TEST_F(TenantKeysTest, RotationThatCrashedBeforeItsCommitKeepsTheOldKey) {
  std::string sealed;
  {
    auto keys = openKeys();
    sealed = unwrap(keys->seal(a_, "c", "alpha"));
  }
  // A .new key that never wrapped anything (the crash came before the transaction).
  {
    std::ofstream out(key_file_ + ".new", std::ios::binary);
    out << std::string(32, 'n');
  }
  auto keys = openKeys();
  EXPECT_FALSE(fs::exists(key_file_ + ".new"));
  EXPECT_EQ(unwrap(keys->open(a_, "c", sealed)), "alpha");
}

TEST(SecretsBase64, RoundTripsEveryLength) {
  std::string bytes;
  for (int n = 0; n < 40; ++n) {
    if (n > 0) {
      auto dec = secrets::base64Decode(secrets::base64Encode(bytes));
      ASSERT_TRUE(dec.isOk()) << n;
      EXPECT_EQ(*dec, bytes);
    }
    bytes.push_back(static_cast<char>(n * 37));
  }
}

}  // namespace
}  // namespace tenure::cp
