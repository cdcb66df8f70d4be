// Proven-complete log scans: EvmAdapter::scan against a scripted node whose
// one block carries the logsBloom and the 36 logs of a real Arbitrum One
// receipt (tests/fixtures/evm/arbitrum_eth_getTransactionReceipt_0x21be7a93.json;
// a block holding one transaction has exactly that receipt's bloom). The node
// can answer eth_getLogs like a backend whose log index lags its blocks
// ([] until it has "indexed" the block), for range and blockHash queries.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "chain/evm/evm_adapter.hpp"
#include "codec/bloom.hpp"
#include "codec/hex.hpp"
#include "core/metrics.hpp"
#include "net/jsonrpc.hpp"
#include "net_test_server.hpp"

using namespace depositd;
using namespace depositd::chain;
using namespace depositd::chain::evm;
using nettest::Reply;
using nettest::Seen;
using nettest::Server;
namespace asio = boost::asio;

namespace {

const char* kWeth = "0x82af49447d8a07e3bd95bd0d56f35241523fbab1";       // emits Transfers in the receipt
const char* kRecipient = "0xc873fecbd354f5a56e00e710b90ef4201db2448d";  // receives WETH in it (logs 0x29, 0x30)
const char* kParent = "0x1111111111111111111111111111111111111111111111111111111111111111";

json::object load_receipt() {
    std::ifstream in(std::string(DEPOSITD_FIXTURES) + "/evm/arbitrum_eth_getTransactionReceipt_0x21be7a93.json");
    std::stringstream ss;
    ss << in.rdbuf();
    auto v = json::parse_bounded(ss.str());
    EXPECT_TRUE(v.ok());
    return v.ok() ? v->as_object().at("result").as_object() : json::object{};
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// The scripted node: one block (the receipt's), eth_getLogs with address and
// topic filtering like a real node; `lag_range` / `lag_hash` answers [] that
// many times first.
struct LaggingNode {
    json::object receipt = load_receipt();
    std::string hash = std::string(receipt.at("blockHash").as_string());
    std::string number = std::string(receipt.at("blockNumber").as_string());
    std::atomic<int> lag_range{0}, lag_hash{0};
    std::atomic<int> range_queries{0}, token_hash_queries{0}, all_hash_queries{0};
    Server server{[this](const Seen& s) { return reply(s); }};

    json::object block() const {
        json::object b;
        b["number"] = number;
        b["hash"] = hash;
        b["parentHash"] = kParent;
        b["timestamp"] = "0x645052ac";
        b["logsBloom"] = receipt.at("logsBloom");
        b["transactions"] = json::array{};
        return b;
    }

    static bool matches(const json::object& log, const json::object& filter) {
        if (const auto* a = filter.if_contains("address")) {
            bool any = false;
            for (const auto& x : a->as_array()) any |= lower(std::string(x.as_string())) == std::string(log.at("address").as_string());
            if (!any) return false;
        }
        if (const auto* t = filter.if_contains("topics")) {
            const auto& want = t->as_array();
            const auto& have = log.at("topics").as_array();
            for (std::size_t i = 0; i < want.size(); ++i) {
                if (want[i].is_null()) continue;
                if (i >= have.size()) return false;
                bool any = false;
                if (want[i].is_array()) {
                    for (const auto& x : want[i].as_array()) any |= x == have[i];
                } else {
                    any = want[i] == have[i];
                }
                if (!any) return false;
            }
        }
        return true;
    }

    json::value logs(const json::object& filter) {
        json::array out;
        const bool by_hash = filter.contains("blockHash");
        if (by_hash) {
            ++(filter.contains("address") ? token_hash_queries : all_hash_queries);
            if (filter.at("blockHash").as_string() != hash) return out;
            if (lag_hash > 0) {
                --lag_hash;
                return out;
            }
        } else {
            ++range_queries;
            if (lag_range > 0) {
                --lag_range;
                return out;
            }
        }
        for (const auto& l : receipt.at("logs").as_array())
            if (matches(l.as_object(), filter)) out.push_back(l);
        return out;
    }

    json::value answer(const json::object& req) {
        json::object o;
        o["jsonrpc"] = "2.0";
        o["id"] = req.at("id");
        const std::string m(req.at("method").as_string());
        const auto& p = req.at("params").as_array();
        if (m == "eth_getBlockByNumber") {
            o["result"] = p[0].as_string() == number ? json::value(block()) : json::value(nullptr);
        } else if (m == "eth_getLogs") {
            o["result"] = logs(p[0].as_object());
        } else if (m == "eth_blockNumber") {
            o["result"] = number;
        } else {
            o["error"] = json::object{{"code", -32601}, {"message", "method not found"}};
        }
        return o;
    }

    Reply reply(const Seen& s) {
        json::value v = json::parse(s.body);
        if (v.is_array()) {
            json::array out;
            for (auto& e : v.as_array()) out.push_back(answer(e.as_object()));
            return Reply{200, json::serialize(out)};
        }
        return Reply{200, json::serialize(answer(v.as_object()))};
    }
};

std::string key_of(std::string_view hex) {
    auto b = codec::from_hex(hex);
    return std::string(b->begin(), b->end());
}

struct Fixture {
    LaggingNode node;
    asio::io_context ioc;
    net::HttpClient http{ioc.get_executor()};
    std::unique_ptr<EvmAdapter> adapter;

    explicit Fixture(std::vector<config::TokenConfig> tokens) {
        config::ChainConfig c;
        c.id = "arb-proof";
        c.kind = Protocol::evm;
        c.rpc = {node.server.url()};
        c.native = {"ETH", "", 18};
        c.tokens = std::move(tokens);
        net::JsonRpcOptions o;
        o.endpoints = c.rpc;
        o.name = c.id;
        o.backoff_base = std::chrono::milliseconds(5);
        auto a = EvmAdapter::create(c, std::make_unique<net::JsonRpcClient>(http, o));
        EXPECT_TRUE(a.ok());
        adapter = std::move(*a);
    }
    std::uint64_t height() const { return *parse_quantity(node.number); }
    Result<ScanResult> scan(const WatchSet& w) { return nettest::run(ioc, adapter->scan(height(), height(), w)); }
};

std::vector<std::uint64_t> indexes(const ScanResult& r) {
    std::vector<std::uint64_t> out;
    for (const auto& b : r.blocks)
        for (const auto& t : b.transfers) out.push_back(t.index);
    return out;
}

double rechecks(const std::string& step) {
    const std::string text = metrics::Registry::global().render();
    const std::string key = "depositd_evm_log_rechecks_total{chain=\"arb-proof\",step=\"" + step + "\"} ";
    auto pos = text.find(key);
    return pos == std::string::npos ? 0 : std::stod(text.substr(pos + key.size()));
}

}  // namespace

TEST(EvmLogProof, AnsweredLogsNeedNoExtraRequest) {
    Fixture f({{"WETH", kWeth, 18}});
    WatchSet w;
    w.insert(key_of(kRecipient), 1);
    auto r = f.scan(w);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(indexes(*r), (std::vector<std::uint64_t>{0x29, 0x30}));
    EXPECT_EQ(f.node.range_queries, 1);
    EXPECT_EQ(f.node.token_hash_queries + f.node.all_hash_queries, 0);
}

TEST(EvmLogProof, LaggingRangeAnswerIsCaughtByTheBloomAndAskedAgainByHash) {
    Fixture f({{"WETH", kWeth, 18}});
    f.node.lag_range = 1;  // the range query answers [] (index behind)
    WatchSet w;
    w.insert(key_of(kRecipient), 1);
    const double before = rechecks("token_logs");
    auto r = f.scan(w);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    // Today's code returned the block with no transfer: both deposits lost.
    EXPECT_EQ(indexes(*r), (std::vector<std::uint64_t>{0x29, 0x30}));
    EXPECT_EQ(f.node.token_hash_queries, 1);
    EXPECT_EQ(f.node.all_hash_queries, 0);
    EXPECT_EQ(rechecks("token_logs") - before, 1);
}

TEST(EvmLogProof, BlockHashAnswersLaggingTooAreRetriedThenRefused) {
    Fixture f({{"WETH", kWeth, 18}});
    WatchSet w;
    w.insert(key_of(kRecipient), 1);
    // Lagging for 3 rounds of (token logs, all logs): found in round 4.
    f.node.lag_range = 1;
    f.node.lag_hash = 6;
    auto r = f.scan(w);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(indexes(*r), (std::vector<std::uint64_t>{0x29, 0x30}));
    EXPECT_EQ(f.node.token_hash_queries, 4);
    EXPECT_EQ(f.node.all_hash_queries, 3);

    // Lagging for longer than every round: the block is not returned (an
    // error for the first block), never returned without its transfers.
    f.node.lag_range = 1;
    f.node.lag_hash = 1000;
    const double unproven = rechecks("unproven");
    auto e = f.scan(w);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error().code, Errc::unavailable);
    EXPECT_NE(e.error().message.find("logsBloom"), std::string::npos) << e.error().message;
    EXPECT_EQ(rechecks("unproven") - unproven, 1);
    // Once the node has caught up, the same scan finds both.
    f.node.lag_hash = 0;
    f.node.lag_range = 1;
    auto ok = f.scan(w);
    ASSERT_TRUE(ok.ok()) << ok.error().describe();
    EXPECT_EQ(indexes(*ok).size(), 2u);
}

TEST(EvmLogProof, BloomFalsePositiveCostsTheBlockLogsAndNoDeposit) {
    // A "token" whose address is not in the block but whose three bloom bits
    // all are (other elements set them): found by search, as happens on busy
    // chains. The recipient's topic and the Transfer topic are really there.
    LaggingNode probe;
    auto bloom = codec::LogsBloom::from_hex(std::string(probe.receipt.at("logsBloom").as_string()));
    ASSERT_TRUE(bloom.ok());
    std::string ghost;
    for (std::uint32_t i = 1; i < 5'000'000 && ghost.empty(); ++i) {
        std::array<std::uint8_t, 20> a{};
        a[0] = 0x9e;
        for (int k = 0; k < 4; ++k) a[16 + k] = static_cast<std::uint8_t>(i >> (8 * (3 - k)));
        if (bloom->may_contain(a)) ghost = codec::to_hex0x(a);
    }
    ASSERT_FALSE(ghost.empty());
    Fixture f({{"GHOST", ghost, 18}});
    WatchSet w;
    w.insert(key_of(kRecipient), 1);
    auto r = f.scan(w);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_TRUE(indexes(*r).empty());
    ASSERT_EQ(r->blocks.size(), 1u);
    EXPECT_EQ(f.node.range_queries, 1);
    EXPECT_EQ(f.node.token_hash_queries, 1);  // the ghost's logs: none
    EXPECT_EQ(f.node.all_hash_queries, 1);    // every log: covers the bloom, proven
}

TEST(EvmLogProof, BloomThatRulesTheBlockOutCostsNothing) {
    Fixture f({{"WETH", kWeth, 18}});
    f.node.lag_range = 1;
    WatchSet w;
    w.insert(key_of("0x00000000000000000000000000000000000000aa"), 1);  // not in the block
    auto r = f.scan(w);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_TRUE(indexes(*r).empty());
    EXPECT_EQ(f.node.token_hash_queries + f.node.all_hash_queries, 0);
}

TEST(EvmLogProof, LargeWatchSetsCompareWithTheTokensLogs) {
    Fixture f({{"WETH", kWeth, 18}});
    WatchSet w;
    w.insert(key_of(kRecipient), 1);
    for (int i = 0; i < 600; ++i) {  // > kTopicFilterMax: no recipient filter
        std::string k(20, '\x42');
        k[0] = static_cast<char>(i & 0xff);
        k[1] = static_cast<char>(i >> 8);
        w.insert(k, 10 + i);
    }
    auto plain = f.scan(w);
    ASSERT_TRUE(plain.ok()) << plain.error().describe();
    EXPECT_EQ(indexes(*plain), (std::vector<std::uint64_t>{0x29, 0x30}));
    EXPECT_EQ(f.node.token_hash_queries, 0);
    f.node.lag_range = 1;
    auto lagged = f.scan(w);
    ASSERT_TRUE(lagged.ok()) << lagged.error().describe();
    EXPECT_EQ(indexes(*lagged), (std::vector<std::uint64_t>{0x29, 0x30}));
    EXPECT_EQ(f.node.token_hash_queries, 1);
}

TEST(EvmLogProof, ZeroValueAndDustTransfersAreNotDeposits) {
    // Log 0x29 moves 0x5670cc5b46a wei of WETH to the recipient, 0x30 the same:
    // a floor above that ignores both; below keeps both.
    auto min_above = Amount::parse_decimal("0.000006", 18);
    ASSERT_TRUE(min_above.ok());
    config::TokenConfig t{"WETH", kWeth, 18};
    t.min_amount = min_above->raw();
    Fixture f({t});
    WatchSet w;
    w.insert(key_of(kRecipient), 1);
    auto r = f.scan(w);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_TRUE(indexes(*r).empty());
    const std::string text = metrics::Registry::global().render();
    EXPECT_NE(text.find("depositd_transfers_ignored_total{chain=\"arb-proof\",reason=\"below_min_amount\"} 2"),
              std::string::npos);
    config::TokenConfig t2{"WETH", kWeth, 18};
    t2.min_amount = Amount::parse_decimal("0.000005", 18)->raw();
    Fixture g({t2});
    auto r2 = g.scan(w);
    ASSERT_TRUE(r2.ok());
    EXPECT_EQ(indexes(*r2).size(), 2u);
}
