// common/base/files.h, what both platforms promise (also run under Wine: tests/windows): an
// existing file is left alone, a replace is all or nothing and leaves no temporary file behind.
// The permissions themselves: files_posix_test.cpp and tests/windows/files_acl_test.cpp.

#include "common/base/files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/base/crypto.h"

namespace tenure {
namespace {

namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tenure-files-" + randomHex(8));
    fs::create_directories(dir_);
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
  static void writeAll(const fs::path& p, const std::string& data) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << data;
  }
  std::vector<std::string> namesInDir() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_))
      names.push_back(e.path().filename().string());
    return names;
  }
  fs::path dir_;
};

TEST_F(FilesTest, CreatePrivateFileCreatesAnEmptyFile) {
  const fs::path p = dir_ / "db.sqlite";
  ASSERT_TRUE(createPrivateFile(p));
  EXPECT_TRUE(fs::is_regular_file(p));
  EXPECT_EQ(fs::file_size(p), 0u);
}

TEST_F(FilesTest, CreatePrivateFileLeavesAnExistingFileAsItIs) {
  const fs::path p = dir_ / "db.sqlite";
  writeAll(p, "existing");
  ASSERT_TRUE(createPrivateFile(p));
  EXPECT_EQ(readAll(p), "existing");
}

TEST_F(FilesTest, CreatePrivateFileInAMissingFolderIsAnError) {
  const Status st = createPrivateFile(dir_ / "missing" / "db.sqlite");
  EXPECT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("missing"), std::string::npos) << st.toString();
}

TEST_F(FilesTest, ReplaceFileAtomicallyCreatesTheFile) {
  const fs::path p = dir_ / "node_key.json";
  ASSERT_TRUE(replaceFileAtomically(p, std::string("a\0b", 3)));
  EXPECT_EQ(readAll(p), std::string("a\0b", 3));
  EXPECT_EQ(namesInDir(), std::vector<std::string>{"node_key.json"});
}

TEST_F(FilesTest, ReplaceFileAtomicallyReplacesAndLeavesNoTemporaryFile) {
  const fs::path p = dir_ / "agent.json";
  writeAll(p, "old content that is longer than the new one");
  ASSERT_TRUE(replaceFileAtomically(p, "new", FileAccess::kInherited));
  EXPECT_EQ(readAll(p), "new");
  ASSERT_TRUE(replaceFileAtomically(p, "", FileAccess::kOwnerOnly));
  EXPECT_EQ(readAll(p), "");
  EXPECT_EQ(namesInDir(), std::vector<std::string>{"agent.json"});
}

TEST_F(FilesTest, ReplaceFileAtomicallyInAMissingFolderIsAConfigErrorAndChangesNothing) {
  const Status st = replaceFileAtomically(dir_ / "missing" / "agent.json", "x");
  EXPECT_EQ(st.errorClass(), ErrorClass::kConfig) << st.toString();
  EXPECT_TRUE(namesInDir().empty());
}

TEST_F(FilesTest, ReplaceFileAtomicallyOverAFolderFailsAndRemovesItsTemporaryFile) {
  fs::create_directories(dir_ / "taken");
  EXPECT_FALSE(replaceFileAtomically(dir_ / "taken", "x").isOk());
  EXPECT_EQ(namesInDir(), std::vector<std::string>{"taken"});
}

TEST_F(FilesTest, PathFromUtf8KeepsNonAsciiNames) {
  const std::string name = "J\xC3\xBCrgen-\xE6\x97\xA5\xE6\x9C\xAC.txt";  // Jürgen-日本.txt
  const fs::path p = dir_ / pathFromUtf8(name);
  ASSERT_TRUE(replaceFileAtomically(p, "x"));
  ASSERT_EQ(namesInDir().size(), 1u);
  const auto u8 = fs::directory_iterator(dir_)->path().filename().u8string();
  EXPECT_EQ(std::string(u8.begin(), u8.end()), name);
}

}  // namespace
}  // namespace tenure
