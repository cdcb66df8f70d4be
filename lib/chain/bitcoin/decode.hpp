#pragma once
// Bitcoin payload decoding: pure functions over JSON bytes / Boost.JSON
// values, no socket. The BitcoinAdapter fetches, these decide what a payload
// means; unit tests and benchmarks call them on captured answers.
//
// Both node dialects are read by one decoder: Bitcoin Core's `getblock <hash>
// 2` and bcoin's `getblock [hash, true, true]` differ in the parameters only
// (and in fields the decoder never reads: `address` vs `addresses[]`, type
// case). Outputs are matched by their scriptPubKey bytes (`scriptPubKey.hex`,
// decoded here) against the watch set: P2PKH, P2SH (incl. P2SH-P2WPKH),
// P2WPKH, P2WSH, P2TR alike, network prefixes never matter.
//
// Transfer identity: tx = txid, index = vout `n`. Several watched outputs of
// one transaction are several transfers. Amounts are satoshis parsed from the
// number's text (never through a double). Coinbase outputs carry
// min_confirmations = kCoinbaseMaturity. `from` stays empty (inputs name
// previous outputs, not addresses).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/adapter.hpp"
#include "codec/address.hpp"
#include "core/json.hpp"
#include "core/result.hpp"

namespace depositd::chain::bitcoin {

// A coinbase output can be spent 100 blocks after its own.
inline constexpr std::uint32_t kCoinbaseMaturity = 100;
// 21,000,000 BTC in satoshis: no output holds more.
inline constexpr std::uint64_t kMaxMoney = 2'100'000'000'000'000;
// Longest scriptPubKey an address can stand for (witness v1+ programs are at
// most 40 bytes: OP_n <40>). Longer scripts are never looked up.
inline constexpr std::size_t kMaxWatchedScript = 42;

struct MatchContext {
    const WatchSet* watched = nullptr;
    std::string symbol = "BTC";
    unsigned decimals = 8;
    // Network for Transfer::to (the recipient's address text); nullopt leaves it empty.
    std::optional<codec::BtcNetwork> network;
    std::optional<U256> min_amount;  // satoshis; smaller outputs are dust (chain/ignored.hpp)
};

struct DecodedBlock {
    BlockRef ref;
    std::string next;                // nextblockhash, "" at the tip
    std::int64_t confirmations = 0;  // -1: Core says the block is not on the main chain
    std::vector<Transfer> transfers; // in (tx order, vout) order
    std::size_t txs = 0;             // transactions seen
    std::size_t outputs = 0;         // outputs seen
    std::size_t ignored_zero = 0;    // watched outputs of 0 sat: not deposits
    std::size_t ignored_dust = 0;    // watched outputs below min_amount: not deposits
};

// One `getblock` answer at verbosity 2 (Core) / with details (bcoin): the raw
// HTTP body, either the JSON-RPC envelope {"result": {...}, "error": ...} or
// the bare block object. Streaming parse (no DOM); nothing is allocated per
// unmatched output. Errors:
//   rpc_error  the envelope carries an error (status = its code)
//   malformed  anything else that is not a complete block: null result,
//              transactions given as txids only (verbosity 1), a missing or
//              ill-typed field, an output without value / n / scriptPubKey.hex,
//              an `n` out of order, a bad amount, nTx (Core) different from the
//              transactions present, truncated or trailing data.
// A block is never returned with transactions missing.
Result<DecodedBlock> decode_block(std::string_view body, const MatchContext& ctx);

// `getblockheader <hash> true` result (both dialects).
Result<BlockRef> decode_block_header(const json::value& result);

// A `getblockhash` result: 64 hex digits, returned lower-case.
Result<std::string> decode_block_hash(const json::value& result);

// A txid as typed by a user: 64 hex digits, any case -> lower-case; nullopt when malformed.
std::optional<std::string> parse_txid(std::string_view text);

// `getrawtransaction <txid> true` (both dialects): the block it is in
// (`blockhash`), or empty for a mempool transaction.
struct RawTxLocation {
    std::string block_hash;  // "" = not in a block
};
Result<RawTxLocation> decode_raw_tx_location(const json::value& result, std::string_view txid);

// A BTC amount as the node printed it -> satoshis, exactly: "0.00499441",
// "6.2500454", "50", "1e-8", "5.59e-06" (bcoin prints JavaScript numbers).
// Digits beyond the 8th decimal are rounded half up (round(value x 1e8) on
// the decimal text). Negative, above 21 M BTC or not a number: malformed.
Result<std::uint64_t> parse_btc_amount(std::string_view text);

// A node's own words (error messages, chain names) for our messages and logs:
// at most `max` bytes, control characters blanked.
std::string node_text(std::string_view text, std::size_t max = 200);

// `getblockchaininfo.chain` ("main", "test", "testnet4", "signet", "regtest")
// -> the address network Transfer::to is written for; bcoin's regtest uses its
// own prefixes. Unknown names: nullopt.
std::optional<codec::BtcNetwork> network_of_chain(std::string_view chain, bool bcoin);

}  // namespace depositd::chain::bitcoin
