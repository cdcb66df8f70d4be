// Watch sets, construction, the run loop, health, and one step at the head.
#include "scanner/scanner.hpp"

#include <boost/asio/dispatch.hpp>
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

#include "scanner/detail.hpp"
#include "scanner/leadership.hpp"

namespace depositd::scanner {

namespace asio = boost::asio;
using namespace detail;

// --- Watch sets ------------------------------------------------------------

asio::awaitable<Status> WatchRegistry::refresh(store::Store& store, Protocol p) {
    auto& entry = sets_[p];
    const std::string protocol = to_string(p);
    const std::size_t before = entry.set.size();
    if (before == 0) {
        // The first load: room for every key at once, so the set holds no
        // growth slack (1 M addresses: ~15 MiB less than growing per chunk).
        const std::int64_t after = entry.loaded_up_to;
        auto n = co_await store::async_write(store, [&protocol, after](store::Database& db) {
            return store::watched_count_after(db, protocol, after);
        });
        if (!n) co_return n.error();
        if (*n > 0) entry.set.reserve(static_cast<std::size_t>(*n));
    }
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

// A halt is re-evaluated from scratch when the loop starts (or leads again).
asio::awaitable<void> Scanner::clear_previous_halt() {
    const auto chain = options_.chain_id;
    const auto now = clock_.now_ms();
    const auto fence = fence_;
    auto cleared = co_await store::async_write(store_, [this, &chain, &fence, now](store::Database& db) -> Status {
        store::Transaction tx(db);
        if (!tx.begun()) return tx.begun();
        auto c = store::get_cursor(db, chain);
        if (!c) return c.error();
        if (*c && (*c)->halted)
            if (auto s = store::set_halted(db, chain, std::nullopt, now); !s) return s;
        // Last, so the lease row is locked only for the COMMIT's round trip.
        if (auto s = prove_lease(db, fence); !s) return s;
        return tx.commit();
    });
    if (!cleared) logger()->warn("{}: {}", options_.chain_id, cleared.error().describe());
}

void Scanner::wake() {
    auto t = timer_;
    asio::dispatch(executor_, [t] { t->cancel(); });
}

Status Scanner::prove_lease(store::Database& db, const std::optional<store::Fence>& fence) {
    if (!fence) return {};
    auto held = store::prove_lease(db, *fence);
    if (!held) return held.error();
    if (*held) return {};
    fence_lost_ = true;
    return make_error(Errc::conflict, "lease " + fence->name + " (epoch " + std::to_string(fence->epoch) +
                                          ") was taken over: another process leads this chain now");
}

void Scanner::take_lead(const store::Fence& fence) {
    step_down();  // whatever we knew as a standby (or as an earlier leader) is stale
    fence_ = fence;
    logger()->info("{}: scanning as leader (lease epoch {})", options_.chain_id, fence.epoch);
}

void Scanner::step_down() {
    // The chain moved on under another leader: start again from the store.
    fence_.reset();
    fence_lost_ = false;
    cursor_.reset();
    head_.reset();
    proven_.reset();
    claims_.clear();
    prefetch_.reset();
    persisted_status_.clear();
    persisted_error_.reset();
    failures_ = 0;
}

asio::awaitable<void> Scanner::stand_by() {
    const auto now_steady = std::chrono::steady_clock::now();
    if (now_steady - standby_read_at_ >= std::chrono::seconds(1)) {
        standby_read_at_ = now_steady;
        const auto chain = options_.chain_id;
        auto c = co_await store::async_write(store_, [&chain](store::Database& db) { return store::get_cursor(db, chain); });
        if (c && *c) {
            const auto& cur = **c;
            health_.status = cur.status.value_or("starting");
            health_.scanned = cur.height;
            health_.head = cur.head;
            health_.finalized = cur.finalized;
            health_.last_error = cur.last_error;
            health_.halted = cur.halted;
            health_.updated_at = cur.last_success_at.value_or(0);
        } else if (!c) {
            health_.last_error = c.error().describe();
            health_.last_error_at = clock_.now_ms();
        }
    }
    // The lease may have come while the cursor was read (its wake-up then
    // found no wait to end): lead at once rather than a poll later.
    if (leadership_ && leadership_->fence(options_.chain_id)) co_return;
    const auto wait = leadership_ ? leadership_->options().poll : options_.poll_interval;
    health_.progress_at = clock_.now_ms();
    mark_sleep(wait);
    timer_->expires_after(wait);
    boost::system::error_code ec;
    co_await timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> Scanner::run() {
    bool verified = false;
    auto backoff = std::chrono::milliseconds(500);
    while (!stopping_) {
        if (leadership_) {
            auto f = leadership_->fence(options_.chain_id);
            if (!f) {
                if (fence_) {
                    logger()->warn("{}: lease gone; standing by", options_.chain_id);
                    step_down();
                }
                co_await stand_by();
                continue;
            }
            if (!fence_ || fence_->epoch != f->epoch) {
                take_lead(*f);
                verified = false;
            }
        }
        if (!verified) {
            // Start-up checks of the node, each time the loop starts to scan.
            if (auto v = co_await verify_until_ok(); !v) break;
            co_await clear_previous_halt();
            verified = true;
            continue;  // the lease may have gone meanwhile
        }
        auto r = co_await step();
        if (!r && fence_lost_ && fence_) {
            logger()->warn("{}: {}", options_.chain_id, r.error().message);
            if (leadership_) leadership_->lost(options_.chain_id, fence_->epoch);
            step_down();
            continue;
        }
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
            const auto fence = fence_;
            auto s = co_await store::async_write(store_, [this, &chain, &h, &fence, now](store::Database& db) -> Status {
                store::Transaction tx(db);
                if (!tx.begun()) return tx.begun();
                std::optional<std::int64_t> success;
                if (h.updated_at > 0) success = h.updated_at;
                if (auto s = store::set_health(db, chain, h.status, h.last_error, success, now); !s) return s;
                if (auto s = prove_lease(db, fence); !s) return s;
                return tx.commit();
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
    const auto fence = fence_;
    auto s = co_await store::async_write(store_, [this, &chain, &cur, &ref, &fence, head_height,
                                                  now](store::Database& db) -> Status {
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
        // Last, so the lease row is locked only for the COMMIT's round trip.
        if (auto s = prove_lease(db, fence); !s) return s;
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
    const auto fence = fence_;
    CommitCounts counts;
    auto s = co_await store::async_write(store_, [this, &chain, &head, now, scanned, &claims, &proven, &fence,
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
        // Last, so the lease row is locked only for the COMMIT's round trip.
        if (auto s = prove_lease(db, fence); !s) return s;
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


}  // namespace depositd::scanner
