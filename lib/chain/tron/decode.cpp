#include "chain/tron/decode.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>

#include "codec/abi.hpp"
#include "codec/address.hpp"
#include "codec/hex.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "net/http_client.hpp"

namespace depositd::chain::tron {

namespace {

inline std::string_view sv(const json::string& s) { return {s.data(), s.size()}; }

inline std::string_view key_view(const Address20& a) { return {reinterpret_cast<const char*>(a.data()), a.size()}; }

bool is_hex(std::string_view s) noexcept {
    for (char c : s)
        if (codec::hex_digit(c) < 0) return false;
    return true;
}

bool is_hash64(std::string_view s) noexcept { return s.size() == 64 && is_hex(s); }

std::string lower(std::string_view s) {
    std::string r(s);
    for (auto& c : r)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return r;
}

bool icontains(std::string_view hay, std::string_view needle) {
    auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
    });
    return it != hay.end();
}

bool is_rate_limit_text(std::string_view m) {
    return icontains(m, "frequency limit") || icontains(m, "suspended for") || icontains(m, "rate limit") ||
           icontains(m, "too many requests") || icontains(m, "lack of computing resources") ||
           icontains(m, "exceeds the limit") || icontains(m, "request limit");
}

// A non-negative JSON integer (int64 >= 0 or uint64). Missing -> `dflt`
// (protobuf JSON omits zero values). Doubles (huge or fractional numbers),
// strings, negatives -> error.
Result<std::uint64_t> uint_field(const json::object& o, std::string_view key, const std::string& what,
                                 std::optional<std::uint64_t> dflt) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) {
        if (dflt) return *dflt;
        return make_error(Errc::malformed, what + ": '" + std::string(key) + "' is missing");
    }
    if (v->is_uint64()) return v->get_uint64();
    if (v->is_int64()) {
        if (v->get_int64() < 0) return make_error(Errc::malformed, what + ": '" + std::string(key) + "' is negative");
        return static_cast<std::uint64_t>(v->get_int64());
    }
    if (v->is_double())
        return make_error(Errc::malformed, what + ": '" + std::string(key) + "' is not an integer (or out of range)");
    return make_error(Errc::malformed, what + ": '" + std::string(key) + "' is not a number");
}

Result<std::string_view> str_field(const json::object& o, std::string_view key, const std::string& what) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) return make_error(Errc::malformed, what + ": '" + std::string(key) + "' is missing");
    if (!v->is_string()) return make_error(Errc::malformed, what + ": '" + std::string(key) + "' is not a string");
    return sv(v->get_string());
}

const json::object* obj_field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

// Hex digits -> value (at most 16 digits).
std::uint64_t hex_u64(std::string_view s) noexcept {
    std::uint64_t v = 0;
    for (char c : s) v = (v << 4) | static_cast<std::uint64_t>(codec::hex_digit(c));
    return v;
}

// Classified on the node's own words; carried (and logged) only escaped.
Error node_error(std::string message) {
    if (is_rate_limit_text(message)) {
        Error e = make_error(Errc::rate_limited, "node: " + quote_untrusted(message));
        e.retry_after_ms = retry_after_from_text(message);
        return e;
    }
    return make_error(Errc::rpc_error, "node: " + quote_untrusted(message));
}

std::string message_of(const json::value& v) {
    if (v.is_string()) return std::string(sv(v.get_string()));
    return json::serialize(v);
}

}  // namespace

// ---------------------------------------------------------------------------

bool parse_address(std::string_view text, Address20& out) noexcept {
    if (text.size() == 42 && text[0] == '4' && text[1] == '1')
        return codec::from_hex_exact(text.substr(2), out);
    if (text.size() == 40) return codec::from_hex_exact(text, out);
    try {
        auto b = codec::tron_address_bytes(text);
        if (!b || b->size() != 20) return false;
        std::copy(b->begin(), b->end(), out.begin());
        return true;
    } catch (...) {
        return false;
    }
}

Result<std::vector<TokenSpec>> make_token_specs(const std::vector<config::TokenConfig>& tokens) {
    std::vector<TokenSpec> specs;
    for (const auto& t : tokens) {
        auto parsed = codec::parse_address(Protocol::tron, t.contract);
        if (!parsed)
            return make_error(Errc::invalid_input, "token " + t.symbol + ": contract " + t.contract + ": " +
                                                       parsed.error().message);
        if (parsed->watch_key.size() != 20)
            return make_error(Errc::invalid_input, "token " + t.symbol + ": contract is not a 20-byte address");
        TokenSpec s;
        std::copy(parsed->watch_key.begin(), parsed->watch_key.end(), s.contract.begin());
        s.contract_text = parsed->canonical;
        s.symbol = t.symbol;
        s.decimals = t.decimals;
        s.min_amount = t.min_amount;
        for (const auto& other : specs)
            if (other.contract == s.contract)
                return make_error(Errc::invalid_input, "tokens " + other.symbol + " and " + t.symbol +
                                                           " have the same contract " + s.contract_text);
        specs.push_back(std::move(s));
    }
    return specs;
}

long long retry_after_from_text(std::string_view text) {
    static constexpr std::string_view kSuspended = "suspended for";
    auto it = std::search(text.begin(), text.end(), kSuspended.begin(), kSuspended.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == b;
    });
    if (it == text.end()) return -1;
    std::size_t i = static_cast<std::size_t>(it - text.begin()) + kSuspended.size();
    while (i < text.size() && text[i] == ' ') ++i;
    long long n = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 9) {
        n = n * 10 + (text[i] - '0');
        ++i;
        ++digits;
    }
    if (digits == 0) return -1;
    while (i < text.size() && text[i] == ' ') ++i;
    std::string_view unit = text.substr(i);
    const long long ms = unit.starts_with("ms") ? n : unit.starts_with("min") ? n * 60'000 : n * 1000;  // "30s": seconds
    return std::min(ms, net::kMaxNodeRetryAfterMs);
}

Status check_node_error(const json::value& v) {
    if (!v.is_object()) return {};
    const auto& o = v.get_object();
    if (const auto* e = o.if_contains("Error")) return node_error(message_of(*e));
    if (const auto* s = o.if_contains("success"); s && s->is_bool() && !s->get_bool()) {
        std::string m = "request failed";
        if (const auto* e = o.if_contains("error")) m = message_of(*e);
        Error err = node_error(std::move(m));
        if (const auto* sc = o.if_contains("statusCode"); sc && sc->is_int64()) {
            const auto code = sc->get_int64();
            err.status = static_cast<int>(std::clamp<std::int64_t>(code, 0, 999));
            if (code == 403 || code == 429 || code == 503) {
                err.code = Errc::rate_limited;
                if (err.retry_after_ms < 0) err.retry_after_ms = retry_after_from_text(err.message);
            }
        }
        return err;
    }
    return {};
}

Error classify_transport_error(Error e) {
    const bool limit_status =
        e.code == Errc::http_status && (e.status == 403 || e.status == 429 || e.status == 503);
    if (limit_status || e.code == Errc::rate_limited || (e.code == Errc::http_status && is_rate_limit_text(e.message))) {
        e.code = Errc::rate_limited;
        if (e.retry_after_ms < 0) e.retry_after_ms = retry_after_from_text(e.message);
    }
    return e;
}

// ---------------------------------------------------------------------------
// Blocks

Result<std::optional<BlockRef>> decode_block_ref(const json::value& v) {
    if (auto s = check_node_error(v); !s) return s.error();
    if (!v.is_object()) return make_error(Errc::malformed, "block is not an object");
    const auto& o = v.get_object();
    if (o.empty()) return std::optional<BlockRef>{};  // {}: no such block
    auto id = str_field(o, "blockID", "block");
    if (!id) return id.error();
    if (!is_hash64(*id)) return make_error(Errc::malformed, "block: 'blockID' is not 32 bytes of hex");
    const auto* header = obj_field(o, "block_header");
    if (header == nullptr) return make_error(Errc::malformed, "block: 'block_header' is missing or not an object");
    const auto* raw = obj_field(*header, "raw_data");
    if (raw == nullptr) return make_error(Errc::malformed, "block: 'block_header.raw_data' is missing or not an object");
    // protobuf JSON omits zero values: number and timestamp of genesis.
    auto number = uint_field(*raw, "number", "block", 0);
    if (!number) return number.error();
    auto ts = uint_field(*raw, "timestamp", "block", 0);
    if (!ts) return ts.error();
    if (*ts > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return make_error(Errc::malformed, "block: 'timestamp' out of range");
    // blockID = 8-byte big-endian number || 24 bytes of the header hash.
    if (hex_u64(id->substr(0, 16)) != *number)
        return make_error(Errc::malformed, "block " + std::to_string(*number) + ": blockID " + std::string(*id) +
                                               " does not carry the block number");
    BlockRef b;
    b.height = *number;
    b.hash = lower(*id);
    if (const auto* p = raw->if_contains("parentHash")) {
        if (!p->is_string() || !is_hash64(sv(p->get_string())))
            return make_error(Errc::malformed, "block " + std::to_string(b.height) + ": 'parentHash' is not 32 bytes of hex");
        b.parent = lower(sv(p->get_string()));
    } else if (b.height != 0) {
        return make_error(Errc::malformed, "block " + std::to_string(b.height) + ": 'parentHash' is missing");
    }
    b.time_ms = static_cast<std::int64_t>(*ts);
    return std::optional<BlockRef>(std::move(b));
}

Result<std::optional<DecodedBlock>> decode_block(const json::value& v, const WatchSet* watched,
                                                 const NativeSpec& native) {
    auto ref = decode_block_ref(v);
    if (!ref) return ref.error();
    if (!*ref) return std::optional<DecodedBlock>{};
    DecodedBlock d;
    d.ref = std::move(**ref);
    const auto* txs = v.get_object().if_contains("transactions");
    if (txs == nullptr) return std::optional<DecodedBlock>(std::move(d));  // no transactions
    if (!txs->is_array())
        return make_error(Errc::malformed, "block " + std::to_string(d.ref.height) + ": 'transactions' is not an array");
    const auto& arr = txs->get_array();
    d.tx_ids.reserve(arr.size());
    std::size_t i = 0;
    for (const auto& tv : arr) {
        auto what = [&] { return "block " + std::to_string(d.ref.height) + " tx " + std::to_string(i); };
        if (!tv.is_object()) return make_error(Errc::malformed, what() + ": not an object");
        const auto& tx = tv.get_object();
        const auto* idv = tx.if_contains("txID");
        if (idv == nullptr || !idv->is_string() || !is_hash64(sv(idv->get_string())))
            return make_error(Errc::malformed, what() + ": 'txID' is missing or not 32 bytes of hex");
        d.tx_ids.push_back(lower(sv(idv->get_string())));
        ++i;
        if (watched == nullptr || watched->size() == 0) continue;
        const auto* raw = obj_field(tx, "raw_data");
        if (raw == nullptr) return make_error(Errc::malformed, what() + ": 'raw_data' is missing or not an object");
        const auto* contracts = raw->if_contains("contract");
        if (contracts == nullptr) continue;
        if (!contracts->is_array()) return make_error(Errc::malformed, what() + ": 'raw_data.contract' is not an array");
        const json::array* ret = nullptr;
        if (const auto* r = tx.if_contains("ret"); r && r->is_array()) ret = &r->get_array();
        std::size_t ci = 0;
        for (const auto& cv : contracts->get_array()) {
            const std::size_t pos = ci++;
            if (!cv.is_object()) return make_error(Errc::malformed, what() + ": a contract is not an object");
            const auto& c = cv.get_object();
            const auto* type = c.if_contains("type");
            // TRC10 (TransferAssetContract) and every other type: not followed.
            if (type == nullptr || !type->is_string() || sv(type->get_string()) != "TransferContract") continue;
            const auto* param = obj_field(c, "parameter");
            const auto* value = param ? obj_field(*param, "value") : nullptr;
            if (value == nullptr)
                return make_error(Errc::malformed, what() + ": TransferContract without parameter.value");
            auto to_text = str_field(*value, "to_address", what());
            if (!to_text) return to_text.error();
            Address20 to;
            if (!parse_address(*to_text, to))
                return make_error(Errc::malformed, what() + ": 'to_address' is not a TRON address");
            if (!watched->contains(key_view(to))) continue;
            auto amount = uint_field(*value, "amount", what(), 0);
            if (!amount) return amount.error();
            if (*amount == 0) continue;
            // ret[i].contractRet == "SUCCESS", else not a deposit.
            bool success = false;
            if (ret != nullptr && pos < ret->size() && (*ret)[pos].is_object()) {
                const auto* cr = (*ret)[pos].get_object().if_contains("contractRet");
                success = cr != nullptr && cr->is_string() && sv(cr->get_string()) == "SUCCESS";
            }
            if (!success) continue;
            if (ignored(U256(*amount), native.min_amount) == Ignored::below_min_amount) {
                ++d.ignored_dust;
                continue;
            }
            Address20 from{};
            std::string from_text;
            if (const auto* ow = value->if_contains("owner_address"); ow && ow->is_string()) {
                if (!parse_address(sv(ow->get_string()), from))
                    return make_error(Errc::malformed, what() + ": 'owner_address' is not a TRON address");
                from_text = codec::tron_base58(from);
            }
            Transfer t;
            t.tx = d.tx_ids.back();
            t.index = kNativeIndex + pos;
            t.to_key.assign(key_view(to));
            t.to = codec::tron_base58(to);
            t.from = std::move(from_text);
            t.currency = native.symbol;
            t.decimals = native.decimals;
            t.amount = U256(*amount);
            d.native.push_back(std::move(t));
        }
    }
    return std::optional<DecodedBlock>(std::move(d));
}

Result<std::vector<DecodedBlock>> decode_block_list(const json::value& v, const WatchSet* watched,
                                                    const NativeSpec& native) {
    if (auto s = check_node_error(v); !s) return s.error();
    if (!v.is_object()) return make_error(Errc::malformed, "getblockbylimitnext: answer is not an object");
    const auto& o = v.get_object();
    std::vector<DecodedBlock> out;
    if (o.empty()) return out;
    const auto* list = o.if_contains("block");
    if (list == nullptr || !list->is_array())
        return make_error(Errc::malformed, "getblockbylimitnext: 'block' is missing or not an array");
    out.reserve(list->get_array().size());
    for (const auto& b : list->get_array()) {
        auto d = decode_block(b, watched, native);
        if (!d) return d.error();
        if (!*d) return make_error(Errc::malformed, "getblockbylimitnext: an empty block object in the list");
        out.push_back(std::move(**d));
    }
    return out;
}

// ---------------------------------------------------------------------------
// TransactionInfo (TRC20 logs)

namespace {

Result<InfoStats> decode_infos(const json::value& v, const InfoContext& ctx, std::vector<Transfer>& out) {
    const std::string where = "gettransactioninfobyblocknum " + std::to_string(ctx.block_number);
    if (auto s = check_node_error(v); !s) return s.error();
    if (v.is_object()) {
        if (v.get_object().empty())
            return make_error(Errc::unavailable, where + ": {} (block not available)");
        return make_error(Errc::malformed, where + ": answer is an object, not an array");
    }
    if (!v.is_array()) return make_error(Errc::malformed, where + ": answer is not an array");
    const auto& arr = v.get_array();
    if (ctx.tx_ids != nullptr && arr.size() != ctx.tx_ids->size()) {
        if (arr.empty())
            return make_error(Errc::unavailable, where + ": the block has " + std::to_string(ctx.tx_ids->size()) +
                                                     " transactions but the node returned no transaction info");
        return make_error(Errc::conflict, where + ": " + std::to_string(arr.size()) + " transaction infos for " +
                                              std::to_string(ctx.tx_ids->size()) + " transactions (reorg?)");
    }

    InfoStats st;
    bool in_order = true;
    std::vector<std::string> ids;
    if (ctx.tx_ids != nullptr) ids.reserve(arr.size());
    auto logger = log::get("chain.tron");

    for (const auto& iv : arr) {
        const std::string what = where + " info " + std::to_string(st.infos++);
        if (!iv.is_object()) return make_error(Errc::malformed, what + ": not an object");
        const auto& info = iv.get_object();
        auto id = str_field(info, "id", what);
        if (!id) return id.error();
        if (!is_hash64(*id)) return make_error(Errc::malformed, what + ": 'id' is not 32 bytes of hex");
        auto bn = uint_field(info, "blockNumber", what, 0);
        if (!bn) return bn.error();
        if (*bn != ctx.block_number)
            return make_error(Errc::conflict, what + ": blockNumber " + std::to_string(*bn));
        if (ctx.tx_ids != nullptr) {
            std::string lid = lower(*id);
            if (in_order && lid != (*ctx.tx_ids)[ids.size()]) in_order = false;
            ids.push_back(std::move(lid));
        }

        const auto* logs = info.if_contains("log");
        if (logs == nullptr) continue;
        if (!logs->is_array()) return make_error(Errc::malformed, what + ": 'log' is not an array");
        const auto& la = logs->get_array();
        if (la.empty()) continue;

        // Success gate: receipt.result == "SUCCESS" and no top-level FAILED.
        bool success = false;
        if (const auto* receipt = obj_field(info, "receipt")) {
            const auto* r = receipt->if_contains("result");
            success = r != nullptr && r->is_string() && sv(r->get_string()) == "SUCCESS";
        }
        if (const auto* r = info.if_contains("result"); r && !(r->is_string() && sv(r->get_string()) == "SUCCESS"))
            success = false;
        if (!success) {
            ++st.failed;
            st.logs += la.size();
            continue;
        }

        for (std::size_t j = 0; j < la.size(); ++j) {
            ++st.logs;
            if (!la[j].is_object()) return make_error(Errc::malformed, what + " log " + std::to_string(j) + ": not an object");
            const auto& lg = la[j].get_object();
            const auto* addr = lg.if_contains("address");
            if (addr == nullptr || !addr->is_string())
                return make_error(Errc::malformed, what + " log " + std::to_string(j) + ": 'address' is missing");
            Address20 contract;
            if (!parse_address(sv(addr->get_string()), contract))
                return make_error(Errc::malformed, what + " log " + std::to_string(j) + ": 'address' is not an address");
            const TokenSpec* token = nullptr;
            for (const auto& t : ctx.tokens)
                if (t.contract == contract) {
                    token = &t;
                    break;
                }
            if (token == nullptr) continue;  // not a configured contract (counterfeits included)
            const auto* topics = lg.if_contains("topics");
            if (topics == nullptr || !topics->is_array())
                return make_error(Errc::malformed, what + " log " + std::to_string(j) + ": 'topics' is not an array");
            const auto& ta = topics->get_array();
            if (ta.size() != 3) continue;  // ERC20 Transfer has 3 (ERC721: 4)
            std::array<std::string_view, 3> tv;
            for (std::size_t k = 0; k < 3; ++k) {
                if (!ta[k].is_string())
                    return make_error(Errc::malformed, what + " log " + std::to_string(j) + ": a topic is not a string");
                tv[k] = sv(ta[k].get_string());
            }
            if (!codec::is_transfer_topic(tv[0])) continue;
            ++st.token_transfers;
            Address20 to;
            if (!codec::try_address_from_topic(tv[2], to)) continue;  // not an address: not a token Transfer
            if (ctx.watched == nullptr || !ctx.watched->contains(key_view(to))) continue;
            std::string_view data;
            if (const auto* dv = lg.if_contains("data")) {
                if (!dv->is_string())
                    return make_error(Errc::malformed, what + " log " + std::to_string(j) + ": 'data' is not a string");
                data = sv(dv->get_string());
            }
            codec::TransferLog tl;
            if (!codec::try_decode_transfer_log(std::span<const std::string_view>(tv.data(), tv.size()), data, tl)) {
                ++st.skipped_nonstandard;
                logger->warn("token {} log {} in tx {}: Transfer to a watched address with a non-standard from/data; skipped",
                             token->symbol, j, *id);
                continue;
            }
            if (const Ignored why = ignored(tl.value, token->min_amount); why != Ignored::no) {
                ++(why == Ignored::zero_value ? st.ignored_zero : st.ignored_dust);
                logger->debug("token {} Transfer of {} to {} in tx {} log {} ignored ({})", token->symbol,
                              Amount(tl.value, token->decimals).to_string(), codec::tron_base58(to), *id, j,
                              to_string(why));
                continue;
            }
            ++st.matched;
            Transfer t;
            t.tx = lower(*id);
            t.index = j;
            t.to_key.assign(key_view(to));
            t.to = codec::tron_base58(to);
            t.from = codec::tron_base58(tl.from);
            t.currency = token->symbol;
            t.contract = token->contract_text;
            t.decimals = token->decimals;
            t.amount = std::move(tl.value);
            out.push_back(std::move(t));
        }
    }

    if (ctx.tx_ids != nullptr && !in_order) {
        std::vector<std::string> want = *ctx.tx_ids;
        std::sort(want.begin(), want.end());
        std::sort(ids.begin(), ids.end());
        if (want != ids) return make_error(Errc::conflict, where + ": transaction ids differ from the block's (reorg?)");
    }
    return st;
}

}  // namespace

Result<InfoStats> decode_transaction_infos(const json::value& v, const InfoContext& ctx, std::vector<Transfer>& out) {
    const std::size_t first = out.size();
    auto r = decode_infos(v, ctx, out);
    if (!r) out.resize(first);  // all or nothing
    return r;
}

Result<InfoStats> decode_transaction_infos(std::string_view body, const InfoContext& ctx, std::vector<Transfer>& out) {
    auto v = json::parse_bounded(body);
    if (!v) return v.error();
    return decode_transaction_infos(*v, ctx, out);
}

// ---------------------------------------------------------------------------
// One transaction by id (re-check)

std::optional<std::string> parse_tx_id(std::string_view text) {
    if (text.size() == 66 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
    if (!is_hash64(text)) return std::nullopt;
    return lower(text);
}

Result<std::optional<std::uint64_t>> decode_info_block(const json::value& info, std::string_view tx_id) {
    const std::string what = "gettransactioninfobyid " + std::string(tx_id);
    if (auto s = check_node_error(info); !s) return s.error();
    if (!info.is_object()) return make_error(Errc::malformed, what + ": answer is not an object");
    const auto& o = info.get_object();
    if (o.empty()) return std::optional<std::uint64_t>{};  // not in a block (or unknown)
    auto id = str_field(o, "id", what);
    if (!id) return id.error();
    if (lower(*id) != tx_id) return make_error(Errc::malformed, what + ": the node answered another transaction");
    auto bn = uint_field(o, "blockNumber", what, 0);
    if (!bn) return bn.error();
    return std::optional<std::uint64_t>(*bn);
}

bool decode_tx_known(const json::value& tx, std::string_view tx_id) {
    if (!tx.is_object()) return false;
    const auto* id = tx.get_object().if_contains("txID");
    return id != nullptr && id->is_string() && lower(sv(id->get_string())) == tx_id;
}

Result<TxTransfers> decode_tx_transfers(std::string_view tx_id, const json::value& info, const json::value& block,
                                        std::span<const TokenSpec> tokens, const NativeSpec& native,
                                        const WatchSet& watched) {
    auto number = decode_info_block(info, tx_id);
    if (!number) return number.error();
    if (!*number) return make_error(Errc::malformed, "transaction info without a block");
    auto b = decode_block(block, &watched, native);
    if (!b) return b.error();
    if (!*b) return make_error(Errc::unavailable, "the node does not know block " + std::to_string(**number) + " yet");
    if ((*b)->ref.height != **number)
        return make_error(Errc::malformed, "getblockbynum " + std::to_string(**number) + " returned block " +
                                               std::to_string((*b)->ref.height));
    // The info and the block come from two requests: the block at that
    // height must hold the transaction (else a reorg between them).
    if (std::find((*b)->tx_ids.begin(), (*b)->tx_ids.end(), tx_id) == (*b)->tx_ids.end())
        return make_error(Errc::unavailable, "block " + std::to_string(**number) + " does not hold transaction " +
                                                 std::string(tx_id) + " (a reorg between two answers?); retry");
    TxTransfers out;
    out.state = TxState::mined;
    out.block = (*b)->ref;
    for (auto& t : (*b)->native)
        if (t.tx == tx_id) out.transfers.push_back(std::move(t));
    if (!tokens.empty()) {
        json::array one;
        one.push_back(info);
        InfoContext ctx{**number, nullptr, tokens, &watched};
        auto st = decode_transaction_infos(json::value(std::move(one)), ctx, out.transfers);
        if (!st) return st.error();
    }
    return out;
}

}  // namespace depositd::chain::tron
