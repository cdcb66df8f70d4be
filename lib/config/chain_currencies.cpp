// [[chains]] native and tokens: symbols, contracts (format only; adapters
// verify checksums and decimals on chain), decimals and min_amount.
#include <map>

#include "config/chain_currencies.hpp"
#include "config/checks.hpp"

namespace depositd::config {
namespace {

constexpr Key<TokenConfig> kNativeKeys[] = {
    {"symbol"},
    {"decimals"},
    {"min_amount"},
};

constexpr Key<TokenConfig> kTokenKeys[] = {
    {"symbol"},
    {"contract"},
    {"decimals"},
    {"min_amount"},
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

bool load_token(Loader& l, const toml::node& tn, const std::string& tkey, std::optional<Protocol> kind, Seen& seen,
                TokenConfig& tok) {
    auto* t = l.table_of(tn, tkey, "a table like { symbol = \"USDT\", contract = \"0x...\", decimals = 6 }");
    if (!t) return false;
    const Fields<TokenConfig> f(l, *t, tkey, kTokenKeys);
    bool ok = true;
    if (auto* s = f.get("symbol")) {
        if (auto v = symbol(l, *s, f.key("symbol"))) {
            auto [it, fresh] = seen.symbols.emplace(*v, line_of(*s));
            if (!fresh) {
                l.problem(line_of(*s), f.key("symbol"),
                          it->second == 0 ? "\"" + *v + "\" is already the native currency's symbol"
                                          : "duplicate symbol \"" + *v + "\" (first at line " +
                                                std::to_string(it->second) + ")");
                ok = false;
            }
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
            } else {
                auto [it, fresh] = seen.contracts.emplace(kind ? contract_identity(*kind, *v) : *v, line_of(*c));
                if (!fresh) {
                    l.problem(line_of(*c), f.key("contract"),
                              "duplicate contract (first at line " + std::to_string(it->second) + ")");
                    ok = false;
                }
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

void load_native(Loader& l, const toml::node& n, const std::string& key, TokenConfig& out) {
    auto* t = l.table_of(n, key, "a table like { symbol = \"ETH\", decimals = 18 }");
    if (!t) return;
    const Fields<TokenConfig> f(l, *t, key, kNativeKeys);
    if (auto* s = f.get("symbol")) {
        if (auto v = symbol(l, *s, f.key("symbol"))) out.symbol = *v;
    } else {
        l.problem(line_of(n), f.key("symbol"), "required");
    }
    bool decimals_ok = false;
    if (auto* d = f.get("decimals")) {
        if (auto v = decimals(l, *d, f.key("decimals"))) {
            out.decimals = *v;
            decimals_ok = true;
        }
    } else {
        l.problem(line_of(n), f.key("decimals"), "required");
    }
    min_amount(l, *t, key, out, decimals_ok);
}

void load_tokens(Loader& l, const toml::node& n, const std::string& key, std::optional<Protocol> kind,
                 ChainConfig& out) {
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
        if (load_token(l, *a->get(i), item(key, i), kind, seen, tok)) out.tokens.push_back(std::move(tok));
    }
}

}  // namespace depositd::config
