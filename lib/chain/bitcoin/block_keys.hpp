#pragma once
// Internal to chain/bitcoin: where in a getblock answer the streaming parser
// (block_parser.cpp) is — the containers it tracks and the keys it reads.
#include <cstdint>
#include <string_view>

namespace depositd::chain::bitcoin::detail {

// What a JSON container is, as far as the decoder cares.
enum class Role : std::uint8_t {
    other,     // anything not read (scriptSig, txinwitness, prevout, ...)
    root,      // the top-level object until its first key tells envelope from bare block
    envelope,  // {"result", "error", "id"}
    error,     // the envelope's error object
    block,
    txs,       // block.tx
    tx,
    vin,
    input,
    vout,
    output,
    script,    // output.scriptPubKey
};

enum class Key : std::uint8_t {
    other,
    result,
    error,
    code,
    message,
    hash,
    height,
    previous,
    next,
    time,
    confirmations,
    ntx,
    tx,
    txid,
    vin,
    vout,
    coinbase,
    value,
    n,
    script_pub_key,
    hex,
};

inline Key classify(Role parent, std::string_view k) noexcept {
    switch (parent) {
        case Role::envelope:
            return k == "result" ? Key::result : k == "error" ? Key::error : Key::other;
        case Role::error:
            return k == "code" ? Key::code : k == "message" ? Key::message : Key::other;
        case Role::block:
            switch (k.size()) {
                case 2: return k == "tx" ? Key::tx : Key::other;
                case 3: return k == "nTx" ? Key::ntx : Key::other;
                case 4: return k == "hash" ? Key::hash : k == "time" ? Key::time : Key::other;
                case 6: return k == "height" ? Key::height : Key::other;
                case 13: return k == "confirmations" ? Key::confirmations : k == "nextblockhash" ? Key::next : Key::other;
                case 17: return k == "previousblockhash" ? Key::previous : Key::other;
                default: return Key::other;
            }
        case Role::tx:
            switch (k.size()) {
                case 3: return k == "vin" ? Key::vin : Key::other;
                case 4: return k == "txid" ? Key::txid : k == "vout" ? Key::vout : Key::other;
                default: return Key::other;
            }
        case Role::input:
            return k == "coinbase" ? Key::coinbase : Key::other;
        case Role::output:
            switch (k.size()) {
                case 1: return k == "n" ? Key::n : Key::other;
                case 5: return k == "value" ? Key::value : Key::other;
                case 12: return k == "scriptPubKey" ? Key::script_pub_key : Key::other;
                default: return Key::other;
            }
        case Role::script:
            return k == "hex" ? Key::hex : Key::other;
        default:
            return Key::other;
    }
}

enum class Kind { object, array, string, number, boolean, null };

inline const char* kind_name(Kind k) {
    switch (k) {
        case Kind::object: return "an object";
        case Kind::array: return "an array";
        case Kind::string: return "a string";
        case Kind::number: return "a number";
        case Kind::boolean: return "a boolean";
        case Kind::null: return "null";
    }
    return "?";
}

}  // namespace depositd::chain::bitcoin::detail
