#include "api/cursor.hpp"

#include <charconv>
#include <span>
#include <vector>

#include "codec/hex.hpp"

namespace depositd::api {

namespace {

constexpr std::size_t kMaxCursorBytes = 256;

template <class T>
bool parse_number(std::string_view s, T& out) {
    if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

void fnv(std::uint32_t& h, std::string_view s) {
    for (unsigned char c : s) {
        h ^= c;
        h *= 16777619u;
    }
}

void fnv_field(std::uint32_t& h, const std::optional<std::string>& v) {
    if (v) {
        fnv(h, "=");
        fnv(h, *v);
    }
    fnv(h, std::string_view("\0", 1));
}

}  // namespace

std::uint32_t filters_fingerprint(const store::DepositFilter& f) {
    std::uint32_t h = 2166136261u;
    fnv_field(h, f.reference);
    fnv_field(h, f.status);
    fnv_field(h, f.chain_id);
    fnv_field(h, f.currency);
    fnv_field(h, f.address_id ? std::optional<std::string>(std::to_string(*f.address_id)) : std::nullopt);
    return h;
}

std::string encode_cursor(const ListCursor& c) {
    const std::string text = "1:" + std::to_string(c.page) + ":" + std::to_string(c.after.detected_at) + ":" +
                             std::to_string(c.after.seq) + ":" + std::to_string(c.filters);
    return codec::to_hex(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::optional<ListCursor> decode_cursor(std::string_view text) {
    if (text.empty() || text.size() > 2 * kMaxCursorBytes || text.size() % 2 != 0) return std::nullopt;
    if (text.starts_with("0x") || text.starts_with("0X")) return std::nullopt;
    auto bytes = codec::from_hex(text);
    if (!bytes) return std::nullopt;
    std::string_view s(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        const std::size_t colon = s.find(':', start);
        parts.push_back(s.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start));
        if (colon == std::string_view::npos) break;
        start = colon + 1;
    }
    if (parts.size() != 5 || parts[0] != "1") return std::nullopt;
    ListCursor c;
    if (!parse_number(parts[1], c.page) || c.page < 2) return std::nullopt;  // a cursor never leads to page 1
    if (!parse_number(parts[2], c.after.detected_at) || c.after.detected_at < 0) return std::nullopt;
    if (!parse_number(parts[3], c.after.seq) || c.after.seq < 1) return std::nullopt;
    if (!parse_number(parts[4], c.filters)) return std::nullopt;
    return c;
}

}  // namespace depositd::api
