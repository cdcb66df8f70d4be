#include "orders/pricing.hpp"

#include <algorithm>

namespace depositd::orders {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace

std::string PayCurrency::code() const { return lower(symbol) + "." + chain_id; }

Result<PayCurrency> resolve_currency(const config::Config& cfg, std::string_view symbol, std::string_view chain_id) {
    const config::ChainConfig* chain = cfg.chain(std::string(chain_id));
    if (!chain) return make_error(Errc::invalid_input, "chain \"" + std::string(chain_id) + "\" is not configured");
    const std::string want = lower(symbol);
    PayCurrency c;
    c.chain_id = chain->id;
    c.protocol = chain->kind;
    if (lower(chain->native.symbol) == want) {
        c.symbol = chain->native.symbol;
        c.decimals = chain->native.decimals;
        return c;
    }
    for (const auto& t : chain->tokens)
        if (lower(t.symbol) == want) {
            c.symbol = t.symbol;
            c.contract = t.contract;
            c.decimals = t.decimals;
            return c;
        }
    return make_error(Errc::invalid_input,
                      "currency \"" + std::string(symbol) + "\" is not configured on chain \"" + chain->id + "\"");
}

Result<PayCurrency> resolve_pay(const config::Config& cfg, std::string_view pay) {
    const auto dot = pay.rfind('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == pay.size())
        return make_error(Errc::invalid_input, "pay must be <symbol>.<chainId>, e.g. \"usdt.tron\"");
    return resolve_currency(cfg, pay.substr(0, dot), lower(pay.substr(dot + 1)));
}

Result<RateRule> parse_rate_rule(std::string_view text) {
    RateRule r;
    if (!text.empty()) {
        switch (text.front()) {
            case '~': r.kind = RateRule::Kind::times; break;
            case '+': r.kind = RateRule::Kind::plus; break;
            case '-': r.kind = RateRule::Kind::minus; break;
            default: break;
        }
    }
    if (r.kind != RateRule::Kind::fixed) text.remove_prefix(1);
    auto v = Decimal::parse(text);
    if (!v) return make_error(Errc::invalid_input, "rate \"" + std::string(text) + "\": " + v.error().message);
    r.value = *v;
    if ((r.kind == RateRule::Kind::fixed || r.kind == RateRule::Kind::times) && r.value.is_zero())
        return make_error(Errc::invalid_input, "a rate must be greater than zero");
    return r;
}

Result<Decimal> effective_rate(const RateRule& rule, const std::optional<Decimal>& base) {
    Decimal rate;
    if (rule.kind == RateRule::Kind::fixed) {
        rate = rule.value;
    } else {
        if (!base) return make_error(Errc::unavailable, "no base rate");
        switch (rule.kind) {
            case RateRule::Kind::times: rate = *base * rule.value; break;
            case RateRule::Kind::plus: rate = *base + rule.value; break;
            case RateRule::Kind::minus: rate = *base - rule.value; break;
            case RateRule::Kind::fixed: break;
        }
    }
    if (rate.is_negative() || rate.is_zero())
        return make_error(Errc::unavailable, "the rate works out at " + rate.to_string() + ", not above zero");
    return rate;
}

Result<Price> price(const config::OrdersConfig& orders, const PayCurrency& currency, const Decimal& amount,
                    bool in_fiat, const std::optional<Decimal>& base_rate) {
    Price p;
    if (in_fiat) {
        if (orders.fiat.empty()) return make_error(Errc::invalid_input, "no fiat currency is configured ([orders].fiat)");
        auto rule = parse_rate_rule(orders.rate);
        if (!rule) return rule.error();
        auto rate = effective_rate(*rule, base_rate);
        if (!rate) return rate.error();
        auto converted = Decimal::div_ceil(amount, *rate, std::min(orders.precision, currency.decimals));
        if (!converted) return converted.error();
        p.amount = *converted;
        p.fiat_amount = amount;
        p.fiat_currency = orders.fiat;
        p.rate = *rate;
    } else {
        if (auto raw = amount.to_raw(currency.decimals); !raw)
            return make_error(Errc::invalid_input, "amount has more decimals than " + currency.symbol + " (" +
                                                       std::to_string(currency.decimals) + ")");
        p.amount = amount;
    }
    if (p.amount.is_zero() || p.amount.is_negative())
        return make_error(Errc::invalid_input, "amount must be greater than zero");
    if (auto raw = p.amount.to_raw(currency.decimals); !raw) return raw.error();
    return p;
}

U256 amount_step(unsigned decimals) {
    U256 step = 1;
    for (unsigned i = 2; i < decimals; ++i) step *= 10;  // 0.01 in base units (10^(decimals-2))
    return step;
}

std::optional<U256> unique_amount(const U256& wanted, unsigned decimals, const std::set<U256>& taken) {
    const U256 step = amount_step(decimals);
    U256 candidate = wanted;
    for (int i = 0; i <= kMaxAmountSteps; ++i) {
        if (!taken.count(candidate)) return candidate;
        try {
            candidate += step;
        } catch (const std::overflow_error&) {
            return std::nullopt;
        }
    }
    return std::nullopt;
}

}  // namespace depositd::orders
