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

#include "config/admin.hpp"
#include "core/amount.hpp"
#include "core/ids.hpp"
#include "core/result.hpp"

namespace depositd::config {

using Duration = std::chrono::milliseconds;

struct DaemonConfig {
    std::string data_dir = "./data";   // relative paths resolve against the config file's folder
    std::string log_level = "info";
    // A loop (chain, webhook dispatcher) that has been inside one step for
    // longer is hung: the systemd watchdog pings stop. nullopt: derived from
    // the chains' request_timeout (daemon/service_notify.hpp).
    std::optional<std::chrono::milliseconds> stall_timeout;
};

struct ApiConfig {
    std::string listen = "127.0.0.1:8080";
    std::string host = "127.0.0.1";     // split from listen
    std::uint16_t port = 8080;
    std::vector<std::string> keys;      // bearer keys, after ${VAR} expansion; never logged
    // key_labels[i] names keys[i] in the audit log: the label given
    // ({ key = "...", label = "shop" }) or "key#<i+1>".
    std::vector<std::string> key_labels;
    std::size_t max_body_bytes = 64 * 1024;
    std::size_t max_connections = 512;             // open API connections, all clients together
    std::size_t max_connections_per_client = 64;   // per client IP address (IPv6: per /64)
    Duration idle_timeout = std::chrono::seconds(10);  // a connection waiting for its next request is closed
    // How payers reach the payment page ("https://pay.example", no trailing
    // slash). Empty: paymentUrl is built from `listen`.
    std::string public_url;
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
    // `min_amount` (a decimal string in token units, exact) in base units:
    // smaller transfers are dust, not deposits. nullopt: no floor.
    std::optional<U256> min_amount;
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
    // EVM: the chain id every endpoint must report (eth_chainId); nullopt:
    // every endpoint must agree with the first endpoint's answer.
    std::optional<std::uint64_t> chain_id;
    std::string chain_id_source;        // "file:line:chains[N].chain_id" when set
    // Largest node answer read (max_response_size); bigger ones are refused
    // as "range too large" and the adapter asks for fewer blocks.
    std::size_t max_response_bytes = 32u << 20;
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

// [orders] (SPEC §3, §8). Optional: without it orders still work in address
// mode with a 30m expiry, but every order must name what it pays in.
struct OrdersConfig {
    enum class Mode { address, amount };
    std::string default_pay;            // "<symbol>.<chainId>", lower case; empty = none
    Duration expiry = std::chrono::minutes(30);
    Mode mode = Mode::address;
    std::map<std::string, std::string> receive;  // chainId -> shared address as written (mode amount)
    std::string fiat;                   // "CNY"; empty = amounts are in the pay currency
    std::string rate;                   // "7.4" | "~1.02" | "+0.3" | "-0.1" (as written)
    std::string rate_source;            // URL answering JSON with the base rate; empty = none
    std::string rate_path;              // dotted path to the base rate in that JSON ("" = the whole answer)
    Duration rate_refresh = std::chrono::seconds(60);
    Duration rate_max_age = std::chrono::minutes(10);  // older than this: new fiat orders are refused
    unsigned precision = 2;             // converted amounts are rounded UP to this many decimals
    // How long an order's pool address rests before another order (or a
    // binding) may take it; nullopt = never again.
    std::optional<Duration> cooldown = std::chrono::hours(24);
    std::string source;                 // "file:line" of [orders] ("" when absent)
    std::map<std::string, std::string> receive_source;  // chainId -> "file:line" of its address
};

// [merchant]: the EPay- and epusdt-compatible endpoints (SPEC §9).
struct MerchantConfig {
    bool enabled = false;               // [merchant] present
    std::int64_t pid = 0;               // EPay merchant id
    std::string key;                    // EPay key and epusdt API token; never logged
};

struct Config {
    std::string path;                   // the file it came from
    DaemonConfig daemon;
    ApiConfig api;
    WebhookConfig webhook;
    std::vector<ChainConfig> chains;
    PoolConfig pool;
    OrdersConfig orders;
    MerchantConfig merchant;
    AdminConfig admin;                  // [admin] (config/admin.hpp)
    NotifyConfig notify;                // [notify.telegram]

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

// Who reads the configuration. depositctl uses only daemon.data_dir,
// chains[].id / kind and [pool]; the ${VAR}s in every other key (API keys,
// webhook secrets, RPC URLs and headers, ...) are then neither expanded nor
// required, so an operator needs none of the daemon's secrets to run it.
// Values without ${VAR} are checked as for the daemon.
enum class Reader { daemon, depositctl };

// Whether `reader` uses the value of `key` ("chains[0].id", "api.keys[1]").
bool reads_key(Reader reader, std::string_view key);

// Reads and validates a file. `env` lookup is injectable for tests.
LoadResult load_file(const std::string& path, Reader reader = Reader::daemon);
LoadResult load_string(const std::string& text, const std::string& name,
                       std::string (*getenv_fn)(const std::string&) = nullptr, Reader reader = Reader::daemon);

// "3s", "250ms", "1m", "2h" -> milliseconds. No unit, negative or garbage: error.
Result<Duration> parse_duration(std::string_view text);

// "32MiB", "512KiB", "1GiB", "65536", "65536B" -> bytes (binary units only).
Result<std::uint64_t> parse_size(std::string_view text);
std::string format_size(std::uint64_t bytes);  // 33554432 -> "32MiB"

// Bounds of chains[].max_response_size.
inline constexpr std::uint64_t kMinResponseSize = 64u << 10;
inline constexpr std::uint64_t kMaxResponseSize = 1u << 30;

}  // namespace depositd::config
