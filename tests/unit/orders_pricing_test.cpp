// lib/orders: exact decimals, [orders].rate rules, fiat conversion rounded up,
// the unique amounts of mode "amount", and reading a rate source's answer.
#include <gtest/gtest.h>

#include "orders/decimal.hpp"
#include "orders/pricing.hpp"
#include "orders/rates.hpp"

using namespace depositd;
using namespace depositd::orders;

namespace {

Decimal D(const char* s) {
    auto d = Decimal::parse(s);
    EXPECT_TRUE(d.ok()) << s;
    return d.ok() ? *d : Decimal();
}

config::Config two_chains() {
    config::Config c;
    config::ChainConfig tron;
    tron.id = "tron";
    tron.kind = Protocol::tron;
    tron.native = {"TRX", "", 6};
    tron.tokens = {{"USDT", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", 6}};
    config::ChainConfig btc;
    btc.id = "bitcoin";
    btc.kind = Protocol::bitcoin;
    btc.native = {"BTC", "", 8};
    c.chains = {tron, btc};
    return c;
}

}  // namespace

TEST(OrdersDecimal, ParsesAndPrintsShortest) {
    EXPECT_EQ(D("70").to_string(), "70");
    EXPECT_EQ(D("70.50").to_string(), "70.5");
    EXPECT_EQ(D("0.001").to_string(), "0.001");
    EXPECT_EQ(D("000.10").to_string(), "0.1");
    EXPECT_EQ(D("0").to_string(), "0");
    for (const char* bad : {"", ".5", "5.", "-1", "+1", "1e5", "1,5", " 1", "1 ", "0x10", "1.2.3"})
        EXPECT_FALSE(Decimal::parse(bad).ok()) << bad;
    EXPECT_FALSE(Decimal::parse(std::string(61, '9')).ok());
}

TEST(OrdersDecimal, ArithmeticIsExact) {
    EXPECT_EQ((D("0.1") + D("0.2")).to_string(), "0.3");
    EXPECT_EQ((D("7.2") - D("0.1")).to_string(), "7.1");
    EXPECT_EQ((D("7.1234") * D("1.02")).to_string(), "7.265868");
    EXPECT_EQ((D("0.1") - D("0.3")).to_string(), "-0.2");
    EXPECT_TRUE(D("0.30") == D("0.3"));
    EXPECT_TRUE(D("0.31") > D("0.3"));
}

TEST(OrdersDecimal, DivisionRoundsUp) {
    EXPECT_EQ(Decimal::div_ceil(D("70"), D("7"), 2)->to_string(), "10");
    EXPECT_EQ(Decimal::div_ceil(D("100"), D("7.3"), 2)->to_string(), "13.7");    // 13.6986...
    EXPECT_EQ(Decimal::div_ceil(D("100"), D("7.3"), 4)->to_string(), "13.6987");
    EXPECT_EQ(Decimal::div_ceil(D("1"), D("3"), 0)->to_string(), "1");
    EXPECT_EQ(Decimal::div_ceil(D("0.01"), D("7.2"), 2)->to_string(), "0.01");
    EXPECT_FALSE(Decimal::div_ceil(D("1"), D("0"), 2).ok());
    EXPECT_EQ(D("1.001").ceil_to(2).to_string(), "1.01");
    EXPECT_EQ(D("1.000").ceil_to(2).to_string(), "1");
}

TEST(OrdersDecimal, RawUnitsAreExactOrRefused) {
    EXPECT_EQ(u256_to_decimal(*D("125.5").to_raw(6)), "125500000");
    EXPECT_EQ(u256_to_decimal(*D("10.50").to_raw(1)), "105");
    EXPECT_FALSE(D("0.0000001").to_raw(6).ok());
    EXPECT_EQ(Decimal::from_raw(U256(1234567), 6).to_string(), "1.234567");
}

TEST(OrdersDecimal, FromDoubleIsTheShortestRoundTrip) {
    // What Go's FormatFloat(v, 'f', -1, 64) prints (epusdt signs amounts so).
    EXPECT_EQ(Decimal::from_double(70.50)->to_string(), "70.5");
    EXPECT_EQ(Decimal::from_double(7.1234)->to_string(), "7.1234");
    EXPECT_EQ(Decimal::from_double(0.1)->to_string(), "0.1");
    EXPECT_EQ(Decimal::from_double(1e20)->to_string(), "100000000000000000000");
    EXPECT_FALSE(Decimal::from_double(-1).ok());
    // -0.0 prints as "-0"; its sign must not be read as a digit (it was -30).
    ASSERT_TRUE(Decimal::from_double(-0.0).ok());
    EXPECT_EQ(Decimal::from_double(-0.0)->to_string(), "0");
    EXPECT_TRUE(Decimal::from_double(-0.0)->is_zero());
    EXPECT_FALSE(Decimal::from_double(-0.0)->is_negative());
    EXPECT_EQ(Decimal::from_double(0.0)->to_string(), "0");
}

TEST(OrdersPricing, RateRules) {
    auto fixed = parse_rate_rule("7.4");
    ASSERT_TRUE(fixed.ok());
    EXPECT_FALSE(fixed->needs_base());
    EXPECT_EQ(effective_rate(*fixed, std::nullopt)->to_string(), "7.4");
    EXPECT_EQ(effective_rate(*parse_rate_rule("~1.02"), D("7.1"))->to_string(), "7.242");
    EXPECT_EQ(effective_rate(*parse_rate_rule("+0.3"), D("7.1"))->to_string(), "7.4");
    EXPECT_EQ(effective_rate(*parse_rate_rule("-0.1"), D("7.1"))->to_string(), "7");
    // A relative rule without a base rate is unavailable, never a guess.
    auto none = effective_rate(*parse_rate_rule("~1.02"), std::nullopt);
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().code, Errc::unavailable);
    EXPECT_FALSE(effective_rate(*parse_rate_rule("-8"), D("7.1")).ok());
    EXPECT_FALSE(parse_rate_rule("0").ok());
    EXPECT_FALSE(parse_rate_rule("~x").ok());
}

TEST(OrdersPricing, CurrenciesResolveCaseInsensitively) {
    auto c = two_chains();
    auto usdt = resolve_pay(c, "usdt.tron");
    ASSERT_TRUE(usdt.ok());
    EXPECT_EQ(usdt->symbol, "USDT");
    EXPECT_EQ(usdt->decimals, 6u);
    EXPECT_EQ(usdt->code(), "usdt.tron");
    EXPECT_TRUE(usdt->contract.has_value());
    auto trx = resolve_pay(c, "TRX.tron");
    ASSERT_TRUE(trx.ok());
    EXPECT_FALSE(trx->contract.has_value());
    EXPECT_FALSE(resolve_pay(c, "usdt.ethereum").ok());
    EXPECT_FALSE(resolve_pay(c, "usdc.tron").ok());
    EXPECT_FALSE(resolve_pay(c, "usdt").ok());
    EXPECT_TRUE(resolve_currency(c, "BTC", "bitcoin").ok());
}

TEST(OrdersPricing, FiatIsConvertedAndRoundedUp) {
    auto c = two_chains();
    c.orders.fiat = "CNY";
    c.orders.rate = "7.3";
    c.orders.precision = 2;
    auto usdt = *resolve_pay(c, "usdt.tron");
    auto p = price(c.orders, usdt, D("100"), true, std::nullopt);
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->amount.to_string(), "13.7");
    EXPECT_EQ(p->fiat_amount->to_string(), "100");
    EXPECT_EQ(p->rate->to_string(), "7.3");
    EXPECT_EQ(*p->fiat_currency, "CNY");
    // Precision never exceeds the currency's decimals.
    c.orders.precision = 10;
    EXPECT_EQ(price(c.orders, usdt, D("100"), true, std::nullopt)->amount.to_string(), "13.698631");
    // In the pay currency: exact, or refused.
    EXPECT_EQ(price(c.orders, usdt, D("12.345678"), false, std::nullopt)->amount.to_string(), "12.345678");
    EXPECT_FALSE(price(c.orders, usdt, D("12.3456789"), false, std::nullopt).ok());
    EXPECT_FALSE(price(c.orders, usdt, D("0"), false, std::nullopt).ok());
    // Relative rate: needs the base.
    c.orders.rate = "~1.02";
    auto stale = price(c.orders, usdt, D("100"), true, std::nullopt);
    ASSERT_FALSE(stale.ok());
    EXPECT_EQ(stale.error().code, Errc::unavailable);
    c.orders.precision = 2;
    EXPECT_EQ(price(c.orders, usdt, D("100"), true, D("7.1"))->amount.to_string(), "13.81");  // 100 / 7.242 = 13.808...
}

TEST(OrdersPricing, UniqueAmountsStepByOneCent) {
    std::set<U256> taken = {U256(10'000'000), U256(10'010'000)};
    EXPECT_EQ(u256_to_decimal(*unique_amount(U256(10'000'000), 6, taken)), "10020000");
    EXPECT_EQ(u256_to_decimal(*unique_amount(U256(9'000'000), 6, taken)), "9000000");
    EXPECT_EQ(u256_to_decimal(*unique_amount(U256(1000), 2, {U256(1000)})), "1001");
    EXPECT_EQ(u256_to_decimal(*unique_amount(U256(5), 0, {U256(5)})), "6");
    std::set<U256> full;
    for (int i = 0; i <= kMaxAmountSteps; ++i) full.insert(U256(1'000'000 + i * 10'000));
    EXPECT_FALSE(unique_amount(U256(1'000'000), 6, full).has_value());
}

TEST(OrdersRates, ReadsTheBaseRateAtItsPath) {
    EXPECT_EQ(rate_from_json(R"({"data":{"rates":{"CNY":7.1234}}})", "data.rates.CNY")->to_string(), "7.1234");
    EXPECT_EQ(rate_from_json(R"({"data":{"rates":{"CNY":"7.10"}}})", "data.rates.CNY")->to_string(), "7.1");
    EXPECT_EQ(rate_from_json(R"({"list":[{"p":7},{"p":8}]})", "list.1.p")->to_string(), "8");
    EXPECT_EQ(rate_from_json("7.25", "")->to_string(), "7.25");
    EXPECT_FALSE(rate_from_json(R"({"data":{}})", "data.rates.CNY").ok());
    EXPECT_FALSE(rate_from_json(R"({"r":"abc"})", "r").ok());
    EXPECT_FALSE(rate_from_json(R"({"r":0})", "r").ok());
    EXPECT_FALSE(rate_from_json(R"({"r":-7})", "r").ok());
    EXPECT_FALSE(rate_from_json("<html>", "r").ok());
}

TEST(OrdersRates, CacheRefusesAStaleRate) {
    RateCache cache;
    EXPECT_FALSE(cache.get(1000, std::chrono::seconds(60)).ok());
    cache.set(D("7.1"), 1000);
    EXPECT_EQ(cache.get(61'000, std::chrono::seconds(60))->to_string(), "7.1");
    cache.set_error("HTTP 500");
    auto stale = cache.get(61'001, std::chrono::seconds(60));
    ASSERT_FALSE(stale.ok());
    EXPECT_EQ(stale.error().code, Errc::unavailable);
    EXPECT_NE(stale.error().message.find("HTTP 500"), std::string::npos);
}

TEST(OrdersRates, MedianOfTheSources) {
    EXPECT_EQ(median({D("7.2")}).to_string(), "7.2");
    EXPECT_EQ(median({D("7.3"), D("0.01"), D("7.1")}).to_string(), "7.1");  // one hijacked feed does not move it
    EXPECT_EQ(median({D("7.3"), D("7.1"), D("7.2"), D("900")}).to_string(), "7.25");
    EXPECT_FALSE(rate_from_json(R"({"r":-0.0})", "r").ok());  // zero, not -30
}

TEST(OrdersRates, AMoveBeyondRateMaxChangeWaitsForASecondFetch) {
    RateCache cache;
    const std::uint32_t ten_percent = 100'000;
    EXPECT_EQ(cache.offer(D("7.0"), 1000, ten_percent), RateCache::Verdict::accepted);  // the first rate
    EXPECT_EQ(cache.offer(D("7.7"), 2000, ten_percent), RateCache::Verdict::accepted);  // exactly 10 %
    EXPECT_EQ(cache.offer(D("0.07"), 3000, ten_percent), RateCache::Verdict::refused);  // a hijacked feed
    EXPECT_EQ(cache.get(3000, std::chrono::seconds(60))->to_string(), "7.7");
    auto why = cache.get(200'000, std::chrono::seconds(60));
    ASSERT_FALSE(why.ok());
    EXPECT_NE(why.error().message.find("confirms"), std::string::npos) << why.error().message;
    EXPECT_EQ(cache.offer(D("7.8"), 4000, ten_percent), RateCache::Verdict::accepted);   // back to normal
    EXPECT_EQ(cache.offer(D("6.5"), 5000, ten_percent), RateCache::Verdict::refused);    // a real move...
    EXPECT_EQ(cache.get(5000, std::chrono::seconds(60))->to_string(), "7.8");
    EXPECT_EQ(cache.offer(D("6.51"), 6000, ten_percent), RateCache::Verdict::confirmed);  // ...confirmed
    EXPECT_EQ(cache.get(6000, std::chrono::seconds(60))->to_string(), "6.51");
    EXPECT_EQ(cache.offer(D("100"), 7000, 0), RateCache::Verdict::accepted);  // no guard
}
