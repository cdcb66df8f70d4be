#pragma once
// EVM payload decoding: pure functions over JSON bytes / Boost.JSON values,
// no socket. The EvmAdapter fetches, these decide what a payload means, and
// the unit tests and benchmarks call them directly on captured responses.
//
// Transfer identity (chain::Transfer::tx + index):
//   - ERC20 token transfer: index = the log's `logIndex` (block-wide, < 2^32
//     on every real chain).
//   - native coin transfer (tx.to watched, tx.value > 0): index = kNativeIndex
//     = 2^32. A tx moves native value to exactly one `to`, so one native
//     transfer per tx at most; 2^32 never collides with a log index of the
//     same tx (a contract wallet receiving ETH and emitting a Transfer at
//     logIndex 0 in the same tx stays two distinct deposits).
//
// Not seen: native value moved by contracts (internal transactions, e.g. an
// exchange hot wallet contract or a multisig paying out) emits no log and is
// not a top-level tx; detecting it needs trace_block/debug_traceBlock or
// balance diffs. Polygon's 0x...1010 LogTransfer/LogFeeTransfer logs are not
// used either (they are ignored like any non-Transfer log).
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chain/adapter.hpp"
#include "chain/ignored.hpp"
#include "codec/bloom.hpp"
#include "config/config.hpp"
#include "core/json.hpp"
#include "core/result.hpp"

namespace depositd::chain::evm {

using Address20 = std::array<std::uint8_t, 20>;

inline constexpr std::uint64_t kNativeIndex = std::uint64_t{1} << 32;

// "0x" + keccak256("Transfer(address,address,uint256)").
inline constexpr std::string_view kTransferTopic =
    "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
// decimals() selector.
inline constexpr std::string_view kDecimalsCall = "0x313ce567";

struct TokenSpec {
    Address20 contract{};
    std::string contract_text;  // EIP-55
    std::string contract_lower; // 0x + lower-case hex, for filters
    std::string symbol;
    unsigned decimals = 0;
    std::optional<U256> min_amount;  // base units; smaller transfers are dust
};

struct NativeSpec {
    std::string symbol;
    unsigned decimals = 18;
    std::optional<U256> min_amount;  // base units
};

// Validates and normalises configured token contracts (any case accepted,
// mixed case must pass EIP-55). Duplicated contracts are an error.
Result<std::vector<TokenSpec>> make_token_specs(const std::vector<config::TokenConfig>& tokens);

struct LogMatchContext {
    std::span<const TokenSpec> tokens;
    const WatchSet* watched = nullptr;
    // When not empty: the blocks fetched for the range (consecutive heights,
    // ascending). Every log (matched or not) must lie in that range and carry
    // the hash of the block fetched for its height, else Errc::conflict
    // (a reorg happened between the block and the log fetch).
    std::span<const BlockRef> blocks;
    // When not empty (same size as `blocks`): incremented, per block, for
    // every Transfer log of a configured token the answer holds (the
    // completeness check compares this with the block's logsBloom).
    std::span<std::uint32_t> token_transfers_per_block;
    std::string_view chain;  // for log lines
};

struct MatchedTransfer {
    std::uint64_t height = 0;
    std::string block_hash;  // lower-case, as the log carried it
    Transfer transfer;
};

struct LogScanStats {
    std::size_t logs = 0;           // log objects seen
    std::size_t token_transfers = 0;// Transfer logs of configured tokens
    std::size_t matched = 0;        // ... to a watched address
    std::size_t skipped_nonstandard = 0;  // configured token, watched recipient, data not one word
    std::size_t ignored_zero = 0;   // ... with value 0 (address poisoning): not a deposit
    std::size_t ignored_dust = 0;   // ... below the token's min_amount: not a deposit
};

// eth_getLogs: from the raw HTTP body (the JSON-RPC envelope
// {"jsonrpc","id","result":[...]} or the bare result array). A JSON-RPC error
// envelope is Errc::rpc_error (status = code, message = node's message).
// Streaming parse (no DOM), no allocation per unmatched log. Appends to `out`.
Result<LogScanStats> decode_logs(std::string_view body, const LogMatchContext& ctx,
                                 std::vector<MatchedTransfer>& out);
// The same from an already parsed `result` array (what JsonRpcClient returns).
Result<LogScanStats> decode_logs(const json::value& result, const LogMatchContext& ctx,
                                 std::vector<MatchedTransfer>& out);

// An eth_getBlockByNumber result (hydrated or not).
struct DecodedBlock {
    BlockRef ref;
    codec::LogsBloom bloom;        // the header's logsBloom
    std::vector<Transfer> native;  // candidates: receipt status still to check
    std::size_t ignored_dust = 0;  // native transfers below the native min_amount
};

// Header fields only (number, hash, parentHash, timestamp). `null` -> nullopt.
Result<std::optional<BlockRef>> decode_block_ref(const json::value& result);
// Header (with logsBloom, required) plus native transfers: full tx objects
// whose `to` is watched, `value` > 0 and not below native.min_amount
// (contract creations have to = null and are skipped). Hash-only
// transaction lists yield no candidates. `null` -> nullopt.
Result<std::optional<DecodedBlock>> decode_block(const json::value& result, const WatchSet& watched,
                                                 const NativeSpec& native);

// The bloom of an eth_getLogs answer: address and topics of every log not
// marked removed (a complete answer for a block covers the header's bloom).
Result<codec::LogsBloom> bloom_of_logs(const json::value& result);

// eth_getTransactionReceipt: true when the tx succeeded (status 0x1; a
// pre-Byzantium receipt without status but with `root` counts as success),
// false for status 0x0. null -> Errc::not_found; a blockHash different from
// `expected_block_hash` (if not empty) -> Errc::conflict.
Result<bool> decode_receipt_success(const json::value& receipt, std::string_view expected_block_hash);

// "0x1b13c84" -> 27344004. At most 16 significant hex digits; "0x" alone,
// no prefix, signs, non-hex -> Errc::malformed.
Result<std::uint64_t> parse_quantity(std::string_view text);
Result<std::uint64_t> parse_quantity_json(const json::value& v);
// "0x" + minimal lower-case hex ("0x0" for zero).
std::string quantity(std::uint64_t v);

// eth_getBlockReceipts(blockHash): for each of `txs` (hashes), whether it
// succeeded (decode_receipt_success), or nullopt when the answer has no
// receipt for it. null -> Errc::not_found (the node does not know the
// block); a receipt of another block -> Errc::conflict.
Result<std::vector<std::optional<bool>>> decode_block_receipts(const json::value& result,
                                                               std::span<const std::string> txs,
                                                               std::string_view block_hash);

// eth_call decimals() result: one ABI word holding a value <= 255.
Result<unsigned> decode_decimals_result(const json::value& result);

}  // namespace depositd::chain::evm
