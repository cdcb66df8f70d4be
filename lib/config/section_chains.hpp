#pragma once
// [[chains]] (SPEC §3, §10): the chains followed, their nodes and currencies.
// Parsed by section_chains.cpp (chain keys) and chain_currencies.cpp (native
// and tokens); include config/config.hpp.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/amount.hpp"
#include "core/ids.hpp"
#include "config/units.hpp"

namespace depositd::config {

struct TokenConfig {
    std::string symbol;
    std::string contract;               // as written; adapters normalise it
    unsigned decimals = 0;
    // `min_amount` (a decimal string in token units, exact) in base units:
    // smaller transfers are dust, not deposits. nullopt: no floor.
    std::optional<U256> min_amount;
};

struct ChainConfig {
    ChainId id;
    Protocol kind = Protocol::evm;
    std::vector<std::string> rpc;       // several = failover, in order
    // confirmations: a number of blocks, or finalized (use the chain's finality tag).
    std::uint32_t confirmations = 12;
    bool finalized = false;
    Duration poll_interval = std::chrono::seconds(3);
    // start: "latest" (nullopt) or a block number / slot.
    std::optional<std::uint64_t> start;
    TokenConfig native;                 // symbol + decimals; contract empty
    std::vector<TokenConfig> tokens;
    std::uint32_t max_block_range = 500;
    std::uint32_t max_reorg_depth = 64;
    std::map<std::string, std::string> headers;  // after ${VAR} expansion; values never logged
    double max_rps = 0;                 // 0 = no cap (rate, not money)
    Duration request_timeout = std::chrono::seconds(10);
    // EVM: the chain id every endpoint must report (eth_chainId); nullopt:
    // every endpoint must agree with the first endpoint's answer.
    std::optional<std::uint64_t> chain_id;
    std::string chain_id_source;        // "file:line:chains[N].chain_id" when set
    // Largest node answer read (max_response_size); bigger ones are refused
    // as "range too large" and the adapter asks for fewer blocks.
    std::size_t max_response_bytes = 32u << 20;
    // How far a block's timestamp may lag the moment its transfer was made
    // (SPEC §10 "Attribution"): a binding or order also takes deposits dated
    // up to this long before it began, when nobody held the address then.
    // Default per kind: 2m (EVM, TRON, Solana), 2h (Bitcoin).
    Duration attribution_skew = std::chrono::minutes(2);
    // kind bitcoin: Basic-auth credentials from Bitcoin Core's cookie file
    // ("" = none), re-read when the node answers 401. Relative paths resolve
    // against the config file's folder. Exclusive with user:password in rpc.
    std::string rpc_cookie_file;
    // Where the key was defined, for later error messages.
    std::string source;                 // "file:line"
    // The network preset it started from ("bsc"; "" = none): its defaults
    // are already filled in above.
    std::string preset;
};

// Bounds of chains[].max_response_size.
inline constexpr std::uint64_t kMinResponseSize = 64u << 10;
inline constexpr std::uint64_t kMaxResponseSize = 1u << 30;

}  // namespace depositd::config
