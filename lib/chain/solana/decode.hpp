#pragma once
// Solana payload decoding: pure functions over the bytes of JSON-RPC answers,
// no socket. SolanaAdapter fetches; these decide what a payload means. Unit
// tests and benchmarks call them on captured payloads (tests/fixtures/solana).
//
// The block decoder is a streaming (SAX) parser: a mainnet block in
// `transactionDetails: "accounts"` mode is a few MB of JSON with thousands of
// transactions, and is decoded without building a DOM (docs/performance.md).
//
// What is a deposit (successful transactions only: meta.err == null):
//   - SOL: account i of the transaction is watched and postBalances[i] >
//     preBalances[i] (lamports, JSON integers); amount = the difference.
//     Not when account i signed the transaction (i < the number of
//     signatures: signers come first): a SOL increase in the wallet's own
//     transaction is no deposit (closing its token account refunds the
//     rent to it; a swap).
//     Accounts that are token accounts in the transaction (they appear in
//     pre/postTokenBalances) are never SOL deposits: lamports moving into a
//     token account are rent (a new account) or wrapped SOL, not SOL paid to
//     its owner.
//   - SPL (Token and Token-2022, by mint): for a watched owner and a
//     configured mint, sum(postTokenBalances.amount) − sum(preTokenBalances
//     .amount) over that owner's token accounts of that mint, when positive
//     (a token account without a pre entry — created in this transaction —
//     counts 0). The owner need not be among the transaction's accounts (a
//     transferChecked names only the token accounts); the mint is compared
//     with the configured mints, never a symbol.
//   - Accounts: `transaction.accountKeys` ([{pubkey,...}], accounts mode; it
//     already includes the addresses loaded from lookup tables) or
//     `transaction.message.accountKeys` (json mode) followed by
//     `meta.loadedAddresses.writable` and `.readonly` — the order the balance
//     arrays are indexed in.
//   - Not deposits: failed transactions, balances that went down (outgoing),
//     mints that are not configured, zero changes.
//
// Transfer identity: tx = the first signature (base58), index = the account
// index of the balance that changed: the wallet's for SOL, for SPL the
// owner's token account with the largest increase (ties: the lowest index).
// A token account is never a SOL deposit (above), so SOL and SPL deposits of
// one transaction never share an index.
// from: SOL — the account whose lamports went down the most; SPL — the owner
// of the token account of that mint that went down the most; "" if none.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chain/adapter.hpp"
#include "config/config.hpp"
#include "core/json.hpp"
#include "core/result.hpp"

namespace depositd::chain::solana {

using Key32 = std::array<std::uint8_t, 32>;

struct TokenSpec {
    Key32 mint{};
    std::string mint_text;  // canonical base58
    std::string symbol;
    unsigned decimals = 0;
    std::optional<U256> min_amount;  // base units; smaller transfers are dust (chain/ignored.hpp)
};

struct NativeSpec {
    std::string symbol = "SOL";
    unsigned decimals = 9;
    std::optional<U256> min_amount;  // lamports
};

// Validates configured mints (base58 of exactly 32 bytes); duplicates are an error.
Result<std::vector<TokenSpec>> make_token_specs(const std::vector<config::TokenConfig>& tokens);

// Base58 text of a 32-byte key -> bytes. False unless it is exactly 32 bytes
// in canonical base58 (what nodes print). Allocation-free; the hot path of the
// decoder (one call per balance that went up).
bool decode_key(std::string_view text, Key32& out) noexcept;

struct DecodeContext {
    std::span<const TokenSpec> tokens;
    const WatchSet* watched = nullptr;  // null: headers only, transactions are not read
    NativeSpec native;
    // A block must carry `transactions` (a scan asked for them). False for
    // header-only requests (transactionDetails "none").
    bool require_transactions = true;
};

struct BlockStats {
    std::size_t transactions = 0;
    std::size_t failed = 0;           // meta.err != null (ignored)
    std::size_t sol_deposits = 0;
    std::size_t token_deposits = 0;
    std::size_t ignored_zero = 0;     // a watched balance that rose by 0 (never for SOL: only rises count)
    std::size_t ignored_dust = 0;     // below the currency's min_amount: not a deposit
    std::size_t own_sol = 0;          // SOL up on a watched account that signed (its own transaction)
};

struct DecodedBlock {
    BlockRef ref;                        // height = slot, hash = blockhash, parent = previousBlockhash
    std::uint64_t parent_slot = 0;
    std::optional<std::uint64_t> block_height;
    std::vector<Transfer> transfers;     // in transaction order, then by index
    BlockStats stats;
};

// What one getBlock answer (one JSON-RPC response object) says.
struct BlockAnswer {
    enum class Kind {
        block,        // result is a block
        null_result,  // result: null (not available at this commitment)
        error,        // a JSON-RPC error object: rpc_code, rpc_message
    };
    std::int64_t id = -1;                // -1 when the response has no usable id
    Kind kind = Kind::null_result;
    DecodedBlock block;                  // kind == block; block.ref.height is NOT set (the caller knows the slot)
    long long rpc_code = 0;
    std::string rpc_message;
};

// A getBlock response body: one JSON-RPC response object, or an array of
// them (a batch answer), in body order. Each block's slot is unknown to the
// body; the caller maps ids to slots. Errors are Errc::malformed: invalid
// JSON (then *syntax_error is set, so the caller may retry it like a
// transport failure), a wrong shape, or a block that cannot be decoded
// completely (the message names the transaction). Never a partial block.
Result<std::vector<BlockAnswer>> decode_block_response(std::string_view body, const DecodeContext& ctx,
                                                       bool* syntax_error = nullptr);

// One transaction entry as getBlock's `transactions[i]` or getTransaction's
// `result` carry it ({transaction, meta, version}; other keys ignored).
// Appends its deposits to `out`.
Status decode_transaction(std::string_view entry, const DecodeContext& ctx, std::vector<Transfer>& out,
                          BlockStats* stats = nullptr);

// getSlot / getBlocks results.
Result<std::uint64_t> decode_slot(const json::value& result);
// getBlocks(start, end) / getBlocksWithLimit: strictly increasing slots, all
// within [start, end].
Result<std::vector<std::uint64_t>> decode_slot_list(const json::value& result, std::uint64_t start,
                                                    std::uint64_t end);

// getLatestBlockhash result {context: {slot}, value: {blockhash, ...}}: the
// slot of the bank the node answered from (at the commitment asked for) and
// that bank's blockhash, which is the blockhash getBlock reports for the slot.
struct SlotHash {
    std::uint64_t slot = 0;
    std::string blockhash;
};
Result<SlotHash> decode_latest_blockhash(const json::value& result);

// getTokenSupply result {context, value: {amount, decimals, ...}} -> decimals.
Result<unsigned> decode_token_supply_decimals(const json::value& result);

// Agave's custom JSON-RPC error codes that say what a slot is.
inline constexpr long long kBlockCleanedUp = -32001;
inline constexpr long long kBlockNotAvailable = -32004;
inline constexpr long long kNodeUnhealthy = -32005;
inline constexpr long long kSlotSkipped = -32007;
inline constexpr long long kLongTermStorageSlotSkipped = -32009;
inline constexpr long long kBlockStatusNotAvailableYet = -32014;
inline constexpr long long kUnsupportedTransactionVersion = -32015;
inline constexpr long long kMinContextSlotNotReached = -32016;

// -32007 / -32009: the node says the slot was skipped — or that its ledger
// lacks it ("missing due to ledger jump to recent snapshot", "missing in
// long-term storage"). Not proof of a skip on its own (block_at() asks the
// chain for that).
inline bool is_skipped_code(long long code) { return code == kSlotSkipped || code == kLongTermStorageSlotSkipped; }
// -32004 / -32014 / -32016: this backend does not have it (yet): retry, never "skipped".
inline bool is_not_available_code(long long code) {
    return code == kBlockNotAvailable || code == kBlockStatusNotAvailableYet || code == kMinContextSlotNotReached;
}

}  // namespace depositd::chain::solana
