// lib/config: [orders], [merchant] and [api].public_url (SPEC §3), each
// problem located at file:line:key.
#include "config/config.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace depositd;
using namespace depositd::config;
using namespace std::chrono_literals;

namespace {

const char* kMerchantKey = "merchant-key-0123456789abcdef0123";  // 34 characters
std::string env(const std::string& name) { return name == "MERCHANT_KEY" ? kMerchantKey : ""; }

// Lines 1-14: a valid base with a TRON and an EVM chain.
const std::string kBase = R"toml([api]
keys = ["0123456789abcdef"]

[[chains]]
id = "tron"
kind = "tron"
rpc = ["http://127.0.0.1:9090"]
confirmations = 19
native = { symbol = "TRX", decimals = 6 }
tokens = [ { symbol = "USDT", contract = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", decimals = 6 } ]

[[chains]]
id = "eth"
kind = "evm"
rpc = ["http://127.0.0.1:8545"]
confirmations = 3
native = { symbol = "ETH", decimals = 18 }
tokens = [ { symbol = "USDT", contract = "0xdAC17F958D2ee523a2206206994597C13D831ec7", decimals = 6 } ]
)toml";
constexpr int kBaseLines = 18;

LoadResult load(const std::string& extra) { return load_string(kBase + extra, "depositd.toml", &env); }

std::string all(const LoadResult& r) {
    std::string out;
    for (const auto& p : r.problems) out += p.to_string() + "\n";
    return out;
}

// Exactly one problem at line (counted from the first line of `extra`) and key.
void expect_one(const std::string& extra, int line, const std::string& key, const std::string& fragment = "") {
    SCOPED_TRACE(extra);
    const LoadResult r = load(extra);
    EXPECT_FALSE(r.config.has_value());
    ASSERT_EQ(r.problems.size(), 1u) << all(r);
    EXPECT_EQ(r.problems[0].line, kBaseLines + line) << r.problems[0].to_string();
    EXPECT_EQ(r.problems[0].key, key) << r.problems[0].to_string();
    EXPECT_NE(r.problems[0].message.find(fragment), std::string::npos) << r.problems[0].to_string();
}

}  // namespace

TEST(ConfigOrders, SpecExampleParses) {
    const LoadResult r = load(R"toml(
[orders]
default  = "usdt.tron"
expiry   = "30m"
mode     = "address"
fiat   = "CNY"
rate   = "7.4"
precision = 2

[merchant]
pid = 1001
key = "${MERCHANT_KEY}"
)toml");
    ASSERT_TRUE(r.config.has_value()) << all(r);
    const auto& o = r.config->orders;
    EXPECT_EQ(o.default_pay, "usdt.tron");
    EXPECT_EQ(o.expiry, 30min);
    EXPECT_EQ(o.mode, OrdersConfig::Mode::address);
    EXPECT_EQ(o.fiat, "CNY");
    EXPECT_EQ(o.rate, "7.4");
    EXPECT_EQ(o.precision, 2u);
    EXPECT_EQ(o.cooldown, std::optional<Duration>(24h));
    EXPECT_TRUE(r.config->merchant.enabled);
    EXPECT_EQ(r.config->merchant.pid, 1001);
    EXPECT_EQ(r.config->merchant.key, kMerchantKey);
    EXPECT_FALSE(r.config->merchant.allow_private_notify);
}

TEST(ConfigOrders, AbsentTablesMeanDefaults) {
    const LoadResult r = load("");
    ASSERT_TRUE(r.config.has_value()) << all(r);
    EXPECT_FALSE(r.config->merchant.enabled);
    EXPECT_TRUE(r.config->orders.default_pay.empty());
    EXPECT_EQ(r.config->orders.mode, OrdersConfig::Mode::address);
    EXPECT_TRUE(r.config->api.public_url.empty());
}

TEST(ConfigOrders, AmountModeWithReceiveAndRelativeRate) {
    const LoadResult r = load(R"toml(
[orders]
default = "USDT.eth"
mode = "amount"
receive = { tron = "TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL", eth = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" }
fiat = "CNY"
rate = "~1.02"
rate_source = "https://rates.example/usdt"
rate_path = "data.rates.CNY"
rate_refresh = "30s"
rate_max_age = "5m"
cooldown = "never"
)toml");
    ASSERT_TRUE(r.config.has_value()) << all(r);
    const auto& o = r.config->orders;
    EXPECT_EQ(o.default_pay, "usdt.eth");
    EXPECT_EQ(o.mode, OrdersConfig::Mode::amount);
    EXPECT_EQ(o.receive.size(), 2u);
    EXPECT_EQ(o.receive.at("eth"), "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    EXPECT_EQ(o.receive_source.at("eth"), "depositd.toml:" + std::to_string(kBaseLines + 5));
    EXPECT_EQ(o.rate_source, "https://rates.example/usdt");
    EXPECT_EQ(o.rate_path, "data.rates.CNY");
    EXPECT_EQ(o.rate_refresh, 30s);
    EXPECT_EQ(o.rate_max_age, 5min);
    EXPECT_FALSE(o.cooldown.has_value());
}

TEST(ConfigOrders, ProblemsAreLocated) {
    expect_one("\n[orders]\ndefault = \"usdc.tron\"\n", 3, "orders.default", "not a configured currency");
    expect_one("\n[orders]\nmode = \"fast\"\n", 3, "orders.mode", "address or amount");
    expect_one("\n[orders]\nexpiry = \"2d\"\n", 3, "orders.expiry");
    expect_one("\n[orders]\nexpiry = \"25h\"\n", 3, "orders.expiry", "1s to 24h");
    expect_one("\n[orders]\nmode = \"amount\"\n", 3, "orders.receive", "shared addresses");
    expect_one("\n[orders]\nreceive = { btc = \"x\" }\n", 3, "orders.receive.btc", "not a configured chain");
    expect_one("\n[orders]\nreceive = { eth = \"0x123\" }\n", 3, "orders.receive.eth", "not a valid address");
    expect_one("\n[orders]\nfiat = \"CNY\"\n", 3, "orders.rate", "required with orders.fiat");
    expect_one("\n[orders]\nfiat = \"cny\"\nrate = \"7\"\n", 3, "orders.fiat", "capitals");
    expect_one("\n[orders]\nfiat = \"CNY\"\nrate = \"7,2\"\n", 4, "orders.rate", "not a rate");
    expect_one("\n[orders]\nfiat = \"CNY\"\nrate = \"~1.02\"\n", 4, "orders.rate_source", "relative rate");
    expect_one("\n[orders]\nfiat = \"CNY\"\nrate = \"7\"\nrate_source = \"https://r.example\"\n", 5,
               "orders.rate_source", "fixed rate needs none");
    expect_one("\n[orders]\nprecision = 30\n", 3, "orders.precision");
    expect_one("\n[orders]\nrate_path = \"a..b\"\n", 3, "orders.rate_path");
    expect_one("\n[orders]\nwhatever = 1\n", 3, "orders.whatever", "unknown key");
    expect_one("\n[merchant]\npid = 1001\n", 2, "merchant.key", "required");
    expect_one("\n[merchant]\npid = 0\nkey = \"${MERCHANT_KEY}\"\n", 3, "merchant.pid");
    expect_one("\n[merchant]\npid = 1\nkey = \"short\"\n", 4, "merchant.key", "32 to 256");
    expect_one("\n[merchant]\npid = 1\nkey = \"${NOT_SET}\"\n", 4, "merchant.key", "NOT_SET");
}

TEST(ConfigOrders, PublicUrl) {
    const LoadResult ok = load_string("[api]\nkeys = [\"0123456789abcdef\"]\npublic_url = \"https://pay.example/\"\n" +
                                          kBase.substr(kBase.find("[[chains]]")),
                                      "depositd.toml", &env);
    ASSERT_TRUE(ok.config.has_value()) << all(ok);
    EXPECT_EQ(ok.config->api.public_url, "https://pay.example");
    const LoadResult bad = load_string("[api]\nkeys = [\"0123456789abcdef\"]\npublic_url = \"pay.example\"\n" +
                                           kBase.substr(kBase.find("[[chains]]")),
                                       "depositd.toml", &env);
    ASSERT_EQ(bad.problems.size(), 1u) << all(bad);
    EXPECT_EQ(bad.problems[0].key, "api.public_url");
    EXPECT_EQ(bad.problems[0].line, 3);
}

// Issue 18: keys of the merchant side under abuse, rates and block clocks.
TEST(ConfigOrders, MerchantKeyNeeds32CharactersAndSaysHowToMakeOne) {
    expect_one("\n[merchant]\npid = 1\nkey = \"0123456789abcdefghij\"\n", 4, "merchant.key", "openssl rand -hex 16");
    expect_one("\n[merchant]\npid = 1\nkey = \"" + std::string(31, 'k') + "\"\n", 4, "merchant.key", "32 to 256");
    const LoadResult ok = load("\n[merchant]\npid = 1\nkey = \"" + std::string(32, 'k') + "\"\nallow_private_notify = true\n");
    ASSERT_TRUE(ok.config.has_value()) << all(ok);
    EXPECT_TRUE(ok.config->merchant.allow_private_notify);
    expect_one("\n[merchant]\npid = 1\nkey = \"${MERCHANT_KEY}\"\nallow_private_notify = \"yes\"\n", 5,
               "merchant.allow_private_notify", "true or false");
}

TEST(ConfigOrders, RoundFourOrdersKeys) {
    const LoadResult d = load("\n[orders]\nfiat = \"CNY\"\nrate = \"~1\"\nrate_source = \"https://r.example/x?key=1\"\n");
    ASSERT_TRUE(d.config.has_value()) << all(d);
    const auto& o = d.config->orders;
    EXPECT_EQ(o.open_per_client, 3u);
    EXPECT_EQ(o.amount_hold, 1h);
    EXPECT_EQ(o.rate_max_change_ppm, 100'000u);  // 10 %
    ASSERT_EQ(o.rate_sources.size(), 1u);
    EXPECT_EQ(o.rate_sources[0].url, "https://r.example/x?key=1");

    const LoadResult r = load(R"toml(
[orders]
fiat = "CNY"
rate = "~1"
rate_sources = [ { url = "https://a.example/usdt", path = "data.CNY" },
                 { url = "https://b.example/usdt" },
                 { url = "http://127.0.0.1:9/rate", path = "cny" } ]
rate_max_change = "2.5%"
amount_hold = "3h"
open_per_client = 5
)toml");
    ASSERT_TRUE(r.config.has_value()) << all(r);
    const auto& p = r.config->orders;
    ASSERT_EQ(p.rate_sources.size(), 3u);
    EXPECT_EQ(p.rate_sources[0].path, "data.CNY");
    EXPECT_EQ(p.rate_sources[1].path, "");
    EXPECT_EQ(p.rate_sources[2].url, "http://127.0.0.1:9/rate");
    EXPECT_EQ(p.rate_source, "https://a.example/usdt");
    EXPECT_EQ(p.rate_max_change_ppm, 25'000u);
    EXPECT_EQ(p.amount_hold, 3h);
    EXPECT_EQ(p.open_per_client, 5u);
    EXPECT_EQ(load("\n[orders]\nrate_max_change = 0.05\n").config->orders.rate_max_change_ppm, 50'000u);
    EXPECT_EQ(load("\n[orders]\nrate_max_change = 0\n").config->orders.rate_max_change_ppm, 0u);

    const std::string relative = "\n[orders]\nfiat = \"CNY\"\nrate = \"~1\"\n";
    expect_one(relative + "rate_source = \"http://rates.example/usdt\"\n", 5, "orders.rate_source", "https://");
    expect_one(relative + "rate_sources = [ { url = \"http://10.0.0.1/usdt\" } ]\n", 5, "orders.rate_sources[0].url",
               "https://");
    expect_one(relative + "rate_sources = [ { path = \"x\" } ]\n", 5, "orders.rate_sources[0].url", "required");
    expect_one(relative + "rate_source = \"https://a.example\"\nrate_sources = [ { url = \"https://b.example\" } ]\n", 6,
               "orders.rate_sources", "not both");
    expect_one(relative + "rate_sources = [ { url = \"https://b.example\", bogus = 1 } ]\n", 5,
               "orders.rate_sources[0].bogus", "unknown key");
    expect_one("\n[orders]\nrate_max_change = \"ten\"\n", 3, "orders.rate_max_change", "percentage");
    expect_one("\n[orders]\nrate_max_change = 2\n", 3, "orders.rate_max_change", "percentage");
    expect_one("\n[orders]\nopen_per_client = 0\n", 3, "orders.open_per_client");
    expect_one("\n[orders]\namount_hold = \"soon\"\n", 3, "orders.amount_hold");
}

TEST(ConfigOrders, AttributionSkewDefaultsPerKindAndCooldownsMustCoverIt) {
    const LoadResult d = load("");
    ASSERT_TRUE(d.config.has_value()) << all(d);
    EXPECT_EQ(d.config->chains[0].attribution_skew, 2min);  // tron
    EXPECT_EQ(d.config->chains[1].attribution_skew, 2min);  // evm
    const std::string btc = "\n[[chains]]\nid = \"btc\"\nkind = \"bitcoin\"\nrpc = [\"http://u:p@127.0.0.1:8332/\"]\n"
                            "confirmations = 3\nnative = { symbol = \"BTC\", decimals = 8 }\n";
    const LoadResult b = load(btc);
    ASSERT_TRUE(b.config.has_value()) << all(b);
    EXPECT_EQ(b.config->chains[2].attribution_skew, 2h);

    // Cooldowns shorter than the widest skew are refused, naming the chain.
    expect_one("\n[pool]\ncooldown = \"1m\"\n", 3, "pool.cooldown", "attribution_skew of chain");
    expect_one("\n[orders]\ncooldown = \"90s\"\n", 3, "orders.cooldown", "at least 2m");
    expect_one(btc + "\n[pool]\ncooldown = \"1h\"\n", 10, "pool.cooldown", "chain \"btc\" (2h)");
    EXPECT_TRUE(load("\n[pool]\ncooldown = \"2m\"\n").config.has_value());
    EXPECT_TRUE(load("\n[pool]\ncooldown = \"never\"\n").config.has_value());
    EXPECT_TRUE(load(btc + "\n[pool]\ncooldown = \"2h\"\n").config.has_value());

    // A chain may narrow (or widen) its skew; then shorter cooldowns are fine.
    std::string narrow = kBase;
    for (std::size_t at = 0; (at = narrow.find("confirmations = ", at)) != std::string::npos; at += 40)
        narrow.insert(at, "attribution_skew = \"5s\"\n");
    const LoadResult n = load_string(narrow + "\n[pool]\ncooldown = \"10s\"\n", "depositd.toml", &env);
    ASSERT_TRUE(n.config.has_value()) << all(n);
    EXPECT_EQ(n.config->chains[0].attribution_skew, 5s);
    EXPECT_EQ(n.config->chains[1].attribution_skew, 5s);
    const LoadResult bad = load_string(narrow + "\n[pool]\ncooldown = \"1s\"\n", "depositd.toml", &env);
    ASSERT_EQ(bad.problems.size(), 1u) << all(bad);
    EXPECT_EQ(bad.problems[0].key, "pool.cooldown");
}

TEST(ConfigOrders, TrustedProxies) {
    const std::string chains = kBase.substr(kBase.find("[[chains]]"));
    const LoadResult ok = load_string(
        "[api]\nkeys = [\"0123456789abcdef\"]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"::1\", \"fd00::/8\"]\n" +
            chains, "depositd.toml", &env);
    ASSERT_TRUE(ok.config.has_value()) << all(ok);
    EXPECT_EQ(ok.config->api.trusted_proxies.size(), 4u);
    const LoadResult bad = load_string(
        "[api]\nkeys = [\"0123456789abcdef\"]\ntrusted_proxies = [\"10.0.0.0/33\", \"proxy.example\"]\n" + chains,
        "depositd.toml", &env);
    ASSERT_EQ(bad.problems.size(), 2u) << all(bad);
    EXPECT_EQ(bad.problems[0].key, "api.trusted_proxies[0]");
    EXPECT_EQ(bad.problems[1].key, "api.trusted_proxies[1]");
}
