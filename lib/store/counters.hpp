#pragma once
// Row counts kept current by triggers (pool_counts, deposit_counts,
// event_counts; schema/007): what /health, /metrics and `depositctl status`
// report, read in O(number of series), never by scanning tables.
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "core/result.hpp"
#include "store/database.hpp"

namespace depositd::store {

struct Counters {
    std::map<std::pair<std::string, std::string>, std::uint64_t> pool;      // (protocol, state)
    std::map<std::pair<std::string, std::string>, std::uint64_t> deposits;  // (chain, status)
    std::map<std::string, std::uint64_t> events;                            // status
};

Result<Counters> read_counters(Database& db);

// Cooling addresses of a protocol whose cooldown has passed (they count as
// free). Served by the (protocol, state, ...) index: proportional to the
// number of cooling addresses, never to the pool.
Result<std::uint64_t> cooled_addresses(Database& db, const std::string& protocol, std::int64_t now_ms);

}  // namespace depositd::store
