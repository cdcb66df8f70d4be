#pragma once
// What orders.cpp and settlement.cpp share (internal to lib/orders).
#include <cstdint>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "core/amount.hpp"
#include "core/result.hpp"

namespace depositd::orders::detail {

// A stored raw amount as text for people ("12.5"); the raw text when it does not parse.
inline std::string human(const std::string& raw, unsigned decimals) {
    auto a = Amount::from_raw_decimal(raw, decimals);
    return a ? a->to_string() : raw;
}

inline Result<U256> raw_of(const std::string& text) {
    auto v = u256_from_decimal(text);
    if (!v) return make_error(Errc::io, "corrupt amount in the orders table");
    return v;
}

inline std::optional<std::int64_t> cooldown_ms(const config::Config& cfg) {
    if (!cfg.orders.cooldown) return std::nullopt;
    return cfg.orders.cooldown->count();
}

}  // namespace depositd::orders::detail
