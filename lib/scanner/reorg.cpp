// Reorgs: the walk back to the common ancestor, and the halt past max_reorg_depth.
#include "scanner/scanner.hpp"

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

namespace depositd::scanner {

namespace asio = boost::asio;
using namespace detail;

// --- Reorgs ---------------------------------------------------------------------

asio::awaitable<Result<StepOutcome>> Scanner::halt(const std::string& why) {
    prefetch_.reset();
    logger()->critical("{}: {}", options_.chain_id, why);
    const auto chain = options_.chain_id;
    const auto now = clock_.now_ms();
    const auto fence = fence_;
    auto s = co_await store::async_write(store_, [this, &chain, &why, &fence, now](store::Database& db) -> Status {
        store::Transaction tx(db);
        if (!tx.begun()) return tx.begun();
        if (auto s = store::set_halted(db, chain, why, now); !s) return s;
        if (auto s = store::set_health(db, chain, "halted", why, std::nullopt, now); !s) return s;
        // Last, so the lease row is locked only for the COMMIT's round trip.
        if (auto s = prove_lease(db, fence); !s) return s;
        return tx.commit();
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
    const auto fence = fence_;
    auto s = co_await store::async_write(store_, [this, &chain, &anc, &fence, now, &counts](store::Database& db) -> Status {
        counts = CommitCounts{};
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
        // Last, so the lease row is locked only for the COMMIT's round trip.
        if (auto s = prove_lease(db, fence); !s) return s;
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
