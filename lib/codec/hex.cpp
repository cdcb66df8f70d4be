#include "codec/hex.hpp"

namespace depositd::codec {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

// Decodes exactly out.size() bytes from hex that has already been stripped
// of its prefix and whose length is 2 * out.size().
bool decode_into(std::string_view hex, std::uint8_t* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        int hi = hex_digit(hex[2 * i]);
        int lo = hex_digit(hex[2 * i + 1]);
        if ((hi | lo) < 0) return false;
        out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
    }
    return true;
}

}  // namespace

std::string to_hex(std::span<const std::uint8_t> bytes) {
    std::string out(bytes.size() * 2, '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        out[2 * i] = kDigits[bytes[i] >> 4];
        out[2 * i + 1] = kDigits[bytes[i] & 0x0f];
    }
    return out;
}

std::string to_hex0x(std::span<const std::uint8_t> bytes) { return "0x" + to_hex(bytes); }

Result<Bytes> from_hex(std::string_view text) {
    std::string_view hex = strip_0x(text);
    if (hex.size() % 2 != 0) return make_error(Errc::invalid_input, "hex: odd number of digits");
    Bytes out(hex.size() / 2);
    if (!decode_into(hex, out.data(), out.size())) return make_error(Errc::invalid_input, "hex: not a hex digit");
    return out;
}

bool from_hex_exact(std::string_view text, std::span<std::uint8_t> out) {
    std::string_view hex = strip_0x(text);
    if (hex.size() != out.size() * 2) return false;
    return decode_into(hex, out.data(), out.size());
}

}  // namespace depositd::codec
