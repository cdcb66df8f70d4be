#include <gtest/gtest.h>

#include "core/amount.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/metrics.hpp"

using namespace depositd;

namespace {
const std::string kMax = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
}

TEST(Amount, ZeroFormats) {
    EXPECT_EQ(Amount(0, 18).to_string(), "0");
    EXPECT_EQ(Amount(0, 0).to_string(), "0");
    EXPECT_EQ(Amount::from_raw_decimal("0", 6)->to_string(), "0");
}

TEST(Amount, SixAndEighteenDecimals) {
    EXPECT_EQ(Amount::from_raw_decimal("125500000", 6)->to_string(), "125.5");
    EXPECT_EQ(Amount::from_raw_decimal("1", 6)->to_string(), "0.000001");
    EXPECT_EQ(Amount::from_raw_decimal("1000000", 6)->to_string(), "1");
    EXPECT_EQ(Amount::from_raw_decimal("1000000000000000005", 18)->to_string(), "1.000000000000000005");
    EXPECT_EQ(Amount::from_raw_decimal("298288547486664359936", 18)->to_string(), "298.288547486664359936");
    EXPECT_EQ(Amount::parse_decimal("125.5", 6)->raw_string(), "125500000");
    EXPECT_EQ(Amount::parse_decimal("0.000001", 6)->raw_string(), "1");
    EXPECT_EQ(Amount::parse_decimal("7", 18)->raw_string(), "7000000000000000000");
}

TEST(Amount, MaxU256RoundTrips) {
    auto a = Amount::from_raw_decimal(kMax, 0);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->to_string(), kMax);
    auto h = u256_from_hex("0x" + std::string(64, 'f'));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(u256_to_decimal(*h), kMax);
    auto with18 = Amount::from_raw_decimal(kMax, 18);
    EXPECT_EQ(with18->to_string(), kMax.substr(0, kMax.size() - 18) + "." + kMax.substr(kMax.size() - 18));
}

TEST(Amount, OverflowIsRejected) {
    EXPECT_FALSE(u256_from_decimal("115792089237316195423570985008687907853269984665640564039457584007913129639936").ok());
    EXPECT_FALSE(u256_from_decimal(std::string(79, '9')).ok());
    EXPECT_FALSE(u256_from_hex("0x1" + std::string(64, '0')).ok());
    EXPECT_TRUE(u256_from_hex("0x" + std::string(100, '0') + "1").ok());  // leading zeros are fine
    std::vector<std::uint8_t> too_long(33, 1);
    EXPECT_FALSE(u256_from_be_bytes(too_long).ok());
    U256 max = ~U256(0);
    EXPECT_THROW(max += 1, std::overflow_error);  // checked arithmetic never wraps
}

TEST(Amount, GarbageIsRejected) {
    for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1e5", "0x10", "1.5", "abc", "1,000"})
        EXPECT_FALSE(u256_from_decimal(bad).ok()) << bad;
    for (const char* bad : {"", "0x", "0xg", "0x-1", "zz"}) EXPECT_FALSE(u256_from_hex(bad).ok()) << bad;
    for (const char* bad : {"", ".5", "5.", "1.2.3", "1.0000001", "-1", "1e3", "one"})
        EXPECT_FALSE(Amount::parse_decimal(bad, 6).ok()) << bad;
    EXPECT_FALSE(Amount::from_raw_decimal("1", 78).ok());
}

TEST(Amount, HexAndBytes) {
    EXPECT_EQ(u256_to_hex(0), "0x0");
    EXPECT_EQ(u256_to_hex(255), "0xff");
    std::vector<std::uint8_t> word(32, 0);
    word[29] = 0x01;
    word[30] = 0x4b;
    word[31] = 0x50;
    EXPECT_EQ(u256_to_decimal(*u256_from_be_bytes(word)), "84816");
    EXPECT_EQ(u256_to_decimal(*u256_from_hex("0x014b5067")), "21712999");
}

TEST(Ids, DeterministicAndDistinct) {
    auto a = deposit_id("ethereum", "0xabc", 7, "0xblock");
    EXPECT_EQ(a, deposit_id("ethereum", "0xabc", 7, "0xblock"));
    EXPECT_EQ(a.rfind("dep_", 0), 0u);
    EXPECT_EQ(a.size(), 28u);
    EXPECT_NE(a, deposit_id("ethereum", "0xabc", 7, "0xother"));
    EXPECT_NE(a, deposit_id("bsc", "0xabc", 7, "0xblock"));
    EXPECT_NE(a, deposit_id("ethereum", "0xabc", 70, "0xblock"));
    EXPECT_NE(event_id(a, "deposit.pending"), event_id(a, "deposit.confirmed"));
    EXPECT_EQ(event_id(a, "deposit.pending").rfind("evt_", 0), 0u);
    Protocol p;
    EXPECT_TRUE(parse_protocol("tron", p));
    EXPECT_EQ(p, Protocol::tron);
    EXPECT_FALSE(parse_protocol("TRON", p));
}

TEST(Clock, Rfc3339AndManualClock) {
    EXPECT_EQ(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(format_rfc3339_ms(1614265330123), "2021-02-25T15:02:10.123Z");
    ManualClock c(1000);
    c.advance(std::chrono::minutes(60));
    EXPECT_EQ(c.now_ms(), 1000 + 3'600'000);
}

TEST(Metrics, PrometheusText) {
    metrics::Registry r;
    r.describe("depositd_x_total", "counter", "things");
    r.counter_add("depositd_x_total", {{"chain", "eth"}}, 2);
    r.observe("depositd_rpc_seconds", {{"method", "eth_getLogs"}}, 0.02);
    auto text = r.render();
    EXPECT_NE(text.find("# TYPE depositd_x_total counter"), std::string::npos);
    EXPECT_NE(text.find("depositd_x_total{chain=\"eth\"} 2"), std::string::npos);
    EXPECT_NE(text.find("depositd_rpc_seconds_bucket{method=\"eth_getLogs\",le=\"0.025\"} 1"), std::string::npos);
    EXPECT_NE(text.find("depositd_rpc_seconds_count{method=\"eth_getLogs\"} 1"), std::string::npos);
}

// Label values are escaped as the exposition format says: backslash, double
// quote and newline; labels keep their order; the same set adds up.
TEST(Metrics, LabelsEscapedInOrder) {
    metrics::Registry r;
    r.counter_add("depositd_y_total", {{"b", "a\\b\"c\nd"}, {"a", "x"}});
    r.counter_add("depositd_y_total", {{"b", "a\\b\"c\nd"}, {"a", "x"}}, 2);
    r.gauge_set("depositd_z", {}, 5);
    auto text = r.render();
    EXPECT_NE(text.find("depositd_y_total{b=\"a\\\\b\\\"c\\nd\",a=\"x\"} 3\n"), std::string::npos) << text;
    EXPECT_NE(text.find("depositd_z 5\n"), std::string::npos) << text;
}
