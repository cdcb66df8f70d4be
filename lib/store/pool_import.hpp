#pragma once
// Bulk import of addresses into the pool (depositctl pool import / derive).
// Rows are already validated and canonicalised (codec::parse_address); this
// layer only stores them: one transaction, INSERT OR IGNORE, one prepared
// statement reused for every row (1 M rows in a few seconds).
#include <cstdint>
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

// Inserts every row in ONE transaction (all or nothing). A row whose address
// or watch key is already present for the protocol is a duplicate, not an
// error. Errors: Errc::invalid_input (empty address/watch key), Errc::io
// (database, busy beyond the timeout); nothing is changed then.
Result<ImportCounts> import_addresses(Database& db, const std::string& protocol, const std::vector<ImportRow>& rows,
                                      std::int64_t now_ms);
Result<ImportCounts> import_addresses(Database& db, const std::string& protocol, const std::vector<ImportRow>& rows,
                                      std::int64_t now_ms, const std::optional<CursorUpdate>& cursor);

// Next receive index to derive for an extended public key (0 if never used).
Result<std::uint64_t> get_xpub_cursor(Database& db, const std::string& xpub, const std::string& protocol);
// Stores the next index (overwrites; use CursorUpdate to only move forward).
Status set_xpub_cursor(Database& db, const std::string& xpub, const std::string& protocol, std::uint64_t next_index);

}  // namespace depositd::store
