// Keccak-256 against the Keccak team's KAT (KeccakKAT-3, ShortMsgKAT_256.txt)
// and Ethereum's event topics; SHA-256 / RIPEMD-160 / HASH160 / HMAC-SHA512
// against their published vectors.
#include <gtest/gtest.h>

#include <string>

#include "codec/hash.hpp"
#include "codec/hex.hpp"
#include "codec/keccak.hpp"

using namespace depositd::codec;

namespace {

Bytes unhex(std::string_view s) {
    auto r = from_hex(s);
    EXPECT_TRUE(r.ok()) << s;
    return r.ok() ? *r : Bytes{};
}

std::span<const std::uint8_t> str_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

TEST(CodecKeccak, EmptyAndShort) {
    EXPECT_EQ(to_hex(keccak256(std::string_view(""))),
              "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    // Must not be NIST SHA3-256("") = a7ffc6f8...
    EXPECT_NE(to_hex(keccak256(std::string_view(""))),
              "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
    EXPECT_EQ(to_hex(keccak256(unhex("cc"))), "eead6dbfc7340a56caedc044696a168870549a6a7f6f56961e84a54bd9970b8a");
    EXPECT_EQ(to_hex(keccak256(std::string_view("abc"))),
              "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
}

TEST(CodecKeccak, EventTopicsAndSelectors) {
    EXPECT_EQ(to_hex(keccak256(std::string_view("Transfer(address,address,uint256)"))),
              "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
    EXPECT_EQ(to_hex(keccak256(std::string_view("Approval(address,address,uint256)"))),
              "8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925");
    auto sel = keccak256(std::string_view("transfer(address,uint256)"));
    EXPECT_EQ(to_hex(std::span<const std::uint8_t>(sel.data(), 4)), "a9059cbb");
}

TEST(CodecKeccak, BlockBoundaries) {
    // KAT Len = 1080 (rate - 1 byte), 1088 (exactly one rate block: padding
    // takes a whole extra block) and 2000 (250 bytes: two absorptions).
    EXPECT_EQ(to_hex(keccak256(unhex(
                  "B771D5CEF5D1A41A93D15643D7181D2A2EF0A8E84D91812F20ED21F147BEF732BF3A60EF4067C3734B85BC8CD471780F10"
                  "DC9E8291B58339A677B960218F71E793F2797AEA349406512829065D37BB55EA796FA4F56FD8896B49B2CD19B43215AD96"
                  "7C712B24E5032D065232E02C127409D2ED4146B9D75D763D52DB98D949D3B0FED6A8052FBB"))),
              "bd6f5492582a7c1b116304de28314df9fffe95b0da11af52fe9440a717a34859");
    EXPECT_EQ(to_hex(keccak256(unhex(
                  "B32D95B0B9AAD2A8816DE6D06D1F86008505BD8C14124F6E9A163B5A2ADE55F835D0EC3880EF50700D3B25E42CC0AF050C"
                  "CD1BE5E555B23087E04D7BF9813622780C7313A1954F8740B6EE2D3F71F768DD417F520482BD3A08D4F222B4EE9DBD0154"
                  "47B33507DD50F3AB4247C5DE9A8ABD62A8DECEA01E3B87C8B927F5B08BEB37674C6F8E380C04"))),
              "e717a7769448abbe5fef8187954a88ac56ded1d22e63940ab80d029585a21921");
    Bytes m2000 = unhex(
        "B3C5E74B69933C2533106C563B4CA20238F2B6E675E8681E34A389894785BDADE59652D4A73D80A5C85BD454FD1E9FFDAD1C3815F5"
        "038E9EF432AAC5C3C4FE840CC370CF86580A6011778BBEDAF511A51B56D1A2EB68394AA299E26DA9ADA6A2F39B9FAFF7FBA457689B"
        "9C1A577B2A1E505FDF75C7A0A64B1DF81B3A356001BF0DF4E02A1FC59F651C9D585EC6224BB279C6BEBA2966E8882D68376081B987"
        "468E7AED1EF90EBD090AE825795CDCA1B4F09A979C8DFC21A48D8A53CDBB26C4DB547FC06EFE2F9850EDD2685A4661CB4911F165D4"
        "B63EF25B87D0A96D3DFF6AB0758999AAD214D07BD4F133A6734FDE445FE474711B69A98F7E2B");
    ASSERT_EQ(m2000.size(), 250u);
    EXPECT_EQ(to_hex(keccak256(m2000)), "c6d86cc4ccef3bb70bf7bfddec6a9a04a0dd0a68fe1bf51c14648cf506a03e98");
}

TEST(CodecKeccak, StringAndSpanAgree) {
    std::string s(1000, 'x');
    EXPECT_EQ(keccak256(std::string_view(s)), keccak256(str_bytes(s)));
}

TEST(CodecHash, Sha256) {
    EXPECT_EQ(to_hex(sha256(str_bytes(""))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(to_hex(sha256(str_bytes("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CodecHash, Ripemd160) {
    // From the RIPEMD-160 page of Dobbertin, Bosselaers and Preneel.
    EXPECT_EQ(to_hex(ripemd160(str_bytes(""))), "9c1185a5c5e9fc54612808977ee8f548b2258d31");
    EXPECT_EQ(to_hex(ripemd160(str_bytes("abc"))), "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc");
    EXPECT_EQ(to_hex(ripemd160(str_bytes("message digest"))), "5d0689ef49d2fae572b881b123a85ffa21595f36");
}

TEST(CodecHash, Hash160OfGeneratorPoint) {
    // HASH160 of the compressed key of private key 1 (address 1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH).
    Bytes g = unhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
    EXPECT_EQ(to_hex(hash160(g)), "751e76e8199196d454941c45d1b3a323f1433bd6");
}

TEST(CodecHash, HmacSha512Rfc4231) {
    // RFC 4231 test case 2.
    EXPECT_EQ(to_hex(hmac_sha512(str_bytes("Jefe"), str_bytes("what do ya want for nothing?"))),
              "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d"
              "4a6b4b636e070a38bce737");
}
