// TRON hot path: decode a getblockbylimitnext answer (100 blocks) and the
// gettransactioninfobyblocknum answer of each block, matched against a 1 M
// address watch set. Synthetic bodies in the real shapes of
// tests/fixtures/tron (the fixtures' TransferContract / TransferAssetContract
// transactions and the USDT TransactionInfo are the templates). Per block:
// 300 transactions like mainnet — 60% USDT TriggerSmartContract (one
// Transfer log, ~1% to watched addresses), 25% TRX TransferContract (~1% to
// watched addresses), 10% other contracts with logs (unconfigured tokens),
// 5% TRC10 airdrops. Compact JSON, as TronGrid sends it.
//
// Counters: blocks/s (items_per_second), bytes/s, and the requests per block
// the adapter makes for this range (1 getblockbylimitnext per 100 blocks + 1
// gettransactioninfobyblocknum per block with transactions).
#include <benchmark/benchmark.h>

#include <random>

#include "chain/tron/decode.hpp"
#include "codec/address.hpp"
#include "codec/hex.hpp"

using namespace depositd;
using namespace depositd::chain;
using namespace depositd::chain::tron;

namespace {

constexpr std::size_t kBlocks = 100;
constexpr std::size_t kTxPerBlock = 300;
constexpr std::size_t kWatched = 1'000'000;
constexpr const char* kTransferTopic = "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
constexpr const char* kUsdtHex = "a614f803b6fd780986a42c78ec9c7f77e6ded13c";

struct Fixture {
    std::string blocks_body;
    std::vector<std::string> info_bodies;
    std::vector<std::vector<std::string>> tx_ids;
    WatchSet watched;
    std::vector<TokenSpec> tokens;
    std::size_t expected_matches = 0;
    std::size_t requests = 0;
};

std::string hex20(std::mt19937_64& rng) {
    std::array<std::uint8_t, 20> a;
    for (auto& b : a) b = static_cast<std::uint8_t>(rng());
    return codec::to_hex(a);
}
std::string hex32(std::mt19937_64& rng) {
    std::array<std::uint8_t, 32> a;
    for (auto& b : a) b = static_cast<std::uint8_t>(rng());
    return codec::to_hex(a);
}
std::string key_of(const std::string& hex) {
    auto b = codec::from_hex(hex);
    return std::string(b->begin(), b->end());
}

const Fixture& fixture() {
    static const Fixture f = [] {
        Fixture f;
        std::mt19937_64 rng(42);
        std::vector<std::string> watched_hex;
        f.watched.reserve(kWatched);
        for (std::size_t i = 0; i < kWatched; ++i) {
            std::string a = hex20(rng);
            f.watched.insert(key_of(a), static_cast<std::int64_t>(i + 1));
            if (i < 1000) watched_hex.push_back(a);
        }
        f.tokens = make_token_specs({{"USDT", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", 6}}).value();
        auto recipient = [&](std::size_t& matches) {
            if (rng() % 100 == 0) {
                ++matches;
                return watched_hex[rng() % watched_hex.size()];
            }
            return hex20(rng);
        };
        json::array blocks;
        std::string parent(64, '0');
        const std::uint64_t first = 30864542;
        for (std::size_t b = 0; b < kBlocks; ++b) {
            const std::uint64_t n = first + b;
            char head[17];
            std::snprintf(head, sizeof head, "%016llx", static_cast<unsigned long long>(n));
            std::string id = std::string(head) + hex32(rng).substr(16);
            json::array txs, infos;
            std::vector<std::string> ids;
            for (std::size_t k = 0; k < kTxPerBlock; ++k) {
                const std::string tid = hex32(rng);
                ids.push_back(tid);
                const auto roll = rng() % 100;
                json::object tx, info{{"id", tid}, {"fee", 345000}, {"blockNumber", n},
                                      {"blockTimeStamp", 1623055917000 + b * 3000}};
                std::string type;
                json::object value;
                if (roll < 60 || roll >= 95) {
                    const bool usdt = roll < 60;
                    const std::string contract = usdt ? kUsdtHex : hex20(rng);
                    std::size_t dummy = 0;
                    const std::string to = usdt ? recipient(f.expected_matches) : recipient(dummy);
                    type = "TriggerSmartContract";
                    value = {{"data", "a9059cbb000000000000000000000000" + to + hex32(rng)},
                             {"owner_address", "41" + hex20(rng)}, {"contract_address", "41" + contract}};
                    json::array topics{kTransferTopic, "000000000000000000000000" + hex20(rng),
                                       "000000000000000000000000" + to};
                    info["contractResult"] = json::array{std::string(63, '0') + "1"};
                    info["contract_address"] = "41" + contract;
                    info["log"] = json::array{json::object{
                        {"address", contract}, {"topics", topics}, {"data", std::string(56, '0') + "1fb6e57f"}}};
                    info["receipt"] = json::object{{"energy_usage_total", 14631}, {"net_usage", 345}, {"result", "SUCCESS"}};
                } else if (roll < 85) {
                    type = "TransferContract";
                    std::size_t m = 0;
                    std::string to = recipient(m);
                    f.expected_matches += m;
                    value = {{"amount", 50000000 + k}, {"owner_address", "41" + hex20(rng)}, {"to_address", "41" + to}};
                    info["contractResult"] = json::array{""};
                    info["receipt"] = json::object{{"net_usage", 268}};
                } else {
                    type = "TransferAssetContract";
                    value = {{"amount", 468000}, {"asset_name", "31303034303833"},
                             {"owner_address", "41" + hex20(rng)}, {"to_address", "41" + hex20(rng)}};
                    info["contractResult"] = json::array{""};
                    info["receipt"] = json::object{{"net_usage", 283}};
                }
                json::object c{{"parameter", json::object{{"type_url", "type.googleapis.com/protocol." + type},
                                                          {"value", value}}},
                               {"type", type}};
                tx["raw_data"] = json::object{{"contract", json::array{c}}, {"ref_block_bytes", "f49e"},
                                              {"ref_block_hash", "bf6a4ff33cc1c160"}, {"expiration", 1623055977000},
                                              {"timestamp", 1623055920560}};
                tx["raw_data_hex"] = "0a02f49e2208bf6a4ff33cc1c16040a894b3ad9e2f5a68080112640a2d74797065" + hex32(rng) + hex32(rng);
                tx["ret"] = json::array{json::object{{"contractRet", "SUCCESS"}}};
                tx["signature"] = json::array{hex32(rng) + hex32(rng) + "00"};
                tx["txID"] = tid;
                txs.push_back(std::move(tx));
                infos.push_back(std::move(info));
            }
            json::object raw{{"number", n}, {"parentHash", parent}, {"timestamp", 1623055917000 + b * 3000},
                             {"txTrieRoot", hex32(rng)}, {"version", 21}, {"witness_address", "41" + hex20(rng)}};
            blocks.push_back(json::object{
                {"blockID", id},
                {"block_header", json::object{{"raw_data", raw}, {"witness_signature", hex32(rng) + hex32(rng) + "01"}}},
                {"transactions", std::move(txs)}});
            f.info_bodies.push_back(json::serialize(infos));
            f.tx_ids.push_back(std::move(ids));
            parent = id;
        }
        f.blocks_body = json::serialize(json::object{{"block", blocks}});
        f.requests = 1 + kBlocks;  // one range request, one info request per (non-empty) block
        return f;
    }();
    return f;
}

void BM_TronDecodeRange(benchmark::State& state) {
    const Fixture& f = fixture();
    const NativeSpec trx{"TRX", 6};
    std::size_t bytes = f.blocks_body.size();
    for (const auto& b : f.info_bodies) bytes += b.size();
    std::size_t matches = 0;
    for (auto _ : state) {
        auto v = json::parse_bounded(f.blocks_body);
        auto list = decode_block_list(*v, &f.watched, trx);
        if (!list || list->size() != kBlocks) {
            state.SkipWithError("block decode failed");
            return;
        }
        matches = 0;
        for (std::size_t i = 0; i < kBlocks; ++i) {
            matches += (*list)[i].native.size();
            std::vector<Transfer> out;
            InfoContext ctx{(*list)[i].ref.height, &(*list)[i].tx_ids, f.tokens, &f.watched};
            auto st = decode_transaction_infos(std::string_view(f.info_bodies[i]), ctx, out);
            if (!st) {
                state.SkipWithError(st.error().describe().c_str());
                return;
            }
            matches += out.size();
        }
        benchmark::DoNotOptimize(matches);
    }
    if (matches != f.expected_matches) state.SkipWithError("unexpected number of matches");
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBlocks));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    state.counters["requests_per_block"] = static_cast<double>(f.requests) / kBlocks;
    state.counters["tx_per_block"] = kTxPerBlock;
    state.counters["matches"] = static_cast<double>(matches);
    state.counters["MB_per_block"] = static_cast<double>(bytes) / kBlocks / 1e6;
}
BENCHMARK(BM_TronDecodeRange)->Unit(benchmark::kMillisecond);

// The two halves separately: block list (TRX) and infos (TRC20).
void BM_TronDecodeBlocksOnly(benchmark::State& state) {
    const Fixture& f = fixture();
    const NativeSpec trx{"TRX", 6};
    for (auto _ : state) {
        auto v = json::parse_bounded(f.blocks_body);
        auto list = decode_block_list(*v, &f.watched, trx);
        benchmark::DoNotOptimize(list);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBlocks));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * f.blocks_body.size()));
}
BENCHMARK(BM_TronDecodeBlocksOnly)->Unit(benchmark::kMillisecond);

void BM_TronDecodeInfosOnly(benchmark::State& state) {
    const Fixture& f = fixture();
    std::size_t bytes = 0;
    for (const auto& b : f.info_bodies) bytes += b.size();
    for (auto _ : state) {
        for (std::size_t i = 0; i < kBlocks; ++i) {
            std::vector<Transfer> out;
            InfoContext ctx{30864542 + i, &f.tx_ids[i], f.tokens, &f.watched};
            auto st = decode_transaction_infos(std::string_view(f.info_bodies[i]), ctx, out);
            benchmark::DoNotOptimize(st);
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBlocks));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_TronDecodeInfosOnly)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
