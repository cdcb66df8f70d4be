// Webhook signatures: the Standard Webhooks spec vector, key rotation, the
// PayIn-style hex signature, and constant-time verification.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <vector>

#include "webhook/signing.hpp"

using namespace depositd::webhook;

namespace {
const std::string kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const std::string kId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const std::int64_t kTs = 1614265330;
const std::string kBody = R"({"test": 2432232314})";
const std::string kExpected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
}  // namespace

TEST(WebhookSigning, StandardWebhooksSpecVector) {
    auto key = decode_secret(kSecret);
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(sign_v1(*key, kId, kTs, kBody), kExpected);

    auto signer = Signer::create({kSecret});
    ASSERT_TRUE(signer.ok());
    EXPECT_EQ(signer->signature(kId, kTs, kBody), kExpected);
    EXPECT_TRUE(verify(kExpected, {kSecret}, kId, kTs, kBody));
}

TEST(WebhookSigning, SecretWithoutPrefixIsTheSameKey) {
    auto a = decode_secret(kSecret);
    auto b = decode_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(*a, *b);
}

TEST(WebhookSigning, BadSecretsAreErrorsWithoutTheSecret) {
    for (std::string bad : {"whsec_", "whsec_not base64!!", "whsec_A", ""}) {
        auto r = decode_secret(bad);
        ASSERT_FALSE(r.ok()) << bad;
        if (bad.size() > 6) {
            EXPECT_EQ(r.error().message.find(bad.substr(6)), std::string::npos);
        }
    }
    EXPECT_FALSE(Signer::create({}).ok());
    EXPECT_FALSE(Signer::create({kSecret, "whsec_%%%"}).ok());
}

TEST(WebhookSigning, RotationGivesOneSignaturePerSecret) {
    const std::string second = "whsec_" + base64_encode("another key of 24 bytes!");
    auto signer = Signer::create({kSecret, second});
    ASSERT_TRUE(signer.ok());
    EXPECT_EQ(signer->key_count(), 2u);
    std::string header = signer->signature(kId, kTs, kBody);
    auto space = header.find(' ');
    ASSERT_NE(space, std::string::npos);
    EXPECT_EQ(header.substr(0, space), kExpected);
    EXPECT_EQ(header.substr(space + 1), sign_v1(*decode_secret(second), kId, kTs, kBody));
    // A receiver that knows only one of the two secrets accepts it.
    EXPECT_TRUE(verify(header, {kSecret}, kId, kTs, kBody));
    EXPECT_TRUE(verify(header, {second}, kId, kTs, kBody));
    EXPECT_FALSE(verify(header, {"whsec_" + base64_encode("a third, unrelated key")}, kId, kTs, kBody));
}

TEST(WebhookSigning, VerifyRejectsTampering) {
    EXPECT_FALSE(verify(kExpected, {kSecret}, kId, kTs + 1, kBody));
    EXPECT_FALSE(verify(kExpected, {kSecret}, "msg_other", kTs, kBody));
    EXPECT_FALSE(verify(kExpected, {kSecret}, kId, kTs, R"({"test":2432232314})"));  // not the raw body
    EXPECT_FALSE(verify("", {kSecret}, kId, kTs, kBody));
    EXPECT_FALSE(verify("v1,", {kSecret}, kId, kTs, kBody));
    EXPECT_FALSE(verify(kExpected.substr(0, kExpected.size() - 1), {kSecret}, kId, kTs, kBody));
    EXPECT_TRUE(verify("v1,bogus " + kExpected, {kSecret}, kId, kTs, kBody));
}

TEST(WebhookSigning, PayinIsHexHmacOfTheSecretAsWritten) {
    // Computed independently: EVP_Q_mac (OpenSSL 3) with the whole secret string as key.
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t md_len = 0;
    ASSERT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, kSecret.data(), kSecret.size(),
                        reinterpret_cast<const unsigned char*>(kBody.data()), kBody.size(), md, sizeof md, &md_len),
              nullptr);
    std::string hex;
    char buf[3];
    for (size_t i = 0; i < md_len; ++i) {
        std::snprintf(buf, sizeof buf, "%02x", md[i]);
        hex += buf;
    }
    EXPECT_EQ(payin_signature(kSecret, kBody), hex);
    EXPECT_EQ(hex.size(), 64u);
    auto signer = Signer::create({kSecret, "whsec_" + base64_encode("second")});
    ASSERT_TRUE(signer.ok());
    EXPECT_EQ(signer->payin(kBody), hex);  // first secret only
    EXPECT_TRUE(verify_payin(hex, kSecret, kBody));
    std::string upper = hex;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_TRUE(verify_payin(upper, kSecret, kBody));
    EXPECT_FALSE(verify_payin(hex, kSecret, kBody + " "));
    EXPECT_FALSE(verify_payin(hex.substr(1), kSecret, kBody));
}

namespace {
std::string hex_of(const std::string& raw) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : raw) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 0xf]);
    }
    return out;
}
}  // namespace

// RFC 4231's HMAC-SHA256 test cases (5, a truncated MAC, aside): short keys,
// a key of 131 bytes (hashed first), data longer than a block.
TEST(WebhookSigning, HmacSha256Rfc4231Vectors) {
    std::string key4;
    for (int i = 1; i <= 25; ++i) key4.push_back(static_cast<char>(i));
    const std::string big_key(131, '\xaa');
    struct Case {
        std::string key, data, mac;
    };
    const std::vector<Case> cases = {
        {std::string(20, '\x0b'), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {std::string(20, '\xaa'), std::string(50, '\xdd'),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {key4, std::string(50, '\xcd'), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {big_key, "Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {big_key,
         "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be "
         "hashed before being used by the HMAC algorithm.",
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.mac);
        const HmacSha256 key(c.key);
        EXPECT_EQ(hex_of(key.mac({c.data})), c.mac);
        EXPECT_EQ(hex_of(key.mac({c.data})), c.mac) << "a second message under the same key";
        EXPECT_EQ(hex_of(hmac_sha256(c.key, c.data)), c.mac);
        // In parts, as the signature hashes id, timestamp and body.
        const auto half = c.data.size() / 2;
        EXPECT_EQ(hex_of(key.mac({std::string_view(c.data).substr(0, half), "", std::string_view(c.data).substr(half)})),
                  c.mac);
    }
    // Keys at the block size's edges, against OpenSSL's one-shot HMAC().
    for (std::size_t n : {0u, 1u, 63u, 64u, 65u, 200u}) {
        const std::string k(n, '\x5a');
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int md_len = 0;
        HMAC(EVP_sha256(), k.data(), static_cast<int>(k.size()), reinterpret_cast<const unsigned char*>(kBody.data()),
             kBody.size(), md, &md_len);
        EXPECT_EQ(HmacSha256(k).mac({kBody}), std::string(reinterpret_cast<const char*>(md), md_len)) << n;
    }
}

TEST(WebhookSigning, Base64RoundTrip) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
    for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\x10", 3)}) {
        auto d = base64_decode(base64_encode(s));
        ASSERT_TRUE(d.ok());
        EXPECT_EQ(*d, s);
    }
    EXPECT_FALSE(base64_decode("Zm9v!").ok());
    EXPECT_FALSE(base64_decode("Z").ok());
    EXPECT_TRUE(base64_decode("Zm8").ok());  // padding optional
}
