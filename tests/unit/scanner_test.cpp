// The scanner against a scripted chain: confirmations, reorg walks, the
// depth limit, pool reloads, and crashes at every point between fetch and
// commit yielding exactly the deposits and event ids of an uninterrupted run.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <filesystem>
#include <map>
#include <set>

#include "scanner/scanner.hpp"
#include "store/chain_state.hpp"
#include "store/database.hpp"
#include "store/deposits.hpp"

namespace asio = boost::asio;
using namespace depositd;

namespace {

// A chain whose blocks the test scripts; can fail its next calls on demand.
class ScriptedChain : public chain::ChainAdapter {
public:
    struct Block {
        std::string hash, parent;
        std::vector<chain::Transfer> transfers;
    };
    ScriptedChain() { blocks_.push_back({"h0", "", {}}); }

    void mine(std::vector<chain::Transfer> transfers = {}) {
        std::string hash = "h" + std::to_string(blocks_.size()) + "_" + std::to_string(fork_);
        blocks_.push_back({hash, blocks_.back().hash, std::move(transfers)});
    }
    void mine_n(int n) { for (int i = 0; i < n; ++i) mine(); }
    // Drops the last `depth` blocks; the caller mines replacements.
    void drop(std::size_t depth) {
        ++fork_;
        blocks_.resize(blocks_.size() - depth);
    }
    std::uint64_t tip() const { return blocks_.size() - 1; }
    int fail_next = 0;            // fail this many calls
    int fail_at_call = -1;        // fail exactly the call with this number
    int calls = 0;
    std::optional<std::uint64_t> finalized;

    asio::awaitable<Result<chain::Head>> head() override {
        if (auto e = fault()) co_return *e;
        co_return chain::Head{tip(), finalized};
    }
    asio::awaitable<Result<chain::ScanResult>> scan(std::uint64_t from, std::uint64_t to,
                                                    const chain::WatchSet& w) override {
        if (auto e = fault()) co_return *e;
        chain::ScanResult out{{}, from - 1};
        for (auto h = from; h <= to && h <= tip(); ++h) {
            chain::BlockTransfers bt{{h, blocks_[h].hash, blocks_[h].parent, 0}, {}};
            for (const auto& t : blocks_[h].transfers)
                if (w.contains(t.to_key)) bt.transfers.push_back(t);
            out.blocks.push_back(std::move(bt));
            out.scanned_to = h;
        }
        co_return out;
    }
    asio::awaitable<Result<chain::BlockAt>> block_at(std::uint64_t h) override {
        if (auto e = fault()) co_return *e;
        if (h > tip()) co_return chain::BlockAt{};
        co_return chain::BlockAt{chain::Presence::block, chain::BlockRef{h, blocks_[h].hash, blocks_[h].parent, 0}};
    }

private:
    std::optional<Error> fault() {
        int n = calls++;
        if (fail_next > 0) { --fail_next; return make_error(Errc::transport, "scripted failure"); }
        if (n == fail_at_call) return make_error(Errc::transport, "scripted failure at call " + std::to_string(n));
        return std::nullopt;
    }
    std::vector<Block> blocks_;
    int fork_ = 0;
};

chain::Transfer transfer(const std::string& tx, std::uint64_t index, const std::string& key, unsigned amount) {
    chain::Transfer t;
    t.tx = tx;
    t.index = index;
    t.to_key = key;
    t.to = "addr-" + key;
    t.from = "0xsender";
    t.currency = "USDT";
    t.contract = "0xtoken";
    t.decimals = 6;
    t.amount = amount;
    return t;
}

template <class T>
T run(asio::io_context& io, asio::awaitable<T> a) {
    auto f = asio::co_spawn(io, std::move(a), asio::use_future);
    io.restart();
    io.run();
    return f.get();
}

class ScannerTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("scanner_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
        std::filesystem::create_directories(dir_);
        db_ = open_db("a.sqlite");
        add_address(*db_, "k1", "ADDR1");
        add_address(*db_, "k2", "ADDR2");
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::unique_ptr<store::Database> open_db(const std::string& name) {
        auto db = store::Database::open((dir_ / name).string());
        EXPECT_TRUE(db.ok());
        EXPECT_TRUE((*db)->migrate().ok());
        return std::move(*db);
    }
    static void add_address(store::Database& db, const std::string& key, const std::string& text) {
        auto s = db.prepare("INSERT INTO addresses (protocol, address, watch_key, source, created_at) "
                            "VALUES ('evm', ?1, ?2, 'test', 0)");
        s.bind(1, text).bind_blob(2, std::span<const std::uint8_t>(
                                         reinterpret_cast<const std::uint8_t*>(key.data()), key.size()));
        ASSERT_TRUE(s.run().ok());
    }
    static void bind(store::Database& db, const std::string& ref, const std::string& address) {
        auto s = db.prepare("INSERT INTO bindings (reference, protocol, address_id, bound_at) "
                            "SELECT ?1, 'evm', id, 0 FROM addresses WHERE address = ?2");
        s.bind(1, ref).bind(2, address);
        ASSERT_TRUE(s.run().ok());
    }
    scanner::ScannerOptions options(std::uint32_t confirmations = 3) {
        scanner::ScannerOptions o;
        o.chain_id = "test";
        o.confirmations = confirmations;
        o.start = 1;
        o.max_batch = 4;
        o.max_reorg_depth = 6;
        return o;
    }
    // Steps until caught up (bounded).
    void follow(scanner::Scanner& s, int max_steps = 200) {
        for (int i = 0; i < max_steps; ++i) {
            auto r = run(io_, s.step());
            if (r.ok() && *r == scanner::StepOutcome::caught_up) return;
            if (r.ok() && *r == scanner::StepOutcome::halted) return;
        }
        FAIL() << "did not catch up";
    }
    static std::map<std::string, std::string> deposits(store::Database& db) {
        std::map<std::string, std::string> out;
        auto s = db.prepare("SELECT id, status FROM deposits");
        while (*s.step()) out[s.text(0)] = s.text(1);
        return out;
    }
    static std::vector<std::string> events(store::Database& db) {
        std::vector<std::string> out;
        auto s = db.prepare("SELECT id || ' ' || type FROM events ORDER BY seq");
        while (*s.step()) out.push_back(s.text(0));
        return out;
    }

    static inline int counter_ = 0;
    std::filesystem::path dir_;
    std::unique_ptr<store::Database> db_;
    asio::io_context io_;
    SystemClock clock_;
};

TEST_F(ScannerTest, PendingThenConfirmedAfterConfirmations) {
    ScriptedChain chain;
    bind(*db_, "player_42", "ADDR1");
    scanner::WatchRegistry watch;
    scanner::Scanner s(io_.get_executor(), options(3), chain, *db_, watch, clock_);
    chain.mine({transfer("0xt1", 7, "k1", 125500000), transfer("0xt2", 0, "unwatched", 5)});
    follow(s);
    auto d = deposits(*db_);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d.begin()->second, "pending");
    auto dep = store::get_deposit(*db_, d.begin()->first);
    ASSERT_TRUE(dep.ok() && *dep);
    EXPECT_EQ((*dep)->reference, std::optional<std::string>("player_42"));
    EXPECT_EQ((*dep)->raw_amount, "125500000");
    EXPECT_EQ((*dep)->confirmations, 1u);
    EXPECT_EQ(store::deposit_to_json(**dep).at("amount").as_string(), "125.5");

    chain.mine();
    follow(s);
    EXPECT_EQ(deposits(*db_).begin()->second, "pending");
    chain.mine();
    follow(s);
    EXPECT_EQ(deposits(*db_).begin()->second, "confirmed");
    auto ev = events(*db_);
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_NE(ev[0].find("deposit.pending"), std::string::npos);
    EXPECT_NE(ev[1].find("deposit.confirmed"), std::string::npos);
}

TEST_F(ScannerTest, UnboundAddressIsRecordedWithNullReference) {
    ScriptedChain chain;
    scanner::WatchRegistry watch;
    scanner::Scanner s(io_.get_executor(), options(1), chain, *db_, watch, clock_);
    chain.mine({transfer("0xt1", 1, "k2", 10)});
    follow(s);
    auto d = deposits(*db_);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d.begin()->second, "confirmed");
    auto dep = store::get_deposit(*db_, d.begin()->first);
    EXPECT_FALSE((*dep)->reference.has_value());
    EXPECT_EQ(events(*db_).size(), 2u);  // pending then confirmed, in that order
}

TEST_F(ScannerTest, ReorgRevertsAndRemintedTransferIsANewDeposit) {
    ScriptedChain chain;
    scanner::WatchRegistry watch;
    scanner::Scanner s(io_.get_executor(), options(10), chain, *db_, watch, clock_);
    chain.mine_n(3);
    chain.mine({transfer("0xt1", 0, "k1", 100)});  // block 4
    chain.mine_n(2);
    follow(s);
    auto before = deposits(*db_);
    ASSERT_EQ(before.size(), 1u);
    // Replace blocks 4..6; the same transfer lands in block 5 of the new branch.
    chain.drop(3);
    chain.mine();
    chain.mine({transfer("0xt1", 0, "k1", 100)});
    chain.mine_n(2);
    follow(s);
    auto after = deposits(*db_);
    ASSERT_EQ(after.size(), 2u);
    EXPECT_EQ(after[before.begin()->first], "reverted");
    int pending = 0;
    for (auto& [id, st] : after) if (st == "pending") ++pending;
    EXPECT_EQ(pending, 1);
    auto ev = events(*db_);
    ASSERT_EQ(ev.size(), 3u);
    EXPECT_NE(ev[1].find("deposit.reverted"), std::string::npos);
    // The cursor follows the new branch.
    auto c = store::get_block(*db_, "test", chain.tip());
    ASSERT_TRUE(c.ok() && *c);
}

TEST_F(ScannerTest, ReorgDeeperThanLimitHaltsWithoutSkipping) {
    ScriptedChain chain;
    scanner::WatchRegistry watch;
    auto o = options(2);
    o.max_reorg_depth = 3;
    scanner::Scanner s(io_.get_executor(), o, chain, *db_, watch, clock_);
    chain.mine_n(10);
    follow(s);
    chain.drop(6);
    chain.mine_n(8);
    scanner::StepOutcome last{};
    for (int i = 0; i < 10; ++i) {
        auto r = run(io_, s.step());
        if (r.ok()) last = *r;
        if (r.ok() && *r == scanner::StepOutcome::halted) break;
    }
    EXPECT_EQ(last, scanner::StepOutcome::halted);
    auto cur = store::get_cursor(*db_, "test");
    ASSERT_TRUE(cur.ok() && *cur);
    EXPECT_EQ((*cur)->height, 10u);  // not moved
    EXPECT_TRUE((*cur)->halted.has_value());
}

TEST_F(ScannerTest, PoolGrowthIsPickedUpWithoutRestart) {
    ScriptedChain chain;
    scanner::WatchRegistry watch;
    scanner::Scanner s(io_.get_executor(), options(1), chain, *db_, watch, clock_);
    chain.mine({transfer("0xa", 0, "k3", 1)});
    follow(s);
    EXPECT_TRUE(deposits(*db_).empty());
    add_address(*db_, "k3", "ADDR3");
    chain.mine({transfer("0xb", 0, "k3", 2)});
    follow(s);
    EXPECT_EQ(deposits(*db_).size(), 1u);
}

TEST_F(ScannerTest, FailuresAndRestartsGiveTheSameDepositsAndEventIds) {
    auto script = [](ScriptedChain& c) {
        for (int i = 0; i < 30; ++i) {
            if (i % 3 == 0) c.mine({transfer("0xtx" + std::to_string(i), i, i % 2 ? "k1" : "k2", 1000 + i)});
            else c.mine();
        }
    };
    // Reference: uninterrupted.
    std::map<std::string, std::string> want_deposits;
    std::vector<std::string> want_events;
    {
        ScriptedChain chain;
        script(chain);
        scanner::WatchRegistry watch;
        scanner::Scanner s(io_.get_executor(), options(3), chain, *db_, watch, clock_);
        follow(s);
        want_deposits = deposits(*db_);
        want_events = events(*db_);
        ASSERT_EQ(want_deposits.size(), 10u);
    }
    // Fail every call position in turn, with a "restart" (new scanner and
    // watch registry on a reopened database) after each failure.
    for (int fail_at = 0; fail_at < 40; fail_at += 3) {
        auto name = "crash" + std::to_string(fail_at) + ".sqlite";
        auto db = open_db(name);
        add_address(*db, "k1", "ADDR1");
        add_address(*db, "k2", "ADDR2");
        ScriptedChain chain;
        script(chain);
        chain.fail_at_call = fail_at;
        for (int restart = 0; restart < 3; ++restart) {
            scanner::WatchRegistry watch;
            scanner::Scanner s(io_.get_executor(), options(3), chain, *db, watch, clock_);
            auto r = run(io_, s.step());
            if (!r.ok()) continue;  // "crash": drop the scanner, start again
            follow(s);
        }
        db.reset();
        db = store::Database::open((dir_ / name).string()).value();
        EXPECT_EQ(deposits(*db), want_deposits) << "fail_at " << fail_at;
        EXPECT_EQ(events(*db), want_events) << "fail_at " << fail_at;
    }
}

TEST_F(ScannerTest, FinalizedModeConfirmsAtTheFinalizedHead) {
    ScriptedChain chain;
    scanner::WatchRegistry watch;
    auto o = options(1);
    o.finalized = true;
    scanner::Scanner s(io_.get_executor(), o, chain, *db_, watch, clock_);
    chain.mine({transfer("0xf", 0, "k1", 9)});  // block 1
    chain.mine_n(3);
    chain.finalized = 0;
    follow(s);
    EXPECT_EQ(deposits(*db_).begin()->second, "pending");
    chain.finalized = 1;
    chain.mine();
    follow(s);
    EXPECT_EQ(deposits(*db_).begin()->second, "confirmed");
}

}  // namespace
