#pragma once
// A chain's currencies: `native` and `tokens` of a [[chains]] entry
// (internal to lib/config; chain_currencies.cpp).
#include <optional>
#include <string>

#include "config/loader.hpp"

namespace depositd::config {

// native = { symbol, decimals, min_amount? }
void load_native(Loader& l, const toml::node& n, const std::string& key, TokenConfig& out);

// tokens = [ { symbol, contract, decimals, min_amount? }, ... ]; `kind` is
// nullopt when the chain's kind is missing or bad (contracts are then not
// format-checked). Appends the good ones to out.tokens.
void load_tokens(Loader& l, const toml::node& n, const std::string& key, std::optional<Protocol> kind,
                 ChainConfig& out);

}  // namespace depositd::config
