#include "codec/bip32.hpp"

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>

#include <cstring>

#include "codec/base58.hpp"
#include "codec/hash.hpp"
#include "codec/keccak.hpp"

namespace depositd::codec {
namespace {

constexpr std::uint32_t kHardened = 0x80000000u;

struct KindInfo {
    XpubKind kind;
    std::uint32_t version;
    const char* name;
    bool testnet;
    BtcScriptType script;
};

constexpr KindInfo kKinds[] = {
    {XpubKind::xpub, 0x0488b21e, "xpub", false, BtcScriptType::p2pkh},
    {XpubKind::ypub, 0x049d7cb2, "ypub", false, BtcScriptType::p2sh_p2wpkh},
    {XpubKind::zpub, 0x04b24746, "zpub", false, BtcScriptType::p2wpkh},
    {XpubKind::tpub, 0x043587cf, "tpub", true, BtcScriptType::p2pkh},
    {XpubKind::upub, 0x044a5262, "upub", true, BtcScriptType::p2sh_p2wpkh},
    {XpubKind::vpub, 0x045f1cf6, "vpub", true, BtcScriptType::p2wpkh},
};

// Private-key counterparts (xprv, yprv, zprv, tprv, uprv, vprv).
constexpr std::uint32_t kPrivateVersions[] = {0x0488ade4, 0x049d7878, 0x04b2430c,
                                              0x04358394, 0x044a4e28, 0x045f18bc};

const KindInfo& info(XpubKind kind) {
    for (const auto& k : kKinds)
        if (k.kind == kind) return k;
    return kKinds[0];
}

const secp256k1_context* ctx() { return secp256k1_context_static; }

Error bad(std::string msg) { return make_error(Errc::invalid_input, "extended public key: " + std::move(msg)); }

void put_be32(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

std::uint32_t get_be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

bool parse_point(std::span<const std::uint8_t, 33> key, secp256k1_pubkey& out) {
    if (key[0] != 0x02 && key[0] != 0x03) return false;
    return secp256k1_ec_pubkey_parse(ctx(), &out, key.data(), key.size()) == 1;
}

}  // namespace

std::uint32_t xpub_version(XpubKind kind) { return info(kind).version; }
const char* to_string(XpubKind kind) { return info(kind).name; }
bool xpub_is_testnet(XpubKind kind) { return info(kind).testnet; }
BtcScriptType xpub_script_type(XpubKind kind) { return info(kind).script; }

Result<ExtendedPublicKey> parse_xpub(std::string_view text) {
    if (text.size() > 120) return bad("too long");
    auto raw = base58check_decode(text);
    if (!raw) return bad(raw.error().message);
    if (raw->size() != 78) return bad("wrong length (want 78 bytes)");
    const std::uint8_t* p = raw->data();
    std::uint32_t version = get_be32(p);
    const KindInfo* kind = nullptr;
    for (const auto& k : kKinds)
        if (k.version == version) kind = &k;
    if (kind == nullptr) {
        for (std::uint32_t v : kPrivateVersions)
            if (v == version) return bad("this is a private key; give the public one (xpub)");
        return bad("unknown version bytes");
    }
    ExtendedPublicKey k;
    k.kind = kind->kind;
    k.depth = p[4];
    std::memcpy(k.parent_fingerprint.data(), p + 5, 4);
    k.child_number = get_be32(p + 9);
    std::memcpy(k.chain_code.data(), p + 13, 32);
    std::memcpy(k.key.data(), p + 45, 33);
    if (k.depth == 0) {
        if (k.child_number != 0) return bad("depth 0 with a non-zero child number");
        for (auto b : k.parent_fingerprint)
            if (b != 0) return bad("depth 0 with a non-zero parent fingerprint");
    }
    secp256k1_pubkey point;
    if (!parse_point(k.key, point)) return bad("key is not a valid compressed secp256k1 point");
    return k;
}

std::string serialize_xpub(const ExtendedPublicKey& k) {
    std::uint8_t buf[78];
    put_be32(buf, xpub_version(k.kind));
    buf[4] = k.depth;
    std::memcpy(buf + 5, k.parent_fingerprint.data(), 4);
    put_be32(buf + 9, k.child_number);
    std::memcpy(buf + 13, k.chain_code.data(), 32);
    std::memcpy(buf + 45, k.key.data(), 33);
    return base58check_encode(buf);
}

Result<ExtendedPublicKey> derive_child(const ExtendedPublicKey& parent, std::uint32_t index) {
    if (index >= kHardened) return bad("hardened child cannot be derived from a public key");
    if (parent.depth == 255) return bad("depth overflow");
    secp256k1_pubkey point;
    if (!parse_point(parent.key, point)) return bad("key is not a valid compressed secp256k1 point");

    std::uint8_t data[37];
    std::memcpy(data, parent.key.data(), 33);
    put_be32(data + 33, index);
    Digest64 I = hmac_sha512(parent.chain_code, data);
    // K_i = point(I_L) + K_par; fails when I_L >= n or the sum is infinity.
    if (secp256k1_ec_pubkey_tweak_add(ctx(), &point, I.data()) != 1)
        return make_error(Errc::invalid_input, "invalid child key at this index; use the next one");

    ExtendedPublicKey child;
    child.kind = parent.kind;
    child.depth = static_cast<std::uint8_t>(parent.depth + 1);
    Digest20 fp = hash160(parent.key);
    std::memcpy(child.parent_fingerprint.data(), fp.data(), 4);
    child.child_number = index;
    std::memcpy(child.chain_code.data(), I.data() + 32, 32);
    std::size_t len = child.key.size();
    if (secp256k1_ec_pubkey_serialize(ctx(), child.key.data(), &len, &point, SECP256K1_EC_COMPRESSED) != 1 ||
        len != 33)
        return make_error(Errc::internal, "secp256k1 serialize failed");
    return child;
}

Result<ExtendedPublicKey> derive_path(const ExtendedPublicKey& parent, std::span<const std::uint32_t> path) {
    ExtendedPublicKey k = parent;
    for (std::uint32_t i : path) {
        auto c = derive_child(k, i);
        if (!c) return c.error();
        k = *c;
    }
    return k;
}

Result<std::array<std::uint8_t, 64>> decompress_pubkey(std::span<const std::uint8_t, 33> key) {
    secp256k1_pubkey point;
    if (!parse_point(key, point)) return bad("key is not a valid compressed secp256k1 point");
    std::uint8_t full[65];
    std::size_t len = sizeof full;
    if (secp256k1_ec_pubkey_serialize(ctx(), full, &len, &point, SECP256K1_EC_UNCOMPRESSED) != 1 || len != 65)
        return make_error(Errc::internal, "secp256k1 serialize failed");
    std::array<std::uint8_t, 64> out;
    std::memcpy(out.data(), full + 1, 64);
    return out;
}

Result<std::array<std::uint8_t, 20>> evm_address_from_pubkey(std::span<const std::uint8_t, 33> key) {
    auto xy = decompress_pubkey(key);
    if (!xy) return xy.error();
    Hash256 h = keccak256(*xy);
    std::array<std::uint8_t, 20> out;
    std::memcpy(out.data(), h.data() + 12, 20);
    return out;
}

Result<Bytes> btc_script_from_pubkey(std::span<const std::uint8_t, 33> key, BtcScriptType type) {
    switch (type) {
        case BtcScriptType::p2pkh: {
            Digest20 h = hash160(key);
            return btc_p2pkh_script(h);
        }
        case BtcScriptType::p2sh_p2wpkh: {
            Digest20 h = hash160(key);
            Bytes redeem = btc_witness_script(0, h);
            Digest20 sh = hash160(redeem);
            return btc_p2sh_script(sh);
        }
        case BtcScriptType::p2wpkh: {
            Digest20 h = hash160(key);
            return btc_witness_script(0, h);
        }
        case BtcScriptType::p2tr: {
            secp256k1_pubkey point;
            if (!parse_point(key, point)) return bad("key is not a valid compressed secp256k1 point");
            secp256k1_xonly_pubkey internal;
            if (secp256k1_xonly_pubkey_from_pubkey(ctx(), &internal, nullptr, &point) != 1)
                return make_error(Errc::internal, "secp256k1 x-only conversion failed");
            std::uint8_t x[32];
            if (secp256k1_xonly_pubkey_serialize(ctx(), x, &internal) != 1)
                return make_error(Errc::internal, "secp256k1 serialize failed");
            static constexpr std::uint8_t kTag[] = {'T', 'a', 'p', 'T', 'w', 'e', 'a', 'k'};
            Digest32 t = tagged_hash(kTag, x);
            secp256k1_pubkey output;
            if (secp256k1_xonly_pubkey_tweak_add(ctx(), &output, &internal, t.data()) != 1)
                return make_error(Errc::invalid_input, "taproot tweak gives an invalid key");
            secp256k1_xonly_pubkey out_x;
            std::uint8_t q[32];
            if (secp256k1_xonly_pubkey_from_pubkey(ctx(), &out_x, nullptr, &output) != 1 ||
                secp256k1_xonly_pubkey_serialize(ctx(), q, &out_x) != 1)
                return make_error(Errc::internal, "secp256k1 serialize failed");
            return btc_witness_script(1, q);
        }
    }
    return make_error(Errc::internal, "unknown script type");
}

Result<std::string> derive_address(Protocol protocol, const ExtendedPublicKey& account, std::uint32_t index,
                                   const DeriveOptions& options) {
    if (protocol == Protocol::solana)
        return make_error(Errc::invalid_input, "Solana (ed25519) has no public derivation; import addresses instead");
    const std::uint32_t path[2] = {0, index};
    auto child = derive_path(account, path);
    if (!child) return child.error();
    switch (protocol) {
        case Protocol::bitcoin: {
            BtcNetwork net = options.network.value_or(xpub_is_testnet(account.kind) ? BtcNetwork::testnet
                                                                                     : BtcNetwork::mainnet);
            auto script = btc_script_from_pubkey(child->key, options.script.value_or(xpub_script_type(account.kind)));
            if (!script) return script.error();
            std::string a = btc_address_from_script(*script, net);
            if (a.empty()) return make_error(Errc::internal, "no address for derived script");
            return a;
        }
        case Protocol::evm:
        case Protocol::tron: {
            auto a = evm_address_from_pubkey(child->key);
            if (!a) return a.error();
            return protocol == Protocol::evm ? evm_checksum(*a) : tron_base58(*a);
        }
        case Protocol::solana: break;
    }
    return make_error(Errc::invalid_input, "unsupported protocol");
}

Result<std::string> derive_address(Protocol protocol, std::string_view account_xpub, std::uint32_t index,
                                   const DeriveOptions& options) {
    auto k = parse_xpub(account_xpub);
    if (!k) return k.error();
    return derive_address(protocol, *k, index, options);
}

}  // namespace depositd::codec
