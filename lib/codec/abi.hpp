#pragma once
// ERC20 / TRC20 `Transfer(address indexed from, address indexed to, uint256 value)`.
#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/amount.hpp"
#include "core/result.hpp"

namespace depositd::codec {

// keccak256("Transfer(address,address,uint256)"), lower-case hex without 0x.
inline constexpr std::string_view kTransferTopicHex =
    "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

struct TransferLog {
    std::array<std::uint8_t, 20> from;
    std::array<std::uint8_t, 20> to;
    U256 value;
};

// From the topics (hex strings, 0x optional) and data (hex) of a log.
// Returns nullopt-equivalent error when topic0 is not Transfer, when topics
// are not 3 (ERC721 has 4), or when data is not one 32-byte word.
Result<TransferLog> decode_transfer_log(std::span<const std::string_view> topics, std::string_view data);

// A 32-byte topic holding an address: 12 zero bytes then 20 bytes.
Result<std::array<std::uint8_t, 20>> address_from_topic(std::string_view topic_hex);
// Lower-case 0x + 64 hex digits for an address topic (for eth_getLogs filters).
std::string topic_from_address(std::span<const std::uint8_t, 20> address);

// Hot-path variants: no allocation, no error text. `try_decode_transfer_log`
// returns false in exactly the cases decode_transfer_log returns an error.
bool is_transfer_topic(std::string_view topic_hex) noexcept;
bool try_decode_transfer_log(std::span<const std::string_view> topics, std::string_view data,
                             TransferLog& out) noexcept;
bool try_address_from_topic(std::string_view topic_hex, std::array<std::uint8_t, 20>& out) noexcept;
// A 32-byte big-endian ABI word as U256 (no allocation).
U256 u256_from_word(std::span<const std::uint8_t, 32> word) noexcept;

}  // namespace depositd::codec
