// common/base/logging.h on Windows: stderr (console runs), the rotating file, and warnings and errors
// also in the Windows Event Log (Application, source = component), where Windows administrators and
// their monitoring look first.

#include "common/base/logging.h"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/win_eventlog_sink.h>

#include <vector>

namespace tenure {

void initLogging(const std::string& component, const std::string& level,
                 const std::string& file_path) {
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (!file_path.empty()) {
    sinks.push_back(
        std::make_shared<spdlog::sinks::rotating_file_sink_mt>(file_path, 10 * 1024 * 1024, 5));
  }
  spdlog::sink_ptr event_log;
  try {
    event_log = std::make_shared<spdlog::sinks::win_eventlog_sink_mt>(component);
    event_log->set_level(spdlog::level::warn);
    sinks.push_back(event_log);
  } catch (const spdlog::spdlog_ex&) {
    // No event log (e.g. a locked-down console session): the file log still has everything.
  }
  auto logger = std::make_shared<spdlog::logger>(component, sinks.begin(), sinks.end());
  logger->set_pattern("[%Y-%m-%dT%H:%M:%S.%e] [%l] [%n] %v");
  // The Event Log records time, level and source itself.
  if (event_log) event_log->set_pattern("%v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace tenure
