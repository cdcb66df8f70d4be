#pragma once
// The chain-agnostic follower: the one place where cursors, parent-hash
// continuity, reorg walks, confirmations and deposit status changes are
// decided. Adapters only fetch and decode (chain/adapter.hpp).
//
// Every step commits new deposits, status changes, their outbox events, the
// recent block hashes and the cursor move in ONE SQLite transaction: a crash
// at any instant followed by a restart yields the same deposits and the same
// event ids (ids are derived from what identifies them on chain).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "chain/adapter.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/result.hpp"

namespace depositd::store {
class Database;
struct Deposit;
}

namespace depositd::scanner {

// The watch sets, one per protocol, shared by every chain of that protocol
// (one EVM address is watched on every EVM chain). Reloaded incrementally
// when the pool grows, without restarting.
class WatchRegistry {
public:
    chain::WatchSet& set(Protocol p) { return sets_[p].set; }
    // Loads addresses added since the last refresh. Cheap when nothing changed.
    Status refresh(store::Database& db, Protocol p);

private:
    struct Entry {
        chain::WatchSet set;
        std::int64_t loaded_up_to = 0;
    };
    std::map<Protocol, Entry> sets_;
};

struct ScannerOptions {
    ChainId chain_id;
    Protocol protocol = Protocol::evm;
    std::uint32_t confirmations = 12;
    bool finalized = false;                      // confirm at the chain's finalized head instead
    std::optional<std::uint64_t> start;          // nullopt = the head at first start
    std::uint32_t max_batch = 500;               // blocks per scan call
    std::uint32_t max_reorg_depth = 64;
    std::chrono::milliseconds poll_interval{3000};
    std::chrono::milliseconds max_backoff{30000};
};

enum class StepOutcome {
    progressed,   // committed blocks, more to do
    caught_up,    // cursor is at the head: wait poll_interval
    reorged,      // walked back to a common ancestor
    halted,       // reorg deeper than max_reorg_depth: the chain is stopped
};

class Scanner {
public:
    Scanner(boost::asio::any_io_executor executor, ScannerOptions options, chain::ChainAdapter& adapter,
            store::Database& db, WatchRegistry& watch, const Clock& clock);

    // Called after a commit that created outbox events (wakes the webhook drain).
    void on_events(std::function<void()> fn) { on_events_ = std::move(fn); }

    // Called inside the commit transaction for every deposit status change,
    // after the deposit row and its event are written, with the deposit as it
    // is now and the event type (deposit.pending|confirmed|reverted). Orders
    // follow their deposits this way, atomically with them. An error rolls
    // the whole step back (it is retried).
    using DepositObserver = std::function<Status(store::Database&, const store::Deposit&, const std::string& event_type,
                                                 std::int64_t now_ms)>;
    void on_deposit_change(DepositObserver fn) { on_deposit_change_ = std::move(fn); }

    // One step of the follower (tests drive this directly).
    boost::asio::awaitable<Result<StepOutcome>> step();

    // Loops until stop() or a halt: never waits between batches during a
    // catch-up; polls every poll_interval at the head; backs off on errors.
    boost::asio::awaitable<void> run();
    void stop();

    const ScannerOptions& options() const { return options_; }

private:
    struct Cursor {
        std::uint64_t height = 0;
        std::string hash;
    };
    boost::asio::awaitable<Result<Cursor>> load_or_init_cursor(const chain::Head& head);
    boost::asio::awaitable<Result<StepOutcome>> handle_reorg(const Cursor& cursor);
    Status commit_blocks(const std::vector<chain::BlockTransfers>& blocks, const chain::Head& head);
    Status update_confirmations(const chain::Head& head, std::uint64_t scanned, int& events);
    bool is_confirmed(std::uint64_t block_number, const chain::Head& head) const;
    // The deposit's event (and the observer) for one status change.
    Status record_change(const store::Deposit& d, const std::string& type, std::int64_t now_ms);

    boost::asio::any_io_executor executor_;
    ScannerOptions options_;
    chain::ChainAdapter& adapter_;
    store::Database& db_;
    WatchRegistry& watch_;
    const Clock& clock_;
    std::function<void()> on_events_;
    DepositObserver on_deposit_change_;
    std::shared_ptr<boost::asio::steady_timer> timer_;
    bool stopping_ = false;
    std::uint64_t last_logged_head_ = 0;
};

}  // namespace depositd::scanner
