// [[chains]] native and tokens: symbols, contracts (format only; adapters
// verify checksums and decimals on chain), decimals and min_amount.
#include <map>

#include "config/chain_currencies.hpp"
#include "config/checks.hpp"
#include "config/print.hpp"

namespace depositd::config {
namespace {

void print_symbol(Printer& p, const TokenConfig& t) { p.string(t.symbol); }
void print_contract(Printer& p, const TokenConfig& t) { p.string(t.contract); }
void print_decimals(Printer& p, const TokenConfig& t) { p.integer(t.decimals); }
void print_min_amount(Printer& p, const TokenConfig& t) {
    if (t.min_amount) p.string(Amount(*t.min_amount, t.decimals).to_string());
}

constexpr Key<TokenConfig> kNativeKeys[] = {
    {"symbol", {}, print_symbol},
    {"decimals", {}, print_decimals},
    {"min_amount", {}, print_min_amount},
};

constexpr Key<TokenConfig> kTokenKeys[] = {
    {"symbol", {}, print_symbol},
    {"contract", {}, print_contract},
    {"decimals", {}, print_decimals},
    {"min_amount", {}, print_min_amount},
};

std::optional<std::string> symbol(Loader& l, const toml::node& n, const std::string& key) {
    auto s = l.string(n, key);
    if (!s) return std::nullopt;
    const bool ok = !s->empty() && s->size() <= 32 && std::none_of(s->begin(), s->end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '"' || c == '\\';
    });
    if (!ok) {
        l.problem(line_of(n), key, "must be a currency symbol of 1 to 32 characters without spaces, e.g. \"USDT\"");
        return std::nullopt;
    }
    return s;
}

std::optional<unsigned> decimals(Loader& l, const toml::node& n, const std::string& key) {
    if (auto v = l.integer(n, key, 0, 77, "an integer from 0 to 77")) return static_cast<unsigned>(*v);
    return std::nullopt;
}

// A shallow format check; adapters validate checksums and normalise.
bool contract_format_ok(Protocol kind, const std::string& c, std::string& why) {
    switch (kind) {
        case Protocol::evm:
            if (c.size() == 42 && c[0] == '0' && (c[1] == 'x' || c[1] == 'X') && is_hex(c.substr(2))) return true;
            why = "an EVM contract must be 0x followed by 40 hex digits";
            return false;
        case Protocol::tron:
            if (c.size() == 34 && c[0] == 'T' && is_base58(c)) return true;
            if (c.size() == 42 && c.substr(0, 2) == "41" && is_hex(c)) return true;
            why = "a TRON contract must be a base58 address starting with T (34 characters) or 41 followed by 40 hex digits";
            return false;
        case Protocol::solana:
            if (c.size() >= 32 && c.size() <= 44 && is_base58(c)) return true;
            why = "a Solana mint must be a base58 address (32 to 44 characters)";
            return false;
        case Protocol::bitcoin: break;
    }
    why = "bitcoin chains have no tokens";
    return false;
}

// Two spellings of one contract compare equal (hex is case-insensitive).
std::string contract_identity(Protocol kind, const std::string& c) {
    if (kind == Protocol::evm || (kind == Protocol::tron && c.size() == 42)) return lower(c);
    return c;
}

// `min_amount` of a token or native currency, once its decimals are known.
bool min_amount(Loader& l, const toml::table& t, const std::string& key, TokenConfig& out, bool decimals_ok) {
    const toml::node* n = t.get("min_amount");
    if (!n) return true;
    const std::string mkey = join(key, "min_amount");
    const auto* s = n->as_string();
    if (!s) {
        l.problem(line_of(*n), mkey,
                  "must be a decimal string in token units, e.g. \"0.01\" (a TOML number is not exact), not " +
                      type_name(*n));
        return false;
    }
    if (!decimals_ok) return false;  // reported under decimals
    auto a = Amount::parse_decimal(s->get(), out.decimals);
    if (!a) {
        l.problem(line_of(*n), mkey,
                  "\"" + s->get() + "\": " + a.error().message + " (a decimal amount with at most " +
                      std::to_string(out.decimals) + " decimals)");
        return false;
    }
    out.min_amount = a->raw();
    return true;
}

// The seen symbols and contracts of one chain, each with the line it was
// first seen on (0: the native currency).
struct Seen {
    std::map<std::string, int> symbols, contracts;
};

// Whether `symbol` (of a token not yet recorded) is free on this chain.
bool fresh_symbol(Loader& l, const std::string& symbol, int line, const std::string& key, Seen& seen) {
    auto [it, fresh] = seen.symbols.emplace(symbol, line);
    if (fresh) return true;
    l.problem(line, key,
              it->second == 0 ? "\"" + symbol + "\" is already the native currency's symbol"
                              : "duplicate symbol \"" + symbol + "\" (first at line " + std::to_string(it->second) + ")");
    return false;
}

bool fresh_contract(Loader& l, const std::string& identity, int line, const std::string& key, Seen& seen) {
    auto [it, fresh] = seen.contracts.emplace(identity, line);
    if (fresh) return true;
    l.problem(line, key, "duplicate contract (first at line " + std::to_string(it->second) + ")");
    return false;
}

// The preset's token named `symbol` (a string in `tokens`, or a table with
// only symbol and min_amount), or a problem saying why there is none.
const KnownToken* known_token(Loader& l, const std::string& symbol, int line, const std::string& key,
                              const PresetCurrencies& known) {
    if (!known.preset) {
        l.problem(line, key,
                  "\"" + symbol + "\": a token named by its symbol needs a preset (e.g. preset = \"ethereum\"); "
                  "otherwise write { symbol = \"" + symbol + "\", contract = \"...\", decimals = N }");
        return nullptr;
    }
    const Preset& p = *known.preset;
    if (known.other_chain_id) {
        l.problem(line, key,
                  "\"" + symbol + "\": tokens by symbol are preset " + std::string(p.name) + "'s mainnet contracts (chain id " +
                      std::to_string(p.chain_id.value_or(0)) + "), but this chain has chain_id = " +
                      std::to_string(*known.other_chain_id) + ": write { symbol, contract, decimals }");
        return nullptr;
    }
    if (const KnownToken* t = find_token(p, symbol)) return t;
    std::string names;
    for (const auto& t : p.tokens) names += (names.empty() ? "" : ", ") + std::string(t.symbol);
    l.problem(line, key,
              "\"" + symbol + "\" is not a token preset " + std::string(p.name) + " knows (" +
                  (names.empty() ? std::string("it knows none") : "it knows " + names) +
                  "); write { symbol = \"" + symbol + "\", contract = \"...\", decimals = N }");
    return nullptr;
}

// A token named by symbol: "USDT".
bool token_by_symbol(Loader& l, const toml::node& tn, const std::string& tkey, std::optional<Protocol> kind,
                     const PresetCurrencies& known, Seen& seen, TokenConfig& tok) {
    auto s = l.string(tn, tkey);
    if (!s) return false;
    const KnownToken* t = known_token(l, *s, line_of(tn), tkey, known);
    if (!t) return false;
    tok.symbol = std::string(t->symbol);
    tok.contract = std::string(t->contract);
    tok.decimals = t->decimals;
    const std::string identity = kind ? contract_identity(*kind, tok.contract) : tok.contract;
    // A repeated symbol names the same contract: one problem is enough.
    return fresh_symbol(l, tok.symbol, line_of(tn), tkey, seen) && fresh_contract(l, identity, line_of(tn), tkey, seen);
}

bool load_token(Loader& l, const toml::node& tn, const std::string& tkey, std::optional<Protocol> kind,
                const PresetCurrencies& known, Seen& seen, TokenConfig& tok) {
    if (tn.is_string()) return token_by_symbol(l, tn, tkey, kind, known, seen, tok);
    auto* t = l.table_of(tn, tkey, "a table like { symbol = \"USDT\", contract = \"0x...\", decimals = 6 }");
    if (!t) return false;
    const Fields<TokenConfig> f(l, *t, tkey, kTokenKeys);
    // { symbol = "USDT", min_amount = "1" } on a preset chain: the preset's USDT.
    if (known.preset && f.get("symbol") && !f.get("contract") && !f.get("decimals")) {
        const toml::node* s = f.get("symbol");
        if (!s->is_string()) {
            symbol(l, *s, f.key("symbol"));  // says what is wrong with it
            return false;
        }
        if (!token_by_symbol(l, *s, f.key("symbol"), kind, known, seen, tok)) return false;
        return min_amount(l, *t, tkey, tok, true);
    }
    bool ok = true;
    if (auto* s = f.get("symbol")) {
        if (auto v = symbol(l, *s, f.key("symbol"))) {
            if (!fresh_symbol(l, *v, line_of(*s), f.key("symbol"), seen)) ok = false;
            tok.symbol = *v;
        } else {
            ok = false;
        }
    } else {
        l.problem(line_of(tn), f.key("symbol"), "required");
        ok = false;
    }
    if (auto* c = f.get("contract")) {
        if (auto v = l.string(*c, f.key("contract"))) {
            std::string why;
            if (v->empty()) {
                l.problem(line_of(*c), f.key("contract"), "must not be empty");
                ok = false;
            } else if (kind && !contract_format_ok(*kind, *v, why)) {
                l.problem(line_of(*c), f.key("contract"), "\"" + *v + "\": " + why);
                ok = false;
            } else if (!fresh_contract(l, kind ? contract_identity(*kind, *v) : *v, line_of(*c), f.key("contract"),
                                       seen)) {
                ok = false;
            }
            tok.contract = *v;
        } else {
            ok = false;
        }
    } else {
        l.problem(line_of(tn), f.key("contract"), "required");
        ok = false;
    }
    bool decimals_ok = false;
    if (auto* d = f.get("decimals")) {
        if (auto v = decimals(l, *d, f.key("decimals"))) {
            tok.decimals = *v;
            decimals_ok = true;
        } else {
            ok = false;
        }
    } else {
        l.problem(line_of(tn), f.key("decimals"), "required");
        ok = false;
    }
    if (!min_amount(l, *t, tkey, tok, decimals_ok)) ok = false;
    return ok;
}

}  // namespace

void load_native(Loader& l, const toml::node& n, const std::string& key, const Preset* preset, TokenConfig& out) {
    auto* t = l.table_of(n, key, "a table like { symbol = \"ETH\", decimals = 18 }");
    if (!t) return;
    const Fields<TokenConfig> f(l, *t, key, kNativeKeys);
    if (auto* s = f.get("symbol")) {
        if (auto v = symbol(l, *s, f.key("symbol"))) out.symbol = *v;
    } else if (preset) {
        out.symbol = std::string(preset->native_symbol);
    } else {
        l.problem(line_of(n), f.key("symbol"), "required");
    }
    bool decimals_ok = false;
    if (auto* d = f.get("decimals")) {
        if (auto v = decimals(l, *d, f.key("decimals"))) {
            out.decimals = *v;
            decimals_ok = true;
        }
    } else if (preset) {
        out.decimals = preset->native_decimals;
        decimals_ok = true;
    } else {
        l.problem(line_of(n), f.key("decimals"), "required");
    }
    min_amount(l, *t, key, out, decimals_ok);
}

void load_tokens(Loader& l, const toml::node& n, const std::string& key, std::optional<Protocol> kind,
                 const PresetCurrencies& known, ChainConfig& out) {
    auto* a = l.array_of(n, key, "an array of tables like { symbol = \"USDT\", contract = \"0x...\", decimals = 6 }");
    if (!a) return;
    if (kind == Protocol::bitcoin && !a->empty()) {
        l.problem(line_of(n), key, "bitcoin chains have no tokens; remove the tokens list");
        return;
    }
    Seen seen;
    if (!out.native.symbol.empty()) seen.symbols[out.native.symbol] = 0;
    for (std::size_t i = 0; i < a->size(); ++i) {
        TokenConfig tok;
        if (load_token(l, *a->get(i), item(key, i), kind, known, seen, tok)) out.tokens.push_back(std::move(tok));
    }
}

std::string native_toml(const Printer& p, const TokenConfig& native) {
    return p.inline_table<TokenConfig>(kNativeKeys, native);
}

std::vector<std::string> tokens_toml(const Printer& p, const std::vector<TokenConfig>& tokens) {
    std::vector<std::string> out;
    for (const auto& t : tokens) out.push_back(p.inline_table<TokenConfig>(kTokenKeys, t));
    return out;
}

}  // namespace depositd::config
