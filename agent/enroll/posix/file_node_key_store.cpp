// POSIX FileNodeKeyStore: the key is a bearer credential, so the file is 0600 in a 0700 directory
// and is replaced atomically by common/base/files.h (a torn write would force a re-enrollment that
// may no longer be possible).

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "agent/enroll/node_key_store.h"
#include "common/base/files.h"
#include "common/base/posix/fd.h"

namespace tenure::agent {
namespace {

// A read-only or full disk is not something a retry fixes quickly, but the agent keeps the key in
// memory and can carry on; permission problems mean the service account is misconfigured.
using tenure::posix::errnoError;
using tenure::posix::Fd;

Status ensureStateDir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (dir.has_parent_path() && !std::filesystem::exists(dir.parent_path(), ec)) {
    std::filesystem::create_directories(dir.parent_path(), ec);
    if (ec) return configError("cannot create " + dir.parent_path().string() + ": " + ec.message());
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return errnoError("cannot create state directory", dir, errno);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return errnoError("cannot stat", dir, errno);
  if (!S_ISDIR(st.st_mode)) return configError("state path is not a directory: " + dir.string());
  if ((st.st_mode & 077) != 0) {
    spdlog::warn("state directory {} is accessible to other users (mode {:o})", dir.string(),
                 st.st_mode & 07777);
  }
  return Status::ok();
}

}  // namespace

FileNodeKeyStore::FileNodeKeyStore(std::filesystem::path state_dir)
    : dir_(std::move(state_dir)), file_(dir_ / "node_key.json") {}

Result<std::optional<NodeKeyRecord>> FileNodeKeyStore::load() {
  Fd fd(::open(file_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::optional<NodeKeyRecord>{};
    return errnoError("cannot open node key file", file_, errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && (st.st_mode & 077) != 0) {
    spdlog::warn("node key file {} is readable by other users (mode {:o})", file_.string(),
                 st.st_mode & 07777);
  }
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoError("cannot read node key file", file_, errno);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > 64 * 1024) return dataError("node key file is too large: " + file_.string());
  }
  ASSIGN_OR_RETURN(NodeKeyRecord r, decodeNodeKeyRecord(text));
  return std::optional<NodeKeyRecord>(std::move(r));
}

Status FileNodeKeyStore::save(const NodeKeyRecord& record) {
  RETURN_IF_ERROR(ensureStateDir(dir_));
  return replaceFileAtomically(file_, encodeNodeKeyRecord(record), FileAccess::kOwnerOnly);
}

Status FileNodeKeyStore::clear() {
  if (::unlink(file_.c_str()) != 0 && errno != ENOENT) {
    return errnoError("cannot remove node key file", file_, errno);
  }
  return Status::ok();
}

}  // namespace tenure::agent
