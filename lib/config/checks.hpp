#pragma once
// Shallow value checks the sections share (internal to lib/config).
#include <algorithm>
#include <string>
#include <string_view>

namespace depositd::config {

inline std::string lower(std::string s) {
    for (auto& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

inline bool is_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
}

inline bool is_base58(std::string_view s) {
    static constexpr std::string_view alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    return std::all_of(s.begin(), s.end(), [](char c) { return alphabet.find(c) != std::string_view::npos; });
}

// http:// or https://, a host, no spaces or control characters.
inline bool is_http_url(std::string_view url) {
    std::string_view rest;
    if (url.substr(0, 7) == "http://") rest = url.substr(7);
    else if (url.substr(0, 8) == "https://") rest = url.substr(8);
    else return false;
    if (rest.empty() || rest.front() == '/' || rest.front() == ':' || rest.front() == '?') return false;
    return std::none_of(url.begin(), url.end(),
                        [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

// No spaces or control characters (keys and tokens).
inline bool has_space_or_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

}  // namespace depositd::config
