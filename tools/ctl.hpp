#pragma once
// depositctl internals: strict argument parsing, exits, output helpers.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "store/database.hpp"

namespace depositd::ctl {

// SPEC §2 exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;  // database and other runtime failures
inline constexpr int kExitUsage = 2;    // bad usage, bad config, bad input

// Thrown for a bad command line: the message, then the command's usage, on stderr; exit 2.
struct UsageError {
    std::string message;
};
// Thrown to stop with a message on stderr and an exit code.
struct Exit {
    int code;
    std::string message;
};
[[noreturn]] inline void fail_input(std::string msg) { throw Exit{kExitUsage, std::move(msg)}; }
[[noreturn]] inline void fail_runtime(std::string msg) { throw Exit{kExitRuntime, std::move(msg)}; }

struct Args {
    std::map<std::string, std::string> values;  // --flag value
    std::set<std::string> flags;                // --flag (no value)
    std::vector<std::string> positional;

    bool has(const std::string& name) const { return values.count(name) || flags.count(name); }
    std::optional<std::string> get(const std::string& name) const;
    const std::string& required(const std::string& name) const;  // UsageError when missing
};

// Everything a command needs; the database is opened on first use.
class Context {
public:
    explicit Context(config::Config cfg) : config_(std::move(cfg)) {}
    const config::Config& config() const { return config_; }
    store::Database& db();  // opens + migrates; Exit{1} on failure

private:
    config::Config config_;
    std::unique_ptr<store::Database> db_;
};

struct Command {
    std::string name;                  // "pool import"
    std::string synopsis;              // usage line(s) without "depositctl"
    std::string help;                  // description + options
    std::vector<std::string> options;  // flags taking a value
    std::vector<std::string> switches; // flags without a value
    std::size_t min_positional = 0, max_positional = 0;
    int (*run)(Context&, const Args&) = nullptr;
    // Commands that need neither the configuration nor the database
    // (admin hash-password, admin totp-secret): --config is optional.
    int (*run_alone)(const Args&) = nullptr;
};

const std::vector<Command>& commands();
// Parses the tokens after the command words; --help is handled by the caller.
Args parse_args(const Command& cmd, const std::vector<std::string>& tokens);

// Value checks (UsageError naming the flag).
std::string protocol_arg(const Args& a, const std::string& flag = "--protocol");
std::uint64_t uint_arg(const std::string& flag, const std::string& text, std::uint64_t min, std::uint64_t max);
bool valid_reference(const std::string& ref);  // as the API: 1-128 of [A-Za-z0-9_.:@-]

// Output.
void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);
std::string printable(const std::string& text, std::size_t max = 120);  // escapes control bytes, truncates
std::int64_t now_ms();
// Sets the variables of a systemd EnvironmentFile (KEY=VALUE lines, # and ;
// comments, optional quotes) in this process. Exit 2 on an unreadable file
// or a malformed line.
void load_env_file(const std::string& path);
bool stderr_is_tty();

// Command implementations.
int cmd_pool_import(Context&, const Args&);
int cmd_pool_derive(Context&, const Args&);
int cmd_pool_stats(Context&, const Args&);
int cmd_bind(Context&, const Args&);
int cmd_unbind(Context&, const Args&);
int cmd_deposits_list(Context&, const Args&);
int cmd_events_list(Context&, const Args&);
int cmd_events_resend(Context&, const Args&);
int cmd_status(Context&, const Args&);
int cmd_backup(Context&, const Args&);
int cmd_migrate_store(Context&, const Args&);
int cmd_recheck(Context&, const Args&);
int cmd_admin_hash_password(const Args&);
int cmd_admin_totp_secret(const Args&);

}  // namespace depositd::ctl
