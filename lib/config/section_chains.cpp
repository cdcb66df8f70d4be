// [[chains]]: one table per chain followed. Its currencies (native, tokens)
// are read by chain_currencies.cpp; the per-kind defaults come from
// core/protocol.hpp.
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "config/chain_currencies.hpp"
#include "config/checks.hpp"
#include "config/sections.hpp"
#include "core/protocol.hpp"

namespace depositd::config {
namespace {

constexpr Key<ChainConfig> kKeys[] = {
    {"id", {Secret::no, Use::all}},
    {"kind", {Secret::no, Use::all}},
    {"rpc", {Secret::url}},
    {"confirmations"},
    {"poll_interval"},
    {"start"},
    {"native"},
    {"tokens"},
    {"max_block_range"},
    {"max_reorg_depth"},
    {"headers", {Secret::value}},
    {"max_rps"},
    {"request_timeout"},
    {"chain_id"},
    {"max_response_size"},
    {"rpc_cookie_file"},
};

using ChainFields = Fields<ChainConfig>;

bool is_header_token(std::string_view s) {
    static constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               extra.find(c) != std::string_view::npos;
    });
}

void load_id(Loader& l, const ChainFields& f, ChainConfig& c, std::map<std::string, int>& ids) {
    const std::string key = f.key("id");
    auto* n = f.get("id");
    if (!n) {
        l.problem(f.line(), key, "required (the chainId used in the API and webhooks, e.g. \"ethereum\")");
        return;
    }
    auto s = l.string(*n, key);
    if (!s) return;
    const bool ok = !s->empty() && s->size() <= 64 && std::all_of(s->begin(), s->end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
    });
    if (!ok) {
        l.problem(line_of(*n), key, "\"" + *s + "\": a chain id is 1 to 64 characters of a-z, 0-9, _ and -");
        return;
    }
    auto [it, fresh] = ids.emplace(*s, line_of(*n));
    if (!fresh)
        l.problem(line_of(*n), key, "duplicate chain id \"" + *s + "\" (first at line " + std::to_string(it->second) + ")");
    c.id = *s;
}

std::optional<Protocol> load_kind(Loader& l, const ChainFields& f) {
    const std::string key = f.key("kind");
    auto* n = f.get("kind");
    if (!n) {
        l.problem(f.line(), key, "required: evm, tron, bitcoin or solana");
        return std::nullopt;
    }
    auto s = l.string(*n, key);
    if (!s) return std::nullopt;
    Protocol p;
    if (parse_protocol(*s, p)) return p;
    l.problem(line_of(*n), key, "\"" + *s + "\" is not a chain kind; use evm, tron, bitcoin or solana");
    return std::nullopt;
}

void load_rpc(Loader& l, const ChainFields& f, ChainConfig& c) {
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
        else if (!seen.insert(*s).second) l.problem(line_of(u), ukey, "duplicate URL");
        else c.rpc.push_back(*s);
    }
}

void load_confirmations(Loader& l, const ChainFields& f, std::optional<Protocol> kind, ChainConfig& c) {
    const std::string ckey = f.key("confirmations");
    auto* n = f.get("confirmations");
    if (!n) {
        l.problem(f.line(), ckey, "required: how many blocks make a deposit confirmed (or \"finalized\")");
        return;
    }
    const auto* s = n->as_string();
    if (s && s->get() == "finalized") {
        if (kind && !protocol_facts(*kind).has_finality)
            l.problem(line_of(*n), ckey,
                      std::string(to_string(*kind)) + " has no finality tag; give a number of blocks, e.g. 6");
        else c.finalized = true;
    } else if (auto* i = n->as_integer(); i && i->get() >= 1 && i->get() <= 1'000'000) {
        c.confirmations = static_cast<std::uint32_t>(i->get());
    } else {
        l.problem(line_of(*n), ckey, "must be a positive integer or \"finalized\"");
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

// What only a Solana chain can get wrong: lamports have 9 decimals, and
// getBlocks looks at no more than 500,000 slots at once.
void check_solana(Loader& l, const ChainFields& f, const ChainConfig& c) {
    if (const auto* nt = f.get("native"); nt && nt->is_table()) {
        if (const auto* d = nt->as_table()->get("decimals"); d && d->is_integer() && c.native.decimals != 9)
            l.problem(line_of(*d), join(f.key("native"), "decimals"),
                      "SOL has 9 decimals (1 SOL = 10^9 lamports); got " + std::to_string(c.native.decimals));
    }
    if (const auto* n = f.get("max_block_range"); n && c.max_block_range > 500'000)
        l.problem(line_of(*n), f.key("max_block_range"), "at most 500000 for solana (the slot range getBlocks accepts)");
}

// The keys of a chain that tune how it is followed, each optional.
void load_limits(Loader& l, const ChainFields& f, std::optional<Protocol> kind, ChainConfig& c) {
    const auto u32 = static_cast<std::int64_t>(std::numeric_limits<std::uint32_t>::max());
    if (auto* n = f.get("max_block_range")) {
        if (auto v = l.integer(*n, f.key("max_block_range"), 1, u32, "a positive integer"))
            c.max_block_range = static_cast<std::uint32_t>(*v);
    }
    if (auto* n = f.get("max_reorg_depth")) {
        if (auto v = l.integer(*n, f.key("max_reorg_depth"), 1, u32, "a positive integer"))
            c.max_reorg_depth = static_cast<std::uint32_t>(*v);
    }
    if (kind == Protocol::solana) check_solana(l, f, c);
    if (auto* n = f.get("headers")) load_headers(l, *n, f.key("headers"), c.headers);
    if (auto* n = f.get("max_rps")) {
        double v = -1;
        if (auto* i = n->as_integer()) v = static_cast<double>(i->get());
        else if (auto* fl = n->as_floating_point()) v = fl->get();
        if (!(n->is_integer() || n->is_floating_point()) || !std::isfinite(v) || v < 0)
            l.problem(line_of(*n), f.key("max_rps"), "must be a number >= 0 (0 = no cap)");
        else c.max_rps = v;
    }
    if (auto* n = f.get("request_timeout")) {
        if (auto d = l.duration(*n, f.key("request_timeout"), false)) c.request_timeout = *d;
    }
    if (auto* n = f.get("chain_id")) {
        const std::string ckey = f.key("chain_id");
        if (kind && *kind != Protocol::evm) {
            l.problem(line_of(*n), ckey, "only EVM chains have a chain id (eth_chainId); remove it");
        } else if (auto v = l.integer(*n, ckey, 1, std::numeric_limits<std::int64_t>::max(),
                                      "a positive integer, the eth_chainId of the chain (1 = Ethereum, 56 = BSC, "
                                      "137 = Polygon)")) {
            c.chain_id = static_cast<std::uint64_t>(*v);
            c.chain_id_source = l.at(line_of(*n), ckey).to_string();
        }
    }
    if (auto* n = f.get("max_response_size")) {
        if (auto v = l.size(*n, f.key("max_response_size"), kMinResponseSize, kMaxResponseSize))
            c.max_response_bytes = static_cast<std::size_t>(*v);
    }
    if (auto* n = f.get("rpc_cookie_file")) load_cookie_file(l, *n, f.key("rpc_cookie_file"), kind, c);
}

void load_chain(Loader& l, const toml::table& t, const std::string& key, ChainConfig& c,
                std::map<std::string, int>& ids) {
    const ChainFields f(l, t, key, kKeys);
    c.source = l.at(f.line(), key).file_line();
    load_id(l, f, c, ids);
    const std::optional<Protocol> kind = load_kind(l, f);
    if (kind) {
        c.kind = *kind;
        const ProtocolFacts d = protocol_facts(*kind);
        c.max_block_range = d.max_block_range;
        c.max_reorg_depth = d.max_reorg_depth;
        c.poll_interval = d.poll_interval;
    }
    load_rpc(l, f, c);
    load_confirmations(l, f, kind, c);
    if (auto* n = f.get("poll_interval")) {
        if (auto d = l.duration(*n, f.key("poll_interval"), false)) c.poll_interval = *d;
    }
    if (auto* n = f.get("start")) {
        const auto* s = n->as_string();
        if (s && s->get() == "latest") c.start.reset();
        else if (auto* i = n->as_integer(); i && i->get() >= 0) c.start = static_cast<std::uint64_t>(i->get());
        else l.problem(line_of(*n), f.key("start"), "must be \"latest\" or a block number / slot >= 0");
    }
    if (auto* n = f.get("native")) {
        load_native(l, *n, f.key("native"), c.native);
        const toml::node* d = n->is_table() ? n->as_table()->get("decimals") : nullptr;
        if (kind == Protocol::bitcoin && d && d->is_integer() && c.native.decimals != 8)
            l.problem(line_of(*d), join(f.key("native"), "decimals"), "bitcoin amounts have 8 decimals (satoshis)");
    } else {
        l.problem(f.line(), f.key("native"), "required, e.g. native = { symbol = \"ETH\", decimals = 18 }");
    }
    if (auto* n = f.get("tokens")) load_tokens(l, *n, f.key("tokens"), kind, c);
    load_limits(l, f, kind, c);
}

}  // namespace

std::optional<Flags> chains_key(std::string_view name) { return find_key<ChainConfig>(kKeys, name); }

void load_chains(Loader& l, const toml::table& root, Config& cfg) {
    const toml::node* n = root.get("chains");
    if (!n) {
        l.problem(0, "chains", "at least one [[chains]] entry is required");
        return;
    }
    auto* a = l.array_of(*n, "chains", "an array of tables ([[chains]])");
    if (!a) return;
    if (a->empty()) l.problem(line_of(*n), "chains", "at least one [[chains]] entry is required");
    std::map<std::string, int> ids;
    for (std::size_t i = 0; i < a->size(); ++i) {
        const std::string key = item("chains", i);
        if (auto* t = l.table_of(*a->get(i), key)) {
            ChainConfig c;
            load_chain(l, *t, key, c, ids);
            cfg.chains.push_back(std::move(c));
        }
    }
}

}  // namespace depositd::config
