// The scanner's view of the pool: which addresses to watch, and who owns one.
#include "store/pool.hpp"

#include "store/in_list.hpp"

namespace depositd::store {

Status for_each_watched(Database& db, const std::string& protocol, std::int64_t after_id,
                        const std::function<void(const WatchedAddress&)>& fn) {
    auto s = db.prepare("SELECT id, address, watch_key FROM addresses WHERE protocol = ?1 AND id > ?2 ORDER BY id");
    s.bind(1, protocol).bind(2, after_id);
    WatchedAddress row;
    for (;;) {
        auto r = s.step();
        if (!r) return r.error();
        if (!*r) return {};
        row.id = s.int64(0);
        row.address = s.text(1);
        row.watch_key = s.blob(2);
        fn(row);
    }
}

Status lock_address_inserts(Database& db) {
    if (db.backend() != Backend::postgresql) return {};
    auto q = db.prepare("SELECT pg_advisory_xact_lock(7263540001)");  // an arbitrary key of ours
    auto r = q.step();
    if (!r) return r.error();
    return {};
}

Result<std::vector<WatchedAddress>> watched_after(Database& db, const std::string& protocol, std::int64_t after_id,
                                                  std::size_t limit) {
    auto s = db.prepare(
        "SELECT id, address, watch_key FROM addresses WHERE protocol = ?1 AND id > ?2 ORDER BY id LIMIT ?3");
    s.bind(1, protocol).bind(2, after_id).bind(3, static_cast<std::int64_t>(limit));
    std::vector<WatchedAddress> out;
    for (;;) {
        auto r = s.step();
        if (!r) return r.error();
        if (!*r) return out;
        WatchedAddress row;
        row.id = s.int64(0);
        row.address = s.text(1);
        row.watch_key = s.blob(2);
        out.push_back(std::move(row));
    }
}

Result<std::int64_t> watched_count_after(Database& db, const std::string& protocol, std::int64_t after_id) {
    auto s = db.prepare("SELECT count(*) FROM addresses WHERE protocol = ?1 AND id > ?2");
    s.bind(1, protocol).bind(2, after_id);
    auto r = s.step();
    if (!r) return r.error();
    return s.int64(0);
}

Result<std::int64_t> pool_generation(Database& db, const std::string& protocol) {
    auto s = db.prepare("SELECT coalesce(max(id), 0) FROM addresses WHERE protocol = ?1");
    s.bind(1, protocol);
    auto r = s.step();
    if (!r) return r.error();
    return s.int64(0);
}

Result<std::vector<std::string>> address_samples(Database& db, const std::string& protocol) {
    // One pass over the protocol's rows. Addresses of one network and type
    // share their first characters (version byte / human-readable part) and
    // length; the extremes of each group stand for it.
    auto s = db.prepare(
        "SELECT min(address), max(address) FROM addresses WHERE protocol = ?1 "
        "GROUP BY lower(substr(address, 1, 2)), length(address)");
    s.bind(1, protocol);
    std::vector<std::string> out;
    for (;;) {
        auto r = s.step();
        if (!r) return r.error();
        if (!*r) return out;
        out.push_back(s.text(0));
        std::string hi = s.text(1);
        if (hi != out.back()) out.push_back(std::move(hi));
    }
}

Result<AddressOwner> address_owner(Database& db, std::int64_t address_id) {
    auto s = db.prepare(
        "SELECT a.address, b.reference FROM addresses a "
        "LEFT JOIN bindings b ON b.address_id = a.id AND b.unbound_at IS NULL WHERE a.id = ?1");
    s.bind(1, address_id);
    auto r = s.step();
    if (!r) return r.error();
    if (!*r) return make_error(Errc::not_found, "no address with id " + std::to_string(address_id));
    return AddressOwner{s.text(0), s.opt_text(1)};
}

Result<std::unordered_map<std::int64_t, std::string>> addresses_by_id(Database& db,
                                                                     const std::vector<std::int64_t>& ids) {
    std::unordered_map<std::int64_t, std::string> out;
    static const std::string sql = "SELECT id, address FROM addresses WHERE id IN " + detail::in_list();
    if (auto s = detail::query_in_chunks(db, sql, ids, [&](const Statement& row) { out[row.int64(0)] = row.text(1); });
        !s)
        return s.error();
    return out;
}

Result<std::unordered_set<std::int64_t>> ever_bound(Database& db, const std::vector<std::int64_t>& address_ids) {
    static const std::string sql = "SELECT DISTINCT address_id FROM bindings WHERE address_id IN " + detail::in_list();
    return detail::id_set_in_chunks(db, sql, address_ids);
}

}  // namespace depositd::store
