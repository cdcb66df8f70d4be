// Solana hot path: one mainnet-sized getBlock answer (encoding json,
// transactionDetails "accounts", maxSupportedTransactionVersion 0, rewards
// false) decoded and matched against 1,000,000 watched keys on one core.
//
// The block is synthetic but in the real shape (the builders of
// tests/unit/solana_test_chain.hpp, which follow Agave's UiAccountsList and
// the two captured transactions in tests/fixtures/solana): like mainnet,
// most transactions are votes (3 accounts, no token balances); the rest
// carry 12-40 accounts (some from lookup tables) and 40% of them token
// balances (USDC/USDT and other mints, 2-8 entries); 2% pay SOL and 1% pay
// USDT to watched wallets. Compact JSON, as nodes send it.
//
// Arguments: transactions per block (1000, 2000, 3000). Counters: bytes
// (MB/s), transactions/s, deposits found (checked against what was planted).
#include <benchmark/benchmark.h>

#include <random>

#include "../tests/unit/solana_test_chain.hpp"
#include "chain/solana/decode.hpp"

using namespace depositd;
using namespace depositd::chain;
using namespace depositd::chain::solana;

namespace {

constexpr std::size_t kWatched = 1'000'000;
const char* kUsdt = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB";
const char* kUsdc = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";

struct Fixture {
    WatchSet watched;
    std::vector<std::string> watched_text;  // a few, to plant deposits
    std::vector<TokenSpec> tokens;
};

soltest::Key random_key(std::mt19937_64& rng) {
    Key32 k;
    for (auto& b : k) b = static_cast<std::uint8_t>(rng());
    return soltest::Key{codec::solana_address(k), std::string(k.begin(), k.end())};
}

const Fixture& fixture() {
    static const Fixture f = [] {
        Fixture f;
        std::mt19937_64 rng(42);
        f.watched.reserve(kWatched);
        for (std::size_t i = 0; i < kWatched; ++i) {
            Key32 k;
            for (auto& b : k) b = static_cast<std::uint8_t>(rng());
            f.watched.insert(std::string(k.begin(), k.end()), static_cast<std::int64_t>(i + 1));
            if (i < 1000) f.watched_text.push_back(codec::solana_address(k));
        }
        f.tokens = make_token_specs({{"USDT", kUsdt, 6}, {"USDC", kUsdc, 6}}).value();
        return f;
    }();
    return f;
}

struct Body {
    std::string json;
    std::size_t planted = 0;
};

Body make_block(std::size_t n_tx) {
    const Fixture& f = fixture();
    std::mt19937_64 rng(n_tx);
    std::vector<soltest::Key> pool;  // wallets, token accounts, programs that recur
    for (int i = 0; i < 4000; ++i) pool.push_back(random_key(rng));
    std::vector<std::string> mints = {kUsdc, kUsdt};
    for (int i = 0; i < 30; ++i) mints.push_back(random_key(rng).text);
    const std::string vote_program = "Vote111111111111111111111111111111111111111";
    soltest::Block b;
    b.slot = 311'350'485;
    b.parent_slot = 311'350'484;
    b.hash = random_key(rng).text;
    b.parent_hash = random_key(rng).text;
    b.time = 1'736'502'537;
    Body out;
    for (std::size_t i = 0; i < n_tx; ++i) {
        soltest::Tx tx;
        tx.signature = random_key(rng).text + random_key(rng).text.substr(0, 44);  // 88 chars, like a signature
        if (rng() % 100 < 65) {  // vote
            const auto& auth = pool[rng() % pool.size()];
            tx.accounts = {{auth.text, 2'000'000'000, 1'999'995'000, false, true, true},
                           {pool[rng() % pool.size()].text, 27'000'000'000, 27'000'000'000},
                           {vote_program, 1, 1, false, false}};
            b.txs.push_back(std::move(tx));
            continue;
        }
        tx.v0 = rng() % 2 == 0;
        const std::size_t n = 12 + rng() % 29;
        for (std::size_t k = 0; k < n; ++k) {
            soltest::Account a;
            a.key = pool[rng() % pool.size()].text;
            a.pre = 1'000'000 + rng() % 1'000'000'000;
            a.post = a.pre;
            a.signer = k == 0;
            a.lookup = tx.v0 && k >= n / 2;
            tx.accounts.push_back(std::move(a));
        }
        tx.accounts[0].post = tx.accounts[0].pre - 5000 - rng() % 100'000;  // fee payer
        for (std::size_t k = 1; k < n / 3; ++k)                            // lamports move around
            if (rng() % 3 == 0) tx.accounts[k].post = tx.accounts[k].pre + rng() % 10'000'000;
        const int dice = static_cast<int>(rng() % 100);
        if (dice < 2) {  // SOL to a watched wallet
            tx.accounts[n - 1].key = f.watched_text[rng() % f.watched_text.size()];
            tx.accounts[n - 1].post = tx.accounts[n - 1].pre + 1 + rng() % 5'000'000'000ull;
            ++out.planted;
        }
        if (rng() % 100 < 40) {  // token balances
            const std::size_t m = 1 + rng() % 4;
            for (std::size_t k = 0; k < m; ++k) {
                const std::uint32_t acct = static_cast<std::uint32_t>(1 + (2 * k) % (n - 2));
                const std::string& mint = mints[rng() % mints.size()];
                const std::string owner = pool[rng() % pool.size()].text;
                const std::uint64_t pre = rng() % 1'000'000'000'000ull;
                tx.pre_tokens.push_back({acct, mint, owner, std::to_string(pre)});
                tx.post_tokens.push_back({acct, mint, owner, std::to_string(pre / 2)});
            }
        }
        if (dice >= 2 && dice < 3) {  // USDT to a watched owner (its token account created here)
            const std::uint32_t acct = static_cast<std::uint32_t>(n - 2);
            tx.post_tokens.push_back({acct, kUsdt, f.watched_text[rng() % f.watched_text.size()],
                                      std::to_string(1 + rng() % 1'000'000'000)});
            ++out.planted;
        }
        b.txs.push_back(std::move(tx));
    }
    out.json = json::serialize(json::object{{"jsonrpc", "2.0"}, {"result", soltest::block_json(b, true)}, {"id", 1}});
    return out;
}

const Body& block(std::size_t n_tx) {
    static std::map<std::size_t, Body> cache;
    auto it = cache.find(n_tx);
    if (it == cache.end()) it = cache.emplace(n_tx, make_block(n_tx)).first;
    return it->second;
}

void BM_DecodeBlock(benchmark::State& state) {
    const Fixture& f = fixture();
    const Body& body = block(static_cast<std::size_t>(state.range(0)));
    DecodeContext ctx{f.tokens, &f.watched, NativeSpec{}, true};
    std::size_t found = 0;
    for (auto _ : state) {
        auto r = decode_block_response(body.json, ctx);
        if (!r || r->size() != 1) {
            state.SkipWithError(r ? "no block" : r.error().message.c_str());
            return;
        }
        found = (*r)[0].block.transfers.size();
        benchmark::DoNotOptimize(r);
    }
    if (found != body.planted) state.SkipWithError("deposits found != deposits planted");
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.json.size()));
    state.counters["MB"] = static_cast<double>(body.json.size()) / 1e6;
    state.counters["deposits"] = static_cast<double>(found);
    state.counters["tx/s"] = benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)),
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecodeBlock)->Arg(1000)->Arg(2000)->Arg(3000)->Unit(benchmark::kMillisecond);

// For comparison: a DOM parse of the same body (what the generic JSON-RPC
// client would do before any decoding).
void BM_DomParseOnly(benchmark::State& state) {
    const Body& body = block(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        auto v = json::parse_bounded(body.json);
        benchmark::DoNotOptimize(v);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.json.size()));
}
BENCHMARK(BM_DomParseOnly)->Arg(2000)->Unit(benchmark::kMillisecond);

// The key decoder on its own (one call per balance that went up).
void BM_DecodeKey(benchmark::State& state) {
    std::mt19937_64 rng(1);
    std::vector<std::string> keys;
    for (int i = 0; i < 1024; ++i) keys.push_back(random_key(rng).text);
    std::size_t i = 0;
    Key32 k;
    for (auto _ : state) {
        benchmark::DoNotOptimize(decode_key(keys[i++ & 1023], k));
        benchmark::DoNotOptimize(k);
    }
}
BENCHMARK(BM_DecodeKey);

}  // namespace

BENCHMARK_MAIN();
