#pragma once
// [orders] (SPEC §3, §8): what an order pays in, how long it lives, pricing.
// Parsed by section_orders.cpp; include config/config.hpp.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/units.hpp"

namespace depositd::config {

// Optional: without [orders] orders still work in address mode with a 30m
// expiry, but every order must name what it pays in.
struct OrdersConfig {
    enum class Mode { address, amount };
    std::string default_pay;            // "<symbol>.<chainId>", lower case; empty = none
    Duration expiry = std::chrono::minutes(30);
    Mode mode = Mode::address;
    std::map<std::string, std::string> receive;  // chainId -> shared address as written (mode amount)
    std::string fiat;                   // "CNY"; empty = amounts are in the pay currency
    std::string rate;                   // "7.4" | "~1.02" | "+0.3" | "-0.1" (as written)
    std::string rate_source;            // URL answering JSON with the base rate; empty = none
    std::string rate_path;              // dotted path to the base rate in that JSON ("" = the whole answer)
    // Every base-rate source: rate_source + rate_path as the first (only)
    // one, or the rate_sources list; the base rate is their median.
    struct RateSource {
        std::string url;                // https:// (http:// only to 127.0.0.1 / [::1])
        std::string path;
    };
    std::vector<RateSource> rate_sources;
    // A new base rate further than this from the last accepted one (parts
    // per million of it; 100000 = 10 %) is refused until a second fetch
    // confirms it. 0 = no guard.
    std::uint32_t rate_max_change_ppm = 100'000;
    Duration rate_refresh = std::chrono::seconds(60);
    Duration rate_max_age = std::chrono::minutes(10);  // older than this: new fiat orders are refused
    unsigned precision = 2;             // converted amounts are rounded UP to this many decimals
    // How long an order's pool address rests before another order (or a
    // binding) may take it; nullopt = never again.
    std::optional<Duration> cooldown = std::chrono::hours(24);
    // Mode amount: an order keeps its amount taken this long after it ended,
    // so a late payer's amount is never handed to the next order.
    Duration amount_hold = std::chrono::hours(1);
    // Open checkout orders (payment links) one client address may hold.
    std::uint32_t open_per_client = 3;
    std::string source;                 // "file:line" of [orders] ("" when absent)
    std::map<std::string, std::string> receive_source;  // chainId -> "file:line" of its address
};

}  // namespace depositd::config
