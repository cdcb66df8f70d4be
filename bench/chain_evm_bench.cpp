// EVM hot path: decode + match a raw eth_getLogs response body against a
// 1 M address watch set. The body is synthetic but shaped like the real
// Polygon sample (tests/fixtures/evm): the fixture's first Transfer log is the
// template; 10,000 logs, ~80% ERC20 Transfers of 3 configured tokens, the rest
// other events (Approval, unconfigured tokens, 4-topic logs); 1% of the
// transfers go to watched addresses. Compact JSON, as providers send it.
#include <benchmark/benchmark.h>

#include <fstream>
#include <random>
#include <sstream>

#include "chain/evm/decode.hpp"
#include "codec/hex.hpp"

using namespace depositd;
using namespace depositd::chain;
using namespace depositd::chain::evm;

namespace {

constexpr std::size_t kLogs = 10'000;
constexpr std::size_t kWatched = 1'000'000;

struct Fixture {
    std::string body;          // compact
    std::string body_pretty;   // 2-space indented, like the captured fixture
    WatchSet watched;
    std::vector<TokenSpec> tokens;
    std::size_t expected_matches = 0;
};

std::string hex_of(const std::uint8_t* p, std::size_t n) {
    return codec::to_hex(std::span<const std::uint8_t>(p, n));
}

std::string pretty(const json::value& v, int indent = 0) {
    std::string pad(static_cast<std::size_t>(indent), ' ');
    std::string inner(static_cast<std::size_t>(indent + 2), ' ');
    if (v.is_object()) {
        std::string s = "{\n";
        bool first = true;
        for (const auto& kv : v.get_object()) {
            if (!first) s += ",\n";
            first = false;
            s += inner + json::serialize(json::value(kv.key())) + ": " + pretty(kv.value(), indent + 2);
        }
        return s + "\n" + pad + "}";
    }
    if (v.is_array()) {
        std::string s = "[\n";
        bool first = true;
        for (const auto& e : v.get_array()) {
            if (!first) s += ",\n";
            first = false;
            s += inner + pretty(e, indent + 2);
        }
        return s + "\n" + pad + "]";
    }
    return json::serialize(v);
}

const Fixture& fixture() {
    static Fixture f = [] {
        Fixture fx;
        std::ifstream in(std::string(DEPOSITD_FIXTURES) + "/evm/polygon_eth_getLogs_block_0x295827a.json");
        std::stringstream ss;
        ss << in.rdbuf();
        auto doc = json::parse_bounded(ss.str());
        if (!doc) std::abort();
        json::object tmpl;
        for (const auto& l : doc->at("result").as_array())
            if (l.at("topics").as_array().size() == 3 &&
                l.at("topics").as_array()[0].as_string() == json::string_view(kTransferTopic)) {
                tmpl = l.as_object();
                break;
            }
        std::mt19937_64 rng(42);
        auto rand_bytes = [&](std::uint8_t* p, std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(rng());
        };
        // 1 M watched addresses.
        std::vector<std::array<std::uint8_t, 20>> watched(kWatched);
        fx.watched.reserve(kWatched);
        for (std::size_t i = 0; i < kWatched; ++i) {
            rand_bytes(watched[i].data(), 20);
            fx.watched.insert(std::string(reinterpret_cast<const char*>(watched[i].data()), 20),
                              static_cast<std::int64_t>(i + 1));
        }
        std::vector<config::TokenConfig> toks = {{"USDT", "0xc2132d05d31c914a87c6611c10748aeb04b58e8f", 6},
                                                 {"USDC", "0x3c499c542cef5e3811e1192ce70d8cc03d5c3359", 6},
                                                 {"DAI", "0x8f3cf7ad23cd3cadbd9735aff958023239c6a063", 18}};
        fx.tokens = std::move(make_token_specs(toks).value());
        const std::string approval = "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925";
        json::array logs;
        std::uint8_t buf[32];
        for (std::size_t i = 0; i < kLogs; ++i) {
            json::object l = tmpl;
            const unsigned kind = static_cast<unsigned>(rng() % 100);
            std::array<std::uint8_t, 20> to;
            rand_bytes(to.data(), 20);
            const bool to_watched = kind < 80 && rng() % 100 == 0;
            if (to_watched) to = watched[rng() % kWatched];
            rand_bytes(buf, 20);
            const std::string from_topic = "0x000000000000000000000000" + hex_of(buf, 20);
            const std::string to_topic = "0x000000000000000000000000" + hex_of(to.data(), 20);
            std::string address;
            if (kind < 80) {
                address = fx.tokens[rng() % 3].contract_lower;
            } else {
                rand_bytes(buf, 20);
                address = "0x" + hex_of(buf, 20);
            }
            json::array topics;
            topics.emplace_back(kind < 85 ? std::string(kTransferTopic) : approval);
            topics.emplace_back(from_topic);
            topics.emplace_back(to_topic);
            if (kind >= 95) topics.emplace_back("0x" + std::string(64, '0'));  // ERC721-like
            l["address"] = address;
            l["topics"] = std::move(topics);
            std::memset(buf, 0, 32);
            rand_bytes(buf + 24, 8);
            l["data"] = "0x" + hex_of(buf, 32);
            l["logIndex"] = quantity(i);
            l["transactionIndex"] = quantity(i / 4);
            rand_bytes(buf, 32);
            l["transactionHash"] = "0x" + hex_of(buf, 32);
            logs.emplace_back(std::move(l));
            if (to_watched) ++fx.expected_matches;
        }
        json::object env;
        env["jsonrpc"] = "2.0";
        env["id"] = 7;
        env["result"] = std::move(logs);
        fx.body = json::serialize(env);
        fx.body_pretty = pretty(json::value(env));
        return fx;
    }();
    return f;
}

void run(benchmark::State& state, const std::string& body) {
    const Fixture& fx = fixture();
    LogMatchContext ctx{fx.tokens, &fx.watched, {}};
    std::vector<MatchedTransfer> out;
    out.reserve(256);
    std::size_t matched = 0;
    for (auto _ : state) {
        out.clear();
        auto st = decode_logs(std::string_view(body), ctx, out);
        if (!st || st->logs != kLogs) {
            state.SkipWithError("decode failed");
            return;
        }
        matched = out.size();
        benchmark::DoNotOptimize(out.data());
    }
    if (matched != fx.expected_matches) state.SkipWithError("wrong number of matches");
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kLogs));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
    state.counters["matches"] = static_cast<double>(matched);
    state.counters["body_bytes_per_log"] = static_cast<double>(body.size()) / kLogs;
}

void BM_EvmLogs_Stream_Compact(benchmark::State& state) { run(state, fixture().body); }
void BM_EvmLogs_Stream_Pretty(benchmark::State& state) { run(state, fixture().body_pretty); }

// The DOM route the adapter takes today (JsonRpcClient hands back a
// json::value): parse into a DOM, then match.
void BM_EvmLogs_Dom_Compact(benchmark::State& state) {
    const Fixture& fx = fixture();
    LogMatchContext ctx{fx.tokens, &fx.watched, {}};
    std::vector<MatchedTransfer> out;
    for (auto _ : state) {
        out.clear();
        auto v = json::parse_bounded(fx.body);
        auto st = decode_logs(v->at("result"), ctx, out);
        if (!st) {
            state.SkipWithError("decode failed");
            return;
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kLogs));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * fx.body.size()));
}

// Matching only (DOM already built): the cost of decode_logs(json::value).
void BM_EvmLogs_MatchOnly_Dom(benchmark::State& state) {
    const Fixture& fx = fixture();
    LogMatchContext ctx{fx.tokens, &fx.watched, {}};
    auto v = json::parse_bounded(fx.body);
    std::vector<MatchedTransfer> out;
    for (auto _ : state) {
        out.clear();
        auto st = decode_logs(v->at("result"), ctx, out);
        benchmark::DoNotOptimize(st);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kLogs));
}

}  // namespace

BENCHMARK(BM_EvmLogs_Stream_Compact)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EvmLogs_Stream_Pretty)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EvmLogs_Dom_Compact)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EvmLogs_MatchOnly_Dom)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
