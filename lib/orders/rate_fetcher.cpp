#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 false positive on Asio's coroutine frame allocator (GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include "orders/rate_fetcher.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "core/metrics.hpp"

namespace depositd::orders {
namespace asio = boost::asio;

namespace {

auto logger() {
    static auto l = log::get("orders");
    return l;
}

constexpr const char* kRefusedMetric = "depositd_rate_refused_total";
constexpr const char* kSourceErrorsMetric = "depositd_rate_source_errors_total";

// A source URL as it may be logged: no user:password, no query (API keys
// live there), no fragment.
std::string loggable(const std::string& url) {
    std::string out = url.substr(0, url.find_first_of("?#"));
    const auto scheme = out.find("://");
    if (scheme != std::string::npos) {
        const auto host_start = scheme + 3;
        const auto path = out.find('/', host_start);
        const auto at = out.rfind('@', path == std::string::npos ? std::string::npos : path);
        if (at != std::string::npos && at >= host_start) out.erase(host_start, at + 1 - host_start);
    }
    if (out.size() < url.size() && url.find('?') != std::string::npos) out += "?…";
    return out;
}

net::HttpRequest rate_request(const config::OrdersConfig::RateSource& src) {
    net::HttpRequest req;
    req.method = "GET";
    req.url = src.url;
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
      timer_(std::make_shared<asio::steady_timer>(std::move(executor))) {
    auto& m = metrics::Registry::global();
    m.describe(kRefusedMetric, "counter",
               "Base rates refused because they moved more than [orders].rate_max_change (until confirmed).");
    m.describe(kSourceErrorsMetric, "counter", "Failed fetches of a rate source.");
}

asio::awaitable<Status> RateFetcher::fetch_once() {
    // Every source, one after the other (a handful; each bounded by its
    // timeout); the base rate is the median of those that answered.
    std::vector<Decimal> rates;
    std::string errors;
    for (const auto& src : config_.rate_sources) {
        auto res = co_await http_.request(rate_request(src));
        Status out;
        if (!res) {
            out = make_error(Errc::transport, res.error().message);
        } else if (res->status != 200) {
            out = make_error(Errc::http_status, "HTTP " + std::to_string(res->status));
        } else if (auto rate = rate_from_json(res->body, src.path); !rate) {
            out = rate.error();
        } else {
            logger()->debug("rate source {}: {}", loggable(src.url), rate->to_string());
            rates.push_back(*rate);
            continue;
        }
        metrics::Registry::global().counter_add(kSourceErrorsMetric, {});
        if (!errors.empty()) errors += "; ";
        errors += loggable(src.url) + ": " + out.error().message;
    }
    if (rates.empty()) {
        cache_.set_error(errors.empty() ? "no rate source" : errors);
        co_return make_error(Errc::unavailable, errors.empty() ? "no rate source" : errors);
    }
    if (!errors.empty()) logger()->warn("rate sources failing ({} of {} answered): {}", rates.size(),
                                        config_.rate_sources.size(), errors);
    const Decimal base = median(rates);
    switch (cache_.offer(base, clock_.now_ms(), config_.rate_max_change_ppm)) {
        case RateCache::Verdict::accepted: logger()->debug("base rate {}", base.to_string()); break;
        case RateCache::Verdict::confirmed:
            logger()->warn("base rate {} accepted: a second fetch confirmed the move", base.to_string());
            break;
        case RateCache::Verdict::refused:
            metrics::Registry::global().counter_add(kRefusedMetric, {});
            logger()->warn("base rate {} refused: it moves more than rate_max_change ({}%) from the last accepted rate; "
                           "kept until a second fetch confirms it",
                           base.to_string(), Decimal::from_raw(config_.rate_max_change_ppm, 4).to_string());
            co_return make_error(Errc::malformed, "base rate " + base.to_string() + " refused by rate_max_change");
    }
    co_return Status{};
}

asio::awaitable<void> RateFetcher::run() {
    if (config_.rate_sources.empty()) co_return;
    int failures = 0;
    while (!stopping_) {
        auto s = co_await fetch_once();
        if (!s) {
            ++failures;
            if (failures == 1 || failures % 10 == 0)
                logger()->warn("base rate: {} (attempt {})", s.error().message, failures);
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
