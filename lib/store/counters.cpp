#include "store/counters.hpp"

#include <algorithm>

namespace depositd::store {
namespace {

// Calls fn() on every row of q.
template <class Fn>
Status each_row(Statement& q, Fn&& fn) {
    for (;;) {
        auto r = q.step();
        if (!r) return r.error();
        if (!*r) return {};
        fn();
    }
}

// A count that went below zero (it never should) reads 0.
std::uint64_t count_at(Statement& q, int column) {
    return static_cast<std::uint64_t>(std::max<std::int64_t>(q.int64(column), 0));
}

}  // namespace

Result<Counters> read_counters(Database& db) {
    // A handful of rows each: protocols x states, chains x currencies x
    // statuses, statuses.
    Counters c;
    auto pool = db.prepare("SELECT protocol, state, n FROM pool_counts");
    if (auto s = each_row(pool, [&] { c.pool[{pool.text(0), pool.text(1)}] = count_at(pool, 2); }); !s)
        return s.error();
    auto deposits = db.prepare("SELECT chain_id, status, CAST(sum(n) AS BIGINT) FROM deposit_counts GROUP BY chain_id, status");
    if (auto s = each_row(deposits, [&] { c.deposits[{deposits.text(0), deposits.text(1)}] = count_at(deposits, 2); });
        !s)
        return s.error();
    auto events = db.prepare("SELECT status, n FROM event_counts");
    if (auto s = each_row(events, [&] { c.events[events.text(0)] = count_at(events, 1); }); !s) return s.error();
    return c;
}

Result<std::uint64_t> cooled_addresses(Database& db, const std::string& protocol, std::int64_t now_ms) {
    auto q = db.prepare(
        "SELECT count(*) FROM addresses WHERE protocol = ?1 AND state = 'cooling' AND cooldown_until IS NOT NULL "
        "AND cooldown_until <= ?2");
    q.bind(1, protocol).bind(2, now_ms);
    auto r = q.step();
    if (!r) return r.error();
    return static_cast<std::uint64_t>(q.int64(0));
}

}  // namespace depositd::store
