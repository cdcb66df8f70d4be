// Re-check of one transaction by hash (SPEC §10).
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

// --- Re-check of one transaction (SPEC §10) -------------------------------------

namespace {
Error not_mined(const std::string& tx) {
    return make_error(Errc::conflict, "transaction " + tx + " is not mined yet (not in a block); re-check it once it is");
}
Error unknown_tx(const std::string& chain, const std::string& tx) {
    return make_error(Errc::not_found, "transaction " + tx + " is not known to the node(s) of chain " + chain);
}
Error off_chain(const std::string& tx, const chain::BlockRef& b, const std::string& ours) {
    return make_error(Errc::conflict, "transaction " + tx + " is in block " + std::to_string(b.height) + " " + b.hash +
                                          ", which is not on the chain we follow (ours at that height is " + ours +
                                          "); not recorded");
}
}  // namespace

asio::awaitable<Result<RecheckResult>> Scanner::recheck(std::string tx_hash, std::optional<std::string> block_hash) {
    // Addresses bound a moment ago are watched too.
    if (auto s = co_await watch_.refresh(store_, options_.protocol); !s) co_return s.error();
    auto& set = watch_.set(options_.protocol);
    auto found = co_await adapter_.transaction(tx_hash, block_hash, set);
    if (!found) co_return found.error();
    if (found->state == chain::TxState::unknown) co_return unknown_tx(options_.chain_id, tx_hash);
    if (found->state == chain::TxState::pending) co_return not_mined(tx_hash);
    const chain::BlockRef block = found->block;

    // The node's answer is a claim: its block must be the canonical block at
    // that height — ours when we store one, else the node's, asked apart.
    const auto chain = options_.chain_id;
    const std::uint64_t height = block.height;
    auto stored = co_await store::async_write(store_, [&chain, height](store::Database& db) {
        return store::get_block(db, chain, height);
    });
    if (!stored) co_return stored.error();
    if (*stored) {
        if ((*stored)->hash != block.hash) co_return off_chain(tx_hash, block, (*stored)->hash);
    } else {
        auto canon = co_await adapter_.block_at(height);
        if (!canon) co_return with_context(canon.error(), "canonical check of block " + std::to_string(height));
        if (canon->presence == chain::Presence::unknown)
            co_return make_error(Errc::unavailable, "the node does not know block " + std::to_string(height) +
                                                        " yet (a lagging backend?); retry");
        if (canon->presence != chain::Presence::block || canon->ref.hash != block.hash) {
            const std::string ours = canon->presence == chain::Presence::block ? canon->ref.hash : std::string("none");
            co_return off_chain(tx_hash, block, ours);
        }
    }
    auto head = co_await adapter_.head();
    if (!head) co_return with_context(head.error(), "head");
    std::uint64_t head_height = std::max(head->height, height);
    if (head_) head_height = std::max(head_height, head_->height);

    std::vector<NewTransfer> transfers;
    for (auto& t : found->transfers) {
        auto id = set.find(t.to_key);
        if (id == 0 || t.tx.empty()) continue;  // adapters only return watched recipients; be strict anyway
        transfers.push_back(NewTransfer{std::move(t), id});
    }

    const auto now = clock_.now_ms();
    CommitCounts counts;
    RecheckResult result;
    auto s = co_await store::async_write(store_, [this, &chain, &block, &transfers, head_height, now, &counts,
                                                  &result, &tx_hash](store::Database& db) -> Status {
        counts = CommitCounts{};
        result = RecheckResult{};
        store::Transaction tx(db);
        if (!tx.begun()) return tx.begun();
        // Again inside the transaction: the scanner may have linked a block
        // at that height since the check above.
        auto again = store::get_block(db, chain, block.height);
        if (!again) return again.error();
        if (*again && (*again)->hash != block.hash) return off_chain(tx_hash, block, (*again)->hash);
        for (const auto& nt : transfers) {
            bool recorded = false;
            if (auto s = write_transfer(db, block, nt, head_height, now, counts, recorded); !s) return s;
            if (recorded) ++result.recorded;
            auto d = store::get_deposit(db, deposit_id(chain, nt.transfer.tx, nt.transfer.index, block.hash));
            if (!d) return d.error();
            if (*d) result.deposits.push_back(std::move(**d));
        }
        return tx.commit();
    });
    if (!s) co_return s.error();
    after_commit(counts);
    logger()->info("{}: re-check of {} (block {} {}): {} transfer(s) to watched addresses, {} recorded", chain,
                   tx_hash, block.height, block.hash, result.deposits.size(), result.recorded);
    co_return result;
}


}  // namespace depositd::scanner
