#include "chain/solana/solana_adapter.hpp"

#include <algorithm>
#include <limits>

#include "chain/ignored.hpp"
#include "codec/base58.hpp"
#include "core/log.hpp"
#include "net/jsonrpc.hpp"

namespace depositd::chain::solana {

namespace asio = boost::asio;
using SlotFetch = SolanaAdapter::SlotFetch;

namespace {

// Parameters built outside the coroutines (GCC 12 and string literals or
// brace-init aggregates inside co_await full-expressions do not mix).
json::array commitment_params(const char* level) {
    json::object c;
    c["commitment"] = level;
    return json::array{std::move(c)};
}
json::array confirmed_params() { return commitment_params("confirmed"); }
json::array finalized_params() { return commitment_params("finalized"); }
json::array range_params(std::uint64_t start, std::uint64_t end) {
    json::object c;
    c["commitment"] = "confirmed";
    return json::array{start, end, std::move(c)};
}
json::array limit_params(std::uint64_t start, std::uint64_t limit) {
    json::object c;
    c["commitment"] = "confirmed";
    return json::array{start, limit, std::move(c)};
}
// full: the accounts list and balances of every transaction; else the header only.
json::array block_params(std::uint64_t slot, bool full, unsigned max_version) {
    json::object c;
    c["encoding"] = "json";
    c["transactionDetails"] = full ? "accounts" : "none";
    c["maxSupportedTransactionVersion"] = max_version;
    c["rewards"] = false;
    c["commitment"] = "confirmed";
    return json::array{slot, std::move(c)};
}
json::array mint_params(const TokenSpec& t) { return json::array{t.mint_text}; }
json::array no_params() { return json::array{}; }
const std::string kGetSlot = "getSlot";
const std::string kGetLatestBlockhash = "getLatestBlockhash";
const std::string kGetBlocks = "getBlocks";
const std::string kGetBlocksWithLimit = "getBlocksWithLimit";
const std::string kGetBlock = "getBlock";
const std::string kGetGenesisHash = "getGenesisHash";
const std::string kGetTokenSupply = "getTokenSupply";

std::string cluster_name(std::string_view genesis) {
    if (genesis == "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d") return "mainnet-beta";
    if (genesis == "EtWTRABZaYq6iMfeYKouRu166VL2xqa1wcaWoxPkrZBG") return "devnet";
    if (genesis == "4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY") return "testnet";
    return "unknown cluster";
}

// One answer -> what it says about its slot.
SlotFetch to_fetch(BlockAnswer&& a) {
    SlotFetch f;
    switch (a.kind) {
        case BlockAnswer::Kind::block:
            f.kind = SlotFetch::Kind::block;
            f.block = std::move(a.block);
            break;
        case BlockAnswer::Kind::null_result:
            f.kind = SlotFetch::Kind::unknown;
            f.error = make_error(Errc::unavailable, "getBlock returned null (not available at this commitment yet)");
            break;
        case BlockAnswer::Kind::error:
            if (is_skipped_code(a.rpc_code)) {
                f.kind = SlotFetch::Kind::skipped;
                f.error = net::classify_rpc_error(a.rpc_code, a.rpc_message);
            } else if (is_not_available_code(a.rpc_code)) {
                f.kind = SlotFetch::Kind::unknown;
                f.error = net::classify_rpc_error(a.rpc_code, a.rpc_message);
                f.error.code = Errc::unavailable;
            } else {
                f.kind = SlotFetch::Kind::error;
                f.error = net::classify_rpc_error(a.rpc_code, a.rpc_message);
                if (a.rpc_code == kUnsupportedTransactionVersion)
                    f.error.message += " (the block holds a transaction version this decoder does not support)";
            }
            break;
    }
    return f;
}

Error decode_failure(const Error& e, bool syntax) {
    Error out = e;
    if (syntax) out.code = Errc::transport;  // a truncated or garbage body: retried like a broken connection
    return out;
}

// A getBlock answer to one call. Errors of the node other than "skipped" /
// "not available" are returned as the call's error (rate limits are retried
// by net).
Status judge_single(std::string_view body, std::int64_t id, const DecodeContext& ctx, SlotFetch& out) {
    bool syntax = false;
    auto r = decode_block_response(body, ctx, &syntax);
    if (!r) return decode_failure(r.error(), syntax);
    if (r->size() != 1) return make_error(Errc::malformed, "getBlock: not one JSON-RPC response");
    BlockAnswer& a = (*r)[0];
    const bool id_ok = a.id == id || (a.kind == BlockAnswer::Kind::error && a.id == -1);
    if (!id_ok) return make_error(Errc::malformed, "getBlock: response id does not match the request");
    out = to_fetch(std::move(a));
    if (out.kind == SlotFetch::Kind::error) return out.error;
    return {};
}

// A batch answer: one SlotFetch per call. A response without a usable id
// that is an error refuses the whole batch (`refused`).
Status judge_batch(std::string_view body, std::int64_t first, std::size_t count, const DecodeContext& ctx,
                   std::vector<std::optional<SlotFetch>>& out, bool& refused) {
    out.assign(count, std::nullopt);
    refused = false;
    bool syntax = false;
    auto r = decode_block_response(body, ctx, &syntax);
    if (!r) return decode_failure(r.error(), syntax);
    for (auto& a : *r) {
        if (a.id >= first && a.id < first + static_cast<std::int64_t>(count)) {
            auto k = static_cast<std::size_t>(a.id - first);
            if (out[k]) return make_error(Errc::malformed, "getBlock batch answers id " + std::to_string(a.id) + " twice");
            out[k] = to_fetch(std::move(a));
        } else if (a.kind == BlockAnswer::Kind::error) {
            Error e = net::classify_rpc_error(a.rpc_code, a.rpc_message);
            if (e.code != Errc::rate_limited) refused = true;
            e.message = "batch refused: " + e.message;
            return e;
        } else {
            return make_error(Errc::malformed, "getBlock batch answer with an unknown id");
        }
    }
    for (std::size_t k = 0; k < count; ++k)
        if (!out[k]) return make_error(Errc::malformed, "getBlock batch answer lacks id " + std::to_string(first + static_cast<std::int64_t>(k)));
    return {};
}

// An endpoint that does not do JSON-RPC batches answers a batch with an
// error object that has no id, an HTTP 4xx or 413. Garbage, timeouts and
// rate limits are not refusals (they are retried as they are).
bool looks_like_batch_refusal(const Error& e, bool refused) {
    if (refused) return true;
    switch (e.code) {
        case Errc::range_too_large: return true;
        case Errc::http_status: return e.status >= 400 && e.status < 500 && e.status != 408 && e.status != 429;
        default: return false;
    }
}

// Slots already fetched -> blocks that provably continue each other.
// `complete` = every listed slot was taken; otherwise `why` says what
// stopped it and `error` is set when it was a failure (not a "not yet").
struct Linked {
    bool complete = false;
    std::string why;
    std::optional<Error> error;
};

Linked link_blocks(std::uint64_t from, const std::vector<std::uint64_t>& slots, std::vector<SlotFetch>& fetched,
                   std::vector<BlockTransfers>& out) {
    Linked l;
    for (std::size_t i = 0; i < slots.size(); ++i) {
        const std::uint64_t slot = slots[i];
        if (i >= fetched.size()) {
            l.why = "slot " + std::to_string(slot) + " not fetched";
            return l;
        }
        SlotFetch& f = fetched[i];
        if (f.kind != SlotFetch::Kind::block) {
            if (f.kind == SlotFetch::Kind::unknown) {
                l.why = "slot " + std::to_string(slot) + " is listed but not available yet (" + f.error.message + ")";
            } else if (f.kind == SlotFetch::Kind::skipped) {
                l.why = "slot " + std::to_string(slot) + " is listed by getBlocks but getBlock says: " + f.error.message;
                l.error = make_error(Errc::conflict, l.why);
            } else {
                l.why = "slot " + std::to_string(slot) + ": " + f.error.describe();
                l.error = with_context(f.error, "getBlock " + std::to_string(slot));
            }
            return l;
        }
        DecodedBlock& b = f.block;
        if (b.parent_slot >= slot) {
            l.why = "slot " + std::to_string(slot) + " has parentSlot " + std::to_string(b.parent_slot);
            l.error = make_error(Errc::malformed, "getBlock " + l.why);
            return l;
        }
        if (out.empty()) {
            if (b.parent_slot >= from) {
                // The parent lies inside the range but was not listed: the list is
                // incomplete (a backend that lost history or lags). Skipping would lose it.
                l.why = "block " + std::to_string(slot) + " has parent " + std::to_string(b.parent_slot) +
                        ", which getBlocks did not list";
                l.error = make_error(Errc::conflict, l.why);
                return l;
            }
        } else {
            const BlockRef& prev = out.back().block;
            if (b.parent_slot != prev.height || b.ref.parent != prev.hash) {
                l.why = "block " + std::to_string(slot) + " (parent " + std::to_string(b.parent_slot) + " " +
                        b.ref.parent + ") does not extend block " + std::to_string(prev.height) + " " + prev.hash;
                return l;
            }
        }
        b.ref.height = slot;
        BlockTransfers bt;
        bt.block = std::move(b.ref);
        bt.transfers = std::move(b.transfers);
        out.push_back(std::move(bt));
    }
    l.complete = true;
    return l;
}

// depositd_transfers_ignored_total for what the decoder left out (per fetch).
void count_ignored_transfers(const std::string& chain, const std::vector<SolanaAdapter::SlotFetch>& fetched) {
    std::size_t zero = 0, dust = 0;
    for (const auto& f : fetched) {
        if (f.kind != SolanaAdapter::SlotFetch::Kind::block) continue;
        zero += f.block.stats.ignored_zero;
        dust += f.block.stats.ignored_dust;
    }
    if (zero) count_ignored(chain, Ignored::zero_value, zero);
    if (dust) count_ignored(chain, Ignored::below_min_amount, dust);
}

}  // namespace

Result<std::unique_ptr<SolanaAdapter>> SolanaAdapter::create(const config::ChainConfig& cfg,
                                                             std::unique_ptr<net::JsonRpcClient> rpc) {
    auto tokens = make_token_specs(cfg.tokens);
    if (!tokens) return with_context(tokens.error(), "chain " + cfg.id);
    if (cfg.native.decimals != 9)
        return make_error(Errc::invalid_input, "chain " + cfg.id + ": SOL has 9 decimals (lamports), the config says " +
                                                   std::to_string(cfg.native.decimals));
    return std::unique_ptr<SolanaAdapter>(new SolanaAdapter(cfg, std::move(rpc), std::move(*tokens)));
}

SolanaAdapter::SolanaAdapter(const config::ChainConfig& cfg, std::unique_ptr<net::JsonRpcClient> rpc,
                             std::vector<TokenSpec> tokens)
    : RpcAdapterOf(cfg, std::move(rpc), "chain.solana"),
      tokens_(std::move(tokens)),
      native_{cfg.native.symbol.empty() ? std::string("SOL") : cfg.native.symbol, 9, cfg.native.min_amount},
      range_(std::clamp<std::uint64_t>(cfg.max_block_range, 1, kMaxSlotRange)) {}

asio::awaitable<Result<Head>> SolanaAdapter::head() {
    auto c = co_await rpc_->call(kGetSlot, confirmed_params());
    if (!c) co_return with_context(c.error(), "getSlot(confirmed)");
    auto h = decode_slot(*c);
    if (!h) co_return with_context(h.error(), "getSlot(confirmed)");
    Head head;
    head.height = *h;
    if (use_finalized_) {
        // The rooted slot and its blockhash from one bank, in one answer: the
        // scanner proves that hash on its own chain.
        auto f = co_await rpc_->call(kGetLatestBlockhash, finalized_params());
        if (!f) co_return with_context(f.error(), "getLatestBlockhash(finalized)");
        auto fs = decode_latest_blockhash(*f);
        if (!fs) co_return with_context(fs.error(), "getLatestBlockhash(finalized)");
        head.finalized = fs->slot;
        head.finalized_hash = fs->blockhash;
        head.height = std::max(head.height, fs->slot);  // a backend ahead of the one that answered getSlot
    }
    co_return head;
}

asio::awaitable<Result<std::vector<std::uint64_t>>> SolanaAdapter::blocks_in(std::uint64_t start, std::uint64_t end) {
    auto r = co_await rpc_->call(kGetBlocks, range_params(start, end));
    const std::string what = "getBlocks " + std::to_string(start) + ".." + std::to_string(end);
    if (!r) co_return with_context(r.error(), what);
    auto slots = decode_slot_list(*r, start, end);
    if (!slots) co_return with_context(slots.error(), what);
    co_return std::move(*slots);
}

asio::awaitable<Result<SlotFetch>> SolanaAdapter::fetch_one(std::uint64_t slot, const DecodeContext& ctx, bool full) {
    SlotFetch out;
    net::JsonRpcClient::RawDecoder decode = [&ctx, &out](std::string_view body, std::int64_t id) {
        return judge_single(body, id, ctx, out);
    };
    auto st = co_await rpc_->call_raw(kGetBlock, block_params(slot, full, max_version_), decode);
    if (!st && raise_version(st.error())) st = co_await rpc_->call_raw(kGetBlock, block_params(slot, full, max_version_), decode);
    if (!st) co_return with_context(st.error(), "getBlock " + std::to_string(slot));
    if (out.kind == SlotFetch::Kind::block) out.block.ref.height = slot;
    co_return out;
}

asio::awaitable<Result<std::vector<SlotFetch>>> SolanaAdapter::fetch_blocks(std::vector<std::uint64_t> slots,
                                                                           const DecodeContext& ctx, bool full) {
    std::vector<SlotFetch> out;
    out.reserve(slots.size());
    auto stop_after = [&out] { return !out.empty() && out.back().kind != SlotFetch::Kind::block; };
    for (std::size_t i = 0; i < slots.size() && !stop_after();) {
        const std::size_t n = std::min(batch_ok_ ? kBlockBatch : std::size_t{1}, slots.size() - i);
        if (n > 1) {
            std::vector<net::RpcCall> calls;
            for (std::size_t k = 0; k < n; ++k) calls.push_back(net::RpcCall{kGetBlock, block_params(slots[i + k], full, max_version_)});
            std::vector<std::optional<SlotFetch>> got;
            bool refused = false;
            net::JsonRpcClient::RawDecoder decode = [&ctx, &got, &refused, n](std::string_view body, std::int64_t first) {
                return judge_batch(body, first, n, ctx, got, refused);
            };
            auto st = co_await rpc_->batch_raw(std::move(calls), std::move(decode));
            if (st) {
                std::size_t k = 0;
                for (; k < n && !stop_after(); ++k) {
                    if (got[k]->kind == SlotFetch::Kind::error && raise_version(got[k]->error)) break;  // asked again
                    out.push_back(std::move(*got[k]));
                }
                i += k;
                continue;
            }
            if (st.error().code == Errc::rate_limited) {  // asked to pause: the caller waits
                if (out.empty()) co_return with_context(st.error(), "getBlock batch");
                SlotFetch f;
                f.kind = SlotFetch::Kind::error;
                f.error = st.error();
                out.push_back(std::move(f));
                break;
            }
            // The batch failed (refused, garbage, a timeout on a big answer):
            // the first slot alone. If that works and the endpoint refused
            // the batch, it does not do batches; otherwise batches go on.
            auto one = co_await fetch_one(slots[i], ctx, full);
            if (!one) {
                if (out.empty()) co_return one.error();
                SlotFetch f;
                f.kind = SlotFetch::Kind::error;
                f.error = one.error();
                out.push_back(std::move(f));
                break;
            }
            if (looks_like_batch_refusal(st.error(), refused)) {
                log_->info("{}: the endpoint refuses JSON-RPC batches ({}); fetching blocks one by one", chain_,
                           st.error().describe());
                batch_ok_ = false;
            } else {
                log_->debug("{}: getBlock batch failed ({}); slot {} fetched alone", chain_, st.error().describe(),
                            slots[i]);
            }
            out.push_back(std::move(*one));
            ++i;
            continue;
        }
        auto one = co_await fetch_one(slots[i], ctx, full);
        if (!one) {
            if (out.empty()) co_return one.error();
            SlotFetch f;
            f.kind = SlotFetch::Kind::error;
            f.error = one.error();
            out.push_back(std::move(f));
            break;
        }
        out.push_back(std::move(*one));
        ++i;
    }
    for (std::size_t k = 0; k < out.size(); ++k)
        if (out[k].kind == SlotFetch::Kind::block) out[k].block.ref.height = slots[k];
    co_return out;
}

bool SolanaAdapter::raise_version(const Error& e) {
    if (e.status != kUnsupportedTransactionVersion || max_version_ >= kMaxTransactionVersion) return false;
    ++max_version_;
    log_->warn("{}: the node holds transactions newer than maxSupportedTransactionVersion {} ({}); asking with {}",
               chain_, max_version_ - 1, e.message, max_version_);
    return true;
}

asio::awaitable<std::uint64_t> SolanaAdapter::proven_end(std::uint64_t from, std::uint64_t end,
                                                         const std::vector<BlockTransfers>& blocks) {
    const std::uint64_t last = blocks.empty() ? from - 1 : blocks.back().block.height;
    const std::uint64_t next_start = blocks.empty() ? from : last + 1;
    auto r = co_await rpc_->call(kGetBlocksWithLimit, limit_params(next_start, 1));
    if (!r) {
        log_->debug("{}: getBlocksWithLimit({}, 1) failed: {}", chain_, next_start, r.error().describe());
        co_return last;
    }
    auto next = decode_slot_list(*r, next_start, std::numeric_limits<std::uint64_t>::max());
    if (!next || next->empty()) co_return last;  // nothing after `last` yet: the tail is not proven
    const std::uint64_t n = next->front();
    if (n <= end) {
        log_->debug("{}: slot {} exists but getBlocks {}..{} did not list it", chain_, n, from, end);
        co_return last;
    }
    DecodeContext header{tokens_, nullptr, native_, false};
    auto hdr = co_await fetch_one(n, header, false);
    if (!hdr || hdr->kind != SlotFetch::Kind::block) co_return last;
    const DecodedBlock& b = hdr->block;
    const bool proven = blocks.empty() ? b.parent_slot < from
                                       : b.parent_slot == last && b.ref.parent == blocks.back().block.hash;
    if (!proven) {
        log_->debug("{}: block {} (parent {}) does not prove slots {}..{} skipped", chain_, n, b.parent_slot,
                    next_start, end);
        co_return last;
    }
    co_return end;
}

asio::awaitable<Result<ScanResult>> SolanaAdapter::scan(std::uint64_t from, std::uint64_t to, const WatchSet& watched) {
    if (to < from) co_return ScanResult{{}, from - 1};
    const std::uint64_t end = from + std::min<std::uint64_t>(to - from, range_ - 1);
    auto slots = co_await blocks_in(from, end);
    if (!slots) co_return slots.error();

    ScanResult out;
    out.scanned_to = from - 1;
    if (!slots->empty()) {
        DecodeContext ctx{tokens_, &watched, native_, true};
        auto fetched = co_await fetch_blocks(*slots, ctx, true);
        if (!fetched) co_return fetched.error();
        count_ignored_transfers(chain_, *fetched);
        Linked l = link_blocks(from, *slots, *fetched, out.blocks);
        if (!l.complete) {
            if (out.blocks.empty() && l.error) co_return *l.error;
            log_->debug("{}: scan {}..{} stops: {}", chain_, from, end, l.why);
            if (!out.blocks.empty()) out.scanned_to = out.blocks.back().block.height;
            co_return out;
        }
    }
    const std::uint64_t last = out.blocks.empty() ? from - 1 : out.blocks.back().block.height;
    if (last == end) {
        out.scanned_to = end;
    } else {
        out.scanned_to = co_await proven_end(from, end, out.blocks);
    }
    co_return out;
}

asio::awaitable<bool> SolanaAdapter::passed_over(std::uint64_t slot) {
    auto r = co_await rpc_->call(kGetBlocksWithLimit, limit_params(slot, 1));
    if (!r) co_return false;
    auto next = decode_slot_list(*r, slot, std::numeric_limits<std::uint64_t>::max());
    if (!next || next->empty() || next->front() == slot) co_return false;
    DecodeContext header{tokens_, nullptr, native_, false};
    auto hdr = co_await fetch_one(next->front(), header, false);
    if (!hdr || hdr->kind != SlotFetch::Kind::block) co_return false;
    co_return hdr->block.parent_slot < slot;
}

asio::awaitable<Result<BlockAt>> SolanaAdapter::block_at(std::uint64_t height) {
    DecodeContext header{tokens_, nullptr, native_, false};
    auto r = co_await fetch_one(height, header, false);
    if (!r) co_return r.error();
    switch (r->kind) {
        case SlotFetch::Kind::block: co_return BlockAt{Presence::block, std::move(r->block.ref)};
        case SlotFetch::Kind::skipped:
        case SlotFetch::Kind::unknown:
            // -32007/-32009 are no proof either: Agave also answers them for
            // a ledger gap after a snapshot boot and for slots missing from
            // long-term storage. Only the chain itself proves a skip.
            if (co_await passed_over(height)) {
                log_->debug("{}: slot {} is not on the confirmed chain (a later confirmed block's parent is below it)",
                            chain_, height);
                co_return BlockAt{Presence::skipped, BlockRef{}};
            }
            if (r->kind == SlotFetch::Kind::skipped)
                log_->debug("{}: getBlock {}: {}; no later block proves the skip: unknown", chain_, height,
                            r->error.message);
            co_return BlockAt{};
        case SlotFetch::Kind::error: break;
    }
    co_return with_context(r->error, "getBlock " + std::to_string(height));
}

asio::awaitable<Status> SolanaAdapter::verify() {
    const std::string who = "chain " + chain_;
    auto g = co_await rpc_->call(kGetGenesisHash, no_params());
    if (!g) co_return with_context(g.error(), who + ": getGenesisHash");
    if (!g->is_string()) co_return make_error(Errc::malformed, who + ": getGenesisHash did not return a string");
    const std::string genesis(g->get_string());
    log_->info("{}: genesis hash {} ({})", chain_, genesis, cluster_name(genesis));
    for (const auto& t : tokens_) {
        const std::string tw = who + " token " + t.symbol + " (" + t.mint_text + ")";
        auto r = co_await rpc_->call(kGetTokenSupply, mint_params(t));
        if (!r) {
            Error e = with_context(r.error(), tw + ": getTokenSupply");
            // -32602 "Invalid param: not a Token mint" / "could not find mint": the config is wrong.
            if (r.error().code == Errc::rpc_error && r.error().status == -32602) e.code = Errc::invalid_input;
            co_return e;
        }
        auto d = decode_token_supply_decimals(*r);
        if (!d) co_return make_error(Errc::invalid_input, tw + ": " + d.error().message);
        if (*d != t.decimals)
            co_return make_error(Errc::invalid_input, tw + ": the mint has " + std::to_string(*d) +
                                                          " decimals, the config says " + std::to_string(t.decimals));
        log_->info("{}: token {} mint {} decimals {} verified", chain_, t.symbol, t.mint_text, *d);
    }
    co_return Status{};
}

namespace {
const std::string kGetTransaction = "getTransaction";
const std::string kGetSignatureStatuses = "getSignatureStatuses";
json::array tx_params(const std::string& sig, unsigned max_version) {
    json::object c;
    c["encoding"] = "json";
    c["maxSupportedTransactionVersion"] = max_version;
    c["commitment"] = "confirmed";
    return json::array{sig, std::move(c)};
}
json::array status_params(const std::string& sig) {
    json::object c;
    c["searchTransactionHistory"] = true;
    return json::array{json::array{sig}, std::move(c)};
}
bool is_signature(const std::string& text) {
    if (text.size() < 64 || text.size() > 90) return false;
    auto bytes = codec::base58_decode(text);
    return bytes && bytes->size() == 64;
}
Error malformed_signature(const std::string& text) {
    return make_error(Errc::invalid_input, "txHash must be a Solana transaction signature (base58, 64 bytes), not \"" +
                                               text.substr(0, 100) + "\"");
}
// getTransaction result -> its slot, and the entry as text for decode_transaction.
struct TxEntry {
    std::uint64_t slot = 0;
    std::string text;
};
Result<TxEntry> tx_entry(const json::value& result) {
    if (!result.is_object()) return make_error(Errc::malformed, "getTransaction: result is not an object");
    const auto* slot = result.get_object().if_contains("slot");
    if (slot == nullptr) return make_error(Errc::malformed, "getTransaction: no slot");
    auto s = decode_slot(*slot);
    if (!s) return s.error();
    return TxEntry{*s, json::serialize(result)};
}
// getSignatureStatuses: the node has seen the signature (value[0] not null).
bool signature_seen(const json::value& result) {
    if (!result.is_object()) return false;
    const auto* v = result.get_object().if_contains("value");
    return v != nullptr && v->is_array() && !v->get_array().empty() && !v->get_array()[0].is_null();
}
}  // namespace

// getTransaction {confirmed} (null: getSignatureStatuses tells pending from
// unknown), decoded by decode_transaction (the scan's decoder), then
// getBlock(slot, transactionDetails none) for the block it is in.
asio::awaitable<Result<TxTransfers>> SolanaAdapter::transaction(std::string tx_hash, std::optional<std::string>,
                                                                const WatchSet& watched) {
    if (!is_signature(tx_hash)) co_return malformed_signature(tx_hash);
    auto r = co_await rpc_->call(kGetTransaction, tx_params(tx_hash, max_version_));
    if (!r && raise_version(r.error())) r = co_await rpc_->call(kGetTransaction, tx_params(tx_hash, max_version_));
    if (!r) co_return with_context(r.error(), "getTransaction");
    TxTransfers out;
    if (r->is_null()) {
        auto st = co_await rpc_->call(kGetSignatureStatuses, status_params(tx_hash));
        if (!st) co_return with_context(st.error(), "getSignatureStatuses");
        out.state = signature_seen(*st) ? TxState::pending : TxState::unknown;
        co_return out;
    }
    auto entry = tx_entry(*r);
    if (!entry) co_return with_context(entry.error(), "getTransaction " + tx_hash);
    DecodeContext ctx{tokens_, &watched, native_, true};
    std::vector<Transfer> transfers;
    if (auto s = decode_transaction(entry->text, ctx, transfers); !s) co_return with_context(s.error(), "getTransaction " + tx_hash);
    DecodeContext header{tokens_, nullptr, native_, false};
    auto b = co_await fetch_one(entry->slot, header, false);
    if (!b) co_return b.error();
    if (b->kind != SlotFetch::Kind::block)
        co_return make_error(Errc::unavailable, "getBlock " + std::to_string(entry->slot) + ": " + b->error.message);
    out.state = TxState::mined;
    out.block = std::move(b->block.ref);
    for (auto& t : transfers)
        if (t.tx == tx_hash) out.transfers.push_back(std::move(t));
    co_return out;
}


}  // namespace depositd::chain::solana
