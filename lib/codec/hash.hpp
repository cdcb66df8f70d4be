#pragma once
// Fixed-size hashes used by the address codecs (OpenSSL EVP underneath).
#include <array>
#include <cstdint>
#include <span>

namespace depositd::codec {

using Digest32 = std::array<std::uint8_t, 32>;
using Digest20 = std::array<std::uint8_t, 20>;
using Digest64 = std::array<std::uint8_t, 64>;

Digest32 sha256(std::span<const std::uint8_t> data);
Digest32 double_sha256(std::span<const std::uint8_t> data);  // SHA256(SHA256(x)), base58check
Digest20 ripemd160(std::span<const std::uint8_t> data);
Digest20 hash160(std::span<const std::uint8_t> data);         // RIPEMD160(SHA256(x))
Digest64 hmac_sha512(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data);
// BIP340 tagged hash: SHA256(SHA256(tag) || SHA256(tag) || msg).
Digest32 tagged_hash(std::span<const std::uint8_t> tag, std::span<const std::uint8_t> msg);

}  // namespace depositd::codec
