#pragma once
// Test helpers for the Solana adapter: deterministic keys, transaction
// entries and blocks in the shapes Agave returns (getBlock with
// transactionDetails "accounts" and encoding "json", getTransaction in json
// mode: tests/fixtures/solana/), and a scripted JSON-RPC node over them.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "codec/address.hpp"
#include "codec/hash.hpp"
#include "core/json.hpp"

namespace soltest {

using namespace depositd;

// A 32-byte key from a seed: (base58 text, raw bytes as a watch key).
struct Key {
    std::string text;
    std::string raw;
};
inline Key key(const std::string& seed) {
    auto d = codec::sha256(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(seed.data()), seed.size()));
    return Key{codec::solana_address(d), std::string(d.begin(), d.end())};
}
inline std::string hash_text(const std::string& seed) { return key("hash|" + seed).text; }

inline const std::string kTokenProgram = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
inline const std::string kToken2022Program = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb";
inline const std::string kSystemProgram = "11111111111111111111111111111111";

struct TokenBalance {
    std::uint32_t account;
    std::string mint;
    std::string owner;
    std::string amount;  // base units, decimal
    unsigned decimals = 6;
    std::string program = kTokenProgram;
};

inline json::object token_balance_json(const TokenBalance& b) {
    json::object ui;
    ui["amount"] = b.amount;
    ui["decimals"] = b.decimals;
    ui["uiAmount"] = nullptr;  // a float in real answers; never read
    ui["uiAmountString"] = b.amount;
    json::object o;
    o["accountIndex"] = b.account;
    o["mint"] = b.mint;
    o["owner"] = b.owner;
    o["programId"] = b.program;
    o["uiTokenAmount"] = std::move(ui);
    return o;
}

struct Account {
    std::string key;
    std::uint64_t pre = 0;
    std::uint64_t post = 0;
    bool lookup = false;  // loaded from an address lookup table (v0)
    bool writable = true;
    bool signer = false;
};

struct Tx {
    std::string signature;
    std::vector<Account> accounts;
    std::vector<TokenBalance> pre_tokens, post_tokens;
    json::value err = nullptr;  // e.g. {"InstructionError":[0,{"Custom":1}]}
    bool v0 = false;
};

inline json::object meta_json(const Tx& tx) {
    json::object meta;
    meta["err"] = tx.err;
    meta["fee"] = 5000;
    json::array pre, post, pt, qt;
    for (const auto& a : tx.accounts) {
        pre.push_back(a.pre);
        post.push_back(a.post);
    }
    for (const auto& b : tx.pre_tokens) pt.push_back(token_balance_json(b));
    for (const auto& b : tx.post_tokens) qt.push_back(token_balance_json(b));
    meta["preBalances"] = std::move(pre);
    meta["postBalances"] = std::move(post);
    meta["preTokenBalances"] = std::move(pt);
    meta["postTokenBalances"] = std::move(qt);
    if (tx.err.is_null()) meta["status"] = json::object{{"Ok", nullptr}};
    else meta["status"] = json::object{{"Err", tx.err}};
    return meta;
}

// getBlock transactionDetails "accounts": accountKeys are objects and already
// include the lookup-table addresses, in balance order.
inline json::object tx_accounts_json(const Tx& tx) {
    json::array keys;
    for (const auto& a : tx.accounts)
        keys.push_back(json::object{{"pubkey", a.key}, {"writable", a.writable}, {"signer", a.signer},
                                    {"source", a.lookup ? "lookupTable" : "transaction"}});
    json::object t;
    t["signatures"] = json::array{json::value(tx.signature)};
    t["accountKeys"] = std::move(keys);
    json::object e;
    e["transaction"] = std::move(t);
    e["meta"] = meta_json(tx);
    if (tx.v0) e["version"] = 0;
    else e["version"] = "legacy";
    return e;
}

// getTransaction / getBlock "full" with encoding json: static keys in the
// message, lookup-table keys in meta.loadedAddresses (writable, readonly).
// Accounts must be ordered static, then loaded writable, then loaded readonly.
inline json::object tx_full_json(const Tx& tx) {
    json::array keys, lw, lr;
    for (const auto& a : tx.accounts) {
        if (!a.lookup) keys.push_back(json::value(a.key));
        else if (a.writable) lw.push_back(json::value(a.key));
        else lr.push_back(json::value(a.key));
    }
    json::object msg;
    msg["accountKeys"] = std::move(keys);
    msg["header"] = json::object{{"numReadonlySignedAccounts", 0}, {"numReadonlyUnsignedAccounts", 1},
                                 {"numRequiredSignatures", 1}};
    msg["instructions"] = json::array{};
    msg["recentBlockhash"] = hash_text("recent");
    json::object t;
    t["message"] = std::move(msg);
    t["signatures"] = json::array{json::value(tx.signature)};
    json::object meta = meta_json(tx);
    meta["loadedAddresses"] = json::object{{"writable", std::move(lw)}, {"readonly", std::move(lr)}};
    meta["innerInstructions"] = json::array{};
    meta["logMessages"] = json::array{};
    json::object e;
    e["meta"] = std::move(meta);
    e["transaction"] = std::move(t);
    e["version"] = tx.v0 ? json::value(0) : json::value("legacy");
    return e;
}

struct Block {
    std::uint64_t slot = 0;
    std::string hash;
    std::uint64_t parent_slot = 0;
    std::string parent_hash;
    std::int64_t time = 1700000000;
    std::vector<Tx> txs;
};

inline json::object block_json(const Block& b, bool full) {
    json::object o;
    o["blockHeight"] = b.slot - 100;  // any: not a slot
    o["blockTime"] = b.time;
    o["blockhash"] = b.hash;
    o["parentSlot"] = b.parent_slot;
    o["previousBlockhash"] = b.parent_hash;
    if (full) {
        json::array txs;
        for (const auto& t : b.txs) txs.push_back(tx_accounts_json(t));
        o["transactions"] = std::move(txs);
    }
    return o;
}

// A chain of slots: a block or skipped. Hashes derive from (slot, branch).
class Chain {
public:
    std::mutex mu;
    std::map<std::uint64_t, Block> blocks;  // produced slots on the canonical fork
    std::uint64_t confirmed = 0;            // getSlot(confirmed)
    std::uint64_t finalized = 0;
    std::string branch = "a";

    // Appends a block at `slot` (slots between the last block and it are skipped).
    Block& produce(std::uint64_t slot, std::vector<Tx> txs = {}) {
        Block b;
        b.slot = slot;
        b.hash = hash_text(branch + "|" + std::to_string(slot));
        if (!blocks.empty()) {
            b.parent_slot = blocks.rbegin()->first;
            b.parent_hash = blocks.rbegin()->second.hash;
        } else {
            b.parent_slot = slot - 1;
            b.parent_hash = hash_text("genesis-parent");
        }
        b.txs = std::move(txs);
        b.time = 1700000000 + static_cast<std::int64_t>(slot) * 4 / 10;
        confirmed = std::max(confirmed, slot);
        return blocks[slot] = std::move(b);
    }
};

// Agave's JSON-RPC over a Chain, with scripted faults. Thread-safe (the
// test server answers on its own thread).
class Node {
public:
    Chain chain;
    bool batches = true;                      // false: a batch is refused like some providers do
    std::set<std::uint64_t> not_available;    // getBlock -> -32004 although the block exists
    std::set<std::uint64_t> unlisted;         // getBlocks leaves these out (a backend that lags / lost them)
    std::optional<std::uint64_t> list_cap;    // getBlocks / getBlocksWithLimit see nothing above (lagging backend)
    std::set<std::string> mints{"Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB"};
    unsigned mint_decimals = 6;
    std::set<std::uint64_t> v1_slots;         // blocks holding a version 1 transaction (-32015 when asked with 0)
    std::map<int, int> max_version_seen;      // getBlock maxSupportedTransactionVersion -> calls
    std::map<std::string, int> counts;        // method -> calls (batch elements counted one by one)
    int batch_requests = 0;

    json::value error(long long code, const std::string& message, const json::value& id) {
        return json::object{{"jsonrpc", "2.0"}, {"error", json::object{{"code", code}, {"message", message}}}, {"id", id}};
    }
    json::value ok(json::value result, const json::value& id) {
        return json::object{{"jsonrpc", "2.0"}, {"result", std::move(result)}, {"id", id}};
    }

    json::value answer(const json::object& req) {
        const json::value id = req.contains("id") ? req.at("id") : json::value(nullptr);
        const std::string method(req.at("method").as_string());
        const json::array params = req.contains("params") ? req.at("params").as_array() : json::array{};
        std::lock_guard lk(chain.mu);
        ++counts[method];
        auto commitment = [&](std::size_t at) -> std::string {
            if (params.size() > at && params[at].is_object() && params[at].as_object().contains("commitment"))
                return std::string(params[at].as_object().at("commitment").as_string());
            return "finalized";
        };
        const std::uint64_t tip = list_cap ? std::min(*list_cap, chain.confirmed) : chain.confirmed;
        if (method == "getSlot") return ok(commitment(0) == "finalized" ? chain.finalized : chain.confirmed, id);
        if (method == "getGenesisHash") return ok("5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d", id);
        if (method == "getLatestBlockhash") {
            // The bank at the commitment: the highest block at or below that slot.
            const std::uint64_t at = commitment(0) == "finalized" ? chain.finalized : chain.confirmed;
            auto it = chain.blocks.upper_bound(at);
            if (it == chain.blocks.begin()) return error(-32004, "test node: no block yet", id);
            --it;
            return ok(json::object{{"context", json::object{{"slot", it->first}}},
                                   {"value", json::object{{"blockhash", it->second.hash},
                                                          {"lastValidBlockHeight", it->first + 150}}}},
                      id);
        }
        if (method == "getTokenSupply") {
            const std::string mint(params.at(0).as_string());
            if (!mints.count(mint)) return error(-32602, "Invalid param: not a Token mint", id);
            return ok(json::object{{"context", json::object{{"slot", chain.confirmed}}},
                                   {"value", json::object{{"amount", "1000000000"}, {"decimals", mint_decimals},
                                                          {"uiAmount", 1000.0}, {"uiAmountString", "1000"}}}},
                      id);
        }
        if (method == "getBlocks") {
            if (commitment(2) != "confirmed") return error(-32602, "test node: commitment must be confirmed", id);
            const std::uint64_t a = params.at(0).to_number<std::uint64_t>();
            const std::uint64_t b = params.at(1).to_number<std::uint64_t>();
            if (b < a || b - a > 500'000) return error(-32602, "Slot range too large; max 500000", id);
            json::array out;
            for (auto it = chain.blocks.lower_bound(a); it != chain.blocks.end() && it->first <= std::min(b, tip); ++it)
                if (!unlisted.count(it->first)) out.push_back(it->first);
            return ok(std::move(out), id);
        }
        if (method == "getBlocksWithLimit") {
            const std::uint64_t a = params.at(0).to_number<std::uint64_t>();
            const std::uint64_t n = params.at(1).to_number<std::uint64_t>();
            json::array out;
            for (auto it = chain.blocks.lower_bound(a); it != chain.blocks.end() && it->first <= tip && out.size() < n; ++it)
                if (!unlisted.count(it->first)) out.push_back(it->first);
            return ok(std::move(out), id);
        }
        if (method == "getBlock") {
            const std::uint64_t slot = params.at(0).to_number<std::uint64_t>();
            const auto& cfg = params.at(1).as_object();
            const int max_version = cfg.at("maxSupportedTransactionVersion").to_number<int>();
            if (commitment(1) != "confirmed" || cfg.at("encoding").as_string() != "json" || max_version < 0 ||
                max_version > 1 || cfg.at("rewards").as_bool())
                return error(-32602, "test node: unexpected getBlock config", id);
            ++max_version_seen[max_version];
            const bool full = cfg.at("transactionDetails").as_string() == "accounts";
            if (!full && cfg.at("transactionDetails").as_string() != "none")
                return error(-32602, "test node: transactionDetails must be accounts or none", id);
            auto it = chain.blocks.find(slot);
            if (not_available.count(slot) || slot > chain.confirmed)
                return error(-32004, "Block not available for slot " + std::to_string(slot), id);
            if (it == chain.blocks.end()) {
                if (slot <= chain.finalized)
                    return error(-32007, "Slot " + std::to_string(slot) +
                                             " was skipped, or missing due to ledger jump to recent snapshot", id);
                return error(-32004, "Block not available for slot " + std::to_string(slot), id);
            }
            if (v1_slots.count(slot)) {
                if (max_version < 1)
                    return error(-32015, "Transaction version (1) is not supported by the requesting client. Please "
                                         "try the request again with the following configuration parameter: "
                                         "\"maxSupportedTransactionVersion\": 1", id);
                auto b = block_json(it->second, full);
                if (full)
                    for (auto& t : b["transactions"].as_array()) t.as_object()["version"] = 1;
                return ok(std::move(b), id);
            }
            return ok(block_json(it->second, full), id);
        }
        return error(-32601, "Method not found", id);
    }

    // The HTTP body for a request body (single or batch).
    std::string handle(const std::string& body) {
        json::value v = json::parse(body);
        if (v.is_array()) {
            {
                std::lock_guard lk(chain.mu);
                ++batch_requests;
            }
            if (!batches)
                return json::serialize(error(-32600, "Batch requests are not supported on this plan", nullptr));
            json::array out;
            for (auto& e : v.as_array()) out.push_back(answer(e.as_object()));
            return json::serialize(out);
        }
        return json::serialize(answer(v.as_object()));
    }
};

}  // namespace soltest
