#include "store/chain_state.hpp"

namespace depositd::store {
namespace {
Cursor read_cursor(const Statement& s) {
    Cursor c;
    c.chain_id = s.text(0);
    c.height = static_cast<std::uint64_t>(s.int64(1));
    c.hash = s.text(2);
    if (auto h = s.opt_int64(3)) c.head = static_cast<std::uint64_t>(*h);
    c.halted = s.opt_text(4);
    c.updated_at = s.int64(5);
    return c;
}
}  // namespace

Result<std::optional<Cursor>> get_cursor(Database& db, const std::string& chain_id) {
    auto s = db.prepare("SELECT chain_id, height, hash, head, halted, updated_at FROM chain_cursors WHERE chain_id = ?1");
    s.bind(1, chain_id);
    auto r = s.step();
    if (!r) return r.error();
    if (!*r) return std::optional<Cursor>{};
    return std::optional<Cursor>(read_cursor(s));
}

Result<std::vector<Cursor>> all_cursors(Database& db) {
    auto s = db.prepare("SELECT chain_id, height, hash, head, halted, updated_at FROM chain_cursors ORDER BY chain_id");
    std::vector<Cursor> out;
    for (;;) {
        auto r = s.step();
        if (!r) return r.error();
        if (!*r) break;
        out.push_back(read_cursor(s));
    }
    return out;
}

Status put_cursor(Database& db, const Cursor& c) {
    auto s = db.prepare(
        "INSERT INTO chain_cursors (chain_id, height, hash, head, halted, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
        "ON CONFLICT (chain_id) DO UPDATE SET height = excluded.height, hash = excluded.hash, "
        "head = coalesce(excluded.head, chain_cursors.head), halted = excluded.halted, updated_at = excluded.updated_at");
    s.bind(1, c.chain_id).bind(2, c.height).bind(3, c.hash);
    if (c.head) s.bind(4, *c.head); else s.bind_null(4);
    s.bind(5, c.halted).bind(6, c.updated_at);
    return s.run();
}

Status set_head(Database& db, const std::string& chain_id, std::uint64_t head, std::int64_t now_ms) {
    auto s = db.prepare("UPDATE chain_cursors SET head = ?2, updated_at = ?3 WHERE chain_id = ?1");
    s.bind(1, chain_id).bind(2, head).bind(3, now_ms);
    return s.run();
}

Status set_halted(Database& db, const std::string& chain_id, const std::optional<std::string>& why,
                  std::int64_t now_ms) {
    auto s = db.prepare("UPDATE chain_cursors SET halted = ?2, updated_at = ?3 WHERE chain_id = ?1");
    s.bind(1, chain_id).bind(2, why).bind(3, now_ms);
    return s.run();
}

Status put_block(Database& db, const std::string& chain_id, const StoredBlock& b) {
    auto s = db.prepare(
        "INSERT INTO chain_blocks (chain_id, height, hash, parent) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (chain_id, height) DO UPDATE SET hash = excluded.hash, parent = excluded.parent");
    s.bind(1, chain_id).bind(2, b.height).bind(3, b.hash).bind(4, b.parent);
    return s.run();
}

Result<std::optional<StoredBlock>> get_block(Database& db, const std::string& chain_id, std::uint64_t height) {
    auto s = db.prepare("SELECT height, hash, parent FROM chain_blocks WHERE chain_id = ?1 AND height = ?2");
    s.bind(1, chain_id).bind(2, height);
    auto r = s.step();
    if (!r) return r.error();
    if (!*r) return std::optional<StoredBlock>{};
    return std::optional<StoredBlock>(
        StoredBlock{static_cast<std::uint64_t>(s.int64(0)), s.text(1), s.text(2)});
}

Status delete_blocks_above(Database& db, const std::string& chain_id, std::uint64_t height) {
    auto s = db.prepare("DELETE FROM chain_blocks WHERE chain_id = ?1 AND height > ?2");
    s.bind(1, chain_id).bind(2, height);
    return s.run();
}

Status prune_blocks_below(Database& db, const std::string& chain_id, std::uint64_t keep_from) {
    auto s = db.prepare("DELETE FROM chain_blocks WHERE chain_id = ?1 AND height < ?2");
    s.bind(1, chain_id).bind(2, keep_from);
    return s.run();
}

}  // namespace depositd::store
