#include "agent/enroll/node_key_store.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>

namespace tenure::agent {
namespace {

namespace fs = std::filesystem;

class NodeKeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "tenure-enroll-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    state_dir_ = root_ / "var" / "lib" / "tenure";
  }
  void TearDown() override {
    ::chmod(state_dir_.c_str(), 0700);
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  static mode_t modeOf(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
  }

  // Runs `fn` without root's privileges. Root ignores directory permissions, and the test command
  // runs as root: there `fn` runs in a child process that becomes the unprivileged user nobody
  // (uid/gid 65534) and owns the test's files; otherwise it runs here.
  Status asUnprivilegedUser(const std::function<Status()>& fn) {
    if (::geteuid() != 0) return fn();
    constexpr uid_t kNobody = 65534;
    for (const auto& e : fs::recursive_directory_iterator(root_)) {
      if (::lchown(e.path().c_str(), kNobody, kNobody) != 0) return internalError("lchown");
    }
    if (::chown(root_.c_str(), kNobody, kNobody) != 0) return internalError("chown");
    int fds[2];
    if (::pipe(fds) != 0) return internalError("pipe");
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
        ::_exit(2);
      }
      const Status st = fn();
      const std::string out =
          std::to_string(static_cast<int>(st.errorClass())) + " " + st.message();
      (void)!::write(fds[1], out.data(), out.size());
      ::_exit(0);
    }
    ::close(fds[1]);
    std::string out;
    char buf[512];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, n);
    ::close(fds[0]);
    int wstatus = 0;
    ::waitpid(pid, &wstatus, 0);
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0 || out.empty()) {
      return internalError("the unprivileged child failed (status " + std::to_string(wstatus) + ")");
    }
    const size_t space = out.find(' ');
    return Status(static_cast<ErrorClass>(std::stoi(out.substr(0, space))),
                  space == std::string::npos ? "" : out.substr(space + 1));
  }

  fs::path root_;
  fs::path state_dir_;
};

TEST_F(NodeKeyStoreTest, LoadReturnsNothingWhenNoKeyIsStored) {
  FileNodeKeyStore store(state_dir_);
  auto r = store.load();
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_FALSE(r->has_value());
}

TEST_F(NodeKeyStoreTest, SavedKeySurvivesAReload) {
  ASSERT_TRUE(FileNodeKeyStore(state_dir_).save({"key-123", "agent-7", "https://cp.example:8443"}));
  FileNodeKeyStore reopened(state_dir_);
  auto r = reopened.load();
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->node_key, "key-123");
  EXPECT_EQ((*r)->agent_id, "agent-7");
  EXPECT_EQ((*r)->cp_url, "https://cp.example:8443");
  EXPECT_EQ(reopened.filePath(), state_dir_ / "node_key.json");
}

TEST_F(NodeKeyStoreTest, KeyFileIsOwnerOnlyInAnOwnerOnlyDirectory) {
  FileNodeKeyStore store(state_dir_);
  ASSERT_TRUE(store.save({"key-1", "agent-1", "https://cp"}));
  EXPECT_EQ(modeOf(store.filePath()), 0600u);
  EXPECT_EQ(modeOf(state_dir_), 0700u);
}

TEST_F(NodeKeyStoreTest, KeyFileIsOwnerOnlyEvenWithAPermissiveUmask) {
  const mode_t old = ::umask(0);
  FileNodeKeyStore store(state_dir_);
  Status st = store.save({"key-1", "agent-1", "https://cp"});
  Status again = store.save({"key-2", "agent-1", "https://cp"});
  ::umask(old);
  ASSERT_TRUE(st) << st.toString();
  ASSERT_TRUE(again) << again.toString();
  EXPECT_EQ(modeOf(store.filePath()), 0600u);
  EXPECT_EQ(modeOf(state_dir_), 0700u);
}

TEST_F(NodeKeyStoreTest, SaveReplacesTheKeyAndLeavesNoTemporaryFiles) {
  FileNodeKeyStore store(state_dir_);
  ASSERT_TRUE(store.save({"key-1", "agent-1", "https://cp"}));
  ASSERT_TRUE(store.save({"key-2", "agent-1", "https://cp"}));
  auto r = store.load();
  ASSERT_TRUE(r.isOk() && r->has_value());
  EXPECT_EQ((*r)->node_key, "key-2");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(state_dir_)) names.push_back(e.path().filename());
  EXPECT_EQ(names, std::vector<std::string>{"node_key.json"});
}

TEST_F(NodeKeyStoreTest, ClearRemovesTheKeyAndIsIdempotent) {
  FileNodeKeyStore store(state_dir_);
  ASSERT_TRUE(store.save({"key-1", "agent-1", "https://cp"}));
  ASSERT_TRUE(store.clear());
  auto r = store.load();
  ASSERT_TRUE(r.isOk());
  EXPECT_FALSE(r->has_value());
  EXPECT_TRUE(store.clear());
}

TEST_F(NodeKeyStoreTest, CorruptFileIsADataError) {
  fs::create_directories(state_dir_);
  std::ofstream(state_dir_ / "node_key.json") << "{\"node_key\": ";
  auto r = FileNodeKeyStore(state_dir_).load();
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kData);
}

TEST_F(NodeKeyStoreTest, FileWithoutAKeyIsADataError) {
  fs::create_directories(state_dir_);
  std::ofstream(state_dir_ / "node_key.json") << R"({"node_key": "", "agent_id": "a"})";
  auto r = FileNodeKeyStore(state_dir_).load();
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kData);
}

TEST_F(NodeKeyStoreTest, SymlinkedKeyFileIsRefused) {
  fs::create_directories(state_dir_);
  std::ofstream(root_ / "elsewhere.json") << R"({"node_key": "k"})";
  fs::create_symlink(root_ / "elsewhere.json", state_dir_ / "node_key.json");
  auto r = FileNodeKeyStore(state_dir_).load();
  EXPECT_FALSE(r.isOk());
}

TEST_F(NodeKeyStoreTest, UnwritableStateDirectoryIsAnError) {
  fs::create_directories(state_dir_);
  ::chmod(state_dir_.c_str(), 0500);
  Status st = asUnprivilegedUser(
      [&] { return FileNodeKeyStore(state_dir_).save({"key-1", "agent-1", "https://cp"}); });
  EXPECT_EQ(st.errorClass(), ErrorClass::kPermission) << st.toString();
}

TEST_F(NodeKeyStoreTest, StatePathThatIsAFileIsAConfigError) {
  fs::create_directories(state_dir_.parent_path());
  std::ofstream(state_dir_) << "not a directory";
  Status st = FileNodeKeyStore(state_dir_).save({"key-1", "agent-1", "https://cp"});
  EXPECT_EQ(st.errorClass(), ErrorClass::kConfig) << st.toString();
}

TEST(NodeKeyRecordCodecTest, RoundTripsThroughJson) {
  NodeKeyRecord in{"k\"ey", "agent", "https://cp/"};
  auto out = decodeNodeKeyRecord(encodeNodeKeyRecord(in));
  ASSERT_TRUE(out.isOk()) << out.status().toString();
  EXPECT_EQ(out->node_key, in.node_key);
  EXPECT_EQ(out->agent_id, in.agent_id);
  EXPECT_EQ(out->cp_url, in.cp_url);
}

}  // namespace
}  // namespace tenure::agent
