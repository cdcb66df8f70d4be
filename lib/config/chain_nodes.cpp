// How depositd reaches a chain's nodes: [[chains]] rpc, headers and
// rpc_cookie_file (chain_nodes.hpp).
#include <set>

#include "config/chain_nodes.hpp"
#include "config/checks.hpp"

namespace depositd::config {
namespace {

bool is_header_token(std::string_view s) {
    static constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               extra.find(c) != std::string_view::npos;
    });
}

}  // namespace

void load_rpc(Loader& l, const Fields<ChainConfig>& f, ChainConfig& c) {
    const std::string rkey = f.key("rpc");
    auto* n = f.get("rpc");
    if (!n) {
        l.problem(f.line(), rkey, "required: a list of node URLs, e.g. [\"https://node.example/rpc\"]");
        return;
    }
    auto* a = l.array_of(*n, rkey, "an array of URLs, e.g. [\"https://node.example/rpc\"]");
    if (!a) return;
    if (a->empty()) l.problem(line_of(*n), rkey, "must not be empty: give at least one node URL");
    std::set<std::string> seen;
    for (std::size_t i = 0; i < a->size(); ++i) {
        const toml::node& u = *a->get(i);
        const std::string ukey = item(rkey, i);
        auto s = l.string(u, ukey);
        if (!s) continue;
        if (!is_http_url(*s)) l.problem(line_of(u), ukey, "must be an http:// or https:// URL");
        else if (!seen.insert(*s).second && !l.masked(*s)) l.problem(line_of(u), ukey, "duplicate URL");
        else c.rpc.push_back(*s);
    }
}

void load_headers(Loader& l, const toml::node& n, const std::string& key, std::map<std::string, std::string>& out) {
    auto* t = l.table_of(n, key, "a table of strings, e.g. { \"TRON-PRO-API-KEY\" = \"${TRONGRID_KEY}\" }");
    if (!t) return;
    static constexpr std::string_view reserved[] = {"host", "content-length", "content-type", "transfer-encoding",
                                                    "connection"};
    std::set<std::string> seen;
    for (auto&& [k, v] : *t) {
        const std::string name(k.str());
        const std::string hkey = join(key, name);
        if (!is_header_token(name)) {
            l.problem(line_of(k), hkey, "\"" + name + "\" is not a valid HTTP header name");
            continue;
        }
        if (std::find(std::begin(reserved), std::end(reserved), lower(name)) != std::end(reserved)) {
            l.problem(line_of(k), hkey, "depositd sets " + name + " itself");
            continue;
        }
        if (!seen.insert(lower(name)).second) {
            l.problem(line_of(k), hkey, "duplicate header (names are case-insensitive)");
            continue;
        }
        auto value = l.string(v, hkey);
        if (!value) continue;
        if (std::any_of(value->begin(), value->end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; })) {
            l.problem(line_of(v), hkey, "a header value must not contain line breaks");
            continue;
        }
        out[name] = *value;
    }
}

// Bitcoin Core's .cookie ("__cookie__:<password>", rewritten on every
// node start): only the path is checked here, the file is read (and
// re-read) by the adapter. It may not exist yet while the node starts.
void load_cookie_file(Loader& l, const toml::node& n, const std::string& key, std::optional<Protocol> kind,
                      ChainConfig& c) {
    auto s = l.string(n, key);
    if (!s) return;
    if (kind && *kind != Protocol::bitcoin) {
        l.problem(line_of(n), key, "only for kind = \"bitcoin\" (Bitcoin Core's .cookie file)");
        return;
    }
    if (s->empty()) {
        l.problem(line_of(n), key, "must not be empty (the path of bitcoind's .cookie file)");
        return;
    }
    for (const auto& u : c.rpc) {
        const auto start = u.find("://") + 3;
        const auto authority = u.substr(start, u.find_first_of("/?#", start) - start);
        if (authority.find('@') != std::string::npos) {
            l.problem(line_of(n), key, "give either user:password in the rpc URL or rpc_cookie_file, not both");
            return;
        }
    }
    std::filesystem::path p(*s);
    if (p.is_relative()) p = l.base_dir() / p;
    c.rpc_cookie_file = p.lexically_normal().string();
}

}  // namespace depositd::config
