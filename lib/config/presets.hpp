#pragma once
// Network presets of [[chains]] (SPEC §10): `preset = "bsc"` fills in what
// that mainnet is (kind, chain id, native coin) and how depositd follows it
// by default (confirmations, poll interval), and lets `tokens` name its
// well-known stablecoins by symbol. One table, presets.cpp, each entry with
// its source; docs/chains/*.md explain the defaults.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "config/units.hpp"
#include "core/ids.hpp"

namespace depositd::config {

struct KnownToken {
    std::string_view symbol;
    std::string_view contract;          // as its issuer / explorer writes it
    unsigned decimals;
};

struct Preset {
    std::string_view name;              // the value of `preset`, also the default chain id
    Protocol kind;
    std::optional<std::uint64_t> chain_id;  // EVM: eth_chainId
    std::string_view native_symbol;
    unsigned native_decimals;
    std::uint32_t confirmations;        // when not finalized
    bool finalized;                     // confirmations = "finalized"
    Duration poll_interval;
    std::span<const KnownToken> tokens;
};

std::span<const Preset> presets();
const Preset* find_preset(std::string_view name);
// The preset's token of that symbol, compared case-insensitively.
const KnownToken* find_token(const Preset& preset, std::string_view symbol);

}  // namespace depositd::config
