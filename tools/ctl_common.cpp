// depositctl: the command table, strict argument parsing and output helpers.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <system_error>

#include "ctl.hpp"
#include "core/ids.hpp"
#include "store/files.hpp"

namespace depositd::ctl {

std::optional<std::string> Args::get(const std::string& name) const {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
}

const std::string& Args::required(const std::string& name) const {
    auto it = values.find(name);
    if (it == values.end()) throw UsageError{name + " is required"};
    return it->second;
}

store::Database& Context::db() {
    if (db_) return *db_;
    if (config_.store.url) {  // PostgreSQL ([store] url): no files of ours to guard
        auto db = store::Database::connect(*config_.store.url, store::PgOptions{.application_name = "depositctl"});
        if (!db) fail_runtime(db.error().message);
        if (auto s = (*db)->migrate(); !s) fail_runtime("database " + (*db)->location() + ": " + s.error().message);
        db_ = std::move(*db);
        return *db_;
    }
    std::string path = config_.database_path();
    // Never create or write the daemon's files as another user (root): the
    // daemon could not write them afterwards.
    if (auto foreign = store::foreign_database_file(path, ::geteuid())) {
        const std::string owner = store::user_name(foreign->owner);
        fail_runtime(foreign->path + " belongs to user " + owner + ", but depositctl runs as " +
                     store::user_name(::geteuid()) + "; files it wrote would lock the daemon out of its database. "
                     "Run it as the owner: sudo -u " + owner + " depositctl --config " + config_.path + " ...");
    }
    if (auto s = store::ensure_private_dir(config_.daemon.data_dir); !s)  // 0700
        fail_runtime("data_dir: " + s.error().message);
    auto db = store::Database::open(path);
    if (!db) fail_runtime(db.error().message);
    if (auto s = (*db)->migrate(); !s) fail_runtime("database " + path + ": " + s.error().message);
    db_ = std::move(*db);
    return *db_;
}

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {
        {"pool import",
         "pool import --protocol P --file F [--strict]",
         "Imports deposit addresses into the pool. Every address is checked (format and\n"
         "checksum for its protocol) and stored once in canonical form; addresses already\n"
         "in the pool, or twice in the file, are counted as duplicates. The zero address\n"
         "(EVM 0x000..0 and its TRON form) is invalid: token mints and burns name it.\n"
         "\n"
         "The whole file is read and checked first; then the addresses are written in\n"
         "transactions of 5,000 with a short pause between them, so a running daemon is\n"
         "never held up for long. If writing fails part-way, the transactions already\n"
         "committed stay and the message says how many rows that was; running the same\n"
         "import again is safe (what is already in the pool counts as duplicates).\n"
         "\n"
         "File format: one address a line; CSV lines use the first column (a header whose\n"
         "first column is `address` is skipped); `#` comments and blank lines are skipped;\n"
         "surrounding whitespace and quotes are removed.\n"
         "\n"
         "options:\n"
         "  --protocol P   evm | tron | bitcoin | solana\n"
         "  --file F       the file to import (`-` reads standard input)\n"
         "  --strict       one invalid line rejects the whole file (nothing is imported)\n"
         "\n"
         "prints `imported N, duplicates N, invalid N` on stdout and `line L: <reason>: <text>`\n"
         "for each invalid line on stderr. Exit 0 when the import ran (also with some invalid\n"
         "lines); 2 when the file cannot be read, has invalid lines and no valid one, or\n"
         "--strict found an invalid line; 1 on a database failure.\n",
         {"--protocol", "--file"},
         {"--strict"},
         0, 0, cmd_pool_import},
        {"pool derive",
         "pool derive --protocol P --xpub X --count N [--from I] [--network NET] [--script TYPE]",
         "Derives receive addresses (chain 0, index i: <account>/0/i) from an account-level\n"
         "BIP32 extended public key (m/purpose'/coin'/account') and adds them to the pool.\n"
         "  bitcoin: xpub -> P2PKH (1...), ypub -> P2SH-P2WPKH (3...), zpub -> P2WPKH (bc1q...);\n"
         "           tpub/upub/vpub the same on testnet\n"
         "  evm, tron: xpub (m/44'/60'/0' for EVM, m/44'/195'/0' for TRON)\n"
         "  solana: not possible (ed25519 has no public derivation): import a list instead\n"
         "The next index is remembered per (key, protocol): without --from a second call\n"
         "continues where the previous one stopped.\n"
         "\n"
         "options:\n"
         "  --protocol P     evm | tron | bitcoin\n"
         "  --xpub X         the account extended public key (xpub/ypub/zpub/tpub/upub/vpub)\n"
         "  --count N        how many addresses (1..1000000)\n"
         "  --from I         first index (default: where the last derive of this key stopped)\n"
         "  --network NET    bitcoin only: mainnet | testnet | signet | regtest | bcoin-regtest\n"
         "                   (default: from the key's prefix)\n"
         "  --script TYPE    bitcoin only: p2pkh | p2sh-p2wpkh | p2wpkh | p2tr (BIP86)\n"
         "                   (default: from the key's prefix)\n",
         {"--protocol", "--xpub", "--count", "--from", "--network", "--script"},
         {},
         0, 0, cmd_pool_derive},
        {"pool stats",
         "pool stats [--json]",
         "Free, bound and cooling addresses per protocol (a cooling address whose cooldown\n"
         "has passed counts as free).\n"
         "\n"
         "options:\n"
         "  --json   {\"evm\": {\"free\": N, \"bound\": N, \"cooling\": N, \"total\": N}, ...}\n",
         {},
         {"--json"},
         0, 0, cmd_pool_stats},
        {"bind",
         "bind REF --protocol P [--metadata JSON] [--json]",
         "Binds a permanent deposit address of the protocol to the reference REF, taking a\n"
         "free address from the pool. Binding the same (REF, protocol) again returns the same\n"
         "address. REF: 1-128 characters of [A-Za-z0-9_.:@-].\n"
         "\n"
         "options:\n"
         "  --protocol P      evm | tron | bitcoin | solana\n"
         "  --metadata JSON   a JSON object stored with the binding (at most 4096 bytes)\n"
         "  --json            print {depositReference, address, protocol, monitoredChains,\n"
         "                    createdAt, created}\n"
         "exit 1 when the pool has no free address of the protocol.\n",
         {"--protocol", "--metadata"},
         {"--json"},
         1, 1, cmd_bind},
        {"unbind",
         "unbind REF [--protocol P]",
         "Ends the binding(s) of REF (all protocols unless --protocol). The address stays\n"
         "watched (late deposits are still recorded) and is not handed out again for the\n"
         "[pool] cooldown of the configuration (default: never).\n"
         "\n"
         "options:\n"
         "  --protocol P   only this protocol's binding\n"
         "exit 2 when REF has no active binding.\n",
         {"--protocol"},
         {},
         1, 1, cmd_unbind},
        {"deposits list",
         "deposits list [--reference R] [--status S] [--chain C] [--currency X] [--limit N] [--json]",
         "Lists deposits, newest first.\n"
         "\n"
         "options:\n"
         "  --reference R   only deposits of this depositReference\n"
         "  --status S      pending | confirmed | reverted\n"
         "  --chain C       only this chainId\n"
         "  --currency X    only this currency symbol\n"
         "  --limit N       at most N deposits (default 50, at most 10000)\n"
         "  --json          a JSON array of deposit objects (SPEC §4 shape)\n",
         {"--reference", "--status", "--chain", "--currency", "--limit"},
         {"--json"},
         0, 0, cmd_deposits_list},
        {"events list",
         "events list [--status S] [--type T] [--limit N] [--json]",
         "Lists webhook events (the outbox) with their delivery status and attempts.\n"
         "\n"
         "options:\n"
         "  --status S   pending | delivered | failed\n"
         "  --type T     deposit.pending | deposit.confirmed | deposit.reverted | ...\n"
         "  --limit N    at most N events (default 50, at most 10000)\n"
         "  --json       a JSON array of {id, type, depositId, status, attempts,\n"
         "               nextAttemptAt, lastError, createdAt, deliveredAt, payload}\n",
         {"--status", "--type", "--limit"},
         {"--json"},
         0, 0, cmd_events_list},
        {"events resend",
         "events resend ID",
         "Marks the event ID (evt_...) pending for delivery now; the running daemon sends\n"
         "it again with the same webhook-id. exit 2 when there is no such event.\n",
         {},
         {},
         1, 1, cmd_events_resend},
        {"status",
         "status [--json]",
         "What the daemon last stored about itself, read from the database (works whether\n"
         "the daemon runs or not): per configured chain its status (starting | ok | lagging\n"
         "| error | halted), head, scanned height, lag, finalized height, last error and\n"
         "last success; the webhook outbox by delivery status; free pool addresses per\n"
         "protocol against [pool].low_water. The daemon stores a chain's status when it\n"
         "changes and at least every 30 s; `updated` says how old the row is.\n"
         "\n"
         "options:\n"
         "  --json   {chains: [{id, kind, status, head, scanned, lag, finalized, lastError,\n"
         "           lastSuccessAt, updatedAt, halted}], outbox: {pending, delivered, failed},\n"
         "           pool: {PROTOCOL: {free, bound, cooling, low}}, lowWater, database}\n",
         {},
         {"--json"},
         0, 0, cmd_status},
        {"recheck",
         "recheck --chain ID --tx HASH [--block-hash HASH] [--json]",
         "Re-checks one transaction (SPEC §10): asks the chain's nodes for it and records\n"
         "every transfer in it to a watched address that is not recorded yet, exactly as\n"
         "the scanner would have (same deposit ids, webhooks and confirmation rules; also\n"
         "below the scan start). Needs the RUNNING daemon: it is asked over its API\n"
         "([api].listen, first of [api].keys, read as the daemon reads them: pass\n"
         "--env-file when they come from ${VAR}s), which asks the nodes and sends the\n"
         "webhooks at once. Safe to repeat: a second run records 0 and sends nothing.\n"
         "Exit 0 found (whether new or not), 1 unknown / not mined yet / daemon or nodes\n"
         "unreachable, 2 malformed hash or unknown chain.\n"
         "\n"
         "options:\n"
         "  --chain ID        a configured chain id\n"
         "  --tx HASH         the transaction hash (Bitcoin txid, Solana signature, ...)\n"
         "  --block-hash HASH the block it is in (Bitcoin nodes without -txindex need it)\n"
         "  --json            the API's data: {deposits: [...], recorded: N}\n",
         {"--chain", "--tx", "--block-hash"},
         {"--json"},
         0, 0, cmd_recheck},
        {"backup",
         "backup --to FILE [--force]",
         "Writes a consistent copy of the live database to FILE with SQLite's online backup\n"
         "API, while the daemon keeps running: the copy is one committed snapshot, read in\n"
         "slices beside the daemon's writer, which it never blocks (WAL). The copy is\n"
         "checked (PRAGMA quick_check), created 0600 and renamed into place, so FILE is\n"
         "either complete or absent. Restore: docs/operations.md.\n"
         "\n"
         "options:\n"
         "  --to FILE   where the copy goes (its folder must exist)\n"
         "  --force     replace FILE if it exists (otherwise exit 2)\n",
         {"--to"},
         {"--force"},
         0, 0, cmd_backup},
        {"migrate-store",
         "migrate-store --to URL",
         "Copies the SQLite database of the configuration into an empty PostgreSQL\n"
         "database, for a move to [store] url. Stop the daemon first: the command refuses\n"
         "while another process has the database open, and holds its write lock for the\n"
         "whole copy. The configuration must not have [store] url yet.\n"
         "\n"
         "The target's schema is created (schema/pg/); it must have no rows. Every table is\n"
         "copied, all columns by name, in ONE PostgreSQL transaction; identity sequences are\n"
         "moved past the copied ids. Before COMMIT it checks, per table, the row count and\n"
         "the highest ids against the source, and that the count tables (kept by triggers,\n"
         "not copied) came out the same; any difference rolls everything back. The SQLite\n"
         "file is left as it was. Then: set [store] url and start the daemon\n"
         "(docs/operations.md, \"Moving to PostgreSQL\").\n"
         "\n"
         "options:\n"
         "  --to URL   postgresql://USER:PASSWORD@HOST:PORT/DB (or postgres://...)\n"
         "\n"
         "prints the rows copied per table. exit 2 when the target is not empty or the\n"
         "configuration has [store] url; 1 when the daemon runs, on a database failure or\n"
         "a failed check.\n",
         {"--to"},
         {},
         0, 0, cmd_migrate_store},
        {"admin hash-password",
         "admin hash-password",
         "Makes an argon2id hash of a console password for [admin].users\n"
         "(password_hash = \"...\"). The password is read from the terminal without echo\n"
         "(asked twice), or as one line from standard input when that is not a terminal\n"
         "(`printf '%s\\n' \"$PW\" | depositctl admin hash-password`); never from the command\n"
         "line, where other users could see it. Prints the hash on stdout. --config is not\n"
         "needed.\n",
         {},
         {},
         0, 0, nullptr, cmd_admin_hash_password},
        {"admin totp-secret",
         "admin totp-secret --user NAME [--issuer TEXT]",
         "Makes a random TOTP secret (160 bits, RFC 6238: SHA-1, 6 digits, 30 s) for a\n"
         "console user's second factor. Prints the secret (for [admin].users totp_secret)\n"
         "and an otpauth:// URI to enter in an authenticator app. --config is not needed.\n"
         "\n"
         "options:\n"
         "  --user NAME     the console user (shown in the app)\n"
         "  --issuer TEXT   the app's label for the account (default depositd)\n",
         {"--user", "--issuer"},
         {},
         0, 0, nullptr, cmd_admin_totp_secret},
    };
    return table;
}

Args parse_args(const Command& cmd, const std::vector<std::string>& tokens) {
    Args a;
    bool only_positional = false;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const std::string& t = tokens[i];
        if (!only_positional && t == "--") {
            only_positional = true;
            continue;
        }
        if (!only_positional && t.size() > 1 && t[0] == '-') {
            std::string name = t, value;
            bool inline_value = false;
            if (auto eq = t.find('='); eq != std::string::npos && t.rfind("--", 0) == 0) {
                name = t.substr(0, eq);
                value = t.substr(eq + 1);
                inline_value = true;
            }
            bool takes_value = std::find(cmd.options.begin(), cmd.options.end(), name) != cmd.options.end();
            bool is_switch = std::find(cmd.switches.begin(), cmd.switches.end(), name) != cmd.switches.end();
            if (!takes_value && !is_switch) throw UsageError{"unknown option " + name};
            if (a.has(name)) throw UsageError{name + " given twice"};
            if (is_switch) {
                if (inline_value) throw UsageError{name + " takes no value"};
                a.flags.insert(name);
                continue;
            }
            if (!inline_value) {
                if (i + 1 >= tokens.size()) throw UsageError{name + " needs a value"};
                value = tokens[++i];
            }
            a.values[name] = value;
            continue;
        }
        a.positional.push_back(t);
    }
    if (a.positional.size() < cmd.min_positional) {
        throw UsageError{cmd.min_positional == 1 && cmd.name == "events resend" ? "the event ID is required"
                         : cmd.min_positional == 1                              ? "the reference REF is required"
                                                                                : "missing arguments"};
    }
    if (a.positional.size() > cmd.max_positional)
        throw UsageError{"unexpected argument '" + a.positional[cmd.max_positional] + "'"};
    return a;
}

std::string protocol_arg(const Args& a, const std::string& flag) {
    const std::string& p = a.required(flag);
    Protocol out;
    if (!parse_protocol(p, out))
        throw UsageError{flag + " must be one of evm, tron, bitcoin, solana (got '" + printable(p, 40) + "')"};
    return p;
}

std::uint64_t uint_arg(const std::string& flag, const std::string& text, std::uint64_t min, std::uint64_t max) {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v < min || v > max)
        throw UsageError{flag + " must be a whole number from " + std::to_string(min) + " to " +
                         std::to_string(max) + " (got '" + printable(text, 40) + "')"};
    return v;
}

bool valid_reference(const std::string& ref) {
    if (ref.empty() || ref.size() > 128) return false;
    for (char c : ref) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '.' || c == ':' || c == '@' || c == '-';
        if (!ok) return false;
    }
    return true;
}

void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width(header.size());
    for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
    for (const auto& r : rows)
        for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
    auto line = [&](const std::vector<std::string>& cells) {
        std::string out;
        for (std::size_t i = 0; i < cells.size() && i < width.size(); ++i) {
            out += cells[i];
            if (i + 1 < cells.size()) out.append(width[i] - cells[i].size() + 2, ' ');
        }
        std::cout << out << "\n";
    };
    line(header);
    for (const auto& r : rows) line(r);
}

std::string printable(const std::string& text, std::size_t max) {
    std::string out;
    for (unsigned char c : text) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        if (c < 0x20 || c == 0x7f) {
            static const char* hex = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

void load_env_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) fail_input("--env-file " + path + ": cannot read it: " + std::strerror(errno));
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        auto b = line.find_first_not_of(" \t\r");
        if (b == std::string::npos || line[b] == '#' || line[b] == ';') continue;
        auto e = line.find_last_not_of(" \t\r");
        line = line.substr(b, e - b + 1);
        if (line.rfind("export ", 0) == 0) line = line.substr(7);
        auto eq = line.find('=');
        std::string key = eq == std::string::npos ? std::string() : line.substr(0, eq);
        while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
        const bool key_ok = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
            return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        }) && !(key[0] >= '0' && key[0] <= '9');
        // The line is not echoed: it may hold a secret.
        if (!key_ok) fail_input("--env-file " + path + ":" + std::to_string(n) + ": not a KEY=VALUE line");
        std::string value = line.substr(eq + 1);
        auto vb = value.find_first_not_of(" \t");
        value = vb == std::string::npos ? std::string() : value.substr(vb);
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
            value = value.substr(1, value.size() - 2);
        ::setenv(key.c_str(), value.c_str(), 1);
    }
}

}  // namespace depositd::ctl
