#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 false positive on Asio's coroutine frame allocator (GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include "orders/rate_fetcher.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"

namespace depositd::orders {
namespace asio = boost::asio;

namespace {

auto logger() {
    static auto l = log::get("orders");
    return l;
}

net::HttpRequest rate_request(const config::OrdersConfig& c) {
    net::HttpRequest req;
    req.method = "GET";
    req.url = c.rate_source;
    req.timeout = std::chrono::seconds(10);
    req.max_response_bytes = kMaxRateAnswerBytes;
    req.headers.emplace_back("accept", "application/json");
    req.headers.emplace_back("user-agent", "depositd/" DEPOSITD_VERSION);
    return req;
}

}  // namespace

RateFetcher::RateFetcher(asio::any_io_executor executor, net::HttpClient& http, const config::OrdersConfig& config,
                         RateCache& cache, const Clock& clock)
    : http_(http),
      config_(config),
      cache_(cache),
      clock_(clock),
      timer_(std::make_shared<asio::steady_timer>(std::move(executor))) {}

asio::awaitable<Status> RateFetcher::fetch_once() {
    auto res = co_await http_.request(rate_request(config_));
    Status out;
    if (!res) {
        out = make_error(Errc::transport, res.error().message);
    } else if (res->status != 200) {
        out = make_error(Errc::http_status, "HTTP " + std::to_string(res->status));
    } else if (auto rate = rate_from_json(res->body, config_.rate_path); !rate) {
        out = rate.error();
    } else {
        cache_.set(*rate, clock_.now_ms());
        logger()->debug("base rate {}", rate->to_string());
        co_return out;
    }
    cache_.set_error(out.error().message);
    co_return out;
}

asio::awaitable<void> RateFetcher::run() {
    if (config_.rate_source.empty()) co_return;
    int failures = 0;
    while (!stopping_) {
        auto s = co_await fetch_once();
        if (!s) {
            ++failures;
            if (failures == 1 || failures % 10 == 0)
                logger()->warn("rate source {}: {} (attempt {})", config_.rate_source, s.error().message, failures);
        } else {
            if (failures) logger()->info("rate source recovered after {} failed attempts", failures);
            failures = 0;
        }
        if (stopping_) break;
        // After a failure retry sooner, so a short outage does not age the rate out.
        auto wait = failures ? std::min<std::chrono::milliseconds>(config_.rate_refresh, std::chrono::seconds(5))
                             : config_.rate_refresh;
        timer_->expires_after(wait);
        boost::system::error_code ec;
        co_await timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

void RateFetcher::stop() {
    stopping_ = true;
    timer_->cancel();
}

}  // namespace depositd::orders
