#pragma once
// Addresses of every protocol: validate, canonicalise, and produce the watch
// key the chain adapters match on.
//
//   protocol  canonical text                     watch key (raw bytes)
//   evm       EIP-55 checksummed 0x...           20-byte address
//   tron      base58check T... (0x41 version)    20-byte address (without 0x41)
//   bitcoin   bech32 lower-case / base58 as is   scriptPubKey bytes
//   solana    base58 of the 32-byte key          32-byte key
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "codec/hex.hpp"
#include "core/ids.hpp"
#include "core/result.hpp"

namespace depositd::codec {

struct ParsedAddress {
    Protocol protocol;
    std::string canonical;
    Bytes watch_key;
};

// Checks format and checksum for the protocol. EVM: all-lower or all-upper
// hex is accepted unchecksummed, mixed case must pass EIP-55. TRON: base58
// `T...` or hex `41...` (40+2 hex, with or without 0x). Bitcoin: any network
// (mainnet, testnet, signet, regtest incl. bcoin's prefixes) and script type.
// The error message says what is wrong ("bad checksum", "wrong length", ...).
Result<ParsedAddress> parse_address(Protocol protocol, std::string_view text);

// EVM
std::string evm_checksum(std::span<const std::uint8_t, 20> address);   // EIP-55
Result<Bytes> evm_address_bytes(std::string_view text);                  // 20 bytes, EIP-55 checked

// TRON
std::string tron_base58(std::span<const std::uint8_t, 20> address);     // T...
// Any of the four TRON encodings (T..., 41hex, 0x41hex, 0x/20-byte EVM hex) -> 20 bytes.
Result<Bytes> tron_address_bytes(std::string_view text);

// Bitcoin: scriptPubKey -> address for a network, empty if not a standard script.
enum class BtcNetwork { mainnet, testnet, signet, regtest, bcoin_regtest };
std::string btc_address_from_script(std::span<const std::uint8_t> script, BtcNetwork net);

// Solana
std::string solana_address(std::span<const std::uint8_t, 32> key);

}  // namespace depositd::codec
