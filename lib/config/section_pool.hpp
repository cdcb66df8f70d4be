#pragma once
// [pool] (SPEC §3): when an unbound address may be handed out again.
// Parsed by section_pool.cpp; include config/config.hpp.
#include <cstdint>
#include <optional>

#include "config/units.hpp"

namespace depositd::config {

struct PoolConfig {
    // nullopt = "never": an unbound address is never handed out again.
    std::optional<Duration> cooldown;
    std::uint32_t low_water = 100;
};

}  // namespace depositd::config
