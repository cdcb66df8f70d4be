#pragma once
// Keccak-256 as Ethereum uses it (original padding 0x01, not NIST SHA3-256).
#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace depositd::codec {

using Hash256 = std::array<std::uint8_t, 32>;

Hash256 keccak256(std::span<const std::uint8_t> data);
Hash256 keccak256(std::string_view text);

}  // namespace depositd::codec
