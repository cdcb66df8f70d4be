#include "codec/hex.hpp"

#include <array>

namespace depositd::codec {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

// hex_digit() as a table: no branch per character (block decoders run this
// over every output script; random hex digits defeat branch prediction).
constexpr std::array<std::int8_t, 256> make_table() {
    std::array<std::int8_t, 256> t{};
    for (int c = 0; c < 256; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(hex_digit(static_cast<char>(c)));
    return t;
}
constexpr auto kTable = make_table();

// Decodes exactly out.size() bytes from hex that has already been stripped
// of its prefix and whose length is 2 * out.size().
bool decode_into(std::string_view hex, std::uint8_t* out, std::size_t n) {
    int bad = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const int hi = kTable[static_cast<unsigned char>(hex[2 * i])];
        const int lo = kTable[static_cast<unsigned char>(hex[2 * i + 1])];
        bad |= hi | lo;
        out[i] = static_cast<std::uint8_t>(((hi & 0xf) << 4) | (lo & 0xf));
    }
    return bad >= 0;
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
