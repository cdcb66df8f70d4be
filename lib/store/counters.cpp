#include "store/counters.hpp"

namespace depositd::store {

Result<Counters> read_counters(Database& db) {
    auto q = db.prepare("SELECT kind, a, b, n FROM counters");
    Counters c;
    for (;;) {
        auto r = q.step();
        if (!r) return r.error();
        if (!*r) break;
        const std::string kind = q.text(0);
        const auto n = static_cast<std::uint64_t>(std::max<std::int64_t>(q.int64(3), 0));
        if (kind == "pool") c.pool[{q.text(1), q.text(2)}] = n;
        else if (kind == "deposits") c.deposits[{q.text(1), q.text(2)}] = n;
        else if (kind == "events") c.events[q.text(1)] = n;
    }
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
