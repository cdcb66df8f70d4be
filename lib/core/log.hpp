#pragma once
// One named spdlog logger per module: log::get("scanner")->info(...).
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace depositd::log {

// Returns the logger of that name, creating it (stderr, shared format) once.
std::shared_ptr<spdlog::logger> get(const std::string& module);
// Sets the level of every logger, present and future: trace|debug|info|warn|error|critical|off.
bool set_level(const std::string& level);

}  // namespace depositd::log
