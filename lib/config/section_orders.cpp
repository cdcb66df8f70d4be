// [orders]: what an order pays in, its expiry, mode (address | amount) with
// the shared receive addresses, fiat pricing and the address cooldown.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "config/checks.hpp"
#include "config/print.hpp"
#include "config/sections.hpp"
#include "core/netaddr.hpp"

namespace depositd::config {
namespace {

using O = OrdersConfig;

void print_receive(Printer& p, const O& o) {
    if (o.receive.empty()) return;
    std::string out = "{ ";
    for (const auto& [chain, address] : o.receive)
        out += (out.size() > 2 ? ", " : "") + toml_key(chain) + " = " + toml_string(address);
    p.raw(out + " }");
}

void print_rate_sources(Printer& p, const O& o) {
    if (o.rate_sources.empty()) return;
    std::vector<std::string> items;
    for (const auto& s : o.rate_sources)
        items.push_back("{ url = " + toml_string(s.url) + (s.path.empty() ? "" : ", path = " + toml_string(s.path)) + " }");
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : " ") + items[i];
    p.raw(out + " ]");
}

// 100000 ppm -> "10%", 25000 -> "2.5%".
std::string ppm_percent(std::uint32_t ppm) {
    std::string whole = std::to_string(ppm / 10'000);
    std::string frac = std::to_string(ppm % 10'000);
    frac.insert(0, 4 - frac.size(), '0');
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    return whole + (frac.empty() ? "" : "." + frac) + "%";
}

constexpr Key<OrdersConfig> kKeys[] = {
    {"default", {}, [](Printer& p, const O& o) { if (!o.default_pay.empty()) p.string(o.default_pay); }},
    {"expiry", {}, [](Printer& p, const O& o) { p.duration(o.expiry); }},
    {"mode", {}, [](Printer& p, const O& o) { p.string(o.mode == O::Mode::amount ? "amount" : "address"); }},
    {"receive", {}, print_receive},
    {"fiat", {}, [](Printer& p, const O& o) { if (!o.fiat.empty()) p.string(o.fiat); }},
    {"rate", {}, [](Printer& p, const O& o) { if (!o.rate.empty()) p.string(o.rate); }},
    // Printed as rate_sources (one list for one source or several).
    {"rate_source", {}, nullptr},
    {"rate_path", {}, nullptr},
    {"rate_sources", {}, print_rate_sources},
    {"rate_max_change", {}, [](Printer& p, const O& o) { p.string(ppm_percent(o.rate_max_change_ppm)); }},
    {"rate_refresh", {}, [](Printer& p, const O& o) { p.duration(o.rate_refresh); }},
    {"rate_max_age", {}, [](Printer& p, const O& o) { p.duration(o.rate_max_age); }},
    {"precision", {}, [](Printer& p, const O& o) { p.integer(o.precision); }},
    {"cooldown", {}, [](Printer& p, const O& o) { o.cooldown ? p.duration(*o.cooldown) : p.string("never"); }},
    {"amount_hold", {}, [](Printer& p, const O& o) { p.duration(o.amount_hold); }},
    {"open_per_client", {}, [](Printer& p, const O& o) { p.integer(o.open_per_client); }},
};

// "7.4" | "~1.02" | "+0.3" | "-0.1": digits with an optional fraction.
bool valid_rate(std::string_view r) {
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
bool receive_format_ok(Protocol kind, const std::string& a) {
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
bool currency_exists(const std::vector<ChainConfig>& chains, const std::string& pay) {
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

void load_receive(Loader& l, const toml::node& n, const std::vector<ChainConfig>& chains, OrdersConfig& out) {
    auto* r = l.table_of(n, "orders.receive", "a table of chainId = address, e.g. { tron = \"T...\" }");
    if (!r) return;
    for (auto&& [k, v] : *r) {
        const std::string chain(k.str());
        const std::string key = join("orders.receive", chain);
        auto s = l.string(v, key);
        if (!s) continue;
        const ChainConfig* c = nullptr;
        for (const auto& ch : chains)
            if (ch.id == chain) c = &ch;
        if (!c) {
            l.problem(line_of(k), key, "\"" + chain + "\" is not a configured chain id");
            continue;
        }
        if (!receive_format_ok(c->kind, *s)) {
            l.problem(line_of(v), key, "\"" + *s + "\" is not a valid address for chain " + chain + " (" + to_string(c->kind) + ")");
            continue;
        }
        out.receive[chain] = *s;
        out.receive_source[chain] = l.at(line_of(v), key).file_line();
    }
}

// A rate source is fetched over https; plain http only to this machine (tests).
std::optional<std::string> rate_url_problem(const std::string& url) {
    if (!is_http_url(url)) return "must be an https:// URL";
    if (url.rfind("https://", 0) == 0) return std::nullopt;
    const std::string host = netaddr::url_host(url);
    if (host == "127.0.0.1" || host == "::1") return std::nullopt;
    return "must be an https:// URL (a rate answered over plain http can be rewritten on the way; "
           "http:// is accepted only to 127.0.0.1)";
}

bool valid_rate_path(const std::string& p) {
    return p.size() <= 256 && (p.empty() || (p.front() != '.' && p.back() != '.' && p.find("..") == std::string::npos));
}

// "10%", "2.5%" or a fraction below 1 (0.1 = 10 %); 0 turns the guard off.
// In parts per million, exact for up to four decimals of a percent.
std::optional<std::uint32_t> max_change(Loader& l, const toml::node& n, const std::string& key) {
    const std::string what = "must be a percentage like \"10%\" (or a fraction below 1, 0.1 = 10 %; 0 = no guard)";
    double v = -1;
    if (auto* s = n.as_string()) {
        std::string text = s->get();
        if (text.size() < 2 || text.back() != '%') {
            l.problem(line_of(n), key, what);
            return std::nullopt;
        }
        text.pop_back();
        const bool digits = std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }) &&
                            std::count(text.begin(), text.end(), '.') <= 1 && text.front() != '.' && text.back() != '.';
        if (!digits || text.size() > 12) {
            l.problem(line_of(n), key, what);
            return std::nullopt;
        }
        v = std::strtod(text.c_str(), nullptr) / 100.0;
    } else if (auto* i = n.as_integer()) {
        v = i->get() == 0 ? 0.0 : -1.0;
    } else if (auto* fp = n.as_floating_point()) {
        v = fp->get() < 1.0 ? fp->get() : -1.0;
    }
    if (!(v >= 0) || v > 100.0) {
        l.problem(line_of(n), key, what);
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(std::llround(v * 1'000'000));
}

void load_rate_sources(Loader& l, const Fields<OrdersConfig>& f, OrdersConfig& out) {
    if (auto* n = f.get("rate_sources"); n && f.get("rate_path"))
        l.problem(line_of(*f.get("rate_path")), "orders.rate_path",
                  "goes with rate_source; with rate_sources give each source its own path");
    if (auto* n = f.get("rate_sources")) {
        const char* what = "an array of { url = \"https://...\", path = \"data.CNY\" }";
        auto* a = l.array_of(*n, "orders.rate_sources", what);
        if (!a) return;
        if (a->empty()) l.problem(line_of(*n), "orders.rate_sources", "must not be empty");
        for (std::size_t i = 0; i < a->size(); ++i) {
            const std::string key = item("orders.rate_sources", i);
            auto* src = l.table_of(*a->get(i), key, what);
            if (!src) continue;
            l.check_keys(*src, key, {"url", "path"});
            OrdersConfig::RateSource rs;
            if (auto* u = src->get("url")) {
                if (auto s = l.string(*u, join(key, "url"))) {
                    if (auto why = rate_url_problem(*s)) l.problem(line_of(*u), join(key, "url"), *why);
                    else rs.url = *s;
                }
            } else {
                l.problem(line_of(*a->get(i)), join(key, "url"), "required");
            }
            if (auto* p = src->get("path")) {
                if (auto s = l.string(*p, join(key, "path"))) {
                    if (!valid_rate_path(*s))
                        l.problem(line_of(*p), join(key, "path"), "must be keys separated by dots, e.g. \"data.rates.CNY\"");
                    else rs.path = *s;
                }
            }
            if (!rs.url.empty()) out.rate_sources.push_back(std::move(rs));
        }
        if (!out.rate_sources.empty()) {
            out.rate_source = out.rate_sources.front().url;
            out.rate_path = out.rate_sources.front().path;
        }
    } else if (!out.rate_source.empty()) {
        out.rate_sources.push_back({out.rate_source, out.rate_path});
    }
}

// fiat, rate, rate_source, rate_path: how fiat prices become pay amounts.
void load_pricing(Loader& l, const Fields<OrdersConfig>& f, OrdersConfig& out) {
    const toml::node* fiat = f.get("fiat");
    const toml::node* rate = f.get("rate");
    if (fiat) {
        if (auto s = l.string(*fiat, "orders.fiat")) {
            const bool ok = !s->empty() && s->size() <= 8 &&
                            std::all_of(s->begin(), s->end(), [](char c) { return c >= 'A' && c <= 'Z'; });
            if (!ok) l.problem(line_of(*fiat), "orders.fiat", "must be a currency code in capitals, e.g. \"CNY\"");
            else out.fiat = *s;
        }
    }
    if (rate) {
        if (auto s = l.string(*rate, "orders.rate")) {
            if (!valid_rate(*s))
                l.problem(line_of(*rate), "orders.rate",
                          "\"" + *s + "\" is not a rate; use \"7.4\" (fixed), \"~1.02\" (times the base rate), "
                          "\"+0.3\" or \"-0.1\" (added to it)");
            else out.rate = *s;
        }
    }
    if (fiat && !rate) l.problem(line_of(*fiat), "orders.rate", "required with orders.fiat (e.g. rate = \"7.2\")");
    if (rate && !fiat) l.problem(line_of(*rate), "orders.fiat", "required with orders.rate (e.g. fiat = \"CNY\")");
    const bool relative = !out.rate.empty() && (out.rate[0] == '~' || out.rate[0] == '+' || out.rate[0] == '-');
    const toml::node* sources = f.get("rate_sources");
    if (auto* n = f.get("rate_source"); n && sources) {
        l.problem(line_of(*sources), "orders.rate_sources", "give either rate_source (one) or rate_sources (several), not both");
    } else if (sources) {
        if (!out.rate.empty() && !relative)
            l.problem(line_of(*sources), "orders.rate_sources",
                      "is only used with a relative rate (\"~1.02\", \"+0.3\", \"-0.1\"); a fixed rate needs none");
    } else if (auto* n = f.get("rate_source")) {
        if (auto s = l.string(*n, "orders.rate_source")) {
            if (auto why = rate_url_problem(*s)) l.problem(line_of(*n), "orders.rate_source", *why);
            else if (!out.rate.empty() && !relative)
                l.problem(line_of(*n), "orders.rate_source",
                          "is only used with a relative rate (\"~1.02\", \"+0.3\", \"-0.1\"); a fixed rate needs none");
            else out.rate_source = *s;
        }
    } else if (relative) {
        l.problem(line_of(*rate), "orders.rate_source",
                  "required with a relative rate: the URL the base rate comes from (or rate_sources)");
    }
    if (auto* n = f.get("rate_path")) {
        if (auto s = l.string(*n, "orders.rate_path")) {
            if (!valid_rate_path(*s))
                l.problem(line_of(*n), "orders.rate_path", "must be keys separated by dots, e.g. \"data.rates.CNY\"");
            else out.rate_path = *s;
        }
    }
}

void load_table(Loader& l, const toml::table& t, const std::vector<ChainConfig>& chains, OrdersConfig& out) {
    const Fields<OrdersConfig> f(l, t, "orders", kKeys);
    out.source = l.at(f.line(), "orders").file_line();
    if (auto* n = f.get("default")) {
        if (auto s = l.string(*n, "orders.default")) {
            if (!currency_exists(chains, *s))
                l.problem(line_of(*n), "orders.default",
                          "\"" + *s + "\" is not a configured currency; write <symbol>.<chainId>, e.g. \"usdt.tron\"");
            else out.default_pay = lower(*s);
        }
    }
    if (auto* n = f.get("expiry")) {
        if (auto d = l.duration(*n, "orders.expiry", false)) {
            if (*d < std::chrono::seconds(1) || *d > std::chrono::hours(24))
                l.problem(line_of(*n), "orders.expiry", "must be from 1s to 24h");
            else out.expiry = *d;
        }
    }
    const toml::node* mode_node = f.get("mode");
    if (mode_node) {
        if (auto s = l.string(*mode_node, "orders.mode")) {
            if (*s == "address") out.mode = OrdersConfig::Mode::address;
            else if (*s == "amount") out.mode = OrdersConfig::Mode::amount;
            else l.problem(line_of(*mode_node), "orders.mode", "\"" + *s + "\" is not a mode; use address or amount");
        }
    }
    const std::size_t problems_before_receive = l.problems.size();
    if (auto* n = f.get("receive")) load_receive(l, *n, chains, out);
    if (out.mode == OrdersConfig::Mode::amount && l.problems.size() == problems_before_receive) {
        if (out.receive.empty())
            l.problem(mode_node ? line_of(*mode_node) : f.line(), "orders.receive",
                      "mode = \"amount\" needs shared addresses: receive = { <chainId> = \"<address>\" }");
        else if (!out.default_pay.empty() && !out.receive.count(out.default_pay.substr(out.default_pay.rfind('.') + 1)))
            l.problem(f.line(), "orders.receive", "has no address for the chain of orders.default");
    }
    load_pricing(l, f, out);
    if (auto* n = f.get("rate_refresh")) {
        if (auto d = l.duration(*n, "orders.rate_refresh", false)) out.rate_refresh = *d;
    }
    if (auto* n = f.get("rate_max_age")) {
        if (auto d = l.duration(*n, "orders.rate_max_age", false)) out.rate_max_age = *d;
    }
    if (auto* n = f.get("precision")) {
        if (auto v = l.integer(*n, "orders.precision", 0, 18, "an integer from 0 to 18")) out.precision = static_cast<unsigned>(*v);
    }
    if (auto* n = f.get("cooldown")) {
        auto* s = n->as_string();
        if (s && s->get() == "never") out.cooldown.reset();
        else if (auto d = l.duration(*n, "orders.cooldown", true)) out.cooldown = *d;
    }
    load_rate_sources(l, f, out);
    if (auto* n = f.get("rate_max_change")) {
        if (auto v = max_change(l, *n, "orders.rate_max_change")) out.rate_max_change_ppm = *v;
    }
    if (auto* n = f.get("amount_hold")) {
        if (auto d = l.duration(*n, "orders.amount_hold", true)) out.amount_hold = *d;
    }
    if (auto* n = f.get("open_per_client")) {
        if (auto v = l.integer(*n, "orders.open_per_client", 1, 10'000, "an integer from 1 to 10000"))
            out.open_per_client = static_cast<std::uint32_t>(*v);
    }
}

}  // namespace

std::optional<Flags> orders_key(std::string_view name) { return find_key<OrdersConfig>(kKeys, name); }

void print_orders(Printer& p, const Config& cfg) {
    p.header("[orders]", "orders");
    p.keys<OrdersConfig>(kKeys, cfg.orders);
}

void load_orders(Loader& l, const toml::table& root, Config& cfg) {
    if (auto* t = l.section(root, "orders")) load_table(l, *t, cfg.chains, cfg.orders);
}

}  // namespace depositd::config
