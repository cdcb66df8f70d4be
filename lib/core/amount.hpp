#pragma once
// Exact token amounts: an unsigned 256-bit integer of base units plus the
// token's decimals. No float or double ever touches money.
#include <boost/multiprecision/cpp_int.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace depositd {

// Checked: arithmetic that overflows 2^256-1 throws instead of wrapping.
using U256 = boost::multiprecision::number<boost::multiprecision::cpp_int_backend<
    256, 256, boost::multiprecision::unsigned_magnitude, boost::multiprecision::checked, void>>;

inline constexpr unsigned kMaxDecimals = 77;  // 10^77 < 2^256 < 10^78

// Parsers for the shapes amounts arrive in. All reject garbage, signs,
// whitespace and values above 2^256-1.
Result<U256> u256_from_decimal(std::string_view digits);         // "125500000"
Result<U256> u256_from_hex(std::string_view hex);                // "0x1f", "1f", "0x" + 64 digits
Result<U256> u256_from_be_bytes(std::span<const std::uint8_t> bytes);  // ABI word (<= 32 bytes)
std::string u256_to_decimal(const U256& v);
std::string u256_to_hex(const U256& v);  // "0x..." minimal, "0x0" for zero

class Amount {
public:
    Amount() = default;
    Amount(U256 raw, unsigned decimals) : raw_(std::move(raw)), decimals_(decimals) {}

    // "125.5" with 6 decimals -> raw 125500000. More fractional digits than
    // `decimals` is an error, never a silent rounding.
    static Result<Amount> parse_decimal(std::string_view text, unsigned decimals);
    static Result<Amount> from_raw_decimal(std::string_view digits, unsigned decimals);

    const U256& raw() const { return raw_; }
    unsigned decimals() const { return decimals_; }
    std::string raw_string() const { return u256_to_decimal(raw_); }
    // Human form with no trailing zeros: "125.5", "0.000001", "7".
    std::string to_string() const;

    friend bool operator==(const Amount&, const Amount&) = default;

private:
    U256 raw_ = 0;
    unsigned decimals_ = 0;
};

}  // namespace depositd
