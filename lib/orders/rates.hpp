#pragma once
// The base exchange rate of [orders].rate_source: fetched over HTTP(S),
// read at [orders].rate_path, cached. A rate older than rate_max_age (the
// source failing, or answering garbage) is no rate at all: new fiat orders
// are refused rather than priced with a guess.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

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
#include "net/http_client.hpp"
#include "orders/decimal.hpp"

namespace depositd::orders {

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

class RateFetcher {
public:
    RateFetcher(boost::asio::any_io_executor executor, net::HttpClient& http, const config::OrdersConfig& config,
                RateCache& cache, const Clock& clock);

    // Fetches now, then every rate_refresh, until stop().
    boost::asio::awaitable<void> run();
    void stop();
    // One fetch into the cache (tests call this directly).
    boost::asio::awaitable<Status> fetch_once();

private:
    net::HttpClient& http_;
    const config::OrdersConfig& config_;
    RateCache& cache_;
    const Clock& clock_;
    std::shared_ptr<boost::asio::steady_timer> timer_;
    bool stopping_ = false;
};

}  // namespace depositd::orders
