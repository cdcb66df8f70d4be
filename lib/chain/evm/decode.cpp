#include "chain/evm/decode.hpp"

#include <algorithm>
#include <limits>

#include "chain/evm/json_text.hpp"
#include "codec/address.hpp"
#include "codec/hex.hpp"

// Blocks, native transfers, transactions and quantities. Logs are decoded in
// logs.cpp, receipts in receipts.cpp.

namespace depositd::chain::evm {

using namespace detail;


Result<std::uint64_t> parse_quantity(std::string_view text) {
    if (!has_0x(text) || text.size() == 2)
        return make_error(Errc::malformed, "'" + std::string(text.substr(0, 80)) + "' is not a hex quantity");
    std::string_view d = text.substr(2);
    while (d.size() > 1 && d.front() == '0') d.remove_prefix(1);
    if (d.size() > 16) return make_error(Errc::malformed, "quantity " + std::string(text.substr(0, 80)) + " out of range");
    std::uint64_t v = 0;
    for (char c : d) {
        const int x = hexval(c);
        if (x < 0) return make_error(Errc::malformed, "'" + std::string(text.substr(0, 80)) + "' is not a hex quantity");
        v = (v << 4) | static_cast<std::uint64_t>(x);
    }
    return v;
}

Result<std::uint64_t> parse_quantity_json(const json::value& v) {
    if (!v.is_string()) return make_error(Errc::malformed, "quantity is not a string");
    const auto& s = v.get_string();
    return parse_quantity(std::string_view(s.data(), s.size()));
}

std::string quantity(std::uint64_t v) {
    static constexpr char digits[] = "0123456789abcdef";
    char buf[16];
    int n = 0;
    do {
        buf[n++] = digits[v & 0xf];
        v >>= 4;
    } while (v != 0);
    std::string r = "0x";
    while (n > 0) r.push_back(buf[--n]);
    return r;
}

Result<std::vector<TokenSpec>> make_token_specs(const std::vector<config::TokenConfig>& tokens) {
    std::vector<TokenSpec> specs;
    specs.reserve(tokens.size());
    for (const auto& t : tokens) {
        auto parsed = codec::parse_address(Protocol::evm, t.contract);
        if (!parsed)
            return make_error(Errc::invalid_input,
                              "token " + t.symbol + " contract '" + t.contract + "': " + parsed.error().message);
        if (parsed->watch_key.size() != 20)
            return make_error(Errc::invalid_input, "token " + t.symbol + " contract is not a 20-byte address");
        TokenSpec s;
        std::copy(parsed->watch_key.begin(), parsed->watch_key.end(), s.contract.begin());
        s.contract_text = codec::evm_checksum(s.contract);
        s.contract_lower = codec::to_hex0x(s.contract);
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

Result<std::optional<BlockRef>> decode_block_ref(const json::value& result) {
    if (result.is_null()) return std::optional<BlockRef>{};
    if (!result.is_object()) return make_error(Errc::malformed, "block is not an object");
    const auto& o = result.get_object();
    BlockRef b;
    auto num = str_field(o, "number", "block");
    if (!num) return num.error();
    auto h = parse_quantity(*num);
    if (!h) return make_error(Errc::malformed, "block 'number': " + h.error().message);
    b.height = *h;
    auto hash = hash_field(o, "hash", "block");
    if (!hash) return hash.error();
    b.hash = std::move(*hash);
    auto parent = hash_field(o, "parentHash", "block");
    if (!parent) return parent.error();
    b.parent = std::move(*parent);
    auto ts = str_field(o, "timestamp", "block");
    if (!ts) return ts.error();
    auto tsq = parse_quantity(*ts);
    if (!tsq) return make_error(Errc::malformed, "block 'timestamp': " + tsq.error().message);
    if (*tsq > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / 1000))
        return make_error(Errc::malformed, "block 'timestamp' out of range");
    b.time_ms = static_cast<std::int64_t>(*tsq) * 1000;
    return std::optional<BlockRef>(std::move(b));
}

Result<NativeCandidate> decode_native_transfer(const json::object& tx, const WatchSet& watched, const NativeSpec& native,
                                               const std::string& what) {
    NativeCandidate c;
    const auto* to = tx.if_contains("to");
    if (to == nullptr || to->is_null()) return c;  // contract creation
    if (!to->is_string()) return make_error(Errc::malformed, what + ": 'to' is not a string");
    Address20 to_addr;
    if (!parse_address_text(std::string_view(to->get_string().data(), to->get_string().size()), to_addr))
        return make_error(Errc::malformed, what + ": 'to' is not a 20-byte address");
    if (!watched.contains(key_view(to_addr))) return c;
    auto value = str_field(tx, "value", what);
    if (!value) return value.error();
    auto amount = u256_from_hex(*value);
    if (!amount || !has_0x(*value)) return make_error(Errc::malformed, what + ": 'value' is not a hex quantity");
    if (amount->is_zero()) return c;  // a call, not a payment
    if (ignored(*amount, native.min_amount) == Ignored::below_min_amount) {
        c.ignored_dust = true;
        return c;
    }
    auto hash = hash_field(tx, "hash", what);
    if (!hash) return hash.error();
    auto from = str_field(tx, "from", what);
    if (!from) return from.error();
    Address20 from_addr;
    if (!parse_address_text(*from, from_addr))
        return make_error(Errc::malformed, what + ": 'from' is not a 20-byte address");
    Transfer t;
    t.tx = std::move(*hash);
    t.index = kNativeIndex;
    t.to_key.assign(key_view(to_addr));
    t.to = codec::evm_checksum(to_addr);
    t.from = codec::evm_checksum(from_addr);
    t.currency = native.symbol;
    t.decimals = native.decimals;
    t.amount = std::move(*amount);
    c.transfer = std::move(t);
    return c;
}

Result<std::optional<DecodedBlock>> decode_block(const json::value& result, const WatchSet& watched,
                                                 const NativeSpec& native) {
    auto ref = decode_block_ref(result);
    if (!ref) return ref.error();
    if (!*ref) return std::optional<DecodedBlock>{};
    DecodedBlock d;
    d.ref = std::move(**ref);
    {
        auto bloom_text = str_field(result.get_object(), "logsBloom", "block");
        if (!bloom_text) return bloom_text.error();
        auto bloom = codec::LogsBloom::from_hex(*bloom_text);
        if (!bloom) return make_error(Errc::malformed, "block " + std::to_string(d.ref.height) + ": " + bloom.error().message);
        d.bloom = *bloom;
    }
    const auto* txs = result.get_object().if_contains("transactions");
    if (txs == nullptr || !txs->is_array()) return make_error(Errc::malformed, "block 'transactions' is not an array");
    std::size_t i = 0;
    for (const auto& tv : txs->get_array()) {
        const std::string what = "block " + std::to_string(d.ref.height) + " tx " + std::to_string(i++);
        if (tv.is_string()) continue;  // hash-only block
        if (!tv.is_object()) return make_error(Errc::malformed, what + ": not an object");
        auto t = decode_native_transfer(tv.get_object(), watched, native, what);
        if (!t) return t.error();
        if (t->ignored_dust) ++d.ignored_dust;
        if (t->transfer) d.native.push_back(std::move(*t->transfer));
    }
    return std::optional<DecodedBlock>(std::move(d));
}

std::optional<std::string> parse_tx_hash(std::string_view text) {
    if (text.size() == 64) {
        const std::string prefixed = "0x" + std::string(text);
        return parse_tx_hash(prefixed);
    }
    if (!is_hash_text(text)) return std::nullopt;
    std::string h = lower(text);
    h[1] = 'x';
    return h;
}

Result<TxLocation> decode_tx_location(const json::value& tx, const json::value& receipt) {
    TxLocation loc;
    if (tx.is_null() && receipt.is_null()) return loc;  // unknown
    const json::value& where = receipt.is_null() ? tx : receipt;
    if (!where.is_object()) return make_error(Errc::malformed, "transaction/receipt is not an object");
    const auto* bh = where.get_object().if_contains("blockHash");
    if (bh == nullptr || bh->is_null()) {
        loc.state = TxState::pending;
        return loc;
    }
    auto hash = hash_field(where.get_object(), "blockHash", "transaction");
    if (!hash) return hash.error();
    auto num = str_field(where.get_object(), "blockNumber", "transaction");
    if (!num) return num.error();
    auto h = parse_quantity(*num);
    if (!h) return make_error(Errc::malformed, "transaction 'blockNumber': " + h.error().message);
    if (receipt.is_null())
        return make_error(Errc::unavailable, "the node names block " + *hash +
                                                 " for the transaction but has no receipt for it (a lagging "
                                                 "backend, or a pruned transaction index); retry");
    loc.state = TxState::mined;
    loc.block_hash = std::move(*hash);
    loc.height = *h;
    return loc;
}

Result<TxTransfers> decode_transaction_transfers(std::string_view tx_hash, const json::value& tx,
                                                 const json::value& receipt, const json::value& header,
                                                 std::span<const TokenSpec> tokens, const NativeSpec& native,
                                                 const WatchSet& watched, std::string_view chain) {
    auto ref = decode_block_ref(header);
    if (!ref) return ref.error();
    if (!*ref) return make_error(Errc::unavailable, "the node does not know the transaction's block (a lagging backend?)");
    TxTransfers out;
    out.state = TxState::mined;
    out.block = std::move(**ref);
    // Succeeded in this very block? (A receipt of another block: a reorg between the calls.)
    auto ok = decode_receipt_success(receipt, out.block.hash);
    if (!ok) return ok.error();
    if (!*ok) return out;  // failed: neither its value nor its logs moved anything
    if (!tx.is_object()) return make_error(Errc::malformed, "transaction is not an object");
    auto h = hash_field(tx.get_object(), "hash", "transaction");
    if (!h) return h.error();
    if (!same_hash(*h, tx_hash)) return make_error(Errc::malformed, "the node answered another transaction: " + *h);
    // Token transfers: the receipt's logs, through the same matcher as eth_getLogs.
    const auto* logs = receipt.get_object().if_contains("logs");
    if (logs == nullptr || !logs->is_array()) return make_error(Errc::malformed, "receipt 'logs' is not an array");
    std::vector<MatchedTransfer> matched;
    LogMatchContext ctx{tokens, &watched, std::span<const BlockRef>(&out.block, 1), {}, chain};
    if (!tokens.empty()) {
        auto st = decode_logs(*logs, ctx, matched);
        if (!st) return st.error();
    }
    for (auto& m : matched)
        if (same_hash(m.transfer.tx, tx_hash)) out.transfers.push_back(std::move(m.transfer));
    auto n = decode_native_transfer(tx.get_object(), watched, native, "transaction " + std::string(tx_hash));
    if (!n) return n.error();
    if (n->transfer) out.transfers.push_back(std::move(*n->transfer));
    return out;
}

Result<unsigned> decode_decimals_result(const json::value& result) {
    if (!result.is_string()) return make_error(Errc::malformed, "eth_call result is not a string");
    std::string_view s(result.get_string().data(), result.get_string().size());
    if (!has_0x(s)) return make_error(Errc::malformed, "eth_call result is not hex");
    if (s.size() == 2) return make_error(Errc::malformed, "decimals() returned no data (not a token contract?)");
    if (s.size() != 66) return make_error(Errc::malformed, "decimals() did not return one 32-byte word");
    std::array<std::uint8_t, 32> w;
    if (!decode_hex(s.data() + 2, 32, w.data())) return make_error(Errc::malformed, "eth_call result is not hex");
    for (std::size_t i = 0; i < 31; ++i)
        if (w[i] != 0) return make_error(Errc::malformed, "decimals() returned a value above 255");
    return static_cast<unsigned>(w[31]);
}

}  // namespace depositd::chain::evm
