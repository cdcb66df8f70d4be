// [[chains]]: one table per chain followed, from a preset (presets.cpp) or
// not. Its currencies (native, tokens) are read by chain_currencies.cpp, its
// nodes (rpc, headers, cookie file) by chain_nodes.cpp; the per-kind
// defaults come from core/protocol.hpp.
#include <cmath>
#include <limits>
#include <map>

#include "config/chain_currencies.hpp"
#include "config/chain_nodes.hpp"
#include "config/checks.hpp"
#include "config/presets.hpp"
#include "config/print.hpp"
#include "config/sections.hpp"
#include "core/protocol.hpp"

namespace depositd::config {
namespace {

using C = ChainConfig;

constexpr Key<ChainConfig> kKeys[] = {
    // depositctl reads it too: it may be where the chain's id and kind come from.
    {"preset", {Secret::no, Use::all}, [](Printer& p, const C& c) { if (!c.preset.empty()) p.string(c.preset); }},
    {"id", {Secret::no, Use::all}, [](Printer& p, const C& c) { p.string(c.id); }},
    {"kind", {Secret::no, Use::all}, [](Printer& p, const C& c) { p.string(to_string(c.kind)); }},
    {"rpc", {Secret::url}, [](Printer& p, const C& c) { p.secrets(c.rpc); }},
    {"confirmations", {},
     [](Printer& p, const C& c) { c.finalized ? p.string("finalized") : p.integer(c.confirmations); }},
    {"poll_interval", {}, [](Printer& p, const C& c) { p.duration(c.poll_interval); }},
    {"start", {},
     [](Printer& p, const C& c) { c.start ? p.integer(static_cast<std::int64_t>(*c.start)) : p.string("latest"); }},
    {"native", {}, [](Printer& p, const C& c) { p.raw(native_toml(p, c.native)); }},
    {"tokens", {}, [](Printer& p, const C& c) { p.lines(tokens_toml(p, c.tokens)); }},
    {"max_block_range", {}, [](Printer& p, const C& c) { p.integer(c.max_block_range); }},
    {"max_reorg_depth", {}, [](Printer& p, const C& c) { p.integer(c.max_reorg_depth); }},
    {"headers", {Secret::value}, [](Printer& p, const C& c) { if (!c.headers.empty()) p.secret_table(c.headers); }},
    {"max_rps", {}, [](Printer& p, const C& c) { p.raw(toml_number(c.max_rps)); }},
    {"request_timeout", {}, [](Printer& p, const C& c) { p.duration(c.request_timeout); }},
    {"chain_id", {}, [](Printer& p, const C& c) { if (c.chain_id) p.integer(static_cast<std::int64_t>(*c.chain_id)); }},
    {"max_response_size", {}, [](Printer& p, const C& c) { p.raw(toml_size(c.max_response_bytes)); }},
    {"rpc_cookie_file", {}, [](Printer& p, const C& c) { if (!c.rpc_cookie_file.empty()) p.string(c.rpc_cookie_file); }},
    {"attribution_skew", {}, [](Printer& p, const C& c) { p.duration(c.attribution_skew); }},
};

using ChainFields = Fields<ChainConfig>;

// The chain's `preset`: the network it is (nullptr: none, or a bad one,
// already reported). `named`: the key is there, so the keys it would fill
// are not also called "required".
struct PresetRef {
    const Preset* preset = nullptr;
    bool named = false;
    int line = 0;
};

PresetRef load_preset(Loader& l, const ChainFields& f, ChainConfig& c) {
    const toml::node* n = f.get("preset");
    if (!n) return {};
    PresetRef ref{nullptr, true, line_of(*n)};
    auto s = l.string(*n, f.key("preset"));
    if (!s) return ref;
    if ((ref.preset = find_preset(*s))) {
        c.preset = *s;
        return ref;
    }
    std::vector<std::string_view> names;
    std::string list;
    for (const auto& p : presets()) {
        names.push_back(p.name);
        list += (list.empty() ? "" : p.name == presets().back().name ? " or " : ", ") + std::string(p.name);
    }
    std::string msg = "\"" + *s + "\" is not a preset";
    if (const auto best = nearest(*s, names); !best.empty()) msg += " (did you mean \"" + std::string(best) + "\"?)";
    l.problem(ref.line, f.key("preset"), msg + "; use " + list);
    return ref;
}

void load_id(Loader& l, const ChainFields& f, const PresetRef& preset, ChainConfig& c,
             std::map<std::string, int>& ids) {
    const std::string key = f.key("id");
    auto* n = f.get("id");
    if (!n && preset.preset) {  // the preset's name: preset = "bsc" is chain "bsc"
        auto [it, fresh] = ids.emplace(std::string(preset.preset->name), preset.line);
        if (!fresh)
            l.problem(preset.line, key,
                      "duplicate chain id \"" + it->first + "\" (first at line " + std::to_string(it->second) +
                          "): give this chain an id of its own");
        c.id = std::string(preset.preset->name);
        return;
    }
    if (!n) {
        if (!preset.named)
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

std::optional<Protocol> load_kind(Loader& l, const ChainFields& f, const PresetRef& preset) {
    const std::string key = f.key("kind");
    auto* n = f.get("kind");
    if (!n) {
        if (preset.preset) return preset.preset->kind;
        if (!preset.named) l.problem(f.line(), key, "required: evm, tron, bitcoin or solana");
        return std::nullopt;
    }
    auto s = l.string(*n, key);
    if (!s) return std::nullopt;
    Protocol p;
    if (!parse_protocol(*s, p)) {
        l.problem(line_of(*n), key, "\"" + *s + "\" is not a chain kind; use evm, tron, bitcoin or solana");
        return std::nullopt;
    }
    if (preset.preset && p != preset.preset->kind) {
        l.problem(line_of(*n), key,
                  "\"" + *s + "\" contradicts preset " + std::string(preset.preset->name) + " (" +
                      to_string(preset.preset->kind) + "); leave kind out or choose another preset");
        return std::nullopt;
    }
    return p;
}

void load_confirmations(Loader& l, const ChainFields& f, std::optional<Protocol> kind, const PresetRef& preset,
                        ChainConfig& c) {
    const std::string ckey = f.key("confirmations");
    auto* n = f.get("confirmations");
    if (!n && preset.preset) {
        c.finalized = preset.preset->finalized;
        if (!c.finalized) c.confirmations = preset.preset->confirmations;
        return;
    }
    if (!n) {
        if (!preset.named)
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

// What a preset lends the chain's tokens: its mainnet contracts, unless the
// chain says it is another chain (chain_id, read again later with checks).
PresetCurrencies preset_currencies(const ChainFields& f, const PresetRef& preset) {
    PresetCurrencies known{preset.preset, std::nullopt};
    const toml::node* n = f.get("chain_id");
    const auto* id = n ? n->as_integer() : nullptr;
    if (preset.preset && preset.preset->chain_id && id && id->get() >= 1 &&
        static_cast<std::uint64_t>(id->get()) != *preset.preset->chain_id)
        known.other_chain_id = static_cast<std::uint64_t>(id->get());
    return known;
}

void load_chain(Loader& l, const toml::table& t, const std::string& key, ChainConfig& c,
                std::map<std::string, int>& ids) {
    const ChainFields f(l, t, key, kKeys);
    c.source = l.at(f.line(), key).file_line();
    const PresetRef preset = load_preset(l, f, c);
    load_id(l, f, preset, c, ids);
    const std::optional<Protocol> kind = load_kind(l, f, preset);
    if (kind) {
        c.kind = *kind;
        const ProtocolFacts d = protocol_facts(*kind);
        c.max_block_range = d.max_block_range;
        c.max_reorg_depth = d.max_reorg_depth;
        c.poll_interval = preset.preset ? preset.preset->poll_interval : d.poll_interval;
        // SPEC §10: Bitcoin block timestamps may run up to 2h ahead of or behind the clock.
        c.attribution_skew = *kind == Protocol::bitcoin ? Duration(std::chrono::hours(2)) : Duration(std::chrono::minutes(2));
    }
    load_rpc(l, f, c);
    load_confirmations(l, f, kind, preset, c);
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
        load_native(l, *n, f.key("native"), preset.preset, c.native);
        const toml::node* d = n->is_table() ? n->as_table()->get("decimals") : nullptr;
        // The native coin's base unit is fixed by the protocol: another
        // value reports every deposit off by a power of ten (a copied
        // `decimals = 18` for TRX: 10^12 too small). Solana: check_solana.
        struct Fixed {
            Protocol kind;
            unsigned decimals;
            const char* why;
        };
        static constexpr Fixed kFixed[] = {
            {Protocol::bitcoin, 8, "bitcoin amounts have 8 decimals (satoshis)"},
            {Protocol::tron, 6, "TRX has 6 decimals (1 TRX = 10^6 sun)"},
            {Protocol::evm, 18, "the native coin of an EVM chain has 18 decimals (1 ETH/BNB/POL = 10^18 wei)"},
        };
        for (const auto& fx : kFixed)
            if (kind && *kind == fx.kind && d && d->is_integer() && c.native.decimals != fx.decimals)
                l.problem(line_of(*d), join(f.key("native"), "decimals"),
                          std::string(fx.why) + "; got " + std::to_string(c.native.decimals));
    } else if (preset.preset) {
        c.native.symbol = std::string(preset.preset->native_symbol);
        c.native.decimals = preset.preset->native_decimals;
    } else if (!preset.named) {
        l.problem(f.line(), f.key("native"), "required, e.g. native = { symbol = \"ETH\", decimals = 18 }");
    }
    if (auto* n = f.get("tokens")) load_tokens(l, *n, f.key("tokens"), kind, preset_currencies(f, preset), c);
    load_limits(l, f, kind, c);
    if (auto* n = f.get("attribution_skew")) {
        if (auto d = l.duration(*n, f.key("attribution_skew"), true)) {
            if (*d > std::chrono::hours(24)) l.problem(line_of(*n), f.key("attribution_skew"), "must be at most 24h");
            else c.attribution_skew = *d;
        }
    }
    // The preset's chain id unless the file gives one; a node that reports
    // another is named by the preset's line.
    if (preset.preset && preset.preset->chain_id && kind == Protocol::evm && !f.get("chain_id")) {
        c.chain_id = preset.preset->chain_id;
        c.chain_id_source = l.at(preset.line, f.key("preset")).to_string();
    }
}

}  // namespace

std::optional<Flags> chains_key(std::string_view name) { return find_key<ChainConfig>(kKeys, name); }

void print_chains(Printer& p, const Config& cfg) {
    for (std::size_t i = 0; i < cfg.chains.size(); ++i) {
        const ChainConfig& c = cfg.chains[i];
        p.header("[[chains]]", item("chains", i));
        p.keys<ChainConfig>(kKeys, c);
    }
}

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
