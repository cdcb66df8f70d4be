#pragma once
// The base exchange rate of [orders].rate_source (fetched by RateFetcher,
// orders/rate_fetcher.hpp, over HTTP(S)),
// read at [orders].rate_path, cached. A rate older than rate_max_age (the
// source failing, or answering garbage) is no rate at all: new fiat orders
// are refused rather than priced with a guess.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

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

// Shared between the fetcher (writer) and the API threads (readers).
class RateCache {
public:
    void set(const Decimal& rate, std::int64_t fetched_ms);
    void set_error(std::string error);
    // The cached base rate when it is at most max_age old; otherwise
    // Errc::unavailable saying why (never fetched, too old, last error).
    Result<Decimal> get(std::int64_t now_ms, std::chrono::milliseconds max_age) const;

private:
    mutable std::mutex mu_;
    std::optional<Decimal> rate_;
    std::int64_t fetched_ms_ = 0;
    std::string last_error_;
};


}  // namespace depositd::orders
