#include "codec/abi.hpp"

#include "codec/hex.hpp"

namespace depositd::codec {
namespace {

// Hex of `n` bytes into out; `hex` already stripped and of length 2n.
inline bool hex_bytes(const char* hex, std::uint8_t* out, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
        int hi = hex_digit(hex[2 * i]);
        int lo = hex_digit(hex[2 * i + 1]);
        if ((hi | lo) < 0) return false;
        out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
    }
    return true;
}

inline std::uint64_t load_be64(const std::uint8_t* p) noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
    return v;
}

enum class Fail { ok, topic_count, not_transfer, topic_shape, topic_high_bytes, data_shape };

Fail topic_address(std::string_view topic, std::array<std::uint8_t, 20>& out) noexcept {
    std::string_view hex = strip_0x(topic);
    if (hex.size() != 64) return Fail::topic_shape;
    for (std::size_t i = 0; i < 24; ++i)
        if (hex[i] != '0') return hex_digit(hex[i]) < 0 ? Fail::topic_shape : Fail::topic_high_bytes;
    return hex_bytes(hex.data() + 24, out.data(), 20) ? Fail::ok : Fail::topic_shape;
}

Fail decode(std::span<const std::string_view> topics, std::string_view data, TransferLog& out) noexcept {
    if (topics.size() != 3) return topics.empty() || !is_transfer_topic(topics[0]) ? Fail::not_transfer : Fail::topic_count;
    if (!is_transfer_topic(topics[0])) return Fail::not_transfer;
    if (Fail f = topic_address(topics[1], out.from); f != Fail::ok) return f;
    if (Fail f = topic_address(topics[2], out.to); f != Fail::ok) return f;
    std::string_view hex = strip_0x(data);
    if (hex.size() != 64) return Fail::data_shape;
    std::uint8_t word[32];
    if (!hex_bytes(hex.data(), word, 32)) return Fail::data_shape;
    out.value = u256_from_word(word);
    return Fail::ok;
}

}  // namespace

bool is_transfer_topic(std::string_view topic_hex) noexcept {
    std::string_view hex = strip_0x(topic_hex);
    if (hex.size() != kTransferTopicHex.size()) return false;
    for (std::size_t i = 0; i < hex.size(); ++i) {
        char want = kTransferTopicHex[i];
        char c = hex[i];
        if (c != want && !(want >= 'a' && c == want - ('a' - 'A'))) return false;
    }
    return true;
}

U256 u256_from_word(std::span<const std::uint8_t, 32> word) noexcept {
    U256 v = load_be64(word.data());
    for (int i = 1; i < 4; ++i) {
        v <<= 64;
        v |= load_be64(word.data() + 8 * i);
    }
    return v;
}

bool try_address_from_topic(std::string_view topic_hex, std::array<std::uint8_t, 20>& out) noexcept {
    return topic_address(topic_hex, out) == Fail::ok;
}

bool try_decode_transfer_log(std::span<const std::string_view> topics, std::string_view data,
                             TransferLog& out) noexcept {
    return decode(topics, data, out) == Fail::ok;
}

Result<TransferLog> decode_transfer_log(std::span<const std::string_view> topics, std::string_view data) {
    TransferLog out{};
    switch (decode(topics, data, out)) {
        case Fail::ok: return out;
        case Fail::topic_count:
            return make_error(Errc::malformed, "Transfer log with " + std::to_string(topics.size()) +
                                                   " topics (want 3; 4 is ERC721)");
        case Fail::not_transfer: return make_error(Errc::malformed, "not a Transfer log");
        case Fail::topic_shape: return make_error(Errc::malformed, "Transfer topic is not 32 bytes of hex");
        case Fail::topic_high_bytes: return make_error(Errc::malformed, "Transfer address topic has non-zero high bytes");
        case Fail::data_shape: return make_error(Errc::malformed, "Transfer data is not one 32-byte word");
    }
    return make_error(Errc::internal, "unreachable");
}

Result<std::array<std::uint8_t, 20>> address_from_topic(std::string_view topic_hex) {
    std::array<std::uint8_t, 20> out{};
    switch (topic_address(topic_hex, out)) {
        case Fail::ok: return out;
        case Fail::topic_high_bytes: return make_error(Errc::malformed, "address topic has non-zero high bytes");
        default: return make_error(Errc::malformed, "address topic is not 32 bytes of hex");
    }
}

std::string topic_from_address(std::span<const std::uint8_t, 20> address) {
    std::string out = "0x000000000000000000000000";
    out += to_hex(address);
    return out;
}

}  // namespace depositd::codec
