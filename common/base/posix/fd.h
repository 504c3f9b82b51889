#pragma once
// POSIX-only helpers for code in posix/ folders that works on file descriptors: an owning guard and
// errno as a Status. Permission problems (EACCES, EPERM, a read-only file system) are permission
// errors; anything else about a file Tenure keeps is a configuration error.

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "common/base/status.h"

namespace tenure::posix {

inline Status errnoError(const std::string& what, const std::filesystem::path& p, int err) {
  std::string msg = what + " " + p.string() + ": " + std::strerror(err);
  if (err == EACCES || err == EPERM || err == EROFS) return permissionError(std::move(msg), err);
  return configError(std::move(msg), err);
}

// Closes the descriptor it owns (a negative one: none).
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    const int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_;
};

}  // namespace tenure::posix
