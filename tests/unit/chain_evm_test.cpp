// EVM decoding on real captured payloads (tests/fixtures/evm) and garbage.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <fstream>
#include <sstream>

#include "chain/evm/decode.hpp"
#include "chain/registry.hpp"
#include "codec/hex.hpp"
#include "net/http_client.hpp"

using namespace depositd;
using namespace depositd::chain;
using namespace depositd::chain::evm;

namespace {

std::string read_fixture(const std::string& name) {
    std::ifstream in(std::string(DEPOSITD_FIXTURES) + "/evm/" + name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

json::value fixture_json(const std::string& name) {
    auto v = json::parse_bounded(read_fixture(name));
    EXPECT_TRUE(v.ok());
    return v.ok() ? std::move(v).value() : json::value{};
}

std::string key_of(std::string_view hex) {
    auto b = codec::from_hex(hex);
    EXPECT_TRUE(b.ok());
    return std::string(b->begin(), b->end());
}

std::vector<TokenSpec> tokens(std::vector<config::TokenConfig> cfg) {
    auto t = make_token_specs(cfg);
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().describe());
    return t.ok() ? std::move(t).value() : std::vector<TokenSpec>{};
}

const char* kPolygon = "polygon_eth_getLogs_block_0x295827a.json";
const char* kPolygonHash = "0x5e281768602b431ac2618b1156e41c759b8c974a4268212c67cb337c1f91e194";
const char* kUsdtPolygon = "0xc2132d05d31c914a87c6611c10748aeb04b58e8f";
const char* kUsdtRecipient = "77ebd371068e47c5e8cb931076c069fa0968ef02";
const char* kBsc = "bsc_eth_getLogs_busd_block_0x1b13c84.json";

// Both front-ends must agree on every input.
struct Decoded {
    Result<LogScanStats> stats = make_error(Errc::internal, "unset");
    std::vector<MatchedTransfer> out;
};
Decoded via_text(const std::string& body, const LogMatchContext& ctx) {
    Decoded d;
    d.stats = decode_logs(std::string_view(body), ctx, d.out);
    return d;
}
Decoded via_dom(const std::string& body, const LogMatchContext& ctx) {
    Decoded d;
    auto v = json::parse_bounded(body);
    if (!v) {
        d.stats = v.error();
        return d;
    }
    const json::value* result = v->is_object() ? v->get_object().if_contains("result") : &*v;
    if (result == nullptr) {
        d.stats = make_error(Errc::malformed, "no result");
        return d;
    }
    d.stats = decode_logs(*result, ctx, d.out);
    return d;
}

}  // namespace

TEST(EvmDecode, PolygonUsdtTransferFoundWhenWatched) {
    WatchSet w;
    w.insert(key_of(kUsdtRecipient), 42);
    auto toks = tokens({{"USDT", kUsdtPolygon, 6}});
    LogMatchContext ctx{toks, &w, {}};
    const std::string body = read_fixture(kPolygon);
    for (auto* fn : {&via_text, &via_dom}) {
        Decoded d = fn(body, ctx);
        ASSERT_TRUE(d.stats.ok()) << d.stats.error().describe();
        EXPECT_EQ(d.stats->logs, 283u);
        ASSERT_EQ(d.out.size(), 1u);
        const MatchedTransfer& m = d.out[0];
        EXPECT_EQ(m.height, 0x295827au);
        EXPECT_EQ(m.block_hash, kPolygonHash);
        const Transfer& t = m.transfer;
        EXPECT_EQ(t.tx, "0x93dec66d79477746a4a43ddbda545d05468ba3a20d35b015dbee57338b4fde5e");
        EXPECT_EQ(t.index, 0x9bu);
        EXPECT_EQ(t.to_key, key_of(kUsdtRecipient));
        EXPECT_EQ(t.to, "0x77ebD371068e47c5E8CB931076c069Fa0968eF02");
        EXPECT_EQ(t.from, "0x29e38769f23701A2e4A8Ef0492e19dA4604Be62c");
        EXPECT_EQ(t.contract, std::optional<std::string>("0xc2132D05D31c914a87C6611C10748AEb04B58e8F"));
        EXPECT_EQ(t.currency, "USDT");
        EXPECT_EQ(t.decimals, 6u);
        EXPECT_EQ(t.amount, U256(21712999));
        EXPECT_EQ(Amount(t.amount, t.decimals).to_string(), "21.712999");
    }
}

TEST(EvmDecode, PolygonNothingForUnwatchedOrUnconfigured) {
    const std::string body = read_fixture(kPolygon);
    WatchSet unwatched;
    unwatched.insert(key_of("1111111111111111111111111111111111111111"), 1);
    auto usdt = tokens({{"USDT", kUsdtPolygon, 6}});
    for (auto* fn : {&via_text, &via_dom}) {
        Decoded d = fn(body, LogMatchContext{usdt, &unwatched, {}});
        ASSERT_TRUE(d.stats.ok());
        EXPECT_TRUE(d.out.empty());
        EXPECT_GE(d.stats->token_transfers, 1u);
        // Watched recipient, token not configured.
        WatchSet w;
        w.insert(key_of(kUsdtRecipient), 1);
        Decoded d2 = fn(body, LogMatchContext{{}, &w, {}});
        ASSERT_TRUE(d2.stats.ok());
        EXPECT_TRUE(d2.out.empty());
    }
}

TEST(EvmDecode, PolygonNativeLogTransferIgnored) {
    // The 0x...1010 LogTransfer (4 topics: token, from, to) and LogFeeTransfer
    // logs are not ERC20 Transfers, even with 0x1010 configured and both
    // parties watched.
    const std::string body = read_fixture(kPolygon);
    WatchSet w;
    w.insert(key_of("5dafe561bc4b548811be11cb665861328216df22"), 1);
    w.insert(key_of("caf67d4b10d89b4488a58a6b1c12da8d3841a807"), 2);
    w.insert(key_of("0000000000000000000000000000000000001010"), 3);
    auto toks = tokens({{"POL", "0x0000000000000000000000000000000000001010", 18}});
    for (auto* fn : {&via_text, &via_dom}) {
        Decoded d = fn(body, LogMatchContext{toks, &w, {}});
        ASSERT_TRUE(d.stats.ok());
        EXPECT_TRUE(d.out.empty());
        EXPECT_EQ(d.stats->token_transfers, 0u);
    }
}

TEST(EvmDecode, BlockHashPinning) {
    const std::string body = read_fixture(kPolygon);
    WatchSet w;
    w.insert(key_of(kUsdtRecipient), 1);
    auto toks = tokens({{"USDT", kUsdtPolygon, 6}});
    std::vector<BlockRef> blocks{{0x295827a, kPolygonHash, "", 0}};
    for (auto* fn : {&via_text, &via_dom}) {
        Decoded ok = fn(body, LogMatchContext{toks, &w, blocks});
        ASSERT_TRUE(ok.stats.ok());
        EXPECT_EQ(ok.out.size(), 1u);
        // Upper-case hash from the node still equals.
        std::vector<BlockRef> upper{{0x295827a, "0x5E281768602B431AC2618B1156E41C759B8C974A4268212C67CB337C1F91E194", "", 0}};
        EXPECT_TRUE(fn(body, LogMatchContext{toks, &w, upper}).stats.ok());
        std::vector<BlockRef> other{{0x295827a, "0x" + std::string(64, 'a'), "", 0}};
        Decoded bad = fn(body, LogMatchContext{toks, &w, other});
        ASSERT_FALSE(bad.stats.ok());
        EXPECT_EQ(bad.stats.error().code, Errc::conflict);
        std::vector<BlockRef> elsewhere{{0x1000, kPolygonHash, "", 0}};
        Decoded range = fn(body, LogMatchContext{toks, &w, elsewhere});
        ASSERT_FALSE(range.stats.ok());
        EXPECT_EQ(range.stats.error().code, Errc::malformed);
    }
}

TEST(EvmDecode, BscBusdTransfersAndApprovalsIgnored) {
    const std::string body = read_fixture(kBsc);
    auto busd = tokens({{"BUSD", "0xe9e7cea3dedca5984780bafc599bd69add087d56", 18}});
    WatchSet w;
    w.insert(key_of("8e744ec2795c8b836689d1b4ebe1489204357dac"), 7);
    for (auto* fn : {&via_text, &via_dom}) {
        Decoded d = fn(body, LogMatchContext{busd, &w, {}});
        ASSERT_TRUE(d.stats.ok()) << d.stats.error().describe();
        EXPECT_EQ(d.stats->logs, 11u);
        EXPECT_EQ(d.stats->token_transfers, 9u);
        ASSERT_EQ(d.out.size(), 4u);
        EXPECT_EQ(d.out[0].transfer.index, 5u);
        EXPECT_EQ(d.out[0].transfer.tx, "0x638a31c10aaec9d09dfdab13e1aec121b2ec4fad2fbfcc37ee0fa24d227e8fee");
        EXPECT_EQ(Amount(d.out[0].transfer.amount, 18).to_string(), "298.288547486664359936");
        EXPECT_EQ(d.out[0].transfer.contract, std::optional<std::string>("0xe9e7CEA3DedcA5984780Bafc599bD69ADd087D56"));
        EXPECT_EQ(d.out[1].transfer.index, 9u);
        EXPECT_EQ(d.out[2].transfer.index, 0x1fu);
        EXPECT_EQ(d.out[3].transfer.index, 0x6du);
    }
    // Approval owners/spenders watched: no Approval log is ever a transfer.
    auto v = fixture_json(kBsc);
    WatchSet approvals;
    std::vector<std::uint64_t> approval_indexes;
    for (const auto& l : v.at("result").as_array()) {
        const auto& topics = l.at("topics").as_array();
        if (topics[0].as_string().starts_with("0x8c5be1e5")) {
            approvals.insert(key_of(std::string_view(topics[1].as_string()).substr(26)), 1);
            approvals.insert(key_of(std::string_view(topics[2].as_string()).substr(26)), 1);
            approval_indexes.push_back(*parse_quantity_json(l.at("logIndex")));
        }
    }
    ASSERT_EQ(approval_indexes.size(), 2u);
    for (auto* fn : {&via_text, &via_dom}) {
        Decoded d = fn(body, LogMatchContext{busd, &approvals, {}});
        ASSERT_TRUE(d.stats.ok());
        for (const auto& m : d.out)
            for (auto ai : approval_indexes) EXPECT_NE(m.transfer.index, ai);
    }
}

TEST(EvmDecode, HiveContractLogsAcrossBlocks) {
    auto v = fixture_json("hive_eth_getLogs_contract-addr.json");
    const std::string body = json::serialize(v.at("response"));
    WatchSet w;
    w.insert(key_of("7dcd17433742f4c0ca53122ab541d0ba67fc27df"), 1);
    for (auto* fn : {&via_text, &via_dom}) {
        Decoded d = fn(body, LogMatchContext{{}, &w, {}});
        ASSERT_TRUE(d.stats.ok()) << d.stats.error().describe();
        EXPECT_EQ(d.stats->logs, v.at("response").at("result").as_array().size());
        EXPECT_TRUE(d.out.empty());
    }
}

TEST(EvmDecode, HiveErrorResponses) {
    for (const char* name : {"hive_eth_getLogs_error_blockhash_and_range.json", "hive_eth_getLogs_error_future_range.json",
                             "hive_eth_getLogs_error_reversed_range.json"}) {
        auto v = fixture_json(name);
        const std::string body = json::serialize(v.at("response"));
        std::vector<MatchedTransfer> out;
        auto st = decode_logs(std::string_view(body), LogMatchContext{}, out);
        ASSERT_FALSE(st.ok()) << name;
        EXPECT_EQ(st.error().code, Errc::rpc_error);
        EXPECT_EQ(st.error().status, -32602);
        EXPECT_EQ(st.error().message, std::string(v.at("response").at("error").at("message").as_string()));
    }
}

TEST(EvmDecode, HiveBlockNumber) {
    auto v = fixture_json("hive_eth_blockNumber.json");
    auto h = parse_quantity_json(v.at("response").at("result"));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(*h, 0x36u);
    auto g = fixture_json("ethereum_eth_blockNumber_getblock.json");
    auto h2 = parse_quantity_json(g.at("result"));
    ASSERT_TRUE(h2.ok());
    EXPECT_EQ(*h2, 0x109238eu);
}

TEST(EvmDecode, HiveFinalizedBlockNativeTransfer) {
    auto v = fixture_json("hive_eth_getBlockByNumber_finalized_fulltx.json");
    const json::value& block = v.at("response").at("result");
    NativeSpec eth{"ETH", 18};
    WatchSet w;
    w.insert(key_of("7dcd17433742f4c0ca53122ab541d0ba67fc27df"), 5);
    auto d = decode_block(block, w, eth);
    ASSERT_TRUE(d.ok()) << d.error().describe();
    ASSERT_TRUE(d->has_value());
    const DecodedBlock& b = **d;
    EXPECT_EQ(b.ref.height, 0x36u);
    EXPECT_EQ(b.ref.hash, "0xd226371d0b1551adb03fb52b71f08e3e11247fe9b1af994768af8cdaa8e7dcd7");
    EXPECT_EQ(b.ref.parent, "0x1c40cb1eae4d15a808b06f18145f4585fd6d45244b332853bd695e62e6990454");
    EXPECT_EQ(b.ref.time_ms, 0x21c * 1000);
    ASSERT_EQ(b.native.size(), 1u);
    const Transfer& t = b.native[0];
    EXPECT_EQ(t.tx, "0x42bbb5422de0069316bbe68f4cb8fc31ac577b1dd0fee07ee3584fe9822fd0cb");
    EXPECT_EQ(t.index, kNativeIndex);
    EXPECT_EQ(t.to, "0x7Dcd17433742F4c0Ca53122aB541D0Ba67fC27Df");
    EXPECT_EQ(t.from, "0x7435ed30A8b4AEb0877CEf0c6E8cFFe834eb865f");
    EXPECT_FALSE(t.contract.has_value());
    EXPECT_EQ(t.currency, "ETH");
    EXPECT_EQ(t.decimals, 18u);
    EXPECT_EQ(t.amount, U256(2));

    // Unwatched: header only.
    WatchSet none;
    auto d2 = decode_block(block, none, eth);
    ASSERT_TRUE(d2.ok());
    EXPECT_TRUE((*d2)->native.empty());
    // Header decode agrees.
    auto ref = decode_block_ref(block);
    ASSERT_TRUE(ref.ok());
    EXPECT_EQ((*ref)->hash, b.ref.hash);
    // Zero-value tx to a watched address is not a transfer; creation (to null) skipped.
    json::value zero = block;
    for (auto& tx : zero.at("transactions").as_array()) tx.as_object()["value"] = "0x0";
    auto d3 = decode_block(zero, w, eth);
    ASSERT_TRUE(d3.ok());
    EXPECT_TRUE((*d3)->native.empty());
}

TEST(EvmDecode, HiveBlockNotFound) {
    auto v = fixture_json("hive_eth_getBlockByNumber_notfound.json");
    const json::value& r = v.at("response").at("result");
    auto ref = decode_block_ref(r);
    ASSERT_TRUE(ref.ok());
    EXPECT_FALSE(ref->has_value());
    WatchSet w;
    auto b = decode_block(r, w, NativeSpec{"ETH", 18});
    ASSERT_TRUE(b.ok());
    EXPECT_FALSE(b->has_value());
}

TEST(EvmDecode, Receipts) {
    const std::string bh = "0x" + std::string(64, 'b');
    auto rec = [&](json::value status, std::string block) {
        json::object o;
        o["blockHash"] = block;
        if (!status.is_null()) o["status"] = status;
        return json::value(std::move(o));
    };
    EXPECT_TRUE(*decode_receipt_success(rec("0x1", bh), bh));
    EXPECT_FALSE(*decode_receipt_success(rec("0x0", bh), bh));
    auto moved = decode_receipt_success(rec("0x1", "0x" + std::string(64, 'c')), bh);
    ASSERT_FALSE(moved.ok());
    EXPECT_EQ(moved.error().code, Errc::conflict);
    auto null = decode_receipt_success(json::value(nullptr), bh);
    ASSERT_FALSE(null.ok());
    EXPECT_EQ(null.error().code, Errc::not_found);
    EXPECT_FALSE(decode_receipt_success(rec("0x2", bh), bh).ok());
    EXPECT_FALSE(decode_receipt_success(rec(json::value(1), bh), bh).ok());
    EXPECT_FALSE(decode_receipt_success(rec(nullptr, bh), bh).ok());  // no status, no root
    json::value pre = rec(nullptr, bh);
    pre.as_object()["root"] = "0x" + std::string(64, '1');
    EXPECT_TRUE(*decode_receipt_success(pre, bh));
    EXPECT_FALSE(decode_receipt_success(json::value("x"), bh).ok());
}

// eth_getBlockReceipts(blockHash), as anvil 1.7 and geth 1.13+ answer it:
// the receipts of every transaction of the block.
TEST(EvmDecode, BlockReceipts) {
    const std::string bh = "0x072b0bb31abec4b89d276052f3dbc4b5475ebd332105b354d2629d51176239b1";
    const std::string ok = "0xbed1ea61e819cd65b29d6fbd634668118c87dae9a66c3b02ad79b0bea760a3d8";
    const std::string bad = "0x" + std::string(64, 'f');
    const std::string absent = "0x" + std::string(64, 'e');
    auto answer = json::parse(R"([
      {"type":"0x2","status":"0x1","cumulativeGasUsed":"0x5208","logs":[],"transactionHash":")" + ok +
                              R"(","transactionIndex":"0x0","blockHash":")" + bh + R"(","blockNumber":"0x1",
       "gasUsed":"0x5208","from":"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266","to":"0x1111111111111111111111111111111111111111","contractAddress":null},
      {"type":"0x2","status":"0x0","cumulativeGasUsed":"0xa410","logs":[],"transactionHash":")" + bad +
                              R"(","transactionIndex":"0x1","blockHash":")" + bh + R"(","blockNumber":"0x1","gasUsed":"0x5208"}
    ])");
    // Upper-case hex in the query is the same hash.
    std::string ok_upper = ok;
    for (std::size_t i = 2; i < ok_upper.size(); ++i) ok_upper[i] = static_cast<char>(std::toupper(ok_upper[i]));
    const std::vector<std::string> txs{ok_upper, bad, absent};
    auto r = decode_block_receipts(answer, txs, bh);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[0], std::optional<bool>(true));
    EXPECT_EQ((*r)[1], std::optional<bool>(false));  // reverted: not a deposit
    EXPECT_FALSE((*r)[2].has_value());               // not in the list: unknown, not "failed"
    // null: the node does not know the block (a lagging backend).
    auto none = decode_block_receipts(json::value(nullptr), txs, bh);
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().code, Errc::not_found);
    // Receipts of another block: a reorg between the fetches.
    auto moved = decode_block_receipts(answer, txs, "0x" + std::string(64, 'c'));
    ASSERT_FALSE(moved.ok());
    EXPECT_EQ(moved.error().code, Errc::conflict);
    EXPECT_FALSE(decode_block_receipts(json::value("x"), txs, bh).ok());
    EXPECT_FALSE(decode_block_receipts(json::parse(R"([{"status":"0x1"}])"), txs, bh).ok());  // no transactionHash
}

TEST(EvmDecode, Quantities) {
    EXPECT_EQ(*parse_quantity("0x0"), 0u);
    EXPECT_EQ(*parse_quantity("0x1b13c84"), 0x1b13c84u);
    EXPECT_EQ(*parse_quantity("0xffffffffffffffff"), 0xffffffffffffffffu);
    EXPECT_EQ(*parse_quantity("0x00000000000000000001"), 1u);
    for (const char* bad : {"", "0x", "1b", "0x1g", "-0x1", "0x10000000000000000", "0x 1", "0x1ffffffffffffffffffff"})
        EXPECT_FALSE(parse_quantity(bad).ok()) << bad;
    EXPECT_FALSE(parse_quantity_json(json::value(12)).ok());
    for (std::uint64_t v : {0ull, 1ull, 0x36ull, 0x295827aull, ~0ull}) EXPECT_EQ(*parse_quantity(quantity(v)), v);
    EXPECT_EQ(quantity(0), "0x0");
    EXPECT_EQ(quantity(0x295827a), "0x295827a");
}

TEST(EvmDecode, Decimals) {
    EXPECT_EQ(*decode_decimals_result(json::value("0x" + std::string(62, '0') + "06")), 6u);
    EXPECT_EQ(*decode_decimals_result(json::value("0x" + std::string(62, '0') + "12")), 18u);
    EXPECT_FALSE(decode_decimals_result(json::value("0x")).ok());
    EXPECT_FALSE(decode_decimals_result(json::value("0x" + std::string(60, '0') + "0100")).ok());
    EXPECT_FALSE(decode_decimals_result(json::value("0x06")).ok());
    EXPECT_FALSE(decode_decimals_result(json::value(6)).ok());
    EXPECT_FALSE(decode_decimals_result(json::value("0x" + std::string(62, '0') + "zz")).ok());
}

TEST(EvmDecode, TokenSpecs) {
    auto ok = make_token_specs({{"USDT", "0xC2132D05D31C914A87C6611C10748AEB04B58E8F", 6}});
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ((*ok)[0].contract_text, "0xc2132D05D31c914a87C6611C10748AEb04B58e8F");
    EXPECT_EQ((*ok)[0].contract_lower, kUsdtPolygon);
    auto badsum = make_token_specs({{"USDT", "0xc2132D05D31c914a87C6611C10748AEb04B58e8f", 6}});
    ASSERT_FALSE(badsum.ok());
    EXPECT_NE(badsum.error().message.find("USDT"), std::string::npos);
    EXPECT_FALSE(make_token_specs({{"X", "0x1234", 6}}).ok());
    EXPECT_FALSE(make_token_specs({{"A", kUsdtPolygon, 6}, {"B", "0xC2132D05D31C914A87C6611C10748AEB04B58E8F", 6}}).ok());
}

// --- garbage -----------------------------------------------------------------

TEST(EvmDecode, TruncatedJsonNeverCrashes) {
    const std::string body = read_fixture(kBsc);
    WatchSet w;
    w.insert(key_of("8e744ec2795c8b836689d1b4ebe1489204357dac"), 7);
    auto busd = tokens({{"BUSD", "0xe9e7cea3dedca5984780bafc599bd69add087d56", 18}});
    LogMatchContext ctx{busd, &w, {}};
    for (std::size_t n = 0; n + 1 < body.size(); n += 7) {
        std::vector<MatchedTransfer> out;
        auto st = decode_logs(std::string_view(body.data(), n), ctx, out);
        EXPECT_FALSE(st.ok()) << n;
    }
    const std::string poly = read_fixture(kPolygon);
    for (std::size_t n = 0; n + 1 < poly.size(); n += 997) {
        std::vector<MatchedTransfer> out;
        EXPECT_FALSE(decode_logs(std::string_view(poly.data(), n), ctx, out).ok()) << n;
    }
    std::vector<MatchedTransfer> out;
    EXPECT_FALSE(decode_logs(std::string_view(body + "]"), ctx, out).ok());  // trailing data
    EXPECT_TRUE(decode_logs(std::string_view(body + "\n  "), ctx, out).ok());
}

TEST(EvmDecode, WrongShapesAreErrors) {
    auto base = fixture_json(kBsc);
    WatchSet w;
    w.insert(key_of("8e744ec2795c8b836689d1b4ebe1489204357dac"), 7);
    auto busd = tokens({{"BUSD", "0xe9e7cea3dedca5984780bafc599bd69add087d56", 18}});
    LogMatchContext ctx{busd, &w, {}};
    using Mut = std::function<void(json::object&)>;
    auto mutated = [&](const Mut& m) {
        json::value v = base;
        m(v.at("result").as_array()[0].as_object());  // the first log is a watched BUSD transfer
        return json::serialize(v);
    };
    const std::vector<std::pair<const char*, Mut>> cases = {
        {"logIndex number", [](json::object& o) { o["logIndex"] = 5; }},
        {"logIndex null", [](json::object& o) { o["logIndex"] = nullptr; }},
        {"blockNumber huge", [](json::object& o) { o["blockNumber"] = "0x1ffffffffffffffffff"; }},
        {"blockNumber not hex", [](json::object& o) { o["blockNumber"] = "27344004"; }},
        {"no blockHash", [](json::object& o) { o.erase("blockHash"); }},
        {"short blockHash", [](json::object& o) { o["blockHash"] = "0x1234"; }},
        {"no transactionHash", [](json::object& o) { o.erase("transactionHash"); }},
        {"no topics", [](json::object& o) { o.erase("topics"); }},
        {"topics string", [](json::object& o) { o["topics"] = "0xddf252ad"; }},
        {"topic number", [](json::object& o) { o["topics"].as_array()[1] = 7; }},
        {"topic short", [](json::object& o) { o["topics"].as_array()[1] = "0x12"; }},
        {"address short", [](json::object& o) { o["address"] = "0xe9e7cea3"; }},
        {"address not hex", [](json::object& o) { o["address"] = "0xz9e7cea3dedca5984780bafc599bd69add087d56"; }},
        {"address object", [](json::object& o) { o["address"] = json::object{{"a", 1}}; }},
        {"no data", [](json::object& o) { o.erase("data"); }},
        {"removed string", [](json::object& o) { o["removed"] = "false"; }},
        {"tx hash not hex", [](json::object& o) { o["transactionHash"] = "0x" + std::string(64, 'q'); }},
    };
    for (const auto& [name, m] : cases) {
        const std::string body = mutated(m);
        for (auto* fn : {&via_text, &via_dom}) {
            Decoded d = fn(body, ctx);
            EXPECT_FALSE(d.stats.ok()) << name;
            if (!d.stats.ok()) {
                EXPECT_EQ(d.stats.error().code, Errc::malformed) << name;
            }
        }
    }
    // Shapes of the whole response.
    for (const char* body : {"", "null", "42", "\"x\"", "{}", "{\"result\":null}", "{\"result\":{}}", "{\"result\":[1]}",
                             "{\"result\":[[]]}", "[null]", "{\"result\":[{}]}", "{\"jsonrpc\":\"2.0\",\"id\":1}",
                             "{\"result\":[", "[{\"topics\":[[]]}]", "\xff\xfe"}) {
        std::vector<MatchedTransfer> out;
        EXPECT_FALSE(decode_logs(std::string_view(body), ctx, out).ok()) << body;
    }
    std::vector<MatchedTransfer> out;
    EXPECT_TRUE(decode_logs(std::string_view("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[]}"), ctx, out).ok());
    EXPECT_TRUE(decode_logs(std::string_view("[]"), ctx, out).ok());
    auto err = decode_logs(std::string_view("{\"error\":{\"code\":-32005,\"message\":\"query returned more than 10000 results\","
                                            "\"data\":{\"from\":\"0x1\",\"to\":\"0x2\"}},\"id\":1}"),
                           ctx, out);
    ASSERT_FALSE(err.ok());
    EXPECT_EQ(err.error().code, Errc::rpc_error);
    EXPECT_EQ(err.error().status, -32005);
    EXPECT_DOUBLE_EQ(0, static_cast<double>(out.size()));
    for (const json::value& v : {json::value(nullptr), json::value(1), json::value(json::object{})}) {
        EXPECT_FALSE(decode_logs(v, ctx, out).ok());
    }
}

TEST(EvmDecode, NonStandardTransferLogsAreSkippedNotCredited) {
    auto base = fixture_json(kBsc);
    WatchSet w;
    w.insert(key_of("8e744ec2795c8b836689d1b4ebe1489204357dac"), 7);
    auto busd = tokens({{"BUSD", "0xe9e7cea3dedca5984780bafc599bd69add087d56", 18}});
    LogMatchContext ctx{busd, &w, {}};
    auto with = [&](auto m) {
        json::value v = base;
        m(v.at("result").as_array()[0].as_object());
        std::vector<MatchedTransfer> out;
        auto st = decode_logs(std::string_view(json::serialize(v)), ctx, out);
        EXPECT_TRUE(st.ok());
        return out;
    };
    // Two data words, a non-address from, a removed log, ERC721 (4 topics): the first log is not credited.
    auto first_not_found = [](const std::vector<MatchedTransfer>& out) {
        return out.size() == 3 && out[0].transfer.index == 9;
    };
    EXPECT_TRUE(first_not_found(with([](json::object& o) { o["data"] = "0x" + std::string(128, '1'); })));
    EXPECT_TRUE(first_not_found(with([](json::object& o) { o["topics"].as_array()[1] = "0x" + std::string(64, 'f'); })));
    EXPECT_TRUE(first_not_found(with([](json::object& o) { o["removed"] = true; })));
    EXPECT_TRUE(first_not_found(with([](json::object& o) { o["topics"].as_array().emplace_back("0x" + std::string(64, '0')); })));
    // Upper-case hex from a node is accepted.
    auto upper = with([](json::object& o) {
        std::string t(o["topics"].as_array()[0].as_string());
        for (auto& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        t[1] = 'x';
        o["topics"].as_array()[0] = t;
    });
    EXPECT_EQ(upper.size(), 4u);
}

TEST(EvmDecode, BlockGarbage) {
    auto v = fixture_json("hive_eth_getBlockByNumber_finalized_fulltx.json");
    const json::value block = v.at("response").at("result");
    WatchSet w;
    w.insert(key_of("7dcd17433742f4c0ca53122ab541d0ba67fc27df"), 5);
    NativeSpec eth{"ETH", 18};
    using Mut = std::function<void(json::object&)>;
    const std::vector<std::pair<const char*, Mut>> cases = {
        {"no number", [](json::object& o) { o.erase("number"); }},
        {"number int", [](json::object& o) { o["number"] = 54; }},
        {"huge number", [](json::object& o) { o["number"] = "0x" + std::string(40, 'f'); }},
        {"short hash", [](json::object& o) { o["hash"] = "0xd226"; }},
        {"parent null", [](json::object& o) { o["parentHash"] = nullptr; }},
        {"huge timestamp", [](json::object& o) { o["timestamp"] = "0xffffffffffffffff"; }},
        {"transactions missing", [](json::object& o) { o.erase("transactions"); }},
        {"transactions object", [](json::object& o) { o["transactions"] = json::object{}; }},
        {"tx number", [](json::object& o) { o["transactions"].as_array()[3] = 3; }},
        {"value garbage", [](json::object& o) { o["transactions"].as_array()[3].as_object()["value"] = "0xzz"; }},
        {"value huge", [](json::object& o) { o["transactions"].as_array()[3].as_object()["value"] = "0x1" + std::string(64, '0'); }},
        {"value decimal", [](json::object& o) { o["transactions"].as_array()[3].as_object()["value"] = "2"; }},
        {"to short", [](json::object& o) { o["transactions"].as_array()[3].as_object()["to"] = "0x7dcd"; }},
        {"to number", [](json::object& o) { o["transactions"].as_array()[3].as_object()["to"] = 5; }},
        {"from missing", [](json::object& o) { o["transactions"].as_array()[3].as_object().erase("from"); }},
        {"hash bad", [](json::object& o) { o["transactions"].as_array()[3].as_object()["hash"] = "0x42"; }},
    };
    for (const auto& [name, m] : cases) {
        json::value b = block;
        m(b.as_object());
        auto d = decode_block(b, w, eth);
        EXPECT_FALSE(d.ok()) << name;
    }
    EXPECT_FALSE(decode_block(json::value(1), w, eth).ok());
    EXPECT_FALSE(decode_block_ref(json::value("0x1")).ok());
    EXPECT_FALSE(decode_block_ref(json::value(json::array{})).ok());
}

TEST(EvmRegistry, EveryKindHasAnAdapterAndBadSettingsAreErrors) {
    boost::asio::io_context io;
    net::HttpClient http(io.get_executor());
    config::ChainConfig cfg;
    cfg.id = "solana";
    cfg.kind = Protocol::solana;
    cfg.rpc = {"http://127.0.0.1:1"};
    cfg.native = {"SOL", "", 9};
    auto a = make_adapter(cfg, http);
    ASSERT_TRUE(a.ok()) << a.error().describe();
    cfg.native = {"SOL", "", 18};  // lamports have 9 decimals
    auto wrong = make_adapter(cfg, http);
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.error().code, Errc::invalid_input);

    cfg.id = "ethereum";
    cfg.kind = Protocol::evm;
    cfg.native = {"ETH", "", 18};
    cfg.tokens = {{"USDT", "0xdac17f958d2ee523a2206206994597c13d831ec7", 6}};
    auto e = make_adapter(cfg, http);
    ASSERT_TRUE(e.ok()) << e.error().describe();
    cfg.tokens = {{"USDT", "0xdAC17F958D2ee523a2206206994597C13D831ec8", 6}};  // bad checksum
    auto bad = make_adapter(cfg, http);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("USDT"), std::string::npos);
}
