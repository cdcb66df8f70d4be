#include "orders/decimal.hpp"

#include <charconv>
#include <cmath>

namespace depositd::orders {

Decimal::Int Decimal::pow10(unsigned n) {
    Int p = 1;
    for (unsigned i = 0; i < n; ++i) p *= 10;
    return p;
}

Decimal::Int Decimal::scaled_to(unsigned scale) const { return m_ * pow10(scale - scale_); }

Result<Decimal> Decimal::parse(std::string_view text) {
    const auto dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    const std::string_view frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    auto digits = [](std::string_view d) {
        for (char c : d)
            if (c < '0' || c > '9') return false;
        return true;
    };
    if (whole.empty() || !digits(whole) || (dot != std::string_view::npos && (frac.empty() || !digits(frac))))
        return make_error(Errc::invalid_input, "not a decimal number (digits with an optional point, e.g. \"70.5\")");
    if (whole.size() + frac.size() > 60) return make_error(Errc::invalid_input, "number has too many digits");
    Int m = 0;
    for (char c : whole) m = m * 10 + (c - '0');
    for (char c : frac) m = m * 10 + (c - '0');
    return Decimal(std::move(m), static_cast<unsigned>(frac.size()));
}

Decimal Decimal::from_amount(const Amount& a) { return from_raw(a.raw(), a.decimals()); }

Decimal Decimal::from_raw(const U256& raw, unsigned decimals) {
    return Decimal(Int(u256_to_decimal(raw)), decimals);
}

Result<Decimal> Decimal::from_double(double v) {
    if (!std::isfinite(v) || v < 0) return make_error(Errc::invalid_input, "not a finite number >= 0");
    // -0.0 is not < 0, but prints as "-0": its '-' would be read as a digit.
    if (v == 0) return Decimal();
    char buf[400];  // fixed notation of the largest double has 309 digits
    auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    if (r.ec != std::errc()) return make_error(Errc::invalid_input, "number cannot be printed");
    std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
    const auto dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    const std::string_view frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    Int m = 0;
    for (char c : whole) m = m * 10 + (c - '0');
    for (char c : frac) m = m * 10 + (c - '0');
    return Decimal(std::move(m), static_cast<unsigned>(frac.size()));
}

Decimal Decimal::from_int(long long v) { return Decimal(Int(v), 0); }

std::string Decimal::to_string() const {
    const bool neg = m_ < 0;
    std::string digits = (neg ? Int(-m_) : m_).str();
    std::string out;
    if (scale_ == 0) {
        out = digits;
    } else {
        if (digits.size() <= scale_) digits.insert(0, scale_ - digits.size() + 1, '0');
        std::string whole = digits.substr(0, digits.size() - scale_);
        std::string frac = digits.substr(digits.size() - scale_);
        while (!frac.empty() && frac.back() == '0') frac.pop_back();
        out = frac.empty() ? whole : whole + "." + frac;
    }
    return neg && out != "0" ? "-" + out : out;
}

Decimal Decimal::operator+(const Decimal& o) const {
    const unsigned s = std::max(scale_, o.scale_);
    return Decimal(scaled_to(s) + o.scaled_to(s), s);
}

Decimal Decimal::operator-(const Decimal& o) const {
    const unsigned s = std::max(scale_, o.scale_);
    return Decimal(scaled_to(s) - o.scaled_to(s), s);
}

Decimal Decimal::operator*(const Decimal& o) const { return Decimal(m_ * o.m_, scale_ + o.scale_); }

std::strong_ordering Decimal::operator<=>(const Decimal& o) const {
    const unsigned s = std::max(scale_, o.scale_);
    const Int a = scaled_to(s), b = o.scaled_to(s);
    if (a < b) return std::strong_ordering::less;
    if (a > b) return std::strong_ordering::greater;
    return std::strong_ordering::equal;
}

Result<Decimal> Decimal::div_ceil(const Decimal& a, const Decimal& b, unsigned scale) {
    if (a.m_ < 0) return make_error(Errc::invalid_input, "cannot convert a negative amount");
    if (b.m_ <= 0) return make_error(Errc::invalid_input, "the rate must be greater than zero");
    // a/b * 10^scale = (ma * 10^(sb + scale)) / (mb * 10^sa)
    const Int num = a.m_ * pow10(b.scale_ + scale);
    const Int den = b.m_ * pow10(a.scale_);
    Int q = num / den;
    if (q * den != num) q += 1;
    return Decimal(std::move(q), scale);
}

Decimal Decimal::ceil_to(unsigned scale) const {
    if (scale >= scale_) return *this;
    const Int div = pow10(scale_ - scale);
    Int q = m_ / div;  // truncates towards zero
    if (q * div != m_ && m_ > 0) q += 1;
    return Decimal(std::move(q), scale);
}

Result<U256> Decimal::to_raw(unsigned decimals) const {
    if (m_ < 0) return make_error(Errc::invalid_input, "amount must not be negative");
    Int raw;
    if (decimals >= scale_) {
        raw = scaled_to(decimals);
    } else {
        const Int div = pow10(scale_ - decimals);
        if (m_ % div != 0)
            return make_error(Errc::invalid_input,
                              "amount has more decimals than the currency (" + std::to_string(decimals) + ")");
        raw = m_ / div;
    }
    auto v = u256_from_decimal(raw.str());
    if (!v) return make_error(Errc::invalid_input, "amount is too large");
    return *v;
}

}  // namespace depositd::orders
