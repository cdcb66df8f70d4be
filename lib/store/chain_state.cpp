#include "store/chain_state.hpp"

#include "store/in_list.hpp"

namespace depositd::store {
namespace {
constexpr const char* kCursorColumns =
    "chain_id, height, hash, head, halted, updated_at, block_height, finalized, status, last_error, last_success_at, "
    "finalized_hash";

// Upsert clause: the proven finalized block moves up only, height and hash together.
constexpr const char* kRaiseFinalized =
    "finalized = CASE WHEN excluded.finalized IS NOT NULL AND excluded.finalized >= coalesce(chain_cursors.finalized, 0) "
    "THEN excluded.finalized ELSE chain_cursors.finalized END, "
    "finalized_hash = CASE WHEN excluded.finalized IS NOT NULL AND excluded.finalized >= coalesce(chain_cursors.finalized, 0) "
    "THEN excluded.finalized_hash ELSE chain_cursors.finalized_hash END";

std::optional<std::uint64_t> opt_u64(const Statement& s, int col) {
    if (auto v = s.opt_int64(col)) return static_cast<std::uint64_t>(*v);
    return std::nullopt;
}

Cursor read_cursor(const Statement& s) {
    Cursor c;
    c.chain_id = s.text(0);
    c.height = static_cast<std::uint64_t>(s.int64(1));
    c.hash = s.text(2);
    c.head = opt_u64(s, 3);
    c.halted = s.opt_text(4);
    c.updated_at = s.int64(5);
    c.block_height = opt_u64(s, 6);
    c.finalized = opt_u64(s, 7);
    c.status = s.opt_text(8);
    c.last_error = s.opt_text(9);
    c.last_success_at = s.opt_int64(10);
    c.finalized_hash = s.opt_text(11);
    if (!c.finalized_hash) c.finalized.reset();  // never proven (schema 006)
    return c;
}
}  // namespace

Result<std::optional<Cursor>> get_cursor(Database& db, const std::string& chain_id) {
    auto s = db.prepare(std::string("SELECT ") + kCursorColumns + " FROM chain_cursors WHERE chain_id = ?1");
    s.bind(1, chain_id);
    auto r = s.step();
    if (!r) return r.error();
    if (!*r) return std::optional<Cursor>{};
    return std::optional<Cursor>(read_cursor(s));
}

Result<std::vector<Cursor>> all_cursors(Database& db) {
    auto s = db.prepare(std::string("SELECT ") + kCursorColumns + " FROM chain_cursors ORDER BY chain_id");
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
    // head, the proven finalized block and the health columns keep their
    // value when not given; the finalized block only moves up, its height and
    // hash together.
    auto s = db.prepare(
        "INSERT INTO chain_cursors (chain_id, height, hash, head, halted, updated_at, block_height, finalized, "
        "finalized_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
        "ON CONFLICT (chain_id) DO UPDATE SET height = excluded.height, hash = excluded.hash, "
        "head = coalesce(excluded.head, chain_cursors.head), halted = excluded.halted, updated_at = excluded.updated_at, "
        "block_height = excluded.block_height, " + std::string(kRaiseFinalized));
    s.bind(1, c.chain_id).bind(2, c.height).bind(3, c.hash);
    if (c.head) s.bind(4, *c.head); else s.bind_null(4);
    s.bind(5, c.halted).bind(6, c.updated_at);
    if (c.block_height && *c.block_height != c.height) s.bind(7, *c.block_height); else s.bind_null(7);
    if (c.finalized && c.finalized_hash) s.bind(8, *c.finalized).bind(9, *c.finalized_hash);
    else s.bind_null(8).bind_null(9);
    return s.run_pipelined();
}

Status set_finalized(Database& db, const std::string& chain_id, std::uint64_t height, const std::string& hash,
                     std::int64_t now_ms) {
    auto s = db.prepare(
        "UPDATE chain_cursors SET finalized = ?2, finalized_hash = ?3, updated_at = ?4 "
        "WHERE chain_id = ?1 AND (finalized IS NULL OR finalized <= ?2)");
    s.bind(1, chain_id).bind(2, height).bind(3, hash).bind(4, now_ms);
    return s.run();
}

Status set_head(Database& db, const std::string& chain_id, std::uint64_t head, std::int64_t now_ms) {
    auto s = db.prepare("UPDATE chain_cursors SET head = ?2, updated_at = ?3 WHERE chain_id = ?1");
    s.bind(1, chain_id).bind(2, head).bind(3, now_ms);
    return s.run();
}

Status set_health(Database& db, const std::string& chain_id, const std::string& status,
                  const std::optional<std::string>& last_error, std::optional<std::int64_t> last_success_at,
                  std::int64_t now_ms) {
    auto s = db.prepare(
        "UPDATE chain_cursors SET status = ?2, last_error = ?3, "
        "last_success_at = coalesce(?4, last_success_at), updated_at = ?5 WHERE chain_id = ?1");
    s.bind(1, chain_id).bind(2, status).bind(3, last_error).bind(4, last_success_at).bind(5, now_ms);
    return s.run();
}

Status set_halted(Database& db, const std::string& chain_id, const std::optional<std::string>& why,
                  std::int64_t now_ms) {
    auto s = db.prepare("UPDATE chain_cursors SET halted = ?2, updated_at = ?3 WHERE chain_id = ?1");
    s.bind(1, chain_id).bind(2, why).bind(3, now_ms);
    return s.run();
}

namespace {
const detail::RowStatements& upsert_blocks() {
    static const detail::RowStatements statements(
        "INSERT INTO chain_blocks (chain_id, height, hash, parent) VALUES ", 4,
        " ON CONFLICT (chain_id, height) DO UPDATE SET hash = excluded.hash, parent = excluded.parent");
    return statements;
}
}  // namespace

Status put_block(Database& db, const std::string& chain_id, const StoredBlock& b) {
    return put_blocks(db, chain_id, std::span<const StoredBlock>(&b, 1));
}

Status put_blocks(Database& db, const std::string& chain_id, std::span<const StoredBlock> blocks) {
    auto bind = [&chain_id](Statement& s, int p, const StoredBlock& b) {
        s.bind(p + 1, chain_id).bind(p + 2, b.height).bind(p + 3, b.hash).bind(p + 4, b.parent);
    };
    return detail::write_rows(db, upsert_blocks(), blocks, bind,
                              [](Statement& s, std::span<const StoredBlock>) { return s.run_pipelined(); });
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

Result<std::vector<StoredBlock>> blocks_down_from(Database& db, const std::string& chain_id, std::uint64_t height,
                                                  std::size_t limit) {
    auto s = db.prepare(
        "SELECT height, hash, parent FROM chain_blocks WHERE chain_id = ?1 AND height <= ?2 ORDER BY height DESC LIMIT ?3");
    s.bind(1, chain_id).bind(2, height).bind(3, static_cast<std::int64_t>(limit));
    std::vector<StoredBlock> out;
    for (;;) {
        auto r = s.step();
        if (!r) return r.error();
        if (!*r) break;
        out.push_back(StoredBlock{static_cast<std::uint64_t>(s.int64(0)), s.text(1), s.text(2)});
    }
    return out;
}

Status delete_blocks_above(Database& db, const std::string& chain_id, std::uint64_t height) {
    auto s = db.prepare("DELETE FROM chain_blocks WHERE chain_id = ?1 AND height > ?2");
    s.bind(1, chain_id).bind(2, height);
    return s.run();
}

Status prune_blocks_below(Database& db, const std::string& chain_id, std::uint64_t keep_from) {
    auto s = db.prepare("DELETE FROM chain_blocks WHERE chain_id = ?1 AND height < ?2");
    s.bind(1, chain_id).bind(2, keep_from);
    return s.run_pipelined();
}

}  // namespace depositd::store
