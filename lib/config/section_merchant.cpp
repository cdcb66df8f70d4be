// [merchant]: the EPay merchant id and key (also the epusdt API token).
#include "config/checks.hpp"
#include "config/print.hpp"
#include "config/sections.hpp"

namespace depositd::config {
namespace {

using M = MerchantConfig;

constexpr Key<MerchantConfig> kKeys[] = {
    {"pid", {}, [](Printer& p, const M& m) { p.integer(m.pid); }},
    {"key", {Secret::value}, [](Printer& p, const M& m) { p.secret(m.key); }},
    {"allow_private_notify", {}, [](Printer& p, const M& m) { if (m.allow_private_notify) p.raw("true"); }},
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
            if (l.masked(*s)) out.key = *s;  // --check-config of --print-config's output
            else if (s->size() < 32 || s->size() > 256)
                l.problem(line_of(*n), "merchant.key",
                          "must be 32 to 256 characters (EPay key / epusdt API token): every payer sees parameters "
                          "signed with it and can try keys offline; make one with `openssl rand -hex 16`");
            else if (has_space_or_control(*s))
                l.problem(line_of(*n), "merchant.key", "must not contain spaces or control characters");
            else out.key = *s;
        }
    } else {
        l.problem(f.line(), "merchant.key", "required, e.g. key = \"${MERCHANT_KEY}\"");
    }
    if (auto* n = f.get("allow_private_notify")) {
        if (auto* b = n->as_boolean()) out.allow_private_notify = b->get();
        else l.problem(line_of(*n), "merchant.allow_private_notify", "must be true or false, not " + type_name(*n));
    }
}

}  // namespace

std::optional<Flags> merchant_key(std::string_view name) { return find_key<MerchantConfig>(kKeys, name); }

void print_merchant(Printer& p, const Config& cfg) {
    if (!cfg.merchant.enabled) return;  // absent: the merchant endpoints answer 404
    p.header("[merchant]", "merchant");
    p.keys<MerchantConfig>(kKeys, cfg.merchant);
}

void load_merchant(Loader& l, const toml::table& root, Config& cfg) {
    if (auto* t = l.section(root, "merchant")) load_table(l, *t, cfg.merchant);
}

}  // namespace depositd::config
