#include "scanner/scanner.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <set>

#include "core/amount.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "store/async.hpp"
#include "store/chain_state.hpp"
#include "store/database.hpp"
#include "store/deposits.hpp"
#include "store/events.hpp"
#include "store/pool.hpp"
#include "store/store.hpp"

namespace depositd::scanner {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

const std::string kPending = "pending";
const std::string kConfirmed = "confirmed";
const std::string kReverted = "reverted";
const std::string kEvtPending = "deposit.pending";
const std::string kEvtConfirmed = "deposit.confirmed";
const std::string kEvtReverted = "deposit.reverted";

// Watch sets load in chunks so one job never holds the writer for long.
constexpr std::size_t kWatchChunk = 50'000;
// Consecutive failed steps before a chain reports "error" (one 429 is not an outage).
constexpr int kErrorAfterFailures = 3;
// Finality claims kept while the cursor has not reached them (a catch-up
// reads the head every poll_interval): the lowest ones are proven first.
constexpr std::size_t kMaxClaims = 64;

auto logger() {
    static auto l = log::get("scanner");
    return l;
}

Error with_context(Error e, const std::string& context) {
    e.message = context + ": " + e.message;
    return e;
}

std::uint64_t confirmations_at(std::uint64_t head, std::uint64_t block) { return head >= block ? head - block + 1 : 0; }

}  // namespace

// --- Watch sets ------------------------------------------------------------

asio::awaitable<Status> WatchRegistry::refresh(store::Store& store, Protocol p) {
    auto& entry = sets_[p];
    const std::string protocol = to_string(p);
    const std::size_t before = entry.set.size();
    for (;;) {
        const std::int64_t after = entry.loaded_up_to;
        auto rows = co_await store::async_write(store, [&protocol, after](store::Database& db) {
            return store::watched_after(db, protocol, after, kWatchChunk);
        });
        if (!rows) co_return rows.error();
        // Another chain of the protocol may have loaded these meanwhile: inserts are idempotent.
        entry.set.reserve(entry.set.size() + rows->size());
        for (const auto& a : *rows) {
            entry.set.insert(std::string(a.watch_key.begin(), a.watch_key.end()), a.id);
            entry.loaded_up_to = std::max(entry.loaded_up_to, a.id);
        }
        if (rows->size() < kWatchChunk) break;
    }
    if (entry.set.size() != before) logger()->info("watching {} {} addresses", entry.set.size(), protocol);
    co_return Status{};
}

// --- Construction, run loop, health ----------------------------------------------

Scanner::Scanner(asio::any_io_executor executor, ScannerOptions options, chain::ChainAdapter& adapter,
                 store::Store& store, WatchRegistry& watch, const Clock& clock, HealthBoard* health)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      adapter_(adapter),
      store_(store),
      watch_(watch),
      clock_(clock),
      board_(health),
      timer_(std::make_shared<asio::steady_timer>(executor_)) {
    if (options_.max_batch == 0) options_.max_batch = 1;
    auto& m = metrics::Registry::global();
    m.describe("depositd_chain_up", "gauge", "1 while the chain is followed (status ok or lagging)");
    m.describe("depositd_chain_last_success_timestamp_seconds", "gauge",
               "Unix time of the chain loop's last successful step");
    publish_health();
}

Scanner::~Scanner() = default;

void Scanner::stop() {
    stopping_ = true;
    timer_->cancel();
}

void Scanner::publish_health() {
    if (board_) board_->put(options_.chain_id, health_);
    const metrics::Labels labels{{"chain", options_.chain_id}};
    auto& m = metrics::Registry::global();
    m.gauge_set("depositd_chain_up", labels, health_.status == "ok" || health_.status == "lagging" ? 1 : 0);
    if (health_.updated_at > 0)
        m.gauge_set("depositd_chain_last_success_timestamp_seconds", labels,
                    static_cast<double>(health_.updated_at) / 1000.0);
}

// A sleeping loop is healthily waiting, however long it sleeps: the
// watchdog (core/watchdog.hpp) only times the steps.
void Scanner::mark_sleep(std::chrono::milliseconds wait) {
    health_.sleep_until = clock_.now_ms() + wait.count();
    publish_health();
}

void Scanner::report(const Result<StepOutcome>& r) {
    const auto now = clock_.now_ms();
    health_.progress_at = now;
    if (head_) health_.head = head_->height;
    if (cursor_) health_.scanned = cursor_->height;
    if (proven_) health_.finalized = proven_->height;
    if (r) {
        failures_ = 0;
        health_.updated_at = now;
        if (*r == StepOutcome::halted) {
            health_.status = "halted";
        } else {
            auto lag = health_.lag();
            health_.status = lag && *lag > HealthBoard::kLagWarn ? "lagging" : "ok";
        }
    } else {
        ++failures_;
        health_.last_error = r.error().describe();
        health_.last_error_at = now;
        if (health_.status != "starting" && failures_ >= kErrorAfterFailures) health_.status = "error";
    }
    publish_health();
}

asio::awaitable<Status> Scanner::verify_until_ok() {
    auto backoff = std::chrono::milliseconds(500);
    int attempt = 0;
    while (!stopping_) {
        auto v = co_await adapter_.verify();
        if (v && start_check_) {
            // A check of the node's answers against the stored state (the
            // Bitcoin network against the pool), once the node answered.
            auto& check = start_check_;
            v = co_await store::async_write(store_, [&check](store::Database& db) { return check(db); });
        }
        if (v) co_return Status{};
        ++attempt;
        if (v.error().code == Errc::invalid_input) {
            // The configuration is wrong (decimals, chain id): retrying cannot help.
            logger()->critical("{}: {}: start-up check failed: {}", options_.source, options_.chain_id,
                               v.error().message);
            health_.last_error = v.error().describe();
            health_.last_error_at = clock_.now_ms();
            publish_health();
            if (on_config_mismatch_) on_config_mismatch_(v.error());
            co_return v.error();
        }
        health_.last_error = v.error().describe();
        health_.last_error_at = clock_.now_ms();
        publish_health();
        if (attempt == 1 || attempt % 10 == 0)
            logger()->warn("{}: start-up check failed: {} (attempt {}, retrying in {} ms; the chain shows "
                           "\"starting\" until it passes)",
                           options_.chain_id, v.error().describe(), attempt, backoff.count());
        auto wait = backoff;
        if (v.error().retry_after_ms > 0)
            wait = std::max(wait, std::min(std::chrono::milliseconds(v.error().retry_after_ms), options_.max_backoff));
        backoff = std::min(backoff * 2, options_.max_backoff);
        mark_sleep(wait);
        timer_->expires_after(wait);
        boost::system::error_code ec;
        co_await timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return make_error(Errc::unavailable, "stopped");
}

asio::awaitable<void> Scanner::run() {
    // A previous halt is re-evaluated from scratch on start.
    {
        const auto chain = options_.chain_id;
        const auto now = clock_.now_ms();
        auto cleared = co_await store::async_write(store_, [&chain, now](store::Database& db) -> Status {
            auto c = store::get_cursor(db, chain);
            if (!c) return c.error();
            if (*c && (*c)->halted) return store::set_halted(db, chain, std::nullopt, now);
            return {};
        });
        if (!cleared) logger()->warn("{}: {}", options_.chain_id, cleared.error().describe());
    }
    if (auto v = co_await verify_until_ok(); !v) {
        logger()->info("{}: scanner stopped", options_.chain_id);
        co_return;
    }

    auto backoff = std::chrono::milliseconds(500);
    while (!stopping_) {
        auto r = co_await step();
        report(r);
        std::chrono::milliseconds wait{0};
        if (!r) {
            if (failures_ == 1 || failures_ % 10 == 0)
                logger()->warn("{}: {} (attempt {}, retrying in {} ms)", options_.chain_id, r.error().describe(),
                               failures_, backoff.count());
            wait = backoff;
            // A rate limit that says how long to wait is obeyed (bounded).
            if (r.error().retry_after_ms > 0)
                wait = std::max(wait, std::min(std::chrono::milliseconds(r.error().retry_after_ms), options_.max_backoff));
            backoff = std::min(backoff * 2, options_.max_backoff);
        } else {
            if (failures_ == 0 && backoff > std::chrono::milliseconds(500))
                logger()->info("{}: recovered", options_.chain_id);
            backoff = std::chrono::milliseconds(500);
            if (*r == StepOutcome::halted) break;
            if (*r == StepOutcome::caught_up) wait = options_.poll_interval;
        }
        // Health is persisted when it changes (and now and then), never on every poll.
        const auto now_steady = std::chrono::steady_clock::now();
        if (cursor_ && (health_.status != persisted_status_ || health_.last_error != persisted_error_ ||
                        now_steady - persisted_at_ > std::chrono::seconds(30))) {
            persisted_status_ = health_.status;
            persisted_error_ = health_.last_error;
            persisted_at_ = now_steady;
            const auto chain = options_.chain_id;
            const auto h = health_;
            const auto now = clock_.now_ms();
            auto s = co_await store::async_write(store_, [&chain, &h, now](store::Database& db) {
                std::optional<std::int64_t> success;
                if (h.updated_at > 0) success = h.updated_at;
                return store::set_health(db, chain, h.status, h.last_error, success, now);
            });
            if (!s) logger()->warn("{}: cannot store health: {}", options_.chain_id, s.error().describe());
        }
        if (wait.count() > 0 && !stopping_) {
            mark_sleep(wait);
            timer_->expires_after(wait);
            boost::system::error_code ec;
            co_await timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
    }
    logger()->info("{}: scanner stopped", options_.chain_id);
}

// --- One step --------------------------------------------------------------------

asio::awaitable<Status> Scanner::read_head() {
    auto h = co_await adapter_.head();
    if (!h) co_return h.error();
    head_ = *h;
    head_read_at_ = std::chrono::steady_clock::now();
    // The node's finalized block is a claim to prove against our own chain
    // (prove_finality), not a height to trust.
    if (h->finalized && !h->finalized_hash.empty() && (!proven_ || *h->finalized > proven_->height)) {
        claims_[*h->finalized] = h->finalized_hash;
        while (claims_.size() > kMaxClaims) claims_.erase(std::prev(claims_.end(), 2));  // keep the lowest and the newest
    }
    metrics::Registry::global().gauge_set("depositd_chain_head", {{"chain", options_.chain_id}},
                                          static_cast<double>(h->height));
    // The watch set is refreshed AFTER the head is read: an address bound
    // (and paid) before a block at or below this head was mined is then in
    // the set that scans up to this head use.
    co_return co_await watch_.refresh(store_, options_.protocol);
}

asio::awaitable<Result<Scanner::Cursor>> Scanner::load_or_init_cursor() {
    const auto chain = options_.chain_id;
    auto existing = co_await store::async_write(store_, [&chain](store::Database& db) { return store::get_cursor(db, chain); });
    if (!existing) co_return existing.error();
    if (*existing) {
        const auto& c = **existing;
        if (c.finalized && c.finalized_hash) proven_ = FinalBlock{*c.finalized, *c.finalized_hash};
        co_return Cursor{c.height, c.last_block_height(), c.hash};
    }

    // First start: begin at `start` (or the head), anchored on the last block
    // before it, so the first scanned block's parent is checked too. Height 0
    // has no parent: a start at 0 begins at 1 (genesis carries no transfers).
    std::uint64_t start = options_.start.value_or(head_->height);
    if (start == 0) start = 1;
    std::optional<chain::BlockRef> anchor;
    for (std::uint64_t h = start - 1, looked = 0;; --h, ++looked) {
        auto at = co_await adapter_.block_at(h);
        if (!at) co_return at.error();
        if (at->presence == chain::Presence::block) {
            anchor = at->ref;
            break;
        }
        if (at->presence == chain::Presence::unknown || h == 0 || looked >= options_.max_reorg_depth)
            co_return make_error(Errc::unavailable, "no block at or below " + std::to_string(start - 1) +
                                                        " available yet to start from");
    }
    Cursor cur{start - 1, anchor->height, anchor->hash};
    const auto now = clock_.now_ms();
    const auto head_height = head_->height;
    const auto ref = *anchor;
    auto s = co_await store::async_write(store_, [&chain, &cur, &ref, head_height, now](store::Database& db) -> Status {
        store::Transaction tx(db);
        if (!tx.begun()) return tx.begun();
        if (auto s = store::put_block(db, chain, {ref.height, ref.hash, ref.parent}); !s) return s;
        store::Cursor c;
        c.chain_id = chain;
        c.height = cur.height;
        c.hash = cur.hash;
        c.block_height = cur.block_height;
        c.head = head_height;
        c.updated_at = now;
        if (auto s = store::put_cursor(db, c); !s) return s;
        return tx.commit();
    });
    if (!s) co_return s.error();
    logger()->info("{}: starting at height {} (head {})", options_.chain_id, start, head_height);
    co_return cur;
}

asio::awaitable<Result<StepOutcome>> Scanner::step() {
    // The head is read when the cursor has reached the last one seen, and
    // at least every poll_interval during a catch-up (not on every batch).
    const bool stale = !head_ || (cursor_ && cursor_->height >= head_->height) ||
                       std::chrono::steady_clock::now() - head_read_at_ >= options_.poll_interval;
    if (stale)
        if (auto s = co_await read_head(); !s) co_return s.error();
    if (!cursor_) {
        auto c = co_await load_or_init_cursor();
        if (!c) co_return c.error();
        cursor_ = *c;
    }
    if (cursor_->height >= head_->height) co_return co_await at_head();
    co_return co_await catch_up();
}

// At the head: our last block must still be the node's block at its height.
asio::awaitable<Result<StepOutcome>> Scanner::at_head() {
    prefetch_.reset();
    const Cursor cur = *cursor_;
    auto canon = co_await adapter_.block_at(cur.block_height);
    if (!canon) co_return with_context(canon.error(), "canonical check of block " + std::to_string(cur.block_height));
    if (canon->presence == chain::Presence::unknown)
        co_return make_error(Errc::unavailable, "the node does not know our block " + std::to_string(cur.block_height) +
                                                    " (a lagging backend?); not treated as a reorg");
    if (canon->presence == chain::Presence::skipped || canon->ref.hash != cur.hash)
    {
        // (GCC 12: no temporaries with destructors inside a co_await expression.)
        const std::string why = "our block " + std::to_string(cur.block_height) + " " + cur.hash +
                                " is no longer the node's block at that height";
        co_return co_await handle_reorg(why);
    }

    // Verified canonical just now: confirmations may be counted.
    const auto chain = options_.chain_id;
    const auto head = *head_;
    const auto now = clock_.now_ms();
    const std::uint64_t scanned = cur.height;
    const auto claims = claims_;
    const auto proven = proven_;
    CommitCounts counts;
    auto s = co_await store::async_write(store_, [this, &chain, &head, now, scanned, &claims, &proven,
                                                  &counts](store::Database& db) -> Status {
        counts = CommitCounts{};
        counts.proven = proven;
        store::Transaction tx(db);
        if (!tx.begun()) return tx.begun();
        if (auto s = store::set_head(db, chain, head.height, now); !s) return s;
        if (auto s = prove_finality(db, claims, scanned, counts); !s) return s;
        if (counts.proven && (!proven || counts.proven->height > proven->height))
            if (auto s = store::set_finalized(db, chain, counts.proven->height, counts.proven->hash, now); !s) return s;
        if (auto s = update_confirmations(db, head, scanned, now, counts); !s) return s;
        return tx.commit();
    });
    if (!s) co_return s.error();
    take_finality(counts);
    after_commit(counts);
    if (!counts.finality_conflict.empty()) {
        const std::string why = counts.finality_conflict;
        co_return co_await handle_reorg(why);
    }
    co_return StepOutcome::caught_up;
}

// Validates a scan result against the cursor and turns it into a batch:
// transfers resolved to address ids here, on the network thread, where the
// watch set lives.
Result<Scanner::Batch> Scanner::make_batch(chain::ScanResult scanned, std::uint64_t from, std::uint64_t to, bool& reorg) {
    reorg = false;
    Batch batch;
    batch.cursor = *cursor_;
    auto& blocks = scanned.blocks;
    if (!blocks.empty()) {
        const auto& first = blocks.front().block;
        if (first.height < from || first.height > to)
            return make_error(Errc::malformed, "node returned block " + std::to_string(first.height) + " for heights " +
                                                   std::to_string(from) + ".." + std::to_string(to));
        if (first.parent != cursor_->hash) {
            logger()->warn("{}: block {} does not extend our block {} ({} != {})", options_.chain_id, first.height,
                           cursor_->block_height, first.parent, cursor_->hash);
            reorg = true;
            return batch;
        }
    }
    // The linked prefix inside the range; anything after a break is fetched again.
    std::size_t keep = blocks.empty() ? 0 : 1;
    while (keep < blocks.size() && blocks[keep].block.height > blocks[keep - 1].block.height &&
           blocks[keep].block.height <= to && blocks[keep].block.parent == blocks[keep - 1].block.hash)
        ++keep;
    std::uint64_t scanned_to = std::min(scanned.scanned_to, to);
    if (keep < blocks.size()) {
        logger()->debug("{}: kept {} of {} blocks (gap, parent break or past the range)", options_.chain_id, keep,
                        blocks.size());
        scanned_to = blocks[keep - 1].block.height;
    }
    if (keep > 0) scanned_to = std::max(scanned_to, blocks[keep - 1].block.height);
    if (keep == 0 && (scanned.scanned_to < from || scanned.scanned_to == static_cast<std::uint64_t>(-1)))
        return make_error(Errc::unavailable, "node returned no blocks for " + std::to_string(from) + ".." +
                                                 std::to_string(to));

    auto& set = watch_.set(options_.protocol);
    for (std::size_t i = 0; i < keep; ++i) {
        NewBlock nb;
        nb.ref = std::move(blocks[i].block);
        for (auto& t : blocks[i].transfers) {
            auto id = set.find(t.to_key);
            if (id == 0) continue;  // adapters only return watched recipients; be strict anyway
            nb.transfers.push_back(NewTransfer{std::move(t), id});
        }
        batch.blocks.push_back(std::move(nb));
    }
    batch.cursor.height = scanned_to;
    if (!batch.blocks.empty()) {
        batch.cursor.block_height = batch.blocks.back().ref.height;
        batch.cursor.hash = batch.blocks.back().ref.hash;
    }
    return batch;
}

asio::awaitable<void> Scanner::prefetch(std::uint64_t from, std::uint64_t to) {
    auto r = co_await adapter_.scan(from, to, watch_.set(options_.protocol));
    prefetch_ = Prefetch{from, to, std::move(r)};
}

asio::awaitable<Result<StepOutcome>> Scanner::catch_up() {
    const std::uint64_t from = cursor_->height + 1;
    const std::uint64_t to = std::min<std::uint64_t>(head_->height, from + options_.max_batch - 1);

    Result<chain::ScanResult> scanned;
    std::uint64_t scan_to = to;
    if (prefetch_ && prefetch_->from == from && prefetch_->to <= to) {
        scanned = std::move(prefetch_->result);
        scan_to = prefetch_->to;
        prefetch_.reset();
    } else {
        prefetch_.reset();
        scanned = co_await adapter_.scan(from, to, watch_.set(options_.protocol));
    }
    if (!scanned) co_return scanned.error();

    bool reorg = false;
    auto batch = make_batch(std::move(*scanned), from, scan_to, reorg);
    if (!batch) co_return batch.error();
    if (reorg) {
        const std::string why = "the node's chain does not extend our block";
        co_return co_await handle_reorg(why);
    }

    // Overlap: the next range is fetched while this one commits.
    const std::uint64_t next_from = batch->cursor.height + 1;
    const bool overlap = options_.pipeline && next_from <= head_->height;
    Result<CommitCounts> committed;
    if (overlap) {
        const std::uint64_t next_to = std::min<std::uint64_t>(head_->height, next_from + options_.max_batch - 1);
        auto both = co_await (commit(*batch) && prefetch(next_from, next_to));
        committed = std::move(both);
    } else {
        committed = co_await commit(*batch);
    }
    if (!committed) {
        prefetch_.reset();
        co_return committed.error();
    }
    cursor_ = batch->cursor;
    take_finality(*committed);
    after_commit(*committed);
    metrics::Registry::global().gauge_set("depositd_chain_scanned", {{"chain", options_.chain_id}},
                                          static_cast<double>(cursor_->height));
    if (!committed->finality_conflict.empty()) {
        const std::string why = committed->finality_conflict;
        co_return co_await handle_reorg(why);
    }
    if (cursor_->height >= head_->height) co_return StepOutcome::caught_up;
    logger()->debug("{}: scanned {}..{} (head {}, lag {})", options_.chain_id, from, cursor_->height, head_->height,
                    head_->height - cursor_->height);
    co_return StepOutcome::progressed;
}

asio::awaitable<Result<Scanner::CommitCounts>> Scanner::commit(const Batch& batch) {
    const auto head = *head_;
    const auto now = clock_.now_ms();
    const auto claims = claims_;
    const auto proven = proven_;
    CommitCounts counts;
    auto s = co_await store::async_write(store_, [this, &batch, &head, now, &claims, &proven,
                                                  &counts](store::Database& db) -> Status {
        counts = CommitCounts{};
        counts.proven = proven;
        store::Transaction tx(db);
        if (!tx.begun()) return tx.begun();
        if (auto s = write_batch(db, batch, head, claims, now, counts); !s) return s;
        return tx.commit();
    });
    if (!s) co_return s.error();
    co_return counts;
}

void Scanner::after_commit(const CommitCounts& counts) {
    auto& m = metrics::Registry::global();
    if (counts.found) m.counter_add("depositd_deposits_detected_total", {{"chain", options_.chain_id}}, counts.found);
    if (counts.events && on_events_) on_events_();
}

// --- Writer-thread halves -------------------------------------------------------

bool Scanner::is_confirmed(std::uint64_t block_number, std::uint64_t required, const chain::Head& head,
                           const std::optional<FinalBlock>& proven) const {
    if (options_.finalized) {
        // Final only at or below a finalized block proven on our chain: a
        // height the node calls finalized says nothing about OUR block there.
        if (!proven || block_number > proven->height) return false;
        return confirmations_at(head.height, block_number) >= required;  // coinbase-style extra requirements
    }
    return confirmations_at(head.height, block_number) >= std::max<std::uint64_t>(required, 1);
}

Status Scanner::record_change(store::Database& db, store::Deposit& d, const std::string& type, std::int64_t now) {
    // Change n of a deposit has the event id change_event_id(deposit, n):
    // written with the change, in its transaction.
    ++d.changes;
    if (auto s = store::update_deposit_state(db, d); !s) return s;
    store::NewEvent e;
    e.id = change_event_id(d.id, d.changes);
    e.deposit_id = d.id;
    e.type = type;
    e.created_at = now;
    e.payload = store::event_payload(e.id, type, now, d);
    auto inserted = store::insert_event(db, e);
    if (!inserted) return inserted.error();
    if (on_deposit_change_) return on_deposit_change_(db, d, type, now);
    return {};
}

Status Scanner::write_batch(store::Database& db, const Batch& batch, const chain::Head& head,
                            const std::map<std::uint64_t, std::string>& claims, std::int64_t now,
                            CommitCounts& counts) {
    const auto& chain = options_.chain_id;
    for (const auto& nb : batch.blocks) {
        const auto& b = nb.ref;
        if (auto s = store::put_block(db, chain, {b.height, b.hash, b.parent}); !s) return s;
        for (const auto& nt : nb.transfers) {
            const auto& t = nt.transfer;
            const std::string id = deposit_id(chain, t.tx, t.index, b.hash);
            auto existing = store::get_deposit(db, id);
            if (!existing) return existing.error();
            if (*existing) {
                store::Deposit d = std::move(**existing);
                if (d.status != kReverted) continue;  // already known (a rescan)
                // The very block (same hash) is canonical again: two nodes
                // that disagreed for a moment. Back to pending, a new event.
                d.status = kPending;
                d.reverted_at.reset();
                d.confirmations = confirmations_at(head.height, b.height);
                if (auto s = record_change(db, d, kEvtPending, now); !s) return s;
                ++counts.events;
                ++counts.revived;
                logger()->warn("{}: deposit {} is back: block {} {} is canonical again", chain, d.id, b.height, b.hash);
                continue;
            }
            auto owner = store::address_owner(db, nt.address_id);
            if (!owner) return owner.error();
            // The binding that held the address at block time, or one that
            // began within the chain's attribution skew after it (SPEC §10:
            // block clocks run behind; cooldowns >= skew keep holders apart).
            const std::int64_t block_time = b.time_ms > 0 ? std::min(b.time_ms, now) : now;
            auto reference = store::reference_at(db, nt.address_id, block_time, options_.attribution_skew.count());
            if (!reference) return reference.error();

            store::Deposit d;
            d.id = id;
            d.chain_id = chain;
            d.tx_hash = t.tx;
            d.index = t.index;
            d.block_hash = b.hash;
            d.block_number = b.height;
            d.address_id = nt.address_id;
            d.address = owner->address;
            d.reference = *reference;
            d.currency = t.currency;
            d.contract = t.contract;
            d.raw_amount = u256_to_decimal(t.amount);
            d.decimals = t.decimals;
            d.from = t.from;
            d.confirmations = confirmations_at(head.height, b.height);
            d.required_confirmations = std::max<std::uint64_t>(options_.finalized ? 0 : options_.confirmations,
                                                               t.min_confirmations);
            if (options_.finalized) d.finality = "finalized";
            d.status = kPending;
            d.detected_at = now;
            if (b.time_ms > 0) d.block_time = b.time_ms;  // orders are paid by block time
            auto inserted = store::insert_deposit(db, d);
            if (!inserted) return inserted.error();
            if (auto s = record_change(db, d, kEvtPending, now); !s) return s;
            ++counts.events;
            ++counts.found;
            logger()->info("{}: deposit {} {} {} to {} in block {} tx {}", chain, d.id,
                           Amount(t.amount, t.decimals).to_string(), d.currency, d.address, b.height, d.tx_hash);
        }
    }
    // Finality is proven on the blocks just linked to ours; confirmations
    // count only blocks on that chain.
    if (auto s = prove_finality(db, claims, batch.cursor.height, counts); !s) return s;
    if (auto s = update_confirmations(db, head, batch.cursor.height, now, counts); !s) return s;
    store::Cursor c;
    c.chain_id = chain;
    c.height = batch.cursor.height;
    c.hash = batch.cursor.hash;
    c.block_height = batch.cursor.block_height;
    c.head = head.height;
    if (counts.proven) {
        c.finalized = counts.proven->height;
        c.finalized_hash = counts.proven->hash;
    }
    c.updated_at = now;
    if (auto s = store::put_cursor(db, c); !s) return s;
    // Blocks are kept for reorg walks and for the canonical test of pending
    // deposits (coinbase outputs wait 100 blocks). Confirming at finality,
    // also every block above the proven finalized one: the next finalized
    // block is proven against them, and an L2's finalized block trails its
    // head by thousands of blocks.
    const std::uint64_t keep = std::max<std::uint64_t>({options_.max_reorg_depth, options_.confirmations, 100}) + 8;
    if (batch.cursor.block_height > keep) {
        std::uint64_t below = batch.cursor.block_height - keep;
        if (options_.finalized) below = std::min<std::uint64_t>(below, counts.proven ? counts.proven->height : 0);
        if (below > 0)
            if (auto s = store::prune_blocks_below(db, chain, below); !s) return s;
    }
    return {};
}

Status Scanner::update_confirmations(store::Database& db, const chain::Head& head, std::uint64_t scanned,
                                     std::int64_t now, CommitCounts& counts) {
    const auto& chain = options_.chain_id;
    auto pending = store::pending_deposits(db, chain);
    if (!pending) return pending.error();
    for (auto& d : *pending) {
        if (d.block_number > scanned) continue;
        const std::uint64_t confs = confirmations_at(head.height, d.block_number);
        const bool due = is_confirmed(d.block_number, d.required_confirmations, head, counts.proven);
        if (!due) {
            if (confs == d.confirmations) continue;
            d.confirmations = confs;
            if (auto s = store::update_deposit_state(db, d); !s) return s;
            continue;
        }
        // Only while its block is on the chain we follow: the stored block
        // at that height (verified this step) has the deposit's hash. Blocks
        // older than what we keep are deeper than any reorg we follow.
        auto stored = store::get_block(db, chain, d.block_number);
        if (!stored) return stored.error();
        if (*stored && (*stored)->hash != d.block_hash) {
            logger()->warn("{}: deposit {} is in block {} which is not on our chain; not confirmed", chain, d.id,
                           d.block_hash);
            continue;
        }
        if (!*stored) {
            // Not stored: either pruned (older than every kept block, deeper
            // than any reorg we follow) or not on our chain at all.
            auto below = store::blocks_down_from(db, chain, d.block_number, 1);
            if (!below) return below.error();
            if (!below->empty()) continue;
        }
        d.confirmations = confs;
        d.status = kConfirmed;
        d.confirmed_at = now;
        if (auto s = record_change(db, d, kEvtConfirmed, now); !s) return s;
        ++counts.events;
        ++counts.confirmed;
        logger()->info("{}: deposit {} confirmed ({} confirmations{})", chain, d.id, confs,
                       options_.finalized ? ", finalized" : "");
    }
    return {};
}

Status Scanner::prove_finality(store::Database& db, const std::map<std::uint64_t, std::string>& claims,
                               std::uint64_t scanned, CommitCounts& counts) {
    const auto& chain = options_.chain_id;
    // Highest claim first: once one is proven, every claim below it is settled
    // (its block is an ancestor of the proven one on our linked chain).
    for (auto it = claims.rbegin(); it != claims.rend(); ++it) {
        const std::uint64_t height = it->first;
        const std::string& hash = it->second;
        if (height > scanned) continue;  // not reached yet
        if (counts.proven && height <= counts.proven->height) break;
        auto stored = store::get_block(db, chain, height);
        if (!stored) return stored.error();
        if (*stored && (*stored)->hash == hash) {
            counts.proven = FinalBlock{height, hash};
            break;
        }
        if (!*stored) {
            // No block of ours at that height: below everything we keep (it
            // cannot be checked; a later claim settles it), or a height our
            // chain skipped where the node has a finalized block.
            auto below = store::blocks_down_from(db, chain, height, 1);
            if (!below) return below.error();
            if (below->empty()) continue;
        }
        if (counts.finality_conflict.empty())
            counts.finality_conflict = "the node's finalized block at " + std::to_string(height) + " is " + hash +
                                       "; ours there is " + (*stored ? (*stored)->hash : std::string("none")) +
                                       " (scanned from a backend on another fork?)";
    }
    return {};
}

void Scanner::take_finality(const CommitCounts& counts) {
    if (counts.proven && (!proven_ || counts.proven->height > proven_->height)) {
        proven_ = counts.proven;
        logger()->debug("{}: finalized block {} {} proven on our chain", options_.chain_id, proven_->height,
                        proven_->hash);
    }
    if (proven_) claims_.erase(claims_.begin(), claims_.upper_bound(proven_->height));
    if (!counts.finality_conflict.empty())
        logger()->debug("{}: {}: not confirmed; following it as a reorg", options_.chain_id, counts.finality_conflict);
}

// --- Reorgs ---------------------------------------------------------------------

asio::awaitable<Result<StepOutcome>> Scanner::halt(const std::string& why) {
    prefetch_.reset();
    logger()->critical("{}: {}", options_.chain_id, why);
    const auto chain = options_.chain_id;
    const auto now = clock_.now_ms();
    auto s = co_await store::async_write(store_, [&chain, &why, now](store::Database& db) -> Status {
        if (auto s = store::set_halted(db, chain, why, now); !s) return s;
        return store::set_health(db, chain, "halted", why, std::nullopt, now);
    });
    if (!s) co_return s.error();
    health_.halted = why;
    metrics::Registry::global().gauge_set("depositd_chain_halted", {{"chain", options_.chain_id}}, 1);
    co_return StepOutcome::halted;
}

asio::awaitable<Result<StepOutcome>> Scanner::handle_reorg(const std::string& why) {
    prefetch_.reset();
    const Cursor cur = *cursor_;
    const auto chain = options_.chain_id;
    const std::size_t depth = options_.max_reorg_depth;
    const std::uint64_t top = cur.block_height;
    auto stored = co_await store::async_write(store_, [&chain, top, depth](store::Database& db) {
        return store::blocks_down_from(db, chain, top, depth + 1);
    });
    if (!stored) co_return stored.error();

    // Walk our stored blocks down until one is still the node's block.
    std::optional<store::StoredBlock> ancestor;
    for (const auto& b : *stored) {
        if (cur.height - b.height > options_.max_reorg_depth) break;
        auto canon = co_await adapter_.block_at(b.height);
        if (!canon) co_return with_context(canon.error(), "reorg walk at block " + std::to_string(b.height));
        if (canon->presence == chain::Presence::unknown)
            co_return make_error(Errc::unavailable, "reorg walk: the node does not know block " +
                                                        std::to_string(b.height) +
                                                        " (a lagging backend?); not treated as a reorg, retrying");
        if (canon->presence == chain::Presence::block && canon->ref.hash == b.hash) {
            ancestor = b;
            break;
        }
        if (proven_ && b.height <= proven_->height) {
            // A true conflict: this block is at or below a finalized block
            // the node itself proved on our chain.
            const std::string reason = "block " + std::to_string(b.height) + " " + b.hash +
                                       " at or below the finalized block " + std::to_string(proven_->height) + " " +
                                       proven_->hash + " (proven on our chain) is no longer the node's block: " +
                                       "refusing to revert finalized deposits; chain stopped, nothing skipped; " +
                                       "check the node, then restart";
            co_return co_await halt(reason);
        }
    }
    if (!ancestor) {
        const std::string reason = "reorg deeper than max_reorg_depth (" + std::to_string(options_.max_reorg_depth) +
                                   ") below block " + std::to_string(cur.block_height) +
                                   ": chain stopped, nothing skipped; investigate the node, then restart";
        co_return co_await halt(reason);
    }
    if (ancestor->height == cur.block_height) {
        // Nothing left the chain: the answers that suggested a reorg came from
        // a backend that disagrees with the one that just confirmed our block.
        // Retry after a backoff instead of spinning.
        co_return make_error(Errc::conflict, why + ", but our block " + std::to_string(cur.block_height) +
                                                 " is still canonical: the node's backends disagree; retrying");
    }

    const auto now = clock_.now_ms();
    const auto anc = *ancestor;
    CommitCounts counts;
    auto s = co_await store::async_write(store_, [this, &chain, &anc, now, &counts](store::Database& db) -> Status {
        store::Transaction tx(db);
        if (!tx.begun()) return tx.begun();
        auto dropped = store::deposits_above(db, chain, anc.height);
        if (!dropped) return dropped.error();
        for (auto& d : *dropped) {
            d.status = kReverted;
            d.reverted_at = now;
            if (auto s = record_change(db, d, kEvtReverted, now); !s) return s;
            ++counts.events;
            logger()->warn("{}: deposit {} reverted (block {} {} left the chain)", chain, d.id, d.block_number,
                           d.block_hash);
        }
        if (auto s = store::delete_blocks_above(db, chain, anc.height); !s) return s;
        store::Cursor c;
        c.chain_id = chain;
        c.height = anc.height;
        c.hash = anc.hash;
        c.block_height = anc.height;
        c.updated_at = now;
        if (auto s = store::put_cursor(db, c); !s) return s;
        return tx.commit();
    });
    if (!s) co_return s.error();
    cursor_ = Cursor{anc.height, anc.height, anc.hash};
    logger()->warn("{}: reorg ({}): walked back {} heights, resuming from {}", options_.chain_id, why,
                   cur.height - anc.height, anc.height + 1);
    metrics::Registry::global().counter_add("depositd_reorgs_total", {{"chain", options_.chain_id}});
    after_commit(counts);
    co_return StepOutcome::reorged;
}

}  // namespace depositd::scanner
