#pragma once
// Internal to chain/solana: where in a getBlock answer the streaming parser
// (block_parser.cpp) is — the containers it tracks and the keys it reads.
#include <cstdint>
#include <string>
#include <string_view>

namespace depositd::chain::solana::detail {

enum class Frame : std::uint8_t {
    root,
    batch,        // top-level array of responses
    envelope,     // {"jsonrpc","id","result"|"error"}
    error,        // envelope.error
    block,        // envelope.result
    txs,          // block.transactions
    tx,           // one transaction entry
    tx_body,      // tx.transaction
    sigs,         // tx.transaction.signatures
    keys,         // tx.transaction.accountKeys / message.accountKeys
    key_obj,      // {"pubkey", "writable", "signer", "source"}
    message,      // tx.transaction.message (json mode)
    meta,         // tx.meta
    balances,     // meta.preBalances / postBalances
    token_list,   // meta.preTokenBalances / postTokenBalances
    token,        // one token balance
    ui_amount,    // token.uiTokenAmount
    loaded,       // meta.loadedAddresses
    loaded_list,  // loadedAddresses.writable / readonly
    skip,         // ignored subtree
};

enum class Key : std::uint8_t {
    none,
    // envelope
    id, result, error,
    // error
    code, message,
    // block
    blockhash, previous_blockhash, parent_slot, block_time, block_height, transactions,
    // tx
    transaction, meta,
    // tx_body / message
    signatures, account_keys, msg,
    // key_obj
    pubkey,
    // meta
    err, pre_balances, post_balances, pre_token_balances, post_token_balances, loaded_addresses,
    // token
    account_index, mint, owner, ui_token_amount,
    // ui_amount
    amount,
    // loaded
    writable, readonly,
};

inline Key classify(Frame f, std::string_view k) {
    switch (f) {
        case Frame::envelope:
            if (k == "result") return Key::result;
            if (k == "id") return Key::id;
            if (k == "error") return Key::error;
            return Key::none;
        case Frame::error:
            if (k == "code") return Key::code;
            if (k == "message") return Key::message;
            return Key::none;
        case Frame::block:
            if (k == "transactions") return Key::transactions;
            if (k == "blockhash") return Key::blockhash;
            if (k == "previousBlockhash") return Key::previous_blockhash;
            if (k == "parentSlot") return Key::parent_slot;
            if (k == "blockTime") return Key::block_time;
            if (k == "blockHeight") return Key::block_height;
            return Key::none;
        case Frame::tx:
            if (k == "meta") return Key::meta;
            if (k == "transaction") return Key::transaction;
            return Key::none;
        case Frame::tx_body:
            if (k == "signatures") return Key::signatures;
            if (k == "accountKeys") return Key::account_keys;
            if (k == "message") return Key::msg;
            return Key::none;
        case Frame::message:
            return k == "accountKeys" ? Key::account_keys : Key::none;
        case Frame::key_obj:
            return k == "pubkey" ? Key::pubkey : Key::none;
        case Frame::meta:
            switch (k.size()) {
                case 3: return k == "err" ? Key::err : Key::none;
                case 11: return k == "preBalances" ? Key::pre_balances : Key::none;
                case 12: return k == "postBalances" ? Key::post_balances : Key::none;
                case 15:
                    return k == "loadedAddresses" ? Key::loaded_addresses : Key::none;
                case 16: return k == "preTokenBalances" ? Key::pre_token_balances : Key::none;
                case 17: return k == "postTokenBalances" ? Key::post_token_balances : Key::none;
                default: return Key::none;
            }
        case Frame::token:
            if (k == "mint") return Key::mint;
            if (k == "owner") return Key::owner;
            if (k == "accountIndex") return Key::account_index;
            if (k == "uiTokenAmount") return Key::ui_token_amount;
            return Key::none;
        case Frame::ui_amount:
            return k == "amount" ? Key::amount : Key::none;
        case Frame::loaded:
            if (k == "writable") return Key::writable;
            if (k == "readonly") return Key::readonly;
            return Key::none;
        default:
            return Key::none;
    }
}

inline bool is_meta_list(Key k) {
    return k == Key::pre_balances || k == Key::post_balances || k == Key::pre_token_balances ||
           k == Key::post_token_balances;
}
inline std::string key_name(Key k) {
    switch (k) {
        case Key::blockhash: return "blockhash";
        case Key::previous_blockhash: return "previousBlockhash";
        case Key::parent_slot: return "parentSlot";
        case Key::block_time: return "blockTime";
        case Key::block_height: return "blockHeight";
        case Key::transactions: return "transactions";
        case Key::pre_balances: return "preBalances";
        case Key::post_balances: return "postBalances";
        case Key::pre_token_balances: return "preTokenBalances";
        case Key::post_token_balances: return "postTokenBalances";
        case Key::mint: return "mint";
        case Key::owner: return "owner";
        default: return "?";
    }
}

enum class Kind { object, array, string, number, boolean, null };

enum class Root { response, transaction };

}  // namespace depositd::chain::solana::detail
