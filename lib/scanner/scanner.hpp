#pragma once
// The chain-agnostic follower: the one place where cursors, parent-hash
// continuity, canonical checks, reorg walks, confirmations and deposit
// status changes are decided. Adapters only fetch and decode
// (chain/adapter.hpp); the database is reached through the writer thread
// (store/store.hpp), never from the network thread.
//
// Every commit writes new deposits, status changes, their outbox events, the
// recent block hashes and the cursor move in ONE SQLite transaction: a crash
// at any instant followed by a restart yields the same deposits and the same
// event ids (ids are derived from what identifies them on chain and from
// the number of the status change).
//
// What the scanner believes about the node (DESIGN.md "Nodes lie a little"):
//  - a block extends our chain only if its parent is our last block's hash;
//    heights strictly increase (Solana skips slots), `scan()` says how far it
//    looked so trailing skipped heights still move the cursor;
//  - at the head, every poll checks that our last block is still the node's
//    block at that height; a deposit is confirmed only while its block is on
//    the chain we just verified;
//  - a height the node does not know ("unknown") is never evidence that our
//    block left the chain: the step fails and is retried;
//  - finality is proven by hash, never taken from a height: the node names
//    its finalized block (height F, hash H); a block of ours counts as final
//    only once our stored block at F has hash H (parent links prove the
//    blocks below). A different block at F is a reorg to follow (walked like
//    any other), not a halt; with `confirmations = "finalized"` deposits are
//    confirmed at or below the highest proven finalized block only;
//  - nothing at or below the highest PROVEN finalized block is ever
//    reverted: a node that contradicts it halts the chain loudly instead.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "chain/adapter.hpp"
#include "core/clock.hpp"
#include "core/health.hpp"
#include "core/ids.hpp"
#include "core/result.hpp"
#include "store/deposits.hpp"
#include "store/events.hpp"
#include "store/lease.hpp"

namespace depositd::store {
class Database;
class Store;
}  // namespace depositd::store

namespace depositd::scanner {

class Leadership;

// The watch sets, one per protocol, shared by every chain of that protocol
// (one EVM address is watched on every EVM chain). Reloaded incrementally
// when the pool grows, without restarting. Used on the network thread only.
class WatchRegistry {
public:
    chain::WatchSet& set(Protocol p) { return sets_[p].set; }
    // Loads addresses added since the last refresh (reads on the writer
    // thread, inserts here). Cheap when nothing changed.
    boost::asio::awaitable<Status> refresh(store::Store& store, Protocol p);

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
    std::uint32_t max_batch = 500;               // heights per scan call
    std::uint32_t max_reorg_depth = 64;
    std::chrono::milliseconds poll_interval{3000};
    std::chrono::milliseconds max_backoff{30000};
    bool pipeline = true;                        // fetch the next range while the current one commits
    // A binding also takes deposits whose block is dated up to this long
    // before it began (SPEC §10 "Attribution"; [[chains]].attribution_skew).
    std::chrono::milliseconds attribution_skew{120'000};
    // Where the chain is configured ("file:line"), for fatal start-up errors.
    std::string source;
};

// What a re-check found (SPEC §10 "Re-check a transaction").
struct RecheckResult {
    std::vector<store::Deposit> deposits;  // every deposit of the transaction to a watched address, as stored now
    std::size_t recorded = 0;              // how many of them this re-check recorded (or revived)
};

enum class StepOutcome {
    progressed,   // committed heights, more to do
    caught_up,    // cursor is at the head (and verified canonical): wait poll_interval
    reorged,      // walked back to a common ancestor and reverted what left the chain
    halted,       // reorg deeper than max_reorg_depth or below finality: the chain is stopped
};

class Scanner {
public:
    Scanner(boost::asio::any_io_executor executor, ScannerOptions options, chain::ChainAdapter& adapter,
            store::Store& store, WatchRegistry& watch, const Clock& clock, HealthBoard* health = nullptr);
    ~Scanner();

    // Called after a commit that created outbox events (wakes the webhook drain).
    void on_events(std::function<void()> fn) { on_events_ = std::move(fn); }

    // Called on the writer thread inside the commit transaction for every
    // deposit status change, after the deposit row and its event are written,
    // with the deposit as it is now and the event type (deposit.pending |
    // deposit.confirmed | deposit.reverted). Orders follow their deposits this
    // way, atomically with them. An error rolls the whole step back (retried).
    // `follows` (optional) names those of some addresses whose deposits the
    // observer has anything to do with; asked once per transaction for the
    // addresses of the deposits it changes (a read for the batch instead of
    // several per deposit), and only their changes are reported.
    using DepositObserver = std::function<Status(store::Database&, const store::Deposit&, const std::string& event_type,
                                                 std::int64_t now_ms)>;
    using AddressFilter = std::function<Result<std::unordered_set<std::int64_t>>(
        store::Database&, const std::vector<std::int64_t>& address_ids)>;
    void on_deposit_change(DepositObserver fn, AddressFilter follows = {}) {
        on_deposit_change_ = std::move(fn);
        observer_follows_ = std::move(follows);
    }

    // A start-up check found the configuration wrong (token decimals, chain
    // id): the daemon should exit 2. Without a handler the loop just ends.
    void on_config_mismatch(std::function<void(const Error&)> fn) { on_config_mismatch_ = std::move(fn); }
    // Run on the writer thread after the adapter's verify() passed; an
    // Errc::invalid_input answer is a configuration mismatch (as above), any
    // other error is retried with verify().
    void set_start_check(std::function<Status(store::Database&)> fn) { start_check_ = std::move(fn); }

    // Standby daemons (SPEC §11, scanner/leadership.hpp): with leadership the
    // loop scans only while this process holds the chain's lease, and every
    // transaction that writes the chain proves that lease (fencing). Meanwhile
    // it stands by: it shows the leader's stored progress as its health and
    // polls for the lease. Without (tests), it scans alone.
    void set_leadership(Leadership* l) { leadership_ = l; }
    // Ends a wait between steps early (a lease was taken or lost).
    void wake();

    // One step of the follower (tests drive this directly).
    boost::asio::awaitable<Result<StepOutcome>> step();

    // verify() until it passes (transient failures retried with backoff, the
    // chain "starting" meanwhile), then steps until stop() or a halt: never
    // waits between batches during a catch-up; polls every poll_interval at
    // the head; backs off on errors.
    boost::asio::awaitable<void> run();
    void stop();

    // Re-check one transaction by hash (SPEC §10): asks the adapter for its
    // transfers, requires its block to be on the chain this scanner follows
    // (our stored block at that height, else the node's canonical block at
    // that height, asked separately), and records the transfers not yet
    // recorded exactly as a scan would (same deposit ids, attribution, dust
    // rules, events, confirmation rules), in ONE transaction; also below the
    // scan start and ahead of the cursor. New deposits start pending; the
    // scanner's confirmation pass confirms them like any other. Idempotent:
    // a second call records 0 and mints no event. Errors: invalid_input
    // (malformed hash), not_found (unknown transaction), conflict (not mined
    // yet, or its block is not on our chain), anything else transient.
    // Runs on the scanner's executor (network thread); database work goes to
    // the writer thread.
    boost::asio::awaitable<Result<RecheckResult>> recheck(std::string tx_hash,
                                                          std::optional<std::string> block_hash = std::nullopt);

    const ScannerOptions& options() const { return options_; }
    ChainHealth health() const { return health_; }

private:
    struct Cursor {
        std::uint64_t height = 0;        // committed up to here
        std::uint64_t block_height = 0;  // the last committed block (== height unless skipped slots follow it)
        std::string hash;                // its hash
    };
    struct NewTransfer {                 // a transfer resolved against the watch set (network thread)
        chain::Transfer transfer;
        std::int64_t address_id = 0;
    };
    struct NewBlock {
        chain::BlockRef ref;
        std::vector<NewTransfer> transfers;
    };
    struct Batch {                        // what one commit writes
        std::vector<NewBlock> blocks;
        Cursor cursor;                    // after the batch
    };
    struct FinalBlock {                   // a finalized block proven on our chain
        std::uint64_t height = 0;
        std::string hash;
    };
    struct CommitCounts {
        int events = 0, found = 0, revived = 0, confirmed = 0;
        std::optional<FinalBlock> proven;  // the proven finalized block after the commit
        std::string finality_conflict;     // a finality claim our stored chain contradicts ("" none)
    };
    // What a transaction reads once for all the deposits it writes instead
    // of once per deposit (a round trip each on PostgreSQL).
    struct BatchReads {
        std::unordered_map<std::string, store::Deposit> known;  // stored deposits among the batch's ids
        std::unordered_map<std::int64_t, std::string> addresses;  // address id -> address
        std::unordered_set<std::int64_t> ever_bound;             // others have no depositReference
        std::optional<std::unordered_set<std::int64_t>> followed;  // the observer's addresses (nullopt: all)
    };
    // A batch's new deposits and events, written together in multi-row
    // statements (one statement per row was most of a PostgreSQL catch-up's
    // database time) before anything reads or changes them.
    struct BatchWrites {
        std::vector<store::Deposit> deposits;
        std::vector<store::NewEvent> events;
    };
    struct Prefetch {
        std::uint64_t from = 0, to = 0;
        Result<chain::ScanResult> result;
    };

    boost::asio::awaitable<Status> verify_until_ok();
    boost::asio::awaitable<Status> read_head();
    boost::asio::awaitable<Result<Cursor>> load_or_init_cursor();
    boost::asio::awaitable<Result<StepOutcome>> at_head();
    boost::asio::awaitable<Result<StepOutcome>> catch_up();
    boost::asio::awaitable<Result<StepOutcome>> handle_reorg(const std::string& why);
    boost::asio::awaitable<Result<StepOutcome>> halt(const std::string& why);
    boost::asio::awaitable<Result<CommitCounts>> commit(const Batch& batch);
    boost::asio::awaitable<void> prefetch(std::uint64_t from, std::uint64_t to);
    Result<Batch> make_batch(chain::ScanResult scanned, std::uint64_t from, std::uint64_t to, bool& reorg);

    // Writer-thread halves (one transaction each, or part of one).
    Status write_batch(store::Database& db, const Batch& batch, const chain::Head& head,
                       const std::map<std::uint64_t, std::string>& claims, std::int64_t now, CommitCounts& counts);
    // `linked`: the blocks this transaction just stored (the batch's), known
    // without asking the store again.
    Status update_confirmations(store::Database& db, const chain::Head& head, std::uint64_t scanned, std::int64_t now,
                                CommitCounts& counts, const Batch* linked = nullptr);
    // Checks the node's finality claims at or below `scanned` against our
    // stored blocks: raises counts.proven, or names a contradiction in
    // counts.finality_conflict (the caller persists counts.proven).
    Status prove_finality(store::Database& db, const std::map<std::uint64_t, std::string>& claims,
                          std::uint64_t scanned, CommitCounts& counts);
    // One transfer of block `b`: a new deposit (pending), or a reverted one
    // whose very block is canonical again revived; nothing when known.
    // `recorded` tells whether it wrote anything.
    // `reads`: the batch's (read_batch), kept up to date with what it writes;
    // without, each transfer reads what it needs.
    Status write_transfer(store::Database& db, const chain::BlockRef& b, const NewTransfer& nt,
                          std::uint64_t head_height, std::int64_t now, CommitCounts& counts, bool& recorded,
                          BatchReads* reads = nullptr);
    Status read_batch(store::Database& db, const Batch& batch, BatchReads& reads);
    // The addresses of these the deposit observer follows (nullopt: all).
    Result<std::optional<std::unordered_set<std::int64_t>>> observed(store::Database& db,
                                                                     std::vector<std::int64_t> address_ids);
    // Writes what batch_writes_ holds (nothing without one).
    Status flush_writes(store::Database& db);
    // Change d.changes + 1 of a stored deposit: its row, its event, the observer.
    Status record_change(store::Database& db, store::Deposit& d, const std::string& type, std::int64_t now,
                         const std::optional<std::unordered_set<std::int64_t>>& followed = std::nullopt);
    // The event of change d.changes (written with it) and the observer.
    Status record_event(store::Database& db, const store::Deposit& d, const std::string& type, std::int64_t now,
                        const std::optional<std::unordered_set<std::int64_t>>& followed);
    bool is_confirmed(std::uint64_t block_number, std::uint64_t required, const chain::Head& head,
                      const std::optional<FinalBlock>& proven) const;
    // Network thread, after a commit: takes over the proven block, forgets the claims it settles.
    void take_finality(const CommitCounts& counts);

    // Inside a transaction that writes this chain: the lease we write under
    // is still ours (a no-op without leadership). Fails, and marks the lease
    // lost, when another process took it over.
    Status prove_lease(store::Database& db, const std::optional<store::Fence>& fence);
    void take_lead(const store::Fence& fence);
    void step_down();
    // One wait of a standby; shows the leader's stored progress now and then.
    boost::asio::awaitable<void> stand_by();
    boost::asio::awaitable<void> clear_previous_halt();

    void after_commit(const CommitCounts& counts);
    void report(const Result<StepOutcome>& r);
    void publish_health();
    void mark_sleep(std::chrono::milliseconds wait);

    boost::asio::any_io_executor executor_;
    ScannerOptions options_;
    chain::ChainAdapter& adapter_;
    store::Store& store_;
    WatchRegistry& watch_;
    const Clock& clock_;
    HealthBoard* board_;
    std::function<void()> on_events_;
    DepositObserver on_deposit_change_;
    // Set while write_batch writes a batch's transfers (writer thread): new
    // deposits and events wait there for flush_writes.
    BatchWrites* batch_writes_ = nullptr;
    AddressFilter observer_follows_;
    std::function<void(const Error&)> on_config_mismatch_;
    std::function<Status(store::Database&)> start_check_;
    std::shared_ptr<boost::asio::steady_timer> timer_;
    bool stopping_ = false;

    std::optional<Cursor> cursor_;                // in memory once loaded
    std::optional<chain::Head> head_;
    std::chrono::steady_clock::time_point head_read_at_{};
    std::optional<FinalBlock> proven_;            // highest finalized block proven on our chain (persisted)
    std::map<std::uint64_t, std::string> claims_; // finalized blocks the node named, not proven yet: height -> hash
    std::optional<Prefetch> prefetch_;
    ChainHealth health_;
    int failures_ = 0;
    std::string persisted_status_;
    std::optional<std::string> persisted_error_;
    std::chrono::steady_clock::time_point persisted_at_{};

    Leadership* leadership_ = nullptr;
    std::optional<store::Fence> fence_;           // the lease this loop writes under (leadership only)
    std::atomic<bool> fence_lost_{false};         // set on the writer thread by prove_lease
    std::chrono::steady_clock::time_point standby_read_at_{};
};

}  // namespace depositd::scanner
