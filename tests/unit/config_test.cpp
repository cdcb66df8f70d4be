// lib/config: SPEC §3 parsing, defaults, and problems that name file:line:key.
#include "config/config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <unistd.h>

using namespace depositd;
using namespace depositd::config;
using namespace std::chrono_literals;

namespace {

std::string test_env(const std::string& name) {
    static const std::map<std::string, std::string> env = {
        {"DEPOSITD_API_KEY", "test-api-key-0123456789abcdef"},
        {"DEPOSITD_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
        {"ETH_RPC_URL", "https://eth-mainnet.example/v2/secretkey"},
        {"ETH_RPC_URL_BACKUP", "https://eth-backup.example/rpc"},
        {"BSC_RPC_URL", "https://bsc.example/rpc"},
        {"TRONGRID_KEY", "trongrid-secret-value"},
        {"SHORT_KEY", "short"},
    };
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
}

// SPEC §3, verbatim (with its comments).
const char* kSpecExample = R"toml([daemon]
data_dir  = "./data"           # SQLite database lives here (embedded default)
log_level = "info"

[api]
listen = "127.0.0.1:8080"
keys   = ["${DEPOSITD_API_KEY}"]   # ${VAR} expands from the environment

[webhook]
url      = "https://shop.example/webhooks/deposits"
secret   = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"   # Standard Webhooks secret
timeout  = "10s"
schedule = ["15s", "1m", "5m", "10m", "30m", "60m"] # retry delays

[[chains]]
id            = "ethereum"        # chainId used in the API and webhooks
kind          = "evm"             # evm | tron | bitcoin | solana
rpc           = ["https://eth.example/rpc"]   # several = failover
confirmations = 12                # or "finalized" where the chain has it
poll_interval = "3s"
start         = "latest"          # or a block number / slot
native        = { symbol = "ETH", decimals = 18 }
tokens = [
  { symbol = "USDT", contract = "0xdAC17F958D2ee523a2206206994597C13D831ec7", decimals = 6 },
  { symbol = "USDC", contract = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", decimals = 6 },
]
# optional, with defaults chosen per kind:
# max_block_range = 500          # largest eth_getLogs / block batch
# max_reorg_depth = 64           # deeper than this: stop the chain loudly
# headers = { "TRON-PRO-API-KEY" = "${TRONGRID_KEY}" }
# max_rps = 10                   # request-rate cap per endpoint

[pool]                           # optional
# cooldown  = "never"            # when an unbound address may be handed out again
# low_water = 100                # warn when fewer free addresses remain
)toml";

// A minimal valid file; tests append or substitute to provoke one problem.
const std::string kMinimal = R"toml([api]
keys = ["0123456789abcdef"]

[[chains]]
id = "eth"
kind = "evm"
rpc = ["http://127.0.0.1:8545"]
confirmations = 3
native = { symbol = "ETH", decimals = 18 }
)toml";

LoadResult load(const std::string& text, const std::string& name = "depositd.toml") {
    return load_string(text, name, &test_env);
}

std::string all(const LoadResult& r) {
    std::string out;
    for (const auto& p : r.problems) out += p.to_string() + "\n";
    return out;
}

// Asserts exactly one problem, at `line` and `key`, whose message contains `fragment`.
void expect_one(const std::string& text, int line, const std::string& key, const std::string& fragment = "") {
    SCOPED_TRACE(text);
    const LoadResult r = load(text);
    EXPECT_FALSE(r.config.has_value());
    ASSERT_EQ(r.problems.size(), 1u) << all(r);
    const Problem& p = r.problems[0];
    EXPECT_EQ(p.file, "depositd.toml");
    EXPECT_EQ(p.line, line) << p.to_string();
    EXPECT_EQ(p.key, key) << p.to_string();
    EXPECT_NE(p.message.find(fragment), std::string::npos) << p.to_string();
}

bool mentions(const LoadResult& r, const std::string& fragment) {
    return std::any_of(r.problems.begin(), r.problems.end(),
                       [&](const Problem& p) { return p.to_string().find(fragment) != std::string::npos; });
}

}  // namespace

// ---------------------------------------------------------------------------
// Durations

TEST(ConfigDuration, ParsesUnits) {
    EXPECT_EQ(parse_duration("250ms").value(), 250ms);
    EXPECT_EQ(parse_duration("3s").value(), 3s);
    EXPECT_EQ(parse_duration("1m").value(), 1min);
    EXPECT_EQ(parse_duration("60m").value(), 1h);
    EXPECT_EQ(parse_duration("1h").value(), 1h);
    EXPECT_EQ(parse_duration("1h30m").value(), 90min);
    EXPECT_EQ(parse_duration("0s").value(), 0ms);
}

TEST(ConfigDuration, RejectsGarbage) {
    for (const char* bad : {"", "10", "-1s", "+1s", "5x", "1.5s", "s", " 1s", "1s ", "1S", "1d", "ms10",
                            "99999999999999999999h", "1000000h"}) {
        auto r = parse_duration(bad);
        EXPECT_FALSE(r.ok()) << bad;
        if (!r.ok()) {
            EXPECT_EQ(r.error().code, Errc::invalid_input);
        }
    }
    EXPECT_NE(parse_duration("10").error().message.find("unit"), std::string::npos);
    EXPECT_NE(parse_duration("-1s").error().message.find("negative"), std::string::npos);
    EXPECT_NE(parse_duration("5x").error().message.find("unknown unit"), std::string::npos);
}

// ---------------------------------------------------------------------------
// The SPEC example

TEST(Config, SpecExampleParses) {
    const LoadResult r = load(kSpecExample, "/etc/depositd/depositd.toml");
    ASSERT_TRUE(r.config.has_value()) << all(r);
    EXPECT_TRUE(r.problems.empty());
    const Config& c = *r.config;
    EXPECT_EQ(c.path, "/etc/depositd/depositd.toml");
    EXPECT_EQ(c.daemon.data_dir, "/etc/depositd/data");
    EXPECT_EQ(c.database_path(), "/etc/depositd/data/depositd.sqlite");
    EXPECT_EQ(c.daemon.log_level, "info");

    EXPECT_EQ(c.api.listen, "127.0.0.1:8080");
    EXPECT_EQ(c.api.host, "127.0.0.1");
    EXPECT_EQ(c.api.port, 8080);
    ASSERT_EQ(c.api.keys.size(), 1u);
    EXPECT_EQ(c.api.keys[0], "test-api-key-0123456789abcdef");

    EXPECT_EQ(c.webhook.url, "https://shop.example/webhooks/deposits");
    ASSERT_EQ(c.webhook.secrets.size(), 1u);
    EXPECT_EQ(c.webhook.secrets[0], "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    EXPECT_EQ(c.webhook.timeout, 10s);
    const std::vector<Duration> schedule = {15s, 1min, 5min, 10min, 30min, 60min};
    EXPECT_EQ(c.webhook.schedule, schedule);

    ASSERT_EQ(c.chains.size(), 1u);
    const ChainConfig& e = c.chains[0];
    EXPECT_EQ(e.id, "ethereum");
    EXPECT_EQ(e.kind, Protocol::evm);
    EXPECT_EQ(e.rpc, std::vector<std::string>{"https://eth.example/rpc"});
    EXPECT_EQ(e.confirmations, 12u);
    EXPECT_FALSE(e.finalized);
    EXPECT_EQ(e.poll_interval, 3s);
    EXPECT_FALSE(e.start.has_value());
    EXPECT_EQ(e.native.symbol, "ETH");
    EXPECT_EQ(e.native.decimals, 18u);
    EXPECT_TRUE(e.native.contract.empty());
    ASSERT_EQ(e.tokens.size(), 2u);
    EXPECT_EQ(e.tokens[0].symbol, "USDT");
    EXPECT_EQ(e.tokens[0].contract, "0xdAC17F958D2ee523a2206206994597C13D831ec7");
    EXPECT_EQ(e.tokens[0].decimals, 6u);
    EXPECT_EQ(e.tokens[1].symbol, "USDC");
    EXPECT_EQ(e.max_block_range, 500u);
    EXPECT_EQ(e.max_reorg_depth, 64u);
    EXPECT_TRUE(e.headers.empty());
    EXPECT_EQ(e.max_rps, 0.0);
    EXPECT_EQ(e.request_timeout, 10s);
    EXPECT_EQ(e.source, "/etc/depositd/depositd.toml:15");

    EXPECT_FALSE(c.pool.cooldown.has_value());
    EXPECT_EQ(c.pool.low_water, 100u);

    EXPECT_EQ(c.chain("ethereum"), &c.chains[0]);
    EXPECT_EQ(c.chain("bsc"), nullptr);
}

TEST(Config, DefaultsPerKindAndOptionalKeys) {
    const std::string text = R"toml([api]
listen = "[::1]:0"
keys = ["0123456789abcdef", "fedcba9876543210"]

[[chains]]
id = "btc"
kind = "bitcoin"
rpc = ["http://127.0.0.1:18443"]
confirmations = 6
start = 800000
native = { symbol = "BTC", decimals = 8 }

[[chains]]
id = "tron"
kind = "tron"
rpc = ["https://api.trongrid.io", "https://backup.example"]
confirmations = "finalized"
native = { symbol = "TRX", decimals = 6 }
tokens = [{ symbol = "USDT", contract = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", decimals = 6 }]
headers = { "TRON-PRO-API-KEY" = "${TRONGRID_KEY}" }
max_rps = 2.5
request_timeout = "1500ms"

[[chains]]
id = "sol"
kind = "solana"
rpc = ["https://api.mainnet-beta.solana.com"]
confirmations = "finalized"
native = { symbol = "SOL", decimals = 9 }
max_block_range = 7
max_reorg_depth = 3

[webhook]
url = "http://127.0.0.1:9000/hooks"
secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "${DEPOSITD_WEBHOOK_SECRET}"]
schedule = ["250ms"]
concurrency = 2

[pool]
cooldown = "24h"
low_water = 0

[daemon]
data_dir = "/srv/depositd/"
log_level = "debug"
)toml";
    const LoadResult r = load(text, "relative/depositd.toml");
    ASSERT_TRUE(r.config.has_value()) << all(r);
    const Config& c = *r.config;
    EXPECT_EQ(c.api.host, "::1");
    EXPECT_EQ(c.api.port, 0);
    EXPECT_EQ(c.api.keys.size(), 2u);
    EXPECT_EQ(c.daemon.data_dir, "/srv/depositd");
    EXPECT_EQ(c.daemon.log_level, "debug");

    const ChainConfig* btc = c.chain("btc");
    ASSERT_NE(btc, nullptr);
    EXPECT_EQ(btc->kind, Protocol::bitcoin);
    EXPECT_EQ(btc->max_block_range, 10u);
    EXPECT_EQ(btc->max_reorg_depth, 32u);
    EXPECT_EQ(btc->start, std::optional<std::uint64_t>(800000));
    EXPECT_EQ(btc->source, "relative/depositd.toml:5");

    const ChainConfig* tron = c.chain("tron");
    ASSERT_NE(tron, nullptr);
    EXPECT_TRUE(tron->finalized);
    EXPECT_EQ(tron->max_block_range, 100u);
    EXPECT_EQ(tron->max_reorg_depth, 32u);
    EXPECT_EQ(tron->rpc.size(), 2u);
    EXPECT_EQ(tron->headers.at("TRON-PRO-API-KEY"), "trongrid-secret-value");
    EXPECT_DOUBLE_EQ(tron->max_rps, 2.5);
    EXPECT_EQ(tron->request_timeout, 1500ms);

    const ChainConfig* sol = c.chain("sol");
    ASSERT_NE(sol, nullptr);
    EXPECT_TRUE(sol->finalized);
    EXPECT_EQ(sol->max_block_range, 7u);
    EXPECT_EQ(sol->max_reorg_depth, 3u);

    EXPECT_EQ(c.webhook.secrets.size(), 2u);
    EXPECT_EQ(c.webhook.schedule, std::vector<Duration>{250ms});
    EXPECT_EQ(c.webhook.concurrency, 2u);
    EXPECT_EQ(c.pool.cooldown, std::optional<Duration>(24h));
    EXPECT_EQ(c.pool.low_water, 0u);
}

TEST(Config, RelativeDataDirResolvesAgainstConfigFolder) {
    auto r = load(kMinimal + "[daemon]\ndata_dir = \"state/db\"\n", "conf/dir/depositd.toml");
    ASSERT_TRUE(r.config.has_value()) << all(r);
    EXPECT_EQ(r.config->daemon.data_dir, "conf/dir/state/db");
    r = load(kMinimal, "/opt/x/depositd.toml");  // default "./data"
    ASSERT_TRUE(r.config.has_value()) << all(r);
    EXPECT_EQ(r.config->daemon.data_dir, "/opt/x/data");
}

// ---------------------------------------------------------------------------
// Each kind of problem names file:line:key

TEST(ConfigProblems, UnknownTopLevelKey) {
    expect_one("verbose = true\n" + kMinimal, 1, "verbose", "unknown key");
}

TEST(ConfigProblems, UnknownNestedKeys) {
    expect_one(kMinimal + "[pool]\ncooldwn = \"1h\"\n", 11, "pool.cooldwn", "did you mean \"cooldown\"");
    expect_one(kMinimal + "poll = \"1s\"\n", 10, "chains[0].poll", "unknown key");
    expect_one(kMinimal + "tokens = [{ symbol = \"USDT\", contract = \"0xdAC17F958D2ee523a2206206994597C13D831ec7\", "
                          "decimals = 6, name = \"Tether\" }]\n",
               10, "chains[0].tokens[0].name", "unknown key");
    const std::string with_native_extra = R"toml([api]
keys = ["0123456789abcdef"]
[[chains]]
id = "eth"
kind = "evm"
rpc = ["http://127.0.0.1:8545"]
confirmations = 3
native = { symbol = "ETH", decimals = 18, contract = "0x0" }
)toml";
    expect_one(with_native_extra, 8, "chains[0].native.contract", "unknown key");
}

TEST(ConfigProblems, WrongType) {
    expect_one(kMinimal + "[daemon]\nlog_level = 3\n", 11, "daemon.log_level", "must be a string, not an integer");
    expect_one(kMinimal + "max_block_range = \"500\"\n", 10, "chains[0].max_block_range", "positive integer");
    expect_one(kMinimal + "poll_interval = 3\n", 10, "chains[0].poll_interval", "with a unit");
    expect_one(kMinimal + "[webhook]\nschedule = \"15s\"\n", 11, "webhook.schedule", "array");
    expect_one("api = 5\n" + kMinimal.substr(kMinimal.find("[[chains]]")), 1, "api", "must be a table");
}

TEST(ConfigProblems, BadDurations) {
    expect_one(kMinimal + "poll_interval = \"10\"\n", 10, "chains[0].poll_interval", "no unit");
    expect_one(kMinimal + "poll_interval = \"-1s\"\n", 10, "chains[0].poll_interval", "negative");
    expect_one(kMinimal + "poll_interval = \"5x\"\n", 10, "chains[0].poll_interval", "unknown unit");
    expect_one(kMinimal + "poll_interval = \"0s\"\n", 10, "chains[0].poll_interval", "greater than zero");
    expect_one(kMinimal + "[webhook]\nschedule = [\"15s\", \"1y\"]\n", 11, "webhook.schedule[1]", "unknown unit");
    expect_one(kMinimal + "[pool]\ncooldown = \"sometimes\"\n", 11, "pool.cooldown", "not a duration");
}

TEST(ConfigProblems, BadListen) {
    const std::string head = "[api]\nkeys = [\"0123456789abcdef\"]\n";
    const std::string rest = kMinimal.substr(kMinimal.find("[[chains]]"));
    expect_one(head + "listen = \"127.0.0.1\"\n" + rest, 3, "api.listen", "host:port");
    expect_one(head + "listen = \"127.0.0.1:70000\"\n" + rest, 3, "api.listen", "0 to 65535");
    expect_one(head + "listen = \"127.0.0.1:http\"\n" + rest, 3, "api.listen", "0 to 65535");
    expect_one(head + "listen = \":8080\"\n" + rest, 3, "api.listen", "no host");
    expect_one(head + "listen = \"::1:8080\"\n" + rest, 3, "api.listen", "brackets");
}

TEST(ConfigProblems, ApiKeys) {
    const std::string rest = kMinimal.substr(kMinimal.find("[[chains]]"));
    expect_one("[api]\nkeys = [\"short\"]\n" + rest, 2, "api.keys[0]", "at least 16 characters");
    expect_one("[api]\nkeys = []\n" + rest, 2, "api.keys", "at least one");
    expect_one(rest, 0, "api.keys", "required");
    // The secret value itself never appears in the message.
    auto r = load("[api]\nkeys = [\"${SHORT_KEY}\"]\n" + rest);
    ASSERT_EQ(r.problems.size(), 1u) << all(r);
    EXPECT_EQ(r.problems[0].to_string().find("short\""), std::string::npos);
}

TEST(ConfigProblems, DuplicateChainId) {
    const std::string second = R"toml(
[[chains]]
id = "eth"
kind = "evm"
rpc = ["http://127.0.0.1:8546"]
confirmations = 1
native = { symbol = "ETH", decimals = 18 }
)toml";
    expect_one(kMinimal + second, 12, "chains[1].id", "duplicate chain id \"eth\" (first at line 5)");
}

TEST(ConfigProblems, BadChainIdKindRpc) {
    std::string t = kMinimal;
    expect_one(std::string(t).replace(t.find("\"eth\""), 5, "\"Eth Main\""), 5, "chains[0].id", "a-z");
    expect_one(std::string(t).replace(t.find("\"evm\""), 5, "\"cosmos\""), 6, "chains[0].kind",
               "evm, tron, bitcoin or solana");
    expect_one(std::string(t).replace(t.find("[\"http://127.0.0.1:8545\"]"), 25, "[]"), 7, "chains[0].rpc",
               "must not be empty");
    expect_one(std::string(t).replace(t.find("http://127.0.0.1:8545"), 21, "ws://127.0.0.1:8545"), 7,
               "chains[0].rpc[0]", "http:// or https://");
}

TEST(ConfigProblems, BadConfirmations) {
    std::string t = kMinimal;
    const auto at = t.find("confirmations = 3");
    const auto with = [&](const std::string& v) { return std::string(t).replace(at, 17, "confirmations = " + v); };
    expect_one(with("0"), 8, "chains[0].confirmations", "must be a positive integer or \"finalized\"");
    expect_one(with("-2"), 8, "chains[0].confirmations", "positive integer");
    expect_one(with("\"final\""), 8, "chains[0].confirmations", "positive integer");
    expect_one(with("1.5"), 8, "chains[0].confirmations", "positive integer");
    EXPECT_EQ(load(with("0")).problems.at(0).to_string(),
              "depositd.toml:8:chains[0].confirmations: must be a positive integer or \"finalized\"");
}

TEST(ConfigProblems, FinalizedOnBitcoin) {
    const std::string text = R"toml([api]
keys = ["0123456789abcdef"]
[[chains]]
id = "btc"
kind = "bitcoin"
rpc = ["http://127.0.0.1:8332"]
confirmations = "finalized"
native = { symbol = "BTC", decimals = 8 }
)toml";
    expect_one(text, 7, "chains[0].confirmations", "bitcoin has no finality");
}

TEST(ConfigProblems, Tokens) {
    const std::string usdt = "{ symbol = \"USDT\", contract = \"0xdAC17F958D2ee523a2206206994597C13D831ec7\", decimals = 6 }";
    expect_one(kMinimal + "tokens = [" + usdt +
                   ", { symbol = \"USDT\", contract = \"0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48\", decimals = 6 }]\n",
               10, "chains[0].tokens[1].symbol", "duplicate symbol");
    expect_one(kMinimal + "tokens = [{ symbol = \"USDT\", contract = \"0x1234\", decimals = 6 }]\n", 10,
               "chains[0].tokens[0].contract", "40 hex");
    expect_one(kMinimal + "tokens = [{ symbol = \"ETH\", contract = \"0xdAC17F958D2ee523a2206206994597C13D831ec7\", "
                          "decimals = 6 }]\n",
               10, "chains[0].tokens[0].symbol", "native");
    expect_one(kMinimal + "tokens = [{ symbol = \"USDT\", contract = \"0xdAC17F958D2ee523a2206206994597C13D831ec7\", "
                          "decimals = 78 }]\n",
               10, "chains[0].tokens[0].decimals", "0 to 77");
    expect_one(kMinimal + "tokens = [" + usdt +
                   ", { symbol = \"USDT2\", contract = \"0xdac17f958d2ee523a2206206994597c13d831ec7\", decimals = 6 }]\n",
               10, "chains[0].tokens[1].contract", "duplicate contract");
    expect_one(kMinimal + "tokens = [{ symbol = \"USDT\", decimals = 6 }]\n", 10, "chains[0].tokens[0].contract",
               "required");
}

TEST(ConfigProblems, MissingChainKeys) {
    const std::string text = "[api]\nkeys = [\"0123456789abcdef\"]\n[[chains]]\nid = \"x\"\n";
    const LoadResult r = load(text);
    EXPECT_FALSE(r.config);
    for (const char* key : {"chains[0].kind", "chains[0].rpc", "chains[0].confirmations", "chains[0].native"})
        EXPECT_TRUE(mentions(r, std::string("depositd.toml:3:") + key + ": required")) << key << "\n" << all(r);
    expect_one("[api]\nkeys = [\"0123456789abcdef\"]\n", 0, "chains", "at least one [[chains]]");
}

TEST(ConfigProblems, UnsetEnvironmentVariable) {
    const std::string text = kMinimal + "headers = { \"X-Key\" = \"${NOT_SET_ANYWHERE}\" }\n";
    expect_one(text, 10, "chains[0].headers.X-Key", "environment variable NOT_SET_ANYWHERE is not set");
    expect_one(kMinimal + "headers = { \"X-Key\" = \"${BROKEN\" }\n", 10, "chains[0].headers.X-Key", "unterminated");
}

TEST(ConfigProblems, Webhook) {
    expect_one(kMinimal + "[webhook]\nurl = \"https://x.example/h\"\n", 10, "webhook.secret", "required");
    expect_one(kMinimal + "[webhook]\nurl = \"https://x.example/h\"\nsecret = \"hunter2hunter2hunter2\"\n", 12,
               "webhook.secret", "whsec_");
    expect_one(kMinimal + "[webhook]\nurl = \"https://x.example/h\"\nsecret = \"whsec_c2hvcnQ=\"\n", 12,
               "webhook.secret", "16 bytes");
    expect_one(kMinimal + "[webhook]\nurl = \"https://x.example/h\"\nsecret = \"whsec_not*base64!\"\n", 12,
               "webhook.secret", "base64");
    expect_one(kMinimal +
                   "[webhook]\nurl = \"https://x.example/h\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n"
                   "secrets = [\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]\n",
               13, "webhook.secrets", "not both");
    expect_one(kMinimal + "[webhook]\nurl = \"ftp://x.example/h\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n",
               11, "webhook.url", "http");
}

TEST(ConfigProblems, DaemonAndPool) {
    expect_one(kMinimal + "[daemon]\nlog_level = \"loud\"\n", 11, "daemon.log_level", "not a log level");
    expect_one(kMinimal + "[daemon]\ndata_dir = \"\"\n", 11, "daemon.data_dir", "must not be empty");
    expect_one(kMinimal + "[pool]\nlow_water = -1\n", 11, "pool.low_water", ">= 0");
    expect_one(kMinimal + "max_rps = -1\n", 10, "chains[0].max_rps", ">= 0");
    expect_one(kMinimal + "max_reorg_depth = 0\n", 10, "chains[0].max_reorg_depth", "positive");
    expect_one(kMinimal + "start = \"earliest\"\n", 10, "chains[0].start", "latest");
}

TEST(Config, StallTimeout) {
    auto r = load(kMinimal);
    ASSERT_TRUE(r.config) << all(r);
    EXPECT_FALSE(r.config->daemon.stall_timeout);  // derived from the chains (daemon/service_notify.hpp)
    r = load(kMinimal + "[daemon]\nstall_timeout = \"4m\"\n");
    ASSERT_TRUE(r.config) << all(r);
    EXPECT_EQ(r.config->daemon.stall_timeout, std::optional<Duration>(4min));
    expect_one(kMinimal + "[daemon]\nstall_timeout = \"500ms\"\n", 11, "daemon.stall_timeout", "at least 1s");
    expect_one(kMinimal + "[daemon]\nstall_timeout = 60\n", 11, "daemon.stall_timeout", "string");
    expect_one(kMinimal + "[daemon]\nstall_timeout = \"0s\"\n", 11, "daemon.stall_timeout");
}

TEST(ConfigProblems, BadTomlSyntaxNamesItsLine) {
    const LoadResult r = load("[api]\nkeys = [\"0123456789abcdef\"]\n\nlisten = 127.0.0.1:8080\n");
    EXPECT_FALSE(r.config);
    ASSERT_EQ(r.problems.size(), 1u) << all(r);
    EXPECT_EQ(r.problems[0].file, "depositd.toml");
    EXPECT_EQ(r.problems[0].line, 4) << all(r);
    EXPECT_NE(r.problems[0].message.find("syntax"), std::string::npos);
    EXPECT_EQ(r.problems[0].to_string().rfind("depositd.toml:4:", 0), 0u);
}

TEST(ConfigProblems, ManyProblemsReportedAtOnce) {
    const std::string text = R"toml(extra = 1
[daemon]
log_level = "chatty"
[api]
listen = "localhost"
keys = ["tiny"]
[webhook]
timeout = "10"
[[chains]]
id = "eth"
kind = "evm"
rpc = []
confirmations = 0
native = { symbol = "ETH", decimals = 18 }
[[chains]]
id = "eth"
kind = "bitcoin"
rpc = ["https://btc.example"]
confirmations = "finalized"
native = { symbol = "BTC", decimals = 8 }
)toml";
    const LoadResult r = load(text);
    EXPECT_FALSE(r.config);
    const std::vector<std::string> expected = {
        "depositd.toml:1:extra: unknown key",
        "depositd.toml:3:daemon.log_level:",
        "depositd.toml:5:api.listen:",
        "depositd.toml:6:api.keys[0]:",
        "depositd.toml:8:webhook.timeout:",
        "depositd.toml:12:chains[0].rpc:",
        "depositd.toml:13:chains[0].confirmations:",
        "depositd.toml:16:chains[1].id: duplicate",
        "depositd.toml:19:chains[1].confirmations:",
    };
    EXPECT_EQ(r.problems.size(), expected.size()) << all(r);
    for (const auto& e : expected) EXPECT_TRUE(mentions(r, e)) << e << "\n" << all(r);
    // Sorted by line.
    EXPECT_TRUE(std::is_sorted(r.problems.begin(), r.problems.end(),
                               [](const Problem& a, const Problem& b) { return a.line < b.line; }));
}

TEST(ConfigProblems, MissingFileIsLineZero) {
    const LoadResult r = load_file("/nonexistent/depositd.toml");
    EXPECT_FALSE(r.config);
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_EQ(r.problems[0].line, 0);
    EXPECT_EQ(r.problems[0].file, "/nonexistent/depositd.toml");
    EXPECT_NE(r.problems[0].to_string().find("/nonexistent/depositd.toml: cannot read"), std::string::npos)
        << r.problems[0].to_string();
}

TEST(ConfigFile, LoadFileResolvesDataDirAgainstItsFolder) {
    const auto dir = std::filesystem::temp_directory_path() / ("depositd_config_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = dir / "d.toml";
    { std::ofstream(path) << kMinimal << "[daemon]\ndata_dir = \"./state\"\n"; }
    const LoadResult r = load_file(path.string());
    std::filesystem::remove_all(dir);
    ASSERT_TRUE(r.config.has_value()) << all(r);
    EXPECT_EQ(r.config->daemon.data_dir, (dir / "state").string());
    EXPECT_EQ(r.config->path, path.string());
}

// ---------------------------------------------------------------------------
// The shipped examples

TEST(ConfigExamples, DevelopmentExampleLoadsClean) {
    const LoadResult r = load_file(DEPOSITD_SOURCE_DIR "/examples/depositd.toml");
    ASSERT_TRUE(r.config.has_value()) << all(r);
    EXPECT_EQ(r.config->api.port, 8080);
    ASSERT_NE(r.config->chain("local"), nullptr);
    EXPECT_EQ(r.config->chain("local")->rpc.at(0), "http://127.0.0.1:8545");
    EXPECT_EQ(r.config->daemon.data_dir, std::filesystem::path(DEPOSITD_SOURCE_DIR "/data").lexically_normal().string());
}

TEST(ConfigExamples, ProductionExampleLoadsCleanWithEnvironment) {
    std::ifstream in(DEPOSITD_SOURCE_DIR "/examples/production.toml");
    ASSERT_TRUE(in.good());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const LoadResult r = load_string(text, "production.toml", &test_env);
    ASSERT_TRUE(r.config.has_value()) << all(r);
    const Config& c = *r.config;
    EXPECT_EQ(c.chains.size(), 3u);
    ASSERT_NE(c.chain("tron"), nullptr);
    EXPECT_EQ(c.chain("tron")->headers.at("TRON-PRO-API-KEY"), "trongrid-secret-value");
    EXPECT_EQ(c.chain("ethereum")->rpc.at(0), "https://eth-mainnet.example/v2/secretkey");
    EXPECT_EQ(c.api.keys.at(0), "test-api-key-0123456789abcdef");

    // Without the environment, each variable is named (never its value).
    const LoadResult bare = load_string(text, "production.toml", [](const std::string&) { return std::string(); });
    EXPECT_FALSE(bare.config);
    for (const char* var : {"DEPOSITD_API_KEY", "DEPOSITD_WEBHOOK_SECRET", "ETH_RPC_URL", "BSC_RPC_URL", "TRONGRID_KEY"})
        EXPECT_TRUE(mentions(bare, std::string("environment variable ") + var + " is not set")) << var << all(bare);
}

// ---------------------------------------------------------------------------
// min_amount and chain_id (issue 9)

TEST(Config, MinAmountAndChainId) {
    const LoadResult r = load(kMinimal +
                              "chain_id = 1\n"
                              "tokens = [{ symbol = \"USDT\", contract = \"0xdAC17F958D2ee523a2206206994597C13D831ec7\", "
                              "decimals = 6, min_amount = \"0.01\" }, { symbol = \"USDC\", contract = "
                              "\"0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48\", decimals = 6 }]\n");
    ASSERT_TRUE(r.config.has_value()) << all(r);
    const ChainConfig& c = r.config->chains[0];
    ASSERT_TRUE(c.chain_id.has_value());
    EXPECT_EQ(*c.chain_id, 1u);
    EXPECT_EQ(c.chain_id_source, "depositd.toml:10:chains[0].chain_id");
    ASSERT_TRUE(c.tokens[0].min_amount.has_value());
    EXPECT_EQ(*c.tokens[0].min_amount, U256(10000));  // 0.01 with 6 decimals
    EXPECT_FALSE(c.tokens[1].min_amount.has_value());
    EXPECT_FALSE(c.native.min_amount.has_value());

    std::string text = kMinimal;
    text.replace(text.find("decimals = 18 }"), 15, "decimals = 18, min_amount = \"0.000000000000000001\" }");
    const LoadResult n = load(text);
    ASSERT_TRUE(n.config.has_value()) << all(n);
    EXPECT_EQ(*n.config->chains[0].native.min_amount, U256(1));
    EXPECT_FALSE(n.config->chains[0].chain_id.has_value());
}

TEST(ConfigProblems, MinAmountAndChainId) {
    const std::string head = "tokens = [{ symbol = \"USDT\", contract = \"0xdAC17F958D2ee523a2206206994597C13D831ec7\", "
                             "decimals = 6, min_amount = ";
    expect_one(kMinimal + head + "0.01 }]\n", 10, "chains[0].tokens[0].min_amount", "decimal string");
    expect_one(kMinimal + head + "\"0.0000001\" }]\n", 10, "chains[0].tokens[0].min_amount", "at most 6 decimals");
    expect_one(kMinimal + head + "\"-1\" }]\n", 10, "chains[0].tokens[0].min_amount", "\"-1\"");
    expect_one(kMinimal + head + "\"1e3\" }]\n", 10, "chains[0].tokens[0].min_amount", "\"1e3\"");
    std::string native = kMinimal;
    native.replace(native.find("decimals = 18 }"), 15, "decimals = 18, min_amount = \"abc\" }");
    expect_one(native, 9, "chains[0].native.min_amount", "\"abc\"");

    expect_one(kMinimal + "chain_id = 0\n", 10, "chains[0].chain_id", "positive integer");
    expect_one(kMinimal + "chain_id = \"1\"\n", 10, "chains[0].chain_id", "positive integer");
    std::string tron = kMinimal;
    tron.replace(tron.find("kind = \"evm\""), 12, "kind = \"tron\"");
    tron.replace(tron.find("decimals = 18"), 13, "decimals = 6");  // TRX (issue 19: 18 is refused)
    expect_one(tron + "chain_id = 728126428\n", 10, "chains[0].chain_id", "only EVM chains");
}

// ---- issue 10: listen is an IP literal; API connection caps; response size; depositctl's ${VAR}s ----

TEST(ConfigProblems, ListenHostMustBeAnIpLiteral) {
    const std::string head = "[api]\nkeys = [\"0123456789abcdef\"]\n";
    const std::string rest = kMinimal.substr(kMinimal.find("[[chains]]"));
    for (const char* bad : {"localhost:8080", "api.example.com:8080", "my-host:0", "127.0.0.1.nip.io:80",
                            "127.1:8080", "0x7f.0.0.1:8080", "1.2.3.4.5:8080", "256.0.0.1:8080"})
        expect_one(head + "listen = \"" + bad + "\"\n" + rest, 3, "api.listen", "must be an IP address");
    expect_one(head + "listen = \"[localhost]:8080\"\n" + rest, 3, "api.listen", "not an IPv6 address");
    expect_one(head + "listen = \"[127.0.0.1]:8080\"\n" + rest, 3, "api.listen", "not an IPv6 address");
    expect_one(head + "listen = \"[fe80::1%eth0]:8080\"\n" + rest, 3, "api.listen", "not an IPv6 address");
    for (const char* good : {"127.0.0.1:8080", "0.0.0.0:0", "10.1.2.3:65535", "[::1]:8080", "[::]:80",
                             "[2001:db8::17]:443", "[::ffff:127.0.0.1]:8080"}) {
        const LoadResult r = load(head + "listen = \"" + good + "\"\n" + rest);
        EXPECT_TRUE(r.config.has_value()) << good << "\n" << all(r);
    }
    const LoadResult v6 = load(head + "listen = \"[::1]:9090\"\n" + rest);
    ASSERT_TRUE(v6.config);
    EXPECT_EQ(v6.config->api.host, "::1");
    EXPECT_EQ(v6.config->api.port, 9090);
}

TEST(ConfigApi, ConnectionCapsAndIdleTimeout) {
    const std::string head = "[api]\nkeys = [\"0123456789abcdef\"]\n";
    const std::string rest = kMinimal.substr(kMinimal.find("[[chains]]"));
    const LoadResult defaults = load(kMinimal);
    ASSERT_TRUE(defaults.config);
    EXPECT_EQ(defaults.config->api.max_connections, 512u);
    EXPECT_EQ(defaults.config->api.max_connections_per_client, 64u);
    EXPECT_EQ(defaults.config->api.idle_timeout, 10s);
    const LoadResult set = load(head + "max_connections = 2000\nmax_connections_per_client = 500\nidle_timeout = \"30s\"\n" + rest);
    ASSERT_TRUE(set.config) << all(set);
    EXPECT_EQ(set.config->api.max_connections, 2000u);
    EXPECT_EQ(set.config->api.max_connections_per_client, 500u);
    EXPECT_EQ(set.config->api.idle_timeout, 30s);
    expect_one(head + "max_connections = 0\n" + rest, 3, "api.max_connections", "from 1 to 100000");
    expect_one(head + "max_connections_per_client = \"64\"\n" + rest, 3, "api.max_connections_per_client", "integer");
    expect_one(head + "max_connections = 10\nmax_connections_per_client = 11\n" + rest, 4,
               "api.max_connections_per_client", "must not exceed max_connections (10)");
    expect_one(head + "idle_timeout = \"0s\"\n" + rest, 3, "api.idle_timeout", "greater than zero");
    expect_one(head + "idle_timeout = 10\n" + rest, 3, "api.idle_timeout", "with a unit");
}

TEST(ConfigChains, MaxResponseSize) {
    const LoadResult defaults = load(kMinimal);
    ASSERT_TRUE(defaults.config);
    EXPECT_EQ(defaults.config->chains[0].max_response_bytes, 32u << 20);
    for (const auto& [text, bytes] : std::vector<std::pair<std::string, std::size_t>>{
             {"\"16MiB\"", 16u << 20}, {"\"512KiB\"", 512u << 10}, {"\"1GiB\"", 1u << 30},
             {"\"100000\"", 100000}, {"\"100000B\"", 100000}, {"8388608", 8u << 20}, {"\"64 KiB\"", 64u << 10}}) {
        const LoadResult r = load(kMinimal + "max_response_size = " + text + "\n");
        ASSERT_TRUE(r.config) << text << "\n" << all(r);
        EXPECT_EQ(r.config->chains[0].max_response_bytes, bytes) << text;
    }
    expect_one(kMinimal + "max_response_size = \"16MB\"\n", 10, "chains[0].max_response_size", "use B, KiB, MiB or GiB");
    expect_one(kMinimal + "max_response_size = \"lots\"\n", 10, "chains[0].max_response_size", "not a size");
    expect_one(kMinimal + "max_response_size = \"2GiB\"\n", 10, "chains[0].max_response_size", "from 64KiB to 1GiB");
    expect_one(kMinimal + "max_response_size = 1000\n", 10, "chains[0].max_response_size", "(got 1000 bytes)");
    expect_one(kMinimal + "max_response_size = -1\n", 10, "chains[0].max_response_size", "from 64KiB to 1GiB");
    expect_one(kMinimal + "max_response_size = 1.5\n", 10, "chains[0].max_response_size", "not a float");
    expect_one(kMinimal + "max_response_size = \"99999999999999999999GiB\"\n", 10, "chains[0].max_response_size",
               "too large");
}

TEST(ConfigReader, DepositctlNeedsOnlyTheVariablesOfTheKeysItReads) {
    // Every secret comes from a variable that is not set where depositctl runs.
    const std::string text = R"toml([daemon]
data_dir = "${STATE_DIR}"
[api]
listen = "${LISTEN}"
keys = ["${UNSET_API_KEY}"]
[webhook]
url = "${UNSET_WEBHOOK_URL}"
secret = "${UNSET_WEBHOOK_SECRET}"
[[chains]]
id = "eth"
kind = "evm"
rpc = ["${UNSET_RPC_URL}"]
headers = { "X-Api-Key" = "${UNSET_HEADER}" }
confirmations = 3
native = { symbol = "ETH", decimals = 18 }
[pool]
cooldown = "1h"
)toml";
    auto env = [](const std::string& name) -> std::string { return name == "STATE_DIR" ? "/srv/state" : ""; };
    // The daemon needs them all.
    const LoadResult daemon = load_string(text, "depositd.toml", env, Reader::daemon);
    EXPECT_FALSE(daemon.config);
    for (const char* v : {"UNSET_API_KEY", "UNSET_WEBHOOK_URL", "UNSET_WEBHOOK_SECRET", "UNSET_RPC_URL", "UNSET_HEADER", "LISTEN"})
        EXPECT_TRUE(mentions(daemon, std::string("environment variable ") + v + " is not set")) << v << all(daemon);
    // depositctl: none of them.
    const LoadResult ctl = load_string(text, "depositd.toml", env, Reader::depositctl);
    ASSERT_TRUE(ctl.config) << all(ctl);
    EXPECT_EQ(ctl.config->daemon.data_dir, "/srv/state");
    EXPECT_EQ(ctl.config->chains.at(0).id, "eth");
    EXPECT_EQ(ctl.config->pool.cooldown, std::chrono::milliseconds(3600'000));
    // ...but the keys it reads still need theirs.
    auto no_state = [](const std::string&) -> std::string { return ""; };
    const LoadResult missing = load_string(text, "depositd.toml", no_state, Reader::depositctl);
    EXPECT_FALSE(missing.config);
    ASSERT_EQ(missing.problems.size(), 1u) << all(missing);
    EXPECT_EQ(missing.problems[0].to_string(),
              "depositd.toml:2:daemon.data_dir: environment variable STATE_DIR is not set (or is empty)");
    // A literal value of an unread key is still checked as for the daemon.
    const LoadResult literal = load_string("[api]\nkeys = [\"tiny\"]\n" + kMinimal.substr(kMinimal.find("[[chains]]")),
                                           "depositd.toml", no_state, Reader::depositctl);
    EXPECT_FALSE(literal.config);
    EXPECT_TRUE(mentions(literal, "depositd.toml:2:api.keys[0]:")) << all(literal);
}

TEST(ConfigReader, ReadsKey) {
    EXPECT_TRUE(reads_key(Reader::daemon, "api.keys[0]"));
    EXPECT_TRUE(reads_key(Reader::depositctl, "daemon.data_dir"));
    EXPECT_TRUE(reads_key(Reader::depositctl, "chains[3].id"));
    EXPECT_TRUE(reads_key(Reader::depositctl, "chains[12].kind"));
    EXPECT_TRUE(reads_key(Reader::depositctl, "pool.cooldown"));
    EXPECT_FALSE(reads_key(Reader::depositctl, "daemon.log_level"));
    EXPECT_FALSE(reads_key(Reader::depositctl, "api.keys[0]"));
    EXPECT_FALSE(reads_key(Reader::depositctl, "webhook.secret"));
    EXPECT_FALSE(reads_key(Reader::depositctl, "chains[0].rpc[0]"));
    EXPECT_FALSE(reads_key(Reader::depositctl, "chains[0].headers.X-Key"));
    EXPECT_FALSE(reads_key(Reader::depositctl, "chains[0].tokens[0].contract"));
}

// Bitcoin chains (issue 11): rpc_cookie_file, no tokens, 8 decimals.

namespace {
const std::string kBitcoin = R"toml([api]
keys = ["0123456789abcdef"]
[[chains]]
id = "btc"
kind = "bitcoin"
rpc = ["http://127.0.0.1:8332/"]
confirmations = 3
native = { symbol = "BTC", decimals = 8 }
)toml";
}  // namespace

TEST(ConfigBitcoin, CookieFileResolvesAgainstTheConfigFolder) {
    const LoadResult r = load(kBitcoin + "rpc_cookie_file = \"node/.cookie\"\n", "/etc/depositd/depositd.toml");
    ASSERT_TRUE(r.config.has_value()) << all(r);
    EXPECT_EQ(r.config->chains[0].rpc_cookie_file, "/etc/depositd/node/.cookie");
    const LoadResult abs = load(kBitcoin + "rpc_cookie_file = \"/var/lib/bitcoind/.cookie\"\n");
    ASSERT_TRUE(abs.config.has_value()) << all(abs);
    EXPECT_EQ(abs.config->chains[0].rpc_cookie_file, "/var/lib/bitcoind/.cookie");
    const LoadResult none = load(kBitcoin);
    ASSERT_TRUE(none.config.has_value()) << all(none);
    EXPECT_TRUE(none.config->chains[0].rpc_cookie_file.empty());
}

TEST(ConfigBitcoin, Problems) {
    expect_one(kBitcoin + "rpc_cookie_file = \"\"\n", 9, "chains[0].rpc_cookie_file", "must not be empty");
    expect_one(kBitcoin + "rpc_cookie_file = 5\n", 9, "chains[0].rpc_cookie_file", "must be a string");
    expect_one(kMinimal + "rpc_cookie_file = \"/x/.cookie\"\n", 10, "chains[0].rpc_cookie_file",
               "only for kind = \"bitcoin\"");
    std::string with_userinfo = kBitcoin;
    with_userinfo.replace(with_userinfo.find("http://127"), 10, "http://u:p@127");
    expect_one(with_userinfo + "rpc_cookie_file = \"/x/.cookie\"\n", 9, "chains[0].rpc_cookie_file", "not both");
    expect_one(kBitcoin + "tokens = [{ symbol = \"USDT\", contract = \"x\", decimals = 6 }]\n", 9, "chains[0].tokens",
               "bitcoin chains have no tokens");
    std::string decimals = kBitcoin;
    decimals.replace(decimals.find("decimals = 8"), 12, "decimals = 18");
    expect_one(decimals, 8, "chains[0].native.decimals", "8 decimals");
    // user:password in the URL alone is fine (Basic auth).
    std::string userinfo = kBitcoin;
    userinfo.replace(userinfo.find("http://127"), 10, "http://user:pass@127");
    EXPECT_TRUE(load(userinfo).config.has_value());
}

// The native coin's decimals are the protocol's (issue 19): a TRON chain
// copied from an EVM block (`decimals = 18`) would report every TRX deposit
// 10^12 too small. Refused at load time, naming file:line:key.
TEST(ConfigProblems, NativeDecimalsAreFixedPerKind) {
    const std::string tron = R"toml([api]
keys = ["0123456789abcdef"]
[[chains]]
id = "tron"
kind = "tron"
rpc = ["https://api.trongrid.io"]
confirmations = "finalized"
native = { symbol = "TRX", decimals = 6 }
)toml";
    ASSERT_TRUE(load(tron).config.has_value()) << all(load(tron));
    std::string trx18 = tron;
    trx18.replace(trx18.find("decimals = 6"), 12, "decimals = 18");
    expect_one(trx18, 8, "chains[0].native.decimals", "TRX has 6 decimals");
    const LoadResult r = load(trx18, "/etc/depositd/depositd.toml");
    ASSERT_EQ(r.problems.size(), 1u) << all(r);
    EXPECT_EQ(r.problems[0].to_string().rfind("/etc/depositd/depositd.toml:8:chains[0].native.decimals", 0), 0u)
        << r.problems[0].to_string();
    EXPECT_NE(r.problems[0].to_string().find("got 18"), std::string::npos) << r.problems[0].to_string();

    ASSERT_TRUE(load(kMinimal).config.has_value());
    for (const char* wrong : {"decimals = 6", "decimals = 9", "decimals = 0"}) {
        std::string eth = kMinimal;
        eth.replace(eth.find("decimals = 18"), 13, wrong);
        expect_one(eth, 9, "chains[0].native.decimals", "18 decimals");
    }
    // Tokens keep whatever decimals their contract has (BSC's USDT: 18).
    EXPECT_TRUE(load(kMinimal + "tokens = [{ symbol = \"USDT\", contract = "
                                "\"0x55d398326f99059fF775485246999027B3197955\", decimals = 18 }]\n")
                    .config.has_value());
}

TEST(Config, SolanaChainAsInSpec) {
    // SPEC §3, the Solana block.
    const std::string text = R"toml([api]
keys = ["0123456789abcdef"]

[[chains]]                        # Solana JSON-RPC
id            = "solana"
kind          = "solana"
rpc           = ["https://solana.example/rpc"]
confirmations = "finalized"       # pending at `confirmed`, confirmed at `finalized`
start         = "latest"          # or a slot
native        = { symbol = "SOL", decimals = 9 }
tokens = [ { symbol = "USDT", contract = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB", decimals = 6 } ]  # contract = mint
)toml";
    const LoadResult r = load(text);
    ASSERT_TRUE(r.config.has_value()) << all(r);
    const ChainConfig& c = r.config->chains.at(0);
    EXPECT_EQ(c.kind, Protocol::solana);
    EXPECT_TRUE(c.finalized);
    EXPECT_FALSE(c.start.has_value());
    EXPECT_EQ(c.native.symbol, "SOL");
    EXPECT_EQ(c.native.decimals, 9u);
    ASSERT_EQ(c.tokens.size(), 1u);
    EXPECT_EQ(c.tokens[0].contract, "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB");
    EXPECT_EQ(c.max_block_range, 100u);  // the default for solana
    EXPECT_EQ(c.poll_interval, 2s);
    // A slot to start at.
    std::string at_slot = text;
    at_slot.replace(at_slot.find("start         = \"latest\""), 24, "start = 311350484");
    const LoadResult s = load(at_slot);
    ASSERT_TRUE(s.config.has_value()) << all(s);
    EXPECT_EQ(s.config->chains.at(0).start.value_or(0), 311350484u);
}

TEST(ConfigProblems, Solana) {
    const std::string base = R"toml([api]
keys = ["0123456789abcdef"]
[[chains]]
id = "sol"
kind = "solana"
rpc = ["https://solana.example/rpc"]
confirmations = "finalized"
native = { symbol = "SOL", decimals = 9 }
)toml";
    ASSERT_TRUE(load(base).config.has_value()) << all(load(base));
    std::string six = base;
    six.replace(six.find("decimals = 9"), 12, "decimals = 6");
    expect_one(six, 8, "chains[0].native.decimals", "SOL has 9 decimals");
    expect_one(base + "max_block_range = 500001\n", 9, "chains[0].max_block_range", "500000");
    EXPECT_TRUE(load(base + "max_block_range = 500000\n").config.has_value());
    expect_one(base + "tokens = [{ symbol = \"USDT\", contract = \"0xdAC17F958D2ee523a2206206994597C13D831ec7\", "
                      "decimals = 6 }]\n",
               9, "chains[0].tokens[0].contract", "Solana mint");
    expect_one(base + "tokens = [{ symbol = \"USDT\", contract = \"Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB\", "
                      "decimals = 6 }, { symbol = \"USDT2\", contract = \"Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB\", "
                      "decimals = 6 }]\n",
               9, "chains[0].tokens[1].contract", "duplicate contract");
}

// [store] (SPEC §11): PostgreSQL by URL, SQLite without the section.
TEST(ConfigStore, AbsentIsSqliteInDataDir) {
    const LoadResult r = load(kMinimal);
    ASSERT_TRUE(r.config) << all(r);
    EXPECT_FALSE(r.config->store.url);
    EXPECT_EQ(r.config->store_location(), r.config->database_path());
}

TEST(ConfigStore, UrlWithVariableIsPostgres) {
    const LoadResult r = load(kMinimal + "[store]\nurl = \"postgresql://depositd:${SHORT_KEY}@127.0.0.1:5432/depositd\"\n");
    ASSERT_TRUE(r.config) << all(r);
    EXPECT_EQ(r.config->store_location(), "postgresql://depositd:short@127.0.0.1:5432/depositd");
    // Printed with its reference, never the password.
    const std::string printed = to_toml(*r.config);
    EXPECT_NE(printed.find("[store]"), std::string::npos) << printed;
    EXPECT_NE(printed.find("${SHORT_KEY}"), std::string::npos) << printed;
    EXPECT_EQ(printed.find(":short@"), std::string::npos) << printed;
}

// Standby daemons (SPEC §11): the lease and how often standbys look.
TEST(ConfigStore, LeaseTimingsHaveDefaultsAndBounds) {
    const std::string url = "[store]\nurl = \"postgresql://a@127.0.0.1/d\"\n";
    const LoadResult d = load(kMinimal + url);
    ASSERT_TRUE(d.config) << all(d);
    EXPECT_EQ(d.config->store.lease, std::chrono::seconds(10));
    EXPECT_EQ(d.config->store.lease_poll, std::chrono::milliseconds(200));
    const LoadResult set = load(kMinimal + url + "lease = \"4s\"\nlease_poll = \"100ms\"\n");
    ASSERT_TRUE(set.config) << all(set);
    EXPECT_EQ(set.config->store.lease, std::chrono::seconds(4));
    EXPECT_EQ(set.config->store.lease_poll, std::chrono::milliseconds(100));
    EXPECT_NE(to_toml(*set.config).find("lease = \"4s\""), std::string::npos) << to_toml(*set.config);

    expect_one(kMinimal + url + "lease = \"1s\"\n", 12, "store.lease", "from 2s to 5m");
    expect_one(kMinimal + url + "lease = \"10m\"\n", 12, "store.lease", "from 2s to 5m");
    expect_one(kMinimal + url + "lease = \"soon\"\n", 12, "store.lease", "");
    expect_one(kMinimal + url + "lease_poll = \"10ms\"\n", 12, "store.lease_poll", "from 50ms to 10s");
    expect_one(kMinimal + url + "lease = \"4s\"\nlease_poll = \"1s\"\n", 10, "store.lease_poll",
               "a fifth of store.lease");
}

TEST(ConfigStore, BadUrlsAreProblems) {
    expect_one(kMinimal + "[store]\n", 10, "store.url", "required");
    expect_one(kMinimal + "[store]\nurl = \"/var/lib/depositd/db.sqlite\"\n", 11, "store.url", "PostgreSQL URL");
    expect_one(kMinimal + "[store]\nurl = \"host=127.0.0.1 dbname=x\"\n", 11, "store.url", "PostgreSQL URL");
    expect_one(kMinimal + "[store]\nurl = 5\n", 11, "store.url", "string");
    const LoadResult typo = load(kMinimal + "[store]\nulr = \"postgresql://a@b/c\"\n");
    EXPECT_FALSE(typo.config);
    EXPECT_TRUE(mentions(typo, "store.ulr: unknown key (did you mean \"url\"?)")) << all(typo);
}
