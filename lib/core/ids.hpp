#pragma once
// Identifiers. Deposit and event ids are derived from what identifies them on
// chain, so a crash + restart (or a rescan) yields exactly the same ids as an
// uninterrupted run.
#include <cstdint>
#include <string>
#include <string_view>

namespace depositd {

using ChainId = std::string;  // "ethereum", "bsc", "tron", ... as configured

enum class Protocol { evm, tron, bitcoin, solana };
const char* to_string(Protocol p);
bool parse_protocol(std::string_view text, Protocol& out);

// dep_<24 hex> from (chainId, txHash, index, blockHash).
std::string deposit_id(std::string_view chain, std::string_view tx_hash, std::uint64_t index,
                       std::string_view block_hash);
// evt_<24 hex> from (deposit id, event type).
std::string event_id(std::string_view deposit_id, std::string_view type);
// evt_<24 hex> of a deposit's n-th status change (1 = its first pending):
// fixed by the deposit and the change's number, whatever restarts happen.
std::string change_event_id(std::string_view deposit_id, std::uint64_t change);

}  // namespace depositd
