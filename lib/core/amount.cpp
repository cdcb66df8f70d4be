#include "core/amount.hpp"

#include <algorithm>

namespace depositd {
namespace {

const U256& max_u256() {
    static const U256 m = ~U256(0);
    return m;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

Result<U256> u256_from_decimal(std::string_view s) {
    if (s.empty()) return make_error(Errc::invalid_input, "empty number");
    if (s.size() > 78) return make_error(Errc::invalid_input, "number too large for 256 bits");
    U256 v = 0;
    const U256 limit = max_u256() / 10;
    for (char c : s) {
        if (c < '0' || c > '9') return make_error(Errc::invalid_input, "not a decimal digit in number");
        unsigned d = static_cast<unsigned>(c - '0');
        if (v > limit || (v == limit && d > static_cast<unsigned>(max_u256() % 10)))
            return make_error(Errc::invalid_input, "number too large for 256 bits");
        v = v * 10 + d;
    }
    return v;
}

Result<U256> u256_from_hex(std::string_view s) {
    if (s.starts_with("0x") || s.starts_with("0X")) s.remove_prefix(2);
    if (s.empty()) return make_error(Errc::invalid_input, "empty hex number");
    // Leading zeros are allowed (fixed-width ABI words), 256 significant bits at most.
    size_t first = s.find_first_not_of('0');
    std::string_view sig = first == std::string_view::npos ? std::string_view{} : s.substr(first);
    if (sig.size() > 64) return make_error(Errc::invalid_input, "hex number too large for 256 bits");
    U256 v = 0;
    for (char c : s) {
        int d = hex_value(c);
        if (d < 0) return make_error(Errc::invalid_input, "not a hex digit in number");
        if (!sig.empty() || d != 0) v = (v << 4) | static_cast<unsigned>(d);
    }
    return v;
}

Result<U256> u256_from_be_bytes(std::span<const std::uint8_t> bytes) {
    if (bytes.size() > 32) return make_error(Errc::invalid_input, "more than 32 bytes for a 256-bit word");
    U256 v = 0;
    for (auto b : bytes) v = (v << 8) | b;
    return v;
}

std::string u256_to_decimal(const U256& v) { return v.str(); }

std::string u256_to_hex(const U256& v) {
    if (v == 0) return "0x0";
    static const char* digits = "0123456789abcdef";
    std::string out;
    U256 x = v;
    while (x != 0) {
        out.push_back(digits[static_cast<unsigned>(x & 0xf)]);
        x >>= 4;
    }
    out += "x0";
    std::reverse(out.begin(), out.end());
    return out;
}

Result<Amount> Amount::from_raw_decimal(std::string_view digits, unsigned decimals) {
    if (decimals > kMaxDecimals) return make_error(Errc::invalid_input, "too many decimals");
    auto v = u256_from_decimal(digits);
    if (!v) return v.error();
    return Amount(std::move(*v), decimals);
}

Result<Amount> Amount::parse_decimal(std::string_view text, unsigned decimals) {
    if (decimals > kMaxDecimals) return make_error(Errc::invalid_input, "too many decimals");
    auto dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::string_view frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    if (whole.empty()) return make_error(Errc::invalid_input, "amount needs digits before the point");
    if (dot != std::string_view::npos && frac.empty())
        return make_error(Errc::invalid_input, "amount needs digits after the point");
    if (frac.size() > decimals)
        return make_error(Errc::invalid_input, "amount has more fractional digits than the token's decimals");
    std::string digits(whole);
    digits.append(frac);
    digits.append(decimals - frac.size(), '0');
    auto v = u256_from_decimal(digits);
    if (!v) return v.error();
    return Amount(std::move(*v), decimals);
}

std::string Amount::to_string() const {
    std::string digits = raw_.str();
    if (decimals_ == 0) return digits;
    if (digits.size() <= decimals_) digits.insert(0, decimals_ - digits.size() + 1, '0');
    std::string whole = digits.substr(0, digits.size() - decimals_);
    std::string frac = digits.substr(digits.size() - decimals_);
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    return frac.empty() ? whole : whole + "." + frac;
}

}  // namespace depositd
