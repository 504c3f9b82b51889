// common/base/posix/files.cpp: the modes, whatever the umask.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "common/base/crypto.h"
#include "common/base/files.h"

namespace tenure {
namespace {

namespace fs = std::filesystem;

class FilesPosixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tenure-files-" + randomHex(8));
    fs::create_directories(dir_);
    old_umask_ = ::umask(0);  // the widest: a mode the code does not ask for would show
  }
  void TearDown() override {
    ::umask(old_umask_);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  static mode_t modeOf(const fs::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 07777;
  }
  fs::path dir_;
  mode_t old_umask_ = 0;
};

TEST_F(FilesPosixTest, CreatePrivateFileIsReadableAndWritableByTheOwnerOnly) {
  ASSERT_TRUE(createPrivateFile(dir_ / "db.sqlite"));
  EXPECT_EQ(modeOf(dir_ / "db.sqlite"), 0600u);
}

TEST_F(FilesPosixTest, ReplaceFileAtomicallyOwnerOnlyIs0600EvenOverAWiderFile) {
  const fs::path p = dir_ / "node_key.json";
  ASSERT_TRUE(replaceFileAtomically(p, "1", FileAccess::kInherited));
  EXPECT_EQ(modeOf(p), 0666u);
  ASSERT_TRUE(replaceFileAtomically(p, "2", FileAccess::kOwnerOnly));
  EXPECT_EQ(modeOf(p), 0600u);
}

TEST_F(FilesPosixTest, ReplaceFileAtomicallyInheritedFollowsTheUmask) {
  ::umask(027);
  ASSERT_TRUE(replaceFileAtomically(dir_ / "agent.json", "{}", FileAccess::kInherited));
  EXPECT_EQ(modeOf(dir_ / "agent.json"), 0640u);
}

// A read-only folder is a permission error: tests/agent/enroll (UnwritableStateDirectoryIsAnError),
// which drops root's privileges to see it.

}  // namespace
}  // namespace tenure
