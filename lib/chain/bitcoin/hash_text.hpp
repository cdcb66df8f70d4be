#pragma once
// Internal to chain/bitcoin: block hashes and txids as nodes print them.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec/hex.hpp"

namespace depositd::chain::bitcoin::detail {

inline bool is_hash_text(std::string_view s) noexcept {
    std::array<std::uint8_t, 32> bytes;
    return s.size() == 64 && codec::from_hex_exact(s, bytes);  // ("0x" + 62 fails: the length after the prefix)
}

inline std::string lower(std::string_view s) {
    std::string r(s);
    for (auto& c : r)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return r;
}

}  // namespace depositd::chain::bitcoin::detail
