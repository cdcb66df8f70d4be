#pragma once
// The base exchange rate of [orders].rate_source / rate_sources (fetched by
// RateFetcher, orders/rate_fetcher.hpp, over HTTPS; the median of the
// sources that answered), read at each source's path, cached. A rate older
// than rate_max_age (the sources failing, or answering garbage) is no rate
// at all: new fiat orders are refused rather than priced with a guess. A
// new rate that moves more than rate_max_change from the last accepted one
// is refused until a second fetch confirms it (a hijacked feed cannot price
// orders near zero in one answer).
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "orders/decimal.hpp"

namespace depositd::orders {

// The largest rate-source answer read.
inline constexpr std::size_t kMaxRateAnswerBytes = 1 << 20;

// The number at `path` ("data.rates.CNY"; array elements by index, "" = the
// whole document) of a JSON document: a JSON number or a decimal string,
// greater than zero.
Result<Decimal> rate_from_json(std::string_view body, std::string_view path);

// The median of the rates (the mean of the two middle ones for an even
// count); `rates` must not be empty.
Decimal median(std::vector<Decimal> rates);

// Shared between the fetcher (writer) and the API threads (readers).
class RateCache {
public:
    void set(const Decimal& rate, std::int64_t fetched_ms);
    // A freshly fetched base rate under the rate_max_change guard
    // (max_change_ppm of the last accepted rate; 0 = no guard):
    //  accepted   the first rate, or one within the bound: now the rate
    //  confirmed  out of bounds last time, and this one is within the bound
    //             of that refused one: the move is real, now the rate
    //  refused    out of bounds: the last accepted rate stays (and ages)
    enum class Verdict { accepted, confirmed, refused };
    Verdict offer(const Decimal& rate, std::int64_t fetched_ms, std::uint32_t max_change_ppm);
    void set_error(std::string error);
    // The cached base rate when it is at most max_age old; otherwise
    // Errc::unavailable saying why (never fetched, too old, last error).
    Result<Decimal> get(std::int64_t now_ms, std::chrono::milliseconds max_age) const;

private:
    mutable std::mutex mu_;
    std::optional<Decimal> rate_;
    std::optional<Decimal> refused_;  // the last rate refused by the guard
    std::int64_t fetched_ms_ = 0;
    std::string last_error_;
};


}  // namespace depositd::orders
