// common/base/logging.h on POSIX: stderr (the journal, under systemd) and the rotating file.

#include "common/base/logging.h"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

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
  auto logger = std::make_shared<spdlog::logger>(component, sinks.begin(), sinks.end());
  logger->set_pattern("[%Y-%m-%dT%H:%M:%S.%e] [%l] [%n] %v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace tenure
