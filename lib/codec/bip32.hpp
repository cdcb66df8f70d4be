#pragma once
// BIP32 public derivation (CKDpub) from account-level extended public keys,
// and the deposit addresses derived from them.
//
// Accepted serializations (SLIP-0132 version bytes):
//   xpub 0x0488b21e  mainnet  P2PKH            tpub 0x043587cf  testnet  P2PKH
//   ypub 0x049d7cb2  mainnet  P2SH-P2WPKH      upub 0x044a5262  testnet  P2SH-P2WPKH
//   zpub 0x04b24746  mainnet  P2WPKH           vpub 0x045f1cf6  testnet  P2WPKH
//
// The daemon holds the account key (m/purpose'/coin'/account') and derives
// receive addresses at 0/i (the external chain) publicly. EVM and TRON
// addresses come from the same public keys (keccak of the uncompressed X||Y,
// last 20 bytes); the version bytes do not matter for them. Solana (ed25519,
// hardened-only SLIP-0010) has no public derivation: derive_address errors.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "codec/address.hpp"
#include "core/ids.hpp"
#include "core/result.hpp"

namespace depositd::codec {

enum class XpubKind { xpub, ypub, zpub, tpub, upub, vpub };

// Bitcoin output type an xpub kind derives.
enum class BtcScriptType { p2pkh, p2sh_p2wpkh, p2wpkh, p2tr };

struct ExtendedPublicKey {
    XpubKind kind = XpubKind::xpub;
    std::uint8_t depth = 0;
    std::array<std::uint8_t, 4> parent_fingerprint{};
    std::uint32_t child_number = 0;
    std::array<std::uint8_t, 32> chain_code{};
    std::array<std::uint8_t, 33> key{};  // compressed secp256k1 point, validated

    friend bool operator==(const ExtendedPublicKey&, const ExtendedPublicKey&) = default;
};

std::uint32_t xpub_version(XpubKind kind);
const char* to_string(XpubKind kind);
bool xpub_is_testnet(XpubKind kind);
BtcScriptType xpub_script_type(XpubKind kind);

// Base58check, 78 bytes, known version, key a valid compressed point; a
// depth-0 key must have a zero fingerprint and child number. Private keys
// (xprv...) are refused with a message saying so.
Result<ExtendedPublicKey> parse_xpub(std::string_view text);
std::string serialize_xpub(const ExtendedPublicKey& key);

// CKDpub. Errors for a hardened index (>= 2^31), depth overflow, and the
// ~2^-127 case where the child is invalid (the caller skips to i+1).
Result<ExtendedPublicKey> derive_child(const ExtendedPublicKey& parent, std::uint32_t index);
// A path of non-hardened steps, e.g. {0, i}.
Result<ExtendedPublicKey> derive_path(const ExtendedPublicKey& parent, std::span<const std::uint32_t> path);

// Uncompressed X||Y (64 bytes) of a compressed key; error if not on the curve.
Result<std::array<std::uint8_t, 64>> decompress_pubkey(std::span<const std::uint8_t, 33> key);
// EVM/TRON 20-byte address of a compressed public key.
Result<std::array<std::uint8_t, 20>> evm_address_from_pubkey(std::span<const std::uint8_t, 33> key);
// Bitcoin scriptPubKey for a compressed key and output type (P2TR: BIP86
// key-path only, output key = P + H_TapTweak(x(P))·G).
Result<Bytes> btc_script_from_pubkey(std::span<const std::uint8_t, 33> key, BtcScriptType type);

struct DeriveOptions {
    // Bitcoin network; default: mainnet for x/y/zpub, testnet for t/u/vpub.
    // A mainnet xpub may be used for a test network and vice versa.
    std::optional<BtcNetwork> network;
    // Bitcoin output type; default from the version bytes (xpub/tpub P2PKH,
    // ypub/upub P2SH-P2WPKH, zpub/vpub P2WPKH). Set p2tr for BIP86 xpubs.
    std::optional<BtcScriptType> script;
};

// Receive address at `account/0/index`, canonical text as parse_address
// gives it: Bitcoin per the options, EVM EIP-55, TRON base58 T...
Result<std::string> derive_address(Protocol protocol, const ExtendedPublicKey& account, std::uint32_t index,
                                   const DeriveOptions& options = {});
Result<std::string> derive_address(Protocol protocol, std::string_view account_xpub, std::uint32_t index,
                                   const DeriveOptions& options = {});

}  // namespace depositd::codec
