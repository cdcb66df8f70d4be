#pragma once
// Deposits: one row per transfer seen in one block. The JSON shape (SPEC §4)
// is produced here once, for the API and for frozen webhook payloads.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "store/database.hpp"

namespace depositd::store {

struct Deposit {
    std::string id;                       // dep_...
    std::string chain_id;
    std::string tx_hash;
    std::uint64_t index = 0;
    std::string block_hash;
    std::uint64_t block_number = 0;
    std::int64_t address_id = 0;
    std::string address;
    std::optional<std::string> reference;
    std::string currency;
    std::optional<std::string> contract;
    std::string raw_amount;               // exact integer, decimal
    unsigned decimals = 0;
    std::string from;
    std::uint64_t confirmations = 0;
    std::uint64_t required_confirmations = 0;
    std::optional<std::string> finality;  // "finalized": confirmed at the chain's finality (required_confirmations unused)
    std::string status;                   // pending | confirmed | reverted
    std::uint64_t changes = 0;            // status changes so far = events minted (see change_event_id)
    std::int64_t detected_at = 0;         // unix ms
    std::optional<std::int64_t> confirmed_at;
    std::optional<std::int64_t> reverted_at;
    std::optional<std::int64_t> block_time;  // the block's timestamp (unix ms), when the chain gives one
};

// SPEC §4 deposit object.
json::object deposit_to_json(const Deposit& d);
// SPEC §5 webhook body: {"id","type","createdAt","data":deposit}.
std::string event_payload(const std::string& event_id, const std::string& type, std::int64_t created_ms,
                          const Deposit& d);

// INSERT OR IGNORE; returns true when the row is new.
Result<bool> insert_deposit(Database& db, const Deposit& d);
// A deposit the caller found not stored, in its transaction: pipelined on
// PostgreSQL (Statement::run_pipelined); one already there fails the unit.
Status add_deposit(Database& db, const Deposit& d);
// add_deposit for many (a batch's new deposits), in multi-row statements.
Status add_deposits(Database& db, std::span<const Deposit> deposits);
// status, changes, confirmations, confirmed_at, reverted_at
Status update_deposit_state(Database& db, const Deposit& d);
Result<std::optional<Deposit>> get_deposit(Database& db, const std::string& id);
// The stored deposits among `ids` (any order; unknown ids are left out): a
// batch's deposits in a few reads instead of one each.
Result<std::vector<Deposit>> deposits_by_id(Database& db, const std::vector<std::string>& ids);

// Pending deposits of a chain (for confirmation tracking).
Result<std::vector<Deposit>> pending_deposits(Database& db, const std::string& chain_id);
// Non-reverted deposits of a chain above a height (dropped by a reorg).
Result<std::vector<Deposit>> deposits_above(Database& db, const std::string& chain_id, std::uint64_t height);

// The reference of the binding that held an address at `at_ms` (bound at or
// before it, not unbound by then); when nobody held it, the first binding
// that began within `skew_ms` after it (SPEC §10: block clocks run behind);
// nullopt when there is none.
Result<std::optional<std::string>> reference_at(Database& db, std::int64_t address_id, std::int64_t at_ms,
                                                std::int64_t skew_ms = 0);
// The reference of the newest binding that began at or before `at_ms`,
// whether it still holds the address or not (the last holder, for late
// payments to an order's address).
Result<std::optional<std::string>> last_holder_before(Database& db, std::int64_t address_id, std::int64_t at_ms);
// A position in the deposit list, whose order is detected_at DESC, then the
// row's insertion sequence (SQLite rowid) DESC: the last deposit of a page
// (keyset pagination).
struct DepositKey {
    std::int64_t detected_at = 0;
    std::int64_t seq = 0;  // rowid
};

struct DepositFilter {
    std::optional<std::string> reference;
    std::optional<std::string> status;
    std::optional<std::string> chain_id;
    std::optional<std::string> currency;
    std::optional<std::int64_t> address_id;
    std::uint32_t page = 1;               // 1-based; ignored when `after` is set
    std::uint32_t limit = 20;             // <= 100
    std::optional<DepositKey> after;      // keyset: the deposits after this one
};
struct DepositPage {
    std::vector<Deposit> deposits;
    std::uint64_t total = 0;              // deposits matching the filters (all pages)
    std::optional<DepositKey> next;       // the last deposit of this page when more follow
};
// Newest first. Every combination of filters is one fixed statement on an
// index in list order (schema/003): a page costs O(limit) (plus the offset of
// `page`; `after` costs nothing extra), and `total` is read from
// deposit_counts, or counted on the reference's / address's index.
Result<DepositPage> list_deposits(Database& db, const DepositFilter& f);

// Per (chainId, currency) sums of non-reverted deposits of a reference.
struct DepositTotal {
    std::string chain_id;
    std::string currency;
    std::string raw_amount;               // exact sum, decimal integer
    unsigned decimals = 0;
    std::uint64_t count = 0;
};
Result<std::vector<DepositTotal>> deposit_totals(Database& db, const std::string& reference,
                                                 const std::string& protocol);

}  // namespace depositd::store
