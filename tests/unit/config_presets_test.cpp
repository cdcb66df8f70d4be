// lib/config: network presets (SPEC §10) — what each preset fills in, that
// explicit keys win, tokens by symbol, and the problems an operator gets
// (file:line:key) for an unknown preset or symbol.
#include "config/config.hpp"
#include "config/presets.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace depositd;
using namespace depositd::config;
using namespace std::chrono_literals;

namespace {

// Lines 1-2; a chain starts at line 4.
const std::string kApi = R"toml([api]
keys = ["0123456789abcdef"]
)toml";

LoadResult load(const std::string& chains) { return load_string(kApi + "\n" + chains, "depositd.toml"); }

std::string all(const LoadResult& r) {
    std::string out;
    for (const auto& p : r.problems) out += p.to_string() + "\n";
    return out;
}

void expect_one(const std::string& chains, int line, const std::string& key, const std::string& fragment) {
    SCOPED_TRACE(chains);
    const LoadResult r = load(chains);
    EXPECT_FALSE(r.config.has_value());
    ASSERT_EQ(r.problems.size(), 1u) << all(r);
    EXPECT_EQ(r.problems[0].file, "depositd.toml");
    EXPECT_EQ(r.problems[0].line, line) << r.problems[0].to_string();
    EXPECT_EQ(r.problems[0].key, key) << r.problems[0].to_string();
    EXPECT_NE(r.problems[0].message.find(fragment), std::string::npos) << r.problems[0].to_string();
}

const ChainConfig& only_chain(const LoadResult& r) {
    EXPECT_TRUE(r.config.has_value()) << all(r);
    static const ChainConfig none;
    return r.config && r.config->chains.size() == 1 ? r.config->chains[0] : none;
}

}  // namespace

// preset = "bsc" is a whole chain but for its nodes: the SPEC's example.
TEST(ConfigPresets, BscFillsKindChainIdNativeConfirmationsAndTokens) {
    const LoadResult r = load(R"toml([[chains]]
preset = "bsc"
rpc    = ["https://bsc.example/rpc"]
tokens = ["USDT", "USDC"]
)toml");
    const ChainConfig& c = only_chain(r);
    EXPECT_EQ(c.id, "bsc");
    EXPECT_EQ(c.preset, "bsc");
    EXPECT_EQ(c.kind, Protocol::evm);
    EXPECT_EQ(c.chain_id, std::optional<std::uint64_t>(56));
    EXPECT_EQ(c.chain_id_source, "depositd.toml:5:chains[0].preset");
    EXPECT_EQ(c.native.symbol, "BNB");
    EXPECT_EQ(c.native.decimals, 18u);
    EXPECT_TRUE(c.finalized);
    EXPECT_EQ(c.poll_interval, 2s);
    EXPECT_EQ(c.max_block_range, 500u);  // the kind's defaults still apply
    ASSERT_EQ(c.tokens.size(), 2u);
    EXPECT_EQ(c.tokens[0].symbol, "USDT");
    EXPECT_EQ(c.tokens[0].contract, "0x55d398326f99059fF775485246999027B3197955");
    EXPECT_EQ(c.tokens[0].decimals, 18u);
    EXPECT_EQ(c.tokens[1].symbol, "USDC");
    EXPECT_EQ(c.tokens[1].contract, "0x8AC76a51cc950d9822D68b83fE1Ad97B32Cd580d");
    EXPECT_EQ(c.tokens[1].decimals, 18u);
}

TEST(ConfigPresets, EveryPresetLoadsWithEveryTokenItKnows) {
    struct Expect {
        const char* name;
        Protocol kind;
        std::optional<std::uint64_t> chain_id;
        const char* native;
        unsigned decimals;
    };
    const Expect expected[] = {
        {"ethereum", Protocol::evm, 1, "ETH", 18},    {"bsc", Protocol::evm, 56, "BNB", 18},
        {"polygon", Protocol::evm, 137, "POL", 18},   {"arbitrum", Protocol::evm, 42161, "ETH", 18},
        {"base", Protocol::evm, 8453, "ETH", 18},     {"optimism", Protocol::evm, 10, "ETH", 18},
        {"avalanche", Protocol::evm, 43114, "AVAX", 18}, {"tron", Protocol::tron, std::nullopt, "TRX", 6},
        {"solana", Protocol::solana, std::nullopt, "SOL", 9}, {"bitcoin", Protocol::bitcoin, std::nullopt, "BTC", 8},
    };
    ASSERT_EQ(presets().size(), std::size(expected));
    for (const auto& e : expected) {
        SCOPED_TRACE(e.name);
        const Preset* p = find_preset(e.name);
        ASSERT_NE(p, nullptr);
        std::string symbols;
        for (const auto& t : p->tokens) symbols += std::string(symbols.empty() ? "" : ", ") + "\"" + std::string(t.symbol) + "\"";
        // Every contract the table holds passes the loader's format checks.
        const LoadResult r = load("[[chains]]\npreset = \"" + std::string(e.name) +
                                  "\"\nrpc = [\"http://127.0.0.1:1\"]\ntokens = [" + symbols + "]\n");
        const ChainConfig& c = only_chain(r);
        EXPECT_EQ(c.id, e.name);
        EXPECT_EQ(c.kind, e.kind);
        EXPECT_EQ(c.chain_id, e.chain_id);
        EXPECT_EQ(c.native.symbol, e.native);
        EXPECT_EQ(c.native.decimals, e.decimals);
        EXPECT_EQ(c.tokens.size(), p->tokens.size());
        EXPECT_EQ(c.poll_interval, p->poll_interval);
        EXPECT_EQ(c.finalized, p->finalized);
        if (!p->finalized) {
            EXPECT_EQ(c.confirmations, p->confirmations);
        }
    }
    // The stablecoins' decimals: 6, except BSC's Binance-Peg tokens.
    for (const auto& p : presets())
        for (const auto& t : p.tokens) EXPECT_EQ(t.decimals, p.name == "bsc" ? 18u : 6u) << p.name << " " << t.symbol;
    EXPECT_EQ(find_preset("bitcoin")->confirmations, 3u);
    EXPECT_EQ(find_token(*find_preset("tron"), "USDC"), nullptr);  // Circle left TRON
    EXPECT_EQ(find_token(*find_preset("base"), "USDT"), nullptr);  // no Tether USDT on Base
}

TEST(ConfigPresets, ExplicitKeysWin) {
    const LoadResult r = load(R"toml([[chains]]
preset        = "ethereum"
id            = "eth-main"
rpc           = ["https://eth.example/rpc"]
confirmations = 12
poll_interval = "12s"
native        = { min_amount = "0.001" }
chain_id      = 1
max_block_range = 100
tokens = [
  { symbol = "usdt", min_amount = "0.5" },
  "USDC",
  { symbol = "DAI", contract = "0x6B175474E89094C44Da98b954EedeAC495271d0F", decimals = 18 },
]
)toml");
    const ChainConfig& c = only_chain(r);
    EXPECT_EQ(c.id, "eth-main");
    EXPECT_FALSE(c.finalized);
    EXPECT_EQ(c.confirmations, 12u);
    EXPECT_EQ(c.poll_interval, 12s);
    EXPECT_EQ(c.max_block_range, 100u);
    EXPECT_EQ(c.chain_id_source, "depositd.toml:11:chains[0].chain_id");
    EXPECT_EQ(c.native.symbol, "ETH");  // filled in around what is given
    EXPECT_EQ(c.native.decimals, 18u);
    EXPECT_EQ(c.native.min_amount, U256(1'000'000'000'000'000ULL));
    ASSERT_EQ(c.tokens.size(), 3u);
    EXPECT_EQ(c.tokens[0].symbol, "USDT");  // the preset's spelling
    EXPECT_EQ(c.tokens[0].contract, "0xdAC17F958D2ee523a2206206994597C13D831ec7");
    EXPECT_EQ(c.tokens[0].min_amount, U256(500000));
    EXPECT_EQ(c.tokens[1].symbol, "USDC");
    EXPECT_EQ(c.tokens[2].symbol, "DAI");
    EXPECT_EQ(c.tokens[2].decimals, 18u);
}

TEST(ConfigPresets, UnknownPresetNamesItsLineAndKey) {
    expect_one("[[chains]]\nid = \"x\"\npreset = \"bnb\"\nrpc = [\"http://127.0.0.1:1\"]\n", 6, "chains[0].preset",
               "\"bnb\" is not a preset (did you mean \"bsc\"?); use ethereum, bsc, polygon, arbitrum, base, "
               "optimism, avalanche, tron, solana or bitcoin");
    // Nothing else is called "required" for it: the preset was meant to fill those keys.
    expect_one("[[chains]]\npreset = \"dogecoin\"\nrpc = [\"http://127.0.0.1:1\"]\n", 5, "chains[0].preset",
               "\"dogecoin\" is not a preset; use ethereum");
    expect_one("[[chains]]\npreset = 56\nrpc = [\"http://127.0.0.1:1\"]\n", 5, "chains[0].preset",
               "must be a string, not an integer");
}

TEST(ConfigPresets, UnknownSymbolNamesItsLineAndKey) {
    expect_one("[[chains]]\npreset = \"bsc\"\nrpc = [\"http://127.0.0.1:1\"]\ntokens = [\n  \"USDT\",\n  \"DAI\",\n]\n",
               9, "chains[0].tokens[1]",
               "\"DAI\" is not a token preset bsc knows (it knows USDT, USDC); write { symbol = \"DAI\", contract = ");
    expect_one("[[chains]]\npreset = \"base\"\nrpc = [\"http://127.0.0.1:1\"]\ntokens = [\"USDT\"]\n", 7,
               "chains[0].tokens[0]", "\"USDT\" is not a token preset base knows (it knows USDC)");
    expect_one("[[chains]]\npreset = \"tron\"\nrpc = [\"http://127.0.0.1:1\"]\ntokens = [{ symbol = \"USDC\" }]\n", 7,
               "chains[0].tokens[0].symbol", "\"USDC\" is not a token preset tron knows (it knows USDT)");
}

TEST(ConfigPresets, SymbolsNeedAPresetAndItsMainnet) {
    expect_one(R"toml([[chains]]
id = "eth"
kind = "evm"
rpc = ["http://127.0.0.1:1"]
confirmations = 3
native = { symbol = "ETH", decimals = 18 }
tokens = ["USDT"]
)toml",
               10, "chains[0].tokens[0]", "\"USDT\": a token named by its symbol needs a preset");
    // A testnet under a mainnet preset: its contracts are not the preset's.
    expect_one(R"toml([[chains]]
preset = "bsc"
id = "bsc-testnet"
chain_id = 97
rpc = ["http://127.0.0.1:1"]
tokens = ["USDT"]
)toml",
               9, "chains[0].tokens[0]", "mainnet contracts (chain id 56), but this chain has chain_id = 97");
}

TEST(ConfigPresets, DuplicatesAcrossSymbolsAndTables) {
    expect_one("[[chains]]\npreset = \"ethereum\"\nrpc = [\"http://127.0.0.1:1\"]\ntokens = [\"USDT\", \"usdt\"]\n", 7,
               "chains[0].tokens[1]", "duplicate symbol \"USDT\"");
    expect_one(R"toml([[chains]]
preset = "ethereum"
rpc = ["http://127.0.0.1:1"]
tokens = [
  "USDT",
  { symbol = "TETHER", contract = "0xdac17f958d2ee523a2206206994597c13d831ec7", decimals = 6 },
]
)toml",
               9, "chains[0].tokens[1].contract", "duplicate contract (first at line 8)");
    // Two chains on one preset need ids of their own.
    const std::string bsc = "[[chains]]\npreset = \"bsc\"\nrpc = [\"http://127.0.0.1:1\"]\n";
    expect_one(bsc + bsc, 8, "chains[1].id", "duplicate chain id \"bsc\" (first at line 5)");
}

TEST(ConfigPresets, KindMustAgreeWithThePreset) {
    expect_one("[[chains]]\npreset = \"bsc\"\nkind = \"tron\"\nrpc = [\"http://127.0.0.1:1\"]\n", 6, "chains[0].kind",
               "\"tron\" contradicts preset bsc (evm)");
    const LoadResult same = load("[[chains]]\npreset = \"tron\"\nkind = \"tron\"\nrpc = [\"http://127.0.0.1:1\"]\n");
    EXPECT_EQ(only_chain(same).kind, Protocol::tron);
    // What a preset's kind cannot have stays an error.
    expect_one("[[chains]]\npreset = \"bitcoin\"\nrpc = [\"http://127.0.0.1:1\"]\ntokens = [\"USDT\"]\n", 7,
               "chains[0].tokens", "bitcoin chains have no tokens");
    expect_one("[[chains]]\npreset = \"bitcoin\"\nrpc = [\"http://127.0.0.1:1\"]\nconfirmations = \"finalized\"\n", 7,
               "chains[0].confirmations", "bitcoin has no finality tag");
}

TEST(ConfigPresets, WithoutAPresetNothingChanges) {
    // The keys a preset would fill are still required without one.
    const LoadResult r = load("[[chains]]\nrpc = [\"http://127.0.0.1:1\"]\n");
    EXPECT_NE(all(r).find("chains[0].id: required"), std::string::npos) << all(r);
    EXPECT_NE(all(r).find("chains[0].kind: required"), std::string::npos);
    EXPECT_NE(all(r).find("chains[0].confirmations: required"), std::string::npos);
    EXPECT_NE(all(r).find("chains[0].native: required"), std::string::npos);
}

// depositctl needs a chain's id and kind, which a preset may give.
TEST(ConfigPresets, DepositctlReadsThePreset) {
    EXPECT_TRUE(reads_key(Reader::depositctl, "chains[0].preset"));
    auto no_env = [](const std::string&) { return std::string(); };
    const LoadResult r = load_string(kApi + "\n[[chains]]\npreset = \"tron\"\nrpc = [\"${TRON_RPC}\"]\n", "depositd.toml",
                                     no_env, Reader::depositctl);
    ASSERT_TRUE(r.config) << all(r);
    EXPECT_EQ(r.config->chains[0].id, "tron");
    EXPECT_EQ(r.config->chains[0].kind, Protocol::tron);
}
