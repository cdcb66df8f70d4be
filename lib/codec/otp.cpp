#include "codec/otp.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

namespace depositd::codec {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

const EVP_MD* md_of(OtpHash h) {
    switch (h) {
        case OtpHash::sha1: return EVP_sha1();
        case OtpHash::sha256: return EVP_sha256();
        case OtpHash::sha512: return EVP_sha512();
    }
    return EVP_sha1();
}

}  // namespace

std::optional<std::vector<std::uint8_t>> base32_decode(std::string_view text) {
    std::vector<std::uint8_t> out;
    std::uint32_t buffer = 0;
    int bits = 0;
    std::size_t symbols = 0;
    bool padding = false;
    for (char c : text) {
        if (c == ' ' || c == '-') continue;
        if (c == '=') {
            padding = true;
            continue;
        }
        if (padding) return std::nullopt;  // data after padding
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        const auto v = kAlphabet.find(c);
        if (v == std::string_view::npos) return std::nullopt;
        buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
        bits += 5;
        ++symbols;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>((buffer >> bits) & 0xff));
        }
    }
    // A final group of 1, 3 or 6 symbols is never produced by an encoder;
    // leftover bits must be zero.
    const std::size_t tail = symbols % 8;
    if (tail == 1 || tail == 3 || tail == 6) return std::nullopt;
    if (bits > 0 && (buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

std::string base32_encode(std::span<const std::uint8_t> bytes) {
    std::string out;
    std::uint32_t buffer = 0;
    int bits = 0;
    for (auto b : bytes) {
        buffer = (buffer << 8) | b;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out.push_back(kAlphabet[(buffer >> bits) & 0x1f]);
        }
    }
    if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 0x1f]);
    return out;
}

std::string hotp(std::span<const std::uint8_t> key, std::uint64_t counter, unsigned digits, OtpHash hash) {
    if (digits < 6) digits = 6;
    if (digits > 9) digits = 9;
    std::array<std::uint8_t, 8> msg{};
    for (int i = 7; i >= 0; --i) {
        msg[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(counter & 0xff);
        counter >>= 8;
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int len = 0;
    HMAC(md_of(hash), key.data(), static_cast<int>(key.size()), msg.data(), msg.size(), mac.data(), &len);
    // Dynamic truncation (RFC 4226 §5.3).
    const unsigned offset = mac[len - 1] & 0x0f;
    const std::uint32_t bin = (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
                              (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                              (static_cast<std::uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
    std::uint32_t mod = 1;
    for (unsigned i = 0; i < digits; ++i) mod *= 10;
    std::string s = std::to_string(bin % mod);
    if (s.size() < digits) s.insert(0, digits - s.size(), '0');
    return s;
}

std::uint64_t totp_step(std::int64_t unix_seconds, std::int64_t step_seconds, std::int64_t t0) {
    if (step_seconds <= 0) step_seconds = 30;
    const std::int64_t t = unix_seconds - t0;
    if (t < 0) return 0;
    return static_cast<std::uint64_t>(t / step_seconds);
}

std::string totp(std::span<const std::uint8_t> key, std::int64_t unix_seconds, unsigned digits, OtpHash hash,
                 std::int64_t step_seconds) {
    return hotp(key, totp_step(unix_seconds, step_seconds), digits, hash);
}

std::optional<std::uint64_t> totp_match(std::span<const std::uint8_t> key, std::string_view code,
                                        std::int64_t unix_seconds, unsigned window, unsigned digits, OtpHash hash,
                                        std::int64_t step_seconds) {
    if (code.size() != digits) return std::nullopt;
    for (char c : code)
        if (c < '0' || c > '9') return std::nullopt;
    const std::uint64_t now = totp_step(unix_seconds, step_seconds);
    std::optional<std::uint64_t> found;
    // Every candidate is computed and compared: the time taken does not say which step matched.
    for (std::int64_t d = -static_cast<std::int64_t>(window); d <= static_cast<std::int64_t>(window); ++d) {
        if (d < 0 && now < static_cast<std::uint64_t>(-d)) continue;
        const std::uint64_t step = now + static_cast<std::uint64_t>(d);
        const std::string expected = hotp(key, step, digits, hash);
        if (CRYPTO_memcmp(expected.data(), code.data(), digits) == 0 && !found) found = step;
    }
    return found;
}

}  // namespace depositd::codec
