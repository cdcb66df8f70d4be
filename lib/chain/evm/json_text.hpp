#pragma once
// Internal to chain/evm: the small text helpers its decoders share (hex
// digits, "0x" hashes and addresses, required JSON fields).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "chain/evm/decode.hpp"
#include "core/json.hpp"
#include "core/result.hpp"

namespace depositd::chain::evm::detail {

constexpr std::array<std::int8_t, 256> make_hex_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& x : t) x = -1;
    for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - '0');
    for (int c = 'a'; c <= 'f'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'a' + 10);
    for (int c = 'A'; c <= 'F'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'A' + 10);
    return t;
}
inline constexpr auto kHex = make_hex_table();

inline int hexval(char c) noexcept { return kHex[static_cast<unsigned char>(c)]; }

// 2*n hex digits at s -> n bytes. False on any non-hex digit.
inline bool decode_hex(const char* s, std::size_t n, std::uint8_t* out) noexcept {
    int bad = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const int hi = hexval(s[2 * i]);
        const int lo = hexval(s[2 * i + 1]);
        bad |= hi | lo;
        out[i] = static_cast<std::uint8_t>(((hi & 0xf) << 4) | (lo & 0xf));
    }
    return bad >= 0;
}

inline bool has_0x(std::string_view s) noexcept { return s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'); }

// "0x" + 40 hex.
inline bool parse_address_text(std::string_view s, Address20& out) noexcept {
    return s.size() == 42 && has_0x(s) && decode_hex(s.data() + 2, 20, out.data());
}

inline bool iequal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

inline bool same_hash(std::string_view a, std::string_view b) noexcept { return a == b || iequal(a, b); }

inline bool is_hash_text(std::string_view s) noexcept {
    if (s.size() != 66 || !has_0x(s)) return false;
    for (std::size_t i = 2; i < s.size(); ++i)
        if (hexval(s[i]) < 0) return false;
    return true;
}

inline std::string lower(std::string_view s) {
    std::string r(s);
    for (auto& c : r)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return r;
}

inline std::string_view key_view(const Address20& a) { return {reinterpret_cast<const char*>(a.data()), a.size()}; }

inline Result<std::string_view> str_field(const json::object& o, std::string_view key, std::string_view what) {
    auto it = o.find(key);
    if (it == o.end()) return make_error(Errc::malformed, std::string(what) + ": missing field '" + std::string(key) + "'");
    if (!it->value().is_string())
        return make_error(Errc::malformed, std::string(what) + ": '" + std::string(key) + "' is " +
                                               (it->value().is_null() ? "null" : "not a string"));
    const auto& s = it->value().get_string();
    return std::string_view(s.data(), s.size());
}

inline Result<std::string> hash_field(const json::object& o, std::string_view key, std::string_view what) {
    auto s = str_field(o, key, what);
    if (!s) return s.error();
    if (!is_hash_text(*s))
        return make_error(Errc::malformed, std::string(what) + ": '" + std::string(key) + "' is not a 32-byte hash");
    return lower(*s);
}

}  // namespace depositd::chain::evm::detail
