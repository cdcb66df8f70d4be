#pragma once
// depositd's configuration (SPEC §3) as typed structs. Parsing rejects every
// unknown key, wrong type or bad value with an error naming file:line:key;
// nothing is silently defaulted over a bad value.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/ids.hpp"
#include "core/result.hpp"

namespace depositd::config {

using Duration = std::chrono::milliseconds;

struct DaemonConfig {
    std::string data_dir = "./data";   // relative paths resolve against the config file's folder
    std::string log_level = "info";
};

struct ApiConfig {
    std::string listen = "127.0.0.1:8080";
    std::string host = "127.0.0.1";     // split from listen
    std::uint16_t port = 8080;
    std::vector<std::string> keys;      // bearer keys, after ${VAR} expansion; never logged
    std::size_t max_body_bytes = 64 * 1024;
};

struct WebhookConfig {
    std::string url;                    // empty: webhooks disabled (events stay pending)
    std::vector<std::string> secrets;   // "whsec_..."; `secret` (string) or `secrets` (array, rotation)
    Duration timeout = std::chrono::seconds(10);
    std::vector<Duration> schedule = {std::chrono::seconds(15), std::chrono::minutes(1),  std::chrono::minutes(5),
                                      std::chrono::minutes(10), std::chrono::minutes(30), std::chrono::minutes(60)};
    unsigned concurrency = 8;           // deliveries in flight
};

struct TokenConfig {
    std::string symbol;
    std::string contract;               // as written; adapters normalise it
    unsigned decimals = 0;
};

struct ChainConfig {
    ChainId id;
    Protocol kind = Protocol::evm;
    std::vector<std::string> rpc;       // several = failover, in order
    // confirmations: a number of blocks, or finalized (use the chain's finality tag).
    std::uint32_t confirmations = 12;
    bool finalized = false;
    Duration poll_interval = std::chrono::seconds(3);
    // start: "latest" (nullopt) or a block number / slot.
    std::optional<std::uint64_t> start;
    TokenConfig native;                 // symbol + decimals; contract empty
    std::vector<TokenConfig> tokens;
    std::uint32_t max_block_range = 500;
    std::uint32_t max_reorg_depth = 64;
    std::map<std::string, std::string> headers;  // after ${VAR} expansion; values never logged
    double max_rps = 0;                 // 0 = no cap (rate, not money)
    Duration request_timeout = std::chrono::seconds(10);
    // kind bitcoin: Basic-auth credentials from Bitcoin Core's cookie file
    // ("" = none), re-read when the node answers 401. Relative paths resolve
    // against the config file's folder. Exclusive with user:password in rpc.
    std::string rpc_cookie_file;
    // Where the key was defined, for later error messages.
    std::string source;                 // "file:line"
};

struct PoolConfig {
    // nullopt = "never": an unbound address is never handed out again.
    std::optional<Duration> cooldown;
    std::uint32_t low_water = 100;
};

struct Config {
    std::string path;                   // the file it came from
    DaemonConfig daemon;
    ApiConfig api;
    WebhookConfig webhook;
    std::vector<ChainConfig> chains;
    PoolConfig pool;

    std::string database_path() const;  // <data_dir>/depositd.sqlite
    const ChainConfig* chain(const std::string& id) const;
};

// One problem, located: "depositd.toml:12:chains[0].rpc: must not be empty".
struct Problem {
    std::string file;
    int line = 0;
    std::string key;
    std::string message;
    std::string to_string() const;
};

struct LoadResult {
    std::optional<Config> config;       // set when there are no problems
    std::vector<Problem> problems;      // every problem found, not just the first
};

// Reads and validates a file. `env` lookup is injectable for tests.
LoadResult load_file(const std::string& path);
LoadResult load_string(const std::string& text, const std::string& name,
                       std::string (*getenv_fn)(const std::string&) = nullptr);

// "3s", "250ms", "1m", "2h" -> milliseconds. No unit, negative or garbage: error.
Result<Duration> parse_duration(std::string_view text);

}  // namespace depositd::config
