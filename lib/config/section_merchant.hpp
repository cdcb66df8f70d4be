#pragma once
// [merchant] (SPEC §3, §9): the EPay- and epusdt-compatible endpoints.
// Parsed by section_merchant.cpp; include config/config.hpp.
#include <cstdint>
#include <string>

namespace depositd::config {

struct MerchantConfig {
    bool enabled = false;               // [merchant] present
    std::int64_t pid = 0;               // EPay merchant id
    std::string key;                    // EPay key and epusdt API token (>= 32 characters); never logged
    // notify_url / callback destinations on loopback, private, link-local or
    // metadata addresses are refused unless this is set (a shop on the LAN).
    bool allow_private_notify = false;
};

}  // namespace depositd::config
