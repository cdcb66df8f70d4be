#include "codec/hash.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>
#include <cstring>

namespace depositd::codec {
namespace {

// OpenSSL only fails here on allocation failure or a missing algorithm, both
// of which are fatal environment problems, not bad input.
[[noreturn]] void digest_failed() { std::abort(); }

template <std::size_t N>
std::array<std::uint8_t, N> evp_digest(const EVP_MD* md, std::span<const std::uint8_t> data) {
    std::array<std::uint8_t, N> out{};
    unsigned len = 0;
    if (md == nullptr || EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1 || len != N)
        digest_failed();
    return out;
}

}  // namespace

Digest32 sha256(std::span<const std::uint8_t> data) { return evp_digest<32>(EVP_sha256(), data); }

Digest32 double_sha256(std::span<const std::uint8_t> data) {
    Digest32 first = sha256(data);
    return sha256(first);
}

Digest20 ripemd160(std::span<const std::uint8_t> data) {
    // In OpenSSL >= 3.0.7 RIPEMD160 is in the default provider again.
    static const EVP_MD* md = EVP_MD_fetch(nullptr, "RIPEMD160", nullptr);
    return evp_digest<20>(md, data);
}

Digest20 hash160(std::span<const std::uint8_t> data) {
    Digest32 s = sha256(data);
    return ripemd160(s);
}

Digest64 hmac_sha512(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
    Digest64 out{};
    unsigned len = 0;
    static const std::uint8_t empty = 0;
    if (HMAC(EVP_sha512(), key.empty() ? &empty : key.data(), static_cast<int>(key.size()),
             data.empty() ? &empty : data.data(), data.size(), out.data(), &len) == nullptr ||
        len != 64)
        digest_failed();
    return out;
}

Digest32 tagged_hash(std::span<const std::uint8_t> tag, std::span<const std::uint8_t> msg) {
    Digest32 t = sha256(tag);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    Digest32 out{};
    unsigned len = 0;
    if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx, t.data(), t.size()) != 1 || EVP_DigestUpdate(ctx, t.data(), t.size()) != 1 ||
        EVP_DigestUpdate(ctx, msg.data(), msg.size()) != 1 || EVP_DigestFinal_ex(ctx, out.data(), &len) != 1)
        digest_failed();
    EVP_MD_CTX_free(ctx);
    return out;
}

}  // namespace depositd::codec
