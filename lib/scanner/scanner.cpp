#include "scanner/scanner.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include "core/amount.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "store/chain_state.hpp"
#include "store/database.hpp"
#include "store/deposits.hpp"
#include "store/events.hpp"
#include "store/pool.hpp"

namespace depositd::scanner {

namespace asio = boost::asio;

namespace {

const char* kPending = "pending";
const char* kConfirmed = "confirmed";
const char* kReverted = "reverted";

// Deposits and their events are written together; the event payload is the
// deposit as it is after this change, frozen so every retry sends the same bytes.
Status add_event(store::Database& db, const store::Deposit& d, const std::string& type, std::int64_t now_ms) {
    store::NewEvent e;
    e.id = event_id(d.id, type);
    e.deposit_id = d.id;
    e.type = type;
    e.created_at = now_ms;
    e.payload = store::event_payload(e.id, type, now_ms, d);
    auto r = store::insert_event(db, e);
    if (!r) return r.error();
    return {};
}

}  // namespace

Status WatchRegistry::refresh(store::Database& db, Protocol p) {
    auto& entry = sets_[p];
    auto gen = store::pool_generation(db, to_string(p));
    if (!gen) return gen.error();
    if (*gen <= entry.loaded_up_to) return {};
    std::int64_t last = entry.loaded_up_to;
    auto s = store::for_each_watched(db, to_string(p), entry.loaded_up_to, [&](const store::WatchedAddress& a) {
        entry.set.insert(std::string(a.watch_key.begin(), a.watch_key.end()), a.id);
        last = a.id;
    });
    if (!s) return s;
    if (last > entry.loaded_up_to) {
        log::get("scanner")->info("watching {} {} addresses", entry.set.size(), to_string(p));
        entry.loaded_up_to = last;
    }
    return {};
}

Status Scanner::record_change(const store::Deposit& d, const std::string& type, std::int64_t now_ms) {
    if (auto s = add_event(db_, d, type, now_ms); !s) return s;
    if (on_deposit_change_) return on_deposit_change_(db_, d, type, now_ms);
    return {};
}

Scanner::Scanner(asio::any_io_executor executor, ScannerOptions options, chain::ChainAdapter& adapter,
                 store::Database& db, WatchRegistry& watch, const Clock& clock)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      adapter_(adapter),
      db_(db),
      watch_(watch),
      clock_(clock),
      timer_(std::make_shared<asio::steady_timer>(executor_)) {
    if (options_.max_batch == 0) options_.max_batch = 1;
}

bool Scanner::is_confirmed(std::uint64_t block_number, const chain::Head& head) const {
    if (options_.finalized) return head.finalized && block_number <= *head.finalized;
    if (head.height < block_number) return false;
    return head.height - block_number + 1 >= options_.confirmations;
}

asio::awaitable<Result<Scanner::Cursor>> Scanner::load_or_init_cursor(const chain::Head& head) {
    auto existing = store::get_cursor(db_, options_.chain_id);
    if (!existing) co_return existing.error();
    if (*existing) co_return Cursor{(*existing)->height, (*existing)->hash};

    // First start: begin at `start` (or the head), anchored on the block
    // before it so the first scanned block's parent is checked too. Height 0
    // has no parent: a start at 0 begins at 1 (genesis carries no transfers).
    std::uint64_t start = options_.start.value_or(head.height);
    if (start == 0) start = 1;
    auto anchor = co_await adapter_.block_at(start - 1);
    if (!anchor) co_return anchor.error();
    if (anchor->presence != chain::Presence::block)
        co_return make_error(Errc::unavailable, "block " + std::to_string(start - 1) + " not available yet");
    const auto& ref = anchor->ref;
    auto now = clock_.now_ms();
    store::Transaction tx(db_);
    if (!tx.begun()) co_return tx.begun().error();
    if (auto s = store::put_block(db_, options_.chain_id, {ref.height, ref.hash, ref.parent}); !s) co_return s.error();
    store::Cursor c{options_.chain_id, ref.height, ref.hash, head.height, std::nullopt, now};
    if (auto s = store::put_cursor(db_, c); !s) co_return s.error();
    if (auto s = tx.commit(); !s) co_return s.error();
    log::get("scanner")->info("{}: starting at block {} (head {})", options_.chain_id, start, head.height);
    co_return Cursor{ref.height, ref.hash};
}

asio::awaitable<Result<StepOutcome>> Scanner::step() {
    auto logger = log::get("scanner");
    if (auto s = watch_.refresh(db_, options_.protocol); !s) co_return s.error();

    auto head_r = co_await adapter_.head();
    if (!head_r) co_return head_r.error();
    const chain::Head head = *head_r;

    auto cursor_r = co_await load_or_init_cursor(head);
    if (!cursor_r) co_return cursor_r.error();
    const Cursor cursor = *cursor_r;

    metrics::Registry::global().gauge_set("depositd_chain_head", {{"chain", options_.chain_id}},
                                          static_cast<double>(head.height));

    if (cursor.height >= head.height) {
        int events = 0;
        {
            store::Transaction tx(db_);
            if (!tx.begun()) co_return tx.begun().error();
            if (auto s = store::set_head(db_, options_.chain_id, head.height, clock_.now_ms()); !s) co_return s.error();
            if (auto s = update_confirmations(head, cursor.height, events); !s) co_return s.error();
            if (auto s = tx.commit(); !s) co_return s.error();
        }
        if (events && on_events_) on_events_();
        co_return StepOutcome::caught_up;
    }

    const std::uint64_t from = cursor.height + 1;
    const std::uint64_t to = std::min<std::uint64_t>(head.height, from + options_.max_batch - 1);
    auto scanned = co_await adapter_.scan(from, to, watch_.set(options_.protocol));
    if (!scanned) co_return scanned.error();
    auto blocks = std::move(scanned->blocks);
    if (blocks.empty()) co_return make_error(Errc::unavailable, "node returned no blocks for " + std::to_string(from) + ".." + std::to_string(to));

    // Parent-hash continuity with what we committed, and inside the batch.
    if (blocks.front().block.height != from || blocks.front().block.parent != cursor.hash) {
        logger->warn("{}: block {} does not extend our block {} ({} != {}): reorg", options_.chain_id,
                     blocks.front().block.height, cursor.height, blocks.front().block.parent, cursor.hash);
        co_return co_await handle_reorg(cursor);
    }
    std::size_t keep = 1;
    while (keep < blocks.size() && blocks[keep].block.height == blocks[keep - 1].block.height + 1 &&
           blocks[keep].block.parent == blocks[keep - 1].block.hash && blocks[keep].block.height <= to)
        ++keep;
    blocks.resize(keep);  // anything after a break is fetched again next step

    if (auto s = commit_blocks(blocks, head); !s) co_return s.error();
    const auto last = blocks.back().block.height;
    metrics::Registry::global().gauge_set("depositd_chain_scanned", {{"chain", options_.chain_id}},
                                          static_cast<double>(last));
    if (last >= head.height) {
        logger->debug("{}: at head {}", options_.chain_id, last);
        co_return StepOutcome::caught_up;
    }
    logger->debug("{}: scanned {}..{} (head {}, lag {})", options_.chain_id, from, last, head.height,
                  head.height - last);
    co_return StepOutcome::progressed;
}

Status Scanner::commit_blocks(const std::vector<chain::BlockTransfers>& blocks, const chain::Head& head) {
    auto logger = log::get("scanner");
    const auto now = clock_.now_ms();
    const auto last = blocks.back().block;
    int events = 0;
    int found = 0;

    store::Transaction tx(db_);
    if (!tx.begun()) return tx.begun().error();
    for (const auto& bt : blocks) {
        const auto& b = bt.block;
        if (auto s = store::put_block(db_, options_.chain_id, {b.height, b.hash, b.parent}); !s) return s;
        for (const auto& t : bt.transfers) {
            auto address_id = watch_.set(options_.protocol).find(t.to_key);
            if (address_id == 0) continue;  // adapters only return watched recipients; be strict anyway
            auto owner = store::address_owner(db_, address_id);
            if (!owner) return owner.error();
            store::Deposit d;
            d.id = deposit_id(options_.chain_id, t.tx, t.index, b.hash);
            d.chain_id = options_.chain_id;
            d.tx_hash = t.tx;
            d.index = t.index;
            d.block_hash = b.hash;
            d.block_number = b.height;
            d.address_id = address_id;
            d.address = owner->address;
            d.reference = owner->reference;
            d.currency = t.currency;
            d.contract = t.contract;
            d.raw_amount = u256_to_decimal(t.amount);
            d.decimals = t.decimals;
            d.from = t.from;
            d.confirmations = head.height >= b.height ? head.height - b.height + 1 : 0;
            d.required_confirmations = options_.confirmations;
            d.status = kPending;
            d.detected_at = now;
            if (b.time_ms > 0) d.block_time = b.time_ms;
            auto inserted = store::insert_deposit(db_, d);
            if (!inserted) return inserted.error();
            if (!*inserted) continue;  // already known (a rescan after a crash before this point is impossible, but be idempotent)
            ++found;
            if (auto s = record_change(d, "deposit.pending", now); !s) return s;
            ++events;
            logger->info("{}: deposit {} {} {} to {} in block {} tx {}", options_.chain_id, d.id,
                         Amount(t.amount, t.decimals).to_string(), d.currency, d.address, b.height, d.tx_hash);
        }
    }
    if (auto s = update_confirmations(head, last.height, events); !s) return s;
    store::Cursor c{options_.chain_id, last.height, last.hash, head.height, std::nullopt, now};
    if (auto s = store::put_cursor(db_, c); !s) return s;
    const std::uint64_t keep = static_cast<std::uint64_t>(options_.max_reorg_depth) + 8;
    if (last.height > keep)
        if (auto s = store::prune_blocks_below(db_, options_.chain_id, last.height - keep); !s) return s;
    if (auto s = tx.commit(); !s) return s;
    if (found) metrics::Registry::global().counter_add("depositd_deposits_detected_total", {{"chain", options_.chain_id}}, found);
    if (events && on_events_) on_events_();
    return {};
}

Status Scanner::update_confirmations(const chain::Head& head, std::uint64_t scanned, int& events) {
    auto pending = store::pending_deposits(db_, options_.chain_id);
    if (!pending) return pending.error();
    const auto now = clock_.now_ms();
    for (auto& d : *pending) {
        if (d.block_number > scanned) continue;
        std::uint64_t confs = head.height >= d.block_number ? head.height - d.block_number + 1 : 0;
        bool confirm = is_confirmed(d.block_number, head);
        if (confs == d.confirmations && !confirm) continue;
        d.confirmations = confs;
        if (confirm) {
            d.status = kConfirmed;
            d.confirmed_at = now;
        }
        if (auto s = store::update_deposit_state(db_, d); !s) return s;
        if (confirm) {
            if (auto s = record_change(d, "deposit.confirmed", now); !s) return s;
            ++events;
            log::get("scanner")->info("{}: deposit {} confirmed ({} confirmations)", options_.chain_id, d.id, confs);
        }
    }
    return {};
}

asio::awaitable<Result<StepOutcome>> Scanner::handle_reorg(const Cursor& cursor) {
    auto logger = log::get("scanner");
    // Walk back until our stored hash is the chain's hash at that height.
    std::optional<std::uint64_t> ancestor;
    std::string ancestor_hash;
    const std::uint64_t floor =
        cursor.height > options_.max_reorg_depth ? cursor.height - options_.max_reorg_depth : 0;
    for (std::uint64_t h = cursor.height;; --h) {
        auto stored = store::get_block(db_, options_.chain_id, h);
        if (!stored) co_return stored.error();
        if (!*stored) break;  // older than what we keep
        auto canon = co_await adapter_.block_at(h);
        if (!canon) co_return canon.error();
        if (canon->presence == chain::Presence::block && canon->ref.hash == (*stored)->hash) {
            ancestor = h;
            ancestor_hash = (*stored)->hash;
            break;
        }
        if (h == floor || h == 0) break;
    }

    const auto now = clock_.now_ms();
    if (!ancestor) {
        std::string why = "reorg deeper than max_reorg_depth (" + std::to_string(options_.max_reorg_depth) +
                          ") below block " + std::to_string(cursor.height) +
                          ": chain stopped, nothing skipped; investigate the node, then restart";
        logger->critical("{}: {}", options_.chain_id, why);
        if (auto s = store::set_halted(db_, options_.chain_id, why, now); !s) co_return s.error();
        co_return StepOutcome::halted;
    }

    int events = 0;
    {
        store::Transaction tx(db_);
        if (!tx.begun()) co_return tx.begun().error();
        auto dropped = store::deposits_above(db_, options_.chain_id, *ancestor);
        if (!dropped) co_return dropped.error();
        for (auto& d : *dropped) {
            d.status = kReverted;
            d.reverted_at = now;
            if (auto s = store::update_deposit_state(db_, d); !s) co_return s.error();
            if (auto s = record_change(d, "deposit.reverted", now); !s) co_return s.error();
            ++events;
            logger->warn("{}: deposit {} reverted (block {} left the chain)", options_.chain_id, d.id, d.block_number);
        }
        if (auto s = store::delete_blocks_above(db_, options_.chain_id, *ancestor); !s) co_return s.error();
        store::Cursor c{options_.chain_id, *ancestor, ancestor_hash, std::nullopt, std::nullopt, now};
        if (auto s = store::put_cursor(db_, c); !s) co_return s.error();
        if (auto s = tx.commit(); !s) co_return s.error();
    }
    logger->warn("{}: reorg of depth {} handled, resuming from block {}", options_.chain_id,
                 cursor.height - *ancestor, *ancestor + 1);
    metrics::Registry::global().counter_add("depositd_reorgs_total", {{"chain", options_.chain_id}});
    if (events && on_events_) on_events_();
    co_return StepOutcome::reorged;
}

asio::awaitable<void> Scanner::run() {
    auto logger = log::get("scanner");
    // A previous halt is re-evaluated from scratch on start.
    if (auto c = store::get_cursor(db_, options_.chain_id); c && *c && (*c)->halted)
        (void)store::set_halted(db_, options_.chain_id, std::nullopt, clock_.now_ms());

    auto backoff = std::chrono::milliseconds(500);
    int failures = 0;
    while (!stopping_) {
        auto r = co_await step();
        std::chrono::milliseconds wait{0};
        if (!r) {
            ++failures;
            if (failures == 1 || failures % 10 == 0)
                logger->warn("{}: {} (attempt {}, retrying in {} ms)", options_.chain_id, r.error().describe(),
                             failures, backoff.count());
            wait = backoff;
            // A rate limit that says how long to wait is obeyed (bounded).
            if (r.error().retry_after_ms > 0)
                wait = std::max(wait, std::min(std::chrono::milliseconds(r.error().retry_after_ms), options_.max_backoff));
            backoff = std::min(backoff * 2, options_.max_backoff);
        } else {
            if (failures) logger->info("{}: recovered after {} failed attempts", options_.chain_id, failures);
            failures = 0;
            backoff = std::chrono::milliseconds(500);
            if (*r == StepOutcome::halted) break;
            if (*r == StepOutcome::caught_up) wait = options_.poll_interval;
        }
        if (wait.count() > 0 && !stopping_) {
            timer_->expires_after(wait);
            boost::system::error_code ec;
            co_await timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
    }
    logger->info("{}: scanner stopped", options_.chain_id);
}

void Scanner::stop() {
    stopping_ = true;
    timer_->cancel();
}

}  // namespace depositd::scanner
