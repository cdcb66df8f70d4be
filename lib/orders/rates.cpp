#include "orders/rates.hpp"

#include <algorithm>

#include "core/json.hpp"
#include "core/log.hpp"

namespace depositd::orders {

namespace {

}  // namespace

Result<Decimal> rate_from_json(std::string_view body, std::string_view path) {
    auto doc = json::parse_bounded(body, kMaxRateAnswerBytes);
    if (!doc) return make_error(Errc::malformed, "the rate source did not answer JSON");
    const json::value* at = &*doc;
    std::string walked;
    while (!path.empty()) {
        const auto dot = path.find('.');
        const std::string_view key = path.substr(0, dot);
        path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
        if (!walked.empty()) walked += '.';  // (not "." + key: GCC 12 -O3 warns -Wrestrict on it, PR 105329)
        walked.append(key);
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

Decimal median(std::vector<Decimal> rates) {
    std::sort(rates.begin(), rates.end());
    const std::size_t n = rates.size();
    if (n % 2 == 1) return rates[n / 2];
    static const Decimal half = *Decimal::parse("0.5");
    return (rates[n / 2 - 1] + rates[n / 2]) * half;
}

namespace {

// |rate - from| > from * ppm / 10^6, exactly.
bool moves_too_far(const Decimal& rate, const Decimal& from, std::uint32_t ppm) {
    Decimal diff = rate - from;
    if (diff.is_negative()) diff = Decimal() - diff;
    return diff * Decimal::from_int(1'000'000) > from * Decimal::from_int(ppm);
}

}  // namespace

void RateCache::set(const Decimal& rate, std::int64_t fetched_ms) {
    std::lock_guard lock(mu_);
    rate_ = rate;
    refused_.reset();
    fetched_ms_ = fetched_ms;
    last_error_.clear();
}

RateCache::Verdict RateCache::offer(const Decimal& rate, std::int64_t fetched_ms, std::uint32_t max_change_ppm) {
    std::lock_guard lock(mu_);
    Verdict v = Verdict::accepted;
    if (rate_ && max_change_ppm > 0 && moves_too_far(rate, *rate_, max_change_ppm)) {
        if (refused_ && !moves_too_far(rate, *refused_, max_change_ppm)) {
            v = Verdict::confirmed;
        } else {
            refused_ = rate;
            last_error_ = "rate " + rate.to_string() + " moves more than the allowed change from " + rate_->to_string() +
                          "; refused until a second fetch confirms it";
            return Verdict::refused;
        }
    }
    rate_ = rate;
    refused_.reset();
    fetched_ms_ = fetched_ms;
    last_error_.clear();
    return v;
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

}  // namespace depositd::orders
