// quote_untrusted: node text made safe for errors and logs; percent_encode.
#include <gtest/gtest.h>

#include "core/text.hpp"

using depositd::percent_encode;
using depositd::quote_untrusted;

TEST(CoreText, PlainTextIsKept) {
    EXPECT_EQ(quote_untrusted("execution reverted: not enough gas"), "execution reverted: not enough gas");
    EXPECT_EQ(quote_untrusted(""), "");
    EXPECT_EQ(quote_untrusted("blöck ✓ 日本"), "blöck ✓ 日本");  // printable UTF-8 stays readable
}

TEST(CoreText, LineBreaksAndControlsBecomeVisibleEscapes) {
    EXPECT_EQ(quote_untrusted("a\nb\r\nc\td"), "a\\nb\\r\\nc\\td");
    EXPECT_EQ(quote_untrusted(std::string("x\0y", 3)), "x\\x00y");
    EXPECT_EQ(quote_untrusted("\x7f"), "\\x7f");
    EXPECT_EQ(quote_untrusted("a\\nb"), "a\\\\nb");  // a literal backslash cannot fake an escape
}

TEST(CoreText, AnsiEscapesAreNeutralised) {
    const std::string out = quote_untrusted("\x1b[31mRED\x1b[0m \x1b]0;title\x07");
    EXPECT_EQ(out, "\\x1b[31mRED\\x1b[0m \\x1b]0;title\\x07");
    EXPECT_EQ(out.find('\x1b'), std::string::npos);
    // The 8-bit CSI (U+009B, C1) and bidi overrides too.
    EXPECT_EQ(quote_untrusted("\xc2\x9b" "2J"), "\\u{009b}2J");
    EXPECT_EQ(quote_untrusted("abc\xe2\x80\xae" "fed"), "abc\\u{202e}fed");
}

TEST(CoreText, InvalidUtf8BytesAreEscaped) {
    EXPECT_EQ(quote_untrusted("ok\xff\xfe"), "ok\\xff\\xfe");
    EXPECT_EQ(quote_untrusted("\xc3"), "\\xc3");                 // truncated sequence
    EXPECT_EQ(quote_untrusted("\xc0\xaf"), "\\xc0\\xaf");        // overlong '/'
    EXPECT_EQ(quote_untrusted("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
}

TEST(CoreText, LongTextIsCappedWithTheRemainderCounted) {
    const std::string big(1 << 20, 'a');
    const std::string out = quote_untrusted(big);
    EXPECT_EQ(out, std::string(200, 'a') + "...(+" + std::to_string((1 << 20) - 200) + " bytes)");
    EXPECT_EQ(quote_untrusted("abcdef", 3), "abc...(+3 bytes)");
    EXPECT_EQ(quote_untrusted("abc", 3), "abc");
    // The cap counts characters, not bytes, and never cuts a character in two.
    EXPECT_EQ(quote_untrusted("ééé", 2), "éé...(+2 bytes)");
    // Escapes count as one character each; a megabyte of newlines stays small.
    EXPECT_LE(quote_untrusted(std::string(1 << 20, '\n')).size(), 2 * 200 + 32);
}

// RFC 3986 §2.3: only unreserved characters stay as they are.
TEST(CoreText, PercentEncodeKeepsOnlyUnreserved) {
    EXPECT_EQ(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
    EXPECT_EQ(percent_encode("a b/c?d=e&f#g%"), "a%20b%2Fc%3Fd%3De%26f%23g%25");
    EXPECT_EQ(percent_encode("中"), "%E4%B8%AD");
    EXPECT_EQ(percent_encode(std::string_view("\0\n", 2)), "%00%0A");
    EXPECT_EQ(percent_encode(""), "");
}
