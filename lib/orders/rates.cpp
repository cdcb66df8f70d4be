#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 false positive on Asio's coroutine frame allocator (GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include "orders/rates.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/json.hpp"
#include "core/log.hpp"

namespace depositd::orders {
namespace asio = boost::asio;

namespace {

auto logger() {
    static auto l = log::get("orders");
    return l;
}

constexpr std::size_t kMaxRateAnswer = 1 << 20;

net::HttpRequest rate_request(const config::OrdersConfig& c) {
    net::HttpRequest req;
    req.method = "GET";
    req.url = c.rate_source;
    req.timeout = std::chrono::seconds(10);
    req.max_response_bytes = kMaxRateAnswer;
    req.headers.emplace_back("accept", "application/json");
    req.headers.emplace_back("user-agent", "depositd/" DEPOSITD_VERSION);
    return req;
}

}  // namespace

Result<Decimal> rate_from_json(std::string_view body, std::string_view path) {
    auto doc = json::parse_bounded(body, kMaxRateAnswer);
    if (!doc) return make_error(Errc::malformed, "the rate source did not answer JSON");
    const json::value* at = &*doc;
    std::string walked;
    while (!path.empty()) {
        const auto dot = path.find('.');
        const std::string_view key = path.substr(0, dot);
        path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
        walked += walked.empty() ? std::string(key) : "." + std::string(key);
        if (const auto* o = at->if_object()) {
            const auto it = o->find(key);
            if (it == o->end()) return make_error(Errc::malformed, "the rate source's answer has no " + walked);
            at = &it->value();
        } else if (const auto* a = at->if_array()) {
            std::size_t i = 0;
            bool digits = !key.empty() && key.size() < 10;
            for (char c : key) digits = digits && c >= '0' && c <= '9', i = i * 10 + static_cast<std::size_t>(c - '0');
            if (!digits || i >= a->size()) return make_error(Errc::malformed, "the rate source's answer has no " + walked);
            at = &(*a)[i];
        } else {
            return make_error(Errc::malformed, "the rate source's answer has no " + walked);
        }
    }
    Result<Decimal> rate = make_error(Errc::malformed, "");
    if (const auto* s = at->if_string()) rate = Decimal::parse(std::string_view(*s));
    else if (const auto* i = at->if_int64()) rate = *i >= 0 ? Result<Decimal>(Decimal::from_int(*i)) : make_error(Errc::malformed, "");
    else if (const auto* u = at->if_uint64()) rate = Decimal::parse(std::to_string(*u));
    else if (const auto* d = at->if_double()) rate = Decimal::from_double(*d);
    const std::string where = walked.empty() ? std::string("the rate source's answer") : walked;
    if (!rate) return make_error(Errc::malformed, where + " is not a number");
    if (rate->is_zero()) return make_error(Errc::malformed, where + " is zero");
    return rate;
}

void RateCache::set(const Decimal& rate, std::int64_t fetched_ms) {
    std::lock_guard lock(mu_);
    rate_ = rate;
    fetched_ms_ = fetched_ms;
    last_error_.clear();
}

void RateCache::set_error(std::string error) {
    std::lock_guard lock(mu_);
    last_error_ = std::move(error);
}

Result<Decimal> RateCache::get(std::int64_t now_ms, std::chrono::milliseconds max_age) const {
    std::lock_guard lock(mu_);
    std::string why;
    if (!rate_) why = "no exchange rate yet";
    else if (now_ms - fetched_ms_ > max_age.count())
        why = "the exchange rate is " + std::to_string((now_ms - fetched_ms_) / 1000) + " s old (rate_max_age " +
              std::to_string(max_age.count() / 1000) + " s)";
    if (why.empty()) return *rate_;
    if (!last_error_.empty()) why += "; last fetch: " + last_error_;
    return make_error(Errc::unavailable, why);
}

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
