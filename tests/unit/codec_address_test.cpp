// Addresses of every protocol: EIP-55 (official vectors), TRON (USDT in its
// four encodings, private key 1), Bitcoin (BIP350 vectors, every network and
// script type), Solana (System Program, fixture accounts).
#include <gtest/gtest.h>

#include <array>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "codec/address.hpp"
#include "codec/base58.hpp"
#include "codec/bech32.hpp"
#include "codec/hex.hpp"

using namespace depositd;
using namespace depositd::codec;

namespace {

Bytes unhex(std::string_view s) { return from_hex(s).value(); }

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}
std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

bool error_mentions(const Result<ParsedAddress>& r, std::string_view what) {
    return !r.ok() && r.error().message.find(what) != std::string::npos;
}

}  // namespace

// ---------------------------------------------------------------- EVM

TEST(CodecAddressEvm, Eip55OfficialVectors) {
    for (std::string v : {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                          "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
                          // token contracts as published (USDT, USDC on Ethereum)
                          "0xdAC17F958D2ee523a2206206994597C13D831ec7", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"}) {
        auto p = parse_address(Protocol::evm, v);
        ASSERT_TRUE(p.ok()) << v << ": " << p.error().message;
        EXPECT_EQ(p->canonical, v);
        EXPECT_EQ(p->protocol, Protocol::evm);
        EXPECT_EQ(to_hex0x(p->watch_key), lower(v));
        // Unchecksummed forms are accepted and canonicalised.
        auto l = parse_address(Protocol::evm, lower(v));
        ASSERT_TRUE(l.ok());
        EXPECT_EQ(l->canonical, v);
        auto u = parse_address(Protocol::evm, "0x" + upper(v.substr(2)));
        ASSERT_TRUE(u.ok());
        EXPECT_EQ(u->canonical, v);
        EXPECT_EQ(evm_checksum(std::span<const std::uint8_t, 20>(p->watch_key.data(), 20)), v);
    }
}

TEST(CodecAddressEvm, PrivateKeyOne) {
    auto p = parse_address(Protocol::evm, "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf");
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->canonical, "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
}

TEST(CodecAddressEvm, BadChecksumAndShape) {
    // One letter's case flipped in an official vector.
    auto r = parse_address(Protocol::evm, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD");
    EXPECT_TRUE(error_mentions(r, "checksum")) << (r.ok() ? "accepted" : r.error().message);
    EXPECT_TRUE(error_mentions(parse_address(Protocol::evm, "0xfb6916095ca1df60bB79Ce92cE3Ea74c37c5d359"), "checksum"));
    EXPECT_TRUE(error_mentions(parse_address(Protocol::evm, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA"), "length"));
    EXPECT_TRUE(error_mentions(parse_address(Protocol::evm, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00"), "length"));
    EXPECT_TRUE(error_mentions(parse_address(Protocol::evm, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg"), "hex"));
    EXPECT_FALSE(parse_address(Protocol::evm, "").ok());
    EXPECT_FALSE(parse_address(Protocol::evm, "0x").ok());
    EXPECT_FALSE(parse_address(Protocol::evm, " 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").ok());
    EXPECT_FALSE(parse_address(Protocol::evm, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t").ok());
    auto b = evm_address_bytes("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");  // prefix optional
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->size(), 20u);
}

// ---------------------------------------------------------------- TRON

TEST(CodecAddressTron, UsdtFourEncodings) {
    const std::string want = "a614f803b6fd780986a42c78ec9c7f77e6ded13c";
    for (std::string_view form : {"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "41a614f803b6fd780986a42c78ec9c7f77e6ded13c",
                                  "0x41a614f803b6fd780986a42c78ec9c7f77e6ded13c",
                                  "41A614F803B6FD780986A42C78EC9C7F77E6DED13C",
                                  "a614f803b6fd780986a42c78ec9c7f77e6ded13c",
                                  "0xa614f803b6fd780986a42c78ec9c7f77e6ded13c"}) {
        auto b = tron_address_bytes(form);
        ASSERT_TRUE(b.ok()) << form << ": " << b.error().message;
        EXPECT_EQ(to_hex(*b), want) << form;
    }
    for (std::string_view form : {"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "41a614f803b6fd780986a42c78ec9c7f77e6ded13c",
                                  "0x41a614f803b6fd780986a42c78ec9c7f77e6ded13c"}) {
        auto p = parse_address(Protocol::tron, form);
        ASSERT_TRUE(p.ok()) << form;
        EXPECT_EQ(p->canonical, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
        EXPECT_EQ(to_hex(p->watch_key), want);
    }
    // A bare 20-byte hex is ambiguous user input for TRON.
    EXPECT_FALSE(parse_address(Protocol::tron, "a614f803b6fd780986a42c78ec9c7f77e6ded13c").ok());
    Bytes raw = unhex(want);
    EXPECT_EQ(tron_base58(std::span<const std::uint8_t, 20>(raw.data(), 20)), "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
}

TEST(CodecAddressTron, PrivateKeyOneAndEvents) {
    auto p = parse_address(Protocol::tron, "TMVQGm1qAQYVdetCeGRRkTWYYrLXuHK2HC");
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(to_hex(p->watch_key), "7e5f4552091a69125d5dfcb7b8c2659029395bdf");
    // TronGrid v1 event from/to (0x + 20 bytes) -> T address.
    auto a = tron_address_bytes("0x01311788a9736dcc38cf6d53342c076c38e95ef2");
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(tron_base58(std::span<const std::uint8_t, 20>(a->data(), 20)), "TA5WVDb8QG5SoPNk1HCnombmkS9nWqH9LR");
}

TEST(CodecAddressTron, Rejects) {
    EXPECT_TRUE(error_mentions(parse_address(Protocol::tron, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u"), "checksum"));
    // Valid base58check but version 0x00 (a Bitcoin address).
    EXPECT_TRUE(error_mentions(parse_address(Protocol::tron, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"), "version"));
    // Valid base58check, 21 bytes, version 0x42.
    std::string v42 = base58check_encode(unhex("42a614f803b6fd780986a42c78ec9c7f77e6ded13c"));
    EXPECT_TRUE(error_mentions(parse_address(Protocol::tron, v42), "version"));
    EXPECT_TRUE(error_mentions(parse_address(Protocol::tron, "42a614f803b6fd780986a42c78ec9c7f77e6ded13c"), "version"));
    // Right version, wrong length.
    std::string short22 = base58check_encode(unhex("41a614f803b6fd780986a42c78ec9c7f77e6ded1"));
    EXPECT_TRUE(error_mentions(parse_address(Protocol::tron, short22), "length"));
    EXPECT_FALSE(parse_address(Protocol::tron, "").ok());
    EXPECT_FALSE(parse_address(Protocol::tron, "0x").ok());
    EXPECT_FALSE(parse_address(Protocol::tron, "T").ok());
    EXPECT_FALSE(tron_address_bytes("").ok());
}

// ---------------------------------------------------------------- Bitcoin

TEST(CodecAddressBitcoin, SegwitVectors) {
    const std::pair<const char*, const char*> cases[] = {
        {"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"},
        {"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
         "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"},
        {"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
         "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6"},
        {"BC1SW50QGDZ25J", "6002751e"},
        {"bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"},
        {"tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
         "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
        {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
         "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"},
    };
    for (auto [addr, spk] : cases) {
        auto p = parse_address(Protocol::bitcoin, addr);
        ASSERT_TRUE(p.ok()) << addr << ": " << p.error().message;
        EXPECT_EQ(to_hex(p->watch_key), spk);
        EXPECT_EQ(p->canonical, lower(addr));
        BtcNetwork net = std::string_view(addr).substr(0, 2) == "tb" ? BtcNetwork::testnet : BtcNetwork::mainnet;
        EXPECT_EQ(btc_address_from_script(p->watch_key, net), lower(addr));
    }
}

TEST(CodecAddressBitcoin, Base58Types) {
    auto p2pkh = parse_address(Protocol::bitcoin, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa");
    ASSERT_TRUE(p2pkh.ok());
    EXPECT_EQ(to_hex(p2pkh->watch_key), "76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac");
    EXPECT_EQ(p2pkh->canonical, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa");
    EXPECT_EQ(btc_address_from_script(p2pkh->watch_key, BtcNetwork::mainnet), "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa");

    auto p2sh = parse_address(Protocol::bitcoin, "37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf");
    ASSERT_TRUE(p2sh.ok());
    ASSERT_EQ(p2sh->watch_key.size(), 23u);
    EXPECT_EQ(p2sh->watch_key[0], 0xa9);
    EXPECT_EQ(p2sh->watch_key[22], 0x87);
    EXPECT_EQ(btc_address_from_script(p2sh->watch_key, BtcNetwork::mainnet), "37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf");
}

TEST(CodecAddressBitcoin, EveryNetworkRoundTrips) {
    Bytes h20 = unhex("751e76e8199196d454941c45d1b3a323f1433bd6");
    Bytes h32 = unhex("1863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262");
    std::span<const std::uint8_t, 20> h(h20.data(), 20);
    const Bytes scripts[] = {btc_p2pkh_script(h), btc_p2sh_script(h), btc_witness_script(0, h20),
                             btc_witness_script(0, h32), btc_witness_script(1, h32)};
    struct Net {
        BtcNetwork net;
        const char* p2pkh_prefixes;  // first characters a P2PKH address may have
        char p2sh_prefix;
        const char* hrp;
    };
    const Net nets[] = {{BtcNetwork::mainnet, "1", '3', "bc1"},
                        {BtcNetwork::testnet, "mn", '2', "tb1"},
                        {BtcNetwork::signet, "mn", '2', "tb1"},
                        {BtcNetwork::regtest, "mn", '2', "bcrt1"},
                        {BtcNetwork::bcoin_regtest, "R", 'G', "rb1"}};
    for (const auto& n : nets) {
        for (std::size_t i = 0; i < std::size(scripts); ++i) {
            std::string a = btc_address_from_script(scripts[i], n.net);
            ASSERT_FALSE(a.empty()) << to_string(n.net) << " " << i;
            if (i == 0) {
                EXPECT_NE(std::string_view(n.p2pkh_prefixes).find(a[0]), std::string::npos) << a;
            }
            if (i == 1) {
                EXPECT_EQ(a[0], n.p2sh_prefix) << a;
            }
            if (i >= 2) {
                EXPECT_TRUE(a.starts_with(n.hrp)) << a;
            }
            if (i == 4) {
                EXPECT_EQ(a[std::string_view(n.hrp).size()], 'p') << a;  // taproot
            }
            auto p = parse_address(Protocol::bitcoin, a);
            ASSERT_TRUE(p.ok()) << a << ": " << p.error().message;
            EXPECT_EQ(p->watch_key, scripts[i]) << a;
            EXPECT_EQ(p->canonical, a);
            if (i >= 2) {
                auto up = parse_address(Protocol::bitcoin, upper(a));
                ASSERT_TRUE(up.ok()) << a;
                EXPECT_EQ(up->canonical, a);
            }
        }
    }
}

TEST(CodecAddressBitcoin, NonStandardScriptsHaveNoAddress) {
    EXPECT_EQ(btc_address_from_script({}, BtcNetwork::mainnet), "");
    EXPECT_EQ(btc_address_from_script(unhex("6a0b68656c6c6f20776f726c64"), BtcNetwork::mainnet), "");  // OP_RETURN
    EXPECT_EQ(btc_address_from_script(unhex("0010751e76e8199196d454941c45d1b3a323"), BtcNetwork::mainnet), "");  // v0 16
    EXPECT_EQ(btc_address_from_script(unhex("5101ff"), BtcNetwork::mainnet), "");  // 1-byte program
    // P2PK (bare public key) has no address form.
    EXPECT_EQ(btc_address_from_script(
                  unhex("210279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798ac"), BtcNetwork::mainnet),
              "");
}

TEST(CodecAddressBitcoin, Rejects) {
    // BIP350 invalid list, through parse_address.
    for (std::string_view a : {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
                               "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
                               "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
                               "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "bc1gmk9yu", "bc1pw5dgrnzv",
                               "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
                               "Bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"})
        EXPECT_FALSE(parse_address(Protocol::bitcoin, a).ok()) << a;
    EXPECT_TRUE(error_mentions(parse_address(Protocol::bitcoin, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"), "checksum"));
    // TRON address: valid base58check, unknown version byte.
    EXPECT_TRUE(error_mentions(parse_address(Protocol::bitcoin, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"), "version"));
    EXPECT_FALSE(parse_address(Protocol::bitcoin, "").ok());
    EXPECT_FALSE(parse_address(Protocol::bitcoin, "bc1").ok());
    EXPECT_FALSE(parse_address(Protocol::bitcoin, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").ok());
    EXPECT_FALSE(btc_script_from_address(std::string(500, 'b')).ok());
}

TEST(CodecAddressBitcoin, Networks) {
    BtcNetwork n{};
    EXPECT_TRUE(parse_btc_network("regtest", n));
    EXPECT_EQ(n, BtcNetwork::regtest);
    EXPECT_TRUE(parse_btc_network("bcoin_regtest", n));
    EXPECT_EQ(btc_params(n).hrp, "rb");
    EXPECT_EQ(btc_params(n).p2pkh, 0x3c);
    EXPECT_EQ(btc_params(n).p2sh, 0x26);
    EXPECT_EQ(btc_params(BtcNetwork::regtest).hrp, "bcrt");
    EXPECT_EQ(btc_params(BtcNetwork::signet).hrp, "tb");
    EXPECT_FALSE(parse_btc_network("mainnetx", n));
}

// ---------------------------------------------------------------- Solana

TEST(CodecAddressSolana, Valid) {
    auto sys = parse_address(Protocol::solana, "11111111111111111111111111111111");
    ASSERT_TRUE(sys.ok());
    EXPECT_EQ(sys->watch_key, Bytes(32, 0));
    EXPECT_EQ(sys->canonical, "11111111111111111111111111111111");
    // Accounts of the devnet USDC transfer fixture, the Token program, the USDC mint.
    for (std::string_view a : {"BLw3RweJmfbTapJRgnPRvd962YDjFYAnVGd1p5hmZ5tP", "644PJ6UW8e4gQpjKdBVd4MCYasWjSECKjqd2qzdeAJY6",
                               "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"}) {
        auto p = parse_address(Protocol::solana, a);
        ASSERT_TRUE(p.ok()) << a;
        EXPECT_EQ(p->watch_key.size(), 32u);
        EXPECT_EQ(p->canonical, a);
        EXPECT_EQ(solana_address(std::span<const std::uint8_t, 32>(p->watch_key.data(), 32)), a);
    }
}

TEST(CodecAddressSolana, Rejects) {
    EXPECT_FALSE(parse_address(Protocol::solana, "1111111111111111111111111111111").ok());  // 31 zero bytes
    EXPECT_FALSE(parse_address(Protocol::solana, "111111111111111111111111111111111").ok());  // 33 zero bytes
    EXPECT_FALSE(parse_address(Protocol::solana, "BLw3RweJmfbTapJRgnPRvd962YDjFYAnVGd1p5hmZ5t0").ok());  // '0'
    EXPECT_FALSE(parse_address(Protocol::solana, "BLw3RweJmfbTapJRgnPRvd962YDjFYAnVGd1p5hmZ5tPl").ok());
    EXPECT_FALSE(parse_address(Protocol::solana, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz").ok());  // > 32 bytes
    EXPECT_FALSE(parse_address(Protocol::solana, "").ok());
    EXPECT_FALSE(parse_address(Protocol::solana, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").ok());
}

// ---------------------------------------------------------------- garbage

TEST(CodecAddressFuzz, GarbageNeverCrashes) {
    std::mt19937 rng(7);
    const std::string alphabet =
        "0123456789abcdefABCDEFxXqpzry9x8gf2tvdw0s3jn54khce6mua7lTbc1tbrt" "GHJKLMNPQRSUVWYZ\x00\x7f\x80\xff !";
    const Protocol protos[] = {Protocol::evm, Protocol::tron, Protocol::bitcoin, Protocol::solana};
    const std::string seeds[] = {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
                                 "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
                                 "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"};
    int accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string s;
        if (i % 2 == 0) {
            s.resize(rng() % 100);
            for (char& c : s) c = alphabet[rng() % alphabet.size()];
        } else {
            s = seeds[rng() % std::size(seeds)];
            s[rng() % s.size()] = alphabet[rng() % alphabet.size()];
        }
        for (Protocol p : protos) {
            auto r = parse_address(p, s);
            if (r.ok()) ++accepted;
        }
        (void)tron_address_bytes(s);
        (void)btc_script_from_address(s);
        (void)bech32_decode(s);
    }
    SUCCEED() << accepted;
}

// Issue 10: the zero address is valid to parse but never a deposit address.
TEST(CodecAddressZero, ZeroAddressesAreUnusableForDeposits) {
    const std::array<std::uint8_t, 20> zero20{};
    const std::array<std::uint8_t, 32> zero32{};
    const std::string tron_zero = tron_base58(zero20);
    EXPECT_EQ(tron_zero, "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb");
    for (const auto& [proto, text] : std::vector<std::pair<Protocol, std::string>>{
             {Protocol::evm, "0x0000000000000000000000000000000000000000"},
             {Protocol::evm, "0000000000000000000000000000000000000000"},
             {Protocol::tron, tron_zero},
             {Protocol::tron, "410000000000000000000000000000000000000000"},
             {Protocol::tron, "0x410000000000000000000000000000000000000000"},
         }) {
        auto p = parse_address(proto, text);
        ASSERT_TRUE(p.ok()) << text << ": " << p.error().message;
        const char* why = unusable_deposit_address(*p);
        ASSERT_NE(why, nullptr) << text;
        EXPECT_NE(std::string(why).find("zero address"), std::string::npos);
    }
    // Real addresses, every Bitcoin script, and Solana's all-zero System
    // Program key (an account like any other to SPL tokens) are fine.
    for (const auto& [proto, text] : std::vector<std::pair<Protocol, std::string>>{
             {Protocol::evm, "0x0000000000000000000000000000000000000001"},
             {Protocol::evm, "0xdAC17F958D2ee523a2206206994597C13D831ec7"},
             {Protocol::tron, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"},
             {Protocol::bitcoin, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"},
             {Protocol::solana, solana_address(zero32)},
         }) {
        auto p = parse_address(proto, text);
        ASSERT_TRUE(p.ok()) << text;
        EXPECT_EQ(unusable_deposit_address(*p), nullptr) << text;
    }
}
