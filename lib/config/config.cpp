// depositd configuration: the file's sections, in file order, and the
// entry points of config.hpp. The TOML reading layer is loader.cpp; each
// section is section_<name>.cpp.
#include "config/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/print.hpp"
#include "config/sections.hpp"

namespace depositd::config {
namespace {

namespace fs = std::filesystem;

// The top-level tables, in the order they are loaded (orders after chains)
// and listed in "allowed here: ...".
struct Section {
    std::string_view name;
    std::optional<Flags> (*key)(std::string_view name);
    void (*load)(Loader& l, const toml::table& root, Config& cfg);
    void (*print)(Printer& p, const Config& cfg);
};

constexpr Section kSections[] = {
    {"daemon", daemon_key, load_daemon, print_daemon},
    {"store", store_key, load_store, print_store},
    {"api", api_key, load_api, print_api},
    {"webhook", webhook_key, load_webhook, print_webhook},
    {"chains", chains_key, load_chains, print_chains},
    {"pool", pool_key, load_pool, print_pool},
    {"orders", orders_key, load_orders, print_orders},
    {"merchant", merchant_key, load_merchant, print_merchant},
    {"admin", admin_key, load_admin, print_admin},
    {"notify", notify_key, load_notify, print_notify},
};

// SPEC §10: an address that rests shorter than a chain's attribution skew
// could credit a deposit dated before the next holder began to either
// holder. Only the daemon reads every key this needs.
void check_cooldowns_against_skew(Loader& l, const toml::table& root, const Config& cfg) {
    const ChainConfig* widest = nullptr;
    for (const auto& c : cfg.chains)
        if (!widest || c.attribution_skew > widest->attribution_skew) widest = &c;
    if (!widest) return;
    auto check = [&](const std::optional<Duration>& cooldown, std::string_view section, const char* key) {
        if (!cooldown || *cooldown >= widest->attribution_skew) return;
        const toml::node* n = root.at_path(std::string(section) + ".cooldown").node();
        const std::string skew = format_duration(widest->attribution_skew);
        l.problem(n ? line_of(*n) : 0, key,
                  "is shorter than the attribution_skew of chain \"" + widest->id + "\" (" + skew +
                      "): a deposit in a block dated before the next holder began could go to either holder; "
                      "make it at least " + skew + " (or lower that chain's attribution_skew)");
    };
    check(cfg.pool.cooldown, "pool", "pool.cooldown");
    check(cfg.orders.cooldown, "orders", "orders.cooldown");
}

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
        Config cfg;
        cfg.path = name;
        std::vector<std::string_view> names;
        for (const Section& s : kSections) names.push_back(s.name);
        loader.check_keys(root, "", names);
        for (const Section& s : kSections) s.load(loader, root, cfg);
        if (reader == Reader::daemon || reader == Reader::check) check_cooldowns_against_skew(loader, root, cfg);
        cfg.secrets_as_written = std::move(loader.secrets_as_written);
        cfg.masked_secrets = std::move(loader.masked_secrets);
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

// Everything below a key ("chains[0].headers.X-Key") takes that key's flags
// ("headers" in chains' table).
std::optional<Flags> key_flags(std::string_view dotted) {
    const auto section_end = dotted.find_first_of(".[");
    if (section_end == std::string_view::npos) return std::nullopt;
    const std::string_view section = dotted.substr(0, section_end);
    std::string_view rest = dotted.substr(section_end);
    if (rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        rest.remove_prefix(close + 1);
    }
    if (rest.empty() || rest.front() != '.') return std::nullopt;
    rest.remove_prefix(1);
    const std::string_view key = rest.substr(0, rest.find_first_of(".["));
    // A key inside a table of tables may have flags of its own
    // ("admin.users[0].password_hash" asks admin_key for "users.password_hash");
    // otherwise it takes those of the key above it.
    std::string nested;
    for (std::size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] == '[') {
            const auto close = rest.find(']', i);
            if (close == std::string_view::npos) break;
            i = close;
            continue;
        }
        nested += rest[i];
    }
    for (const Section& s : kSections) {
        if (s.name != section) continue;
        if (nested != key)
            if (auto f = s.key(nested)) return f;
        return s.key(key);
    }
    return std::nullopt;
}

std::string Config::database_path() const {
    return (fs::path(daemon.data_dir) / "depositd.sqlite").string();
}

const ChainConfig* Config::chain(const std::string& id) const {
    for (const auto& c : chains)
        if (c.id == id) return &c;
    return nullptr;
}

bool reads_key(Reader reader, std::string_view key) {
    if (reader == Reader::daemon || reader == Reader::check) return true;
    const auto flags = key_flags(key);
    return flags && flags->use == Use::all;
}

LoadResult load_string(const std::string& text, const std::string& name,
                       std::string (*getenv_fn)(const std::string&), Reader reader) {
    fs::path base;
    try {
        base = fs::path(name).parent_path();
    } catch (...) {
    }
    return load_impl(text, name, getenv_fn, base, reader);
}

std::string to_toml(const Config& cfg) {
    Printer p(cfg.secrets_as_written);
    p.comment("The effective configuration of " + cfg.path + " (depositd --print-config):");
    p.comment("presets expanded, defaults filled in, secrets written literally masked as \"" + std::string(kMasked) +
              "\".");
    p.comment("depositd --check-config accepts it; the daemon refuses a masked secret until it is filled in.");
    for (const Section& s : kSections) s.print(p, cfg);
    return p.text();
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
