#include "core/text.hpp"

#include <algorithm>
#include <cstdint>

namespace depositd {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void hex_byte(std::string& out, unsigned char c) {
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
}

// Length of the UTF-8 sequence at text[i] and its code point; 0 if invalid
// (bad lead byte, truncated, overlong, surrogate or above U+10FFFF).
std::size_t utf8_at(std::string_view text, std::size_t i, std::uint32_t& cp) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    std::size_t len;
    std::uint32_t min;
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    } else if ((b0 & 0xe0) == 0xc0) {
        len = 2, cp = b0 & 0x1f, min = 0x80;
    } else if ((b0 & 0xf0) == 0xe0) {
        len = 3, cp = b0 & 0x0f, min = 0x800;
    } else if ((b0 & 0xf8) == 0xf0) {
        len = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (i + len > text.size()) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(text[i + k]);
        if ((b & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

// Characters that reorder or hide text on a terminal or in a log viewer.
bool is_format_char(std::uint32_t cp) {
    return (cp >= 0x80 && cp <= 0x9f) ||                       // C1 controls (CSI = U+009B)
           (cp >= 0x200b && cp <= 0x200f) ||                   // zero-width, LRM/RLM
           (cp >= 0x2028 && cp <= 0x202e) ||                   // line/paragraph separators, bidi embeddings
           (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff;     // word joiner, bidi isolates, BOM
}

}  // namespace

std::string quote_untrusted(std::string_view text, std::size_t max_chars) {
    std::string out;
    out.reserve(std::min(text.size(), max_chars) + 16);
    std::size_t chars = 0, i = 0;
    for (; i < text.size() && chars < max_chars; ++chars) {
        const auto c = static_cast<unsigned char>(text[i]);
        switch (c) {
            case '\n': out += "\\n", ++i; continue;
            case '\r': out += "\\r", ++i; continue;
            case '\t': out += "\\t", ++i; continue;
            case '\\': out += "\\\\", ++i; continue;
            default: break;
        }
        if (c < 0x20 || c == 0x7f) {
            hex_byte(out, c);
            ++i;
            continue;
        }
        std::uint32_t cp = 0;
        const std::size_t len = utf8_at(text, i, cp);
        if (len == 0) {
            hex_byte(out, c);
            ++i;
        } else if (is_format_char(cp)) {
            out += "\\u{";
            char buf[8];
            int n = 0;
            for (int shift = 20; shift >= 0; shift -= 4) {
                const unsigned d = (cp >> shift) & 0xf;
                if (d != 0 || n > 0 || shift <= 12) buf[n++] = kHex[d];
            }
            out.append(buf, static_cast<std::size_t>(n));
            out += "}";
            i += len;
        } else {
            out.append(text.substr(i, len));
            i += len;
        }
    }
    if (i < text.size()) out += "...(+" + std::to_string(text.size() - i) + " bytes)";
    return out;
}

std::string percent_encode(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

}  // namespace depositd
