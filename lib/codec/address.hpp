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

// Why a valid address can never be a deposit address, or nullptr. The zero
// address (EVM 0x0000…0000, TRON T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb): every
// ERC-20/TRC-20 mint and burn names it, so in the pool it would turn each
// burn into a "deposit".
const char* unusable_deposit_address(const ParsedAddress& address);

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

// Address prefixes of a network. Signet shares testnet's; bcoin's regtest
// uses its own (P2PKH 0x3c, P2SH 0x26, HRP "rb").
struct BtcParams {
    std::string_view hrp;
    std::uint8_t p2pkh;
    std::uint8_t p2sh;
};
const BtcParams& btc_params(BtcNetwork net);
const char* to_string(BtcNetwork net);
// "mainnet"/"main"/"bitcoin", "testnet"/"test", "signet", "regtest", "bcoin_regtest".
bool parse_btc_network(std::string_view text, BtcNetwork& out);

// Any address of any known network -> scriptPubKey (what parse_address puts
// into watch_key). Bech32 input may be upper case.
Result<Bytes> btc_script_from_address(std::string_view text);
// scriptPubKey builders.
Bytes btc_p2pkh_script(std::span<const std::uint8_t, 20> key_hash);
Bytes btc_p2sh_script(std::span<const std::uint8_t, 20> script_hash);
Bytes btc_witness_script(int version, std::span<const std::uint8_t> program);  // OP_n <program>

// Solana
std::string solana_address(std::span<const std::uint8_t, 32> key);
Result<Bytes> solana_address_bytes(std::string_view text);  // exactly 32 bytes

}  // namespace depositd::codec
