#pragma once
// Bech32 (BIP173) and Bech32m (BIP350), and segwit addresses with the BIP350
// rules: witness v0 uses bech32, v1..v16 use bech32m.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "codec/hex.hpp"
#include "core/result.hpp"

namespace depositd::codec {

enum class Bech32Encoding { bech32, bech32m };

struct Bech32Decoded {
    Bech32Encoding encoding;
    std::string hrp;  // lower case
    Bytes data;       // 5-bit values, checksum removed
};

inline constexpr std::size_t kBech32MaxLength = 90;

// Checks length (<= 90), characters (33..126), case (not mixed), separator,
// checksum (either constant). The HRP comes back in lower case.
Result<Bech32Decoded> bech32_decode(std::string_view text);
// `data` holds 5-bit values; the result is lower case. Error if a value is
// >= 32, the HRP is empty or has characters outside 33..126, or the result
// would exceed 90 characters.
Result<std::string> bech32_encode(Bech32Encoding encoding, std::string_view hrp, std::span<const std::uint8_t> data);

struct SegwitProgram {
    int version = 0;  // 0..16
    Bytes program;    // 2..40 bytes (20 or 32 for v0)
};

// Decodes and validates a segwit address for an expected HRP (lower case).
Result<SegwitProgram> segwit_decode(std::string_view hrp, std::string_view address);
// Encodes; errors on version > 16, bad program length, v0 length not 20/32.
Result<std::string> segwit_encode(std::string_view hrp, int version, std::span<const std::uint8_t> program);

// Regroups bits (8 -> 5 with padding, 5 -> 8 without): BIP173 convertbits.
// Without padding, leftover bits must be fewer than `from` and all zero.
Result<Bytes> convert_bits(std::span<const std::uint8_t> in, int from, int to, bool pad);

}  // namespace depositd::codec
