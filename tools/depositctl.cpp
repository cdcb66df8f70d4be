// depositctl: the operator's tool (SPEC §6). Works on the daemon's database,
// also while the daemon runs (SQLite WAL + busy timeout).
//
//   depositctl --config FILE <command> [options]
//
// Exit codes (SPEC §2): 0 ok; 2 bad usage, bad config or bad input; 1 runtime failure.
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/log.hpp"
#include "ctl.hpp"

using namespace depositd;
using namespace depositd::ctl;

namespace {

const char* const kMainUsage =
    "usage: depositctl --config FILE <command> [options]\n"
    "\n"
    "commands:\n"
    "  pool import  --protocol P --file F [--strict]    import addresses (one a line; CSV: first column)\n"
    "  pool derive  --protocol P --xpub X --count N [--from I] [--network NET] [--script TYPE]\n"
    "                                                   derive receive addresses 0/i from an account xpub\n"
    "  pool stats   [--json]                            free / bound / cooling addresses per protocol\n"
    "  bind   REF --protocol P [--metadata JSON] [--json]   bind a permanent deposit address\n"
    "  unbind REF [--protocol P]                        end a binding (the address stays watched)\n"
    "  deposits list [--reference R] [--status S] [--chain C] [--currency X] [--limit N] [--json]\n"
    "  events list   [--status S] [--type T] [--limit N] [--json]\n"
    "  events resend ID                                 deliver a webhook event again now\n"
    "  status [--json]                                  chains, webhook outbox, free pool addresses\n"
    "  backup --to FILE [--force]                       consistent copy of the live database\n"
    "  migrate-store --to URL                           copy the SQLite database into an empty PostgreSQL one\n"
    "  recheck --chain ID --tx HASH [--block-hash H] [--json]\n"
    "                                                   re-check a transaction (asks the running daemon)\n"
    "  admin hash-password                              argon2id hash of a console password (read from the tty)\n"
    "  admin totp-secret --user NAME                    a TOTP secret for a console user's second factor\n"
    "\n"
    "global options:\n"
    "  --config FILE   the daemon's configuration (TOML); its data_dir holds the database\n"
    "  --env-file FILE KEY=VALUE lines to set before the configuration's ${VAR}s expand\n"
    "                  (the service's EnvironmentFile, e.g. /etc/depositd/env)\n"
    "  --help, -h      this text; `depositctl <command> --help` for one command\n"
    "  --version       print the version\n"
    "\n"
    "exit codes: 0 ok; 2 bad usage, bad config or bad input; 1 runtime failure (database)\n";

void print_command_help(const Command& c) {
    std::cout << "usage: depositctl --config FILE " << c.synopsis << "\n\n" << c.help;
}

void print_command_usage(const Command& c) {
    std::cerr << "usage: depositctl --config FILE " << c.synopsis << "\n"
              << "       depositctl " << c.name << " --help\n";
}

// The command words at the front of `rest` -> a command, or nullptr.
const Command* find_command(std::vector<std::string>& rest) {
    for (const auto& c : commands()) {
        // Command names have one or two words.
        auto sp = c.name.find(' ');
        if (sp == std::string::npos) {
            if (!rest.empty() && rest[0] == c.name) {
                rest.erase(rest.begin());
                return &c;
            }
        } else if (rest.size() >= 2 && rest[0] == c.name.substr(0, sp) && rest[1] == c.name.substr(sp + 1)) {
            rest.erase(rest.begin(), rest.begin() + 2);
            return &c;
        }
    }
    return nullptr;
}

// Lists the sub-commands of a group ("pool" -> import, derive, stats).
std::string group_of(const std::string& word) {
    std::string out;
    for (const auto& c : commands()) {
        auto sp = c.name.find(' ');
        if (sp != std::string::npos && c.name.substr(0, sp) == word) {
            if (!out.empty()) out += ", ";
            out += c.name.substr(sp + 1);
        }
    }
    return out;
}

int run(int argc, char** argv) {
    std::vector<std::string> rest;
    std::optional<std::string> config_path;
    std::optional<std::string> env_file;
    bool want_help = false, want_version = false;
    bool seen_command = false;
    for (int i = 1; i < argc; ++i) {
        std::string t = argv[i];
        if (t == "--config" || t.rfind("--config=", 0) == 0) {
            if (config_path) throw UsageError{"--config given twice"};
            if (t == "--config") {
                if (i + 1 >= argc) throw UsageError{"--config needs a value (the configuration file)"};
                config_path = argv[++i];
            } else {
                config_path = t.substr(9);
            }
            if (config_path->empty()) throw UsageError{"--config needs a value (the configuration file)"};
            continue;
        }
        if (t == "--env-file" || t.rfind("--env-file=", 0) == 0) {
            if (env_file) throw UsageError{"--env-file given twice"};
            if (t == "--env-file") {
                if (i + 1 >= argc) throw UsageError{"--env-file needs a value (KEY=VALUE lines)"};
                env_file = argv[++i];
            } else {
                env_file = t.substr(11);
            }
            if (env_file->empty()) throw UsageError{"--env-file needs a value (KEY=VALUE lines)"};
            continue;
        }
        if (!seen_command && (t == "--help" || t == "-h")) {
            want_help = true;
            continue;
        }
        if (!seen_command && t == "--version") {
            want_version = true;
            continue;
        }
        if (!seen_command && t.size() > 1 && t[0] == '-') throw UsageError{"unknown option " + t};
        seen_command = true;
        rest.push_back(std::move(t));
    }
    if (want_version) {
        std::cout << "depositctl " << DEPOSITD_VERSION << "\n";
        return kExitOk;
    }
    if (rest.empty() || rest[0] == "help") {
        if (!rest.empty() && rest.size() > 1) {
            std::vector<std::string> words(rest.begin() + 1, rest.end());
            if (const Command* c = find_command(words); c && words.empty()) {
                print_command_help(*c);
                return kExitOk;
            }
            throw UsageError{"no such command: " + rest[1]};
        }
        if (want_help || !rest.empty()) {
            std::cout << kMainUsage;
            return kExitOk;
        }
        std::cerr << "depositctl: no command given\n" << kMainUsage;
        return kExitUsage;
    }
    std::string first = rest[0];
    const Command* cmd = find_command(rest);
    if (!cmd) {
        std::string group = group_of(first);
        if (!group.empty()) {
            if (rest.size() == 1 && (want_help)) {
                std::cout << kMainUsage;
                return kExitOk;
            }
            throw UsageError{rest.size() < 2 ? "'" + first + "' needs a sub-command: " + group
                                             : "unknown command '" + first + " " + rest[1] + "' (" + first +
                                                   " has: " + group + ")"};
        }
        throw UsageError{"unknown command '" + first + "'"};
    }
    for (const auto& t : rest) {
        if (t == "--help" || t == "-h") want_help = true;
    }
    if (want_help) {
        print_command_help(*cmd);
        return kExitOk;
    }
    Args args;
    try {
        args = parse_args(*cmd, rest);
    } catch (const UsageError& e) {
        std::cerr << "depositctl " << cmd->name << ": " << e.message << "\n";
        print_command_usage(*cmd);
        return kExitUsage;
    }

    if (cmd->run_alone) {
        try {
            return cmd->run_alone(args);
        } catch (const UsageError& e) {
            std::cerr << "depositctl " << cmd->name << ": " << e.message << "\n";
            print_command_usage(*cmd);
            return kExitUsage;
        }
    }
    if (!config_path) {
        std::cerr << "depositctl: --config FILE is required (the daemon's configuration)\n";
        print_command_usage(*cmd);
        return kExitUsage;
    }
    if (env_file) load_env_file(*env_file);
    // Only the keys depositctl uses need their ${VAR}s set (config::Reader).
    auto loaded = config::load_file(*config_path, config::Reader::depositctl);
    if (!loaded.config || !loaded.problems.empty()) {
        for (const auto& p : loaded.problems) std::cerr << p.to_string() << "\n";
        if (loaded.problems.empty()) std::cerr << *config_path << ": cannot load the configuration\n";
        std::cerr << "depositctl: configuration " << *config_path << " has "
                  << (loaded.problems.empty() ? 1 : loaded.problems.size()) << " problem(s)\n";
        return kExitUsage;
    }
    // Library chatter (migrations applied, ...) only when it matters; results go to stdout.
    log::set_level("warn");
    Context ctx(std::move(*loaded.config));
    try {
        return cmd->run(ctx, args);
    } catch (const UsageError& e) {
        std::cerr << "depositctl " << cmd->name << ": " << e.message << "\n";
        print_command_usage(*cmd);
        return kExitUsage;
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::ios::sync_with_stdio(false);
    try {
        int rc = run(argc, argv);
        std::cout.flush();
        return rc;
    } catch (const UsageError& e) {
        std::cerr << "depositctl: " << e.message << "\n\n" << kMainUsage;
        return kExitUsage;
    } catch (const Exit& e) {
        std::cout.flush();
        if (!e.message.empty()) std::cerr << "depositctl: " << e.message << "\n";
        return e.code;
    } catch (const std::exception& e) {
        std::cout.flush();
        std::cerr << "depositctl: internal error: " << e.what() << "\n";
        return kExitRuntime;
    }
}
