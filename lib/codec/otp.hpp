#pragma once
// One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238), and the base32
// (RFC 4648 §6) text authenticator apps use for their shared secrets.
//
// The codes are checked against RFC 4226 appendix D and RFC 6238 appendix B
// in tests/unit/codec_otp_test.cpp.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace depositd::codec {

enum class OtpHash { sha1, sha256, sha512 };

// Base32 of RFC 4648 (A-Z2-7). Decoding ignores case, spaces, '-' and
// trailing '=' padding (apps show "JBSW Y3DP ..."); nullopt on any other
// character or a length no encoder produces.
std::optional<std::vector<std::uint8_t>> base32_decode(std::string_view text);
std::string base32_encode(std::span<const std::uint8_t> bytes);  // no padding

// HOTP(K, C) with dynamic truncation, `digits` (6..9) decimal digits,
// zero-padded.
std::string hotp(std::span<const std::uint8_t> key, std::uint64_t counter, unsigned digits = 6,
                 OtpHash hash = OtpHash::sha1);
// The TOTP time step of a unix time: floor((t - t0) / step).
std::uint64_t totp_step(std::int64_t unix_seconds, std::int64_t step_seconds = 30, std::int64_t t0 = 0);
std::string totp(std::span<const std::uint8_t> key, std::int64_t unix_seconds, unsigned digits = 6,
                 OtpHash hash = OtpHash::sha1, std::int64_t step_seconds = 30);

// Checks `code` against the steps now-window .. now+window (RFC 6238 §5.2:
// one step either way covers clock drift and typing time). Returns the step
// that matched, so the caller can refuse a code whose step is not newer than
// the last one accepted (replay). Constant-time comparison of each code.
std::optional<std::uint64_t> totp_match(std::span<const std::uint8_t> key, std::string_view code,
                                        std::int64_t unix_seconds, unsigned window = 1, unsigned digits = 6,
                                        OtpHash hash = OtpHash::sha1, std::int64_t step_seconds = 30);

}  // namespace depositd::codec
