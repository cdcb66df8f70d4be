// The network presets (presets.hpp): one table. Sources are cited per entry;
// every EVM contract below passes its EIP-55 checksum, the TRON one its
// base58check, the Solana mints decode to 32 bytes. The adapters still read
// each token's decimals() from the chain at start and refuse a mismatch.
// The defaults (confirmations, poll interval) are explained, with their
// sources, in docs/chains/evm.md, tron.md, solana.md and bitcoin.md.
#include "config/presets.hpp"

#include <algorithm>
#include <chrono>

#include "config/checks.hpp"

namespace depositd::config {
namespace {

using std::chrono::seconds;

// Ethereum (chain id 1, ETH: ethereum-lists/chains eip155-1.json).
// USDT, USDC: Uniswap default-token-list src/tokens/mainnet.json (6 and 6
// decimals); USDC also Circle's "USDC Contract Addresses" page.
constexpr KnownToken kEthereum[] = {
    {"USDT", "0xdAC17F958D2ee523a2206206994597C13D831ec7", 6},
    {"USDC", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", 6},
};

// BNB Smart Chain (56, BNB: eip155-56.json). Both are Binance-Peg tokens
// with 18 decimals, unlike Ethereum's: BscScan "Binance-Peg BSC-USD" and
// "Binance-Peg USD Coin"; trustwallet/assets smartchain 0x8AC7…580d info.json
// (decimals 18); shared/chains.md §9.
constexpr KnownToken kBsc[] = {
    {"USDT", "0x55d398326f99059fF775485246999027B3197955", 18},
    {"USDC", "0x8AC76a51cc950d9822D68b83fE1Ad97B32Cd580d", 18},
};

// Polygon PoS (137, POL since the MATIC -> POL migration: eip155-137.json).
// USDT (upgraded in place to USDT0) and native USDC (not the bridged USDC.e
// 0x2791…4174): Uniswap default-token-list src/tokens/polygon.json (6, 6);
// USDC also Circle's page.
constexpr KnownToken kPolygon[] = {
    {"USDT", "0xc2132D05D31c914a87C6611C10748AEb04B58e8F", 6},
    {"USDC", "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359", 6},
};

// Arbitrum One (42161, ETH: eip155-42161.json). USDT (USDT0, upgraded in
// place): Uniswap default-token-list src/tokens/arbitrum.json (6). Native
// USDC (not USDC.e 0xFF97…5CC8): Circle's page; 6 decimals per docs.range.org
// supported tokens (Arbitrum).
constexpr KnownToken kArbitrum[] = {
    {"USDT", "0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9", 6},
    {"USDC", "0xaf88d065e77c8cC2239327C5EDb3A432268e5831", 6},
};

// Base (8453, ETH: eip155-8453.json). Native USDC: Circle's page, Uniswap
// default-token-list src/tokens/base.json (6). Tether issues no USDT on
// Base (the bridged 0xfde4…9bb2 is a third party's): none here.
constexpr KnownToken kBase[] = {
    {"USDC", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", 6},
};

// OP Mainnet (10, ETH: eip155-10.json). USDT: the Superchain token list
// (ethereum-optimism.github.io data/USDT/data.json, 6 decimals), the
// standard-bridge USDT; Tether's USDT0 (0x01bF…1071) is a different token.
// Native USDC (not USDC.e 0x7F5c…1607): Circle's page, Uniswap
// src/tokens/optimism.json (6).
constexpr KnownToken kOptimism[] = {
    {"USDT", "0x94b008aA00579c1307B0EF2c499aD98a8ce58e58", 6},
    {"USDC", "0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85", 6},
};

// Avalanche C-Chain (43114, AVAX: eip155-43114.json). Native USDT and USDC
// (not the bridged USDT.e / USDC.e): docs.range.org supported tokens
// (Avalanche: 6, 6); USDC also Circle's page and Uniswap
// src/tokens/avalanche.json.
constexpr KnownToken kAvalanche[] = {
    {"USDT", "0x9702230A8Ea53601f5cD2dc00fDBc13d4dF4A8c7", 6},
    {"USDC", "0xB97EF9Ef8734C71904D8002F8b6Bc66Dd9c48a6E", 6},
};

// TRON (TRX, 6 decimals = sun). USDT: TronGrid's token_info (decimals 6)
// in shared/chains.md §4/§9 and the fixtures. Circle stopped minting USDC
// on TRON on 2024-02-21 (support ended February 2025): not offered.
constexpr KnownToken kTron[] = {
    {"USDT", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", 6},
};

// Solana (SOL, 9 decimals = lamports). Mints: Uniswap default-token-list
// src/tokens/solana.json (USDT, USDC: 6, 6); USDC also Circle's page.
constexpr KnownToken kSolana[] = {
    {"USDT", "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB", 6},
    {"USDC", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", 6},
};

// name, kind, chain id, native, confirmations, finalized, poll interval, tokens
constexpr Preset kPresets[] = {
    {"ethereum", Protocol::evm, 1, "ETH", 18, 0, true, seconds(6), kEthereum},
    {"bsc", Protocol::evm, 56, "BNB", 18, 0, true, seconds(2), kBsc},
    {"polygon", Protocol::evm, 137, "POL", 18, 0, true, seconds(2), kPolygon},
    {"arbitrum", Protocol::evm, 42161, "ETH", 18, 30, false, seconds(2), kArbitrum},
    {"base", Protocol::evm, 8453, "ETH", 18, 30, false, seconds(2), kBase},
    {"optimism", Protocol::evm, 10, "ETH", 18, 30, false, seconds(2), kOptimism},
    {"avalanche", Protocol::evm, 43114, "AVAX", 18, 0, true, seconds(2), kAvalanche},
    {"tron", Protocol::tron, std::nullopt, "TRX", 6, 0, true, seconds(3), kTron},
    {"solana", Protocol::solana, std::nullopt, "SOL", 9, 0, true, seconds(2), kSolana},
    {"bitcoin", Protocol::bitcoin, std::nullopt, "BTC", 8, 3, false, seconds(15), {}},
};

}  // namespace

std::span<const Preset> presets() { return kPresets; }

const Preset* find_preset(std::string_view name) {
    for (const auto& p : kPresets)
        if (p.name == name) return &p;
    return nullptr;
}

const KnownToken* find_token(const Preset& preset, std::string_view symbol) {
    const std::string wanted = lower(std::string(symbol));
    for (const auto& t : preset.tokens)
        if (lower(std::string(t.symbol)) == wanted) return &t;
    return nullptr;
}

}  // namespace depositd::config
