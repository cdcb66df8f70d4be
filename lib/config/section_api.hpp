#pragma once
// [api] (SPEC §3, §4): the HTTP API's address, keys and limits.
// Parsed by section_api.cpp; include config/config.hpp.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config/units.hpp"

namespace depositd::config {

struct ApiConfig {
    std::string listen = "127.0.0.1:8080";
    std::string host = "127.0.0.1";     // split from listen
    std::uint16_t port = 8080;
    std::vector<std::string> keys;      // bearer keys, after ${VAR} expansion; never logged
    // key_labels[i] names keys[i] in the audit log: the label given
    // ({ key = "...", label = "shop" }) or "key#<i+1>".
    std::vector<std::string> key_labels;
    std::size_t max_body_bytes = 64 * 1024;
    std::size_t max_connections = 512;             // open API connections, all clients together
    std::size_t max_connections_per_client = 64;   // per client IP address (IPv6: per /56)
    Duration idle_timeout = std::chrono::seconds(10);  // a connection waiting for its next request is closed
    // How payers reach the payment page ("https://pay.example", no trailing
    // slash). Empty: paymentUrl is built from `listen`.
    std::string public_url;
    // Reverse proxies whose X-Forwarded-For names the client (addresses or
    // CIDR networks, as written and checked); empty: the peer is the client.
    std::vector<std::string> trusted_proxies;
};

}  // namespace depositd::config
