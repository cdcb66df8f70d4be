// [store]: url (PostgreSQL) or nothing (SQLite in data_dir).
#include "config/checks.hpp"
#include "config/print.hpp"
#include "config/sections.hpp"

namespace depositd::config {
namespace {

using S = StoreConfig;

constexpr Key<StoreConfig> kKeys[] = {
    {"url", {Secret::url, Use::all}, [](Printer& p, const S& s) { if (s.url) p.secret(*s.url); }},
    {"lease", {}, [](Printer& p, const S& s) { p.duration(s.lease); }},
    {"lease_poll", {}, [](Printer& p, const S& s) { p.duration(s.lease_poll); }},
};

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

void load_lease(Loader& l, const Fields<StoreConfig>& f, StoreConfig& out) {
    if (const auto* n = f.get("lease")) {
        if (auto d = l.duration(*n, "store.lease", false)) {
            if (*d < std::chrono::seconds(2) || *d > std::chrono::minutes(5))
                l.problem(line_of(*n), "store.lease", "must be from 2s to 5m");
            else out.lease = *d;
        }
    }
    if (const auto* n = f.get("lease_poll")) {
        if (auto d = l.duration(*n, "store.lease_poll", false)) {
            if (*d < std::chrono::milliseconds(50) || *d > std::chrono::seconds(10))
                l.problem(line_of(*n), "store.lease_poll", "must be from 50ms to 10s");
            else out.lease_poll = *d;
        }
    }
    if (out.lease_poll * 5 > out.lease)
        l.problem(f.line(), "store.lease_poll", "must be at most a fifth of store.lease");
}

void load_table(Loader& l, const toml::table& t, StoreConfig& out) {
    const Fields<StoreConfig> f(l, t, "store", kKeys);
    load_lease(l, f, out);
    auto* n = f.get("url");
    if (!n) {
        l.problem(f.line(), "store.url",
                  "required in [store]: url = \"postgresql://USER:PASSWORD@HOST:PORT/DB\" (leave [store] out for "
                  "SQLite in data_dir)");
        return;
    }
    auto s = l.string(*n, "store.url");
    if (!s) return;
    if (l.masked(*s)) {
        out.url = *s;
        return;
    }
    // Only a libpq URI: a key=value string or a file path here would
    // be a SQLite path to one reader and a server to another.
    if (!starts_with(*s, "postgresql://") && !starts_with(*s, "postgres://"))
        l.problem(line_of(*n), "store.url",
                  "must be a PostgreSQL URL, postgresql://USER:PASSWORD@HOST:PORT/DB (SQLite needs no [store])");
    else if (has_space_or_control(*s))
        l.problem(line_of(*n), "store.url", "must not contain spaces or control characters (percent-encode them)");
    else out.url = *s;
}

}  // namespace

std::optional<Flags> store_key(std::string_view name) { return find_key<StoreConfig>(kKeys, name); }

void print_store(Printer& p, const Config& cfg) {
    if (!cfg.store.url) return;  // SQLite in data_dir
    p.header("[store]", "store");
    p.keys<StoreConfig>(kKeys, cfg.store);
}

void load_store(Loader& l, const toml::table& root, Config& cfg) {
    if (auto* t = l.section(root, "store")) load_table(l, *t, cfg.store);
}

}  // namespace depositd::config
