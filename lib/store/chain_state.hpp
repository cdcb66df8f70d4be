#pragma once
// Per-chain scan progress: cursor and the recent block hashes used for
// parent-hash continuity and reorg walks.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"

namespace depositd::store {

struct Cursor {
    std::string chain_id;
    std::uint64_t height = 0;       // every height up to this one is committed (blocks or skipped slots)
    std::string hash;               // the last committed block's hash
    std::optional<std::uint64_t> block_height;  // that block's height when below `height` (skipped slots after it)
    std::optional<std::uint64_t> head;
    // The highest finalized block proven on our chain (the node's finalized
    // hash at that height is our stored block's): never reverted below. Both
    // set or both unset; put_cursor only ever raises it.
    std::optional<std::uint64_t> finalized;
    std::optional<std::string> finalized_hash;
    std::optional<std::string> halted;
    std::int64_t updated_at = 0;
    // Health (also kept in memory; stored for restarts and `depositctl status`).
    std::optional<std::string> status;          // starting | ok | lagging | error | halted
    std::optional<std::string> last_error;
    std::optional<std::int64_t> last_success_at;

    std::uint64_t last_block_height() const { return block_height.value_or(height); }
};

struct StoredBlock {
    std::uint64_t height = 0;
    std::string hash;
    std::string parent;
};

Result<std::optional<Cursor>> get_cursor(Database& db, const std::string& chain_id);
Result<std::vector<Cursor>> all_cursors(Database& db);
// put_cursor, put_block and prune_blocks_below are pipelined on PostgreSQL
// inside a transaction (Statement::run_pipelined).
Status put_cursor(Database& db, const Cursor& c);
Status set_head(Database& db, const std::string& chain_id, std::uint64_t head, std::int64_t now_ms);
// Health columns of an existing cursor row (no-op without one).
Status set_health(Database& db, const std::string& chain_id, const std::string& status,
                  const std::optional<std::string>& last_error, std::optional<std::int64_t> last_success_at,
                  std::int64_t now_ms);
// Raises the proven finalized block of an existing cursor row (no-op
// without one, or when it is not higher).
Status set_finalized(Database& db, const std::string& chain_id, std::uint64_t height, const std::string& hash,
                     std::int64_t now_ms);
Status set_halted(Database& db, const std::string& chain_id, const std::optional<std::string>& why, std::int64_t now_ms);

Status put_block(Database& db, const std::string& chain_id, const StoredBlock& b);
// put_block for many (distinct heights), in multi-row statements.
Status put_blocks(Database& db, const std::string& chain_id, std::span<const StoredBlock> blocks);
Result<std::optional<StoredBlock>> get_block(Database& db, const std::string& chain_id, std::uint64_t height);
// Stored blocks at or below `height`, highest first, at most `limit`.
Result<std::vector<StoredBlock>> blocks_down_from(Database& db, const std::string& chain_id, std::uint64_t height,
                                                  std::size_t limit);
// Removes blocks above `height` (after a reorg) and below `keep_from` (pruning).
Status delete_blocks_above(Database& db, const std::string& chain_id, std::uint64_t height);
Status prune_blocks_below(Database& db, const std::string& chain_id, std::uint64_t keep_from);

}  // namespace depositd::store
