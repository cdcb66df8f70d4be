#pragma once
// Exact decimal numbers for prices and exchange rates: an arbitrary-size
// integer and a count of decimals. No float or double touches money; the
// one conversion from a double (a JSON number from a rate source or an
// epusdt body) goes through its shortest round-trip text.
#include <boost/multiprecision/cpp_int.hpp>

#include <compare>
#include <string>
#include <string_view>

#include "core/amount.hpp"
#include "core/result.hpp"

namespace depositd::orders {

class Decimal {
public:
    Decimal() = default;  // 0

    // "70", "70.50", "0.001": digits, an optional point and digits. No sign,
    // exponent or spaces; at most 60 digits.
    static Result<Decimal> parse(std::string_view text);
    // Base units of a currency: raw / 10^decimals.
    static Decimal from_amount(const Amount& a);
    static Decimal from_raw(const U256& raw, unsigned decimals);
    // The shortest text that reads back as the same double (7.1234 -> "7.1234"),
    // in fixed notation; what Go's FormatFloat(v, 'f', -1, 64) prints. Fails
    // on NaN, infinities and negatives.
    static Result<Decimal> from_double(double v);
    static Decimal from_int(long long v);

    // Shortest form: no trailing zeros, no exponent ("70.5", "0.01", "7", "-0.1").
    std::string to_string() const;
    bool is_zero() const { return m_ == 0; }
    bool is_negative() const { return m_ < 0; }

    Decimal operator+(const Decimal& o) const;
    Decimal operator-(const Decimal& o) const;
    Decimal operator*(const Decimal& o) const;
    std::strong_ordering operator<=>(const Decimal& o) const;
    bool operator==(const Decimal& o) const { return (*this <=> o) == 0; }

    // ceil(a / b) with `scale` decimals; a >= 0, b > 0 (Errc::invalid_input otherwise).
    static Result<Decimal> div_ceil(const Decimal& a, const Decimal& b, unsigned scale);
    // Rounded up (towards +infinity) to `scale` decimals.
    Decimal ceil_to(unsigned scale) const;
    // Base units with `decimals`: exact, or Errc::invalid_input when this has
    // more fractional digits than that, is negative, or exceeds 2^256-1.
    Result<U256> to_raw(unsigned decimals) const;

private:
    using Int = boost::multiprecision::cpp_int;
    Decimal(Int m, unsigned scale) : m_(std::move(m)), scale_(scale) {}
    static Int pow10(unsigned n);
    Int scaled_to(unsigned scale) const;  // m_ * 10^(scale - scale_), scale >= scale_

    Int m_ = 0;
    unsigned scale_ = 0;
};

}  // namespace depositd::orders
