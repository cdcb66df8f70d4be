#include "chain/evm/evm_adapter.hpp"

#include <algorithm>

#include "codec/hex.hpp"
#include "core/log.hpp"
#include "net/jsonrpc.hpp"

namespace depositd::chain::evm {

namespace asio = boost::asio;

namespace {

bool icontains(std::string_view hay, std::string_view needle) {
    auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
    });
    return it != hay.end();
}

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

Error with_context(Error e, const std::string& context) {
    e.message = context + ": " + e.message;
    return e;
}

// Call builders outside the coroutines: GCC rejects string literals inside a
// co_await full-expression ("array used as initializer").
json::array no_params() { return json::array{}; }
json::array finalized_params() { return json::array{"finalized", false}; }
json::array block_params(std::uint64_t h, bool full) { return json::array{quantity(h), full}; }
json::array eth_call_params(json::object call) { return json::array{std::move(call), "latest"}; }
net::RpcCall block_call(std::uint64_t h) { return net::RpcCall{"eth_getBlockByNumber", block_params(h, true)}; }
net::RpcCall receipt_call(const std::string& tx) { return net::RpcCall{"eth_getTransactionReceipt", json::array{tx}}; }
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
json::array token_addresses(const std::vector<TokenSpec>& tokens) {
    json::array a;
    for (const auto& t : tokens) a.emplace_back(t.contract_lower);
    return a;
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

Result<std::unique_ptr<EvmAdapter>> EvmAdapter::create(const config::ChainConfig& cfg, net::HttpClient& http) {
    net::JsonRpcOptions o;
    o.endpoints = cfg.rpc;
    for (const auto& [k, v] : cfg.headers) o.headers.emplace_back(k, v);
    o.timeout = cfg.request_timeout;
    o.max_rps = cfg.max_rps;
    o.name = cfg.id;
    if (o.endpoints.empty()) return make_error(Errc::invalid_input, "chain " + cfg.id + ": no rpc endpoint");
    return create(cfg, std::make_unique<net::JsonRpcClient>(http, std::move(o)));
}

Result<std::unique_ptr<EvmAdapter>> EvmAdapter::create(const config::ChainConfig& cfg,
                                                       std::unique_ptr<net::JsonRpcClient> rpc) {
    auto tokens = make_token_specs(cfg.tokens);
    if (!tokens) return with_context(tokens.error(), "chain " + cfg.id);
    return std::unique_ptr<EvmAdapter>(new EvmAdapter(cfg, std::move(rpc), std::move(*tokens)));
}

EvmAdapter::EvmAdapter(const config::ChainConfig& cfg, std::unique_ptr<net::JsonRpcClient> rpc,
                       std::vector<TokenSpec> tokens)
    : chain_(cfg.id),
      use_finalized_(cfg.finalized),
      rpc_(std::move(rpc)),
      tokens_(std::move(tokens)),
      native_{cfg.native.symbol, cfg.native.decimals},
      max_range_(std::max<std::uint64_t>(1, cfg.max_block_range)),
      range_(max_range_),
      log_(log::get("chain.evm")) {}

EvmAdapter::~EvmAdapter() = default;

void EvmAdapter::shrink_to(std::uint64_t span) {
    range_ = std::max<std::uint64_t>(1, std::min(range_, span));
    calm_ = 0;
}

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
            if (*ref) head.finalized = std::min((*ref)->height, head.height);
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

asio::awaitable<Result<std::vector<DecodedBlock>>> EvmAdapter::fetch_blocks(std::uint64_t from, std::uint64_t to,
                                                                            const WatchSet& watched) {
    std::vector<DecodedBlock> blocks;
    blocks.reserve(static_cast<std::size_t>(to - from + 1));
    for (std::uint64_t start = from; start <= to;) {
        const std::uint64_t end = std::min<std::uint64_t>(to, start + kBlockBatch - 1);
        std::vector<net::RpcCall> calls;
        for (std::uint64_t h = start; h <= end; ++h)
            calls.push_back(block_call(h));
        auto r = co_await rpc_->batch(std::move(calls), kBlockBatch);
        if (!r) {
            if (r.error().code == Errc::range_too_large) shrink_to((to - from + 1) / 2);
            co_return with_context(r.error(), "eth_getBlockByNumber batch");
        }
        if (r->size() != end - start + 1)
            co_return make_error(Errc::malformed, "eth_getBlockByNumber batch: wrong number of results");
        for (std::uint64_t h = start; h <= end; ++h) {
            auto b = decode_block((*r)[static_cast<std::size_t>(h - start)], watched, native_);
            if (!b) co_return with_context(b.error(), "eth_getBlockByNumber " + std::to_string(h));
            if (!*b) co_return blocks;  // beyond the tip (or a reorg shortened the chain): prefix
            if ((*b)->ref.height != h)
                co_return make_error(Errc::malformed, "eth_getBlockByNumber " + std::to_string(h) +
                                                          " returned block " + std::to_string((*b)->ref.height));
            if (!blocks.empty() && (*b)->ref.parent != blocks.back().ref.hash)
                co_return make_error(Errc::conflict, "reorg during fetch: block " + std::to_string(h) +
                                                         " parent " + (*b)->ref.parent + " != " + blocks.back().ref.hash);
            blocks.push_back(std::move(**b));
        }
        start = end + 1;
    }
    co_return blocks;
}

// Non-coroutine halves of scan() (GCC's coroutine lowering is fragile with
// string literals and aggregates in coroutine bodies; keep those out here).
EvmAdapter::LogsStep EvmAdapter::on_logs(Result<json::value>& logs, ScanState& s, const WatchSet& watched) {
    if (logs) {
        LogMatchContext ctx{tokens_, &watched, s.refs};
        auto st = decode_logs(*logs, ctx, s.matched);
        if (!st) {
            s.error = with_context(st.error(), "eth_getLogs " + std::to_string(s.from) + "-" + std::to_string(s.end));
            return LogsStep::fail;
        }
        log_->debug("{}: eth_getLogs {}-{}: {} logs, {} token transfers, {} to watched addresses", chain_, s.from, s.end,
                    st->logs, st->token_transfers, st->matched);
        return LogsStep::done;
    }
    const Error& e = logs.error();
    if (e.code == Errc::range_too_large && s.end > s.from) {
        std::uint64_t new_end = s.from + (s.end - s.from) / 2;
        if (e.suggested_to >= 0 && static_cast<std::uint64_t>(e.suggested_to) >= s.from &&
            static_cast<std::uint64_t>(e.suggested_to) < s.end)
            new_end = static_cast<std::uint64_t>(e.suggested_to);
        log_->info("{}: eth_getLogs {}-{} refused as too large ({}); range now {} blocks", chain_, s.from, s.end,
                   e.message, new_end - s.from + 1);
        shrink_to(new_end - s.from + 1);
        s.end = new_end;
        s.blocks.resize(static_cast<std::size_t>(s.end - s.from + 1));
        s.refs.resize(s.blocks.size());
        return LogsStep::retry;
    }
    if (e.code == Errc::transport && s.end > s.from) {
        shrink_to((s.end - s.from + 1) / 2);
        log_->info("{}: eth_getLogs {}-{} failed ({}); range now {} blocks", chain_, s.from, s.end, e.message, range_);
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
    for (std::size_t i = 0; i < s.blocks.size(); ++i)
        for (auto& t : s.blocks[i].native) s.natives.emplace_back(i, &t);
}

std::vector<net::RpcCall> EvmAdapter::receipt_calls(const ScanState& s, std::size_t start, std::size_t stop) {
    std::vector<net::RpcCall> calls;
    for (std::size_t k = start; k < stop; ++k) calls.push_back(receipt_call(s.natives[k].second->tx));
    return calls;
}

Status EvmAdapter::on_receipts(Result<std::vector<json::value>>& r, ScanState& s, std::size_t start, std::size_t stop) {
    if (!r) return with_context(r.error(), "eth_getTransactionReceipt batch");
    if (r->size() != stop - start)
        return make_error(Errc::malformed, "eth_getTransactionReceipt batch: wrong number of results");
    for (std::size_t k = start; k < stop; ++k) {
        const std::size_t bi = s.natives[k].first;
        Transfer* t = s.natives[k].second;
        auto ok = decode_receipt_success((*r)[k - start], s.result[bi].block.hash);
        if (!ok) {
            // A receipt that vanished or moved means the block changed under us.
            Error e = ok.error();
            if (e.code == Errc::not_found) e.code = Errc::conflict;
            return with_context(e, "receipt of " + t->tx);
        }
        if (*ok)
            s.result[bi].transfers.push_back(std::move(*t));
        else
            log_->debug("{}: tx {} to a watched address failed (status 0x0); not a deposit", chain_, t->tx);
    }
    return {};
}

void EvmAdapter::finish(ScanState& s) {
    sort_transfers(s.result);
    if (++calm_ >= kGrowAfter && range_ < max_range_) {
        range_ = std::min(max_range_, range_ * 2);
        calm_ = 0;
        log_->debug("{}: block range grows to {}", chain_, range_);
    }
}

asio::awaitable<Result<ScanResult>> EvmAdapter::scan(std::uint64_t from, std::uint64_t to,
                                                      const WatchSet& watched) {
    ScanState s;
    if (to < from) co_return ScanResult{{}, from - 1};
    s.from = from;
    s.end = from + std::min<std::uint64_t>(to - from, range_ - 1);

    auto fetched = co_await fetch_blocks(s.from, s.end, watched);
    if (!fetched) co_return fetched.error();
    s.blocks = std::move(*fetched);
    if (s.blocks.empty()) co_return ScanResult{{}, from - 1};
    s.end = s.from + s.blocks.size() - 1;
    for (const auto& b : s.blocks) s.refs.push_back(b.ref);

    // ERC20 Transfer logs of the configured tokens.
    if (!tokens_.empty() && watched.size() > 0) {
        const json::array addresses = token_addresses(tokens_);
        const json::array topics = transfer_topics(watched, kTopicFilterMax);
        for (;;) {
            auto logs = co_await rpc_->call(kGetLogs, logs_params(s.from, s.end, addresses, topics));
            const LogsStep step = on_logs(logs, s, watched);
            if (step == LogsStep::done) break;
            if (step == LogsStep::fail) co_return std::move(s.error);
        }
    }
    assemble(s);
    // Native transfers: keep only those whose tx succeeded.
    for (std::size_t start = 0; start < s.natives.size(); start += kReceiptBatch) {
        const std::size_t stop = std::min(s.natives.size(), start + kReceiptBatch);
        auto r = co_await rpc_->batch(receipt_calls(s, start, stop), kReceiptBatch);
        auto st = on_receipts(r, s, start, stop);
        if (!st) co_return st.error();
    }
    finish(s);
    co_return ScanResult{std::move(s.result), s.end};
}

asio::awaitable<Status> EvmAdapter::verify() {
    auto id = co_await rpc_->call(kChainId, no_params());
    if (!id) co_return with_context(id.error(), "chain " + chain_ + ": eth_chainId");
    auto n = parse_quantity_json(*id);
    if (!n) co_return with_context(n.error(), "chain " + chain_ + ": eth_chainId");
    log_->info("{}: eth_chainId {}", chain_, *n);
    for (const auto& t : tokens_) {
        json::object call;
        call["to"] = t.contract_lower;
        call["data"] = kDecimalsCall;
        auto r = co_await rpc_->call(kEthCall, eth_call_params(std::move(call)));
        const std::string who = "chain " + chain_ + " token " + t.symbol + " (" + t.contract_text + ")";
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
