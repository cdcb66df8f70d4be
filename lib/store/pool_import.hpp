#pragma once
// Bulk import of addresses into the pool (depositctl pool import / derive).
// Rows are already validated and canonicalised (codec::parse_address); this
// layer only stores them: INSERT OR IGNORE with one prepared statement, in
// transactions of at most ImportOptions::chunk_rows rows with a pause between
// them, so the running daemon's writes never wait long for the lock.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"

namespace depositd::store {

struct ImportRow {
    std::string address;                         // canonical text
    std::vector<std::uint8_t> watch_key;         // what adapters match on
    std::string source;                          // 'file:<name>' or 'xpub:<fingerprint>'
    std::optional<std::string> derivation_path;  // '0/17' for derived addresses
};

struct ImportCounts {
    std::uint64_t imported = 0;    // new rows
    std::uint64_t duplicates = 0;  // already in the pool, or twice in the input
};

// An xpub cursor to move in the same transaction as the rows (pool derive).
struct CursorUpdate {
    std::string xpub;
    std::string protocol;
    std::uint64_t next_index = 0;  // stored as max(stored, next_index)
};

// Rows a transaction of an import holds at most (issue 10: <= 10,000). Chunks
// are sized to commit in about ImportOptions::target_chunk_time; on this
// machine (release build, 1 M addresses in the pool) 5,000 rows take ~15 ms,
// see docs/performance.md.
inline constexpr std::size_t kImportChunkRows = 5'000;
// Pause after each chunk: long enough for a writer that waits on the lock
// (SQLite's busy handler polls every <= 25 ms in its first 100 ms) to get it.
inline constexpr std::chrono::milliseconds kImportChunkPause{25};
inline constexpr std::chrono::milliseconds kImportChunkTime{40};

struct ImportOptions {
    std::size_t chunk_rows = kImportChunkRows;       // most rows per transaction (capped at 10,000)
    // Chunks shrink (to 100 rows) when one takes longer than this (a slow
    // disk, a big pool); zero: always chunk_rows.
    std::chrono::milliseconds target_chunk_time = kImportChunkTime;
    std::chrono::milliseconds pause = kImportChunkPause;  // SQLite only (PostgreSQL queues waiters)
    // Insert in the order of the rows' watch keys instead of the input order
    // (duplicates in the input stay duplicates). Every index of the table then
    // grows at a few places per chunk instead of at random ones, so a chunk
    // rewrites a few pages through the WAL, not thousands (issue 22: 1 M
    // rows, ~5x less I/O). Addresses are then handed out in that order, not
    // the file's: `pool derive` keeps derivation order (wallet gap limits).
    bool sort_by_key = false;
    // After each committed chunk: rows written so far (of rows.size()).
    std::function<void(std::size_t done, const ImportCounts&)> progress;
};

// Inserts the rows in chunks of at most options.chunk_rows, each chunk one
// transaction, with options.pause between chunks: a writer waiting for the
// lock (the daemon) waits about one chunk. A row whose address or watch key is already present for the
// protocol is a duplicate, not an error: running the same import again after
// a failure is safe. A cursor moves with the last chunk.
// Errors: Errc::invalid_input (empty address/watch key; nothing is written),
// Errc::io (database, busy beyond the timeout): the chunks committed before
// stay, and the message says how many rows that was.
Result<ImportCounts> import_addresses(Database& db, const std::string& protocol, const std::vector<ImportRow>& rows,
                                      std::int64_t now_ms);
Result<ImportCounts> import_addresses(Database& db, const std::string& protocol, const std::vector<ImportRow>& rows,
                                      std::int64_t now_ms, const std::optional<CursorUpdate>& cursor,
                                      const ImportOptions& options = {});

// Next receive index to derive for an extended public key (0 if never used).
Result<std::uint64_t> get_xpub_cursor(Database& db, const std::string& xpub, const std::string& protocol);
// Stores the next index (overwrites; use CursorUpdate to only move forward).
Status set_xpub_cursor(Database& db, const std::string& xpub, const std::string& protocol, std::uint64_t next_index);

}  // namespace depositd::store
