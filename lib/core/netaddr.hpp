#pragma once
// IP addresses as strangers give them (SPEC §8, §9): the client address a
// per-client cap counts (IPv4, or the /56 of an IPv6 address), the client
// behind trusted reverse proxies (X-Forwarded-For), and whether an address
// is one a merchant notify may be sent to (not loopback, private,
// link-local, cloud metadata or otherwise non-public).
//
// Plain bytes and inet_pton: no socket, no Asio, so config, api, net and
// webhook can all use it.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace depositd::netaddr {

// 16 bytes; an IPv4 address is kept IPv4-mapped (::ffff:a.b.c.d).
struct Ip {
    std::array<std::uint8_t, 16> bytes{};
    bool is_v4() const;  // IPv4 or IPv4-mapped IPv6
    std::string to_string() const;
    bool operator==(const Ip&) const = default;
};

// "203.0.113.7", "2001:db8::1", "::ffff:1.2.3.4", "[2001:db8::1]" (brackets
// allowed), "fe80::1%eth0" (zone dropped). Strict dotted quads only: the
// legacy forms ("0x7f.1", "2130706433") are not IP addresses here.
std::optional<Ip> parse_ip(std::string_view text);

// What getaddrinfo would also read as an IPv4 address: the strict form plus
// inet_aton's legacy ones ("127.1", "0x7f000001", "2130706433", "0177.0.0.1").
std::optional<Ip> parse_ip_lenient(std::string_view text);

// An address or a network: "10.0.0.0/8", "2001:db8::/32", "192.0.2.7" (/32).
struct Cidr {
    Ip base;            // masked to the prefix
    unsigned bits = 0;  // prefix length over the 128-bit (mapped) form
    bool contains(const Ip& ip) const;
};
std::optional<Cidr> parse_cidr(std::string_view text);

// The key a per-client cap counts: the IPv4 address, or the /56 of an IPv6
// address ("2001:db8:1:100::/56"): one subscriber commonly holds a whole /56
// or /48, so a /64 or /128 cap is no cap.
std::string client_key(const Ip& ip);

// The client of a request that reached us from `peer`: the peer itself,
// unless it is one of `trusted` proxies; then X-Forwarded-For is read from
// the right, skipping trusted hops, and the first untrusted address is the
// client (what nginx's real_ip_recursive does). An unreadable entry ends
// the walk at the last trusted hop.
Ip forwarded_client(const Ip& peer, std::string_view x_forwarded_for, const std::vector<Cidr>& trusted);

// Why an address is not a public unicast address ("loopback", "private",
// "link-local", "cloud metadata", ...), or nullopt when it is public.
std::optional<std::string> non_public_reason(const Ip& ip);

// For a URL's host as written ("127.0.0.1", "[::1]", "localhost",
// "shop.example"): why it is certainly not public (an IP literal or a
// localhost name), else nullopt. A DNS name is checked again where it is
// resolved (the HTTP client), since only then is its address known.
std::optional<std::string> non_public_host(std::string_view host);

// The host of an http(s) URL ("" when there is none), brackets removed.
std::string url_host(std::string_view url);

}  // namespace depositd::netaddr
