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
