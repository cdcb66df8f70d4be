#pragma once
// What each chain family (Protocol) is, in one place: the defaults the
// configuration fills in for a [[chains]] entry and the facts it checks
// against. Read by lib/config; adapters may read it for the same facts.
#include <chrono>
#include <cstdint>

#include "core/ids.hpp"

namespace depositd {

struct ProtocolFacts {
    // Defaults of the [[chains]] keys of the same names.
    std::uint32_t max_block_range;
    std::uint32_t max_reorg_depth;
    std::chrono::milliseconds poll_interval;
    // The chain has a finality tag (EVM "finalized", TRON's solidified
    // blocks, Solana's `finalized` commitment): confirmations = "finalized".
    bool has_finality;
    // Token transfers (ERC20, TRC20, SPL) exist; Bitcoin has none.
    bool has_tokens;
    // The native coin's decimals, fixed by the protocol: satoshis, lamports,
    // sun, wei. (The configuration enforces it for bitcoin and solana.)
    unsigned native_decimals;
};

constexpr ProtocolFacts protocol_facts(Protocol p) {
    using std::chrono::seconds;
    switch (p) {
        case Protocol::evm: return {500, 64, seconds(3), true, true, 18};
        case Protocol::tron: return {100, 32, seconds(3), true, true, 6};
        case Protocol::bitcoin: return {10, 32, seconds(15), false, false, 8};
        case Protocol::solana: return {100, 64, seconds(2), true, true, 9};
    }
    return {500, 64, seconds(3), false, true, 18};
}

}  // namespace depositd
