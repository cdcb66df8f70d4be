// EvmAdapter against a REAL anvil node (started here on a free 127.0.0.1
// port; skipped when .peers/evm/node_modules/.bin/anvil is not installed).
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "chain/evm/evm_adapter.hpp"
#include "codec/bloom.hpp"
#include "codec/hex.hpp"
#include "core/metrics.hpp"
#include "net/http_client.hpp"
#include "net/jsonrpc.hpp"

extern char** environ;

using namespace depositd;
using namespace depositd::chain;
using namespace depositd::chain::evm;
namespace asio = boost::asio;

namespace {

const std::string kAnvil = std::string(DEPOSITD_SOURCE_DIR) + "/.peers/evm/node_modules/.bin/anvil";
const std::string kDev0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const std::string kWatched = "0x1111111111111111111111111111111111111111";

std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

template <class T>
T run(asio::io_context& io, asio::awaitable<T> aw) {
    std::optional<T> out;
    std::exception_ptr error;
    asio::co_spawn(io, std::move(aw), [&](std::exception_ptr e, T v) {
        error = e;
        if (!e) out.emplace(std::move(v));
        io.stop();  // idle keep-alive connections may keep the context busy
    });
    io.restart();
    io.run();
    if (error) std::rethrow_exception(error);
    return std::move(*out);
}

std::string word_address(std::string_view addr) {
    std::string a(addr.substr(2));
    for (auto& c : a) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return std::string(24, '0') + a;
}
std::string word_uint(std::uint64_t v) {
    std::string h = quantity(v).substr(2);
    return std::string(64 - h.size(), '0') + h;
}

class AnvilTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!std::filesystem::exists(kAnvil)) GTEST_SKIP() << "anvil not installed (" << kAnvil << ")";
        char tmpl[] = "/tmp/depositd-anvil-XXXXXX";
        home_ = ::mkdtemp(tmpl);
        port_ = free_port();
        url_ = "http://127.0.0.1:" + std::to_string(port_);
        ASSERT_TRUE(spawn_anvil(port_, {}, pid_));

        http_ = std::make_unique<net::HttpClient>(io_.get_executor());
        net::JsonRpcOptions o;
        o.endpoints = {url_};
        o.timeout = std::chrono::seconds(5);
        o.max_attempts = 1;
        rpc_ = std::make_unique<net::JsonRpcClient>(*http_, o);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        for (;;) {
            auto id = call("eth_chainId", {});
            if (id.ok()) break;
            ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "anvil did not answer: " << id.error().describe();
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    // anvil on `port` with extra arguments (e.g. --chain-id); HOME is home_.
    bool spawn_anvil(std::uint16_t port, std::vector<std::string> extra, pid_t& pid) {
        std::string home_env = "HOME=" + home_;
        std::vector<std::string> args = {kAnvil, "--host", "127.0.0.1", "--port", std::to_string(port),
                                         "--prune-history", "256", "--silent"};
        args.insert(args.end(), extra.begin(), extra.end());
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        std::vector<std::string> env_store;
        for (char** e = environ; *e; ++e)
            if (std::string_view(*e).substr(0, 5) != "HOME=") env_store.emplace_back(*e);
        env_store.push_back(home_env);
        std::vector<char*> envp;
        for (auto& e : env_store) envp.push_back(e.data());
        envp.push_back(nullptr);
        return ::posix_spawn(&pid, kAnvil.c_str(), nullptr, nullptr, argv.data(), envp.data()) == 0;
    }
    // A second anvil with another chain id; its URL once it answers.
    std::string other_chain(const std::string& chain_id) {
        const std::uint16_t port = free_port();
        EXPECT_TRUE(spawn_anvil(port, {"--chain-id", chain_id}, other_pid_));
        const std::string url = "http://127.0.0.1:" + std::to_string(port);
        net::JsonRpcOptions o;
        o.endpoints = {url};
        o.max_attempts = 1;
        net::JsonRpcClient probe(*http_, o);
        for (int i = 0; i < 200; ++i) {
            if (run(io_, probe.call("eth_chainId", {})).ok()) return url;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        ADD_FAILURE() << "second anvil did not answer";
        return url;
    }
    void TearDown() override {
        rpc_.reset();
        http_.reset();
        for (pid_t p : {pid_, other_pid_}) {
            if (p <= 0) continue;
            ::kill(p, SIGTERM);
            int status = 0;
            ::waitpid(p, &status, 0);
        }
        if (!home_.empty()) std::filesystem::remove_all(home_);
    }

    Result<json::value> call(std::string method, json::array params) {
        return run(io_, rpc_->call(std::move(method), std::move(params)));
    }
    // eth_sendTransaction (automine) -> receipt.
    json::object send(json::object tx) {
        tx["from"] = kDev0;
        auto h = call("eth_sendTransaction", json::array{tx});
        EXPECT_TRUE(h.ok()) << (h.ok() ? "" : h.error().describe());
        if (!h.ok()) return {};
        // Automine is immediate, but the receipt may show up a moment later.
        for (int i = 0; i < 100; ++i) {
            auto r = call("eth_getTransactionReceipt", json::array{*h});
            if (r.ok() && r->is_object()) return r->as_object();
            EXPECT_TRUE(r.ok()) << r.error().describe();
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        ADD_FAILURE() << "no receipt for " << *h;
        return {};
    }
    std::string deploy_token() {
        std::ifstream in(std::string(DEPOSITD_FIXTURES) + "/evm/Token.bin");
        std::stringstream ss;
        ss << in.rdbuf();
        std::string bin = ss.str();
        while (!bin.empty() && std::isspace(static_cast<unsigned char>(bin.back()))) bin.pop_back();
        json::object tx;
        tx["data"] = "0x" + bin + word_uint(1'000'000'000'000);
        auto r = send(tx);
        EXPECT_EQ(r["status"], "0x1");
        return std::string(r["contractAddress"].as_string());
    }
    config::ChainConfig chain_config(const std::string& token, unsigned decimals = 6) {
        config::ChainConfig c;
        c.id = "anvil";
        c.kind = Protocol::evm;
        c.rpc = {url_};
        c.native = {"ETH", "", 18};
        c.tokens = {{"TST", token, decimals}};
        c.max_block_range = 500;
        c.request_timeout = std::chrono::seconds(5);
        return c;
    }
    std::unique_ptr<EvmAdapter> adapter(const config::ChainConfig& c) {
        auto a = EvmAdapter::create(c, *http_);
        EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().describe());
        return a.ok() ? std::move(*a) : nullptr;
    }

    asio::io_context io_;
    std::unique_ptr<net::HttpClient> http_;
    std::unique_ptr<net::JsonRpcClient> rpc_;
    pid_t pid_ = 0;
    pid_t other_pid_ = 0;
    std::string home_;
    std::uint16_t port_ = 0;
    std::string url_;
};

std::string key_of(std::string_view hex) {
    auto b = codec::from_hex(hex);
    return std::string(b->begin(), b->end());
}

const Transfer* find(const std::vector<BlockTransfers>& blocks, const std::string& tx, std::uint64_t* height = nullptr) {
    for (const auto& b : blocks)
        for (const auto& t : b.transfers)
            if (t.tx == tx) {
                if (height) *height = b.block.height;
                return &t;
            }
    return nullptr;
}

}  // namespace

TEST_F(AnvilTest, NativeAndTokenDepositsFound) {
    const std::string token = deploy_token();
    ASSERT_FALSE(token.empty());

    // 1 ETH to the watched address; 125.5 TST to it; a reverted value tx to the
    // (watched) token contract (no payable function) is not a deposit.
    json::object eth;
    eth["to"] = kWatched;
    eth["value"] = "0xde0b6b3a7640000";
    auto r_eth = send(eth);
    ASSERT_EQ(r_eth["status"], "0x1");
    json::object tok;
    tok["to"] = token;
    tok["data"] = "0xa9059cbb" + word_address(kWatched) + word_uint(125'500'000);
    auto r_tok = send(tok);
    ASSERT_EQ(r_tok["status"], "0x1");
    json::object bad;
    bad["to"] = token;
    bad["value"] = "0x1";
    bad["gas"] = "0x30000";
    auto r_bad = send(bad);
    ASSERT_EQ(r_bad["status"], "0x0");

    auto cfg = chain_config(token);
    auto a = adapter(cfg);
    ASSERT_TRUE(a);
    auto v = run(io_, a->verify());
    ASSERT_TRUE(v.ok()) << v.error().describe();

    auto head = run(io_, a->head());
    ASSERT_TRUE(head.ok()) << head.error().describe();
    EXPECT_GE(head->height, 4u);

    WatchSet small;
    small.insert(key_of(kWatched), 1);
    small.insert(key_of(token), 2);
    WatchSet large = small;
    for (int i = 0; i < 700; ++i) {
        std::string k(20, '\0');
        for (int j = 0; j < 4; ++j) k[static_cast<std::size_t>(j)] = static_cast<char>((i >> (8 * j)) & 0xff);
        k[19] = 0x7f;
        large.insert(k, 100 + i);
    }
    for (const WatchSet* w : {&small, &large}) {
        auto s = run(io_, a->scan(0, head->height, *w));
        ASSERT_TRUE(s.ok()) << s.error().describe();
        ASSERT_EQ(s->blocks.size(), head->height + 1);
        for (std::size_t i = 1; i < s->blocks.size(); ++i) EXPECT_EQ(s->blocks[i].block.parent, s->blocks[i - 1].block.hash);

        std::uint64_t h = 0;
        const Transfer* n = find(s->blocks, std::string(r_eth["transactionHash"].as_string()), &h);
        ASSERT_NE(n, nullptr);
        EXPECT_EQ(h, *parse_quantity_json(r_eth["blockNumber"]));
        EXPECT_EQ(n->index, kNativeIndex);
        EXPECT_FALSE(n->contract.has_value());
        EXPECT_EQ(n->currency, "ETH");
        EXPECT_EQ(n->amount, U256(1'000'000'000'000'000'000ull));
        EXPECT_EQ(n->to, kWatched);
        EXPECT_EQ(n->from, kDev0);

        const Transfer* t = find(s->blocks, std::string(r_tok["transactionHash"].as_string()), &h);
        ASSERT_NE(t, nullptr);
        EXPECT_EQ(h, *parse_quantity_json(r_tok["blockNumber"]));
        EXPECT_EQ(t->currency, "TST");
        EXPECT_EQ(t->decimals, 6u);
        EXPECT_EQ(Amount(t->amount, t->decimals).to_string(), "125.5");
        EXPECT_EQ(t->to_key, key_of(kWatched));
        EXPECT_EQ(t->index, *parse_quantity_json(r_tok["logs"].as_array()[0].at("logIndex")));
        EXPECT_TRUE(t->contract.has_value());

        EXPECT_EQ(find(s->blocks, std::string(r_bad["transactionHash"].as_string())), nullptr);
        std::size_t total = 0;
        for (const auto& b : s->blocks) total += b.transfers.size();
        EXPECT_EQ(total, 2u);

        // block_at agrees with scan.
        auto b = run(io_, a->block_at(h));
        ASSERT_TRUE(b.ok());
        ASSERT_EQ(b->presence, Presence::block);
        EXPECT_EQ(b->ref.hash, s->blocks[h].block.hash);
    }
    auto beyond = run(io_, a->block_at(head->height + 100));
    ASSERT_TRUE(beyond.ok());
    EXPECT_EQ(beyond->presence, Presence::unknown);
    // Past the tip: a prefix (empty here), never an error.
    auto past = run(io_, a->scan(head->height + 1, head->height + 10, small));
    ASSERT_TRUE(past.ok());
    EXPECT_TRUE(past->blocks.empty());
    EXPECT_EQ(past->scanned_to, head->height);
}

TEST_F(AnvilTest, RangeCapAndFinalizedAndVerify) {
    const std::string token = deploy_token();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(call("evm_mine", {}).ok());
    auto cfg = chain_config(token);
    cfg.max_block_range = 2;
    cfg.finalized = true;
    auto a = adapter(cfg);
    auto head = run(io_, a->head());
    ASSERT_TRUE(head.ok()) << head.error().describe();
    if (head->finalized) {
        EXPECT_LE(*head->finalized, head->height);
        // The finalized block's hash comes with its height (the scanner proves it on its own chain).
        auto blk = call("eth_getBlockByNumber", {quantity(*head->finalized), false});
        ASSERT_TRUE(blk.ok());
        EXPECT_EQ(head->finalized_hash, std::string(blk->as_object().at("hash").as_string()));
    }
    WatchSet w;
    w.insert(key_of(kWatched), 1);
    auto s = run(io_, a->scan(1, head->height, w));
    ASSERT_TRUE(s.ok()) << s.error().describe();
    ASSERT_EQ(s->blocks.size(), 2u);
    EXPECT_EQ(s->blocks[0].block.height, 1u);

    auto wrong = adapter(chain_config(token, 18));
    auto v = run(io_, wrong->verify());
    ASSERT_FALSE(v.ok());
    EXPECT_NE(v.error().message.find("TST"), std::string::npos) << v.error().message;
    EXPECT_NE(v.error().message.find("18"), std::string::npos) << v.error().message;

    auto cfg2 = chain_config(kWatched);  // not a contract: decimals() returns no data
    auto none = adapter(cfg2);
    auto v2 = run(io_, none->verify());
    EXPECT_FALSE(v2.ok());
}

TEST_F(AnvilTest, HeaderBloomsEqualTheBloomOfTheBlocksLogs) {
    // anvil computes logsBloom like every client: the bloom rebuilt from a
    // block's logs (eth_getLogs by blockHash) is the header's, bit for bit.
    const std::string token = deploy_token();
    std::vector<std::string> blocks;
    for (int i = 0; i < 4; ++i) {
        json::object tok;
        tok["to"] = token;
        tok["data"] = "0xa9059cbb" + word_address(kWatched) + word_uint(1000 + i);
        auto r = send(tok);
        blocks.emplace_back(r["blockHash"].as_string());
    }
    for (const auto& h : blocks) {
        auto header = call("eth_getBlockByHash", json::array{h, false});
        ASSERT_TRUE(header.ok());
        auto bloom = codec::LogsBloom::from_hex(std::string(header->as_object().at("logsBloom").as_string()));
        ASSERT_TRUE(bloom.ok());
        json::object filter;
        filter["blockHash"] = h;
        auto logs = call("eth_getLogs", json::array{filter});
        ASSERT_TRUE(logs.ok());
        ASSERT_FALSE(logs->as_array().empty());
        auto ours = bloom_of_logs(*logs);
        ASSERT_TRUE(ours.ok());
        EXPECT_EQ(*ours, *bloom) << h;
        EXPECT_TRUE(bloom->may_contain(*codec::from_hex(token)));
        EXPECT_FALSE(bloom->may_contain(*codec::from_hex(kDev0.substr(0, 40) + "ff")));  // an absent address
    }
}

TEST_F(AnvilTest, ZeroValueTransfersAreNotDeposits) {
    const std::string token = deploy_token();
    json::object zero;
    zero["to"] = token;
    zero["data"] = "0xa9059cbb" + word_address(kWatched) + word_uint(0);
    auto r0 = send(zero);
    ASSERT_EQ(r0["status"], "0x1");
    ASSERT_EQ(r0["logs"].as_array().size(), 1u);  // the token does emit a Transfer of 0
    json::object one;
    one["to"] = token;
    one["data"] = "0xa9059cbb" + word_address(kWatched) + word_uint(1);
    auto r1 = send(one);
    auto a = adapter(chain_config(token));
    WatchSet w;
    w.insert(key_of(kWatched), 1);
    auto head = run(io_, a->head());
    ASSERT_TRUE(head.ok());
    auto s = run(io_, a->scan(0, head->height, w));
    ASSERT_TRUE(s.ok()) << s.error().describe();
    EXPECT_EQ(find(s->blocks, std::string(r0["transactionHash"].as_string())), nullptr);
    EXPECT_NE(find(s->blocks, std::string(r1["transactionHash"].as_string())), nullptr);
    EXPECT_NE(metrics::Registry::global().render().find(
                  "depositd_transfers_ignored_total{chain=\"anvil\",reason=\"zero_value\"} 1"),
              std::string::npos);
}

TEST_F(AnvilTest, ChainIdIsCheckedOnEveryEndpoint) {
    const std::string token = deploy_token();
    const std::string other = other_chain("999");
    WatchSet w;
    w.insert(key_of(kWatched), 1);

    // No chain_id: the first endpoint's answer (31337) rules; the other chain
    // is out of rotation and the adapter works on the first.
    auto cfg = chain_config(token);
    cfg.rpc = {url_, other};
    auto a = adapter(cfg);
    auto v = run(io_, a->verify());
    ASSERT_TRUE(v.ok()) << v.error().describe();
    auto s = run(io_, a->scan(0, 1, w));
    ASSERT_TRUE(s.ok()) << s.error().describe();

    // chain_id set and served by the second endpoint only: fine.
    auto cfg2 = chain_config(token);
    cfg2.rpc = {other, url_};
    cfg2.chain_id = 31337;
    cfg2.chain_id_source = "depositd.toml:7:chains[0].chain_id";
    auto v2 = run(io_, adapter(cfg2)->verify());
    EXPECT_TRUE(v2.ok()) << v2.error().describe();

    // chain_id that no endpoint serves: invalid_input naming the config line.
    auto cfg3 = chain_config(token);
    cfg3.rpc = {other};
    cfg3.chain_id = 31337;
    cfg3.chain_id_source = "depositd.toml:7:chains[0].chain_id";
    auto v3 = run(io_, adapter(cfg3)->verify());
    ASSERT_FALSE(v3.ok());
    EXPECT_EQ(v3.error().code, Errc::invalid_input);
    EXPECT_EQ(v3.error().message.rfind("depositd.toml:7:chains[0].chain_id: ", 0), 0u) << v3.error().message;
    EXPECT_NE(v3.error().message.find("reports chain id 999"), std::string::npos) << v3.error().message;

    // Without chain_id the first endpoint rules, even when it is the odd one.
    auto cfg4 = chain_config(token);
    cfg4.rpc = {other, url_};
    auto a4 = adapter(cfg4);
    auto v4 = run(io_, a4->verify());
    // The token is not deployed on chain 999: decimals() there says "not a token".
    ASSERT_FALSE(v4.ok());
    EXPECT_EQ(v4.error().code, Errc::invalid_input);

    // An endpoint that does not answer at start is transient, not fatal.
    auto cfg5 = chain_config(token);
    cfg5.rpc = {"http://127.0.0.1:" + std::to_string(free_port())};
    cfg5.chain_id = 31337;
    cfg5.request_timeout = std::chrono::seconds(1);
    auto v5 = run(io_, adapter(cfg5)->verify());
    ASSERT_FALSE(v5.ok());
    EXPECT_NE(v5.error().code, Errc::invalid_input) << v5.error().describe();
}
