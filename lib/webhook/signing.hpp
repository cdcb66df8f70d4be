#pragma once
// Webhook signatures (SPEC §5).
//
// Standard Webhooks (https://www.standardwebhooks.com):
//   webhook-signature: v1,<base64(HMAC-SHA256(key, id + "." + timestamp + "." + body))>
// where key is the base64-decoded part of the secret after "whsec_". With
// several secrets (a key rotation) there is one signature per secret,
// separated by a space; a receiver accepts the request if any one matches.
//
// PayIn style, for receivers written for it:
//   x-payin-signature: hex(HMAC-SHA256(secret string as written, body))
// computed with the first configured secret only (a single value is what
// such receivers compare against).
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace depositd::webhook {

// Strict base64 (RFC 4648, with padding) used by the signatures.
std::string base64_encode(std::string_view bytes);
Result<std::string> base64_decode(std::string_view text);

// HMAC-SHA256, raw 32 bytes.
std::string hmac_sha256(std::string_view key, std::string_view message);

// HMAC-SHA256 (RFC 2104) under one key, keyed once: the SHA-256 states after
// the padded key's inner and outer blocks are kept, so a message costs its
// own hashing only (OpenSSL's one-shot HMAC() looks the algorithms up and
// hashes the key blocks again on every call). Copies share the states, which
// are only read after construction: usable from several threads.
class HmacSha256 {
public:
    explicit HmacSha256(std::string_view key);
    // The MAC of the parts' concatenation, raw 32 bytes.
    std::string mac(std::initializer_list<std::string_view> parts) const;

private:
    struct States;
    std::shared_ptr<const States> states_;
};

// "whsec_<base64>" (or bare base64) -> the raw HMAC key. Errors never
// contain the secret itself.
Result<std::string> decode_secret(std::string_view secret);

// One "v1,<base64>" signature with an already decoded key.
std::string sign_v1(std::string_view key, std::string_view id, std::int64_t timestamp, std::string_view body);

// hex(HMAC-SHA256(secret as written, body)), lower case.
std::string payin_signature(std::string_view secret, std::string_view body);

// The signing side: secrets decoded once, then cheap to use per request.
class Signer {
public:
    // Fails when the list is empty or a secret does not decode.
    static Result<Signer> create(const std::vector<std::string>& secrets);

    // Space-separated "v1,..." signatures, one per secret, in config order.
    std::string signature(std::string_view id, std::int64_t timestamp, std::string_view body) const;
    // x-payin-signature value (first secret).
    std::string payin(std::string_view body) const;
    std::size_t key_count() const { return keys_.size(); }

private:
    std::vector<HmacSha256> keys_;   // one per decoded secret
    std::optional<HmacSha256> payin_;  // the first secret, as written
};

// Receiver side, for tests and for anyone embedding depositd's code:
// constant-time check that one of the space-separated "v1,..." entries in
// `header` is the signature of (id, timestamp, body) under one of `secrets`.
bool verify(std::string_view header, const std::vector<std::string>& secrets, std::string_view id,
            std::int64_t timestamp, std::string_view body);
// Constant-time check of an x-payin-signature (hex, either case).
bool verify_payin(std::string_view header, std::string_view secret, std::string_view body);

}  // namespace depositd::webhook
