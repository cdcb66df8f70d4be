// The real scanner's beats against the watchdog rule (core/watchdog.hpp):
// a chain loop that sleeps at the head or backs off after errors counts as
// alive however long it sleeps; a loop whose node call never returns is
// reported stuck once `stall` has passed, and only then.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <unistd.h>

#include <filesystem>

#include "core/watchdog.hpp"
#include "scanner/scanner.hpp"
#include "store/store.hpp"

namespace asio = boost::asio;
using namespace depositd;

namespace {

constexpr std::int64_t kStall = 60'000;

std::string hash_of(std::uint64_t h) { return "0xb" + std::to_string(h); }

// Built outside the coroutines (GCC 12: no literals or brace-init aggregates
// in co_await/co_return full-expressions).
Error failure(const char* what) { return make_error(Errc::transport, what); }
chain::Head head_at(std::uint64_t h) { return chain::Head{h, std::nullopt}; }

// A straight chain of empty blocks; head() can fail, or hang until released.
class HangingChain : public chain::ChainAdapter {
public:
    explicit HangingChain(asio::any_io_executor ex) : hang_timer_(ex) {}

    std::uint64_t height = 5;
    bool hang = false;
    bool fail = false;
    int head_calls = 0;

    void release() { hang_timer_.cancel(); }

    asio::awaitable<Result<chain::Head>> head() override {
        ++head_calls;
        if (hang) {
            // A call that never returns (an RPC stuck past every timeout).
            hang_timer_.expires_at(asio::steady_timer::time_point::max());
            co_await hang_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
            co_return failure("released");
        }
        if (fail) co_return failure("connection refused");
        co_return head_at(height);
    }
    asio::awaitable<Result<chain::ScanResult>> scan(std::uint64_t from, std::uint64_t to,
                                                    const chain::WatchSet&) override {
        chain::ScanResult r;
        for (auto h = from; h <= to && h <= height; ++h) {
            chain::BlockTransfers b;
            b.block = block(h);
            r.blocks.push_back(std::move(b));
        }
        r.scanned_to = std::min(to, height);
        co_return r;
    }
    asio::awaitable<Result<chain::BlockAt>> block_at(std::uint64_t h) override {
        chain::BlockAt at;
        if (h <= height) at = chain::present_or_unknown(block(h));
        co_return at;
    }
    asio::awaitable<Result<chain::TxTransfers>> transaction(std::string, std::optional<std::string>,
                                                            const chain::WatchSet&) override {
        co_return chain::TxTransfers{};
    }

private:
    static chain::BlockRef block(std::uint64_t h) {
        return chain::BlockRef{h, hash_of(h), h ? hash_of(h - 1) : "0x0", 0};
    }
    asio::steady_timer hang_timer_;
};

class ScannerWatchdogTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("scanner_watchdog_" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        auto s = store::Store::open((dir_ / "db.sqlite").string());
        ASSERT_TRUE(s.ok()) << s.error().describe();
        store_ = std::move(*s);
    }
    void TearDown() override {
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    std::unique_ptr<scanner::Scanner> scanner(HangingChain& chain, std::chrono::milliseconds poll) {
        scanner::ScannerOptions o;
        o.chain_id = "test";
        o.confirmations = 1;
        o.start = 0;
        o.poll_interval = poll;
        o.max_backoff = std::chrono::milliseconds(30'000);
        return std::make_unique<scanner::Scanner>(io_.get_executor(), o, chain, *store_, watch_, clock_, &board_);
    }
    // Runs the io_context until pred() (bounded).
    template <class Pred>
    bool run_until(Pred pred) {
        io_.restart();
        for (int i = 0; i < 1000; ++i) {
            if (pred()) return true;
            io_.run_for(std::chrono::milliseconds(5));
        }
        return pred();
    }
    std::vector<watchdog::StuckLoop> stuck() const {
        return watchdog::stuck_loops({watchdog::chain_beat("test", *board_.get("test"), started_)}, clock_.now_ms(),
                                     kStall);
    }
    void finish(scanner::Scanner& s, HangingChain& chain, std::future<void>& f) {
        s.stop();
        chain.release();
        io_.restart();
        for (int i = 0; i < 400 && f.wait_for(std::chrono::seconds(0)) != std::future_status::ready; ++i)
            io_.run_for(std::chrono::milliseconds(5));
        EXPECT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    }

    std::filesystem::path dir_;
    std::unique_ptr<store::Store> store_;
    asio::io_context io_;
    ManualClock clock_{1'700'000'000'000};
    std::int64_t started_ = 1'700'000'000'000;
    scanner::WatchRegistry watch_;
    HealthBoard board_;
};

}  // namespace

TEST_F(ScannerWatchdogTest, AtTheHeadTheLoopSleepsAndStaysAliveHoweverLong) {
    HangingChain chain(io_.get_executor());
    auto s = scanner(chain, std::chrono::hours(1));
    auto f = asio::co_spawn(io_, s->run(), asio::use_future);
    ASSERT_TRUE(run_until([&] { return board_.get("test")->status == "ok" && board_.get("test")->sleep_until > 0; }));
    EXPECT_EQ(board_.get("test")->sleep_until, clock_.now_ms() + 3'600'000);
    clock_.advance(std::chrono::minutes(59));  // still inside its poll interval: 59 > stall, yet alive
    EXPECT_TRUE(stuck().empty());
    clock_.advance(std::chrono::minutes(1) + std::chrono::milliseconds(kStall) + std::chrono::milliseconds(1));
    // Its sleep ended stall ago and no step ended since (the io_context did not run): stuck.
    EXPECT_EQ(stuck().size(), 1u);
    finish(*s, chain, f);
}

TEST_F(ScannerWatchdogTest, BackingOffAfterErrorsIsAlive) {
    HangingChain chain(io_.get_executor());
    chain.fail = true;
    auto s = scanner(chain, std::chrono::milliseconds(5));
    auto f = asio::co_spawn(io_, s->run(), asio::use_future);
    ASSERT_TRUE(run_until([&] { return board_.get("test")->last_error && board_.get("test")->sleep_until > 0; }));
    const auto h = *board_.get("test");
    EXPECT_GT(h.sleep_until, clock_.now_ms());  // backing off
    clock_.advance(std::chrono::milliseconds(h.sleep_until - clock_.now_ms()) + std::chrono::milliseconds(kStall));
    EXPECT_TRUE(stuck().empty());
    finish(*s, chain, f);
}

TEST_F(ScannerWatchdogTest, ACallThatNeverReturnsIsStuckAfterStall) {
    HangingChain chain(io_.get_executor());
    auto s = scanner(chain, std::chrono::milliseconds(5));
    auto f = asio::co_spawn(io_, s->run(), asio::use_future);
    ASSERT_TRUE(run_until([&] { return board_.get("test")->status == "ok"; }));
    chain.hang = true;
    const int calls = chain.head_calls;
    // The loop's next step calls head(), which never returns.
    ASSERT_TRUE(run_until([&] { return chain.head_calls > calls; }));
    for (int i = 0; i < 20; ++i) io_.run_for(std::chrono::milliseconds(5));  // it really is stuck: nothing moves
    // Its last wait (5 ms) ended; the step since has not: not stuck yet, a
    // step may take a while.
    EXPECT_EQ(board_.get("test")->sleep_until, clock_.now_ms() + 5);
    EXPECT_TRUE(stuck().empty());
    clock_.advance(std::chrono::milliseconds(kStall));
    EXPECT_TRUE(stuck().empty());
    clock_.advance(std::chrono::milliseconds(1) + std::chrono::milliseconds(5));
    auto st = stuck();
    ASSERT_EQ(st.size(), 1u);
    EXPECT_EQ(st[0].name, "chain test");
    finish(*s, chain, f);
}
