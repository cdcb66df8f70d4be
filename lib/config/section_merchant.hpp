#pragma once
// [merchant] (SPEC §3, §9): the EPay- and epusdt-compatible endpoints.
// Parsed by section_merchant.cpp; include config/config.hpp.
#include <cstdint>
#include <string>

namespace depositd::config {

struct MerchantConfig {
    bool enabled = false;               // [merchant] present
    std::int64_t pid = 0;               // EPay merchant id
    std::string key;                    // EPay key and epusdt API token; never logged
};

}  // namespace depositd::config
