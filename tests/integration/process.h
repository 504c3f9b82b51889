#pragma once
// A child process for integration tests: started with fork/exec, output to a log file, stopped
// with SIGTERM or killed with SIGKILL.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tenure::testing {

class Process {
 public:
  Process() = default;
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Starts `argv[0]` with `argv`; stdout and stderr go to `log_path` (appended).
  bool start(const std::vector<std::string>& argv, const std::string& log_path,
             const std::map<std::string, std::string>& extra_env = {});
  bool running();
  // Sends `sig` and waits up to `timeout`; returns the exit status (or -signal) if it ended.
  std::optional<int> signalAndWait(int sig, std::chrono::milliseconds timeout);
  void kill9();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_;
};

// Runs a command to completion and returns {exit code, stdout}.
std::pair<int, std::string> runCommand(const std::vector<std::string>& argv);

std::string readFile(const std::string& path);
void writeFile(const std::string& path, const std::string& content, int mode = 0644);
// A TCP port that was free a moment ago on 127.0.0.1.
int freePort();
// Polls `pred` every 100 ms until it returns true or `timeout` passes.
template <typename Pred>
bool waitFor(Pred pred, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    struct timespec ts {0, 100'000'000};
    nanosleep(&ts, nullptr);
  }
  return pred();
}

}  // namespace tenure::testing
