#pragma once
// Logging goes through spdlog; binaries call initLogging once. Levels: trace, debug, info, warn, error.

#include <spdlog/spdlog.h>

#include <string>

namespace tenure {

// Sets up the default logger: stderr, "[time] [level] [component] message". An empty file path
// keeps stderr only; otherwise a rotating file (10 MB x 5) is added.
void initLogging(const std::string& component, const std::string& level = "info",
                 const std::string& file_path = "");

}  // namespace tenure
