#include "chain/solana/decode.hpp"

#include <algorithm>
#include <charconv>

#include "codec/address.hpp"
#include "codec/base58.hpp"

// The getBlock decoder is in block_parser.cpp, the balance-diff matching of one
// transaction in tx_match.cpp; here: keys, mints and the small answers.

namespace depositd::chain::solana {

namespace {

constexpr std::array<std::int8_t, 256> make_b58_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& x : t) x = -1;
    for (std::size_t i = 0; i < codec::kBase58Alphabet.size(); ++i)
        t[static_cast<unsigned char>(codec::kBase58Alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
}
constexpr auto kB58 = make_b58_table();

}  // namespace

bool decode_key(std::string_view text, Key32& out) noexcept {
    if (text.size() < 32 || text.size() > 44) return false;
    std::size_t ones = 0;
    while (ones < text.size() && text[ones] == '1') ++ones;
    // Big-endian base 2^32 limbs; limb[7] is the least significant.
    std::uint32_t limb[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (std::size_t i = ones; i < text.size(); ++i) {
        const int d = kB58[static_cast<unsigned char>(text[i])];
        if (d < 0) return false;
        std::uint64_t carry = static_cast<std::uint64_t>(d);
        for (int j = 7; j >= 0; --j) {
            const std::uint64_t x = static_cast<std::uint64_t>(limb[j]) * 58u + carry;
            limb[j] = static_cast<std::uint32_t>(x);
            carry = x >> 32;
        }
        if (carry != 0) return false;  // more than 32 bytes
    }
    for (int j = 0; j < 8; ++j) {
        out[static_cast<std::size_t>(4 * j)] = static_cast<std::uint8_t>(limb[j] >> 24);
        out[static_cast<std::size_t>(4 * j + 1)] = static_cast<std::uint8_t>(limb[j] >> 16);
        out[static_cast<std::size_t>(4 * j + 2)] = static_cast<std::uint8_t>(limb[j] >> 8);
        out[static_cast<std::size_t>(4 * j + 3)] = static_cast<std::uint8_t>(limb[j]);
    }
    // Exactly 32 bytes: the leading zero bytes are the leading '1's.
    std::size_t zeros = 0;
    while (zeros < 32 && out[zeros] == 0) ++zeros;
    return zeros == ones;
}

Result<std::vector<TokenSpec>> make_token_specs(const std::vector<config::TokenConfig>& tokens) {
    std::vector<TokenSpec> specs;
    specs.reserve(tokens.size());
    for (const auto& t : tokens) {
        auto raw = codec::solana_address_bytes(t.contract);
        if (!raw)
            return make_error(Errc::invalid_input, "token " + t.symbol + " mint '" + t.contract + "': " + raw.error().message);
        TokenSpec s;
        std::copy(raw->begin(), raw->end(), s.mint.begin());
        s.mint_text = codec::solana_address(s.mint);
        s.symbol = t.symbol;
        s.decimals = t.decimals;
        s.min_amount = t.min_amount;
        for (const auto& other : specs)
            if (other.mint == s.mint)
                return make_error(Errc::invalid_input,
                                  "tokens " + other.symbol + " and " + t.symbol + " have the same mint " + s.mint_text);
        specs.push_back(std::move(s));
    }
    return specs;
}

Result<std::uint64_t> decode_slot(const json::value& result) {
    if (result.is_uint64()) return result.get_uint64();
    if (result.is_int64() && result.get_int64() >= 0) return static_cast<std::uint64_t>(result.get_int64());
    return make_error(Errc::malformed, "slot is not an unsigned integer: " + json::serialize(result).substr(0, 80));
}

Result<std::vector<std::uint64_t>> decode_slot_list(const json::value& result, std::uint64_t start,
                                                    std::uint64_t end) {
    if (!result.is_array()) return make_error(Errc::malformed, "block list is not an array");
    std::vector<std::uint64_t> slots;
    slots.reserve(result.get_array().size());
    for (const auto& v : result.get_array()) {
        auto s = decode_slot(v);
        if (!s) return make_error(Errc::malformed, "block list: " + s.error().message);
        if (*s < start || *s > end)
            return make_error(Errc::malformed, "block list: slot " + std::to_string(*s) + " outside " +
                                                   std::to_string(start) + ".." + std::to_string(end));
        if (!slots.empty() && *s <= slots.back())
            return make_error(Errc::malformed, "block list is not strictly increasing at slot " + std::to_string(*s));
        slots.push_back(*s);
    }
    return slots;
}

Result<SlotHash> decode_latest_blockhash(const json::value& result) {
    if (!result.is_object()) return make_error(Errc::malformed, "getLatestBlockhash result is not an object");
    const auto& o = result.get_object();
    const auto* context = o.if_contains("context");
    const auto* value = o.if_contains("value");
    if (context == nullptr || !context->is_object() || value == nullptr || !value->is_object())
        return make_error(Errc::malformed, "getLatestBlockhash result has no context/value");
    const auto* slot = context->get_object().if_contains("slot");
    if (slot == nullptr) return make_error(Errc::malformed, "getLatestBlockhash context has no slot");
    auto n = decode_slot(*slot);
    if (!n) return make_error(Errc::malformed, "getLatestBlockhash context: " + n.error().message);
    const auto* hash = value->get_object().if_contains("blockhash");
    Key32 k;
    if (hash == nullptr || !hash->is_string() ||
        !decode_key(std::string_view(hash->get_string().data(), hash->get_string().size()), k))
        return make_error(Errc::malformed, "getLatestBlockhash blockhash is not a 32-byte base58 hash");
    return SlotHash{*n, std::string(hash->get_string())};
}

Result<unsigned> decode_token_supply_decimals(const json::value& result) {
    if (!result.is_object()) return make_error(Errc::malformed, "getTokenSupply result is not an object");
    const auto* value = result.get_object().if_contains("value");
    if (value == nullptr || !value->is_object()) return make_error(Errc::malformed, "getTokenSupply result has no value");
    const auto* d = value->get_object().if_contains("decimals");
    if (d == nullptr) return make_error(Errc::malformed, "getTokenSupply value has no decimals");
    std::int64_t n = -1;
    if (d->is_int64()) n = d->get_int64();
    else if (d->is_uint64() && d->get_uint64() < 256) n = static_cast<std::int64_t>(d->get_uint64());
    if (n < 0 || n > 255) return make_error(Errc::malformed, "getTokenSupply decimals is not a small integer");
    return static_cast<unsigned>(n);
}

}  // namespace depositd::chain::solana
