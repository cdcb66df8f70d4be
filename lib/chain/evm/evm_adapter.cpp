#include "chain/evm/evm_adapter.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>

#include "chain/evm/adapter_calls.hpp"
#include "codec/bloom.hpp"
#include "codec/hex.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "net/jsonrpc.hpp"

namespace depositd::chain::evm {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace detail {

bool icontains(std::string_view hay, std::string_view needle) {
    auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
    });
    return it != hay.end();
}
net::RpcCall receipt_call(const std::string& tx) { return net::RpcCall{"eth_getTransactionReceipt", json::array{tx}}; }
json::array token_addresses(const std::vector<TokenSpec>& tokens) {
    json::array a;
    for (const auto& t : tokens) a.emplace_back(t.contract_lower);
    return a;
}
net::CallOptions other_endpoint(bool other) {
    net::CallOptions o;
    o.prefer_other_endpoint = other;
    return o;
}
std::chrono::milliseconds proof_wait(unsigned round, unsigned base_ms) {
    // Rounds 0 and 1 (default endpoint, then another) at once; then 1x, 2x, 4x base.
    return round < 2 ? std::chrono::milliseconds(0) : std::chrono::milliseconds(base_ms << (round - 2));
}
// The pause before a round of asking again (logs proof, receipts).
asio::awaitable<void> before_round(unsigned round) {
    const auto wait = proof_wait(round, EvmAdapter::kProofBackoffMs);
    if (wait.count() == 0) co_return;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(wait);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}
void count_recheck(const std::string& chain, const char* step, std::size_t n) {
    if (n == 0) return;
    auto& reg = metrics::Registry::global();
    reg.describe("depositd_evm_log_rechecks_total", "counter",
                 "Blocks whose eth_getLogs answer missed their logsBloom, asked again by blockHash "
                 "(step token_logs / block_logs) or left unproven for a later scan (unproven).");
    reg.counter_add("depositd_evm_log_rechecks_total", {{"chain", chain}, {"step", step}}, static_cast<double>(n));
}

}  // namespace detail

using namespace detail;

namespace {

std::string recipient_topic(std::string_view key) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string t = "0x000000000000000000000000";
    t.reserve(66);
    for (unsigned char c : key) {
        t.push_back(digits[c >> 4]);
        t.push_back(digits[c & 0xf]);
    }
    return t;
}

// Call builders outside the coroutines: GCC rejects string literals inside a
// co_await full-expression ("array used as initializer").
json::array no_params() { return json::array{}; }
json::array finalized_params() { return json::array{"finalized", false}; }
json::array block_params(std::uint64_t h, bool full) { return json::array{quantity(h), full}; }
json::array eth_call_params(json::object call) { return json::array{std::move(call), "latest"}; }
net::RpcCall block_call(std::uint64_t h) { return net::RpcCall{"eth_getBlockByNumber", block_params(h, true)}; }
// topics: [Transfer] or [Transfer, null, [recipients...]] for small watch sets.
json::array transfer_topics(const WatchSet& watched, std::size_t max_recipients) {
    json::array topics;
    topics.emplace_back(kTransferTopic);
    if (watched.size() <= max_recipients) {
        std::vector<std::string> rec;
        rec.reserve(watched.size());
        watched.for_each([&](std::string_view key, std::int64_t) {
            if (key.size() == 20) rec.push_back(recipient_topic(key));
        });
        std::sort(rec.begin(), rec.end());
        json::array recipients;
        for (auto& r : rec) recipients.emplace_back(std::move(r));
        topics.emplace_back(nullptr);
        topics.emplace_back(std::move(recipients));
    }
    return topics;
}
json::array logs_params(std::uint64_t from, std::uint64_t to, const json::array& addresses, const json::array& topics) {
    json::object filter;
    filter["fromBlock"] = quantity(from);
    filter["toBlock"] = quantity(to);
    filter["address"] = addresses;
    filter["topics"] = topics;
    return json::array{std::move(filter)};
}
net::CallOptions only_endpoint(std::size_t i) {
    net::CallOptions o;
    o.endpoint = i;
    return o;
}
// The chain-id check every endpoint must pass (net::EndpointCheck).
net::EndpointCheck chain_id_check(std::uint64_t expected) {
    net::EndpointCheck c;
    c.method = "eth_chainId";
    c.check = [expected](const json::value& result) -> Status {
        auto n = parse_quantity_json(result);
        if (!n) return make_error(Errc::malformed, "eth_chainId: " + n.error().message);
        if (*n != expected)
            return make_error(Errc::invalid_input, "reports chain id " + std::to_string(*n) + ", expected " +
                                                       std::to_string(expected));
        return {};
    };
    return c;
}
void sort_transfers(std::vector<BlockTransfers>& blocks) {
    for (auto& bt : blocks)
        std::sort(bt.transfers.begin(), bt.transfers.end(),
                  [](const Transfer& a, const Transfer& b) { return a.index < b.index; });
}
const std::string kBlockNumber = "eth_blockNumber";
const std::string kGetBlock = "eth_getBlockByNumber";
const std::string kGetLogs = "eth_getLogs";
const std::string kChainId = "eth_chainId";
const std::string kEthCall = "eth_call";

}  // namespace

Result<std::unique_ptr<EvmAdapter>> EvmAdapter::create(const config::ChainConfig& cfg,
                                                       std::unique_ptr<net::JsonRpcClient> rpc) {
    auto tokens = make_token_specs(cfg.tokens);
    if (!tokens) return with_context(tokens.error(), "chain " + cfg.id);
    return std::unique_ptr<EvmAdapter>(new EvmAdapter(cfg, std::move(rpc), std::move(*tokens)));
}

EvmAdapter::EvmAdapter(const config::ChainConfig& cfg, std::unique_ptr<net::JsonRpcClient> rpc,
                       std::vector<TokenSpec> tokens)
    : RpcAdapterOf(cfg, std::move(rpc), "chain.evm"),
      chain_id_(cfg.chain_id),
      chain_id_source_(cfg.chain_id_source),
      tokens_(std::move(tokens)),
      native_{cfg.native.symbol, cfg.native.decimals, cfg.native.min_amount},
      range_(cfg.max_block_range, kGrowAfter) {}

asio::awaitable<Result<Head>> EvmAdapter::head() {
    auto bn = co_await rpc_->call(kBlockNumber, no_params());
    if (!bn) co_return with_context(bn.error(), "eth_blockNumber");
    auto h = parse_quantity_json(*bn);
    if (!h) co_return with_context(h.error(), "eth_blockNumber");
    Head head;
    head.height = *h;
    if (use_finalized_) {
        auto fin = co_await rpc_->call(kGetBlock, finalized_params());
        if (!fin) {
            const Error& e = fin.error();
            const bool unknown = e.code == Errc::rpc_error && (e.status == -39001 || icontains(e.message, "unknown block"));
            if (!unknown) co_return with_context(e, "eth_getBlockByNumber(finalized)");
        } else {
            auto ref = decode_block_ref(*fin);
            if (!ref) co_return with_context(ref.error(), "eth_getBlockByNumber(finalized)");
            if (*ref) {
                // Height and hash together (the scanner proves the hash on its
                // own chain). A finalized block above the tip just read came
                // from a backend ahead of the one that answered eth_blockNumber.
                head.finalized = (*ref)->height;
                head.finalized_hash = (*ref)->hash;
                head.height = std::max(head.height, (*ref)->height);
            }
        }
    }
    co_return head;
}

asio::awaitable<Result<BlockAt>> EvmAdapter::block_at(std::uint64_t height) {
    auto r = co_await rpc_->call(kGetBlock, block_params(height, false));
    if (!r) co_return with_context(r.error(), "eth_getBlockByNumber");
    auto ref = decode_block_ref(*r);
    if (!ref) co_return with_context(ref.error(), "eth_getBlockByNumber " + std::to_string(height));
    if (*ref && (*ref)->height != height)
        co_return make_error(Errc::malformed, "eth_getBlockByNumber " + std::to_string(height) + " returned block " +
                                                  std::to_string((*ref)->height));
    co_return present_or_unknown(std::move(*ref));
}

namespace {
Error malformed_evm_hash(const std::string& text) {
    return make_error(Errc::invalid_input, "txHash must be 0x followed by 64 hex digits, not \"" +
                                               text.substr(0, 80) + "\"");
}
std::vector<net::RpcCall> tx_lookup_calls(const std::string& hash) {
    std::vector<net::RpcCall> calls;
    calls.push_back(net::RpcCall{"eth_getTransactionByHash", json::array{hash}});
    calls.push_back(receipt_call(hash));
    return calls;
}
json::array block_by_hash_params(const std::string& hash) { return json::array{hash, false}; }
const std::string kGetBlockByHash = "eth_getBlockByHash";
}  // namespace

asio::awaitable<Result<TxTransfers>> EvmAdapter::transaction(std::string tx_hash, std::optional<std::string>,
                                                             const WatchSet& watched) {
    auto hash = parse_tx_hash(tx_hash);
    if (!hash) co_return malformed_evm_hash(tx_hash);
    auto answers = co_await rpc_->batch(tx_lookup_calls(*hash), 2);
    if (!answers) co_return with_context(answers.error(), "eth_getTransactionByHash/eth_getTransactionReceipt");
    if (answers->size() != 2) co_return make_error(Errc::malformed, "transaction lookup: wrong number of results");
    auto where = decode_tx_location((*answers)[0], (*answers)[1]);
    if (!where) co_return with_context(where.error(), "transaction " + *hash);
    if (where->state != TxState::mined) {
        TxTransfers none;
        none.state = where->state;
        co_return none;
    }
    auto header = co_await rpc_->call(kGetBlockByHash, block_by_hash_params(where->block_hash));
    if (!header) co_return with_context(header.error(), "eth_getBlockByHash");
    auto out = decode_transaction_transfers(*hash, (*answers)[0], (*answers)[1], *header, tokens_, native_, watched,
                                            chain_);
    if (!out) co_return with_context(out.error(), "transaction " + *hash);
    if (out->block.height != where->height)
        co_return make_error(Errc::malformed, "the receipt's block number differs from its block's");
    co_return std::move(*out);
}

// Lane `lane` fetches batches lane, lane + kFetchLanes, ... of from..to.
asio::awaitable<void> EvmAdapter::fetch_lane(std::uint64_t from, std::uint64_t to, std::size_t lane,
                                             const WatchSet& watched, std::vector<BlockSlot>& slots) {
    for (std::size_t i = lane; i < slots.size(); i += kFetchLanes) {
        const std::uint64_t start = from + i * kBlockBatch;
        const std::uint64_t end = std::min<std::uint64_t>(to, start + kBlockBatch - 1);
        std::vector<net::RpcCall> calls;
        for (std::uint64_t h = start; h <= end; ++h)
            calls.push_back(block_call(h));
        auto r = co_await rpc_->batch(std::move(calls), kBlockBatch);
        slots[i] = decode_block_batch(r, start, end, watched);
        // An error or the node's tip: the batches after it are not used.
        if (!*slots[i] || (*slots[i])->size() < end - start + 1) co_return;
    }
}

Result<std::vector<DecodedBlock>> EvmAdapter::decode_block_batch(Result<std::vector<json::value>>& r,
                                                                 std::uint64_t start, std::uint64_t end,
                                                                 const WatchSet& watched) {
    if (!r) return with_context(r.error(), "eth_getBlockByNumber batch");
    if (r->size() != end - start + 1)
        return make_error(Errc::malformed, "eth_getBlockByNumber batch: wrong number of results");
    std::vector<DecodedBlock> blocks;
    blocks.reserve(r->size());
    for (std::uint64_t h = start; h <= end; ++h) {
        auto b = decode_block((*r)[static_cast<std::size_t>(h - start)], watched, native_);
        if (!b) return with_context(b.error(), "eth_getBlockByNumber " + std::to_string(h));
        if (!*b) break;  // beyond the tip (or a reorg shortened the chain): prefix
        if ((*b)->ref.height != h)
            return make_error(Errc::malformed,
                              "eth_getBlockByNumber " + std::to_string(h) + " returned block " + std::to_string((*b)->ref.height));
        blocks.push_back(std::move(**b));
    }
    return blocks;
}

asio::awaitable<Result<std::vector<DecodedBlock>>> EvmAdapter::fetch_blocks(std::uint64_t from, std::uint64_t to,
                                                                            const WatchSet& watched) {
    std::vector<BlockSlot> slots(static_cast<std::size_t>((to - from) / kBlockBatch + 1));
    static_assert(kFetchLanes == 4, "one fetch_lane per lane below");
    co_await (fetch_lane(from, to, 0, watched, slots) && fetch_lane(from, to, 1, watched, slots) &&
              fetch_lane(from, to, 2, watched, slots) && fetch_lane(from, to, 3, watched, slots));
    co_return join_batches(slots, from, to);
}

// The batches in order, linked: the first error, or the prefix up to the
// node's tip.
Result<std::vector<DecodedBlock>> EvmAdapter::join_batches(std::vector<BlockSlot>& slots, std::uint64_t from,
                                                           std::uint64_t to) {
    std::vector<DecodedBlock> blocks;
    blocks.reserve(static_cast<std::size_t>(to - from + 1));
    for (auto& slot : slots) {
        if (!slot) break;  // after a shorter batch in another lane
        if (!*slot) {
            if (slot->error().code == Errc::range_too_large) range_.shrink_to((to - from + 1) / 2);
            return std::move(slot->error());
        }
        const std::size_t expected = std::min<std::size_t>(kBlockBatch, static_cast<std::size_t>(to - from + 1) - blocks.size());
        const std::size_t got = (*slot)->size();
        for (auto& b : **slot) {
            if (!blocks.empty() && b.ref.parent != blocks.back().ref.hash)
                return make_error(Errc::conflict, "reorg during fetch: block " + std::to_string(b.ref.height) +
                                                      " parent " + b.ref.parent + " != " + blocks.back().ref.hash);
            blocks.push_back(std::move(b));
        }
        if (got < expected) break;  // the node's tip
    }
    return blocks;
}

asio::awaitable<Result<std::string>> EvmAdapter::fetch_logs(std::uint64_t from, std::uint64_t to,
                                                             const WatchSet& watched) {
    const json::array addresses = token_addresses(tokens_);
    const json::array topics = transfer_topics(watched, kTopicFilterMax);
    co_return co_await rpc_->call_raw(kGetLogs, logs_params(from, to, addresses, topics));
}

// Non-coroutine halves of scan() (GCC's coroutine lowering is fragile with
// string literals and aggregates in coroutine bodies; keep those out here).
EvmAdapter::LogsStep EvmAdapter::on_logs(Result<std::string>& logs, ScanState& s, const WatchSet& watched) {
    if (logs) {
        s.token_logs.assign(s.blocks.size(), 0);
        LogMatchContext ctx{tokens_, &watched, s.refs, s.token_logs, chain_};
        // The answer body itself, decoded by the streaming parser: no DOM of
        // thousands of logs, only the watched transfers are kept.
        auto st = decode_logs(std::string_view(*logs), ctx, s.matched);
        if (!st) {
            s.error = with_context(st.error(), "eth_getLogs " + std::to_string(s.from) + "-" + std::to_string(s.end));
            return LogsStep::fail;
        }
        s.ignored_zero += st->ignored_zero;
        s.ignored_dust += st->ignored_dust;
        log_->debug("{}: eth_getLogs {}-{}: {} logs, {} token transfers, {} to watched addresses", chain_, s.from, s.end,
                    st->logs, st->token_transfers, st->matched);
        return LogsStep::done;
    }
    const Error& e = logs.error();
    if (e.code == Errc::range_too_large && s.end > s.from) {
        std::optional<std::uint64_t> suggested;
        if (e.suggested_to >= 0) suggested = static_cast<std::uint64_t>(e.suggested_to);
        const std::uint64_t new_end = *range_.refused(s.from, s.end, suggested);
        log_->info("{}: eth_getLogs {}-{} refused as too large ({}); range now {} blocks", chain_, s.from, s.end,
                   e.message, new_end - s.from + 1);
        s.end = new_end;
        s.blocks.resize(static_cast<std::size_t>(s.end - s.from + 1));
        s.refs.resize(s.blocks.size());
        return LogsStep::retry;
    }
    if (e.code == Errc::transport && s.end > s.from) {
        range_.shrink_to((s.end - s.from + 1) / 2);
        log_->info("{}: eth_getLogs {}-{} failed ({}); range now {} blocks", chain_, s.from, s.end, e.message,
                   range_.span());
    }
    s.error = with_context(e, "eth_getLogs " + std::to_string(s.from) + "-" + std::to_string(s.end));
    return LogsStep::fail;
}

void EvmAdapter::assemble(ScanState& s) {
    s.result.reserve(s.blocks.size());
    for (auto& b : s.blocks) {
        BlockTransfers bt;
        bt.block = std::move(b.ref);
        s.result.push_back(std::move(bt));
    }
    for (auto& m : s.matched)
        s.result[static_cast<std::size_t>(m.height - s.from)].transfers.push_back(std::move(m.transfer));
    for (std::size_t i = 0; i < s.blocks.size(); ++i) {
        for (auto& t : s.blocks[i].native) s.natives.emplace_back(i, &t);
        s.ignored_dust += s.blocks[i].ignored_dust;
    }
}

void EvmAdapter::truncate(ScanState& s, std::size_t keep) {
    s.blocks.resize(keep);
    s.refs.resize(keep);
    s.end = s.from + keep - 1;
    std::erase_if(s.matched, [&](const MatchedTransfer& m) { return m.height > s.end; });
}

void EvmAdapter::finish(ScanState& s) {
    sort_transfers(s.result);
    count_ignored(chain_, Ignored::zero_value, s.ignored_zero);
    count_ignored(chain_, Ignored::below_min_amount, s.ignored_dust);
    if (range_.succeeded()) log_->debug("{}: block range grows to {}", chain_, range_.span());
}

asio::awaitable<Result<ScanResult>> EvmAdapter::scan(std::uint64_t from, std::uint64_t to,
                                                      const WatchSet& watched) {
    ScanState s;
    if (to < from) co_return ScanResult{{}, from - 1};
    s.from = from;
    s.end = range_.end(from, to);

    // ERC20 Transfer logs of the configured tokens, asked for beside the blocks.
    const bool token_logs = !tokens_.empty() && watched.size() > 0;
    const std::uint64_t asked_to = s.end;
    Result<std::string> logs = std::string();
    Result<std::vector<DecodedBlock>> fetched = std::vector<DecodedBlock>();
    if (token_logs) {
        std::tie(fetched, logs) = co_await (fetch_blocks(s.from, s.end, watched) && fetch_logs(s.from, s.end, watched));
    } else {
        fetched = co_await fetch_blocks(s.from, s.end, watched);
    }
    if (!fetched) co_return fetched.error();
    s.blocks = std::move(*fetched);
    if (s.blocks.empty()) co_return ScanResult{{}, from - 1};
    s.end = s.from + s.blocks.size() - 1;
    for (const auto& b : s.blocks) s.refs.push_back(b.ref);

    if (token_logs) {
        // Fewer blocks than asked for (the node's tip moved back): the logs
        // are asked for again, for the blocks we have.
        if (s.end != asked_to) logs = co_await fetch_logs(s.from, s.end, watched);
        for (;;) {
            const LogsStep step = on_logs(logs, s, watched);
            if (step == LogsStep::done) break;
            if (step == LogsStep::fail) co_return std::move(s.error);
            logs = co_await fetch_logs(s.from, s.end, watched);
        }
        auto proven = co_await prove_logs(s, watched, suspects(s, watched));
        if (!proven) co_return proven.error();
        if (*proven < s.blocks.size()) {
            const std::uint64_t h = s.from + *proven;
            count_recheck(chain_, "unproven", 1);
            if (*proven == 0)
                co_return make_error(Errc::unavailable,
                                     "eth_getLogs: the answers for block " + std::to_string(h) + " (" +
                                         s.blocks[0].ref.hash +
                                         ") do not account for its logsBloom (log index lagging?); asked again later");
            log_->warn("{}: eth_getLogs answers for block {} do not account for its logsBloom (log index lagging?); "
                       "returning blocks {}-{} and asking again later",
                       chain_, h, s.from, h - 1);
            truncate(s, *proven);
        }
    }
    assemble(s);
    // Native transfers: keep only those whose tx succeeded.
    if (!s.natives.empty()) {
        auto kept = co_await settle_natives(s);
        if (!kept) co_return kept.error();
        if (*kept < s.result.size()) {
            s.result.resize(*kept);
            s.end = s.from + *kept - 1;
        }
    }
    finish(s);
    co_return ScanResult{std::move(s.result), s.end};
}

asio::awaitable<Status> EvmAdapter::verify() {
    // The chain id: the configured one, else the first endpoint's answer.
    std::uint64_t expected = 0;
    if (chain_id_) {
        expected = *chain_id_;
    } else {
        auto id = co_await rpc_->call(kChainId, no_params(), only_endpoint(0));
        const std::string who = "chain " + chain_ + ": eth_chainId of " + rpc_->endpoint_name(0);
        if (!id) co_return with_context(id.error(), who);
        auto n = parse_quantity_json(*id);
        if (!n) co_return with_context(n.error(), who);
        expected = *n;
    }
    rpc_->set_endpoint_check(chain_id_check(expected));
    auto checks = co_await rpc_->check_endpoints();
    std::size_t ok = 0;
    std::string wrong, unknown;
    for (std::size_t i = 0; i < checks.size(); ++i) {
        if (checks[i]) {
            ++ok;
        } else if (checks[i].error().code == Errc::invalid_input) {
            wrong += (wrong.empty() ? "" : "; ") + rpc_->endpoint_name(i) + " " + checks[i].error().message;
        } else {
            unknown += (unknown.empty() ? "" : "; ") + rpc_->endpoint_name(i) + ": " + checks[i].error().describe();
        }
    }
    if (ok == 0) {
        if (chain_id_ && !wrong.empty())
            co_return make_error(Errc::invalid_input, chain_id_source_ + ": chain " + chain_ + " has chain_id = " +
                                                          std::to_string(expected) + ", but no RPC endpoint serves it (" +
                                                          wrong + (unknown.empty() ? "" : "; " + unknown) + ")");
        co_return make_error(Errc::unavailable, "chain " + chain_ + ": no RPC endpoint confirmed chain id " +
                                                    std::to_string(expected) + " (" + wrong +
                                                    (wrong.empty() || unknown.empty() ? "" : "; ") + unknown + ")");
    }
    if (!wrong.empty())
        log_->error("{}: RPC endpoints on another chain, out of rotation: {}", chain_, wrong);
    log_->info("{}: chain id {} ({}) confirmed by {} of {} endpoints", chain_, expected,
               chain_id_ ? "configured" : "first endpoint's", ok, checks.size());
    for (const auto& t : tokens_) {
        json::object call;
        call["to"] = t.contract_lower;
        call["data"] = kDecimalsCall;
        auto r = co_await rpc_->call(kEthCall, eth_call_params(std::move(call)));
        const std::string who = "chain " + chain_ + " token " + t.symbol + " (" + t.contract_text + ")";
        if (!r && r.error().code == Errc::rpc_error && icontains(r.error().message, "revert"))
            co_return make_error(Errc::invalid_input, who + ": decimals() reverts (not a token contract?): " +
                                                          r.error().message);
        if (!r) co_return with_context(r.error(), who + ": decimals()");
        auto d = decode_decimals_result(*r);
        if (!d) co_return make_error(Errc::invalid_input, who + ": " + d.error().message);
        if (*d != t.decimals)
            co_return make_error(Errc::invalid_input, who + ": decimals() returns " + std::to_string(*d) +
                                                          ", the config says " + std::to_string(t.decimals));
        log_->info("{}: token {} {} decimals {} verified", chain_, t.symbol, t.contract_text, *d);
    }
    co_return Status{};
}

}  // namespace depositd::chain::evm
