#include "core/ids.hpp"

#include <openssl/sha.h>

namespace depositd {

const char* to_string(Protocol p) {
    switch (p) {
        case Protocol::evm: return "evm";
        case Protocol::tron: return "tron";
        case Protocol::bitcoin: return "bitcoin";
        case Protocol::solana: return "solana";
    }
    return "?";
}

bool parse_protocol(std::string_view t, Protocol& out) {
    if (t == "evm") out = Protocol::evm;
    else if (t == "tron") out = Protocol::tron;
    else if (t == "bitcoin") out = Protocol::bitcoin;
    else if (t == "solana") out = Protocol::solana;
    else return false;
    return true;
}

namespace {
std::string digest_id(std::string_view prefix, const std::string& material) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(material.data()), material.size(), md);
    static const char* hex = "0123456789abcdef";
    std::string out(prefix);
    for (int i = 0; i < 12; ++i) {
        out.push_back(hex[md[i] >> 4]);
        out.push_back(hex[md[i] & 0xf]);
    }
    return out;
}
}  // namespace

std::string deposit_id(std::string_view chain, std::string_view tx, std::uint64_t index, std::string_view block) {
    std::string m;
    m.append(chain).push_back('\n');
    m.append(tx).push_back('\n');
    m.append(std::to_string(index)).push_back('\n');
    m.append(block);
    return digest_id("dep_", m);
}

std::string event_id(std::string_view dep, std::string_view type) {
    std::string m;
    m.append(dep).push_back('\n');
    m.append(type);
    return digest_id("evt_", m);
}

std::string change_event_id(std::string_view dep, std::uint64_t change) {
    std::string m;
    m.append(dep).append("\nchange ").append(std::to_string(change));
    return digest_id("evt_", m);
}

}  // namespace depositd
