// The scanner against a scripted chain: confirmations, reorg walks, the depth
// limit, pool reloads, crashes at every point between fetch and commit
// yielding exactly the deposits and event ids of an uninterrupted run — and
// nodes that lie a little (DESIGN.md): load-balanced backends on two
// branches (flip-back), same-height forks at the head, lagging backends that
// do not know a block, skipped heights (Solana), finality, attribution at
// block time.
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
#include "store/store.hpp"

namespace asio = boost::asio;
using namespace depositd;

namespace {

// A chain whose blocks the test scripts. Several branches (what two
// load-balanced backends see), skipped heights, a backend that does not know
// blocks above a height, and failures on demand.
class ScriptedChain : public chain::ChainAdapter {
public:
    struct Block {
        std::uint64_t height = 0;
        std::string hash, parent;
        std::int64_t time_ms = 0;
        std::vector<chain::Transfer> transfers;
    };
    struct Branch {
        std::vector<Block> blocks;  // produced blocks, increasing heights
        std::uint64_t tip = 0;      // highest height (may be a skipped one)
    };
    ScriptedChain() { branches_.push_back(Branch{{Block{0, "h0", "", 0, {}}}, 0}); }

    Branch& branch() { return branches_[active_]; }
    void mine(std::vector<chain::Transfer> transfers = {}) {
        auto& b = branch();
        const std::uint64_t h = b.tip + 1;
        std::string hash = "h" + std::to_string(h) + "_" + std::to_string(active_) + "_" + std::to_string(salt_);
        b.blocks.push_back(Block{h, hash, b.blocks.back().hash, time_ms, std::move(transfers)});
        b.tip = h;
    }
    void mine_n(int n) { for (int i = 0; i < n; ++i) mine(); }
    // Heights nobody produced (Solana skipped slots).
    void skip(std::uint64_t n = 1) { branch().tip += n; }
    // Drops the last `depth` heights of the active branch; the caller mines replacements.
    void drop(std::uint64_t depth) {
        ++salt_;
        auto& b = branch();
        b.tip -= depth;
        while (b.blocks.back().height > b.tip) b.blocks.pop_back();
    }
    // A second view of the chain sharing everything mined so far.
    int fork() {
        branches_.push_back(branch());
        ++salt_;
        return static_cast<int>(branches_.size() - 1);
    }
    void use(int i) { active_ = i; }
    std::uint64_t tip() { return branch().tip; }
    const Block* at(std::uint64_t h) {
        for (const auto& blk : branch().blocks)
            if (blk.height == h) return &blk;
        return nullptr;
    }

    int fail_next = 0;            // fail this many calls
    int fail_at_call = -1;        // fail exactly the call with this number
    int calls = 0;
    int block_at_calls = 0;
    std::optional<std::uint64_t> finalized;
    std::optional<int> finalized_branch;         // head() names this branch's finalized block (another backend)
    std::optional<std::uint64_t> unknown_above;  // block_at answers "unknown" above this height (lagging backend)
    std::int64_t time_ms = 0;                    // timestamp of the next mined block
    std::vector<Error> verify_errors;            // verify() fails with these first

    asio::awaitable<Result<chain::Head>> head() override {
        if (auto e = fault()) co_return *e;
        chain::Head h{tip(), finalized, {}};
        if (finalized) {
            // The finalized block as the branch that answers head() has it.
            for (const auto& blk : branches_[finalized_branch.value_or(active_)].blocks)
                if (blk.height == *finalized) h.finalized_hash = blk.hash;
        }
        co_return h;
    }
    asio::awaitable<Result<chain::ScanResult>> scan(std::uint64_t from, std::uint64_t to,
                                                    const chain::WatchSet& w) override {
        if (auto e = fault()) co_return *e;
        chain::ScanResult out{{}, from - 1};
        if (from > tip()) co_return out;
        for (const auto& blk : branch().blocks) {
            if (blk.height < from || blk.height > to) continue;
            chain::BlockTransfers bt{{blk.height, blk.hash, blk.parent, blk.time_ms}, {}};
            for (const auto& t : blk.transfers)
                if (w.contains(t.to_key)) bt.transfers.push_back(t);
            out.blocks.push_back(std::move(bt));
        }
        out.scanned_to = std::min(to, tip());
        co_return out;
    }
    asio::awaitable<Result<chain::BlockAt>> block_at(std::uint64_t h) override {
        if (auto e = fault()) co_return *e;
        ++block_at_calls;
        if (h > tip() || (unknown_above && h > *unknown_above)) co_return chain::BlockAt{};
        const Block* blk = at(h);
        if (!blk) co_return chain::BlockAt{chain::Presence::skipped, {}};
        co_return chain::BlockAt{chain::Presence::block, chain::BlockRef{h, blk->hash, blk->parent, blk->time_ms}};
    }
    // Transactions the node knows: by hash, where the active branch has them
    // (a block's transfers with that tx), or pending (listed here).
    std::set<std::string> pending_txs;
    asio::awaitable<Result<chain::TxTransfers>> transaction(std::string tx, std::optional<std::string>,
                                                            const chain::WatchSet& w) override {
        if (auto e = fault()) co_return *e;
        chain::TxTransfers out;
        if (tx.rfind("0x", 0) != 0) co_return make_error(Errc::invalid_input, "malformed hash");
        if (pending_txs.count(tx)) {
            out.state = chain::TxState::pending;
            co_return out;
        }
        for (const auto& blk : branch().blocks)
            for (const auto& t : blk.transfers)
                if (t.tx == tx) {
                    out.state = chain::TxState::mined;
                    out.block = chain::BlockRef{blk.height, blk.hash, blk.parent, blk.time_ms};
                    if (w.contains(t.to_key)) out.transfers.push_back(t);
                }
        co_return out;
    }
    asio::awaitable<Status> verify() override {
        if (!verify_errors.empty()) {
            auto e = verify_errors.front();
            verify_errors.erase(verify_errors.begin());
            co_return e;
        }
        co_return Status{};
    }

private:
    std::optional<Error> fault() {
        int n = calls++;
        if (fail_next > 0) { --fail_next; return make_error(Errc::transport, "scripted failure"); }
        if (n == fail_at_call) return make_error(Errc::transport, "scripted failure at call " + std::to_string(n));
        return std::nullopt;
    }
    std::vector<Branch> branches_;
    int active_ = 0;
    int salt_ = 0;
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
        store_ = open_store("a.sqlite");
        db_ = open_db("a.sqlite");
        add_address(*db_, "k1", "ADDR1");
        add_address(*db_, "k2", "ADDR2");
    }
    void TearDown() override {
        store_.reset();
        db_.reset();
        std::filesystem::remove_all(dir_);
    }

    std::unique_ptr<store::Store> open_store(const std::string& name) {
        auto s = store::Store::open((dir_ / name).string());
        EXPECT_TRUE(s.ok()) << s.error().describe();
        return std::move(*s);
    }
    // A second connection for the test's own setup and assertions.
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
    static void bind(store::Database& db, const std::string& ref, const std::string& address, std::int64_t at = 0,
                     std::optional<std::int64_t> until = std::nullopt) {
        auto s = db.prepare("INSERT INTO bindings (reference, protocol, address_id, bound_at, unbound_at) "
                            "SELECT ?1, 'evm', id, ?3, ?4 FROM addresses WHERE address = ?2");
        s.bind(1, ref).bind(2, address).bind(3, at).bind(4, until);
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
    std::unique_ptr<scanner::Scanner> scanner(ScriptedChain& chain, const scanner::ScannerOptions& o) {
        return std::make_unique<scanner::Scanner>(io_.get_executor(), o, chain, *store_, watch_, clock_, &board_);
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
    static std::vector<std::string> event_types(store::Database& db) {
        std::vector<std::string> out;
        auto s = db.prepare("SELECT type FROM events ORDER BY seq");
        while (*s.step()) out.push_back(s.text(0));
        return out;
    }
    std::string only_deposit_status(const std::string& tx) {
        auto q = db_->prepare("SELECT status FROM deposits WHERE tx_hash = ?1");
        q.bind(1, tx);
        EXPECT_TRUE(*q.step());
        return q.text(0);
    }
    store::Deposit only_deposit() {
        auto d = deposits(*db_);
        EXPECT_EQ(d.size(), 1u);
        auto dep = store::get_deposit(*db_, d.begin()->first);
        EXPECT_TRUE(dep.ok() && *dep);
        return **dep;
    }

    static inline int counter_ = 0;
    std::filesystem::path dir_;
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<store::Database> db_;
    asio::io_context io_;
    ManualClock clock_{1'700'000'000'000};
    scanner::WatchRegistry watch_;
    HealthBoard board_;
};

TEST_F(ScannerTest, PendingThenConfirmedAfterConfirmations) {
    ScriptedChain chain;
    bind(*db_, "player_42", "ADDR1");
    auto s = scanner(chain, options(3));
    chain.mine({transfer("0xt1", 7, "k1", 125500000), transfer("0xt2", 0, "unwatched", 5)});
    follow(*s);
    auto d = deposits(*db_);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d.begin()->second, "pending");
    auto dep = store::get_deposit(*db_, d.begin()->first);
    ASSERT_TRUE(dep.ok() && *dep);
    EXPECT_EQ((*dep)->reference, std::optional<std::string>("player_42"));
    EXPECT_EQ((*dep)->raw_amount, "125500000");
    EXPECT_EQ((*dep)->confirmations, 1u);
    auto j = store::deposit_to_json(**dep);
    EXPECT_EQ(j.at("amount").as_string(), "125.5");
    EXPECT_EQ(j.at("requiredConfirmations").to_number<std::int64_t>(), 3);
    EXPECT_EQ(j.at("finality").as_string(), "confirmations");

    chain.mine();
    follow(*s);
    EXPECT_EQ(deposits(*db_).begin()->second, "pending");
    chain.mine();
    follow(*s);
    EXPECT_EQ(deposits(*db_).begin()->second, "confirmed");
    auto ev = events(*db_);
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_NE(ev[0].find("deposit.pending"), std::string::npos);
    EXPECT_NE(ev[1].find("deposit.confirmed"), std::string::npos);
    // Ids are fixed by the deposit and the number of the change.
    EXPECT_EQ(ev[0].substr(0, ev[0].find(' ')), change_event_id(d.begin()->first, 1));
    EXPECT_EQ(ev[1].substr(0, ev[1].find(' ')), change_event_id(d.begin()->first, 2));
    EXPECT_EQ(board_.get("test")->status, "starting");  // step() alone does not report; run() does
}

TEST_F(ScannerTest, UnboundAddressIsRecordedWithNullReference) {
    ScriptedChain chain;
    auto s = scanner(chain, options(1));
    chain.mine({transfer("0xt1", 1, "k2", 10)});
    follow(*s);
    auto d = deposits(*db_);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d.begin()->second, "confirmed");
    auto dep = store::get_deposit(*db_, d.begin()->first);
    EXPECT_FALSE((*dep)->reference.has_value());
    EXPECT_EQ(events(*db_).size(), 2u);  // pending then confirmed, in that order
}

// The deposit observer (orders) hears the changes of deposits to the
// addresses it follows, asked once per transaction, and nothing else; an
// observer without a filter hears everything.
TEST_F(ScannerTest, TheObserverHearsOnlyTheAddressesItFollows) {
    ScriptedChain chain;
    auto s = scanner(chain, options(1));
    std::vector<std::string> heard;
    std::vector<std::vector<std::int64_t>> asked;
    const std::int64_t k1 = 1;  // ADDR1's id (first address)
    s->on_deposit_change(
        [&](store::Database&, const store::Deposit& d, const std::string& type, std::int64_t) {
            heard.push_back(d.address + " " + type);
            return Status{};
        },
        [&](store::Database&, const std::vector<std::int64_t>& ids) -> Result<std::unordered_set<std::int64_t>> {
            asked.push_back(ids);
            std::unordered_set<std::int64_t> out;
            for (auto id : ids)
                if (id == k1) out.insert(id);
            return out;
        });
    chain.mine({transfer("0xt1", 0, "k1", 10), transfer("0xt2", 0, "k2", 20), transfer("0xt3", 0, "k1", 30)});
    chain.mine({transfer("0xt4", 0, "k2", 40)});
    follow(*s);
    EXPECT_EQ(deposits(*db_).size(), 4u);
    EXPECT_EQ(events(*db_).size(), 8u);  // the events of every deposit are written
    EXPECT_EQ(heard, (std::vector<std::string>{"ADDR1 deposit.pending", "ADDR1 deposit.pending",
                                               "ADDR1 deposit.confirmed", "ADDR1 deposit.confirmed"}));
    ASSERT_FALSE(asked.empty());
    for (const auto& ids : asked) {  // each address once per question
        EXPECT_EQ(std::set<std::int64_t>(ids.begin(), ids.end()).size(), ids.size());
    }
}

TEST_F(ScannerTest, AnObserverWithoutAFilterHearsEveryChange) {
    ScriptedChain chain;
    auto s = scanner(chain, options(1));
    std::vector<std::string> heard;
    s->on_deposit_change([&](store::Database&, const store::Deposit& d, const std::string& type, std::int64_t) {
        heard.push_back(d.address + " " + type);
        return Status{};
    });
    chain.mine({transfer("0xt1", 0, "k1", 10), transfer("0xt2", 0, "k2", 20)});
    follow(*s);
    EXPECT_EQ(heard, (std::vector<std::string>{"ADDR1 deposit.pending", "ADDR2 deposit.pending",
                                               "ADDR1 deposit.confirmed", "ADDR2 deposit.confirmed"}));
}

// A deposit already deep enough when a catch-up finds it is written once,
// confirmed, with both of its events as ever: the pending one showing it
// pending, then the confirmed one.
TEST_F(ScannerTest, ADepositDeepEnoughWhenFoundHasBothEventsInOneCommit) {
    ScriptedChain chain;
    auto s = scanner(chain, options(2));
    chain.mine({transfer("0xt1", 0, "k1", 10)});
    chain.mine({transfer("0xt2", 0, "k2", 20)});
    follow(*s);  // 0xt1 has 2 confirmations, 0xt2 one
    EXPECT_EQ(only_deposit_status("0xt1"), "confirmed");
    EXPECT_EQ(only_deposit_status("0xt2"), "pending");
    auto q = db_->prepare("SELECT d.id, d.changes, e.id, e.type, e.payload FROM deposits d "
                          "JOIN events e ON e.deposit_id = d.id WHERE d.tx_hash = '0xt1' ORDER BY e.seq");
    std::vector<std::string> types;
    while (*q.step()) {
        EXPECT_EQ(q.int64(1), 2);
        const auto n = types.size() + 1;
        EXPECT_EQ(q.text(2), change_event_id(q.text(0), n));
        auto data = json::parse(q.text(4)).as_object().at("data").as_object();
        EXPECT_EQ(data.at("status").as_string(), n == 1 ? "pending" : "confirmed");
        EXPECT_EQ(data.at("confirmations").to_number<std::int64_t>(), 2);
        EXPECT_EQ(data.at("confirmedAt").is_null(), n == 1);
        types.push_back(q.text(3));
    }
    EXPECT_EQ(types, (std::vector<std::string>{"deposit.pending", "deposit.confirmed"}));
}

// A node that lists one transfer twice in a block: one deposit, one set of
// events, and the batch still commits.
TEST_F(ScannerTest, ATransferListedTwiceIsOneDeposit) {
    ScriptedChain chain;
    auto s = scanner(chain, options(1));
    chain.mine({transfer("0xt1", 3, "k1", 10), transfer("0xt1", 3, "k1", 10)});
    follow(*s);
    EXPECT_EQ(deposits(*db_).size(), 1u);
    EXPECT_EQ(event_types(*db_), (std::vector<std::string>{"deposit.pending", "deposit.confirmed"}));
}

TEST_F(ScannerTest, ReorgRevertsAndRemintedTransferIsANewDeposit) {
    ScriptedChain chain;
    auto s = scanner(chain, options(10));
    chain.mine_n(3);
    chain.mine({transfer("0xt1", 0, "k1", 100)});  // block 4
    chain.mine_n(2);
    follow(*s);
    auto before = deposits(*db_);
    ASSERT_EQ(before.size(), 1u);
    // Replace blocks 4..6; the same transfer lands in block 5 of the new branch.
    chain.drop(3);
    chain.mine();
    chain.mine({transfer("0xt1", 0, "k1", 100)});
    chain.mine_n(2);
    follow(*s);
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
    EXPECT_EQ((*c)->hash, chain.at(chain.tip())->hash);
}

TEST_F(ScannerTest, ReorgDeeperThanLimitHaltsWithoutSkipping) {
    ScriptedChain chain;
    auto o = options(2);
    o.max_reorg_depth = 3;
    auto s = scanner(chain, o);
    chain.mine_n(10);
    follow(*s);
    chain.drop(6);
    chain.mine_n(8);
    scanner::StepOutcome last{};
    for (int i = 0; i < 10; ++i) {
        auto r = run(io_, s->step());
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
    auto s = scanner(chain, options(1));
    chain.mine({transfer("0xa", 0, "k3", 1)});
    follow(*s);
    EXPECT_TRUE(deposits(*db_).empty());
    add_address(*db_, "k3", "ADDR3");
    chain.mine({transfer("0xb", 0, "k3", 2)});
    follow(*s);
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
        auto s = scanner(chain, options(3));
        follow(*s);
        want_deposits = deposits(*db_);
        want_events = events(*db_);
        ASSERT_EQ(want_deposits.size(), 10u);
    }
    // Fail every call position in turn, with a "restart" (new scanner, watch
    // registry and store on the same file) after each failure. The pipeline
    // (fetch the next range while committing) is on, as in the daemon.
    for (int fail_at = 0; fail_at < 40; fail_at += 3) {
        auto name = "crash" + std::to_string(fail_at) + ".sqlite";
        auto db = open_db(name);
        add_address(*db, "k1", "ADDR1");
        add_address(*db, "k2", "ADDR2");
        ScriptedChain chain;
        script(chain);
        chain.fail_at_call = fail_at;
        for (int restart = 0; restart < 3; ++restart) {
            auto st = open_store(name);
            scanner::WatchRegistry watch;
            scanner::Scanner s(io_.get_executor(), options(3), chain, *st, watch, clock_);
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
    auto o = options(1);
    o.finalized = true;
    auto s = scanner(chain, o);
    chain.mine({transfer("0xf", 0, "k1", 9)});  // block 1
    chain.mine_n(3);
    chain.finalized = 0;
    follow(*s);
    EXPECT_EQ(deposits(*db_).begin()->second, "pending");
    auto j = store::deposit_to_json(only_deposit());
    EXPECT_TRUE(j.at("requiredConfirmations").is_null());  // no count to compare with at finality
    EXPECT_EQ(j.at("finality").as_string(), "finalized");
    chain.finalized = 1;
    chain.mine();
    follow(*s);
    EXPECT_EQ(deposits(*db_).begin()->second, "confirmed");
}

// Two backends behind one URL on two branches: A, then B (D reverted), then A
// again with D's very block: D comes back and is confirmed exactly once.
TEST_F(ScannerTest, FlipBackRevivesTheVeryBlock) {
    ScriptedChain chain;
    auto s = scanner(chain, options(3));
    chain.mine_n(2);
    const int a = 0;
    const int b = chain.fork();
    chain.use(a);
    chain.mine({transfer("0xd", 0, "k1", 500)});  // A: block 3 holds D
    chain.use(b);
    chain.mine();                                  // B: another block 3
    chain.use(a);
    follow(*s);
    const std::string d_id = deposit_id("test", "0xd", 0, chain.at(3)->hash);
    EXPECT_EQ(deposits(*db_).at(d_id), "pending");

    chain.use(b);
    follow(*s);
    EXPECT_EQ(deposits(*db_).at(d_id), "reverted");

    chain.use(a);
    follow(*s);
    EXPECT_EQ(deposits(*db_).at(d_id), "pending");
    chain.mine_n(2);
    follow(*s);
    EXPECT_EQ(deposits(*db_).at(d_id), "confirmed");
    EXPECT_EQ(deposits(*db_).size(), 1u);

    auto ev = events(*db_);
    ASSERT_EQ(ev.size(), 4u);
    std::vector<std::string> types = event_types(*db_);
    EXPECT_EQ(types, (std::vector<std::string>{"deposit.pending", "deposit.reverted", "deposit.pending",
                                               "deposit.confirmed"}));
    std::set<std::string> ids;
    for (std::size_t i = 0; i < ev.size(); ++i) {
        ids.insert(ev[i].substr(0, ev[i].find(' ')));
        EXPECT_EQ(ev[i].substr(0, ev[i].find(' ')), change_event_id(d_id, i + 1));
    }
    EXPECT_EQ(ids.size(), 4u);
    auto dep = only_deposit();
    EXPECT_EQ(dep.changes, 4u);
    EXPECT_FALSE(dep.reverted_at.has_value());

    // A restart (new scanner, same store) re-verifies and mints nothing new.
    scanner::WatchRegistry watch;
    scanner::Scanner again(io_.get_executor(), options(3), chain, *store_, watch, clock_);
    follow(again);
    EXPECT_EQ(events(*db_), ev);
}

// A fork of the same height while caught up: the cursor block is re-checked
// every poll, so the orphan's deposit is reverted, never confirmed.
TEST_F(ScannerTest, SameHeightForkAtTheHeadIsNoticedAndTheOrphanNeverConfirmed) {
    ScriptedChain chain;
    auto s = scanner(chain, options(2));
    chain.mine_n(3);
    const int b = chain.fork();
    chain.use(0);
    chain.mine({transfer("0xo", 0, "k1", 7)});  // A: 4 (orphan-to-be)
    chain.use(b);
    chain.mine();                                // B: 4
    chain.use(0);
    follow(*s);
    ASSERT_EQ(deposits(*db_).size(), 1u);
    chain.use(b);  // B wins at the same height: no longer chain, no new block
    follow(*s);
    EXPECT_EQ(deposits(*db_).begin()->second, "reverted");
    chain.mine_n(5);
    follow(*s);
    EXPECT_EQ(deposits(*db_).begin()->second, "reverted");
    EXPECT_EQ(event_types(*db_), (std::vector<std::string>{"deposit.pending", "deposit.reverted"}));
}

// A lagging failover backend that has no block at a height is "unknown",
// never "different": nothing is reverted and the step fails (retried).
TEST_F(ScannerTest, UnknownBlockIsNotEvidenceOfAReorg) {
    ScriptedChain chain;
    auto s = scanner(chain, options(20));
    chain.mine_n(2);
    chain.mine({transfer("0xu", 0, "k1", 7)});  // 3
    chain.mine_n(2);
    follow(*s);
    chain.unknown_above = 2;  // the backend now serving us only knows up to 2
    auto r = run(io_, s->step());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::unavailable);
    EXPECT_EQ(deposits(*db_).begin()->second, "pending");
    // Even during a genuine walk, an unknown height stops the walk instead of walking over it.
    chain.unknown_above.reset();
    const int b = chain.fork();
    chain.use(b);
    chain.drop(1);
    chain.mine();  // B: another 5
    chain.unknown_above = 4;
    r = run(io_, s->step());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(deposits(*db_).begin()->second, "pending");
    chain.unknown_above.reset();
    follow(*s);
    EXPECT_EQ(deposits(*db_).begin()->second, "pending");  // block 3 is common to both
    EXPECT_EQ(event_types(*db_), (std::vector<std::string>{"deposit.pending"}));
}

// A block that does not extend our tip while our tip is still canonical
// (two backends disagreeing): an error with backoff, not a busy loop.
TEST_F(ScannerTest, AReorgThatDropsNothingIsAnErrorNotASpin) {
    class Liar : public ScriptedChain {
    public:
        bool lie = false;
        asio::awaitable<Result<chain::ScanResult>> scan(std::uint64_t from, std::uint64_t to,
                                                        const chain::WatchSet& w) override {
            auto r = co_await ScriptedChain::scan(from, to, w);
            if (lie && r && !r->blocks.empty()) r->blocks.front().block.parent = "0xsomewhere-else";
            co_return r;
        }
    } chain;
    auto s = scanner(chain, options(2));
    chain.mine_n(3);
    follow(*s);
    chain.mine_n(2);
    chain.lie = true;
    auto r = run(io_, s->step());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::conflict);
    chain.lie = false;
    follow(*s);
    auto cur = store::get_cursor(*db_, "test");
    EXPECT_EQ((*cur)->height, 5u);
}

// Nothing at or below the finalized height is ever reverted: the chain halts.
TEST_F(ScannerTest, AReorgBelowFinalityHalts) {
    ScriptedChain chain;
    auto o = options(2);
    o.max_reorg_depth = 20;
    auto s = scanner(chain, o);
    chain.mine_n(2);
    chain.mine({transfer("0xfin", 0, "k1", 7)});  // 3
    chain.mine_n(5);
    chain.finalized = 4;
    follow(*s);
    ASSERT_EQ(deposits(*db_).begin()->second, "confirmed");
    chain.drop(6);  // replaces 3..8, below finalized 4
    chain.finalized.reset();
    chain.mine_n(7);
    scanner::StepOutcome last{};
    for (int i = 0; i < 5; ++i) {
        auto r = run(io_, s->step());
        if (r.ok()) last = *r;
        if (r.ok() && last == scanner::StepOutcome::halted) break;
    }
    EXPECT_EQ(last, scanner::StepOutcome::halted);
    EXPECT_EQ(deposits(*db_).begin()->second, "confirmed");
    auto cur = store::get_cursor(*db_, "test");
    EXPECT_NE((*cur)->halted->find("finalized"), std::string::npos);
}

// Finality is a block, not a height (issue 19). Behind a load balancer the
// head and its finalized block come from backend A while the blocks come
// from B, which holds a losing fork: B's deposit at or below A's finalized
// height is never confirmed and the chain does not halt, also after a
// restart; once B's view is gone the fork is reverted and A's deposit is
// confirmed once.
TEST_F(ScannerTest, AFinalizedBlockOfAnotherForkConfirmsNothingAndHaltsNothing) {
    ScriptedChain chain;
    auto o = options(1);
    o.finalized = true;
    o.max_reorg_depth = 20;
    auto s = scanner(chain, o);
    chain.mine_n(2);  // 1, 2: shared
    chain.finalized = 2;
    follow(*s);
    const int a = 0;
    const int b = chain.fork();
    chain.use(a);
    chain.mine({transfer("0xa", 0, "k1", 1)});  // A: 3
    chain.mine_n(4);                            // A: 4..7
    chain.use(b);
    chain.mine({transfer("0xb", 0, "k2", 2)});  // B: 3, the losing fork
    chain.mine_n(4);                            // B: 4..7
    chain.finalized = 5;
    chain.finalized_branch = a;                 // head() from A, blocks from B
    auto steps = [&](scanner::Scanner& sc) {
        for (int i = 0; i < 12; ++i) {
            auto r = run(io_, sc.step());
            if (r.ok()) {
                EXPECT_NE(*r, scanner::StepOutcome::halted);
            }
        }
    };
    steps(*s);
    EXPECT_EQ(only_deposit_status("0xb"), "pending");
    auto cur = store::get_cursor(*db_, "test");
    ASSERT_TRUE(cur.ok() && *cur);
    EXPECT_FALSE((*cur)->halted.has_value());
    EXPECT_EQ((*cur)->height, 7u);
    EXPECT_EQ((*cur)->finalized, std::optional<std::uint64_t>(2));  // only the shared block is proven final
    EXPECT_EQ((*cur)->finalized_hash, std::optional<std::string>(chain.at(2)->hash));
    // The disagreement is an error to retry, not a halt.
    auto r = run(io_, s->step());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::conflict);
    EXPECT_NE(r.error().message.find("finalized block at 5"), std::string::npos) << r.error().message;

    s.reset();  // a restart while the balancer still mixes its backends
    scanner::WatchRegistry watch;
    scanner::Scanner again(io_.get_executor(), o, chain, *store_, watch, clock_);
    steps(again);
    EXPECT_EQ(only_deposit_status("0xb"), "pending");

    chain.use(a);  // B caught up: every answer is A's now
    chain.finalized_branch.reset();
    follow(again);
    EXPECT_EQ(only_deposit_status("0xb"), "reverted");
    EXPECT_EQ(only_deposit_status("0xa"), "confirmed");
    EXPECT_EQ(event_types(*db_), (std::vector<std::string>{"deposit.pending", "deposit.reverted", "deposit.pending",
                                                           "deposit.confirmed"}));
    cur = store::get_cursor(*db_, "test");
    EXPECT_EQ((*cur)->finalized, std::optional<std::uint64_t>(5));
    EXPECT_EQ((*cur)->finalized_hash, std::optional<std::string>(chain.at(5)->hash));
}

// Catching up from far behind: the finalized block named while the cursor
// was still below it is proven when the cursor gets there, so deposits are
// confirmed during the catch-up, not only once at the head.
TEST_F(ScannerTest, FinalityClaimsAreProvenDuringACatchUp) {
    ScriptedChain chain;
    auto o = options(1);
    o.finalized = true;
    o.max_batch = 2;
    o.poll_interval = std::chrono::milliseconds(0);  // the head is read before every batch
    auto s = scanner(chain, o);
    chain.mine({transfer("0xc", 0, "k1", 1)});  // 1
    chain.mine_n(11);                            // 2..12
    chain.finalized = 4;
    (void)run(io_, s->step());                   // head read: claims (4, ...); scans 1..2
    chain.mine_n(8);                             // 13..20: the node moves on
    chain.finalized = 16;
    bool confirmed_before_head = false;
    for (int i = 0; i < 40; ++i) {
        auto r = run(io_, s->step());
        ASSERT_TRUE(r.ok()) << r.error().describe();
        auto cur = store::get_cursor(*db_, "test");
        if ((*cur)->height < 16 && only_deposit_status("0xc") == "confirmed") confirmed_before_head = true;
        if (*r == scanner::StepOutcome::caught_up) break;
    }
    EXPECT_TRUE(confirmed_before_head);
    EXPECT_EQ(only_deposit_status("0xc"), "confirmed");
}

// An L2's finalized block trails its head by thousands of blocks (Arbitrum:
// L1 finality, ~13 minutes), more than the blocks kept for reorg walks. The
// blocks above the proven finalized one are kept, so the next finalized block
// can be proven against them and deposits are confirmed.
TEST_F(ScannerTest, FinalityFarBehindTheHeadIsStillProven) {
    ScriptedChain chain;
    auto o = options(1);
    o.finalized = true;
    o.max_batch = 50;
    auto s = scanner(chain, o);
    chain.mine_n(2);
    chain.mine({transfer("0xl2", 0, "k1", 1)});  // 3
    chain.finalized = 0;
    follow(*s);
    for (int i = 0; i < 200; ++i) {
        chain.mine();
        if (chain.tip() > 150) chain.finalized = chain.tip() - 150;  // keep = 108 blocks
        follow(*s);
        if (chain.tip() < 153) {
            ASSERT_EQ(only_deposit_status("0xl2"), "pending") << chain.tip();
        }
    }
    EXPECT_EQ(only_deposit_status("0xl2"), "confirmed");
    auto cur = store::get_cursor(*db_, "test");
    EXPECT_EQ((*cur)->finalized, std::optional<std::uint64_t>(chain.tip() - 150));
    // Below the proven finalized block, blocks are pruned as before.
    EXPECT_FALSE(store::get_block(*db_, "test", 2)->has_value());
    EXPECT_TRUE(store::get_block(*db_, "test", chain.tip() - 140)->has_value());
}

// A finalized height stored by an older version, never proven by hash
// (schema 006 forgets it), and a claim that cannot be checked against our
// blocks, never halt a reorg above the proven block.
TEST_F(ScannerTest, AnUnprovenFinalizedHeightNeverHalts) {
    ScriptedChain chain;
    auto o = options(1);
    o.max_reorg_depth = 20;
    auto s = scanner(chain, o);
    chain.mine_n(3);
    chain.mine({transfer("0xu", 0, "k1", 1)});  // 4
    chain.mine_n(2);
    follow(*s);
    // The stored cursor says "finalized 6" without a hash (what an older
    // version wrote: a height some backend claimed).
    ASSERT_TRUE(db_->exec("UPDATE chain_cursors SET finalized = 6, finalized_hash = NULL").ok());
    EXPECT_FALSE((*store::get_cursor(*db_, "test"))->finalized.has_value());
    s.reset();
    scanner::WatchRegistry watch;
    scanner::Scanner again(io_.get_executor(), o, chain, *store_, watch, clock_);
    const int b = chain.fork();
    chain.use(b);
    chain.drop(4);  // 3..6 replaced
    chain.mine_n(5);
    follow(again);
    EXPECT_EQ(only_deposit_status("0xu"), "reverted");
    EXPECT_FALSE((*store::get_cursor(*db_, "test"))->halted.has_value());
}

// Solana-like: heights strictly increase, skipped heights move the cursor,
// including ranges of only skipped heights and trailing ones.
TEST_F(ScannerTest, SkippedHeightsAreFollowed) {
    ScriptedChain chain;
    auto o = options(1);
    o.max_batch = 3;
    auto s = scanner(chain, o);
    chain.mine();                                   // 1
    chain.skip();                                   // 2 skipped
    chain.mine({transfer("0xs1", 0, "k1", 1)});     // 3
    chain.skip(5);                                  // 4..8: a whole batch of nothing
    chain.mine({transfer("0xs2", 3, "k2", 2)});     // 9
    chain.skip(2);                                  // 10, 11 trailing
    follow(*s);
    auto cur = store::get_cursor(*db_, "test");
    ASSERT_TRUE(cur.ok() && *cur);
    EXPECT_EQ((*cur)->height, 11u);
    EXPECT_EQ((*cur)->last_block_height(), 9u);
    EXPECT_EQ(deposits(*db_).size(), 2u);
    chain.mine({transfer("0xs3", 1, "k1", 3)});     // 12, parent = 9
    follow(*s);
    EXPECT_EQ(deposits(*db_).size(), 3u);
    for (auto& [id, st] : deposits(*db_)) EXPECT_EQ(st, "confirmed");
}

// A slot dropped by fork choice before finality: the walk steps over stored
// blocks (not heights), a stored slot that is now skipped left the chain.
TEST_F(ScannerTest, ADroppedSlotIsRevertedAndTheWalkStepsOverStoredBlocks) {
    ScriptedChain chain;
    auto o = options(1);
    o.finalized = true;
    auto s = scanner(chain, o);
    chain.mine();                                   // 1
    chain.skip(2);                                  // 2, 3
    chain.mine();                                   // 4
    const int b = chain.fork();
    chain.use(0);
    chain.mine({transfer("0xdrop", 0, "k1", 5)});   // A: 5
    chain.mine();                                   // A: 6
    chain.finalized = 1;
    follow(*s);
    ASSERT_EQ(deposits(*db_).begin()->second, "pending");
    chain.use(b);                                   // B: 5 and 6 skipped, 7 on top of 4
    chain.skip(2);
    chain.mine();
    chain.finalized = 4;
    follow(*s);
    EXPECT_EQ(deposits(*db_).begin()->second, "reverted");
    auto cur = store::get_cursor(*db_, "test");
    EXPECT_EQ((*cur)->height, 7u);
}

// The deposit belongs to whoever held the address when it was paid (block
// time), not when it was scanned.
TEST_F(ScannerTest, AttributionAtBlockTime) {
    ScriptedChain chain;
    const std::int64_t t0 = clock_.now_ms();
    bind(*db_, "old_holder", "ADDR1", t0 - 60'000, t0 - 10'000);  // unbound 10 s ago
    bind(*db_, "new_holder", "ADDR1", t0 - 5'000);                // cooldown 5 s, bound again
    auto s = scanner(chain, options(1));
    chain.time_ms = t0 - 30'000;  // paid while the old holder had it; scanned now
    chain.mine({transfer("0xold", 0, "k1", 1)});
    chain.time_ms = t0 - 1'000;
    chain.mine({transfer("0xnew", 0, "k1", 2)});
    chain.time_ms = 0;  // unknown block time: the holder now
    chain.mine({transfer("0xnow", 0, "k1", 3)});
    follow(*s);
    std::map<std::string, std::optional<std::string>> refs;
    auto q = db_->prepare("SELECT tx_hash, reference FROM deposits");
    while (*q.step()) refs[q.text(0)] = q.opt_text(1);
    EXPECT_EQ(refs["0xold"], std::optional<std::string>("old_holder"));
    EXPECT_EQ(refs["0xnew"], std::optional<std::string>("new_holder"));
    EXPECT_EQ(refs["0xnow"], std::optional<std::string>("new_holder"));
}

// SPEC §10: block clocks run behind. A deposit in a block dated before the
// binding began (by less than the chain's attribution_skew, 2m by default)
// is the binding's when nobody held the address then; beyond the skew, or
// with a narrower one, it is nobody's.
TEST_F(ScannerTest, ABindingTakesDepositsDatedWithinTheSkewBeforeIt) {
    ScriptedChain chain;
    const std::int64_t t0 = clock_.now_ms();
    bind(*db_, "player", "ADDR1", t0 - 10'000);
    auto s = scanner(chain, options(1));
    chain.time_ms = t0 - 50'000;  // 40 s before the binding
    chain.mine({transfer("0xskew", 0, "k1", 1)});
    chain.time_ms = t0 - 200'000;  // 190 s before: beyond 2m
    chain.mine({transfer("0xold", 0, "k1", 2)});
    follow(*s);
    std::map<std::string, std::optional<std::string>> refs;
    auto q = db_->prepare("SELECT tx_hash, reference FROM deposits");
    while (*q.step()) refs[q.text(0)] = q.opt_text(1);
    EXPECT_EQ(refs["0xskew"], std::optional<std::string>("player"));
    EXPECT_EQ(refs["0xold"], std::nullopt);
}

TEST_F(ScannerTest, ANarrowSkewLeavesAnEarlierDatedDepositUnattributed) {
    ScriptedChain chain;
    const std::int64_t t0 = clock_.now_ms();
    bind(*db_, "player", "ADDR1", t0 - 10'000);
    auto o = options(1);
    o.attribution_skew = std::chrono::seconds(5);
    auto s = scanner(chain, o);
    chain.time_ms = t0 - 50'000;
    chain.mine({transfer("0xskew", 0, "k1", 1)});
    chain.time_ms = t0 - 12'000;  // within 5 s
    chain.mine({transfer("0xnear", 0, "k1", 2)});
    follow(*s);
    std::map<std::string, std::optional<std::string>> refs;
    auto q = db_->prepare("SELECT tx_hash, reference FROM deposits");
    while (*q.step()) refs[q.text(0)] = q.opt_text(1);
    EXPECT_EQ(refs["0xskew"], std::nullopt);
    EXPECT_EQ(refs["0xnear"], std::optional<std::string>("player"));
}

TEST_F(ScannerTest, ATransferThatNeedsMoreConfirmationsWaitsForThem) {
    ScriptedChain chain;
    auto s = scanner(chain, options(2));
    auto coinbase = transfer("0xcb", 0, "k1", 50000000u);
    coinbase.min_confirmations = 5;
    chain.mine({coinbase, transfer("0xplain", 1, "k2", 1)});
    chain.mine_n(2);
    follow(*s);
    std::map<std::string, std::string> by_tx;
    auto q = db_->prepare("SELECT tx_hash, status, required_confirmations FROM deposits");
    while (*q.step()) by_tx[q.text(0)] = q.text(1) + "/" + std::to_string(q.int64(2));
    EXPECT_EQ(by_tx["0xplain"], "confirmed/2");
    EXPECT_EQ(by_tx["0xcb"], "pending/5");
    chain.mine_n(2);
    follow(*s);
    EXPECT_EQ(only_deposit_status("0xcb"), "confirmed");
}

TEST_F(ScannerTest, RunRetriesTransientStartUpChecksAndReportsHealth) {
    ScriptedChain chain;
    chain.verify_errors = {make_error(Errc::transport, "connection refused"),
                           make_error(Errc::unavailable, "node is syncing")};
    auto o = options(1);
    o.poll_interval = std::chrono::milliseconds(5);
    o.max_backoff = std::chrono::milliseconds(20);
    auto s = scanner(chain, o);
    chain.mine_n(3);
    auto f = asio::co_spawn(io_, s->run(), asio::use_future);
    io_.restart();
    for (int i = 0; i < 400 && (!board_.get("test") || board_.get("test")->status != "ok"); ++i)
        io_.run_for(std::chrono::milliseconds(5));
    auto h = board_.get("test");
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->status, "ok");
    EXPECT_EQ(h->scanned, std::optional<std::uint64_t>(3));
    ASSERT_TRUE(h->last_error.has_value());
    EXPECT_NE(h->last_error->find("syncing"), std::string::npos);
    s->stop();
    io_.run_for(std::chrono::seconds(2));
    EXPECT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::ready);
}

TEST_F(ScannerTest, AConfigurationMismatchAtStartIsFatal) {
    ScriptedChain chain;
    chain.verify_errors = {make_error(Errc::invalid_input, "token USDT: decimals() returns 18, the config says 6")};
    auto s = scanner(chain, options(1));
    std::optional<Error> fatal;
    s->on_config_mismatch([&](const Error& e) { fatal = e; });
    run(io_, s->run());
    ASSERT_TRUE(fatal.has_value());
    EXPECT_NE(fatal->message.find("decimals"), std::string::npos);
    EXPECT_TRUE(deposits(*db_).empty());
}

}  // namespace

// --- Re-check of one transaction (SPEC §10) -------------------------------------

TEST_F(ScannerTest, RecheckRecordsATransferBelowTheStartOnceWithTheScannersIdAndEvents) {
    ScriptedChain chain;
    bind(*db_, "player_42", "ADDR1");
    chain.mine();
    chain.mine({transfer("0xt1", 7, "k1", 125500000), transfer("0xt1", 9, "unwatched", 5)});
    chain.mine_n(6);
    auto o = options(3);
    o.start = 6;  // the transfer at height 2 is below the start
    auto s = scanner(chain, o);
    follow(*s);
    EXPECT_TRUE(deposits(*db_).empty());

    auto r = run(io_, s->recheck("0xt1"));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->recorded, 1u);
    ASSERT_EQ(r->deposits.size(), 1u);
    const auto& d = r->deposits[0];
    EXPECT_EQ(d.id, deposit_id("test", "0xt1", 7, chain.at(2)->hash));  // what a scan would have minted
    EXPECT_EQ(d.reference, std::optional<std::string>("player_42"));
    EXPECT_EQ(d.status, "pending");
    EXPECT_EQ(d.block_number, 2u);
    EXPECT_EQ(d.confirmations, 7u);
    EXPECT_EQ(event_types(*db_), (std::vector<std::string>{"deposit.pending"}));
    EXPECT_EQ(events(*db_)[0].substr(0, events(*db_)[0].find(' ')), change_event_id(d.id, 1));

    // Deep enough: the scanner's own confirmation pass confirms it.
    follow(*s);
    EXPECT_EQ(only_deposit_status("0xt1"), "confirmed");
    EXPECT_EQ(event_types(*db_), (std::vector<std::string>{"deposit.pending", "deposit.confirmed"}));

    // Again: nothing recorded, no event.
    auto again = run(io_, s->recheck("0xt1"));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->recorded, 0u);
    ASSERT_EQ(again->deposits.size(), 1u);
    EXPECT_EQ(again->deposits[0].status, "confirmed");
    EXPECT_EQ(events(*db_).size(), 2u);
}

TEST_F(ScannerTest, RecheckOfAScannedTransactionRecordsNothing) {
    ScriptedChain chain;
    auto s = scanner(chain, options(3));
    chain.mine({transfer("0xt1", 1, "k2", 10)});
    follow(*s);
    ASSERT_EQ(deposits(*db_).size(), 1u);
    auto r = run(io_, s->recheck("0xt1"));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->recorded, 0u);
    ASSERT_EQ(r->deposits.size(), 1u);
    EXPECT_EQ(r->deposits[0].id, deposits(*db_).begin()->first);
    EXPECT_EQ(events(*db_).size(), 1u);
}

TEST_F(ScannerTest, RecheckAnswersUnknownPendingAndMalformed) {
    ScriptedChain chain;
    auto s = scanner(chain, options(3));
    chain.mine_n(3);
    follow(*s);
    chain.pending_txs.insert("0xmempool");
    auto unknown = run(io_, s->recheck("0xnope"));
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code, Errc::not_found);
    auto pending = run(io_, s->recheck("0xmempool"));
    ASSERT_FALSE(pending.ok());
    EXPECT_EQ(pending.error().code, Errc::conflict);
    EXPECT_NE(pending.error().message.find("not mined yet"), std::string::npos);
    auto bad = run(io_, s->recheck("zz"));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, Errc::invalid_input);
    auto failing = (chain.fail_next = 1, run(io_, s->recheck("0xt1")));
    ASSERT_FALSE(failing.ok());
    EXPECT_EQ(failing.error().code, Errc::transport);
    EXPECT_TRUE(deposits(*db_).empty());
    EXPECT_TRUE(events(*db_).empty());
}

TEST_F(ScannerTest, RecheckRefusesABlockOffTheChainWeFollow) {
    ScriptedChain chain;
    auto s = scanner(chain, options(3));
    chain.mine_n(3);
    follow(*s);
    // A backend on another branch has the transaction in its own block 2.
    const int other = chain.fork();
    chain.use(other);
    chain.drop(2);
    chain.mine({transfer("0xt9", 0, "k1", 5)});
    chain.mine();
    auto r = run(io_, s->recheck("0xt9"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::conflict);
    EXPECT_NE(r.error().message.find("not on the chain we follow"), std::string::npos);
    EXPECT_TRUE(deposits(*db_).empty());
}

TEST_F(ScannerTest, ARecheckAheadOfTheCursorWhoseBlockLeavesIsReverted) {
    ScriptedChain chain;
    auto s = scanner(chain, options(3));
    chain.mine_n(3);
    follow(*s);
    chain.mine({transfer("0xt5", 0, "k1", 5)});  // height 4, not scanned yet
    auto r = run(io_, s->recheck("0xt5"));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->recorded, 1u);
    // The block leaves before the scanner reaches it; the scanner links another one there.
    chain.drop(1);
    chain.mine();
    chain.mine_n(3);
    follow(*s);
    EXPECT_EQ(only_deposit_status("0xt5"), "reverted");
    EXPECT_EQ(event_types(*db_), (std::vector<std::string>{"deposit.pending", "deposit.reverted"}));
    // And one that stays is simply found again by the scan (same id): no second event.
    chain.mine({transfer("0xt6", 0, "k2", 6)});
    auto r2 = run(io_, s->recheck("0xt6"));
    ASSERT_TRUE(r2.ok());
    EXPECT_EQ(r2->recorded, 1u);
    chain.mine_n(3);
    follow(*s);
    EXPECT_EQ(only_deposit_status("0xt6"), "confirmed");
    EXPECT_EQ(events(*db_).size(), 4u);
}
