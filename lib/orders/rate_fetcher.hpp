#pragma once
// The loop that keeps RateCache fresh from [orders].rate_source. Apart from
// the rest of lib/orders (library depositd_orders_loops, with the expiry loop): it is the
// only part that speaks HTTP, and only the daemon runs it.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "net/http_client.hpp"
#include "orders/rates.hpp"

namespace depositd::orders {

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
