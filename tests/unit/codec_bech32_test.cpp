// BIP173 and BIP350 test vectors (valid and invalid), segwit address rules of BIP350.
#include <gtest/gtest.h>

#include <string>

#include "codec/bech32.hpp"
#include "codec/hex.hpp"

using namespace depositd::codec;

namespace {

std::string with_char(char c, std::string_view rest) { return std::string(1, c) + std::string(rest); }

// scriptPubKey of a segwit program: OP_n <len> program.
std::string spk_hex(const SegwitProgram& p) {
    Bytes s;
    s.push_back(static_cast<std::uint8_t>(p.version == 0 ? 0 : 0x50 + p.version));
    s.push_back(static_cast<std::uint8_t>(p.program.size()));
    s.insert(s.end(), p.program.begin(), p.program.end());
    return to_hex(s);
}

}  // namespace

TEST(CodecBech32, Bip173ValidChecksums) {
    // BIP173's 90-character vector: HRP "1", 82 zero values, checksum. (chains.md
    // §6.4 quotes it with one 'q' too many, which makes it 91 characters: invalid.)
    const std::string ninety = "11" + std::string(82, 'q') + "c8247j";
    ASSERT_EQ(ninety.size(), 90u);
    EXPECT_FALSE(bech32_decode("11" + std::string(83, 'q') + "c8247j").ok());
    for (std::string_view s : std::initializer_list<std::string_view>{ninety, "A12UEL5L", "a12uel5l",
                               "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
                               "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
                               "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w", "?1ezyfcl"}) {
        auto d = bech32_decode(s);
        ASSERT_TRUE(d.ok()) << s << ": " << d.error().message;
        EXPECT_EQ(d->encoding, Bech32Encoding::bech32) << s;
        // Re-encoding gives the lower-case original.
        auto e = bech32_encode(Bech32Encoding::bech32, d->hrp, d->data);
        ASSERT_TRUE(e.ok());
        std::string lower(s);
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        EXPECT_EQ(*e, lower);
    }
}

TEST(CodecBech32, Bip350ValidChecksums) {
    for (std::string_view s :
         {"A1LQFN3A", "a1lqfn3a",
          "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
          "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
          "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
          "split1checkupstagehandshakeupstreamerranterredcaperredlc445v", "?1v759aa"}) {
        auto d = bech32_decode(s);
        ASSERT_TRUE(d.ok()) << s << ": " << d.error().message;
        EXPECT_EQ(d->encoding, Bech32Encoding::bech32m) << s;
    }
}

TEST(CodecBech32, Bip173Invalid) {
    const std::string cases[] = {
        with_char(0x20, "1nwldj5"),  // HRP character out of range
        with_char(0x7f, "1axkwrx"),
        with_char(static_cast<char>(0x80), "1eym55h"),
        "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",  // too long
        "pzry9x0s0muk",   // no separator
        "1pzry9x0s0muk",  // empty HRP
        "x1b4n0q5v",      // invalid data character
        "li1dgmt3",       // too short checksum
        "de1lg7wt\xff",   // invalid character in checksum
        "A1G7SGD8",       // checksum calculated with upper-case HRP
        "10a06t8",        // empty HRP
        "1qzzfhee",       // empty HRP
    };
    for (const auto& s : cases) {
        auto d = bech32_decode(s);
        EXPECT_FALSE(d.ok() && d->encoding == Bech32Encoding::bech32) << s;
    }
}

TEST(CodecBech32, Bip350Invalid) {
    const std::string cases[] = {
        with_char(0x20, "1xj0phk"),
        with_char(0x7f, "1g6xzxy"),
        with_char(static_cast<char>(0x80), "1vctc34"),
        "an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",
        "qyrz8wqd2c9m", "1qyrz8wqd2c9m", "y1b0jsk6g", "lt1igcx5c0", "in1muywd", "mm1crxm3i", "au1s5cgom",
        "M1VUXWEZ", "16plkw9", "1p2gdwpf",
    };
    for (const auto& s : cases) {
        auto d = bech32_decode(s);
        EXPECT_FALSE(d.ok() && d->encoding == Bech32Encoding::bech32m) << s;
    }
}

TEST(CodecBech32, MixedCaseRejected) {
    auto d = bech32_decode("A12uEL5L");
    ASSERT_FALSE(d.ok());
    EXPECT_NE(d.error().message.find("mixed case"), std::string::npos);
}

TEST(CodecSegwit, Bip350ValidAddresses) {
    const std::tuple<const char*, const char*, const char*> cases[] = {
        {"bc", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"},
        {"tb", "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
         "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"},
        {"bc", "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
         "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6"},
        {"bc", "BC1SW50QGDZ25J", "6002751e"},
        {"bc", "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"},
        {"tb", "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
         "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
        {"bc", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
         "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"},
    };
    for (auto [hrp, addr, spk] : cases) {
        auto p = segwit_decode(hrp, addr);
        ASSERT_TRUE(p.ok()) << addr << ": " << p.error().message;
        EXPECT_EQ(spk_hex(*p), spk) << addr;
        auto e = segwit_encode(hrp, p->version, p->program);
        ASSERT_TRUE(e.ok());
        std::string lower(addr);
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        EXPECT_EQ(*e, lower);
    }
}

TEST(CodecSegwit, Bip350InvalidAddresses) {
    const std::pair<const char*, const char*> cases[] = {
        {"tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut", "human-readable"},
        {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", "bech32m"},
        {"BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL", "bech32m"},
        {"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", "must use bech32,"},
        {"tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47", "must use bech32,"},
        {"bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4", "character"},
        {"BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R", "above 16"},
        {"bc1pw5dgrnzv", "2..40"},
        {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav", ""},
        {"BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "20 or 32"},
        {"tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq", "mixed case"},
        {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf", "padding"},
        {"tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j", "padding"},
        {"bc1gmk9yu", "empty"},
        // BIP173's own v1 example, bech32 checksum: invalid since BIP350.
        {"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx", "bech32m"},
    };
    for (auto [addr, why] : cases) {
        std::string hrp = std::string_view(addr).substr(0, 2) == "tb" ? "tb" : "bc";
        auto p = segwit_decode(hrp, addr);
        ASSERT_FALSE(p.ok()) << addr;
        EXPECT_NE(p.error().message.find(why), std::string::npos) << addr << ": " << p.error().message;
    }
}

TEST(CodecSegwit, EncodeRejects) {
    Bytes p20(20, 1), p16(16, 1), p1(1, 1), p41(41, 1);
    EXPECT_FALSE(segwit_encode("bc", 0, p16).ok());
    EXPECT_FALSE(segwit_encode("bc", 1, p1).ok());
    EXPECT_FALSE(segwit_encode("bc", 1, p41).ok());
    EXPECT_FALSE(segwit_encode("bc", 17, p20).ok());
    EXPECT_FALSE(segwit_encode("bc", -1, p20).ok());
    EXPECT_FALSE(segwit_encode("", 0, p20).ok());
    EXPECT_TRUE(segwit_encode("bcrt", 0, p20).ok());
}

TEST(CodecBech32, ConvertBits) {
    Bytes in{0xff};
    auto five = convert_bits(in, 8, 5, true);
    ASSERT_TRUE(five.ok());
    EXPECT_EQ(*five, (Bytes{31, 28}));
    auto back = convert_bits(*five, 5, 8, false);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, in);
    Bytes nonzero_pad{31, 29};
    EXPECT_FALSE(convert_bits(nonzero_pad, 5, 8, false).ok());
    Bytes too_much_pad{31, 28, 0};  // 15 bits: a whole 5-bit group of padding
    EXPECT_FALSE(convert_bits(too_much_pad, 5, 8, false).ok());
    Bytes bad{32};
    EXPECT_FALSE(convert_bits(bad, 5, 8, true).ok());
}
