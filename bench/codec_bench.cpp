// Codec hot paths: Keccak-256, base58check, address parsing per protocol,
// ERC20 Transfer log decoding (on a real BSC log).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "codec/abi.hpp"
#include "codec/address.hpp"
#include "codec/base58.hpp"
#include "codec/bip32.hpp"
#include "codec/hex.hpp"
#include "codec/keccak.hpp"

using namespace depositd;
using namespace depositd::codec;

static void BM_Keccak256(benchmark::State& state) {
    std::vector<std::uint8_t> data(static_cast<std::size_t>(state.range(0)), 0xa5);
    for (auto _ : state) benchmark::DoNotOptimize(keccak256(data));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Keccak256)->Arg(32)->Arg(1024);

static void BM_Base58CheckEncode(benchmark::State& state) {
    Bytes payload = from_hex("41a614f803b6fd780986a42c78ec9c7f77e6ded13c").value();
    for (auto _ : state) benchmark::DoNotOptimize(base58check_encode(payload));
}
BENCHMARK(BM_Base58CheckEncode);

static void BM_Base58CheckDecode(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(base58check_decode("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"));
}
BENCHMARK(BM_Base58CheckDecode);

static void parse_bench(benchmark::State& state, Protocol p, const char* text) {
    for (auto _ : state) {
        auto r = parse_address(p, text);
        if (!r.ok()) state.SkipWithError("parse failed");
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK_CAPTURE(parse_bench, evm_eip55, Protocol::evm, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
BENCHMARK_CAPTURE(parse_bench, tron_base58, Protocol::tron, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
BENCHMARK_CAPTURE(parse_bench, btc_p2pkh, Protocol::bitcoin, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa");
BENCHMARK_CAPTURE(parse_bench, btc_p2wpkh, Protocol::bitcoin, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu");
BENCHMARK_CAPTURE(parse_bench, btc_p2tr, Protocol::bitcoin,
                  "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr");
BENCHMARK_CAPTURE(parse_bench, solana, Protocol::solana, "BLw3RweJmfbTapJRgnPRvd962YDjFYAnVGd1p5hmZ5tP");

// First log of tests/fixtures/evm/bsc_eth_getLogs_busd_block_0x1b13c84.json.
static const std::string_view kTopics[] = {
    "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
    "0x000000000000000000000000c39978a25a9c52c8cc12c0d90e03cd6ab0c8a620",
    "0x0000000000000000000000008e744ec2795c8b836689d1b4ebe1489204357dac"};
static constexpr std::string_view kData = "0x0000000000000000000000000000000000000000000000102b95cd89e5de0000";

static void BM_TransferDecode(benchmark::State& state) {
    for (auto _ : state) {
        auto r = decode_transfer_log(kTopics, kData);
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_TransferDecode);

// Decode + match the recipient against a watched 20-byte key (no allocation).
static void BM_TransferDecodeAndMatch(benchmark::State& state) {
    std::array<std::uint8_t, 20> watched{};
    (void)from_hex_exact("8e744ec2795c8b836689d1b4ebe1489204357dac", watched);
    std::int64_t hits = 0;
    for (auto _ : state) {
        TransferLog log;
        if (try_decode_transfer_log(kTopics, kData, log) && log.to == watched) ++hits;
        benchmark::DoNotOptimize(log);
    }
    benchmark::DoNotOptimize(hits);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_TransferDecodeAndMatch);

static void BM_TransferRejectApproval(benchmark::State& state) {
    const std::string_view topics[] = {"0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925", kTopics[1],
                                       kTopics[2]};
    for (auto _ : state) {
        TransferLog log;
        benchmark::DoNotOptimize(try_decode_transfer_log(topics, kData, log));
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_TransferRejectApproval);

static void BM_Bip32DeriveAddress(benchmark::State& state) {
    auto acct = parse_xpub(
        "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs");
    std::uint32_t i = 0;
    for (auto _ : state) benchmark::DoNotOptimize(derive_address(Protocol::bitcoin, *acct, i++ % 1000));
}
BENCHMARK(BM_Bip32DeriveAddress);

BENCHMARK_MAIN();
