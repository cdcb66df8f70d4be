// depositd configuration: TOML (toml++) into the typed structs of config.hpp.
//
// The loader walks the document once, section by section. Every accessor
// reports what is wrong with a value as a Problem (file, line, dotted key,
// message) and returns nullopt, so the caller keeps the field's default and
// goes on: all problems of a file come out of one run. A Config is returned
// only when there is no problem at all, so a default never stands in for a
// bad value. Secrets (API keys, webhook secrets, header values, RPC URLs,
// which often carry provider keys) are never echoed in a message.
#include "config/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <toml++/toml.h>

#include "config/section_context.hpp"

namespace depositd::config {

// ---------------------------------------------------------------------------
// Public helpers

std::string Problem::to_string() const {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line);
    out += ":";
    if (!key.empty()) out += key + ":";
    out += " " + message;
    return out;
}

std::string Config::database_path() const {
    return (std::filesystem::path(daemon.data_dir) / "depositd.sqlite").string();
}

const ChainConfig* Config::chain(const std::string& id) const {
    for (const auto& c : chains)
        if (c.id == id) return &c;
    return nullptr;
}

Result<Duration> parse_duration(std::string_view text) {
    auto fail = [&](const std::string& why) -> Result<Duration> {
        return make_error(Errc::invalid_input, why);
    };
    const std::string quoted = "\"" + std::string(text) + "\"";
    if (text.empty()) return fail("empty duration; use a number with a unit (ms, s, m, h), e.g. \"10s\"");
    if (text.front() == '-') return fail(quoted + ": a duration must not be negative");
    if (text.front() == '+') return fail(quoted + ": write the duration without a sign, e.g. \"10s\"");

    constexpr long long kMaxMs = 100LL * 365 * 24 * 3600 * 1000;  // 100 years: plenty
    long long total = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t digits_start = i;
        long long n = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            if (n > kMaxMs) return fail(quoted + ": duration is too long");
            n = n * 10 + (text[i] - '0');
            ++i;
        }
        if (i == digits_start)
            return fail(quoted + " is not a duration; use a number with a unit (ms, s, m, h), e.g. \"10s\"");
        if (i < text.size() && (text[i] == '.' || text[i] == ','))
            return fail(quoted + ": fractions are not supported; use a smaller unit, e.g. \"1500ms\"");
        const std::size_t unit_start = i;
        while (i < text.size() && !(text[i] >= '0' && text[i] <= '9')) ++i;
        const std::string_view unit = text.substr(unit_start, i - unit_start);
        long long factor = 0;
        if (unit.empty())
            return fail(quoted + " has no unit; durations need one of ms, s, m, h (e.g. \"" +
                        std::string(text.substr(digits_start)) + "s\")");
        if (unit == "ms") factor = 1;
        else if (unit == "s") factor = 1000;
        else if (unit == "m") factor = 60 * 1000;
        else if (unit == "h") factor = 3600 * 1000;
        else
            return fail(quoted + ": unknown unit \"" + std::string(unit) + "\"; use ms, s, m or h");
        if (n > kMaxMs / factor) return fail(quoted + ": duration is too long");
        total += n * factor;
        if (total > kMaxMs) return fail(quoted + ": duration is too long");
    }
    return Duration(total);
}

Result<std::uint64_t> parse_size(std::string_view text) {
    const std::string quoted = "\"" + std::string(text) + "\"";
    std::size_t i = 0;
    std::uint64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        if (n > (1ULL << 40)) return make_error(Errc::invalid_input, quoted + ": size is too large");
        n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
        ++i;
    }
    if (i == 0)
        return make_error(Errc::invalid_input, quoted + " is not a size; write e.g. \"32MiB\", \"512KiB\" or a number of bytes");
    std::string_view unit = text.substr(i);
    if (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
    std::uint64_t factor = 0;
    if (unit.empty() || unit == "B") factor = 1;
    else if (unit == "KiB") factor = 1ULL << 10;
    else if (unit == "MiB") factor = 1ULL << 20;
    else if (unit == "GiB") factor = 1ULL << 30;
    else
        return make_error(Errc::invalid_input, quoted + ": unknown unit \"" + std::string(unit) +
                                                   "\"; use B, KiB, MiB or GiB (e.g. \"32MiB\")");
    return n * factor;
}

std::string format_size(std::uint64_t bytes) {
    if (bytes >= (1ULL << 30) && bytes % (1ULL << 30) == 0) return std::to_string(bytes >> 30) + "GiB";
    if (bytes >= (1ULL << 20) && bytes % (1ULL << 20) == 0) return std::to_string(bytes >> 20) + "MiB";
    if (bytes >= (1ULL << 10) && bytes % (1ULL << 10) == 0) return std::to_string(bytes >> 10) + "KiB";
    return std::to_string(bytes) + " bytes";
}

bool reads_key(Reader reader, std::string_view key) {
    if (reader == Reader::daemon) return true;
    if (key == "daemon.data_dir" || key.starts_with("pool.")) return true;
    // chains[N].id and chains[N].kind (monitoredChains, pool stats warnings).
    if (key.starts_with("chains[")) {
        const auto close = key.find(']');
        if (close != std::string_view::npos) {
            const std::string_view rest = key.substr(close + 1);
            return rest == ".id" || rest == ".kind";
        }
    }
    return false;
}

// ---------------------------------------------------------------------------
// The loader

namespace {

using GetEnv = std::string (*)(const std::string&);
namespace fs = std::filesystem;

std::string type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a float";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        default: return "nothing";
    }
}

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }
int line_of(const toml::key& k) { return static_cast<int>(k.source().begin.line); }

bool is_bare_key(std::string_view k) {
    if (k.empty()) return false;
    return std::all_of(k.begin(), k.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

std::string join(const std::string& path, std::string_view key) {
    std::string k = is_bare_key(key) ? std::string(key) : "\"" + std::string(key) + "\"";
    return path.empty() ? k : path + "." + k;
}

std::string item(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

bool is_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
}

bool is_base58(std::string_view s) {
    static constexpr std::string_view alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    return std::all_of(s.begin(), s.end(), [](char c) { return alphabet.find(c) != std::string_view::npos; });
}

std::string lower(std::string s) {
    for (auto& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

// Standard base64 (RFC 4648 §4), padding optional. Returns the decoded length
// or nullopt when the text is not base64.
std::optional<std::size_t> base64_decoded_size(std::string_view s) {
    while (!s.empty() && s.back() == '=') s.remove_suffix(1);
    if (s.empty()) return std::size_t{0};
    for (char c : s) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                        c == '/';
        if (!ok) return std::nullopt;
    }
    if (s.size() % 4 == 1) return std::nullopt;
    return s.size() / 4 * 3 + (s.size() % 4 == 0 ? 0 : s.size() % 4 - 1);
}

bool is_http_url(std::string_view url) {
    std::string_view rest;
    if (url.substr(0, 7) == "http://") rest = url.substr(7);
    else if (url.substr(0, 8) == "https://") rest = url.substr(8);
    else return false;
    if (rest.empty() || rest.front() == '/' || rest.front() == ':' || rest.front() == '?') return false;
    return std::none_of(url.begin(), url.end(),
                        [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

bool is_header_token(std::string_view s) {
    static constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               extra.find(c) != std::string_view::npos;
    });
}

// Per-kind defaults for keys a [[chains]] entry may leave out.
struct KindDefaults {
    std::uint32_t max_block_range;
    std::uint32_t max_reorg_depth;
    Duration poll_interval;
    bool has_finality;
};

KindDefaults defaults_for(Protocol p) {
    using std::chrono::seconds;
    switch (p) {
        case Protocol::evm: return {500, 64, seconds(3), true};
        case Protocol::tron: return {100, 32, seconds(3), true};
        case Protocol::bitcoin: return {10, 32, seconds(15), false};
        case Protocol::solana: return {100, 64, seconds(2), true};
    }
    return {500, 64, seconds(3), false};
}

class Loader final : public detail::SectionContext {
public:
    Loader(std::string file, GetEnv env, fs::path base_dir, Reader reader)
        : file_(std::move(file)), env_(env), base_dir_(std::move(base_dir)), reader_(reader) {}

    std::vector<Problem> problems;

    void problem(int line, std::string key, std::string message) override {
        problems.push_back(Problem{file_, line, std::move(key), std::move(message)});
    }

    Config load(const toml::table& root) {
        Config cfg;
        cfg.path = file_;
        check_keys(root, "", {"daemon", "api", "webhook", "chains", "pool", "orders", "merchant", "admin", "notify"});
        if (auto* t = section(root, "daemon")) load_daemon(*t, cfg.daemon);
        resolve_data_dir(cfg.daemon);
        const toml::table* api = section(root, "api");
        if (api || !root.contains("api")) load_api(api, cfg.api);  // a non-table [api] is reported once
        if (auto* t = section(root, "webhook")) load_webhook(*t, cfg.webhook);
        load_chains(root, cfg.chains);
        if (auto* t = section(root, "pool")) load_pool(*t, cfg.pool);
        if (auto* t = section(root, "orders")) load_orders(*t, cfg.chains, cfg.orders);
        if (auto* t = section(root, "merchant")) load_merchant(*t, cfg.merchant);
        if (auto* t = section(root, "admin")) detail::load_admin(*this, *t, cfg.admin);
        if (auto* t = section(root, "notify")) detail::load_notify(*this, *t, cfg.notify);
        return cfg;
    }

private:
    std::string file_;
    GetEnv env_;
    fs::path base_dir_;
    Reader reader_;

    // --- structure (also detail::SectionContext, for section_*.cpp) -------

    void check_keys(const toml::table& t, const std::string& path,
                    std::initializer_list<std::string_view> allowed) override {
        for (auto&& [k, v] : t) {
            (void)v;
            const std::string_view name = k.str();
            if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
            std::string msg = "unknown key";
            std::string_view best;
            std::size_t best_d = 3;
            for (auto a : allowed) {
                const std::size_t d = edit_distance(lower(std::string(name)), a);
                if (d < best_d) best_d = d, best = a;
            }
            if (!best.empty()) msg += " (did you mean \"" + std::string(best) + "\"?)";
            else {
                msg += "; allowed here:";
                bool first = true;
                for (auto a : allowed) msg += (first ? " " : ", ") + std::string(a), first = false;
            }
            problem(line_of(k), join(path, name), msg);
        }
    }

    const toml::table* section(const toml::table& root, std::string_view name) {
        const toml::node* n = root.get(name);
        if (!n) return nullptr;
        if (auto* t = n->as_table()) return t;
        problem(line_of(*n), std::string(name), "must be a table ([" + std::string(name) + "]), not " + type_name(*n));
        return nullptr;
    }

    const toml::table* table_of(const toml::node& n, const std::string& key, std::string_view what = "a table") override {
        if (auto* t = n.as_table()) return t;
        problem(line_of(n), key, "must be " + std::string(what) + ", not " + type_name(n));
        return nullptr;
    }

    const toml::array* array_of(const toml::node& n, const std::string& key, std::string_view what = "an array") override {
        if (auto* a = n.as_array()) return a;
        problem(line_of(n), key, "must be " + std::string(what) + ", not " + type_name(n));
        return nullptr;
    }

    // --- scalars ---------------------------------------------------------

    // ${VAR} expansion. Unset (or empty) variables are problems naming the
    // variable, never its value.
    std::optional<std::string> expand(std::string_view s, int line, const std::string& key) {
        std::string out;
        bool ok = true;
        std::size_t i = 0;
        while (i < s.size()) {
            const std::size_t at = s.find("${", i);
            if (at == std::string_view::npos) {
                out.append(s.substr(i));
                break;
            }
            out.append(s.substr(i, at - i));
            const std::size_t close = s.find('}', at + 2);
            if (close == std::string_view::npos) {
                problem(line, key, "unterminated \"${\": write ${NAME} to use an environment variable");
                return std::nullopt;
            }
            const std::string name(s.substr(at + 2, close - at - 2));
            const bool valid_name =
                !name.empty() && !(name[0] >= '0' && name[0] <= '9') &&
                std::all_of(name.begin(), name.end(), [](char c) {
                    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                });
            if (!valid_name) {
                problem(line, key, "\"${" + name + "}\" is not a valid environment variable reference (use letters, digits and _)");
                ok = false;
            } else {
                std::string value;
                if (env_) {
                    value = env_(name);
                } else if (const char* v = std::getenv(name.c_str())) {
                    value = v;
                }
                if (value.empty()) {
                    problem(line, key, "environment variable " + name + " is not set (or is empty)");
                    ok = false;
                }
                out += value;
            }
            i = close + 1;
        }
        if (!ok) return std::nullopt;
        return out;
    }

    std::optional<std::string> string(const toml::node& n, const std::string& key) override {
        auto* s = n.as_string();
        if (!s) {
            problem(line_of(n), key, "must be a string, not " + type_name(n));
            return std::nullopt;
        }
        // A value this reader never uses is not expanded (nor checked further).
        if (!reads_key(reader_, key) && s->get().find("${") != std::string::npos) return std::nullopt;
        return expand(s->get(), line_of(n), key);
    }

    std::optional<std::int64_t> integer(const toml::node& n, const std::string& key, std::int64_t min,
                                        std::int64_t max, std::string_view what) override {
        auto* i = n.as_integer();
        if (!i || i->get() < min || i->get() > max) {
            problem(line_of(n), key, "must be " + std::string(what) + (i ? "" : ", not " + type_name(n)));
            return std::nullopt;
        }
        return i->get();
    }

    std::optional<Duration> duration(const toml::node& n, const std::string& key, bool allow_zero) override {
        if (n.is_integer() || n.is_floating_point()) {
            problem(line_of(n), key,
                    "must be a duration string with a unit (ms, s, m, h), e.g. \"10s\", not " + type_name(n));
            return std::nullopt;
        }
        auto s = string(n, key);
        if (!s) return std::nullopt;
        auto d = parse_duration(*s);
        if (!d) {
            problem(line_of(n), key, d.error().message);
            return std::nullopt;
        }
        if (!allow_zero && d->count() == 0) {
            problem(line_of(n), key, "must be greater than zero");
            return std::nullopt;
        }
        return *d;
    }

    // A size in bytes: an integer, or a string with a binary unit ("32MiB").
    std::optional<std::uint64_t> size(const toml::node& n, const std::string& key, std::uint64_t min,
                                      std::uint64_t max) {
        const std::string range = "from " + format_size(min) + " to " + format_size(max);
        std::uint64_t v = 0;
        if (auto* i = n.as_integer()) {
            if (i->get() < 0) {
                problem(line_of(n), key, "must be a size " + range);
                return std::nullopt;
            }
            v = static_cast<std::uint64_t>(i->get());
        } else if (n.is_string()) {
            auto s = string(n, key);
            if (!s) return std::nullopt;
            auto parsed = parse_size(*s);
            if (!parsed) {
                problem(line_of(n), key, parsed.error().message);
                return std::nullopt;
            }
            v = *parsed;
        } else {
            problem(line_of(n), key, "must be a size such as \"32MiB\" or a number of bytes, not " + type_name(n));
            return std::nullopt;
        }
        if (v < min || v > max) {
            problem(line_of(n), key, "must be " + range + " (got " + format_size(v) + ")");
            return std::nullopt;
        }
        return v;
    }

    // --- sections --------------------------------------------------------

    void load_daemon(const toml::table& t, DaemonConfig& out) {
        check_keys(t, "daemon", {"data_dir", "log_level", "stall_timeout"});
        if (auto* n = t.get("data_dir")) {
            if (auto s = string(*n, "daemon.data_dir")) {
                if (s->empty()) problem(line_of(*n), "daemon.data_dir", "must not be empty");
                else out.data_dir = *s;
            }
        }
        if (auto* n = t.get("log_level")) {
            if (auto s = string(*n, "daemon.log_level")) {
                static constexpr std::string_view levels[] = {"trace", "debug", "info", "warn",
                                                              "error", "critical", "off"};
                if (std::find(std::begin(levels), std::end(levels), *s) == std::end(levels))
                    problem(line_of(*n), "daemon.log_level",
                            "\"" + *s + "\" is not a log level; use trace, debug, info, warn, error, critical or off");
                else out.log_level = *s;
            }
        }
        if (auto* n = t.get("stall_timeout")) {
            if (auto d = duration(*n, "daemon.stall_timeout", false)) {
                if (*d < std::chrono::seconds(1)) problem(line_of(*n), "daemon.stall_timeout", "must be at least 1s");
                else out.stall_timeout = *d;
            }
        }
    }

    void resolve_data_dir(DaemonConfig& d) {
        fs::path p(d.data_dir);
        if (p.is_relative()) p = base_dir_ / p;
        p = p.lexically_normal();
        std::string s = p.string();
        while (s.size() > 1 && s.back() == '/') s.pop_back();
        d.data_dir = s.empty() ? "." : s;
    }

    bool parse_listen(const std::string& s, ApiConfig& out, int line) {
        const std::string key = "api.listen";
        std::string host, port;
        if (!s.empty() && s.front() == '[') {
            const auto close = s.find(']');
            if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') {
                problem(line, key, "\"" + s + "\" must be \"host:port\", e.g. \"127.0.0.1:8080\" or \"[::1]:8080\"");
                return false;
            }
            host = s.substr(1, close - 1);
            port = s.substr(close + 2);
        } else {
            const auto colon = s.rfind(':');
            if (colon == std::string::npos) {
                problem(line, key, "\"" + s + "\" must be \"host:port\", e.g. \"127.0.0.1:8080\"");
                return false;
            }
            host = s.substr(0, colon);
            port = s.substr(colon + 1);
            if (host.find(':') != std::string::npos) {
                problem(line, key, "\"" + s + "\": put an IPv6 address in brackets, e.g. \"[::1]:8080\"");
                return false;
            }
        }
        if (host.empty()) {
            problem(line, key, "\"" + s + "\" has no host; use e.g. \"127.0.0.1:8080\" or \"0.0.0.0:8080\"");
            return false;
        }
        if (std::any_of(host.begin(), host.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20; })) {
            problem(line, key, "\"" + s + "\": the host must not contain spaces");
            return false;
        }
        // An IP literal only: a name would be resolved once, at start, to
        // whatever the resolver says then (and "localhost" may be ::1 or not).
        const bool bracketed = s.front() == '[';
        unsigned char addr[sizeof(in6_addr)];
        if (inet_pton(bracketed ? AF_INET6 : AF_INET, host.c_str(), addr) != 1) {
            problem(line, key,
                    "\"" + s + "\": the host must be an IP address, e.g. \"127.0.0.1:8080\", \"0.0.0.0:8080\" or "
                    "\"[::1]:8080\" (" + (bracketed ? std::string("not an IPv6 address") : std::string("host names are not resolved")) + ")");
            return false;
        }
        const bool digits = !port.empty() && port.size() <= 5 &&
                            std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits || std::stoul(port) > 65535) {
            problem(line, key, "\"" + s + "\": the port must be a number from 0 to 65535");
            return false;
        }
        out.listen = s;
        out.host = host;
        out.port = static_cast<std::uint16_t>(std::stoul(port));
        return true;
    }

    void load_api(const toml::table* t, ApiConfig& out) {
        if (!t) {
            problem(0, "api.keys", "at least one API key is required: add [api] with keys = [\"${DEPOSITD_API_KEY}\"]");
            return;
        }
        check_keys(*t, "api",
                   {"listen", "keys", "max_body_bytes", "max_connections", "max_connections_per_client",
                    "idle_timeout", "public_url"});
        if (auto* n = t->get("public_url")) load_public_url(*n, out);
        if (auto* n = t->get("listen")) {
            if (auto s = string(*n, "api.listen")) parse_listen(*s, out, line_of(*n));
        }
        const toml::node* keys = t->get("keys");
        if (!keys) {
            problem(line_of(*t), "api.keys", "at least one API key is required, e.g. keys = [\"${DEPOSITD_API_KEY}\"]");
        } else if (auto* a = array_of(*keys, "api.keys", "an array of keys (strings or { key, label } tables)")) {
            if (a->empty())
                problem(line_of(*keys), "api.keys", "at least one API key is required");
            for (std::size_t i = 0; i < a->size(); ++i) detail::load_api_key(*this, *a->get(i), i, out);
        }
        if (auto* n = t->get("max_body_bytes")) {
            if (auto v = integer(*n, "api.max_body_bytes", 1024, 64LL * 1024 * 1024,
                                 "an integer from 1024 to 67108864 (bytes)"))
                out.max_body_bytes = static_cast<std::size_t>(*v);
        }
        if (auto* n = t->get("max_connections")) {
            if (auto v = integer(*n, "api.max_connections", 1, 100'000, "an integer from 1 to 100000"))
                out.max_connections = static_cast<std::size_t>(*v);
        }
        if (auto* n = t->get("max_connections_per_client")) {
            if (auto v = integer(*n, "api.max_connections_per_client", 1, 100'000, "an integer from 1 to 100000")) {
                if (static_cast<std::size_t>(*v) > out.max_connections)
                    problem(line_of(*n), "api.max_connections_per_client",
                            "must not exceed max_connections (" + std::to_string(out.max_connections) + ")");
                else out.max_connections_per_client = static_cast<std::size_t>(*v);
            }
        }
        if (auto* n = t->get("idle_timeout")) {
            if (auto d = duration(*n, "api.idle_timeout", false)) out.idle_timeout = *d;
        }
    }

    std::optional<std::string> webhook_secret(const toml::node& n, const std::string& key) {
        auto s = string(n, key);
        if (!s) return std::nullopt;
        if (s->rfind("whsec_", 0) != 0) {
            problem(line_of(n), key, "a webhook secret must start with \"whsec_\" followed by base64 (Standard Webhooks)");
            return std::nullopt;
        }
        auto size = base64_decoded_size(std::string_view(*s).substr(6));
        if (!size) {
            problem(line_of(n), key, "the part after \"whsec_\" must be standard base64");
            return std::nullopt;
        }
        if (*size < 16) {
            problem(line_of(n), key,
                    "the secret must decode to at least 16 bytes (generate one with: echo whsec_$(openssl rand -base64 32))");
            return std::nullopt;
        }
        return s;
    }

    void load_webhook(const toml::table& t, WebhookConfig& out) {
        check_keys(t, "webhook", {"url", "secret", "secrets", "timeout", "schedule", "concurrency"});
        bool reported = false;
        if (auto* n = t.get("url")) {
            if (auto s = string(*n, "webhook.url")) {
                if (s->empty())
                    problem(line_of(*n), "webhook.url", "must not be empty (leave the key out to disable webhooks)");
                else if (!is_http_url(*s))
                    problem(line_of(*n), "webhook.url", "must be an http:// or https:// URL");
                else out.url = *s;
            } else {
                reported = true;
            }
            if (out.url.empty()) reported = true;
        }
        const toml::node* secret = t.get("secret");
        const toml::node* secrets = t.get("secrets");
        if (secret && secrets) {
            problem(line_of(*secrets), "webhook.secrets",
                    "use either secret or secrets (a list for key rotation), not both");
        } else if (secret) {
            if (auto s = webhook_secret(*secret, "webhook.secret")) out.secrets.push_back(*s);
            else reported = true;  // already reported; do not also say "required"
        } else if (secrets) {
            if (auto* a = array_of(*secrets, "webhook.secrets", "an array of strings")) {
                if (a->empty()) problem(line_of(*secrets), "webhook.secrets", "must not be empty");
                bool all_ok = true;
                for (std::size_t i = 0; i < a->size(); ++i) {
                    if (auto s = webhook_secret(*a->get(i), item("webhook.secrets", i))) out.secrets.push_back(*s);
                    else all_ok = false;
                }
                if (!all_ok) reported = true;
            } else {
                reported = true;
            }
        }
        if (!out.url.empty() && out.secrets.empty() && !reported && !secrets)
            problem(line_of(t), "webhook.secret",
                    "required when webhook.url is set (a \"whsec_...\" secret to sign deliveries)");
        if (auto* n = t.get("timeout")) {
            if (auto d = duration(*n, "webhook.timeout", false)) out.timeout = *d;
        }
        if (auto* n = t.get("schedule")) {
            if (auto* a = array_of(*n, "webhook.schedule", "an array of durations, e.g. [\"15s\", \"1m\"]")) {
                std::vector<Duration> schedule;
                bool ok = true;
                for (std::size_t i = 0; i < a->size(); ++i) {
                    if (auto d = duration(*a->get(i), item("webhook.schedule", i), false)) schedule.push_back(*d);
                    else ok = false;
                }
                if (ok) out.schedule = std::move(schedule);
            }
        }
        if (auto* n = t.get("concurrency")) {
            if (auto v = integer(*n, "webhook.concurrency", 1, 1024, "an integer from 1 to 1024"))
                out.concurrency = static_cast<unsigned>(*v);
        }
    }

    void load_pool(const toml::table& t, PoolConfig& out) {
        check_keys(t, "pool", {"cooldown", "low_water"});
        if (auto* n = t.get("cooldown")) {
            auto* s = n->as_string();
            if (s && s->get() == "never") out.cooldown.reset();
            else if (auto d = duration(*n, "pool.cooldown", true)) out.cooldown = *d;
        }
        if (auto* n = t.get("low_water")) {
            if (auto v = integer(*n, "pool.low_water", 0, std::numeric_limits<std::uint32_t>::max(),
                                 "an integer >= 0"))
                out.low_water = static_cast<std::uint32_t>(*v);
        }
    }

    // --- orders and merchant (SPEC §3, §8, §9) -----------------------------

    void load_public_url(const toml::node& n, ApiConfig& out) {
        auto s = string(n, "api.public_url");
        if (!s) return;
        std::string url = *s;
        while (!url.empty() && url.back() == '/') url.pop_back();
        if (!is_http_url(url) || url.find_first_of("?#") != std::string::npos)
            problem(line_of(n), "api.public_url",
                    "must be an http:// or https:// URL without query, e.g. \"https://pay.example\"");
        else out.public_url = url;
    }

    // "7.4" | "~1.02" | "+0.3" | "-0.1": digits with an optional fraction.
    static bool valid_rate(std::string_view r) {
        if (!r.empty() && (r[0] == '~' || r[0] == '+' || r[0] == '-')) r.remove_prefix(1);
        const auto dot = r.find('.');
        const std::string_view whole = r.substr(0, dot);
        const std::string_view frac = dot == std::string_view::npos ? std::string_view{} : r.substr(dot + 1);
        auto digits = [](std::string_view d) {
            return !d.empty() && d.size() <= 30 && std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
        };
        return digits(whole) && (dot == std::string_view::npos || digits(frac));
    }

    // A shallow format check of a shared receive address; the daemon checks
    // checksums at start (codec) and names this key if one is wrong.
    static bool receive_format_ok(Protocol kind, const std::string& a) {
        switch (kind) {
            case Protocol::evm: return a.size() == 42 && a[0] == '0' && (a[1] == 'x' || a[1] == 'X') && is_hex(a.substr(2));
            case Protocol::tron: return a.size() == 34 && a[0] == 'T' && is_base58(a);
            case Protocol::solana: return a.size() >= 32 && a.size() <= 44 && is_base58(a);
            case Protocol::bitcoin:
                return a.size() >= 14 && a.size() <= 90 && std::all_of(a.begin(), a.end(), [](char c) {
                    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
                });
        }
        return false;
    }

    // "<symbol>.<chainId>" naming a configured currency (case-insensitive).
    static bool currency_exists(const std::vector<ChainConfig>& chains, const std::string& pay) {
        const auto dot = pay.rfind('.');
        if (dot == std::string::npos || dot == 0 || dot + 1 == pay.size()) return false;
        const std::string symbol = lower(pay.substr(0, dot)), chain = lower(pay.substr(dot + 1));
        for (const auto& c : chains) {
            if (c.id != chain) continue;
            if (lower(c.native.symbol) == symbol) return true;
            for (const auto& t : c.tokens)
                if (lower(t.symbol) == symbol) return true;
        }
        return false;
    }

    void load_orders(const toml::table& t, const std::vector<ChainConfig>& chains, OrdersConfig& out) {
        check_keys(t, "orders",
                   {"default", "expiry", "mode", "receive", "fiat", "rate", "rate_source", "rate_path", "rate_refresh",
                    "rate_max_age", "precision", "cooldown"});
        out.source = file_ + ":" + std::to_string(line_of(t));
        if (auto* n = t.get("default")) {
            if (auto s = string(*n, "orders.default")) {
                if (!currency_exists(chains, *s))
                    problem(line_of(*n), "orders.default",
                            "\"" + *s + "\" is not a configured currency; write <symbol>.<chainId>, e.g. \"usdt.tron\"");
                else out.default_pay = lower(*s);
            }
        }
        if (auto* n = t.get("expiry")) {
            if (auto d = duration(*n, "orders.expiry", false)) {
                if (*d < std::chrono::seconds(1) || *d > std::chrono::hours(24))
                    problem(line_of(*n), "orders.expiry", "must be from 1s to 24h");
                else out.expiry = *d;
            }
        }
        const toml::node* mode_node = t.get("mode");
        if (mode_node) {
            if (auto s = string(*mode_node, "orders.mode")) {
                if (*s == "address") out.mode = OrdersConfig::Mode::address;
                else if (*s == "amount") out.mode = OrdersConfig::Mode::amount;
                else problem(line_of(*mode_node), "orders.mode", "\"" + *s + "\" is not a mode; use address or amount");
            }
        }
        const std::size_t problems_before_receive = problems.size();
        if (auto* n = t.get("receive")) {
            if (auto* r = table_of(*n, "orders.receive", "a table of chainId = address, e.g. { tron = \"T...\" }")) {
                for (auto&& [k, v] : *r) {
                    const std::string chain(k.str());
                    const std::string key = join("orders.receive", chain);
                    auto s = string(v, key);
                    if (!s) continue;
                    const ChainConfig* c = nullptr;
                    for (const auto& ch : chains)
                        if (ch.id == chain) c = &ch;
                    if (!c) {
                        problem(line_of(k), key, "\"" + chain + "\" is not a configured chain id");
                        continue;
                    }
                    if (!receive_format_ok(c->kind, *s)) {
                        problem(line_of(v), key, "\"" + *s + "\" is not a valid address for chain " + chain + " (" + to_string(c->kind) + ")");
                        continue;
                    }
                    out.receive[chain] = *s;
                    out.receive_source[chain] = file_ + ":" + std::to_string(line_of(v));
                }
            }
        }
        if (out.mode == OrdersConfig::Mode::amount && problems.size() == problems_before_receive) {
            if (out.receive.empty())
                problem(mode_node ? line_of(*mode_node) : line_of(t), "orders.receive",
                        "mode = \"amount\" needs shared addresses: receive = { <chainId> = \"<address>\" }");
            else if (!out.default_pay.empty() && !out.receive.count(out.default_pay.substr(out.default_pay.rfind('.') + 1)))
                problem(line_of(t), "orders.receive", "has no address for the chain of orders.default");
        }
        const toml::node* fiat = t.get("fiat");
        const toml::node* rate = t.get("rate");
        if (fiat) {
            if (auto s = string(*fiat, "orders.fiat")) {
                const bool ok = !s->empty() && s->size() <= 8 &&
                                std::all_of(s->begin(), s->end(), [](char c) { return c >= 'A' && c <= 'Z'; });
                if (!ok) problem(line_of(*fiat), "orders.fiat", "must be a currency code in capitals, e.g. \"CNY\"");
                else out.fiat = *s;
            }
        }
        if (rate) {
            if (auto s = string(*rate, "orders.rate")) {
                if (!valid_rate(*s))
                    problem(line_of(*rate), "orders.rate",
                            "\"" + *s + "\" is not a rate; use \"7.4\" (fixed), \"~1.02\" (times the base rate), "
                            "\"+0.3\" or \"-0.1\" (added to it)");
                else out.rate = *s;
            }
        }
        if (fiat && !rate) problem(line_of(*fiat), "orders.rate", "required with orders.fiat (e.g. rate = \"7.2\")");
        if (rate && !fiat) problem(line_of(*rate), "orders.fiat", "required with orders.rate (e.g. fiat = \"CNY\")");
        const bool relative = !out.rate.empty() && (out.rate[0] == '~' || out.rate[0] == '+' || out.rate[0] == '-');
        if (auto* n = t.get("rate_source")) {
            if (auto s = string(*n, "orders.rate_source")) {
                if (!is_http_url(*s)) problem(line_of(*n), "orders.rate_source", "must be an http:// or https:// URL");
                else if (!out.rate.empty() && !relative)
                    problem(line_of(*n), "orders.rate_source",
                            "is only used with a relative rate (\"~1.02\", \"+0.3\", \"-0.1\"); a fixed rate needs none");
                else out.rate_source = *s;
            }
        } else if (relative) {
            problem(line_of(*rate), "orders.rate_source",
                    "required with a relative rate: the URL the base rate comes from");
        }
        if (auto* n = t.get("rate_path")) {
            if (auto s = string(*n, "orders.rate_path")) {
                if (s->size() > 256 || s->front() == '.' || s->back() == '.' || s->find("..") != std::string::npos)
                    problem(line_of(*n), "orders.rate_path", "must be keys separated by dots, e.g. \"data.rates.CNY\"");
                else out.rate_path = *s;
            }
        }
        if (auto* n = t.get("rate_refresh")) {
            if (auto d = duration(*n, "orders.rate_refresh", false)) out.rate_refresh = *d;
        }
        if (auto* n = t.get("rate_max_age")) {
            if (auto d = duration(*n, "orders.rate_max_age", false)) out.rate_max_age = *d;
        }
        if (auto* n = t.get("precision")) {
            if (auto v = integer(*n, "orders.precision", 0, 18, "an integer from 0 to 18")) out.precision = static_cast<unsigned>(*v);
        }
        if (auto* n = t.get("cooldown")) {
            auto* s = n->as_string();
            if (s && s->get() == "never") out.cooldown.reset();
            else if (auto d = duration(*n, "orders.cooldown", true)) out.cooldown = *d;
        }
    }

    void load_merchant(const toml::table& t, MerchantConfig& out) {
        check_keys(t, "merchant", {"pid", "key"});
        out.enabled = true;
        if (auto* n = t.get("pid")) {
            if (auto v = integer(*n, "merchant.pid", 1, 999'999'999'999LL, "a positive integer (the EPay merchant id)"))
                out.pid = *v;
        } else {
            problem(line_of(t), "merchant.pid", "required: the EPay merchant id, e.g. pid = 1001");
        }
        if (auto* n = t.get("key")) {
            if (auto s = string(*n, "merchant.key")) {
                if (s->size() < 8 || s->size() > 256)
                    problem(line_of(*n), "merchant.key", "must be 8 to 256 characters (EPay key / epusdt API token)");
                else if (std::any_of(s->begin(), s->end(),
                                     [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
                    problem(line_of(*n), "merchant.key", "must not contain spaces or control characters");
                else out.key = *s;
            }
        } else {
            problem(line_of(t), "merchant.key", "required, e.g. key = \"${MERCHANT_KEY}\"");
        }
    }

    // --- chains ----------------------------------------------------------

    std::optional<std::string> symbol(const toml::node& n, const std::string& key) {
        auto s = string(n, key);
        if (!s) return std::nullopt;
        const bool ok = !s->empty() && s->size() <= 32 && std::none_of(s->begin(), s->end(), [](char c) {
            return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '"' || c == '\\';
        });
        if (!ok) {
            problem(line_of(n), key, "must be a currency symbol of 1 to 32 characters without spaces, e.g. \"USDT\"");
            return std::nullopt;
        }
        return s;
    }

    std::optional<unsigned> decimals(const toml::node& n, const std::string& key) {
        if (auto v = integer(n, key, 0, 77, "an integer from 0 to 77")) return static_cast<unsigned>(*v);
        return std::nullopt;
    }

    // A shallow format check; adapters validate checksums and normalise.
    bool contract_format_ok(Protocol kind, const std::string& c, std::string& why) {
        switch (kind) {
            case Protocol::evm:
                if (c.size() == 42 && c[0] == '0' && (c[1] == 'x' || c[1] == 'X') && is_hex(c.substr(2))) return true;
                why = "an EVM contract must be 0x followed by 40 hex digits";
                return false;
            case Protocol::tron:
                if (c.size() == 34 && c[0] == 'T' && is_base58(c)) return true;
                if (c.size() == 42 && c.substr(0, 2) == "41" && is_hex(c)) return true;
                why = "a TRON contract must be a base58 address starting with T (34 characters) or 41 followed by 40 hex digits";
                return false;
            case Protocol::solana:
                if (c.size() >= 32 && c.size() <= 44 && is_base58(c)) return true;
                why = "a Solana mint must be a base58 address (32 to 44 characters)";
                return false;
            case Protocol::bitcoin: break;
        }
        why = "bitcoin chains have no tokens";
        return false;
    }

    std::string contract_identity(Protocol kind, const std::string& c) {
        if (kind == Protocol::evm || (kind == Protocol::tron && c.size() == 42)) return lower(c);
        return c;
    }

    // `min_amount` of a token or native currency, once its decimals are known.
    bool min_amount(const toml::table& t, const std::string& key, TokenConfig& out, bool decimals_ok) {
        const toml::node* n = t.get("min_amount");
        if (!n) return true;
        const std::string mkey = join(key, "min_amount");
        const auto* s = n->as_string();
        if (!s) {
            problem(line_of(*n), mkey,
                    "must be a decimal string in token units, e.g. \"0.01\" (a TOML number is not exact), not " +
                        type_name(*n));
            return false;
        }
        if (!decimals_ok) return false;  // reported under decimals
        auto a = Amount::parse_decimal(s->get(), out.decimals);
        if (!a) {
            problem(line_of(*n), mkey,
                    "\"" + s->get() + "\": " + a.error().message + " (a decimal amount with at most " +
                        std::to_string(out.decimals) + " decimals)");
            return false;
        }
        out.min_amount = a->raw();
        return true;
    }

    void load_native(const toml::node& n, const std::string& key, TokenConfig& out) {
        auto* t = table_of(n, key, "a table like { symbol = \"ETH\", decimals = 18 }");
        if (!t) return;
        check_keys(*t, key, {"symbol", "decimals", "min_amount"});
        if (auto* s = t->get("symbol")) {
            if (auto v = symbol(*s, join(key, "symbol"))) out.symbol = *v;
        } else {
            problem(line_of(n), join(key, "symbol"), "required");
        }
        bool decimals_ok = false;
        if (auto* d = t->get("decimals")) {
            if (auto v = decimals(*d, join(key, "decimals"))) {
                out.decimals = *v;
                decimals_ok = true;
            }
        } else {
            problem(line_of(n), join(key, "decimals"), "required");
        }
        min_amount(*t, key, out, decimals_ok);
    }

    void load_tokens(const toml::node& n, const std::string& key, std::optional<Protocol> kind, ChainConfig& out) {
        auto* a = array_of(n, key, "an array of tables like { symbol = \"USDT\", contract = \"0x...\", decimals = 6 }");
        if (!a) return;
        if (kind == Protocol::bitcoin && !a->empty()) {
            problem(line_of(n), key, "bitcoin chains have no tokens; remove the tokens list");
            return;
        }
        std::map<std::string, int> symbols, contracts;  // -> line first seen
        if (!out.native.symbol.empty()) symbols[out.native.symbol] = 0;
        for (std::size_t i = 0; i < a->size(); ++i) {
            const toml::node& tn = *a->get(i);
            const std::string tkey = item(key, i);
            auto* t = table_of(tn, tkey, "a table like { symbol = \"USDT\", contract = \"0x...\", decimals = 6 }");
            if (!t) continue;
            check_keys(*t, tkey, {"symbol", "contract", "decimals", "min_amount"});
            TokenConfig tok;
            bool ok = true;
            if (auto* s = t->get("symbol")) {
                if (auto v = symbol(*s, join(tkey, "symbol"))) {
                    auto [it, fresh] = symbols.emplace(*v, line_of(*s));
                    if (!fresh) {
                        problem(line_of(*s), join(tkey, "symbol"),
                                it->second == 0 ? "\"" + *v + "\" is already the native currency's symbol"
                                                : "duplicate symbol \"" + *v + "\" (first at line " +
                                                      std::to_string(it->second) + ")");
                        ok = false;
                    }
                    tok.symbol = *v;
                } else {
                    ok = false;
                }
            } else {
                problem(line_of(tn), join(tkey, "symbol"), "required");
                ok = false;
            }
            if (auto* c = t->get("contract")) {
                if (auto v = string(*c, join(tkey, "contract"))) {
                    std::string why;
                    if (v->empty()) {
                        problem(line_of(*c), join(tkey, "contract"), "must not be empty");
                        ok = false;
                    } else if (kind && !contract_format_ok(*kind, *v, why)) {
                        problem(line_of(*c), join(tkey, "contract"), "\"" + *v + "\": " + why);
                        ok = false;
                    } else {
                        auto [it, fresh] = contracts.emplace(kind ? contract_identity(*kind, *v) : *v, line_of(*c));
                        if (!fresh) {
                            problem(line_of(*c), join(tkey, "contract"),
                                    "duplicate contract (first at line " + std::to_string(it->second) + ")");
                            ok = false;
                        }
                    }
                    tok.contract = *v;
                } else {
                    ok = false;
                }
            } else {
                problem(line_of(tn), join(tkey, "contract"), "required");
                ok = false;
            }
            bool decimals_ok = false;
            if (auto* d = t->get("decimals")) {
                if (auto v = decimals(*d, join(tkey, "decimals"))) {
                    tok.decimals = *v;
                    decimals_ok = true;
                } else {
                    ok = false;
                }
            } else {
                problem(line_of(tn), join(tkey, "decimals"), "required");
                ok = false;
            }
            if (!min_amount(*t, tkey, tok, decimals_ok)) ok = false;
            if (ok) out.tokens.push_back(std::move(tok));
        }
    }

    void load_headers(const toml::node& n, const std::string& key, std::map<std::string, std::string>& out) {
        auto* t = table_of(n, key, "a table of strings, e.g. { \"TRON-PRO-API-KEY\" = \"${TRONGRID_KEY}\" }");
        if (!t) return;
        static constexpr std::string_view reserved[] = {"host", "content-length", "content-type", "transfer-encoding",
                                                        "connection"};
        std::set<std::string> seen;
        for (auto&& [k, v] : *t) {
            const std::string name(k.str());
            const std::string hkey = join(key, name);
            if (!is_header_token(name)) {
                problem(line_of(k), hkey, "\"" + name + "\" is not a valid HTTP header name");
                continue;
            }
            if (std::find(std::begin(reserved), std::end(reserved), lower(name)) != std::end(reserved)) {
                problem(line_of(k), hkey, "depositd sets " + name + " itself");
                continue;
            }
            if (!seen.insert(lower(name)).second) {
                problem(line_of(k), hkey, "duplicate header (names are case-insensitive)");
                continue;
            }
            auto value = string(v, hkey);
            if (!value) continue;
            if (std::any_of(value->begin(), value->end(), [](char c) {
                    return c == '\r' || c == '\n' || c == '\0';
                })) {
                problem(line_of(v), hkey, "a header value must not contain line breaks");
                continue;
            }
            out[name] = *value;
        }
    }

    void load_chain(const toml::table& t, const std::string& key, ChainConfig& c, std::map<std::string, int>& ids) {
        check_keys(t, key,
                   {"id", "kind", "rpc", "confirmations", "poll_interval", "start", "native", "tokens",
                    "max_block_range", "max_reorg_depth", "headers", "max_rps", "request_timeout", "chain_id",
                    "max_response_size", "rpc_cookie_file"});
        const int line = line_of(t);
        c.source = file_ + ":" + std::to_string(line);

        if (auto* n = t.get("id")) {
            if (auto s = string(*n, join(key, "id"))) {
                const bool ok = !s->empty() && s->size() <= 64 && std::all_of(s->begin(), s->end(), [](char ch) {
                    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
                });
                if (!ok) {
                    problem(line_of(*n), join(key, "id"),
                            "\"" + *s + "\": a chain id is 1 to 64 characters of a-z, 0-9, _ and -");
                } else {
                    auto [it, fresh] = ids.emplace(*s, line_of(*n));
                    if (!fresh)
                        problem(line_of(*n), join(key, "id"),
                                "duplicate chain id \"" + *s + "\" (first at line " + std::to_string(it->second) + ")");
                    c.id = *s;
                }
            }
        } else {
            problem(line, join(key, "id"), "required (the chainId used in the API and webhooks, e.g. \"ethereum\")");
        }

        std::optional<Protocol> kind;
        if (auto* n = t.get("kind")) {
            if (auto s = string(*n, join(key, "kind"))) {
                Protocol p;
                if (parse_protocol(*s, p)) kind = p;
                else problem(line_of(*n), join(key, "kind"), "\"" + *s + "\" is not a chain kind; use evm, tron, bitcoin or solana");
            }
        } else {
            problem(line, join(key, "kind"), "required: evm, tron, bitcoin or solana");
        }
        if (kind) {
            c.kind = *kind;
            const KindDefaults d = defaults_for(*kind);
            c.max_block_range = d.max_block_range;
            c.max_reorg_depth = d.max_reorg_depth;
            c.poll_interval = d.poll_interval;
        }

        if (auto* n = t.get("rpc")) {
            const std::string rkey = join(key, "rpc");
            if (auto* a = array_of(*n, rkey, "an array of URLs, e.g. [\"https://node.example/rpc\"]")) {
                if (a->empty()) problem(line_of(*n), rkey, "must not be empty: give at least one node URL");
                std::set<std::string> seen;
                for (std::size_t i = 0; i < a->size(); ++i) {
                    const toml::node& u = *a->get(i);
                    const std::string ukey = item(rkey, i);
                    auto s = string(u, ukey);
                    if (!s) continue;
                    if (!is_http_url(*s)) problem(line_of(u), ukey, "must be an http:// or https:// URL");
                    else if (!seen.insert(*s).second) problem(line_of(u), ukey, "duplicate URL");
                    else c.rpc.push_back(*s);
                }
            }
        } else {
            problem(line, join(key, "rpc"), "required: a list of node URLs, e.g. [\"https://node.example/rpc\"]");
        }

        if (auto* n = t.get("confirmations")) {
            const std::string ckey = join(key, "confirmations");
            const auto* s = n->as_string();
            if (s && s->get() == "finalized") {
                if (kind && !defaults_for(*kind).has_finality)
                    problem(line_of(*n), ckey,
                            std::string(to_string(*kind)) + " has no finality tag; give a number of blocks, e.g. 6");
                else c.finalized = true;
            } else if (auto* i = n->as_integer(); i && i->get() >= 1 && i->get() <= 1'000'000) {
                c.confirmations = static_cast<std::uint32_t>(i->get());
            } else {
                problem(line_of(*n), ckey, "must be a positive integer or \"finalized\"");
            }
        } else {
            problem(line, join(key, "confirmations"),
                    "required: how many blocks make a deposit confirmed (or \"finalized\")");
        }

        if (auto* n = t.get("poll_interval")) {
            if (auto d = duration(*n, join(key, "poll_interval"), false)) c.poll_interval = *d;
        }

        if (auto* n = t.get("start")) {
            const auto* s = n->as_string();
            if (s && s->get() == "latest") c.start.reset();
            else if (auto* i = n->as_integer(); i && i->get() >= 0) c.start = static_cast<std::uint64_t>(i->get());
            else problem(line_of(*n), join(key, "start"), "must be \"latest\" or a block number / slot >= 0");
        }

        if (auto* n = t.get("native")) {
            load_native(*n, join(key, "native"), c.native);
            const toml::node* d = n->is_table() ? n->as_table()->get("decimals") : nullptr;
            if (kind == Protocol::bitcoin && d && d->is_integer() && c.native.decimals != 8)
                problem(line_of(*d), join(join(key, "native"), "decimals"), "bitcoin amounts have 8 decimals (satoshis)");
        } else {
            problem(line, join(key, "native"), "required, e.g. native = { symbol = \"ETH\", decimals = 18 }");
        }

        if (auto* n = t.get("tokens")) load_tokens(*n, join(key, "tokens"), kind, c);

        const auto u32 = static_cast<std::int64_t>(std::numeric_limits<std::uint32_t>::max());
        if (auto* n = t.get("max_block_range")) {
            if (auto v = integer(*n, join(key, "max_block_range"), 1, u32, "a positive integer"))
                c.max_block_range = static_cast<std::uint32_t>(*v);
        }
        if (auto* n = t.get("max_reorg_depth")) {
            if (auto v = integer(*n, join(key, "max_reorg_depth"), 1, u32, "a positive integer"))
                c.max_reorg_depth = static_cast<std::uint32_t>(*v);
        }
        if (kind == Protocol::solana) check_solana(t, key, c);
        if (auto* n = t.get("headers")) load_headers(*n, join(key, "headers"), c.headers);
        if (auto* n = t.get("max_rps")) {
            double v = -1;
            if (auto* i = n->as_integer()) v = static_cast<double>(i->get());
            else if (auto* f = n->as_floating_point()) v = f->get();
            if (!(n->is_integer() || n->is_floating_point()) || !std::isfinite(v) || v < 0)
                problem(line_of(*n), join(key, "max_rps"), "must be a number >= 0 (0 = no cap)");
            else c.max_rps = v;
        }
        if (auto* n = t.get("request_timeout")) {
            if (auto d = duration(*n, join(key, "request_timeout"), false)) c.request_timeout = *d;
        }
        if (auto* n = t.get("chain_id")) {
            const std::string ckey = join(key, "chain_id");
            if (kind && *kind != Protocol::evm) {
                problem(line_of(*n), ckey, "only EVM chains have a chain id (eth_chainId); remove it");
            } else if (auto v = integer(*n, ckey, 1, std::numeric_limits<std::int64_t>::max(),
                                        "a positive integer, the eth_chainId of the chain (1 = Ethereum, 56 = BSC, "
                                        "137 = Polygon)")) {
                c.chain_id = static_cast<std::uint64_t>(*v);
                c.chain_id_source = file_ + ":" + std::to_string(line_of(*n)) + ":" + ckey;
            }
        }
        if (auto* n = t.get("max_response_size")) {
            if (auto v = size(*n, join(key, "max_response_size"), kMinResponseSize, kMaxResponseSize))
                c.max_response_bytes = static_cast<std::size_t>(*v);
        }
        if (auto* n = t.get("rpc_cookie_file")) load_cookie_file(*n, join(key, "rpc_cookie_file"), kind, c);
    }

    // Bitcoin Core's .cookie ("__cookie__:<password>", rewritten on every
    // node start): only the path is checked here, the file is read (and
    // re-read) by the adapter. It may not exist yet while the node starts.
    void load_cookie_file(const toml::node& n, const std::string& key, std::optional<Protocol> kind, ChainConfig& c) {
        auto s = string(n, key);
        if (!s) return;
        if (kind && *kind != Protocol::bitcoin) {
            problem(line_of(n), key, "only for kind = \"bitcoin\" (Bitcoin Core's .cookie file)");
            return;
        }
        if (s->empty()) {
            problem(line_of(n), key, "must not be empty (the path of bitcoind's .cookie file)");
            return;
        }
        for (const auto& u : c.rpc) {
            const auto start = u.find("://") + 3;
            const auto authority = u.substr(start, u.find_first_of("/?#", start) - start);
            if (authority.find('@') != std::string::npos) {
                problem(line_of(n), key, "give either user:password in the rpc URL or rpc_cookie_file, not both");
                return;
            }
        }
        fs::path p(*s);
        if (p.is_relative()) p = base_dir_ / p;
        c.rpc_cookie_file = p.lexically_normal().string();
    }

    // What only a Solana chain can get wrong: lamports have 9 decimals, and
    // getBlocks looks at no more than 500,000 slots at once.
    void check_solana(const toml::table& t, const std::string& key, const ChainConfig& c) {
        if (const auto* nt = t.get("native"); nt && nt->is_table()) {
            if (const auto* d = nt->as_table()->get("decimals"); d && d->is_integer() && c.native.decimals != 9)
                problem(line_of(*d), join(join(key, "native"), "decimals"),
                        "SOL has 9 decimals (1 SOL = 10^9 lamports); got " + std::to_string(c.native.decimals));
        }
        if (const auto* n = t.get("max_block_range"); n && c.max_block_range > 500'000)
            problem(line_of(*n), join(key, "max_block_range"),
                    "at most 500000 for solana (the slot range getBlocks accepts)");
    }

    void load_chains(const toml::table& root, std::vector<ChainConfig>& out) {
        const toml::node* n = root.get("chains");
        if (!n) {
            problem(0, "chains", "at least one [[chains]] entry is required");
            return;
        }
        auto* a = array_of(*n, "chains", "an array of tables ([[chains]])");
        if (!a) return;
        if (a->empty()) problem(line_of(*n), "chains", "at least one [[chains]] entry is required");
        std::map<std::string, int> ids;
        for (std::size_t i = 0; i < a->size(); ++i) {
            const std::string key = item("chains", i);
            if (auto* t = table_of(*a->get(i), key)) {
                ChainConfig c;
                load_chain(*t, key, c, ids);
                out.push_back(std::move(c));
            }
        }
    }
};

LoadResult load_impl(const std::string& text, const std::string& name, GetEnv env, const fs::path& base_dir,
                     Reader reader) {
    LoadResult result;
    try {
        toml::table root;
#if TOML_EXCEPTIONS
        try {
            root = toml::parse(text, name);
        } catch (const toml::parse_error& e) {
            const auto& src = e.source();
            result.problems.push_back(Problem{name, static_cast<int>(src.begin.line), "",
                                              "TOML syntax error at column " + std::to_string(src.begin.column) +
                                                  ": " + std::string(e.description())});
            return result;
        }
#else
        toml::parse_result parsed = toml::parse(text, name);
        if (!parsed) {
            const auto& e = parsed.error();
            result.problems.push_back(Problem{name, static_cast<int>(e.source().begin.line), "",
                                              "TOML syntax error at column " +
                                                  std::to_string(e.source().begin.column) + ": " +
                                                  std::string(e.description())});
            return result;
        }
        root = std::move(parsed).table();
#endif
        Loader loader(name, env, base_dir, reader);
        Config cfg = loader.load(root);
        result.problems = std::move(loader.problems);
        std::stable_sort(result.problems.begin(), result.problems.end(),
                         [](const Problem& a, const Problem& b) { return a.line < b.line; });
        if (result.problems.empty()) result.config = std::move(cfg);
    } catch (const std::exception& e) {
        result.config.reset();
        result.problems.push_back(Problem{name, 0, "", std::string("cannot load configuration: ") + e.what()});
    } catch (...) {
        result.config.reset();
        result.problems.push_back(Problem{name, 0, "", "cannot load configuration: unknown error"});
    }
    return result;
}

}  // namespace

LoadResult load_string(const std::string& text, const std::string& name,
                       std::string (*getenv_fn)(const std::string&), Reader reader) {
    fs::path base;
    try {
        base = fs::path(name).parent_path();
    } catch (...) {
    }
    return load_impl(text, name, getenv_fn, base, reader);
}

LoadResult load_file(const std::string& path, Reader reader) {
    LoadResult result;
    try {
        std::error_code ec;
        if (fs::is_directory(path, ec)) {
            result.problems.push_back(Problem{path, 0, "", "cannot read: is a directory"});
            return result;
        }
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            const int err = errno;
            result.problems.push_back(
                Problem{path, 0, "", std::string("cannot read: ") + (err ? std::strerror(err) : "cannot open file")});
            return result;
        }
        std::ostringstream buf;
        buf << in.rdbuf();
        if (in.bad()) {
            result.problems.push_back(Problem{path, 0, "", "cannot read: I/O error"});
            return result;
        }
        fs::path abs = fs::absolute(fs::path(path), ec);
        fs::path base = ec ? fs::path(path).parent_path() : abs.parent_path();
        return load_impl(buf.str(), path, nullptr, base, reader);
    } catch (const std::exception& e) {
        result.config.reset();
        result.problems.push_back(Problem{path, 0, "", std::string("cannot read: ") + e.what()});
    }
    return result;
}

}  // namespace depositd::config
