#pragma once
// spdlog facade: the daemon's diagnostic log (stderr) and the JSON access log.
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

namespace baton::log {

// Configures the default logger (stderr, level) and the access log sink:
// access_log = "stdout" | "off" | file path. Throws baton::ConfigError if the file can't be opened.
void setup(const std::string& level, const std::string& access_log);

// Writes one line to the access log (no-op when off). Thread-safe.
void access(std::string_view json_line);
bool access_enabled();

// Logs a warning at most once per key for the process lifetime (e.g. deprecation notices).
void warn_once(const std::string& key, const std::string& message);

}  // namespace baton::log
