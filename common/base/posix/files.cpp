// common/base/files.h on POSIX: modes and open(2) flags, fsync before and after the rename.

#include "common/base/files.h"

#include "common/base/posix/fd.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

namespace tenure {

namespace {

using posix::errnoError;
using posix::Fd;

Status writeAll(int fd, std::string_view data, const std::filesystem::path& p) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoError("cannot write", p, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

mode_t modeOf(FileAccess access) { return access == FileAccess::kOwnerOnly ? 0600 : 0666; }

}  // namespace

Status createPrivateFile(const std::filesystem::path& path) {
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, modeOf(FileAccess::kOwnerOnly)));
  if (fd.get() < 0) return errnoError("cannot open", path, errno);
  return Status::ok();
}

Status replaceFileAtomically(const std::filesystem::path& target, std::string_view data,
                             FileAccess access) {
  // Unique per process and call: two threads replacing the same file must not share a temporary.
  static std::atomic<unsigned> counter{0};
  const std::filesystem::path tmp = target.string() + ".tmp." + std::to_string(::getpid()) + "." +
                                    std::to_string(counter.fetch_add(1));
  ::unlink(tmp.c_str());  // left over from a crashed process that had the same pid
  // O_EXCL: a fresh file, so its mode is exactly the one asked for (the umask can only remove
  // bits).
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, modeOf(access)));
  if (fd.get() < 0) return errnoError("cannot create", tmp, errno);
  Status st = writeAll(fd.get(), data, tmp);
  if (st && ::fsync(fd.get()) != 0) st = errnoError("cannot fsync", tmp, errno);
  if (st && ::close(fd.release()) != 0) st = errnoError("cannot close", tmp, errno);
  if (st && ::rename(tmp.c_str(), target.c_str()) != 0) {
    st = errnoError("cannot rename to", target, errno);
  }
  if (!st) {
    ::unlink(tmp.c_str());
    return st;
  }
  // The rename is only durable once the directory entry is on disk.
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() >= 0) ::fsync(dfd.get());
  return Status::ok();
}

std::filesystem::path pathFromUtf8(std::string_view utf8) {
  return std::filesystem::path(std::string(utf8));
}

}  // namespace tenure
