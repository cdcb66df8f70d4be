#pragma once
// Per-chain scan progress: cursor and the recent block hashes used for
// parent-hash continuity and reorg walks.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"

namespace depositd::store {

struct Cursor {
    std::string chain_id;
    std::uint64_t height = 0;       // last block whose transfers are committed
    std::string hash;
    std::optional<std::uint64_t> head;
    std::optional<std::string> halted;
    std::int64_t updated_at = 0;
};

struct StoredBlock {
    std::uint64_t height = 0;
    std::string hash;
    std::string parent;
};

Result<std::optional<Cursor>> get_cursor(Database& db, const std::string& chain_id);
Result<std::vector<Cursor>> all_cursors(Database& db);
Status put_cursor(Database& db, const Cursor& c);
Status set_head(Database& db, const std::string& chain_id, std::uint64_t head, std::int64_t now_ms);
Status set_halted(Database& db, const std::string& chain_id, const std::optional<std::string>& why, std::int64_t now_ms);

Status put_block(Database& db, const std::string& chain_id, const StoredBlock& b);
Result<std::optional<StoredBlock>> get_block(Database& db, const std::string& chain_id, std::uint64_t height);
// Removes blocks above `height` (after a reorg) and below `keep_from` (pruning).
Status delete_blocks_above(Database& db, const std::string& chain_id, std::uint64_t height);
Status prune_blocks_below(Database& db, const std::string& chain_id, std::uint64_t keep_from);

}  // namespace depositd::store
