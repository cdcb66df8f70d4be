// [merchant]: the EPay merchant id and key (also the epusdt API token).
#include "config/checks.hpp"
#include "config/sections.hpp"

namespace depositd::config {
namespace {

constexpr Key<MerchantConfig> kKeys[] = {
    {"pid"},
    {"key", {Secret::value}},
};

void load_table(Loader& l, const toml::table& t, MerchantConfig& out) {
    const Fields<MerchantConfig> f(l, t, "merchant", kKeys);
    out.enabled = true;
    if (auto* n = f.get("pid")) {
        if (auto v = l.integer(*n, "merchant.pid", 1, 999'999'999'999LL, "a positive integer (the EPay merchant id)"))
            out.pid = *v;
    } else {
        l.problem(f.line(), "merchant.pid", "required: the EPay merchant id, e.g. pid = 1001");
    }
    if (auto* n = f.get("key")) {
        if (auto s = l.string(*n, "merchant.key")) {
            if (s->size() < 8 || s->size() > 256)
                l.problem(line_of(*n), "merchant.key", "must be 8 to 256 characters (EPay key / epusdt API token)");
            else if (has_space_or_control(*s))
                l.problem(line_of(*n), "merchant.key", "must not contain spaces or control characters");
            else out.key = *s;
        }
    } else {
        l.problem(f.line(), "merchant.key", "required, e.g. key = \"${MERCHANT_KEY}\"");
    }
}

}  // namespace

std::optional<Flags> merchant_key(std::string_view name) { return find_key<MerchantConfig>(kKeys, name); }

void load_merchant(Loader& l, const toml::table& root, Config& cfg) {
    if (auto* t = l.section(root, "merchant")) load_table(l, *t, cfg.merchant);
}

}  // namespace depositd::config
