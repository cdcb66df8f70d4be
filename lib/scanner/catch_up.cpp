// Catch-up: a scanned range validated into a batch, committed while the next range is fetched.
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
#include "store/planning.hpp"
#include "store/pool.hpp"
#include "store/store.hpp"

#include "scanner/detail.hpp"

namespace depositd::scanner {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using namespace detail;

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
    const auto fence = fence_;
    CommitCounts counts;
    auto s = co_await store::async_write(store_, [this, &batch, &head, now, &claims, &proven, &fence,
                                                  &counts](store::Database& db) -> Status {
        counts = CommitCounts{};
        counts.proven = proven;
        store::Transaction tx(db);
        if (!tx.begun()) return tx.begun();
        if (auto s = store::plan_for_each_execution(db); !s) return s;
        if (auto s = write_batch(db, batch, head, claims, now, counts); !s) return s;
        // Last, so the lease row is locked only for the COMMIT's round trip.
        if (auto s = prove_lease(db, fence); !s) return s;
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


}  // namespace depositd::scanner
