#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 false positive on Asio's coroutine frame allocator (GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include "orders/expiry.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "orders/orders.hpp"
#include "store/async.hpp"

namespace depositd::orders {
namespace asio = boost::asio;

Expirer::Expirer(asio::any_io_executor executor, store::Store& store, const config::Config& cfg, const Clock& clock)
    : store_(store), cfg_(cfg), clock_(clock), timer_(std::make_shared<asio::steady_timer>(std::move(executor))) {}

asio::awaitable<void> Expirer::run() {
    int failures = 0;
    while (!stopping_) {
        // On the writer thread: this loop runs beside the network.
        const std::int64_t now = clock_.now_ms();
        const config::Config& cfg = cfg_;
        auto n = co_await store::async_write(store_, [&cfg, now](store::Database& db) { return expire_due(db, cfg, now); });
        if (!n) {
            if (failures++ % 60 == 0) log::get("orders")->error("cannot expire orders: {}", n.error().describe());
        } else {
            failures = 0;
            if (*n > 0 && on_expired_) on_expired_();
        }
        if (stopping_) break;
        timer_->expires_after(interval_);
        boost::system::error_code ec;
        co_await timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

void Expirer::stop() {
    stopping_ = true;
    timer_->cancel();
}

}  // namespace depositd::orders
