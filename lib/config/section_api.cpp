// [api]: listen, keys, request and connection limits, public_url.
#include <algorithm>
#include <set>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "config/checks.hpp"
#include "config/print.hpp"
#include "config/sections.hpp"
#include "core/netaddr.hpp"

namespace depositd::config {
namespace {

using A = ApiConfig;

// One labelled entry of `keys`: { key = "${OPS_KEY}", label = "ops" }.
struct LabelledKey {
    std::string key;
    std::string label;
};

constexpr Key<LabelledKey> kKeyEntryKeys[] = {
    {"key", {Secret::value}, [](Printer& p, const LabelledKey& k) { p.secret(k.key); }},
    {"label", {}, [](Printer& p, const LabelledKey& k) { p.string(k.label); }},
};

std::string default_label(std::size_t i) { return "key#" + std::to_string(i + 1); }

// Keys without a label as strings, labelled ones as { key, label } tables.
void print_keys(Printer& p, const A& a) {
    const bool labelled = std::any_of(a.key_labels.begin(), a.key_labels.end(),
                                      [&, i = std::size_t{0}](const std::string& l) mutable { return l != default_label(i++); });
    if (!labelled) return p.secrets(a.keys);
    std::vector<std::string> items;
    for (std::size_t i = 0; i < a.keys.size(); ++i) {
        const std::string label = i < a.key_labels.size() ? a.key_labels[i] : default_label(i);
        if (label == default_label(i)) {
            items.push_back(toml_string(p.masked_value(item(p.current_key(), i), a.keys[i])));
        } else {
            items.push_back(p.inline_table<LabelledKey>(kKeyEntryKeys, LabelledKey{a.keys[i], label}, i));
        }
    }
    p.lines(items);
}

constexpr Key<ApiConfig> kKeys[] = {
    {"listen", {}, [](Printer& p, const A& a) { p.string(a.listen); }},
    {"keys", {Secret::value}, print_keys},
    {"max_body_bytes", {}, [](Printer& p, const A& a) { p.integer(static_cast<std::int64_t>(a.max_body_bytes)); }},
    {"max_connections", {}, [](Printer& p, const A& a) { p.integer(static_cast<std::int64_t>(a.max_connections)); }},
    {"max_connections_per_client", {},
     [](Printer& p, const A& a) { p.integer(static_cast<std::int64_t>(a.max_connections_per_client)); }},
    {"idle_timeout", {}, [](Printer& p, const A& a) { p.duration(a.idle_timeout); }},
    {"public_url", {}, [](Printer& p, const A& a) { if (!a.public_url.empty()) p.string(a.public_url); }},
    {"trusted_proxies", {}, [](Printer& p, const A& a) { if (!a.trusted_proxies.empty()) p.strings(a.trusted_proxies); }},
};

bool parse_listen(Loader& l, const std::string& s, ApiConfig& out, int line) {
    const std::string key = "api.listen";
    std::string host, port;
    if (!s.empty() && s.front() == '[') {
        const auto close = s.find(']');
        if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') {
            l.problem(line, key, "\"" + s + "\" must be \"host:port\", e.g. \"127.0.0.1:8080\" or \"[::1]:8080\"");
            return false;
        }
        host = s.substr(1, close - 1);
        port = s.substr(close + 2);
    } else {
        const auto colon = s.rfind(':');
        if (colon == std::string::npos) {
            l.problem(line, key, "\"" + s + "\" must be \"host:port\", e.g. \"127.0.0.1:8080\"");
            return false;
        }
        host = s.substr(0, colon);
        port = s.substr(colon + 1);
        if (host.find(':') != std::string::npos) {
            l.problem(line, key, "\"" + s + "\": put an IPv6 address in brackets, e.g. \"[::1]:8080\"");
            return false;
        }
    }
    if (host.empty()) {
        l.problem(line, key, "\"" + s + "\" has no host; use e.g. \"127.0.0.1:8080\" or \"0.0.0.0:8080\"");
        return false;
    }
    if (std::any_of(host.begin(), host.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20; })) {
        l.problem(line, key, "\"" + s + "\": the host must not contain spaces");
        return false;
    }
    // An IP literal only: a name would be resolved once, at start, to
    // whatever the resolver says then (and "localhost" may be ::1 or not).
    const bool bracketed = s.front() == '[';
    unsigned char addr[sizeof(in6_addr)];
    if (inet_pton(bracketed ? AF_INET6 : AF_INET, host.c_str(), addr) != 1) {
        l.problem(line, key,
                  "\"" + s + "\": the host must be an IP address, e.g. \"127.0.0.1:8080\", \"0.0.0.0:8080\" or "
                  "\"[::1]:8080\" (" + (bracketed ? std::string("not an IPv6 address") : std::string("host names are not resolved")) + ")");
        return false;
    }
    const bool digits = !port.empty() && port.size() <= 5 &&
                        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoul(port) > 65535) {
        l.problem(line, key, "\"" + s + "\": the port must be a number from 0 to 65535");
        return false;
    }
    out.listen = s;
    out.host = host;
    out.port = static_cast<std::uint16_t>(std::stoul(port));
    return true;
}

void load_public_url(Loader& l, const toml::node& n, ApiConfig& out) {
    auto s = l.string(n, "api.public_url");
    if (!s) return;
    std::string url = *s;
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (!is_http_url(url) || url.find_first_of("?#") != std::string::npos)
        l.problem(line_of(n), "api.public_url",
                  "must be an http:// or https:// URL without query, e.g. \"https://pay.example\"");
    else out.public_url = url;
}

bool valid_label(std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
               c == '@' || c == '-' || c == ':';
    });
}

// One entry of `keys`: a key, or { key = "...", label = "..." }, the label
// naming in the audit log what was done with it (the key itself is never
// written down). A key without a label is "key#N" (its 1-based position).
void load_key(Loader& l, const toml::node& n, std::size_t index, std::set<std::string>& seen, ApiConfig& out) {
    const std::string key = item("api.keys", index);
    const toml::node* value = &n;
    std::string label = default_label(index);
    std::string value_key = key;
    if (const auto* t = n.as_table()) {
        const Fields<LabelledKey> f(l, *t, key, kKeyEntryKeys);
        value = f.get("key");
        value_key = join(key, "key");
        if (!value) {
            l.problem(line_of(n), value_key, "required: the API key, e.g. key = \"${DEPOSITD_API_KEY}\"");
            return;
        }
        if (const auto* ln = f.get("label")) {
            auto s = l.string(*ln, join(key, "label"));
            if (!s) return;
            if (s->rfind("key#", 0) == 0) {
                l.problem(line_of(*ln), join(key, "label"), "\"key#...\" is reserved for keys without a label");
                return;
            }
            if (!valid_label(*s)) {
                l.problem(line_of(*ln), join(key, "label"), "must be 1-64 characters of [A-Za-z0-9_.:@-]");
                return;
            }
            if (std::find(out.key_labels.begin(), out.key_labels.end(), *s) != out.key_labels.end()) {
                l.problem(line_of(*ln), join(key, "label"), "label \"" + *s + "\" is used twice");
                return;
            }
            label = *s;
        }
    } else if (!n.is_string()) {
        l.problem(line_of(n), key, "must be a string or { key = \"...\", label = \"...\" }, not " + type_name(n));
        return;
    }
    auto s = l.string(*value, value_key);
    if (!s) return;
    if (!l.masked(*s)) {  // a mask: --check-config of --print-config's output
        if (s->size() < 16) {
            l.problem(line_of(*value), value_key,
                      "an API key must be at least 16 characters long (generate one with `openssl rand -hex 32`)");
            return;
        }
        if (has_space_or_control(*s)) {
            l.problem(line_of(*value), value_key, "an API key must not contain spaces or control characters");
            return;
        }
        if (!seen.insert(*s).second) {
            l.problem(line_of(*value), value_key, "duplicate API key");
            return;
        }
    }
    out.keys.push_back(*s);
    out.key_labels.push_back(label);
}

void load_keys(Loader& l, const toml::node& keys, ApiConfig& out) {
    auto* a = l.array_of(keys, "api.keys", "an array of keys (strings or { key, label } tables)");
    if (!a) return;
    if (a->empty()) l.problem(line_of(keys), "api.keys", "at least one API key is required");
    std::set<std::string> seen;
    for (std::size_t i = 0; i < a->size(); ++i) load_key(l, *a->get(i), i, seen, out);
}

void load_table(Loader& l, const toml::table& t, ApiConfig& out) {
    const Fields<ApiConfig> f(l, t, "api", kKeys);
    if (auto* n = f.get("public_url")) load_public_url(l, *n, out);
    if (auto* n = f.get("listen")) {
        if (auto s = l.string(*n, "api.listen")) parse_listen(l, *s, out, line_of(*n));
    }
    if (auto* n = f.get("keys")) load_keys(l, *n, out);
    else l.problem(f.line(), "api.keys", "at least one API key is required, e.g. keys = [\"${DEPOSITD_API_KEY}\"]");
    if (auto* n = f.get("max_body_bytes")) {
        if (auto v = l.integer(*n, "api.max_body_bytes", 1024, 64LL * 1024 * 1024,
                               "an integer from 1024 to 67108864 (bytes)"))
            out.max_body_bytes = static_cast<std::size_t>(*v);
    }
    if (auto* n = f.get("max_connections")) {
        if (auto v = l.integer(*n, "api.max_connections", 1, 100'000, "an integer from 1 to 100000"))
            out.max_connections = static_cast<std::size_t>(*v);
    }
    if (auto* n = f.get("max_connections_per_client")) {
        if (auto v = l.integer(*n, "api.max_connections_per_client", 1, 100'000, "an integer from 1 to 100000")) {
            if (static_cast<std::size_t>(*v) > out.max_connections)
                l.problem(line_of(*n), "api.max_connections_per_client",
                          "must not exceed max_connections (" + std::to_string(out.max_connections) + ")");
            else out.max_connections_per_client = static_cast<std::size_t>(*v);
        }
    }
    if (auto* n = f.get("idle_timeout")) {
        if (auto d = l.duration(*n, "api.idle_timeout", false)) out.idle_timeout = *d;
    }
    if (auto* n = f.get("trusted_proxies")) {
        if (auto* a = l.array_of(*n, "api.trusted_proxies",
                                 "an array of addresses or networks, e.g. [\"127.0.0.1\", \"10.0.0.0/8\"]")) {
            for (std::size_t i = 0; i < a->size(); ++i) {
                const std::string key = item("api.trusted_proxies", i);
                auto s = l.string(*a->get(i), key);
                if (!s) continue;
                if (!netaddr::parse_cidr(*s))
                    l.problem(line_of(*a->get(i)), key,
                              "\"" + *s + "\" is not an IP address or network (e.g. \"10.0.0.0/8\", \"::1\")");
                else out.trusted_proxies.push_back(*s);
            }
        }
    }
}

}  // namespace

std::optional<Flags> api_key(std::string_view name) {
    if (name.starts_with("keys.")) return find_key<LabelledKey>(kKeyEntryKeys, name.substr(5));
    return find_key<ApiConfig>(kKeys, name);
}

void print_api(Printer& p, const Config& cfg) {
    p.header("[api]", "api");
    p.keys<ApiConfig>(kKeys, cfg.api);
}

void load_api(Loader& l, const toml::table& root, Config& cfg) {
    const toml::table* t = l.section(root, "api");
    if (t) load_table(l, *t, cfg.api);
    else if (!root.contains("api"))  // a non-table [api] is reported once, by section()
        l.problem(0, "api.keys", "at least one API key is required: add [api] with keys = [\"${DEPOSITD_API_KEY}\"]");
}

}  // namespace depositd::config
