#pragma once
// TRON payload decoding (java-tron FullNode HTTP API, visible=false): pure
// functions over JSON values / bytes, no socket. TronAdapter fetches, these
// decide what a payload means; unit tests and benchmarks call them directly
// on captured responses (tests/fixtures/tron/).
//
// What is a deposit:
//   - TRX: a transaction whose raw_data.contract[i] is a TransferContract,
//     parameter.value.to_address watched, amount (JSON integer, sun) > 0 and
//     ret[i].contractRet == "SUCCESS". from = owner_address.
//   - TRC20: in /wallet/gettransactioninfobyblocknum, a log whose `address`
//     (the EMITTING contract, 20-byte hex) is a configured token contract —
//     never by symbol: counterfeit "USDT" contracts exist —, topics[0] ==
//     Transfer, 3 topics, data one 32-byte word, topics[2] watched, in a
//     transaction whose receipt.result == "SUCCESS" (and no top-level
//     "result": "FAILED"). The ABI decoding is shared with the EVM adapter
//     (codec::try_decode_transfer_log); zero-value Transfers and amounts
//     below the token's min_amount are not deposits (chain/ignored.hpp).
//   - NOT followed: TRC10 (TransferAssetContract: out of scope, ignored,
//     including spam airdrops with memos), TRX moved by contracts (internal
//     transactions), any other contract type.
//
// Transfer identity (chain::Transfer::tx + index), tx = txID / info id as
// TRON prints it (64 lower-case hex, no 0x):
//   - TRC20: index = the log's position in the transaction's `log` array
//     (0-based) — TronGrid's `event_index`, the per-tx log position; it counts
//     every log of the tx, matched or not, so it is stable.
//   - TRX:   index = kNativeIndex + position of the contract in
//     raw_data.contract (always exactly one contract per transaction on the
//     real chain, so kNativeIndex). 2^32 is above any log position, so a
//     contract receiving TRX and emitting a Transfer log in the same tx keeps
//     two distinct deposits (same scheme as chain/evm/decode.hpp).
//
// Addresses: inputs in any of the four TRON encodings (41 + 40 hex, 0x41...,
// EVM-style 20-byte hex, base58 T...) are normalised to the 20-byte watch
// key; output text is base58check T... (codec::tron_base58), token contract
// as configured in canonical T... form.
//
// Node failure semantics: FullNode errors come as HTTP 200 with
// {"Error": "..."} (rate-limit messages -> Errc::rate_limited with
// retry_after_ms from "suspended for Ns"), a missing block as {}: neither is
// ever taken for an empty block.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chain/adapter.hpp"
#include "chain/ignored.hpp"
#include "config/config.hpp"
#include "core/json.hpp"
#include "core/result.hpp"

namespace depositd::chain::tron {

using Address20 = std::array<std::uint8_t, 20>;

inline constexpr std::uint64_t kNativeIndex = std::uint64_t{1} << 32;

struct TokenSpec {
    Address20 contract{};
    std::string contract_text;  // base58check T...
    std::string symbol;
    unsigned decimals = 0;
    std::optional<U256> min_amount;  // base units; smaller transfers are dust
};

struct NativeSpec {
    std::string symbol = "TRX";
    unsigned decimals = 6;
    std::optional<U256> min_amount;  // sun
};

// Validates and normalises configured TRC20 contracts (T... or 41... hex;
// 20-byte hex is refused as ambiguous). Duplicates are an error.
Result<std::vector<TokenSpec>> make_token_specs(const std::vector<config::TokenConfig>& tokens);

// Any TRON address encoding -> 20 bytes. Fast path for "41" + 40 hex and
// 40 hex; otherwise codec::tron_address_bytes (0x41..., T...).
bool parse_address(std::string_view text, Address20& out) noexcept;

// A FullNode answer that is an error: {"Error": "..."} (java-tron), or
// {"success": false, "error": "..."} (TronGrid). Rate-limit wording
// ("frequency limit", "suspended for 30s", "lack of computing resources",
// "rate limit", "too many requests") -> Errc::rate_limited with
// retry_after_ms when the text says how long; anything else Errc::rpc_error.
// Ok when `v` is not such an error object.
Status check_node_error(const json::value& v);

// Rewrites a transport-level error from net::JsonRpcClient::post_json:
// HTTP 403/429/503 (TronGrid's limits) and bodies quoting a rate limit
// become Errc::rate_limited, with retry_after_ms from "suspended for Ns".
Error classify_transport_error(Error e);

// "...suspended for 30s" -> 30000 (at most net::kMaxNodeRetryAfterMs); -1 when
// the text names no pause.
long long retry_after_from_text(std::string_view text);

// One block: header plus TRX deposits.
struct DecodedBlock {
    BlockRef ref;
    std::vector<Transfer> native;     // TRX TransferContract to watched addresses, SUCCESS
    std::vector<std::string> tx_ids;  // every txID in block order (cross-check of the info list)
    std::size_t ignored_dust = 0;     // TRX transfers below the native min_amount
};

// A block object (getnowblock, getblockbynum, getblock detail true/false,
// one element of getblockbylimitnext). {} -> nullopt (no such block);
// {"Error"} -> error. Checks: blockID and parentHash are 64 hex, blockID's
// first 8 bytes are the block number. A block without "transactions" has
// none. With `watched` null no transfer is decoded (header only).
Result<std::optional<DecodedBlock>> decode_block(const json::value& block, const WatchSet* watched,
                                                 const NativeSpec& native);
Result<std::optional<BlockRef>> decode_block_ref(const json::value& block);

// /wallet/getblockbylimitnext: {"block": [...]} -> the blocks in the order
// the node sent them. {} -> empty vector (nothing in range: the caller
// decides; never an empty *block*). {"Error"} -> error.
Result<std::vector<DecodedBlock>> decode_block_list(const json::value& v, const WatchSet* watched,
                                                    const NativeSpec& native);

struct InfoStats {
    std::size_t infos = 0;            // TransactionInfo entries
    std::size_t logs = 0;             // log objects seen
    std::size_t failed = 0;           // txs with logs whose receipt.result is not SUCCESS (ignored)
    std::size_t token_transfers = 0;  // Transfer logs of configured tokens (successful txs)
    std::size_t matched = 0;          // ... to a watched address
    std::size_t skipped_nonstandard = 0;  // configured token, watched recipient, bad topics/data
    std::size_t ignored_zero = 0;     // ... with value 0 (address poisoning): not a deposit
    std::size_t ignored_dust = 0;     // ... below the token's min_amount: not a deposit
};

struct InfoContext {
    std::uint64_t block_number = 0;                  // every info's blockNumber must be this
    const std::vector<std::string>* tx_ids = nullptr; // when set: the info ids must be exactly these
    std::span<const TokenSpec> tokens;
    const WatchSet* watched = nullptr;
};

// /wallet/gettransactioninfobyblocknum: a JSON array of TransactionInfo.
// [] is valid only when ctx.tx_ids is null or empty (a block with
// transactions and no infos = the node has not indexed it yet: error).
// A different count or id set than ctx.tx_ids is Errc::conflict (reorg
// between the two requests); a wrong blockNumber Errc::conflict too.
// {} and {"Error"} are errors. Appends matched TRC20 transfers to `out`.
Result<InfoStats> decode_transaction_infos(const json::value& v, const InfoContext& ctx, std::vector<Transfer>& out);

// The same from the raw body (parse + decode; benchmarks, tests).
Result<InfoStats> decode_transaction_infos(std::string_view body, const InfoContext& ctx, std::vector<Transfer>& out);

// One transaction by id (re-check). A txID as typed: 64 hex digits (an
// "0x" prefix is dropped), any case -> lower-case; nullopt when malformed.
std::optional<std::string> parse_tx_id(std::string_view text);
// /wallet/gettransactioninfobyid: its blockNumber; {} -> nullopt (java-tron
// has no info for a transaction that is not in a block, or unknown).
Result<std::optional<std::uint64_t>> decode_info_block(const json::value& info, std::string_view tx_id);
// /wallet/gettransactionbyid: whether the node knows the transaction ({} = no).
bool decode_tx_known(const json::value& tx, std::string_view tx_id);
// The transfers of one mined transaction, decided as scan() decides them:
// TRX from the block (decode_block, getblockbynum of the info's
// blockNumber; the block must hold the transaction), TRC20 from its info
// (decode_transaction_infos).
Result<TxTransfers> decode_tx_transfers(std::string_view tx_id, const json::value& info, const json::value& block,
                                        std::span<const TokenSpec> tokens, const NativeSpec& native,
                                        const WatchSet& watched);

}  // namespace depositd::chain::tron
