// Bitcoin hot path: decode + match one mainnet-sized `getblock <hash> 2`
// answer against 1,000,000 watched scriptPubKeys. The block is synthetic but
// in the real shape of tests/fixtures/bitcoin (Bitcoin Core's verbosity-2
// fields, in Core's order: txid, hash, version, size, vsize, weight, locktime,
// vin [txid, vout, scriptSig {asm, hex}, txinwitness, sequence], vout [value,
// n, scriptPubKey {asm, desc, hex, address, type}], fee, hex), 3,500
// transactions like block 800,000 (3,721): 1-3 inputs (80% segwit with a
// 2-item witness, 20% legacy scriptSig), 1-4 outputs (P2WPKH 50%, P2TR 20%,
// P2SH 10%, P2PKH 10%, P2WSH 5%, OP_RETURN 5%); 1% of the P2WPKH outputs pay
// a watched script. The bcoin variant has bcoin's fields (no fee/hex/desc,
// addresses[], upper-case types).
#include <benchmark/benchmark.h>

#include <boost/json/basic_parser_impl.hpp>

#include <cstdio>
#include <random>

#include "chain/bitcoin/decode.hpp"
#include "codec/address.hpp"
#include "codec/hex.hpp"

using namespace depositd;
using namespace depositd::chain;
using namespace depositd::chain::bitcoin;

namespace {

constexpr std::size_t kTxs = 3'500;
constexpr std::size_t kWatched = 1'000'000;

struct Fixture {
    std::string core;
    std::string bcoin;
    WatchSet watched;
    std::size_t expected_matches = 0;
    std::size_t outputs = 0;
};

const Fixture& fixture() {
    static Fixture f = [] {
        Fixture fx;
        std::mt19937_64 rng(800000);
        auto hex = [&](std::size_t bytes) {
            std::string s(bytes * 2, '0');
            static constexpr char d[] = "0123456789abcdef";
            for (auto& c : s) c = d[rng() & 15];
            return s;
        };
        std::vector<std::string> watched(kWatched);
        fx.watched.reserve(kWatched);
        for (std::size_t i = 0; i < kWatched; ++i) {
            watched[i] = "0014" + hex(20);
            auto b = codec::from_hex(watched[i]);
            fx.watched.insert(std::string(b->begin(), b->end()), static_cast<std::int64_t>(i + 1));
        }
        auto value_text = [&](std::uint64_t sats) {
            char buf[40];
            std::snprintf(buf, sizeof buf, "%llu.%08llu", static_cast<unsigned long long>(sats / 100000000),
                          static_cast<unsigned long long>(sats % 100000000));
            return std::string(buf);
        };
        std::string core_txs, bcoin_txs;
        for (std::size_t t = 0; t < kTxs; ++t) {
            const std::string txid = hex(32);
            const std::size_t nin = 1 + rng() % 3;
            const std::size_t nout = 1 + rng() % 4;
            std::string vin, vin_b;
            std::size_t raw_size = 10;
            for (std::size_t i = 0; i < nin; ++i) {
                std::string in = R"({"txid":")" + hex(32) + R"(","vout":)" + std::to_string(rng() % 4);
                std::string wit;
                if (t == 0) {
                    in = R"({"coinbase":")" + hex(40) + "\"";
                } else if (rng() % 10 < 8) {
                    in += R"(,"scriptSig":{"asm":"","hex":""})";
                    wit = R"(,"txinwitness":[")" + hex(71) + R"(",")" + hex(33) + "\"]";
                    raw_size += 41 + 27;
                } else {
                    const std::string sig = hex(71), pub = hex(33);
                    in += R"(,"scriptSig":{"asm":")" + sig + "[ALL] " + pub + R"(","hex":"47)" + sig + "21" + pub + "\"}";
                    raw_size += 41 + 107;
                }
                in += wit + R"(,"sequence":4294967293})";
                vin += (i ? "," : "") + in;
                vin_b += (i ? "," : "") + in;
                if (t == 0) break;
            }
            std::string vout, vout_b;
            for (std::size_t o = 0; o < nout; ++o) {
                const unsigned kind = static_cast<unsigned>(rng() % 100);
                std::string script, type, btype;
                if (kind < 50) {
                    script = "0014" + hex(20);
                    if (rng() % 100 == 0) {
                        script = watched[rng() % kWatched];
                        ++fx.expected_matches;
                    }
                    type = "witness_v0_keyhash", btype = "WITNESSPUBKEYHASH";
                } else if (kind < 70) {
                    script = "5120" + hex(32), type = "witness_v1_taproot", btype = "WITNESSV1TAPROOT";
                } else if (kind < 80) {
                    script = "a914" + hex(20) + "87", type = "scripthash", btype = "SCRIPTHASH";
                } else if (kind < 90) {
                    script = "76a914" + hex(20) + "88ac", type = "pubkeyhash", btype = "PUBKEYHASH";
                } else if (kind < 95) {
                    script = "0020" + hex(32), type = "witness_v0_scripthash", btype = "WITNESSSCRIPTHASH";
                } else {
                    script = "6a24" + hex(36), type = "nulldata", btype = "NULLDATA";
                }
                raw_size += 9 + script.size() / 2;
                auto bytes = codec::from_hex(script);
                const std::string address = codec::btc_address_from_script(*bytes, codec::BtcNetwork::mainnet);
                const std::string value = value_text(kind >= 95 ? 0 : rng() % 5'000'000'000);
                const std::string asm_text = "0 " + script.substr(4);
                std::string out = R"({"value":)" + value + R"(,"n":)" + std::to_string(o) +
                                  R"(,"scriptPubKey":{"asm":")" + asm_text + R"(","desc":")" +
                                  (address.empty() ? "raw(" + script + ")" : "addr(" + address + ")") + "#" + hex(4) +
                                  R"(","hex":")" + script + "\"" +
                                  (address.empty() ? "" : R"(,"address":")" + address + "\"") + R"(,"type":")" + type +
                                  "\"}}";
                std::string out_b = R"({"value":)" + value + R"(,"n":)" + std::to_string(o) +
                                    R"(,"scriptPubKey":{"asm":")" + asm_text + R"(","hex":")" + script +
                                    R"(","type":")" + btype + R"(","reqSigs":1,"addresses":[)" +
                                    (address.empty() ? "" : "\"" + address + "\"") + "]}}";
                vout += (o ? "," : "") + out;
                vout_b += (o ? "," : "") + out_b;
                ++fx.outputs;
            }
            const std::string head = R"({"txid":")" + txid + R"(","hash":")" + hex(32) + R"(","version":2,"size":)" +
                                     std::to_string(raw_size) + R"(,"vsize":)" + std::to_string(raw_size * 3 / 4) +
                                     R"(,"weight":)" + std::to_string(raw_size * 3) + R"(,"locktime":0,"vin":[)";
            core_txs += (t ? "," : "") + head + vin + R"(],"vout":[)" + vout + R"(],"fee":0.00001234,"hex":")" +
                        hex(raw_size) + "\"}";
            bcoin_txs += (t ? "," : "") + head + vin_b + R"(],"vout":[)" + vout_b + R"(],"blockhash":")" +
                         std::string(64, '0') + R"(","confirmations":1,"time":1690168629,"blocktime":1690168629})";
        }
        const std::string hash = "00000000000000000002a7c4c1e48d76c5a37902165a270156b7a8d72728a054";
        const std::string prev = "000000000000000000012117ad9f72c1c0e42227c2d042dca23e6b96bd9fbb55";
        fx.core = R"({"result":{"hash":")" + hash +
                  R"(","confirmations":1,"height":800000,"version":536870912,"versionHex":"20000000","merkleroot":")" +
                  std::string(64, '1') +
                  R"(","time":1690168629,"mediantime":1690165851,"nonce":106861918,"bits":"17053894","difficulty":53911173001054.59,"chainwork":")" +
                  std::string(64, '0') + R"(","nTx":)" + std::to_string(kTxs) + R"(,"previousblockhash":")" + prev +
                  R"(","strippedsize":800000,"size":1600000,"weight":4000000,"tx":[)" + core_txs +
                  R"(]},"error":null,"id":1})";
        fx.bcoin = R"({"result":{"hash":")" + hash +
                   R"(","confirmations":1,"strippedsize":800000,"size":1600000,"weight":4000000,"height":800000,"version":536870912,"versionHex":"20000000","merkleroot":")" +
                   std::string(64, '1') + R"(","coinbase":"00","tx":[)" + bcoin_txs +
                   R"(],"time":1690168629,"mediantime":1690165851,"bits":386021524,"difficulty":53911173001054.59,"chainwork":")" +
                   std::string(64, '0') + R"(","previousblockhash":")" + prev +
                   R"(","nextblockhash":null},"error":null,"id":1})";
        return fx;
    }();
    return f;
}

void run(benchmark::State& state, const std::string& body) {
    const Fixture& fx = fixture();
    MatchContext ctx;
    ctx.watched = &fx.watched;
    ctx.network = codec::BtcNetwork::mainnet;
    std::size_t matched = 0;
    for (auto _ : state) {
        auto b = decode_block(body, ctx);
        if (!b || b->txs != kTxs) {
            state.SkipWithError(b ? "wrong transaction count" : b.error().message.c_str());
            return;
        }
        matched = b->transfers.size();
        benchmark::DoNotOptimize(b->transfers.data());
    }
    if (matched != fx.expected_matches) state.SkipWithError("wrong number of matches");
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kTxs));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
    state.counters["matches"] = static_cast<double>(matched);
    state.counters["outputs"] = static_cast<double>(fx.outputs);
    state.counters["body_MB"] = static_cast<double>(body.size()) / 1e6;
}

void BM_Bitcoin_DecodeBlock_Core(benchmark::State& state) { run(state, fixture().core); }
void BM_Bitcoin_DecodeBlock_Bcoin(benchmark::State& state) { run(state, fixture().bcoin); }

// The floor: Boost.JSON's SAX parser over the same bytes with a handler that
// does nothing.
struct NullHandler {
    using ec = boost::system::error_code;
    using sv = boost::json::string_view;
    static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);
    bool on_document_begin(ec&) { return true; }
    bool on_document_end(ec&) { return true; }
    bool on_object_begin(ec&) { return true; }
    bool on_object_end(std::size_t, ec&) { return true; }
    bool on_array_begin(ec&) { return true; }
    bool on_array_end(std::size_t, ec&) { return true; }
    bool on_key_part(sv, std::size_t, ec&) { return true; }
    bool on_key(sv, std::size_t, ec&) { return true; }
    bool on_string_part(sv, std::size_t, ec&) { return true; }
    bool on_string(sv, std::size_t, ec&) { return true; }
    bool on_number_part(sv, ec&) { return true; }
    bool on_int64(std::int64_t, sv, ec&) { return true; }
    bool on_uint64(std::uint64_t, sv, ec&) { return true; }
    bool on_double(double, sv, ec&) { return true; }
    bool on_bool(bool, ec&) { return true; }
    bool on_null(ec&) { return true; }
    bool on_comment_part(sv, ec&) { return true; }
    bool on_comment(sv, ec&) { return true; }
};

void BM_Bitcoin_SaxOnly_Core(benchmark::State& state) {
    const std::string& body = fixture().core;
    for (auto _ : state) {
        boost::json::basic_parser<NullHandler> p(boost::json::parse_options{});
        boost::system::error_code ec;
        p.write_some(false, body.data(), body.size(), ec);
        if (ec) {
            state.SkipWithError("parse failed");
            return;
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}

// A DOM parse of the same bytes (what JsonRpcClient::call would do).
void BM_Bitcoin_DomParse_Core(benchmark::State& state) {
    const std::string& body = fixture().core;
    for (auto _ : state) {
        auto v = json::parse_bounded(body, 256u << 20);
        benchmark::DoNotOptimize(v);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}

}  // namespace

BENCHMARK(BM_Bitcoin_DecodeBlock_Core)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Bitcoin_DecodeBlock_Bcoin)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Bitcoin_SaxOnly_Core)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Bitcoin_DomParse_Core)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
