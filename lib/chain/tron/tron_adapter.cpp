#include "chain/tron/tron_adapter.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>

#include "codec/hex.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "net/jsonrpc.hpp"

namespace depositd::chain::tron {

namespace asio = boost::asio;

namespace {

// Request bodies built outside the coroutines (GCC and literals in co_await
// full-expressions do not mix well).
std::string num_body(std::uint64_t n) { return "{\"num\":" + std::to_string(n) + "}"; }
std::string range_body(std::uint64_t start, std::uint64_t end_exclusive) {
    return "{\"startNum\":" + std::to_string(start) + ",\"endNum\":" + std::to_string(end_exclusive) + "}";
}
std::string decimals_body(const TokenSpec& t) {
    const std::string hex = "41" + codec::to_hex(t.contract);
    return "{\"owner_address\":\"" + hex + "\",\"contract_address\":\"" + hex +
           "\",\"function_selector\":\"decimals()\",\"parameter\":\"\"}";
}
const std::string kEmptyBody = "{}";
const std::string kNowBlock = "/wallet/getnowblock";
const std::string kSolidNowBlock = "/walletsolidity/getnowblock";
const std::string kByLimitNext = "/wallet/getblockbylimitnext";
const std::string kInfoByNum = "/wallet/gettransactioninfobyblocknum";
const std::string kByNum = "/wallet/getblockbynum";
const std::string kTriggerConstant = "/wallet/triggerconstantcontract";

// triggerconstantcontract answer -> the decimals() value.
Result<unsigned> decode_decimals(const json::value& v) {
    if (auto s = check_node_error(v); !s) return s.error();
    if (!v.is_object()) return make_error(Errc::malformed, "answer is not an object");
    const auto& o = v.get_object();
    if (const auto* r = o.if_contains("result"); r && r->is_object()) {
        const auto& ro = r->get_object();
        const auto* ok = ro.if_contains("result");
        if (ok == nullptr || !ok->is_bool() || !ok->get_bool()) {
            std::string m = "call failed";
            if (const auto* msg = ro.if_contains("message"); msg && msg->is_string()) {
                // java-tron hex-encodes the message.
                auto bytes = codec::from_hex(std::string_view(msg->get_string().data(), msg->get_string().size()));
                m = bytes ? std::string(bytes->begin(), bytes->end()) : std::string(msg->get_string());
            }
            return make_error(Errc::invalid_input, "decimals() failed: " + quote_untrusted(m));
        }
    }
    const auto* cr = o.if_contains("constant_result");
    if (cr == nullptr || !cr->is_array() || cr->get_array().empty() || !cr->get_array()[0].is_string())
        return make_error(Errc::invalid_input, "decimals() returned no data (not a token contract?)");
    const auto& s = cr->get_array()[0].get_string();
    std::array<std::uint8_t, 32> w{};
    if (!codec::from_hex_exact(std::string_view(s.data(), s.size()), w))
        return make_error(Errc::invalid_input, "decimals() did not return one 32-byte word");
    for (std::size_t i = 0; i < 31; ++i)
        if (w[i] != 0) return make_error(Errc::invalid_input, "decimals() returned a value above 255");
    return static_cast<unsigned>(w[31]);
}

}  // namespace

Result<std::unique_ptr<TronAdapter>> TronAdapter::create(const config::ChainConfig& cfg,
                                                         std::unique_ptr<net::JsonRpcClient> rpc) {
    auto tokens = make_token_specs(cfg.tokens);
    if (!tokens) return with_context(tokens.error(), "chain " + cfg.id);
    return std::unique_ptr<TronAdapter>(new TronAdapter(cfg, std::move(rpc), std::move(*tokens)));
}

TronAdapter::TronAdapter(const config::ChainConfig& cfg, std::unique_ptr<net::JsonRpcClient> rpc,
                         std::vector<TokenSpec> tokens)
    : RpcAdapterOf(cfg, std::move(rpc), "chain.tron"),
      tokens_(std::move(tokens)),
      native_{cfg.native.symbol.empty() ? std::string("TRX") : cfg.native.symbol,
              cfg.native.symbol.empty() ? 6u : cfg.native.decimals, cfg.native.min_amount},
      range_(std::clamp<std::uint64_t>(cfg.max_block_range, 1, kMaxRange)) {}

asio::awaitable<Result<json::value>> TronAdapter::post(std::string path, std::string body) {
    const std::string label = path;
    auto r = co_await rpc_->post_json(std::move(path), std::move(body));
    if (!r) co_return with_context(classify_transport_error(r.error()), label);
    co_return std::move(*r);
}

asio::awaitable<Result<Head>> TronAdapter::head() {
    auto now = co_await post(kNowBlock, kEmptyBody);
    if (!now) co_return now.error();
    auto ref = decode_block_ref(*now);
    if (!ref) co_return with_context(ref.error(), kNowBlock);
    if (!*ref) co_return make_error(Errc::unavailable, kNowBlock + ": {} (the node has no block yet)");
    Head head;
    head.height = (*ref)->height;
    if (use_finalized_) {
        auto solid = co_await post(kSolidNowBlock, kEmptyBody);
        if (!solid) co_return solid.error();
        auto sref = decode_block_ref(*solid);
        if (!sref) co_return with_context(sref.error(), kSolidNowBlock);
        if (*sref) {  // {}: nothing solidified yet
            // The solidified block's id with its height: the scanner proves it
            // on its own chain. Above the tip just read: another backend, ahead.
            head.finalized = (*sref)->height;
            head.finalized_hash = (*sref)->hash;
            head.height = std::max(head.height, (*sref)->height);
        }
    }
    co_return head;
}

asio::awaitable<Result<BlockAt>> TronAdapter::block_at(std::uint64_t height) {
    auto r = co_await post(kByNum, num_body(height));
    if (!r) co_return r.error();
    auto ref = decode_block_ref(*r);
    if (!ref) co_return with_context(ref.error(), kByNum + " " + std::to_string(height));
    if (*ref && (*ref)->height != height)
        co_return make_error(Errc::malformed,
                             kByNum + " " + std::to_string(height) + " returned block " + std::to_string((*ref)->height));
    co_return present_or_unknown(std::move(*ref));
}

asio::awaitable<Result<ScanResult>> TronAdapter::scan(std::uint64_t from, std::uint64_t to,
                                                       const WatchSet& watched) {
    std::vector<BlockTransfers> result;
    std::size_t ignored_zero = 0, ignored_dust = 0;
    if (to < from) co_return ScanResult{{}, from - 1};
    std::uint64_t end = range_.end(from, to);
    Result<json::value> r = make_error(Errc::internal, "unset");
    for (;;) {
        ++scan_requests_;
        r = co_await post(kByLimitNext, range_body(from, end + 1));  // [startNum, endNum)
        if (r || r.error().code != Errc::range_too_large) break;
        // The answer is above max_response_size (busy mainnet blocks: 100 of
        // them are ~27 MB): the same request would fail again. Fewer blocks,
        // at once; the range grows back after calm scans.
        const auto shorter = range_.refused(from, end);
        if (!shorter) break;  // one block alone is too large: nothing to shrink
        log_->info("{}: blocks {}-{}: {}; range now {} blocks", chain_, from, end, r.error().message,
                   *shorter - from + 1);
        end = *shorter;
    }
    const std::string what = kByLimitNext + " " + std::to_string(from) + "-" + std::to_string(end);
    if (!r) {
        if (r.error().code == Errc::range_too_large)
            co_return with_context(r.error(), what + ": block " + std::to_string(from) +
                                                  " alone is larger than max_response_size; raise it");
        co_return r.error();
    }
    auto list = decode_block_list(*r, &watched, native_);
    if (!list) co_return with_context(list.error(), what);
    if (list->empty()) co_return make_error(Errc::unavailable, what + ": {} (no block in range)");

    std::vector<DecodedBlock> blocks = std::move(*list);
    std::sort(blocks.begin(), blocks.end(),
              [](const DecodedBlock& a, const DecodedBlock& b) { return a.ref.height < b.ref.height; });
    if (blocks.front().ref.height != from)
        co_return make_error(Errc::unavailable, what + ": the answer starts at block " +
                                                    std::to_string(blocks.front().ref.height));
    // The consecutive, parent-linked prefix inside the range.
    std::size_t keep = 1;
    while (keep < blocks.size() && blocks[keep].ref.height == blocks[keep - 1].ref.height + 1 &&
           blocks[keep].ref.parent == blocks[keep - 1].ref.hash && blocks[keep].ref.height <= end)
        ++keep;
    if (keep < blocks.size())
        log_->debug("{}: {}: kept {} of {} blocks (gap, parent break or past the range)", chain_, what, keep,
                    blocks.size());
    blocks.resize(keep);

    const bool want_tokens = !tokens_.empty() && watched.size() > 0;
    result.reserve(blocks.size());
    for (auto& b : blocks) {
        BlockTransfers bt;
        bt.block = b.ref;
        bt.transfers = std::move(b.native);
        if (want_tokens && !b.tx_ids.empty()) {
            ++scan_requests_;
            const std::string iwhat = kInfoByNum + " " + std::to_string(b.ref.height);
            auto infos = co_await post(kInfoByNum, num_body(b.ref.height));
            Status failed;
            if (!infos) {
                failed = infos.error();
            } else {
                InfoContext ctx{b.ref.height, &b.tx_ids, tokens_, &watched};
                auto st = decode_transaction_infos(*infos, ctx, bt.transfers);
                if (!st) {
                    failed = with_context(st.error(), iwhat);
                } else {
                    ignored_zero += st->ignored_zero;
                    ignored_dust += st->ignored_dust;
                }
                if (st && (st->matched || st->skipped_nonstandard)) {
                    log_->debug("{}: block {}: {} logs, {} token transfers, {} to watched addresses, {} failed txs with logs",
                                chain_, b.ref.height, st->logs, st->token_transfers, st->matched, st->failed);
                }
            }
            if (!failed) {
                // Blocks before this one are complete: hand them over, the
                // scanner asks again from here.
                if (!result.empty()) {
                    log_->debug("{}: {}; returning {} complete blocks", chain_, failed.error().describe(),
                                result.size());
                    break;
                }
                co_return failed.error();
            }
        }
        ignored_dust += b.ignored_dust;
        std::sort(bt.transfers.begin(), bt.transfers.end(), [](const Transfer& x, const Transfer& y) {
            return x.tx != y.tx ? x.tx < y.tx : x.index < y.index;
        });
        result.push_back(std::move(bt));
    }
    scanned_blocks_ += result.size();
    if (range_.succeeded()) log_->debug("{}: block range grows to {}", chain_, range_.span());
    count_ignored(chain_, Ignored::zero_value, ignored_zero);
    count_ignored(chain_, Ignored::below_min_amount, ignored_dust);
    const std::uint64_t scanned_to = result.back().block.height;
    co_return ScanResult{std::move(result), scanned_to};
}

asio::awaitable<Status> TronAdapter::verify() {
    for (const auto& t : tokens_) {
        const std::string who = "chain " + chain_ + " token " + t.symbol + " (" + t.contract_text + ")";
        // A transient failure (node down, rate limited, booting) is returned
        // as it is: the caller calls verify() again with backoff.
        auto r = co_await post(kTriggerConstant, decimals_body(t));
        if (!r) co_return with_context(r.error(), who + ": decimals()");
        auto d = decode_decimals(*r);
        if (!d) co_return with_context(d.error(), who);
        if (*d != t.decimals)
            co_return make_error(Errc::invalid_input, who + ": decimals() returns " + std::to_string(*d) +
                                                          ", the config says " + std::to_string(t.decimals));
        log_->info("{}: token {} {} decimals {} verified", chain_, t.symbol, t.contract_text, *d);
    }
    co_return Status{};
}

namespace {
const std::string kInfoById = "/wallet/gettransactioninfobyid";
const std::string kTxById = "/wallet/gettransactionbyid";
std::string value_body(const std::string& id) { return "{\"value\":\"" + id + "\"}"; }
Error malformed_tx_id(const std::string& text) {
    return make_error(Errc::invalid_input, "txHash must be a TRON txID (64 hex digits), not \"" + text.substr(0, 80) + "\"");
}
}  // namespace

// gettransactioninfobyid (in a block: its number), else gettransactionbyid
// (pending or unknown); then getblockbynum of that number.
asio::awaitable<Result<TxTransfers>> TronAdapter::transaction(std::string tx_hash, std::optional<std::string>,
                                                              const WatchSet& watched) {
    auto id = parse_tx_id(tx_hash);
    if (!id) co_return malformed_tx_id(tx_hash);
    auto info = co_await post(kInfoById, value_body(*id));
    if (!info) co_return info.error();
    auto number = decode_info_block(*info, *id);
    if (!number) co_return number.error();
    if (!*number) {
        auto tx = co_await post(kTxById, value_body(*id));
        if (!tx) co_return tx.error();
        if (auto s = check_node_error(*tx); !s) co_return with_context(s.error(), kTxById);
        TxTransfers out;
        out.state = decode_tx_known(*tx, *id) ? TxState::pending : TxState::unknown;
        co_return out;
    }
    auto block = co_await post(kByNum, num_body(**number));
    if (!block) co_return block.error();
    auto out = decode_tx_transfers(*id, *info, *block, tokens_, native_, watched);
    if (!out) co_return with_context(out.error(), "transaction " + *id);
    co_return std::move(*out);
}


}  // namespace depositd::chain::tron
