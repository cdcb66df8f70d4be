#pragma once
// A chain's currencies: `native` and `tokens` of a [[chains]] entry
// (internal to lib/config; chain_currencies.cpp).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "config/presets.hpp"

namespace depositd::config {

// What a chain's preset lends its currencies (no preset: nothing).
struct PresetCurrencies {
    const Preset* preset = nullptr;
    // The chain's own chain_id when it differs from the preset's: a testnet
    // or fork, whose contracts are not the mainnet ones the preset knows.
    std::optional<std::uint64_t> other_chain_id;
};

// native = { symbol, decimals, min_amount? }; with a preset, symbol and
// decimals default to its native coin.
void load_native(Loader& l, const toml::node& n, const std::string& key, const Preset* preset, TokenConfig& out);

// tokens = [ { symbol, contract, decimals, min_amount? }, "USDT", ... ]: a
// string (or a table with only a symbol and min_amount) names a token of
// the chain's preset. `kind` is nullopt when the chain's kind is missing or
// bad (contracts are then not format-checked). Appends the good ones to
// out.tokens.
void load_tokens(Loader& l, const toml::node& n, const std::string& key, std::optional<Protocol> kind,
                 const PresetCurrencies& known, ChainConfig& out);

// `native = { ... }` and `tokens = [ ... ]` as TOML values.
std::string native_toml(const Printer& p, const TokenConfig& native);
std::vector<std::string> tokens_toml(const Printer& p, const std::vector<TokenConfig>& tokens);

}  // namespace depositd::config
