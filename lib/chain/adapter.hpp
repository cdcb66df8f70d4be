#pragma once
// The chain seam. An adapter only fetches and decodes: it never sees
// cursors, reorgs, confirmations or the database (those live once, in
// lib/scanner). Decoding lives in free functions over bytes so tests and
// benchmarks call them without a socket.
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/amount.hpp"
#include "core/result.hpp"

namespace depositd::chain {

// A block as the scanner follows it. Hashes are in the chain's own text form
// (EVM "0x" + 64 lower-case hex; TRON 64 hex block id; ...).
struct BlockRef {
    std::uint64_t height = 0;
    std::string hash;
    std::string parent;
    std::int64_t time_ms = 0;  // block timestamp, 0 if unknown
};

struct Head {
    std::uint64_t height = 0;
    // The finalized block as the node names it (EVM `finalized` tag, TRON's
    // solidified head, Solana's rooted slot): its height and its hash. A
    // claim, not a fact about our chain: the scanner counts a block final
    // only when its own stored block at that height has this hash (parent
    // links prove the blocks below). Both unset when the chain (or the mode)
    // has no finality; an empty hash proves nothing.
    std::optional<std::uint64_t> finalized;
    std::string finalized_hash;
};

// The addresses watched on a chain, by watch key (codec/address.hpp):
// 20-byte EVM/TRON address, Bitcoin scriptPubKey, 32-byte Solana key.
// Maps to the address's row id in the pool.
class WatchSet {
public:
    void insert(std::string key, std::int64_t address_id) {
        auto [it, fresh] = ids_.insert_or_assign(std::move(key), address_id);
        if (!fresh) return;
        if (ids_.size() * kFilterBitsPerKey > filter_.size() * 64)
            rebuild_filter(ids_.size());
        else
            filter_set(it->first);
    }
    bool contains(std::string_view key) const { return find(key) != 0; }
    // 0 when absent.
    std::int64_t find(std::string_view key) const {
        // Most lookups on a busy chain miss: a one-word blocked Bloom filter
        // (16-32 bits per key, <1% false positives, 4 MB for 1 M keys) answers those without
        // walking the node-based map (see docs/performance.md, EVM decoding).
        if (!filter_test(key)) return 0;
        auto it = ids_.find(key);  // heterogeneous: no allocation per lookup
        return it == ids_.end() ? 0 : it->second;
    }
    std::size_t size() const { return ids_.size(); }
    void reserve(std::size_t n) {
        ids_.reserve(n);
        if (n * kFilterBitsPerKey > filter_.size() * 64) rebuild_filter(n);
    }
    // Calls f(std::string_view key, std::int64_t address_id) for every entry,
    // in unspecified order (EVM adapter: recipient topic filters for small sets).
    template <class F>
    void for_each(F&& f) const {
        for (const auto& [key, id] : ids_) f(std::string_view(key), id);
    }

private:
    struct KeyHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view k) const noexcept { return std::hash<std::string_view>{}(k); }
    };
    static constexpr std::size_t kFilterBitsPerKey = 16;

    static std::uint64_t filter_hash(std::string_view k) noexcept {
        std::uint64_t h = std::hash<std::string_view>{}(k);
        return h ^ (h >> 29) ^ (h << 17);
    }
    void filter_set(std::string_view k) {
        const std::uint64_t h = filter_hash(k);
        filter_[h & (filter_.size() - 1)] |= (std::uint64_t{1} << ((h >> 40) & 63)) | (std::uint64_t{1} << ((h >> 52) & 63));
    }
    bool filter_test(std::string_view k) const noexcept {
        if (filter_.empty()) return true;
        const std::uint64_t h = filter_hash(k);
        const std::uint64_t m = (std::uint64_t{1} << ((h >> 40) & 63)) | (std::uint64_t{1} << ((h >> 52) & 63));
        return (filter_[h & (filter_.size() - 1)] & m) == m;
    }
    void rebuild_filter(std::size_t n) {
        std::size_t words = 64;
        while (words * 64 < n * kFilterBitsPerKey * 2) words *= 2;
        filter_.assign(words, 0);
        for (const auto& [key, id] : ids_) filter_set(key);
    }

    std::unordered_map<std::string, std::int64_t, KeyHash, std::equal_to<>> ids_;
    std::vector<std::uint64_t> filter_;  // power-of-two words; empty until the first insert
};

// One incoming transfer to a watched address.
struct Transfer {
    std::string tx;                    // tx hash / id as the chain prints it
    std::uint64_t index = 0;           // log index (EVM/TRON), vout (Bitcoin), balance-change index (Solana)
    std::string to_key;                // watch key of the recipient
    std::string to;                    // recipient, canonical text
    std::string from;                  // sender, canonical text ("" when unknown)
    std::string currency;              // configured symbol
    std::optional<std::string> contract;  // token contract, canonical text; nullopt for the native coin
    unsigned decimals = 0;
    U256 amount;
    // More confirmations than the chain's setting this transfer needs before
    // it is confirmed (Bitcoin coinbase outputs: 100, maturity); 0 = the setting.
    std::uint32_t min_confirmations = 0;
};

struct BlockTransfers {
    BlockRef block;
    std::vector<Transfer> transfers;
};

// What scan() looked at. Heights in [from, scanned_to] that have no entry in
// `blocks` were definitively skipped (Solana slots nobody produced); chains
// without skipped heights return scanned_to == blocks.back().block.height.
// scanned_to == from - 1 means nothing was examined (beyond the tip).
struct ScanResult {
    std::vector<BlockTransfers> blocks;   // strictly increasing heights, each block's parent = previous block's hash
    std::uint64_t scanned_to = 0;
};

// The canonical state of one height, as far as the node can tell now.
enum class Presence {
    block,     // `ref` is the canonical block at this height
    skipped,   // no block will ever be at this height (Solana skipped slot)
    unknown,   // not available: beyond the node's tip, or a lagging backend.
               // Never evidence that a stored block left the chain.
};
struct BlockAt {
    Presence presence = Presence::unknown;
    BlockRef ref;  // presence == block only
};

inline BlockAt present_or_unknown(std::optional<BlockRef> ref) {
    if (!ref) return BlockAt{};
    return BlockAt{Presence::block, std::move(*ref)};
}

class ChainAdapter {
public:
    virtual ~ChainAdapter() = default;

    // The tip, and the finalized tip where the chain has one.
    virtual boost::asio::awaitable<Result<Head>> head() = 0;

    // Heights from..to with their transfers to `watched`. May stop early
    // (scanned_to < to), never past `to`. Must be internally consistent:
    // every transfer belongs to the block hash returned, blocks link by
    // parent hash, and the transfers of every returned block are complete
    // (an adapter that cannot prove that returns an error or a shorter
    // result, never a block with transfers missing).
    virtual boost::asio::awaitable<Result<ScanResult>> scan(std::uint64_t from, std::uint64_t to,
                                                            const WatchSet& watched) = 0;

    // The canonical block at a height now (for canonical checks and reorg walks).
    virtual boost::asio::awaitable<Result<BlockAt>> block_at(std::uint64_t height) = 0;

    // Start-up checks (token decimals() against config, chain id). An
    // Errc::invalid_input error is a real mismatch with the configuration
    // (fatal); any other error is transient and verify() is called again.
    virtual boost::asio::awaitable<Status> verify() { co_return Status{}; }
};

}  // namespace depositd::chain
