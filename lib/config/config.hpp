#pragma once
// depositd's configuration (SPEC §3) as typed structs: the one include for
// users of the configuration. Each section's struct lives in its own header
// (section_<name>.hpp), next to its parser (section_<name>.cpp).
//
// Parsing rejects every unknown key, wrong type or bad value with an error
// naming file:line:key; nothing is silently defaulted over a bad value.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/section_admin.hpp"
#include "config/section_api.hpp"
#include "config/section_chains.hpp"
#include "config/section_daemon.hpp"
#include "config/section_merchant.hpp"
#include "config/section_notify.hpp"
#include "config/section_orders.hpp"
#include "config/section_store.hpp"
#include "config/section_pool.hpp"
#include "config/section_webhook.hpp"
#include "config/units.hpp"

namespace depositd::config {

struct Config {
    std::string path;                   // the file it came from
    DaemonConfig daemon;
    StoreConfig store;                  // [store]: PostgreSQL, or SQLite without it (section_store.hpp)
    ApiConfig api;
    WebhookConfig webhook;
    std::vector<ChainConfig> chains;
    PoolConfig pool;
    OrdersConfig orders;
    MerchantConfig merchant;
    AdminConfig admin;                  // [admin]: the console (section_admin.hpp)
    NotifyConfig notify;                // [notify.telegram] (section_notify.hpp)

    // Secret values as written in the file (their ${VAR} references not
    // expanded), by dotted key ("api.keys[0]"): what to_toml() prints,
    // masked. Never logged.
    std::map<std::string, std::string> secrets_as_written;
    // Reader::check only: "file:line:key" of each secret that holds the
    // mask of --print-config (kMasked); the daemon refuses such a file.
    std::vector<std::string> masked_secrets;

    std::string database_path() const;  // <data_dir>/depositd.sqlite
    // Where the state is: [store] url (PostgreSQL) or database_path().
    std::string store_location() const { return store.url ? *store.url : database_path(); }
    const ChainConfig* chain(const std::string& id) const;
};

// What --print-config prints instead of a secret written literally.
inline constexpr std::string_view kMasked = "********";

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
// Values without ${VAR} are checked as for the daemon. `check` (--check-config,
// --print-config) reads as the daemon does, but a secret masked by
// --print-config counts as present (Config::masked_secrets); the daemon
// refuses it.
enum class Reader { daemon, depositctl, check };

// Whether `reader` uses the value of `key` ("chains[0].id", "api.keys[1]"),
// as the sections' key tables say.
bool reads_key(Reader reader, std::string_view key);

// Reads and validates a file. `env` lookup is injectable for tests.
LoadResult load_file(const std::string& path, Reader reader = Reader::daemon);
LoadResult load_string(const std::string& text, const std::string& name,
                       std::string (*getenv_fn)(const std::string&) = nullptr, Reader reader = Reader::daemon);

// The effective configuration as TOML (--print-config): presets expanded,
// defaults filled in, secrets masked (print.hpp); load_string() with
// Reader::check reads it back to the same Config.
std::string to_toml(const Config& cfg);

}  // namespace depositd::config
