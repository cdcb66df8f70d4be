// Bindings of a depositReference to a pool address (pool.hpp, second part).
// Every write happens inside one BEGIN IMMEDIATE transaction, so the daemon
// and depositctl (two processes, one database) never hand the same address to
// two references; the partial unique indexes of schema v1 back this up.
#include <map>
#include <utility>

#include "store/pool.hpp"

#include <algorithm>

#include "store/counters.hpp"

namespace depositd::store {
namespace {

Error db_error(const Error& e, const char* what) {
    Error out = e;
    out.message = std::string(what) + ": " + e.message;
    return out;
}

// The active binding of (reference, protocol), if any.
Result<std::optional<Binding>> find_active(Database& db, const std::string& reference, const std::string& protocol) {
    auto q = db.prepare(
        "SELECT b.reference, b.protocol, a.address, b.address_id, b.metadata, b.bound_at "
        "FROM bindings b JOIN addresses a ON a.id = b.address_id "
        "WHERE b.reference = ?1 AND b.protocol = ?2 AND b.unbound_at IS NULL");
    q.bind(1, reference).bind(2, protocol);
    auto r = q.step();
    if (!r) return db_error(r.error(), "find binding");
    if (!*r) return std::optional<Binding>{};
    Binding b;
    b.reference = q.text(0);
    b.protocol = q.text(1);
    b.address = q.text(2);
    b.address_id = q.int64(3);
    b.metadata = q.opt_text(4);
    b.bound_at = q.int64(5);
    return std::optional<Binding>{std::move(b)};
}

}  // namespace

// Two index-friendly queries (protocol, state, id) instead of one OR that would scan.
Result<std::optional<FreeAddress>> next_free_address(Database& db, const std::string& protocol, std::int64_t now_ms) {
    std::optional<FreeAddress> best;
    {
        auto q = db.prepare(
            "SELECT id, address FROM addresses WHERE protocol = ?1 AND state = 'free' ORDER BY id LIMIT 1");
        q.bind(1, protocol);
        auto r = q.step();
        if (!r) return db_error(r.error(), "find free address");
        if (*r) best = FreeAddress{q.int64(0), q.text(1)};
    }
    {
        auto q = db.prepare(
            "SELECT id, address FROM addresses WHERE protocol = ?1 AND state = 'cooling' "
            "AND cooldown_until IS NOT NULL AND cooldown_until <= ?2 ORDER BY id LIMIT 1");
        q.bind(1, protocol).bind(2, now_ms);
        auto r = q.step();
        if (!r) return db_error(r.error(), "find cooled address");
        if (*r && (!best || q.int64(0) < best->id)) best = FreeAddress{q.int64(0), q.text(1)};
    }
    return best;
}

Result<Binding> bind_reference(Database& db, const std::string& reference, const std::string& protocol,
                               const std::optional<std::string>& metadata, std::int64_t now_ms) {
    Transaction tx(db);
    if (!tx.begun()) return db_error(tx.begun().error(), "bind: begin");

    auto existing = find_active(db, reference, protocol);
    if (!existing) return existing.error();
    if (*existing) return std::move(**existing);  // idempotent; the transaction rolls back (nothing written)

    auto cand = next_free_address(db, protocol, now_ms);
    if (!cand) return cand.error();
    if (!*cand) return make_error(Errc::unavailable, "InsufficientAddresses: no free " + protocol + " address in the pool");

    {
        auto up = db.prepare(
            "UPDATE addresses SET state = 'bound', cooldown_until = NULL WHERE id = ?1 AND "
            "(state = 'free' OR (state = 'cooling' AND cooldown_until IS NOT NULL AND cooldown_until <= ?2))");
        up.bind(1, (*cand)->id).bind(2, now_ms);
        if (auto s = up.run(); !s) return db_error(s.error(), "bind: take address");
        if (db.changes() != 1) return make_error(Errc::conflict, "bind: address was taken concurrently");
    }
    {
        auto ins = db.prepare(
            "INSERT INTO bindings (reference, protocol, address_id, metadata, bound_at) VALUES (?1, ?2, ?3, ?4, ?5)");
        ins.bind(1, reference).bind(2, protocol).bind(3, (*cand)->id).bind(4, metadata).bind(5, now_ms);
        if (auto s = ins.run(); !s) return db_error(s.error(), "bind: insert binding");
    }
    if (auto s = tx.commit(); !s) return db_error(s.error(), "bind: commit");

    Binding b;
    b.reference = reference;
    b.protocol = protocol;
    b.address = std::move((*cand)->address);
    b.address_id = (*cand)->id;
    b.metadata = metadata;
    b.bound_at = now_ms;
    b.created = true;
    return b;
}

Result<int> unbind_reference(Database& db, const std::string& reference, const std::optional<std::string>& protocol,
                             std::optional<std::int64_t> cooldown_ms, std::int64_t now_ms) {
    Transaction tx(db);
    if (!tx.begun()) return db_error(tx.begun().error(), "unbind: begin");

    std::vector<std::pair<std::int64_t, std::int64_t>> rows;  // binding id, address id
    {
        auto q = db.prepare(
            "SELECT id, address_id FROM bindings WHERE reference = ?1 AND (?2 IS NULL OR protocol = ?2) "
            "AND unbound_at IS NULL ORDER BY id");
        q.bind(1, reference).bind(2, protocol);
        for (;;) {
            auto r = q.step();
            if (!r) return db_error(r.error(), "unbind: find bindings");
            if (!*r) break;
            rows.emplace_back(q.int64(0), q.int64(1));
        }
    }
    std::optional<std::int64_t> until;
    if (cooldown_ms) until = now_ms + *cooldown_ms;
    for (const auto& [binding_id, address_id] : rows) {
        {
            auto up = db.prepare("UPDATE bindings SET unbound_at = ?1 WHERE id = ?2");
            up.bind(1, now_ms).bind(2, binding_id);
            if (auto s = up.run(); !s) return db_error(s.error(), "unbind: end binding");
        }
        {
            auto up = db.prepare("UPDATE addresses SET state = 'cooling', cooldown_until = ?1 WHERE id = ?2");
            up.bind(1, until).bind(2, address_id);
            if (auto s = up.run(); !s) return db_error(s.error(), "unbind: cool address");
        }
    }
    if (rows.empty()) return 0;  // nothing written; roll back
    if (auto s = tx.commit(); !s) return db_error(s.error(), "unbind: commit");
    return static_cast<int>(rows.size());
}

Result<std::vector<Binding>> active_bindings(Database& db, const std::string& reference) {
    auto q = db.prepare(
        "SELECT b.reference, b.protocol, a.address, b.address_id, b.metadata, b.bound_at "
        "FROM bindings b JOIN addresses a ON a.id = b.address_id "
        "WHERE b.reference = ?1 AND b.unbound_at IS NULL ORDER BY b.id");
    q.bind(1, reference);
    std::vector<Binding> out;
    for (;;) {
        auto r = q.step();
        if (!r) return db_error(r.error(), "active bindings");
        if (!*r) break;
        Binding b;
        b.reference = q.text(0);
        b.protocol = q.text(1);
        b.address = q.text(2);
        b.address_id = q.int64(3);
        b.metadata = q.opt_text(4);
        b.bound_at = q.int64(5);
        out.push_back(std::move(b));
    }
    return out;
}

Result<std::vector<PoolStats>> pool_stats(Database& db, std::int64_t now_ms) {
    // From the trigger-kept counters (schema/002): O(protocols), not O(pool).
    auto counters = read_counters(db);
    if (!counters) return db_error(counters.error(), "pool stats");
    std::map<std::string, PoolStats> by_protocol;
    for (const auto& [key, n] : counters->pool) {
        const auto& [protocol, state] = key;
        auto& s = by_protocol[protocol];
        s.protocol = protocol;
        if (state == "free") s.free += n;
        else if (state == "bound") s.bound += n;
        else if (state == "cooling") s.cooling += n;
    }
    for (auto& [protocol, s] : by_protocol) {
        if (s.cooling == 0) continue;
        auto cooled = cooled_addresses(db, protocol, now_ms);
        if (!cooled) return db_error(cooled.error(), "pool stats");
        const auto moved = std::min(*cooled, s.cooling);
        s.cooling -= moved;
        s.free += moved;
    }
    std::vector<PoolStats> out;
    out.reserve(by_protocol.size());
    for (auto& [_, s] : by_protocol)
        if (s.free + s.bound + s.cooling > 0) out.push_back(std::move(s));
    return out;
}

}  // namespace depositd::store
