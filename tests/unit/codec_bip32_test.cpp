// BIP32 test vector 1 (public derivations), BIP84 / SLIP-0132 (BIP44, BIP49)
// and BIP86 vectors from chains.md §7.2, EVM/TRON from the same keys.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "codec/base58.hpp"
#include "codec/bip32.hpp"
#include "codec/hex.hpp"

using namespace depositd;
using namespace depositd::codec;

namespace {

constexpr const char* kTv1M0H =
    "xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw";
constexpr const char* kTv1M0H1 =
    "xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ";
constexpr const char* kTv1M0H12H =
    "xpub6D4BDPcP2GT577Vvch3R8wDkScZWzQzMMUm3PWbmWvVJrZwQY4VUNgqFJPMM3No2dFDFGTsxxpG5uJh7n7epu4trkrX7x7DogT5Uv6fcLW5";
constexpr const char* kTv1M0H12H2 =
    "xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV";
constexpr const char* kTv1M0H12H21G =
    "xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy";
constexpr const char* kTv1Master =
    "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8";

constexpr const char* kZpub84 =
    "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";
constexpr const char* kXpub44 =
    "xpub6BosfCnifzxcFwrSzQiqu2DBVTshkCXacvNsWGYJVVhhawA7d4R5WSWGFNbi8Aw6ZRc1brxMyWMzG3DSSSSoekkudhUd9yLb6qx39T9nMdj";
constexpr const char* kYpub49 =
    "ypub6Ww3ibxVfGzLrAH1PNcjyAWenMTbbAosGNB6VvmSEgytSER9azLDWCxoJwW7Ke7icmizBMXrzBx9979FfaHxHcrArf3zbeJJJUZPf663zsP";
constexpr const char* kXpub86 =
    "xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ";

ExtendedPublicKey parse(const char* s) {
    auto k = parse_xpub(s);
    EXPECT_TRUE(k.ok()) << s << ": " << (k.ok() ? "" : k.error().message);
    return k.ok() ? *k : ExtendedPublicKey{};
}

// Re-serialise a decoded key with one byte changed (valid checksum).
std::string tamper(const char* xpub, std::size_t offset, std::uint8_t value) {
    Bytes raw = base58check_decode(xpub).value();
    raw[offset] = value;
    return base58check_encode(raw);
}

}  // namespace

TEST(CodecBip32, ParseSerializeRoundTrip) {
    for (const char* s : {kTv1Master, kTv1M0H, kTv1M0H1, kTv1M0H12H, kTv1M0H12H2, kTv1M0H12H21G, kZpub84, kXpub44,
                          kYpub49, kXpub86}) {
        auto k = parse(s);
        EXPECT_EQ(serialize_xpub(k), s);
    }
    auto m = parse(kTv1Master);
    EXPECT_EQ(m.depth, 0);
    EXPECT_EQ(m.kind, XpubKind::xpub);
    auto z = parse(kZpub84);
    EXPECT_EQ(z.kind, XpubKind::zpub);
    EXPECT_EQ(z.depth, 3);
    EXPECT_EQ(xpub_version(z.kind), 0x04b24746u);
    EXPECT_EQ(parse(kYpub49).kind, XpubKind::ypub);
    EXPECT_EQ(parse(kTv1M0H12H21G).child_number, 1000000000u);
}

TEST(CodecBip32, TestVector1PublicDerivation) {
    auto c1 = derive_child(parse(kTv1M0H), 1);
    ASSERT_TRUE(c1.ok());
    EXPECT_EQ(serialize_xpub(*c1), kTv1M0H1);
    auto c2 = derive_child(parse(kTv1M0H12H), 2);
    ASSERT_TRUE(c2.ok());
    EXPECT_EQ(serialize_xpub(*c2), kTv1M0H12H2);
    auto c3 = derive_child(parse(kTv1M0H12H2), 1000000000);
    ASSERT_TRUE(c3.ok());
    EXPECT_EQ(serialize_xpub(*c3), kTv1M0H12H21G);
    // Hardened steps are impossible from a public key.
    auto h = derive_child(parse(kTv1M0H1), 0x80000002u);
    ASSERT_FALSE(h.ok());
    EXPECT_NE(h.error().message.find("hardened"), std::string::npos);
}

TEST(CodecBip32, Bip84Zpub) {
    auto acct = parse(kZpub84);
    const std::tuple<std::uint32_t, std::uint32_t, const char*, const char*> cases[] = {
        {0, 0, "0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c", "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"},
        {0, 1, "03e775fd51f0dfb8cd865d9ff1cca2a158cf651fe997fdc9fee9c1d3b5e995ea77", "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g"},
        {1, 0, "03025324888e429ab8e3dbaf1f7802648b9cd01e9b418485c5fa4c1b9b5700e1a6", "bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el"},
    };
    for (auto [change, i, pub, addr] : cases) {
        const std::uint32_t path[] = {change, i};
        auto k = derive_path(acct, path);
        ASSERT_TRUE(k.ok());
        EXPECT_EQ(to_hex(k->key), pub);
        auto script = btc_script_from_pubkey(k->key, BtcScriptType::p2wpkh);
        ASSERT_TRUE(script.ok());
        EXPECT_EQ(btc_address_from_script(*script, BtcNetwork::mainnet), addr);
    }
    auto a0 = derive_address(Protocol::bitcoin, kZpub84, 0);
    ASSERT_TRUE(a0.ok()) << a0.error().message;
    EXPECT_EQ(*a0, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu");
    auto a1 = derive_address(Protocol::bitcoin, acct, 1);
    ASSERT_TRUE(a1.ok());
    EXPECT_EQ(*a1, "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g");
}

TEST(CodecBip32, Slip132XpubYpub) {
    auto p2pkh = derive_address(Protocol::bitcoin, kXpub44, 0);
    ASSERT_TRUE(p2pkh.ok());
    EXPECT_EQ(*p2pkh, "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA");
    auto p2sh = derive_address(Protocol::bitcoin, kYpub49, 0);
    ASSERT_TRUE(p2sh.ok());
    EXPECT_EQ(*p2sh, "37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf");
}

TEST(CodecBip32, Bip86Taproot) {
    DeriveOptions o;
    o.script = BtcScriptType::p2tr;
    const std::pair<std::uint32_t, const char*> cases[] = {
        {0, "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr"},
        {1, "bc1p4qhjn9zdvkux4e44uhx8tc55attvtyu358kutcqkudyccelu0was9fqzwh"},
    };
    for (auto [i, addr] : cases) {
        auto a = derive_address(Protocol::bitcoin, kXpub86, i, o);
        ASSERT_TRUE(a.ok()) << a.error().message;
        EXPECT_EQ(*a, addr);
    }
    // Change chain 1/0 via derive_path.
    const std::uint32_t path[] = {1, 0};
    auto k = derive_path(parse(kXpub86), path);
    ASSERT_TRUE(k.ok());
    auto s = btc_script_from_pubkey(k->key, BtcScriptType::p2tr);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(btc_address_from_script(*s, BtcNetwork::mainnet),
              "bc1p3qkhfews2uk44qtvauqyr2ttdsw7svhkl9nkm9s9c3x4ax5h60wqwruhk7");
}

TEST(CodecBip32, NetworksAndTestnetVersions) {
    // The same key as a vpub derives testnet P2WPKH; a network override picks regtest.
    auto z = parse(kZpub84);
    ExtendedPublicKey v = z;
    v.kind = XpubKind::vpub;
    std::string vpub = serialize_xpub(v);
    EXPECT_TRUE(vpub.starts_with("vpub"));
    auto vk = parse_xpub(vpub);
    ASSERT_TRUE(vk.ok());
    EXPECT_EQ(vk->kind, XpubKind::vpub);
    auto t = derive_address(Protocol::bitcoin, vpub, 0);
    ASSERT_TRUE(t.ok());
    EXPECT_TRUE(t->starts_with("tb1q")) << *t;
    DeriveOptions reg;
    reg.network = BtcNetwork::regtest;
    auto r = derive_address(Protocol::bitcoin, vpub, 0, reg);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->starts_with("bcrt1q")) << *r;
    reg.network = BtcNetwork::bcoin_regtest;
    auto rb = derive_address(Protocol::bitcoin, vpub, 0, reg);
    ASSERT_TRUE(rb.ok());
    EXPECT_TRUE(rb->starts_with("rb1q")) << *rb;
    // Same witness program whatever the network.
    auto main = parse_address(Protocol::bitcoin, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu");
    auto test = parse_address(Protocol::bitcoin, *t);
    ASSERT_TRUE(main.ok() && test.ok());
    EXPECT_EQ(main->watch_key, test->watch_key);

    for (XpubKind kind : {XpubKind::tpub, XpubKind::upub}) {
        ExtendedPublicKey k = z;
        k.kind = kind;
        std::string s = serialize_xpub(k);
        EXPECT_EQ(s.substr(0, 4), to_string(kind));
        auto a = derive_address(Protocol::bitcoin, s, 0);
        ASSERT_TRUE(a.ok());
        EXPECT_TRUE(kind == XpubKind::tpub ? (a->front() == 'm' || a->front() == 'n') : a->front() == '2') << *a;
    }
}

TEST(CodecBip32, EvmAndTronFromTheSameKeys) {
    // Private key 1's public key (the generator) -> the known EVM / TRON addresses.
    Bytes g = from_hex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798").value();
    auto a = evm_address_from_pubkey(std::span<const std::uint8_t, 33>(g.data(), 33));
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(evm_checksum(*a), "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
    EXPECT_EQ(tron_base58(*a), "TMVQGm1qAQYVdetCeGRRkTWYYrLXuHK2HC");

    // EVM and TRON addresses of one xpub share their 20 bytes.
    for (std::uint32_t i : {0u, 1u, 7u}) {
        auto e = derive_address(Protocol::evm, kXpub44, i);
        auto t = derive_address(Protocol::tron, kXpub44, i);
        ASSERT_TRUE(e.ok() && t.ok());
        auto pe = parse_address(Protocol::evm, *e);
        auto pt = parse_address(Protocol::tron, *t);
        ASSERT_TRUE(pe.ok() && pt.ok());
        EXPECT_EQ(pe->canonical, *e);  // already EIP-55
        EXPECT_EQ(pe->watch_key, pt->watch_key);
        EXPECT_EQ(t->front(), 'T');
    }
    EXPECT_FALSE(derive_address(Protocol::solana, kXpub44, 0).ok());
}

TEST(CodecBip32, Rejects) {
    EXPECT_FALSE(parse_xpub("").ok());
    EXPECT_FALSE(parse_xpub("xpub").ok());
    std::string bad_ck = kTv1M0H;
    bad_ck.back() = bad_ck.back() == 'w' ? 'x' : 'w';
    EXPECT_FALSE(parse_xpub(bad_ck).ok());
    // Unknown version bytes.
    auto unknown = parse_xpub(tamper(kTv1M0H, 0, 0x05));
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.error().message.find("version"), std::string::npos);
    // Private key version (xprv 0x0488ade4).
    Bytes raw = base58check_decode(kTv1M0H).value();
    raw[0] = 0x04; raw[1] = 0x88; raw[2] = 0xad; raw[3] = 0xe4;
    auto prv = parse_xpub(base58check_encode(raw));
    ASSERT_FALSE(prv.ok());
    EXPECT_NE(prv.error().message.find("private"), std::string::npos);
    // Key prefix not 02/03, and an x coordinate that is not on the curve.
    EXPECT_FALSE(parse_xpub(tamper(kTv1M0H, 45, 0x04)).ok());
    EXPECT_FALSE(parse_xpub(tamper(kTv1M0H, 45, 0x00)).ok());
    raw = base58check_decode(kTv1M0H).value();
    for (int i = 46; i < 78; ++i) raw[static_cast<std::size_t>(i)] = 0xff;  // x >= p
    EXPECT_FALSE(parse_xpub(base58check_encode(raw)).ok());
    // Depth 0 with a parent fingerprint / child number.
    EXPECT_FALSE(parse_xpub(tamper(kTv1Master, 5, 0x01)).ok());
    EXPECT_FALSE(parse_xpub(tamper(kTv1Master, 12, 0x01)).ok());
    // Wrong length.
    raw = base58check_decode(kTv1M0H).value();
    raw.pop_back();
    EXPECT_FALSE(parse_xpub(base58check_encode(raw)).ok());
    // Garbage into every entry point.
    EXPECT_FALSE(derive_address(Protocol::bitcoin, "zpub-garbage", 0).ok());
    EXPECT_FALSE(derive_address(Protocol::evm, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", 0).ok());
    EXPECT_FALSE(derive_address(Protocol::bitcoin, kZpub84, 0x80000000u).ok());
    ExtendedPublicKey broken = parse(kZpub84);
    broken.key[0] = 0x07;
    EXPECT_FALSE(derive_child(broken, 0).ok());
    EXPECT_FALSE(decompress_pubkey(broken.key).ok());
    ExtendedPublicKey deep = parse(kZpub84);
    deep.depth = 255;
    EXPECT_FALSE(derive_child(deep, 0).ok());
}

TEST(CodecBip32, GarbageNeverCrashes) {
    std::mt19937 rng(11);
    for (int i = 0; i < 3000; ++i) {
        std::string s = kZpub84;
        s[rng() % s.size()] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0"[rng() % 59];
        (void)parse_xpub(s);
        Bytes raw = base58check_decode(kZpub84).value();
        raw[rng() % raw.size()] = static_cast<std::uint8_t>(rng());
        auto k = parse_xpub(base58check_encode(raw));
        if (k.ok()) (void)derive_child(*k, rng() % 100);
    }
}
