#include "codec/base58.hpp"

#include <array>
#include <cstring>

#include "codec/hash.hpp"

namespace depositd::codec {
namespace {

constexpr std::array<std::int8_t, 128> make_map() {
    std::array<std::int8_t, 128> m{};
    for (auto& v : m) v = -1;
    for (std::size_t i = 0; i < kBase58Alphabet.size(); ++i)
        m[static_cast<unsigned char>(kBase58Alphabet[i])] = static_cast<std::int8_t>(i);
    return m;
}
constexpr auto kMap = make_map();

}  // namespace

std::string base58_encode(std::span<const std::uint8_t> bytes) {
    std::size_t zeros = 0;
    while (zeros < bytes.size() && bytes[zeros] == 0) ++zeros;
    // log(256)/log(58) ~ 1.366
    std::size_t size = (bytes.size() - zeros) * 138 / 100 + 1;
    std::string digits(size, '\0');  // base-58 digits, big endian, in the tail
    std::size_t used = 0;            // number of significant digits at the end
    for (std::size_t i = zeros; i < bytes.size(); ++i) {
        unsigned carry = bytes[i];
        std::size_t j = 0;
        for (auto it = digits.rbegin(); (carry != 0 || j < used) && it != digits.rend(); ++it, ++j) {
            carry += 256u * static_cast<unsigned char>(*it);
            *it = static_cast<char>(carry % 58);
            carry /= 58;
        }
        used = j;
    }
    std::string out;
    out.reserve(zeros + used);
    out.append(zeros, '1');
    for (std::size_t i = size - used; i < size; ++i) out.push_back(kBase58Alphabet[static_cast<unsigned char>(digits[i])]);
    return out;
}

Result<Bytes> base58_decode(std::string_view text) {
    if (text.empty()) return make_error(Errc::invalid_input, "base58: empty");
    if (text.size() > kBase58MaxText) return make_error(Errc::invalid_input, "base58: too long");
    std::size_t ones = 0;
    while (ones < text.size() && text[ones] == '1') ++ones;
    // log(58)/log(256) ~ 0.733
    std::size_t size = (text.size() - ones) * 733 / 1000 + 1;
    Bytes buf(size, 0);
    std::size_t used = 0;
    for (std::size_t i = ones; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        int v = c < 128 ? kMap[c] : -1;
        if (v < 0) return make_error(Errc::invalid_input, "base58: invalid character");
        unsigned carry = static_cast<unsigned>(v);
        std::size_t j = 0;
        for (auto it = buf.rbegin(); (carry != 0 || j < used) && it != buf.rend(); ++it, ++j) {
            carry += 58u * *it;
            *it = static_cast<std::uint8_t>(carry & 0xff);
            carry >>= 8;
        }
        used = j;
    }
    Bytes out(ones, 0);
    out.insert(out.end(), buf.end() - static_cast<std::ptrdiff_t>(used), buf.end());
    return out;
}

std::string base58check_encode(std::span<const std::uint8_t> payload) {
    Bytes buf(payload.begin(), payload.end());
    Digest32 h = double_sha256(payload);
    buf.insert(buf.end(), h.begin(), h.begin() + 4);
    return base58_encode(buf);
}

Result<Bytes> base58check_decode(std::string_view text) {
    auto raw = base58_decode(text);
    if (!raw) return raw.error();
    Bytes& b = *raw;
    if (b.size() < 4) return make_error(Errc::invalid_input, "base58check: too short");
    std::span<const std::uint8_t> payload(b.data(), b.size() - 4);
    Digest32 h = double_sha256(payload);
    if (std::memcmp(h.data(), b.data() + payload.size(), 4) != 0)
        return make_error(Errc::invalid_input, "base58check: bad checksum");
    b.resize(b.size() - 4);
    return std::move(*raw);
}

}  // namespace depositd::codec
