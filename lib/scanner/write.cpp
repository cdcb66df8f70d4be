// The writer-thread halves: what one transaction commits for a batch, a transfer,
// the confirmation sweep and the finality proof.
#include "scanner/scanner.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <set>
#include <unordered_map>

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

Status Scanner::flush_writes(store::Database& db) {
    if (!batch_writes_) return {};
    if (auto s = store::add_deposits(db, batch_writes_->deposits); !s) return s;
    if (auto s = store::add_events(db, batch_writes_->events); !s) return s;
    batch_writes_->deposits.clear();
    batch_writes_->events.clear();
    return {};
}

Status Scanner::record_change(store::Database& db, store::Deposit& d, const std::string& type, std::int64_t now,
                              const std::optional<std::unordered_set<std::int64_t>>& followed) {
    if (auto s = flush_writes(db); !s) return s;  // the row may still wait there
    ++d.changes;
    if (auto s = store::update_deposit_state(db, d); !s) return s;
    return record_event(db, d, type, now, followed);
}

Status Scanner::record_event(store::Database& db, const store::Deposit& d, const std::string& type, std::int64_t now,
                             const std::optional<std::unordered_set<std::int64_t>>& followed) {
    // Change n of a deposit has the event id change_event_id(deposit, n):
    // written with the change, in its transaction.
    store::NewEvent e;
    e.id = change_event_id(d.id, d.changes);
    e.deposit_id = d.id;
    e.type = type;
    e.created_at = now;
    e.payload = store::event_payload(e.id, type, now, d);
    if (batch_writes_) {
        batch_writes_->events.push_back(std::move(e));
    } else if (auto s = store::add_event(db, e); !s) {
        return s;
    }
    if (!on_deposit_change_ || (followed && !followed->contains(d.address_id))) return {};
    if (auto s = flush_writes(db); !s) return s;  // the observer reads the deposit and its events
    return on_deposit_change_(db, d, type, now);
}

Result<std::optional<std::unordered_set<std::int64_t>>> Scanner::observed(store::Database& db,
                                                                          std::vector<std::int64_t> address_ids) {
    using Followed = std::optional<std::unordered_set<std::int64_t>>;
    if (!on_deposit_change_) return Followed(std::unordered_set<std::int64_t>{});
    if (!observer_follows_) return Followed{};
    std::sort(address_ids.begin(), address_ids.end());
    address_ids.erase(std::unique(address_ids.begin(), address_ids.end()), address_ids.end());
    if (address_ids.empty()) return Followed(std::unordered_set<std::int64_t>{});
    auto set = observer_follows_(db, address_ids);
    if (!set) return set.error();
    return Followed(std::move(*set));
}

Status Scanner::read_batch(store::Database& db, const Batch& batch, BatchReads& reads) {
    std::vector<std::string> ids;
    std::vector<std::int64_t> addresses;
    for (const auto& nb : batch.blocks)
        for (const auto& nt : nb.transfers) {
            ids.push_back(deposit_id(options_.chain_id, nt.transfer.tx, nt.transfer.index, nb.ref.hash));
            addresses.push_back(nt.address_id);
        }
    if (ids.empty()) return {};
    auto known = store::deposits_by_id(db, ids);
    if (!known) return known.error();
    for (auto& d : *known) reads.known.emplace(d.id, std::move(d));
    auto owners = store::addresses_by_id(db, addresses);
    if (!owners) return owners.error();
    reads.addresses = std::move(*owners);
    auto bound = store::ever_bound(db, addresses);
    if (!bound) return bound.error();
    reads.ever_bound = std::move(*bound);
    auto followed = observed(db, addresses);
    if (!followed) return followed.error();
    reads.followed = std::move(*followed);
    return {};
}

Status Scanner::write_batch(store::Database& db, const Batch& batch, const chain::Head& head,
                            const std::map<std::uint64_t, std::string>& claims, std::int64_t now,
                            CommitCounts& counts) {
    const auto& chain = options_.chain_id;
    BatchReads reads;
    if (auto s = read_batch(db, batch, reads); !s) return s;
    std::vector<store::StoredBlock> blocks;
    blocks.reserve(batch.blocks.size());
    for (const auto& nb : batch.blocks) blocks.push_back({nb.ref.height, nb.ref.hash, nb.ref.parent});
    if (auto s = store::put_blocks(db, chain, blocks); !s) return s;
    {
        BatchWrites writes;
        batch_writes_ = &writes;
        struct Done {
            BatchWrites*& slot;
            ~Done() { slot = nullptr; }
        } done{batch_writes_};
        for (const auto& nb : batch.blocks)
            for (const auto& nt : nb.transfers) {
                bool recorded = false;
                if (auto s = write_transfer(db, nb.ref, nt, head.height, now, counts, recorded, &reads); !s) return s;
            }
        if (auto s = flush_writes(db); !s) return s;
    }
    // Finality is proven on the blocks just linked to ours; confirmations
    // count only blocks on that chain.
    if (auto s = prove_finality(db, claims, batch.cursor.height, counts); !s) return s;
    if (auto s = update_confirmations(db, head, batch.cursor.height, now, counts, &batch); !s) return s;
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

Status Scanner::write_transfer(store::Database& db, const chain::BlockRef& b, const NewTransfer& nt,
                               std::uint64_t head_height, std::int64_t now, CommitCounts& counts, bool& recorded,
                               BatchReads* reads) {
    const auto& chain = options_.chain_id;
    recorded = false;
    const auto& t = nt.transfer;
    const std::string id = deposit_id(chain, t.tx, t.index, b.hash);
    Result<std::optional<store::Deposit>> existing = std::optional<store::Deposit>{};
    if (!reads) {
        existing = store::get_deposit(db, id);
    } else if (auto it = reads->known.find(id); it != reads->known.end()) {
        existing = std::optional<store::Deposit>(it->second);
    }
    if (!existing) return existing.error();
    const std::optional<std::unordered_set<std::int64_t>> all;  // no batch: the observer hears every change
    const auto& followed = reads ? reads->followed : all;
    if (*existing) {
        store::Deposit d = std::move(**existing);
        if (d.status != kReverted) return {};  // already known (a rescan, a re-check)
        // The very block (same hash) is canonical again: two nodes
        // that disagreed for a moment. Back to pending, a new event.
        d.status = kPending;
        d.reverted_at.reset();
        d.confirmations = confirmations_at(head_height, b.height);
        if (auto s = record_change(db, d, kEvtPending, now, followed); !s) return s;
        if (reads) reads->known[id] = d;
        ++counts.events;
        ++counts.revived;
        logger()->warn("{}: deposit {} is back: block {} {} is canonical again", chain, d.id, b.height, b.hash);
        recorded = true;
        return {};
    }
    std::optional<std::string> address;
    if (reads)
        if (auto it = reads->addresses.find(nt.address_id); it != reads->addresses.end()) address = it->second;
    if (!address) {
        auto owner = store::address_owner(db, nt.address_id);
        if (!owner) return owner.error();
        address = std::move(owner->address);
    }
    // The binding that held the address at block time, or one that
    // began within the chain's attribution skew after it (SPEC §10:
    // block clocks run behind; cooldowns >= skew keep holders apart).
    // An address never bound has none.
    const std::int64_t block_time = b.time_ms > 0 ? std::min(b.time_ms, now) : now;
    Result<std::optional<std::string>> reference = std::optional<std::string>{};
    if (!reads || reads->ever_bound.contains(nt.address_id))
        reference = store::reference_at(db, nt.address_id, block_time, options_.attribution_skew.count());
    if (!reference) return reference.error();

    store::Deposit d;
    d.id = id;
    d.chain_id = chain;
    d.tx_hash = t.tx;
    d.index = t.index;
    d.block_hash = b.hash;
    d.block_number = b.height;
    d.address_id = nt.address_id;
    d.address = std::move(*address);
    d.reference = *reference;
    d.currency = t.currency;
    d.contract = t.contract;
    d.raw_amount = u256_to_decimal(t.amount);
    d.decimals = t.decimals;
    d.from = t.from;
    d.confirmations = confirmations_at(head_height, b.height);
    d.required_confirmations = std::max<std::uint64_t>(options_.finalized ? 0 : options_.confirmations,
                                                       t.min_confirmations);
    if (options_.finalized) d.finality = "finalized";
    d.status = kPending;
    d.detected_at = now;
    if (b.time_ms > 0) d.block_time = b.time_ms;  // orders are paid by block time
    d.changes = 1;  // the insert is its first change
    // Deep enough already (a catch-up): confirmed in this transaction. Both
    // events are written as ever, with the same ids and payloads; the row
    // goes in once, in its final state, instead of an insert and an update
    // (a third of a catch-up's database time). Only in a batch (its block is
    // linked by this transaction), not at finality (proven once the blocks
    // are stored) and not for a deposit the observer follows (orders read
    // the row between its two changes).
    const bool confirmed_now = reads && !options_.finalized && followed && !followed->contains(d.address_id) &&
                               is_confirmed(b.height, d.required_confirmations, chain::Head{head_height, {}, {}},
                                            std::nullopt);
    const store::Deposit pending = d;
    if (confirmed_now) {
        d.status = kConfirmed;
        d.confirmed_at = now;
        d.changes = 2;
    }
    if (batch_writes_) {
        batch_writes_->deposits.push_back(d);
    } else if (auto s = store::add_deposit(db, d); !s) {
        return s;
    }
    if (auto s = record_event(db, pending, kEvtPending, now, followed); !s) return s;
    if (confirmed_now)
        if (auto s = record_event(db, d, kEvtConfirmed, now, followed); !s) return s;
    if (reads) reads->known[id] = d;
    ++counts.events;
    ++counts.found;
    logger()->info("{}: deposit {} {} {} to {} in block {} tx {}", chain, d.id,
                   Amount(t.amount, t.decimals).to_string(), d.currency, d.address, b.height, d.tx_hash);
    if (confirmed_now) {
        ++counts.events;
        ++counts.confirmed;
        logger()->info("{}: deposit {} confirmed ({} confirmations)", chain, d.id, d.confirmations);
    }
    recorded = true;
    return {};
}

Status Scanner::update_confirmations(store::Database& db, const chain::Head& head, std::uint64_t scanned,
                                     std::int64_t now, CommitCounts& counts, const Batch* linked) {
    const auto& chain = options_.chain_id;
    // The batch's blocks were stored above, in this transaction: their rows
    // are these (a catch-up confirms most deposits in the batch that found
    // them; a read each would be a round trip each on PostgreSQL).
    std::unordered_map<std::uint64_t, const std::string*> just_linked;
    if (linked)
        for (const auto& nb : linked->blocks) just_linked[nb.ref.height] = &nb.ref.hash;
    auto pending = store::pending_deposits(db, chain);
    if (!pending) return pending.error();
    // The observer's addresses among those of the deposits that change now.
    std::vector<std::int64_t> due_addresses;
    for (const auto& d : *pending)
        if (d.block_number <= scanned && is_confirmed(d.block_number, d.required_confirmations, head, counts.proven))
            due_addresses.push_back(d.address_id);
    Result<std::optional<std::unordered_set<std::int64_t>>> followed = std::optional<std::unordered_set<std::int64_t>>{};
    if (!due_addresses.empty()) followed = observed(db, std::move(due_addresses));
    if (!followed) return followed.error();
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
        std::optional<std::string> stored;  // the hash of our block at that height
        if (auto it = just_linked.find(d.block_number); it != just_linked.end()) {
            stored = *it->second;
        } else {
            auto row = store::get_block(db, chain, d.block_number);
            if (!row) return row.error();
            if (*row) stored = (*row)->hash;
        }
        if (stored && *stored != d.block_hash) {
            // Only a re-check records a deposit ahead of the cursor (its block
            // verified canonical then); the block the scanner linked at that
            // height since is another one: the deposit's block left the chain.
            d.status = kReverted;
            d.reverted_at = now;
            if (auto s = record_change(db, d, kEvtReverted, now, *followed); !s) return s;
            ++counts.events;
            logger()->warn("{}: deposit {} reverted: its block {} {} is not on our chain (ours there is {})", chain,
                           d.id, d.block_number, d.block_hash, *stored);
            continue;
        }
        if (!stored) {
            // Not stored: either pruned (older than every kept block, deeper
            // than any reorg we follow) or not on our chain at all.
            auto below = store::blocks_down_from(db, chain, d.block_number, 1);
            if (!below) return below.error();
            if (!below->empty()) continue;
        }
        d.confirmations = confs;
        d.status = kConfirmed;
        d.confirmed_at = now;
        if (auto s = record_change(db, d, kEvtConfirmed, now, *followed); !s) return s;
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


}  // namespace depositd::scanner
