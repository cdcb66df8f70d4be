#include "core/netaddr.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace depositd::netaddr {
namespace {

constexpr std::array<std::uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

Ip from_v4(const std::uint8_t* b) {
    Ip ip;
    std::copy(kMappedPrefix.begin(), kMappedPrefix.end(), ip.bytes.begin());
    std::copy(b, b + 4, ip.bytes.begin() + 12);
    return ip;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Drops [brackets] and an IPv6 zone ("%eth0").
std::string bare(std::string_view text) {
    text = trim(text);
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    if (auto pct = text.find('%'); pct != std::string_view::npos && text.find(':') != std::string_view::npos)
        text = text.substr(0, pct);
    return std::string(text);
}

bool in_v4(const std::uint8_t* a, std::uint8_t b0, std::uint8_t b1, std::uint8_t b2, std::uint8_t b3, unsigned bits) {
    const std::uint32_t x = (std::uint32_t(a[0]) << 24) | (std::uint32_t(a[1]) << 16) | (std::uint32_t(a[2]) << 8) | a[3];
    const std::uint32_t n = (std::uint32_t(b0) << 24) | (std::uint32_t(b1) << 16) | (std::uint32_t(b2) << 8) | b3;
    const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t(0) << (32 - bits);
    return (x & mask) == (n & mask);
}

std::optional<std::string> v4_reason(const std::uint8_t* a) {
    if (a[0] == 169 && a[1] == 254 && a[2] == 169 && a[3] == 254) return "cloud metadata";
    if (in_v4(a, 0, 0, 0, 0, 8)) return "unspecified (0.0.0.0/8)";
    if (in_v4(a, 127, 0, 0, 0, 8)) return "loopback";
    if (in_v4(a, 10, 0, 0, 0, 8) || in_v4(a, 172, 16, 0, 0, 12) || in_v4(a, 192, 168, 0, 0, 16)) return "private";
    if (in_v4(a, 100, 64, 0, 0, 10)) return "shared address space (100.64.0.0/10)";
    if (in_v4(a, 169, 254, 0, 0, 16)) return "link-local";
    if (in_v4(a, 192, 0, 0, 0, 24)) return "reserved (192.0.0.0/24)";
    if (in_v4(a, 192, 0, 2, 0, 24) || in_v4(a, 198, 51, 100, 0, 24) || in_v4(a, 203, 0, 113, 0, 24))
        return "documentation";
    if (in_v4(a, 198, 18, 0, 0, 15)) return "benchmarking (198.18.0.0/15)";
    if (in_v4(a, 224, 0, 0, 0, 4)) return "multicast";
    if (in_v4(a, 240, 0, 0, 0, 4)) return "reserved (240.0.0.0/4)";
    return std::nullopt;
}

bool prefix_is(const Ip& ip, std::initializer_list<std::uint8_t> bytes, unsigned bits) {
    Cidr c;
    std::copy(bytes.begin(), bytes.end(), c.base.bytes.begin());
    c.bits = bits;
    return c.contains(ip);
}

}  // namespace

bool Ip::is_v4() const { return std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), bytes.begin()); }

std::string Ip::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (is_v4()) inet_ntop(AF_INET, bytes.data() + 12, buf, sizeof buf);
    else inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

std::optional<Ip> parse_ip(std::string_view text) {
    const std::string s = bare(text);
    if (s.empty() || s.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    std::uint8_t buf[16];
    if (s.find(':') == std::string::npos) {
        if (inet_pton(AF_INET, s.c_str(), buf) != 1) return std::nullopt;
        return from_v4(buf);
    }
    if (inet_pton(AF_INET6, s.c_str(), buf) != 1) return std::nullopt;
    Ip ip;
    std::copy(buf, buf + 16, ip.bytes.begin());
    return ip;
}

std::optional<Ip> parse_ip_lenient(std::string_view text) {
    if (auto ip = parse_ip(text)) return ip;
    const std::string s = bare(text);
    if (s.empty() || s.size() > 64 || s.find(':') != std::string::npos) return std::nullopt;
    in_addr a{};
    if (inet_aton(s.c_str(), &a) == 0) return std::nullopt;
    std::uint8_t buf[4];
    std::memcpy(buf, &a.s_addr, 4);  // network byte order
    return from_v4(buf);
}

bool Cidr::contains(const Ip& ip) const {
    unsigned left = bits;
    for (std::size_t i = 0; i < 16 && left > 0; ++i) {
        const unsigned take = std::min(left, 8u);
        const std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - take));
        if ((ip.bytes[i] & mask) != (base.bytes[i] & mask)) return false;
        left -= take;
    }
    return true;
}

std::optional<Cidr> parse_cidr(std::string_view text) {
    text = trim(text);
    const auto slash = text.find('/');
    auto ip = parse_ip(text.substr(0, slash));
    if (!ip) return std::nullopt;
    Cidr c;
    c.base = *ip;
    const unsigned max = ip->is_v4() ? 32 : 128;
    unsigned bits = max;
    if (slash != std::string_view::npos) {
        const std::string_view n = text.substr(slash + 1);
        if (n.empty() || n.size() > 3 || !std::all_of(n.begin(), n.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
            return std::nullopt;
        bits = static_cast<unsigned>(std::stoul(std::string(n)));
        if (bits > max) return std::nullopt;
    }
    c.bits = ip->is_v4() ? bits + 96 : bits;
    // Mask the base so "10.1.2.3/8" and "10.0.0.0/8" are the same network.
    unsigned left = c.bits;
    for (auto& b : c.base.bytes) {
        const unsigned take = std::min(left, 8u);
        b = static_cast<std::uint8_t>(b & (take == 0 ? 0 : 0xff << (8 - take)));
        left -= take;
    }
    return c;
}

std::string client_key(const Ip& ip) {
    if (ip.is_v4()) return ip.to_string();
    Ip net = ip;
    for (std::size_t i = 7; i < 16; ++i) net.bytes[i] = 0;
    return net.to_string() + "/56";
}

Ip forwarded_client(const Ip& peer, std::string_view xff, const std::vector<Cidr>& trusted) {
    auto is_trusted = [&](const Ip& ip) {
        return std::any_of(trusted.begin(), trusted.end(), [&](const Cidr& c) { return c.contains(ip); });
    };
    Ip client = peer;
    if (!is_trusted(client)) return client;
    while (!xff.empty()) {
        const auto comma = xff.rfind(',');
        const std::string_view entry = comma == std::string_view::npos ? xff : xff.substr(comma + 1);
        xff = comma == std::string_view::npos ? std::string_view{} : xff.substr(0, comma);
        auto ip = parse_ip(entry);
        if (!ip) break;
        client = *ip;
        if (!is_trusted(client)) break;
    }
    return client;
}

std::optional<std::string> non_public_reason(const Ip& ip) {
    const auto* b = ip.bytes.data();
    if (ip.is_v4()) return v4_reason(b + 12);
    if (std::all_of(b, b + 16, [](std::uint8_t x) { return x == 0; })) return "unspecified (::)";
    if (std::all_of(b, b + 15, [](std::uint8_t x) { return x == 0; }) && b[15] == 1) return "loopback";
    // IPv6 forms that carry an IPv4 address: judged by that address.
    if (prefix_is(ip, {0, 0x64, 0xff, 0x9b}, 96)) {  // NAT64
        if (auto r = v4_reason(b + 12)) return *r + " (through NAT64)";
        return std::nullopt;
    }
    if (prefix_is(ip, {0x20, 0x02}, 16)) {  // 6to4
        if (auto r = v4_reason(b + 2)) return *r + " (through 6to4)";
        return std::nullopt;
    }
    if (prefix_is(ip, {0xfc}, 7)) return "private (unique local, fc00::/7)";
    if (prefix_is(ip, {0xfe, 0x80}, 10)) return "link-local";
    if (prefix_is(ip, {0xfe, 0xc0}, 10)) return "site-local";
    if (prefix_is(ip, {0xff}, 8)) return "multicast";
    if (prefix_is(ip, {0x20, 0x01, 0x0d, 0xb8}, 32)) return "documentation";
    if (!prefix_is(ip, {0x20}, 3)) return "not global unicast";
    return std::nullopt;
}

std::optional<std::string> non_public_host(std::string_view host_text) {
    std::string host;
    for (char c : host_text) host.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    while (!host.empty() && host.back() == '.') host.pop_back();
    if (host.empty()) return "no host";
    if (host == "localhost" || (host.size() > 10 && host.compare(host.size() - 10, 10, ".localhost") == 0))
        return "loopback (localhost)";
    if (auto ip = parse_ip_lenient(host)) return non_public_reason(*ip);
    return std::nullopt;
}

std::string url_host(std::string_view url) {
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos) return {};
    std::string_view rest = url.substr(scheme + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
    std::string_view host;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        host = close == std::string_view::npos ? rest.substr(1) : rest.substr(1, close - 1);
    } else {
        host = rest.substr(0, rest.find(':'));
    }
    // Percent-escapes in a host are decoded by URL parsers before DNS sees it.
    std::string out;
    for (std::size_t i = 0; i < host.size(); ++i) {
        if (host[i] == '%' && i + 2 < host.size()) {
            unsigned byte = 0;
            const char* first = host.data() + i + 1;
            const auto [end, ec] = std::from_chars(first, first + 2, byte, 16);
            if (ec == std::errc() && end == first + 2) {
                out.push_back(static_cast<char>(byte));
                i += 2;
                continue;
            }
        }
        out.push_back(host[i]);
    }
    return out;
}

}  // namespace depositd::netaddr
