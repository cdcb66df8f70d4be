// Base58 vectors from Bitcoin Core's src/test/data/base58_encode_decode.json,
// base58check on real addresses (Bitcoin genesis coinbase, TRON USDT).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "codec/base58.hpp"
#include "codec/hex.hpp"

using namespace depositd::codec;

namespace {
Bytes unhex(std::string_view s) { return from_hex(s).value(); }
}  // namespace

TEST(CodecBase58, BitcoinCoreVectors) {
    const std::pair<const char*, const char*> vectors[] = {
        {"61", "2g"},
        {"626262", "a3gV"},
        {"636363", "aPEr"},
        {"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
        {"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
        {"516b6fcd0f", "ABnLTmg"},
        {"bf4f89001e670274dd", "3SEo3LWLoPntC"},
        {"572e4794", "3EFU7m"},
        {"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
        {"10c8511e", "Rt5zm"},
        {"00000000000000000000", "1111111111"},
    };
    for (auto [hex, b58] : vectors) {
        Bytes raw = unhex(hex);
        EXPECT_EQ(base58_encode(raw), b58) << hex;
        auto d = base58_decode(b58);
        ASSERT_TRUE(d.ok()) << b58;
        EXPECT_EQ(to_hex(*d), hex) << b58;
    }
    EXPECT_EQ(base58_encode({}), "");
}

TEST(CodecBase58, DecodeRejectsGarbage) {
    for (std::string_view bad : {"", "0", "O", "I", "l", "3SEo3LWLoPntC ", " 3SEo", "3SE+o", "\xc3\xa9", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L\n"})
        EXPECT_FALSE(base58_decode(bad).ok()) << bad;
    std::string_view nul("1\0" "1", 3);
    EXPECT_FALSE(base58_decode(nul).ok());
    EXPECT_FALSE(base58_decode(std::string(kBase58MaxText + 1, '2')).ok());
    EXPECT_TRUE(base58_decode(std::string(kBase58MaxText, 'z')).ok());
}

TEST(CodecBase58, Check) {
    // Genesis coinbase address: version 0x00 + HASH160.
    auto p = base58check_decode("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa");
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(to_hex(*p), "0062e907b15cbf27d5425399ebf6f0fb50ebb88f18");
    EXPECT_EQ(base58check_encode(*p), "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa");

    auto t = base58check_decode("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(to_hex(*t), "41a614f803b6fd780986a42c78ec9c7f77e6ded13c");
    EXPECT_EQ(base58check_encode(unhex("41a614f803b6fd780986a42c78ec9c7f77e6ded13c")),
              "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
}

TEST(CodecBase58, CheckRejects) {
    auto bad = base58check_decode("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb");  // last char changed
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("checksum"), std::string::npos);
    EXPECT_FALSE(base58check_decode("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6T").ok());
    EXPECT_FALSE(base58check_decode("2g").ok());  // 1 byte: shorter than the checksum
    EXPECT_FALSE(base58check_decode("").ok());
    EXPECT_FALSE(base58check_decode("1111").ok());  // four zero bytes: checksum of empty payload is not 0
}

TEST(CodecBase58, RandomRoundTrip) {
    std::mt19937 rng(42);
    for (int i = 0; i < 2000; ++i) {
        Bytes b(rng() % 60);
        for (auto& x : b) x = static_cast<std::uint8_t>(rng() % 4 == 0 ? 0 : rng());
        std::string e = base58_encode(b);
        if (b.empty()) continue;
        auto d = base58_decode(e);
        ASSERT_TRUE(d.ok());
        EXPECT_EQ(*d, b);
        auto c = base58check_decode(base58check_encode(b));
        ASSERT_TRUE(c.ok());
        EXPECT_EQ(*c, b);
    }
}
