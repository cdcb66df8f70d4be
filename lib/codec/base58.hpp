#pragma once
// Base58 (Bitcoin alphabet) and Base58Check (payload || first 4 bytes of
// SHA256(SHA256(payload))), as used by Bitcoin, TRON, BIP32 and Solana.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "codec/hex.hpp"
#include "core/result.hpp"

namespace depositd::codec {

inline constexpr std::string_view kBase58Alphabet =
    "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
// Longest text base58_decode accepts (the work is quadratic in the length);
// the longest thing we decode is an 82-byte BIP32 key (111 chars).
inline constexpr std::size_t kBase58MaxText = 256;

std::string base58_encode(std::span<const std::uint8_t> bytes);
// Leading '1's become zero bytes. Errors: empty, too long, a character
// outside the alphabet (0, O, I, l, whitespace, ...).
Result<Bytes> base58_decode(std::string_view text);

std::string base58check_encode(std::span<const std::uint8_t> payload);
// Returns the payload (checksum removed). Errors: those of base58_decode,
// shorter than 4 bytes, "bad checksum".
Result<Bytes> base58check_decode(std::string_view text);

}  // namespace depositd::codec
