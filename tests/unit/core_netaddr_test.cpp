// core/netaddr: client keys (IPv6 per /56), X-Forwarded-For behind trusted
// proxies, and which addresses a merchant notify must never reach
// (RFC 6890 special-purpose registries, cloud metadata).
#include "core/netaddr.hpp"

#include <gtest/gtest.h>

using namespace depositd::netaddr;

namespace {

Ip ip(const char* s) {
    auto v = parse_ip(s);
    EXPECT_TRUE(v.has_value()) << s;
    return v.value_or(Ip{});
}

bool is_public(const char* s) { return !non_public_reason(ip(s)).has_value(); }

}  // namespace

TEST(Netaddr, ParsesStrictAddressesOnly) {
    EXPECT_EQ(ip("203.0.113.7").to_string(), "203.0.113.7");
    EXPECT_TRUE(ip("203.0.113.7").is_v4());
    EXPECT_EQ(ip("::ffff:1.2.3.4").to_string(), "1.2.3.4");  // v4-mapped is IPv4
    EXPECT_EQ(ip("[2001:db8::1]").to_string(), "2001:db8::1");
    EXPECT_EQ(ip("fe80::1%eth0").to_string(), "fe80::1");
    EXPECT_EQ(ip(" 10.0.0.1 ").to_string(), "10.0.0.1");
    for (const char* bad : {"", "1.2.3", "0x7f000001", "2130706433", "256.1.1.1", "1.2.3.4.5", "example.com", "::g"})
        EXPECT_FALSE(parse_ip(bad).has_value()) << bad;
    // What getaddrinfo also reads as IPv4 (and would connect to).
    EXPECT_EQ(parse_ip_lenient("2130706433")->to_string(), "127.0.0.1");
    EXPECT_EQ(parse_ip_lenient("0x7f.1")->to_string(), "127.0.0.1");
    EXPECT_EQ(parse_ip_lenient("0177.0.0.1")->to_string(), "127.0.0.1");
    EXPECT_FALSE(parse_ip_lenient("shop.example").has_value());
}

TEST(Netaddr, ClientKeyIsTheIpv4AddressOrTheIpv6Slash56) {
    EXPECT_EQ(client_key(ip("198.51.100.9")), "198.51.100.9");
    EXPECT_EQ(client_key(ip("::ffff:198.51.100.9")), "198.51.100.9");
    EXPECT_EQ(client_key(ip("2001:db8:1:100::1")), "2001:db8:1:100::/56");
    EXPECT_EQ(client_key(ip("2001:db8:1:1ff:ffff::2")), "2001:db8:1:100::/56");  // same /56
    EXPECT_EQ(client_key(ip("2001:db8:1:200::1")), "2001:db8:1:200::/56");       // the next one
}

TEST(Netaddr, Cidr) {
    auto net = parse_cidr("10.1.2.3/8");
    ASSERT_TRUE(net.has_value());
    EXPECT_TRUE(net->contains(ip("10.200.0.1")));
    EXPECT_FALSE(net->contains(ip("11.0.0.1")));
    EXPECT_FALSE(net->contains(ip("::a01:203")));  // an IPv6 address is not in an IPv4 network
    EXPECT_TRUE(parse_cidr("192.0.2.7")->contains(ip("192.0.2.7")));
    EXPECT_FALSE(parse_cidr("192.0.2.7")->contains(ip("192.0.2.8")));
    EXPECT_TRUE(parse_cidr("2001:db8::/32")->contains(ip("2001:db8:ffff::1")));
    EXPECT_TRUE(parse_cidr("0.0.0.0/0")->contains(ip("8.8.8.8")));
    for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "proxy.example/8"})
        EXPECT_FALSE(parse_cidr(bad).has_value()) << bad;
}

TEST(Netaddr, ForwardedClientTrustsOnlyConfiguredProxies) {
    const std::vector<Cidr> trusted = {*parse_cidr("127.0.0.1"), *parse_cidr("10.0.0.0/8")};
    // Not from a trusted proxy: X-Forwarded-For is the client's own claim, ignored.
    EXPECT_EQ(forwarded_client(ip("198.51.100.1"), "1.2.3.4", trusted).to_string(), "198.51.100.1");
    // From a proxy: the rightmost untrusted hop (what the client wrote on the left is ignored).
    EXPECT_EQ(forwarded_client(ip("127.0.0.1"), "6.6.6.6, 203.0.113.5", trusted).to_string(), "203.0.113.5");
    EXPECT_EQ(forwarded_client(ip("127.0.0.1"), "6.6.6.6, 203.0.113.5, 10.1.1.1", trusted).to_string(), "203.0.113.5");
    EXPECT_EQ(forwarded_client(ip("127.0.0.1"), "2001:db8::7", trusted).to_string(), "2001:db8::7");
    // No header, or garbage: the last trusted hop.
    EXPECT_EQ(forwarded_client(ip("127.0.0.1"), "", trusted).to_string(), "127.0.0.1");
    EXPECT_EQ(forwarded_client(ip("127.0.0.1"), "10.2.2.2, junk", trusted).to_string(), "127.0.0.1");
    EXPECT_EQ(forwarded_client(ip("127.0.0.1"), "junk, 10.2.2.2", trusted).to_string(), "10.2.2.2");
}

TEST(Netaddr, NonPublicAddresses) {
    for (const char* a : {"127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                          "169.254.169.254", "169.254.1.1", "100.64.0.1", "100.100.100.200", "0.0.0.0", "224.0.0.1",
                          "255.255.255.255", "192.0.2.1", "198.18.0.1", "::", "::1", "::ffff:127.0.0.1", "fe80::1",
                          "fc00::1", "fd00:ec2::254", "ff02::1", "2001:db8::1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1",
                          "::127.0.0.1"})
        EXPECT_FALSE(is_public(a)) << a;
    EXPECT_EQ(*non_public_reason(ip("169.254.169.254")), "cloud metadata");
    EXPECT_EQ(*non_public_reason(ip("::1")), "loopback");
    for (const char* a : {"8.8.8.8", "1.1.1.1", "172.32.0.1", "192.169.0.1", "100.128.0.1", "2606:4700::1111",
                          "64:ff9b::808:808", "2002:808:808::1"})
        EXPECT_TRUE(is_public(a)) << a;
}

TEST(Netaddr, NonPublicHostsOfUrls) {
    EXPECT_EQ(url_host("http://127.0.0.1:8080/notify?x=1"), "127.0.0.1");
    EXPECT_EQ(url_host("https://user:pw@[::1]:8443/n"), "::1");
    EXPECT_EQ(url_host("http://shop.example/n#frag"), "shop.example");
    EXPECT_EQ(url_host("http://%31%32%37.0.0.1/n"), "127.0.0.1");
    EXPECT_TRUE(non_public_host("127.0.0.1").has_value());
    EXPECT_TRUE(non_public_host("LOCALHOST").has_value());
    EXPECT_TRUE(non_public_host("app.localhost.").has_value());
    EXPECT_TRUE(non_public_host("2130706433").has_value());  // 127.0.0.1 to getaddrinfo
    EXPECT_TRUE(non_public_host("[fd00::1]").has_value());
    EXPECT_TRUE(non_public_host("").has_value());
    EXPECT_FALSE(non_public_host("shop.example").has_value());  // resolved (and checked) when delivering
    EXPECT_FALSE(non_public_host("8.8.8.8").has_value());
}
