#include "chain/evm/evm_adapter.hpp"

#include <algorithm>

#include "chain/evm/adapter_calls.hpp"
#include "codec/bloom.hpp"
#include "codec/hex.hpp"
#include "core/log.hpp"

// ERC20 logs proven complete: blocks whose logsBloom may hold a configured
// token's Transfer that the eth_getLogs answer lacks are asked again by
// blockHash (evm_adapter.hpp, scan() step 2).

namespace depositd::chain::evm {

namespace asio = boost::asio;
using namespace detail;

namespace {

// 32-byte topic of a 20-byte address, as raw bytes (bloom input).
std::array<std::uint8_t, 32> topic_bytes(std::string_view key) {
    std::array<std::uint8_t, 32> t{};
    std::copy(key.begin(), key.end(), t.begin() + 12);
    return t;
}
// eth_getLogs by blockHash (EIP-234): the tokens' logs, or every log (no address).
net::RpcCall block_logs_call(const std::string& hash, const json::array* addresses) {
    json::object filter;
    filter["blockHash"] = hash;
    if (addresses != nullptr) filter["address"] = *addresses;
    return net::RpcCall{"eth_getLogs", json::array{std::move(filter)}};
}

}  // namespace

std::vector<std::size_t> EvmAdapter::suspects(const ScanState& s, const WatchSet& watched) const {
    std::vector<std::size_t> out;
    const auto transfer_bits = codec::bloom_bits(*codec::from_hex(kTransferTopic));
    std::vector<codec::BloomBits> token_bits;
    for (const auto& t : tokens_) token_bits.push_back(codec::bloom_bits(t.contract));
    // The same condition as the query's topic filter (transfer_topics).
    std::vector<codec::BloomBits> recipient_bits;
    const bool by_recipient = watched.size() <= kTopicFilterMax;
    if (by_recipient)
        watched.for_each([&](std::string_view key, std::int64_t) {
            if (key.size() == 20) recipient_bits.push_back(codec::bloom_bits(topic_bytes(key)));
        });
    for (std::size_t i = 0; i < s.blocks.size(); ++i) {
        if (!s.token_logs.empty() && s.token_logs[i] > 0) continue;  // the answer has this block's logs
        const codec::LogsBloom& b = s.blocks[i].bloom;
        if (!b.may_contain(transfer_bits)) continue;
        bool maybe = std::any_of(token_bits.begin(), token_bits.end(), [&](const auto& t) { return b.may_contain(t); });
        if (maybe && by_recipient)
            maybe = std::any_of(recipient_bits.begin(), recipient_bits.end(),
                                [&](const auto& r) { return b.may_contain(r); });
        if (maybe) out.push_back(i);
    }
    return out;
}

Result<EvmAdapter::Proof> EvmAdapter::on_block_logs(const Result<json::value>& answer, ScanState& s, std::size_t i,
                                                    const WatchSet& watched, bool whole_block) {
    if (!answer) return answer.error();
    const auto& block = s.blocks[i];
    if (whole_block) {
        // Every log of the block: their bloom must account for the header's.
        auto bloom = bloom_of_logs(*answer);
        if (!bloom) return bloom.error();
        if (!bloom->covers(block.bloom)) return Proof::unproven;
    }
    std::uint32_t count = 0;
    const std::size_t first = s.matched.size();
    LogMatchContext ctx{tokens_, &watched, std::span<const BlockRef>(&s.refs[i], 1), std::span<std::uint32_t>(&count, 1),
                        chain_};
    auto st = decode_logs(*answer, ctx, s.matched);
    if (!st) {
        s.matched.resize(first);
        return st.error();
    }
    // Any log of a configured token proves the backend has this block's logs.
    if (!whole_block && st->logs == 0) return Proof::unproven;
    s.ignored_zero += st->ignored_zero;
    s.ignored_dust += st->ignored_dust;
    return Proof::proven;
}

asio::awaitable<Result<std::size_t>> EvmAdapter::prove_logs(ScanState& s, const WatchSet& watched,
                                                            std::vector<std::size_t> suspect) {
    const json::array addresses = token_addresses(tokens_);
    for (unsigned round = 0; round < kProofRounds && !suspect.empty(); ++round) {
        co_await before_round(round);
        const net::CallOptions where = other_endpoint(round % 2 == 1);
        // Step 1: the tokens' logs of each suspect block; any log proves it.
        // Step 2: every log of the blocks still unproven; their bloom must
        // cover the header's (a bloom false positive ends here).
        for (int step = 0; step < 2 && !suspect.empty(); ++step) {
            const bool whole = step == 1;
            std::vector<net::RpcCall> calls;
            for (std::size_t i : suspect) calls.push_back(block_logs_call(s.blocks[i].ref.hash, whole ? nullptr : &addresses));
            count_recheck(chain_, whole ? "block_logs" : "token_logs", calls.size());
            auto r = co_await rpc_->batch(std::move(calls), kBlockBatch, where);
            if (!r) {
                log_->debug("{}: eth_getLogs by blockHash (round {}): {}", chain_, round, r.error().describe());
                break;  // next round
            }
            if (r->size() != suspect.size())
                co_return make_error(Errc::malformed, "eth_getLogs batch: wrong number of results");
            std::vector<std::size_t> still;
            for (std::size_t k = 0; k < suspect.size(); ++k) {
                auto p = on_block_logs(Result<json::value>(std::move((*r)[k])), s, suspect[k], watched, whole);
                if (!p) co_return with_context(p.error(), "eth_getLogs block " + s.blocks[suspect[k]].ref.hash);
                if (*p == Proof::unproven) still.push_back(suspect[k]);
                else
                    log_->debug("{}: block {}: logs proven complete by blockHash ({}, round {})", chain_,
                                s.blocks[suspect[k]].ref.height, whole ? "all logs" : "token logs", round);
            }
            suspect = std::move(still);
        }
    }
    co_return suspect.empty() ? s.blocks.size() : *std::min_element(suspect.begin(), suspect.end());
}

}  // namespace depositd::chain::evm
