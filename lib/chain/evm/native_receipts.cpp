#include "chain/evm/evm_adapter.hpp"

#include <algorithm>
#include <chrono>

#include "chain/evm/adapter_calls.hpp"
#include "core/log.hpp"

// Native transfers settled by their receipts: eth_getBlockReceipts by block
// hash, else eth_getTransactionReceipt, in rounds (evm_adapter.hpp, scan()
// step 3).

namespace depositd::chain::evm {

namespace asio = boost::asio;
using namespace detail;

namespace {

net::RpcCall block_receipts_call(const std::string& hash) { return net::RpcCall{"eth_getBlockReceipts", json::array{hash}}; }
// The node does not have the method at all (geth < 1.13, some providers):
// -32601, or a message saying so.
bool is_method_missing(const Error& e) {
    if (e.code != Errc::rpc_error && e.code != Errc::http_status) return false;
    if (e.status == -32601) return true;
    return icontains(e.message, "method") &&
           (icontains(e.message, "not found") || icontains(e.message, "does not exist") ||
            icontains(e.message, "not supported") || icontains(e.message, "unsupported") ||
            icontains(e.message, "not available"));
}

}  // namespace

// Native transfers: the verdict of each candidate's receipt.
bool EvmAdapter::block_receipts_usable() const { return std::chrono::steady_clock::now() >= block_receipts_off_until_; }

void EvmAdapter::block_receipts_unsupported(const Error& e) {
    // Asked again later: behind a load balancer another backend may have it.
    block_receipts_off_until_ = std::chrono::steady_clock::now() + kBlockReceiptsReprobe;
    log_->info("{}: the node does not serve eth_getBlockReceipts ({}); asking eth_getTransactionReceipt per "
               "transaction (a node that prunes its transaction index answers null for old ones)",
               chain_, e.message);
}

std::vector<std::size_t> EvmAdapter::unsettled_blocks(const ScanState& s, const std::vector<Verdict>& verdicts) {
    std::vector<std::size_t> blocks;
    for (std::size_t k = 0; k < s.natives.size(); ++k)
        if (verdicts[k] == Verdict::unknown && (blocks.empty() || blocks.back() != s.natives[k].first))
            blocks.push_back(s.natives[k].first);
    return blocks;
}

Status EvmAdapter::on_block_receipts(const std::vector<json::value>& answers, const ScanState& s,
                                     std::span<const std::size_t> blocks, std::vector<Verdict>& verdicts) {
    if (answers.size() != blocks.size())
        return make_error(Errc::malformed, "eth_getBlockReceipts batch: wrong number of results");
    for (std::size_t j = 0; j < blocks.size(); ++j) {
        const std::size_t bi = blocks[j];
        std::vector<std::string> txs;
        std::vector<std::size_t> which;
        for (std::size_t k = 0; k < s.natives.size(); ++k)
            if (s.natives[k].first == bi && verdicts[k] == Verdict::unknown) {
                txs.push_back(s.natives[k].second->tx);
                which.push_back(k);
            }
        const std::string& hash = s.result[bi].block.hash;
        auto got = decode_block_receipts(answers[j], txs, hash);
        if (!got) {
            if (got.error().code == Errc::not_found) continue;  // this backend does not know the block: unknown
            return with_context(got.error(), "eth_getBlockReceipts " + hash);
        }
        for (std::size_t i = 0; i < which.size(); ++i)
            if ((*got)[i]) verdicts[which[i]] = *(*got)[i] ? Verdict::succeeded : Verdict::failed;
    }
    return {};
}

Status EvmAdapter::on_tx_receipts(const std::vector<json::value>& answers, const ScanState& s,
                                  std::span<const std::size_t> natives, std::vector<Verdict>& verdicts) {
    if (answers.size() != natives.size())
        return make_error(Errc::malformed, "eth_getTransactionReceipt batch: wrong number of results");
    for (std::size_t j = 0; j < natives.size(); ++j) {
        const std::size_t k = natives[j];
        auto ok = decode_receipt_success(answers[j], s.result[s.natives[k].first].block.hash);
        if (!ok) {
            // null: not this backend's (yet), or beyond its transaction index
            // (geth --txlookuplimit): unknown, never a reorg by itself.
            if (ok.error().code == Errc::not_found) continue;
            return with_context(ok.error(), "receipt of " + s.natives[k].second->tx);
        }
        verdicts[k] = *ok ? Verdict::succeeded : Verdict::failed;
    }
    return {};
}

asio::awaitable<Result<std::size_t>> EvmAdapter::settle_natives(ScanState& s) {
    std::vector<Verdict> verdicts(s.natives.size(), Verdict::unknown);
    for (unsigned round = 0; round < kProofRounds; ++round) {
        std::vector<std::size_t> blocks = unsettled_blocks(s, verdicts);
        if (blocks.empty()) break;
        co_await before_round(round);
        const net::CallOptions where = other_endpoint(round % 2 == 1);
        // 1. The whole block's receipts by block hash: not subject to a
        //    pruned transaction index, and bound to the very block we scanned.
        if (block_receipts_usable()) {
            std::size_t chunk = kBlockReceiptsBatch;
            for (std::size_t start = 0; start < blocks.size();) {
                const std::size_t stop = std::min(blocks.size(), start + chunk);
                std::vector<net::RpcCall> calls;
                for (std::size_t j = start; j < stop; ++j) calls.push_back(block_receipts_call(s.result[blocks[j]].block.hash));
                auto r = co_await rpc_->batch(std::move(calls), chunk, where);
                if (!r) {
                    const Error& e = r.error();
                    if (is_method_missing(e)) {
                        block_receipts_unsupported(e);
                        break;
                    }
                    if (e.code == Errc::range_too_large && chunk > 1) {
                        chunk = 1;  // one block per request
                        continue;
                    }
                    log_->debug("{}: eth_getBlockReceipts (round {}): {}", chain_, round, e.describe());
                    break;  // unknown this round
                }
                auto st = on_block_receipts(*r, s, std::span<const std::size_t>(blocks).subspan(start, stop - start),
                                            verdicts);
                if (!st) co_return st.error();
                start = stop;
            }
        }
        // 2. Per transaction, where the node lacks eth_getBlockReceipts.
        if (!block_receipts_usable()) {
            std::vector<std::size_t> open;
            for (std::size_t k = 0; k < s.natives.size(); ++k)
                if (verdicts[k] == Verdict::unknown) open.push_back(k);
            for (std::size_t start = 0; start < open.size(); start += kReceiptBatch) {
                const std::size_t stop = std::min(open.size(), start + kReceiptBatch);
                std::vector<net::RpcCall> calls;
                for (std::size_t j = start; j < stop; ++j) calls.push_back(receipt_call(s.natives[open[j]].second->tx));
                auto r = co_await rpc_->batch(std::move(calls), kReceiptBatch, where);
                if (!r) {
                    log_->debug("{}: eth_getTransactionReceipt (round {}): {}", chain_, round, r.error().describe());
                    break;  // unknown this round
                }
                auto st = on_tx_receipts(*r, s, std::span<const std::size_t>(open).subspan(start, stop - start), verdicts);
                if (!st) co_return st.error();
            }
        }
        // 3. A receipt still missing is a reorg only when its block left the
        //    chain; otherwise it is unknown: ask again (another endpoint).
        if (round == 0) {
            for (std::size_t bi : unsettled_blocks(s, verdicts)) {
                const BlockRef& b = s.result[bi].block;
                auto now = co_await block_at(b.height);
                if (!now) continue;  // cannot tell now: the next rounds ask again
                if (now->presence == Presence::block && now->ref.hash != b.hash)
                    co_return make_error(Errc::conflict, "reorg during fetch: block " + std::to_string(b.height) + " " +
                                                             b.hash + " was replaced by " + now->ref.hash +
                                                             " (its receipts are gone)");
                log_->debug("{}: receipts missing for canonical block {} {}; asking again", chain_, b.height, b.hash);
            }
        }
    }
    // Keep the blocks before the first one with an unsettled candidate.
    const auto open = unsettled_blocks(s, verdicts);
    const std::size_t keep = open.empty() ? s.result.size() : open.front();
    for (std::size_t k = 0; k < s.natives.size(); ++k) {
        const std::size_t bi = s.natives[k].first;
        if (bi >= keep) continue;
        if (verdicts[k] == Verdict::succeeded)
            s.result[bi].transfers.push_back(std::move(*s.natives[k].second));
        else
            log_->debug("{}: tx {} to a watched address failed (status 0x0); not a deposit", chain_, s.natives[k].second->tx);
    }
    if (!open.empty()) {
        std::string tx;
        for (std::size_t k = 0; k < s.natives.size() && tx.empty(); ++k)
            if (s.natives[k].first == open.front() && verdicts[k] == Verdict::unknown) tx = s.natives[k].second->tx;
        const BlockRef& b = s.result[open.front()].block;
        const std::string what = "no endpoint has the receipt of tx " + tx + " in block " + std::to_string(b.height) +
                                 " " + b.hash +
                                 " (a lagging backend, or a node that prunes its transaction index — geth "
                                 "--txlookuplimit / --history.transactions — without eth_getBlockReceipts)";
        if (keep == 0) co_return make_error(Errc::unavailable, what + "; asked again later");
        log_->warn("{}: {}; returning blocks {}-{} and asking again later", chain_, what, s.from, s.from + keep - 1);
    }
    co_return keep;
}

}  // namespace depositd::chain::evm
