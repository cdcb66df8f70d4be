#include "codec/bloom.hpp"

#include <bit>

#include "codec/hex.hpp"
#include "codec/keccak.hpp"

namespace depositd::codec {

BloomBits bloom_bits(std::span<const std::uint8_t> element) {
    const Hash256 h = keccak256(element);
    BloomBits b;
    for (std::size_t i = 0; i < 3; ++i) {
        // Bit index 0..2047 from byte pair i; bit 0 is the LAST bit of the
        // big-endian 256-byte array (geth types.bloomValues).
        const unsigned bit = ((static_cast<unsigned>(h[2 * i]) << 8) | h[2 * i + 1]) & 2047u;
        b.byte[i] = static_cast<std::uint16_t>(LogsBloom::kBytes - 1 - bit / 8);
        b.mask[i] = static_cast<std::uint8_t>(1u << (bit % 8));
    }
    return b;
}

Result<LogsBloom> LogsBloom::from_hex(std::string_view text) {
    if (text.size() != 2 + 2 * kBytes || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
        return make_error(Errc::malformed, "logsBloom is not 0x + 512 hex digits");
    LogsBloom b;
    if (!from_hex_exact(text.substr(2), b.bytes_)) return make_error(Errc::malformed, "logsBloom is not hex");
    return b;
}

std::size_t LogsBloom::bits_set() const noexcept {
    std::size_t n = 0;
    for (auto b : bytes_) n += static_cast<std::size_t>(std::popcount(b));
    return n;
}

}  // namespace depositd::codec
