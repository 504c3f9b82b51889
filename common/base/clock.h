#pragma once
// Time is injected so that schedulers, leases and effective dates can be tested deterministically.

#include <atomic>
#include <mutex>
#include <chrono>
#include <cstdint>
#include <string>

namespace tenure {

using SystemTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SystemTime now() const = 0;
  // Seconds since the Unix epoch.
  int64_t nowUnix() const {
    return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
  }
  int64_t nowUnixMillis() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now().time_since_epoch()).count();
  }
};

class SystemClock final : public Clock {
 public:
  SystemTime now() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& instance() {
    static const SystemClock c;
    return c;
  }
};

// A clock that only moves when told to (tests).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t unix_millis = 1'700'000'000'000) : ms_(unix_millis) {}
  SystemTime now() const override {
    return SystemTime(std::chrono::milliseconds(ms_.load()));
  }
  void advance(std::chrono::milliseconds d) { ms_ += d.count(); }
  void setUnixMillis(int64_t ms) { ms_ = ms; }

 private:
  std::atomic<int64_t> ms_;
};

// The system time plus an offset in milliseconds read from a file: the hook through which tests of
// whole processes move a control plane's time forward (tenure-cp serve --clock-offset-file; see
// docs/testing.md). A missing or unreadable file means no offset; the file is read again at most
// every 100 ms. Time only moves forward: a smaller offset than one seen before is ignored.
class FileOffsetClock final : public Clock {
 public:
  explicit FileOffsetClock(std::string path) : path_(std::move(path)) {}
  SystemTime now() const override;

 private:
  std::string path_;
  mutable std::mutex mu_;
  mutable std::chrono::steady_clock::time_point next_read_{};
  mutable int64_t offset_ms_ = 0;
};

// "2026-11-22T01:37:46Z"
std::string formatIso8601Utc(int64_t unix_seconds);

}  // namespace tenure
