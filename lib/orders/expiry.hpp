#pragma once
// The loop that expires orders at their expiresAt (SPEC §8). Expiry is
// persisted in the orders table, so orders that expired while the daemon
// was down expire on the first pass after a start.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "store/store.hpp"

namespace depositd::orders {

class Expirer {
public:
    Expirer(boost::asio::any_io_executor executor, store::Store& store, const config::Config& cfg, const Clock& clock);

    // Called after a pass expired orders (their order.expired events are in the outbox).
    void on_expired(std::function<void()> fn) { on_expired_ = std::move(fn); }
    void set_interval(std::chrono::milliseconds d) { interval_ = d; }

    // One pass now, then one every interval (1 s), until stop().
    boost::asio::awaitable<void> run();
    void stop();

private:
    store::Store& store_;
    const config::Config& cfg_;
    const Clock& clock_;
    std::function<void()> on_expired_;
    std::chrono::milliseconds interval_{1000};
    std::shared_ptr<boost::asio::steady_timer> timer_;
    bool stopping_ = false;
};

}  // namespace depositd::orders
