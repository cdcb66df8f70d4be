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

// Value of one hex digit (either case), or -1.
constexpr int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
// Removes one leading "0x"/"0X" if present.
constexpr std::string_view strip_0x(std::string_view text) noexcept {
    if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
    return text;
}

}  // namespace depositd::codec
