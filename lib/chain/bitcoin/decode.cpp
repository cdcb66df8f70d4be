#include "chain/bitcoin/decode.hpp"

#include <algorithm>
#include <limits>

#include "chain/bitcoin/hash_text.hpp"

// Headers, hashes, txids and amounts as the node prints them. The getblock
// decoder is in block_parser.cpp.

namespace depositd::chain::bitcoin {

using namespace detail;

Result<BlockRef> decode_block_header(const json::value& result) {
    if (!result.is_object()) return make_error(Errc::malformed, "getblockheader: result is not an object");
    const auto& o = result.get_object();
    BlockRef ref;
    auto hash = json::get_string(o, "hash");
    if (!hash) return hash.error();
    if (!is_hash_text(*hash)) return make_error(Errc::malformed, "getblockheader: hash is not 64 hex digits");
    ref.hash = lower(*hash);
    const auto* height = o.if_contains("height");
    if (!height || !(height->is_int64() || height->is_uint64()) || (height->is_int64() && height->get_int64() < 0))
        return make_error(Errc::malformed, "getblockheader: height is missing or not a non-negative integer");
    ref.height = height->is_int64() ? static_cast<std::uint64_t>(height->get_int64()) : height->get_uint64();
    const auto* prev = o.if_contains("previousblockhash");
    if (prev && prev->is_string()) {
        const auto& s = prev->get_string();
        if (!is_hash_text(std::string_view(s.data(), s.size())))
            return make_error(Errc::malformed, "getblockheader: previousblockhash is not 64 hex digits");
        ref.parent = lower(std::string_view(s.data(), s.size()));
    } else if (ref.height != 0 || (prev && !prev->is_null())) {
        return make_error(Errc::malformed, "getblockheader: previousblockhash is missing");
    }
    if (const auto* t = o.if_contains("time"); t && t->is_int64() && t->get_int64() >= 0 && t->get_int64() < (1ll << 40))
        ref.time_ms = t->get_int64() * 1000;
    return ref;
}

Result<std::string> decode_block_hash(const json::value& result) {
    if (!result.is_string()) return make_error(Errc::malformed, "getblockhash: result is not a string");
    const auto& s = result.get_string();
    const std::string_view t(s.data(), s.size());
    if (!is_hash_text(t)) return make_error(Errc::malformed, "getblockhash: result is not 64 hex digits");
    return lower(t);
}

std::optional<std::string> parse_txid(std::string_view text) {
    if (!is_hash_text(text)) return std::nullopt;
    return lower(text);
}

Result<RawTxLocation> decode_raw_tx_location(const json::value& result, std::string_view txid) {
    if (!result.is_object()) return make_error(Errc::malformed, "getrawtransaction: result is not an object");
    const auto& o = result.get_object();
    const auto* id = o.if_contains("txid");
    if (id == nullptr || !id->is_string() || lower(std::string_view(id->get_string().data(), id->get_string().size())) != txid)
        return make_error(Errc::malformed, "getrawtransaction: the node answered another transaction");
    RawTxLocation loc;
    const auto* bh = o.if_contains("blockhash");
    if (bh == nullptr || bh->is_null() || (bh->is_string() && bh->get_string().empty())) return loc;  // mempool
    auto hash = decode_block_hash(*bh);
    if (!hash) return make_error(Errc::malformed, "getrawtransaction: blockhash is not 64 hex digits");
    // bcoin names a null hash for an unconfirmed transaction.
    if (hash->find_first_not_of('0') == std::string::npos) return loc;
    loc.block_hash = std::move(*hash);
    return loc;
}

Result<std::uint64_t> parse_btc_amount(std::string_view text) {
    auto bad = [&](const char* why) {
        return make_error(Errc::malformed, "amount '" + std::string(text.substr(0, 40)) + "' " + why);
    };
    std::size_t i = 0;
    if (i < text.size() && text[i] == '-') return bad("is negative");
    // Mantissa digits (integer and fraction parts) and the decimal exponent.
    std::string digits;
    int frac = 0;
    bool any = false, dot = false;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if (c >= '0' && c <= '9') {
            any = true;
            if (digits.empty() && c == '0') {
                if (dot) ++frac;
                continue;  // leading zeros carry no value
            }
            if (digits.size() >= 40) return bad("has too many digits");
            digits.push_back(c);
            if (dot) ++frac;
        } else if (c == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (!any) return bad("is not a number");
    long exp = 0;
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        bool neg = false;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) neg = text[i++] == '-';
        if (i >= text.size()) return bad("has an empty exponent");
        for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
            exp = exp * 10 + (text[i] - '0');
            if (exp > 100) return bad("has an exponent out of range");
        }
        if (neg) exp = -exp;
    }
    if (i != text.size()) return bad("is not a number");
    if (digits.empty()) return std::uint64_t{0};
    // value = digits x 10^(exp - frac); satoshis = value x 10^8.
    long shift = exp - frac + 8;
    if (shift > 0) {
        if (static_cast<long>(digits.size()) + shift > 17) return bad("is above 21 million BTC");
        digits.append(static_cast<std::size_t>(shift), '0');
        shift = 0;
    }
    bool round_up = false;
    if (shift < 0) {
        const auto drop = static_cast<std::size_t>(-shift);
        if (drop > digits.size()) {
            digits.clear();  // the first dropped digit is a leading zero: below half a satoshi
        } else {
            round_up = digits[digits.size() - drop] >= '5';
            digits.resize(digits.size() - drop);
        }
    }
    if (digits.size() > 17) return bad("is above 21 million BTC");
    std::uint64_t sats = 0;
    for (char c : digits) sats = sats * 10 + static_cast<std::uint64_t>(c - '0');
    if (round_up) ++sats;
    if (sats > kMaxMoney) return bad("is above 21 million BTC");
    return sats;
}

std::string node_text(std::string_view text, std::size_t max) {
    std::string r(text.substr(0, max));
    for (auto& c : r)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    return r;
}

std::optional<codec::BtcNetwork> network_of_chain(std::string_view chain, bool bcoin) {
    if (chain == "main") return codec::BtcNetwork::mainnet;
    if (chain == "test" || chain == "testnet" || chain == "testnet3" || chain == "testnet4") return codec::BtcNetwork::testnet;
    if (chain == "signet") return codec::BtcNetwork::signet;
    if (chain == "regtest") return bcoin ? codec::BtcNetwork::bcoin_regtest : codec::BtcNetwork::regtest;
    return std::nullopt;
}

}  // namespace depositd::chain::bitcoin
