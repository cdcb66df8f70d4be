#pragma once
// The units configuration values are written in: durations ("3s", "1h30m")
// and sizes ("32MiB"). Parsed strictly: no unit, a sign or garbage is an
// error, never a guess.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace depositd::config {

using Duration = std::chrono::milliseconds;

// "3s", "250ms", "1m", "2h" -> milliseconds. No unit, negative or garbage: error.
Result<Duration> parse_duration(std::string_view text);
// The shortest text parse_duration reads back as `d`: "1m30s", "2h", "250ms".
std::string format_duration(Duration d);

// "32MiB", "512KiB", "1GiB", "65536", "65536B" -> bytes (binary units only).
Result<std::uint64_t> parse_size(std::string_view text);
std::string format_size(std::uint64_t bytes);  // 33554432 -> "32MiB"

}  // namespace depositd::config
