#pragma once
// What an order pays in and how much (SPEC §8): the `<symbol>.<chainId>`
// currencies of the configuration, [orders].rate ("7.4" fixed, "~1.02"
// times the base rate, "+0.3" / "-0.1" added to it), conversion of fiat
// amounts rounded UP to [orders].precision, and the 0.01 steps of mode
// "amount". Exact decimals only.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "core/amount.hpp"
#include "core/ids.hpp"
#include "core/result.hpp"
#include "orders/decimal.hpp"

namespace depositd::orders {

// A currency an order can pay in.
struct PayCurrency {
    std::string chain_id;
    Protocol protocol = Protocol::evm;
    std::string symbol;                    // as configured ("USDT")
    std::optional<std::string> contract;   // token contract / mint; nullopt = native coin
    unsigned decimals = 0;
    // "usdt.tron": the form [orders].default and EPay's `type` use.
    std::string code() const;
};

// "<symbol>.<chainId>" (case-insensitive symbol) -> the configured currency.
Result<PayCurrency> resolve_pay(const config::Config& cfg, std::string_view pay);
// The same from a symbol and a chain id ("USDT", "tron"), as payment links name them.
Result<PayCurrency> resolve_currency(const config::Config& cfg, std::string_view symbol, std::string_view chain_id);

// [orders].rate.
struct RateRule {
    enum class Kind { fixed, times, plus, minus };
    Kind kind = Kind::fixed;
    Decimal value;
    bool needs_base() const { return kind != Kind::fixed; }
};
Result<RateRule> parse_rate_rule(std::string_view text);
// The rate (fiat per unit of the pay currency) under `rule`; `base` is the
// base rate when the rule needs one. Errc::unavailable without it; the
// result must be > 0.
Result<Decimal> effective_rate(const RateRule& rule, const std::optional<Decimal>& base);

struct Price {
    Decimal amount;                        // in the pay currency
    std::optional<Decimal> fiat_amount;    // as given, when priced in fiat
    std::optional<std::string> fiat_currency;
    std::optional<Decimal> rate;
};
// `amount` in fiat (in_fiat) is divided by the rate and rounded up to
// min(precision, currency decimals); in the pay currency it must fit the
// currency's decimals exactly. The result is > 0.
Result<Price> price(const config::OrdersConfig& orders, const PayCurrency& currency, const Decimal& amount,
                    bool in_fiat, const std::optional<Decimal>& base_rate);

// Mode "amount": `wanted` raised by the smallest number of 0.01 steps (one
// base unit for currencies with fewer than 2 decimals) that no open order
// in `taken` uses, trying at most kMaxAmountSteps steps.
inline constexpr int kMaxAmountSteps = 100;
std::optional<U256> unique_amount(const U256& wanted, unsigned decimals, const std::set<U256>& taken);
// The step of unique_amount in base units.
U256 amount_step(unsigned decimals);

}  // namespace depositd::orders
