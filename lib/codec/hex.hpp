#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace depositd::codec {

using Bytes = std::vector<std::uint8_t>;

// Lower-case hex, no prefix.
std::string to_hex(std::span<const std::uint8_t> bytes);
// "0x" + lower-case hex.
std::string to_hex0x(std::span<const std::uint8_t> bytes);
// Accepts an optional 0x/0X prefix, either case; odd length or non-hex is an error.
Result<Bytes> from_hex(std::string_view text);
// Into a fixed-size buffer; the length must match exactly.
bool from_hex_exact(std::string_view text, std::span<std::uint8_t> out);

}  // namespace depositd::codec
