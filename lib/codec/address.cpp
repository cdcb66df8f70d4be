#include "codec/address.hpp"

#include <algorithm>

#include <cstring>

#include "codec/base58.hpp"
#include "codec/bech32.hpp"
#include "codec/keccak.hpp"

namespace depositd::codec {
namespace {

Error bad(std::string_view what, std::string msg) {
    return make_error(Errc::invalid_input, std::string(what) + " address: " + std::move(msg));
}

bool all_hex(std::string_view s) {
    for (char c : s)
        if (hex_digit(c) < 0) return false;
    return true;
}

constexpr std::uint8_t kTronVersion = 0x41;

constexpr BtcParams kMainnet{"bc", 0x00, 0x05};
constexpr BtcParams kTestnet{"tb", 0x6f, 0xc4};
constexpr BtcParams kRegtest{"bcrt", 0x6f, 0xc4};
constexpr BtcParams kBcoinRegtest{"rb", 0x3c, 0x26};

}  // namespace

// ---------------------------------------------------------------- EVM

std::string evm_checksum(std::span<const std::uint8_t, 20> address) {
    std::string lower = to_hex(address);
    Hash256 h = keccak256(std::string_view(lower));
    std::string out = "0x";
    out.reserve(42);
    for (std::size_t i = 0; i < 40; ++i) {
        char c = lower[i];
        unsigned nibble = (i % 2 == 0) ? (h[i / 2] >> 4) : (h[i / 2] & 0x0f);
        if (c >= 'a' && nibble >= 8) c = static_cast<char>(c - 'a' + 'A');
        out.push_back(c);
    }
    return out;
}

namespace {
// The 20 bytes of an EVM address, EIP-55 checked when the letters are of
// mixed case; `checksummed` is set to its EIP-55 form when that was computed
// (one Keccak per address: an import of a million checksummed addresses
// spends its CPU on little else).
Result<Bytes> parse_evm(std::string_view text, std::string* checksummed) {
    std::string_view hex = strip_0x(text);
    if (hex.size() != 40) return bad("EVM", "wrong length (want 40 hex digits)");
    if (!all_hex(hex)) return bad("EVM", "not hex");
    bool lower = false, upper = false;
    for (char c : hex) {
        if (c >= 'a' && c <= 'f') lower = true;
        if (c >= 'A' && c <= 'F') upper = true;
    }
    Bytes out(20);
    from_hex_exact(hex, out);
    if (lower && upper) {
        std::string want = evm_checksum(std::span<const std::uint8_t, 20>(out.data(), 20));
        if (std::string_view(want).substr(2) != hex) return bad("EVM", "bad checksum (EIP-55)");
        if (checksummed) *checksummed = std::move(want);
    }
    return out;
}
}  // namespace

Result<Bytes> evm_address_bytes(std::string_view text) { return parse_evm(text, nullptr); }

// ---------------------------------------------------------------- TRON

std::string tron_base58(std::span<const std::uint8_t, 20> address) {
    std::uint8_t payload[21];
    payload[0] = kTronVersion;
    std::memcpy(payload + 1, address.data(), 20);
    return base58check_encode(payload);
}

namespace {

Result<Bytes> tron_from_base58(std::string_view text) {
    auto raw = base58check_decode(text);
    if (!raw) return bad("TRON", raw.error().message);
    if (raw->size() != 21) return bad("TRON", "wrong length");
    if ((*raw)[0] != kTronVersion) return bad("TRON", "wrong version byte (want 0x41)");
    return Bytes(raw->begin() + 1, raw->end());
}

Result<Bytes> tron_from_hex41(std::string_view hex) {  // 42 hex digits, prefix stripped
    Bytes out(21);
    if (!from_hex_exact(hex, out)) return bad("TRON", "not hex");
    if (out[0] != kTronVersion) return bad("TRON", "wrong version byte (want 41)");
    out.erase(out.begin());
    return out;
}

}  // namespace

Result<Bytes> tron_address_bytes(std::string_view text) {
    std::string_view hex = strip_0x(text);
    if ((hex.size() == 40 || hex.size() == 42) && all_hex(hex)) {
        if (hex.size() == 42) return tron_from_hex41(hex);
        Bytes out(20);
        from_hex_exact(hex, out);
        return out;
    }
    if (text.empty()) return bad("TRON", "empty");
    return tron_from_base58(text);
}

// ---------------------------------------------------------------- Bitcoin

const BtcParams& btc_params(BtcNetwork net) {
    switch (net) {
        case BtcNetwork::mainnet: return kMainnet;
        case BtcNetwork::testnet:
        case BtcNetwork::signet: return kTestnet;
        case BtcNetwork::regtest: return kRegtest;
        case BtcNetwork::bcoin_regtest: return kBcoinRegtest;
    }
    return kMainnet;
}

const char* to_string(BtcNetwork net) {
    switch (net) {
        case BtcNetwork::mainnet: return "mainnet";
        case BtcNetwork::testnet: return "testnet";
        case BtcNetwork::signet: return "signet";
        case BtcNetwork::regtest: return "regtest";
        case BtcNetwork::bcoin_regtest: return "bcoin_regtest";
    }
    return "?";
}

bool parse_btc_network(std::string_view t, BtcNetwork& out) {
    if (t == "mainnet" || t == "main" || t == "bitcoin") out = BtcNetwork::mainnet;
    else if (t == "testnet" || t == "test" || t == "testnet3") out = BtcNetwork::testnet;
    else if (t == "signet") out = BtcNetwork::signet;
    else if (t == "regtest") out = BtcNetwork::regtest;
    else if (t == "bcoin_regtest" || t == "bcoin-regtest") out = BtcNetwork::bcoin_regtest;
    else return false;
    return true;
}

Bytes btc_p2pkh_script(std::span<const std::uint8_t, 20> h) {
    Bytes s(25);
    s[0] = 0x76;  // OP_DUP OP_HASH160 <20> ... OP_EQUALVERIFY OP_CHECKSIG
    s[1] = 0xa9;
    s[2] = 0x14;
    std::memcpy(s.data() + 3, h.data(), 20);
    s[23] = 0x88;
    s[24] = 0xac;
    return s;
}

Bytes btc_p2sh_script(std::span<const std::uint8_t, 20> h) {
    Bytes s(23);
    s[0] = 0xa9;  // OP_HASH160 <20> ... OP_EQUAL
    s[1] = 0x14;
    std::memcpy(s.data() + 2, h.data(), 20);
    s[22] = 0x87;
    return s;
}

Bytes btc_witness_script(int version, std::span<const std::uint8_t> program) {
    Bytes s(program.size() + 2);
    s[0] = static_cast<std::uint8_t>(version == 0 ? 0x00 : 0x50 + version);
    s[1] = static_cast<std::uint8_t>(program.size());
    if (!program.empty()) std::memcpy(s.data() + 2, program.data(), program.size());
    return s;
}

std::string btc_address_from_script(std::span<const std::uint8_t> script, BtcNetwork net) {
    const BtcParams& p = btc_params(net);
    const auto n = script.size();
    if (n == 25 && script[0] == 0x76 && script[1] == 0xa9 && script[2] == 0x14 && script[23] == 0x88 &&
        script[24] == 0xac) {
        std::uint8_t payload[21];
        payload[0] = p.p2pkh;
        std::memcpy(payload + 1, script.data() + 3, 20);
        return base58check_encode(payload);
    }
    if (n == 23 && script[0] == 0xa9 && script[1] == 0x14 && script[22] == 0x87) {
        std::uint8_t payload[21];
        payload[0] = p.p2sh;
        std::memcpy(payload + 1, script.data() + 2, 20);
        return base58check_encode(payload);
    }
    if (n >= 4 && n <= 42 && (script[0] == 0x00 || (script[0] >= 0x51 && script[0] <= 0x60)) &&
        script[1] == n - 2) {
        int version = script[0] == 0 ? 0 : script[0] - 0x50;
        auto a = segwit_encode(p.hrp, version, script.subspan(2));
        if (a) return std::move(*a);
    }
    return {};
}

namespace {

// The HRP of a bech32-looking string if it is one of ours ("bc1...", "BCRT1..."), else empty.
std::string_view known_hrp(std::string_view text) {
    std::size_t pos = text.rfind('1');
    if (pos == std::string_view::npos) return {};
    std::string lower;
    for (std::size_t i = 0; i < pos; ++i) {
        char c = text[i];
        lower.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
    }
    for (const BtcParams* p : {&kMainnet, &kTestnet, &kRegtest, &kBcoinRegtest})
        if (lower == p->hrp) return p->hrp;
    return {};
}

}  // namespace

Result<Bytes> btc_script_from_address(std::string_view text) {
    if (text.empty()) return bad("Bitcoin", "empty");
    if (std::string_view hrp = known_hrp(text); !hrp.empty()) {
        auto w = segwit_decode(hrp, text);
        if (!w) return bad("Bitcoin", w.error().message);
        return btc_witness_script(w->version, w->program);
    }
    auto raw = base58check_decode(text);
    if (!raw) {
        if (text.size() > kBech32MaxLength) return bad("Bitcoin", "too long");
        return bad("Bitcoin", "neither a known segwit address nor base58check (" + raw.error().message + ")");
    }
    if (raw->size() != 21) return bad("Bitcoin", "wrong length");
    std::uint8_t v = (*raw)[0];
    std::span<const std::uint8_t, 20> h(raw->data() + 1, 20);
    for (const BtcParams* p : {&kMainnet, &kTestnet, &kBcoinRegtest}) {
        if (v == p->p2pkh) return btc_p2pkh_script(h);
        if (v == p->p2sh) return btc_p2sh_script(h);
    }
    return bad("Bitcoin", "unknown version byte");
}

// ---------------------------------------------------------------- Solana

std::string solana_address(std::span<const std::uint8_t, 32> key) { return base58_encode(key); }

Result<Bytes> solana_address_bytes(std::string_view text) {
    if (text.size() < 32 || text.size() > 44) return bad("Solana", "wrong length (want 32..44 characters)");
    auto raw = base58_decode(text);
    if (!raw) return bad("Solana", raw.error().message);
    if (raw->size() != 32) return bad("Solana", "does not decode to 32 bytes");
    return std::move(*raw);
}

// ---------------------------------------------------------------- all

const char* unusable_deposit_address(const ParsedAddress& a) {
    if (a.protocol != Protocol::evm && a.protocol != Protocol::tron) return nullptr;
    const bool zero = std::all_of(a.watch_key.begin(), a.watch_key.end(), [](std::uint8_t b) { return b == 0; });
    return zero ? "the zero address (token mints and burns name it) cannot be a deposit address" : nullptr;
}

Result<ParsedAddress> parse_address(Protocol protocol, std::string_view text) {
    switch (protocol) {
        case Protocol::evm: {
            std::string canonical;
            auto b = parse_evm(text, &canonical);
            if (!b) return b.error();
            if (canonical.empty()) canonical = evm_checksum(std::span<const std::uint8_t, 20>(b->data(), 20));
            return ParsedAddress{protocol, std::move(canonical), std::move(*b)};
        }
        case Protocol::tron: {
            std::string_view hex = strip_0x(text);
            if (hex.size() == 40 && all_hex(hex))
                return bad("TRON", "20-byte hex is ambiguous; give the T... or 41... form");
            auto b = tron_address_bytes(text);
            if (!b) return b.error();
            std::string canonical = tron_base58(std::span<const std::uint8_t, 20>(b->data(), 20));
            return ParsedAddress{protocol, std::move(canonical), std::move(*b)};
        }
        case Protocol::bitcoin: {
            auto s = btc_script_from_address(text);
            if (!s) return s.error();
            std::string canonical(text);
            if (!known_hrp(text).empty())  // segwit: lower case
                for (char& c : canonical)
                    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            return ParsedAddress{protocol, std::move(canonical), std::move(*s)};
        }
        case Protocol::solana: {
            auto b = solana_address_bytes(text);
            if (!b) return b.error();
            return ParsedAddress{protocol, std::string(text), std::move(*b)};
        }
    }
    return make_error(Errc::invalid_input, "unknown protocol");
}

}  // namespace depositd::codec
