// [pool]: cooldown, low_water. depositctl reads all of it.
#include <limits>

#include "config/print.hpp"
#include "config/sections.hpp"

namespace depositd::config {
namespace {

using P = PoolConfig;

constexpr Key<PoolConfig> kKeys[] = {
    {"cooldown", {Secret::no, Use::all},
     [](Printer& p, const P& v) { v.cooldown ? p.duration(*v.cooldown) : p.string("never"); }},
    {"low_water", {Secret::no, Use::all}, [](Printer& p, const P& v) { p.integer(v.low_water); }},
};

void load_table(Loader& l, const toml::table& t, PoolConfig& out) {
    const Fields<PoolConfig> f(l, t, "pool", kKeys);
    if (auto* n = f.get("cooldown")) {
        auto* s = n->as_string();
        if (s && s->get() == "never") out.cooldown.reset();
        else if (auto d = l.duration(*n, "pool.cooldown", true)) out.cooldown = *d;
    }
    if (auto* n = f.get("low_water")) {
        if (auto v = l.integer(*n, "pool.low_water", 0, std::numeric_limits<std::uint32_t>::max(), "an integer >= 0"))
            out.low_water = static_cast<std::uint32_t>(*v);
    }
}

}  // namespace

std::optional<Flags> pool_key(std::string_view name) { return find_key<PoolConfig>(kKeys, name); }

void print_pool(Printer& p, const Config& cfg) {
    p.header("[pool]", "pool");
    p.keys<PoolConfig>(kKeys, cfg.pool);
}

void load_pool(Loader& l, const toml::table& root, Config& cfg) {
    if (auto* t = l.section(root, "pool")) load_table(l, *t, cfg.pool);
}

}  // namespace depositd::config
