#include <gtest/gtest.h>

#include "codec/hex.hpp"

using namespace depositd::codec;

TEST(CodecHex, RoundTrip) {
    Bytes b{0x00, 0x01, 0xab, 0xff};
    EXPECT_EQ(to_hex(b), "0001abff");
    EXPECT_EQ(to_hex0x(b), "0x0001abff");
    EXPECT_EQ(to_hex({}), "");
    auto r = from_hex("0x0001ABff");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, b);
    auto r2 = from_hex("0X0001abff");
    ASSERT_TRUE(r2.ok());
    EXPECT_EQ(*r2, b);
}

TEST(CodecHex, EmptyIsEmpty) {
    ASSERT_TRUE(from_hex("").ok());
    EXPECT_TRUE(from_hex("").value().empty());
    ASSERT_TRUE(from_hex("0x").ok());
    EXPECT_TRUE(from_hex("0x").value().empty());
}

TEST(CodecHex, Garbage) {
    for (std::string_view bad : {"0", "0x1", "zz", "0xg0", "00 ", " 00", "0x0x00", "x0", "\xff\xff", "-1"})
        EXPECT_FALSE(from_hex(bad).ok()) << bad;
    std::string_view with_nul("0\0", 2);
    EXPECT_FALSE(from_hex(with_nul).ok());
}

TEST(CodecHex, Exact) {
    std::uint8_t out[2];
    EXPECT_TRUE(from_hex_exact("0xbeef", out));
    EXPECT_EQ(out[0], 0xbe);
    EXPECT_EQ(out[1], 0xef);
    EXPECT_TRUE(from_hex_exact("BEEF", out));
    EXPECT_FALSE(from_hex_exact("beefaa", out));
    EXPECT_FALSE(from_hex_exact("be", out));
    EXPECT_FALSE(from_hex_exact("bexf", out));
    EXPECT_FALSE(from_hex_exact("", out));
}

TEST(CodecHex, Helpers) {
    EXPECT_EQ(hex_digit('0'), 0);
    EXPECT_EQ(hex_digit('F'), 15);
    EXPECT_EQ(hex_digit('f'), 15);
    EXPECT_EQ(hex_digit('g'), -1);
    EXPECT_EQ(strip_0x("0xab"), "ab");
    EXPECT_EQ(strip_0x("ab"), "ab");
    EXPECT_EQ(strip_0x("0"), "0");
}
