// lib/config: to_toml() (--print-config) — the effective configuration as
// TOML that loads back to the same configuration, with every secret written
// literally masked and the mask accepted by Reader::check only.
#include "config/config.hpp"
#include "config/print.hpp"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>

using namespace depositd;
using namespace depositd::config;
using namespace std::chrono_literals;

namespace {

std::string env(const std::string& name) {
    static const std::map<std::string, std::string> vars = {
        {"API_KEY", "env-api-key-0123456789abcdef"},
        {"WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
        {"OLD_SECRET", "whsec_AAECAwQFBgcICQoLDA0ODw=="},
        {"RPC_KEY", "rpc-secret-key-42"},
        {"TRONGRID_KEY", "trongrid-secret-value"},
        {"MERCHANT_KEY", "merchant-key-0123456789abcdef0123456789"},
        {"RPC_URL", "https://eth.example/v2/env-url-key-0123456789"},
        {"OPS_KEY", "ops-api-key-0123456789abcdef"},
        {"ALICE_HASH", "$argon2id$v=19$m=65536,t=2,p=1$LzlCYUhjVlJjdGpOL2lqVA$ieJOaOs+Wa4pBWNdJJDR9LDBsAAZICNTR6k9zNt/4II"},
        {"BOB_TOTP", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
        {"TG_TOKEN", "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"},
    };
    auto it = vars.find(name);
    return it == vars.end() ? std::string() : it->second;
}

LoadResult load(const std::string& text, Reader reader = Reader::daemon) {
    return load_string(text, "/etc/depositd/depositd.toml", &env, reader);
}

std::string all(const LoadResult& r) {
    std::string out;
    for (const auto& p : r.problems) out += p.to_string() + "\n";
    return out;
}

// Every value a Config holds that a file sets (not where it was written).
std::string values(const Config& c) {
    std::ostringstream o;
    auto d = [](Duration x) { return std::to_string(x.count()); };
    auto token = [&](const TokenConfig& t) {
        o << "{" << t.symbol << "," << t.contract << "," << t.decimals << ","
          << (t.min_amount ? u256_to_decimal(*t.min_amount) : "-") << "}";
    };
    o << c.daemon.data_dir << "|" << c.daemon.log_level << "|" << (c.daemon.stall_timeout ? d(*c.daemon.stall_timeout) : "-")
      << "\n" << c.api.listen << "|" << c.api.host << "|" << c.api.port << "|";
    for (const auto& k : c.api.keys) o << k << ";";
    o << "|" << c.api.max_body_bytes << "|" << c.api.max_connections << "|" << c.api.max_connections_per_client << "|"
      << d(c.api.idle_timeout) << "|" << c.api.public_url << "\n" << c.webhook.url << "|";
    for (const auto& s : c.webhook.secrets) o << s << ";";
    o << "|" << d(c.webhook.timeout) << "|";
    for (const auto& s : c.webhook.schedule) o << d(s) << ",";
    o << "|" << c.webhook.concurrency << "\n";
    for (const auto& ch : c.chains) {
        o << ch.id << "|" << to_string(ch.kind) << "|";
        for (const auto& r : ch.rpc) o << r << ";";
        o << "|" << ch.confirmations << "|" << ch.finalized << "|" << d(ch.poll_interval) << "|"
          << (ch.start ? std::to_string(*ch.start) : "latest") << "|";
        token(ch.native);
        for (const auto& t : ch.tokens) token(t);
        o << "|" << ch.max_block_range << "|" << ch.max_reorg_depth << "|";
        for (const auto& [k, v] : ch.headers) o << k << "=" << v << ";";
        o << "|" << ch.max_rps << "|" << d(ch.request_timeout) << "|" << (ch.chain_id ? std::to_string(*ch.chain_id) : "-")
          << "|" << ch.max_response_bytes << "|" << ch.rpc_cookie_file << "\n";
    }
    o << (c.pool.cooldown ? d(*c.pool.cooldown) : "never") << "|" << c.pool.low_water << "\n";
    const auto& r = c.orders;
    o << r.default_pay << "|" << d(r.expiry) << "|" << static_cast<int>(r.mode) << "|";
    for (const auto& [k, v] : r.receive) o << k << "=" << v << ";";
    o << "|" << r.fiat << "|" << r.rate << "|" << r.rate_source << "|" << r.rate_path << "|" << d(r.rate_refresh) << "|"
      << d(r.rate_max_age) << "|" << r.precision << "|" << (r.cooldown ? d(*r.cooldown) : "never") << "\n"
      << c.merchant.enabled << "|" << c.merchant.pid << "|" << c.merchant.key << "\n";
    for (const auto& l : c.api.key_labels) o << l << ";";
    o << "\n" << c.admin.enabled << "|";
    for (const auto& u : c.admin.users) o << u.name << "," << u.password_hash << "," << u.totp_secret << ";";
    o << "|" << d(c.admin.session_idle) << "|" << d(c.admin.session_max) << "|"
      << (c.admin.secure_cookies ? std::to_string(*c.admin.secure_cookies) : "-") << "\n";
    const auto& t = c.notify.telegram;
    o << t.enabled << "|" << t.bot_token << "|" << t.chat_id << "|";
    for (const auto& e : t.events) o << e << ";";
    o << "|" << t.api_base << "|" << d(t.alert_interval) << "\n";
    return o.str();
}

// Every key of every section set to something other than its default,
// every secret from the environment.
const char* kEverything = R"toml([daemon]
data_dir = "state"
log_level = "debug"
stall_timeout = "5m"

[api]
listen = "[::1]:9090"
keys = ["${API_KEY}", { key = "${OPS_KEY}", label = "ops" }]
max_body_bytes = 100000
max_connections = 300
max_connections_per_client = 20
idle_timeout = "1m30s"
public_url = "https://pay.example/"

[webhook]
url = "https://shop.example/hook?x=1"
secrets = ["${WEBHOOK_SECRET}", "${OLD_SECRET}"]
timeout = "2500ms"
schedule = ["1s", "1h30m"]
concurrency = 3

[[chains]]
preset = "tron"
id = "tron-main"
rpc = ["https://api.trongrid.io", "https://tron.example/jsonrpc?apikey=${RPC_KEY}"]
start = 70000000
native = { symbol = "TRX", decimals = 6, min_amount = "1.5" }
tokens = [ { symbol = "USDT", min_amount = "0.01" } ]
max_block_range = 50
max_reorg_depth = 40
headers = { "TRON-PRO-API-KEY" = "${TRONGRID_KEY}", "X-Client" = "${API_KEY}" }
max_rps = 2.5
request_timeout = "15s"
max_response_size = 100000

[[chains]]
id = "btc"
kind = "bitcoin"
rpc = ["http://127.0.0.1:8332/"]
rpc_cookie_file = "bitcoind/.cookie"
confirmations = 2
native = { symbol = "BTC", decimals = 8 }

[[chains]]
id = "eth"
kind = "evm"
rpc = ["${RPC_URL}"]
confirmations = "finalized"
native = { symbol = "ETH", decimals = 18 }
tokens = [ { symbol = "USDC", contract = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", decimals = 6 } ]
chain_id = 1
max_response_size = "16MiB"

[pool]
cooldown = "3h"  # at least the widest attribution_skew (bitcoin: 2h)
low_water = 7

[orders]
default = "USDT.tron-main"
expiry = "45m"
mode = "amount"
receive = { tron-main = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", eth = "0x1111111111111111111111111111111111111111" }
fiat = "CNY"
rate = "~1.02"
rate_source = "https://rates.example/usdt"
rate_path = "data.CNY"
rate_refresh = "5m"
rate_max_age = "1h"
precision = 4
cooldown = "never"

[merchant]
pid = 1001
key = "${MERCHANT_KEY}"

[admin]
users = [
  { name = "alice", password_hash = "${ALICE_HASH}" },
  { name = "bob", password_hash = "${ALICE_HASH}", totp_secret = "${BOB_TOTP}" },
]
session_idle = "10m"
session_max = "2h"
secure_cookies = false

[notify.telegram]
bot_token = "${TG_TOKEN}"
chat_id = -1001234567890
events = ["order.paid", "chain.halted"]
api_base = "http://127.0.0.1:8081/"
alert_interval = "0s"
)toml";

}  // namespace

TEST(ConfigPrint, EveryKeyRoundTrips) {
    const LoadResult first = load(kEverything);
    ASSERT_TRUE(first.config) << all(first);
    const std::string printed = to_toml(*first.config);
    SCOPED_TRACE(printed);
    const LoadResult again = load(printed);  // secrets are ${VAR}s: the daemon itself reads it
    ASSERT_TRUE(again.config) << all(again);
    EXPECT_EQ(values(*again.config), values(*first.config));
    EXPECT_EQ(to_toml(*again.config), printed);  // a fixed point
    // ${VAR}s of secrets are printed as written, never their values.
    for (const char* ref : {"${API_KEY}", "${WEBHOOK_SECRET}", "${OLD_SECRET}", "apikey=${RPC_KEY}", "${TRONGRID_KEY}",
                            "${MERCHANT_KEY}", "${RPC_URL}", "${OPS_KEY}", "${ALICE_HASH}", "${BOB_TOTP}", "${TG_TOKEN}"})
        EXPECT_NE(printed.find(ref), std::string::npos) << ref;
    for (const char* secret : {"env-api-key", "whsec_", "rpc-secret-key", "trongrid-secret", "merchant-key",
                               "env-url-key", "ops-api-key", "$argon2id", "GEZDGNBV", "AAHdqTcv"})
        EXPECT_EQ(printed.find(secret), std::string::npos) << secret;
    // Resolved and filled in: the preset's confirmations, relative paths made absolute.
    EXPECT_NE(printed.find("confirmations = \"finalized\"\npoll_interval = \"3s\""), std::string::npos);
    EXPECT_NE(printed.find("data_dir = \"/etc/depositd/state\""), std::string::npos);
    EXPECT_NE(printed.find("rpc_cookie_file = \"/etc/depositd/bitcoind/.cookie\""), std::string::npos);
    EXPECT_NE(printed.find("[[chains]]\npreset = \"tron\"\nid = \"tron-main\"\nkind = \"tron\""), std::string::npos);
    EXPECT_NE(printed.find("headers = { TRON-PRO-API-KEY = \"${TRONGRID_KEY}\", X-Client = \"${API_KEY}\" }"),
              std::string::npos);
    EXPECT_NE(printed.find("keys = [\n  \"${API_KEY}\",\n  { key = \"${OPS_KEY}\", label = \"ops\" },\n]"),
              std::string::npos);
    EXPECT_NE(printed.find("[notify.telegram]\nbot_token = \"${TG_TOKEN}\"\nchat_id = -1001234567890\n"),
              std::string::npos);
}

// [admin], [notify.telegram] and labelled API keys written literally: their
// secrets are masked, the labels and names are not, and the masks pass
// --check-config only.
TEST(ConfigPrint, ConsoleAndTelegramSecretsAreMasked) {
    const LoadResult r = load(R"toml([api]
keys = ["dev-key-0123456789abcdef", { key = "ops-key-0123456789abcdef", label = "ops" }]

[[chains]]
id = "eth"
kind = "evm"
rpc = ["http://127.0.0.1:8545"]
confirmations = 3
native = { symbol = "ETH", decimals = 18 }

[admin]
users = [{ name = "alice", password_hash = "$argon2id$v=19$m=65536,t=2,p=1$LzlCYUhjVlJjdGpOL2lqVA$ieJOaOs+Wa4pBWNdJJDR9LDBsAAZICNTR6k9zNt/4II", totp_secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" }]

[notify.telegram]
bot_token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
chat_id = "@depositd_ops"
)toml");
    ASSERT_TRUE(r.config) << all(r);
    const std::string printed = to_toml(*r.config);
    SCOPED_TRACE(printed);
    for (const char* secret : {"dev-key", "ops-key", "argon2id", "GEZDGNBV", "AAHdqTcv"})
        EXPECT_EQ(printed.find(secret), std::string::npos) << secret;
    EXPECT_NE(printed.find("keys = [\n  \"********\",\n  { key = \"********\", label = \"ops\" },\n]"),
              std::string::npos);
    EXPECT_NE(printed.find("{ name = \"alice\", password_hash = \"********\", totp_secret = \"********\" }"),
              std::string::npos);
    EXPECT_NE(printed.find("bot_token = \"********\"\nchat_id = \"@depositd_ops\""), std::string::npos);
    // The default events and interval are written out.
    EXPECT_NE(printed.find("events = [\"deposit.confirmed\", \"order.paid\", \"order.late_payment\", \"chain.halted\", "
                           "\"chain.lagging\", \"pool.low\", \"webhook.failing\"]"),
              std::string::npos);
    EXPECT_NE(printed.find("alert_interval = \"15m\""), std::string::npos);

    const LoadResult checked = load(printed, Reader::check);
    ASSERT_TRUE(checked.config) << all(checked);
    EXPECT_EQ(checked.config->masked_secrets.size(), 5u);
    EXPECT_EQ(checked.config->api.key_labels, (std::vector<std::string>{"key#1", "ops"}));
    EXPECT_EQ(to_toml(*checked.config), printed);
    const LoadResult daemon = load(printed);
    EXPECT_FALSE(daemon.config);
    EXPECT_EQ(daemon.problems.size(), 5u) << all(daemon);
    std::string keys;
    for (const auto& p : daemon.problems) keys += p.key + " ";
    EXPECT_EQ(keys, "api.keys[0] api.keys[1].key admin.users[0].password_hash admin.users[0].totp_secret "
                    "notify.telegram.bot_token ");
}

TEST(ConfigPrint, DefaultsAreFilledIn) {
    const LoadResult r = load(R"toml([api]
keys = ["${API_KEY}"]

[[chains]]
id = "eth"
kind = "evm"
rpc = ["http://127.0.0.1:8545"]
confirmations = 3
native = { symbol = "ETH", decimals = 18 }
)toml");
    ASSERT_TRUE(r.config) << all(r);
    const std::string printed = to_toml(*r.config);
    for (const char* line : {"[daemon]\ndata_dir = \"/etc/depositd/data\"\nlog_level = \"info\"\n",
                             "listen = \"127.0.0.1:8080\"", "max_body_bytes = 65536", "idle_timeout = \"10s\"",
                             "schedule = [\"15s\", \"1m\", \"5m\", \"10m\", \"30m\", \"1h\"]", "concurrency = 8",
                             "poll_interval = \"3s\"", "start = \"latest\"", "tokens = []", "max_block_range = 500",
                             "max_reorg_depth = 64", "max_rps = 0", "request_timeout = \"10s\"",
                             "max_response_size = \"32MiB\"", "[pool]\ncooldown = \"never\"\nlow_water = 100",
                             "[orders]\nexpiry = \"30m\"\nmode = \"address\"", "cooldown = \"24h\""})
        EXPECT_NE(printed.find(line), std::string::npos) << line << "\n" << printed;
    EXPECT_EQ(printed.find("[merchant]"), std::string::npos);  // absent: the endpoints answer 404
    EXPECT_EQ(printed.find("chain_id"), std::string::npos);
    const LoadResult again = load(printed);
    ASSERT_TRUE(again.config) << all(again) << printed;
    EXPECT_EQ(values(*again.config), values(*r.config));
}

TEST(ConfigPrint, LiteralSecretsAreMaskedAndTheMaskPassesOnlyTheCheck) {
    const LoadResult r = load(R"toml([api]
keys = ["dev-key-0123456789abcdef", "second-key-0123456789"]

[webhook]
url = "http://127.0.0.1:9000/hooks"
secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

[[chains]]
id = "btc"
kind = "bitcoin"
rpc = ["http://rpcuser:hunter2@127.0.0.1:8332/", "https://btc.example/9f86d081884c7d659a2feaa0c55ad015/?token=abc&v=2"]
confirmations = 3
native = { symbol = "BTC", decimals = 8 }
headers = { Authorization = "Bearer s3cr3t" }

[merchant]
pid = 7
key = "merchant-literal-key-0123456789abcdef"
)toml");
    ASSERT_TRUE(r.config) << all(r);
    const std::string printed = to_toml(*r.config);
    SCOPED_TRACE(printed);
    for (const char* secret : {"dev-key", "second-key", "MfKQ9r8", "hunter2", "9f86d0818", "abc", "s3cr3t", "merchant-literal"})
        EXPECT_EQ(printed.find(secret), std::string::npos) << secret;
    EXPECT_NE(printed.find("keys = [\"********\", \"********\"]"), std::string::npos);
    EXPECT_NE(printed.find("secret = \"********\""), std::string::npos);
    EXPECT_NE(printed.find("\"http://rpcuser:********@127.0.0.1:8332/\""), std::string::npos);
    EXPECT_NE(printed.find("\"https://btc.example/********/?token=********&v=********\""), std::string::npos);
    EXPECT_NE(printed.find("Authorization = \"********\""), std::string::npos);
    EXPECT_NE(printed.find("key = \"********\""), std::string::npos);

    // --check-config accepts the masks, and says where they are.
    const LoadResult checked = load(printed, Reader::check);
    ASSERT_TRUE(checked.config) << all(checked);
    EXPECT_EQ(checked.config->masked_secrets.size(), 7u);
    EXPECT_EQ(to_toml(*checked.config), printed);
    // The daemon refuses each one, naming file:line:key.
    const LoadResult daemon = load(printed);
    EXPECT_FALSE(daemon.config);
    ASSERT_EQ(daemon.problems.size(), 7u) << all(daemon);
    EXPECT_EQ(daemon.problems[0].key, "api.keys[0]");
    EXPECT_NE(daemon.problems[0].to_string().find("/etc/depositd/depositd.toml:"), std::string::npos);
    EXPECT_NE(daemon.problems[0].message.find("masked secret"), std::string::npos);
    // depositctl reads none of them: nothing to refuse.
    EXPECT_TRUE(load(printed, Reader::depositctl).config) << all(load(printed, Reader::depositctl));
    // A mask is only a mask where a secret belongs.
    std::string fiat = printed;
    fiat.replace(fiat.find("[orders]\n"), 9, "[orders]\nfiat = \"********\"\nrate = \"7\"\n");
    const LoadResult elsewhere = load(fiat, Reader::check);
    EXPECT_NE(all(elsewhere).find("orders.fiat: must be a currency code"), std::string::npos) << all(elsewhere);
}

TEST(ConfigPrint, MaskingRules) {
    EXPECT_EQ(mask_secret("${KEY}", Secret::value), "${KEY}");
    EXPECT_EQ(mask_secret("literal", Secret::value), "********");
    EXPECT_EQ(mask_secret("", Secret::value), "");
    EXPECT_EQ(mask_secret("http://127.0.0.1:8545", Secret::url), "http://127.0.0.1:8545");
    EXPECT_EQ(mask_secret("http://u:p@h/", Secret::url), "http://u:********@h/");
    EXPECT_EQ(mask_secret("http://u:${P}@h/", Secret::url), "http://u:${P}@h/");
    EXPECT_EQ(mask_secret("https://tokenonly@h/x", Secret::url), "https://********@h/x");
    EXPECT_EQ(mask_secret("https://mainnet.infura.io/v3/9aa3d95b3bc440fa88ea12eaa4456161", Secret::url),
              "https://mainnet.infura.io/v3/********");
    EXPECT_EQ(mask_secret("https://api.avax.network/ext/bc/C/rpc", Secret::url), "https://api.avax.network/ext/bc/C/rpc");
    EXPECT_EQ(mask_secret("https://x/solana-mainnet/?api-key=k&x", Secret::url), "https://x/solana-mainnet/?api-key=********&x");
    EXPECT_EQ(mask_secret("https://x/rpc#frag", Secret::url), "https://x/rpc#********");
    EXPECT_EQ(toml_string("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
    EXPECT_EQ(toml_size(32u << 20), "\"32MiB\"");
    EXPECT_EQ(toml_size(100000), "100000");
    EXPECT_EQ(toml_number(10), "10");
    EXPECT_EQ(toml_number(2.5), "2.5");
    EXPECT_EQ(format_duration(90s), "1m30s");
    EXPECT_EQ(format_duration(1500ms), "1s500ms");
    EXPECT_EQ(format_duration(0ms), "0s");
    for (Duration d : {Duration(1ms), Duration(999ms), Duration(61s), Duration(3601s), Duration(25h), Duration(100000h)})
        EXPECT_EQ(parse_duration(format_duration(d)).value(), d);
}

// SPEC §10: a preset = "bsc" chain prints chain id 56 and both stablecoins
// with 18 decimals, and the output passes --check-config.
TEST(ConfigPrint, BscPresetExpanded) {
    const LoadResult r = load(R"toml([api]
keys = ["dev-key-0123456789abcdef"]

[[chains]]
preset = "bsc"
rpc = ["https://bsc-dataseed.example/"]
tokens = ["USDT", "USDC"]
)toml");
    ASSERT_TRUE(r.config) << all(r);
    const std::string printed = to_toml(*r.config);
    SCOPED_TRACE(printed);
    for (const char* line : {"id = \"bsc\"", "kind = \"evm\"", "chain_id = 56", "confirmations = \"finalized\"",
                             "native = { symbol = \"BNB\", decimals = 18 }",
                             "{ symbol = \"USDT\", contract = \"0x55d398326f99059fF775485246999027B3197955\", decimals = 18 }",
                             "{ symbol = \"USDC\", contract = \"0x8AC76a51cc950d9822D68b83fE1Ad97B32Cd580d\", decimals = 18 }"})
        EXPECT_NE(printed.find(line), std::string::npos) << line;
    const LoadResult checked = load(printed, Reader::check);
    ASSERT_TRUE(checked.config) << all(checked);
    EXPECT_EQ(values(*checked.config), values(*r.config).replace(values(*r.config).find("dev-key-0123456789abcdef"),
                                                                    24, "********"));
}
