#pragma once
// The addresses watched on a chain, by watch key (codec/address.hpp):
// 20-byte EVM/TRON address, Bitcoin scriptPubKey, 32-byte Solana key.
// Maps each to the address's row id in the pool.
//
// Compact on purpose (issue 22: a million addresses in well under 64 MiB):
// the keys lie back to back in one byte arena, their row ids in one array,
// and an open-addressing table of 32-bit entry numbers finds them; no heap
// node per key. While every key has the same length (EVM and TRON 20 bytes,
// Solana 32) entry i's key is simply at i * length and no offsets are kept:
// about 20 + 8 + 8 bytes per 20-byte key, plus the filter.
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace depositd::chain {

class WatchSet {
public:
    // Adds `key` -> `address_id`, or sets the id of a key already there.
    // The key is copied.
    void insert(std::string_view key, std::int64_t address_id);
    bool contains(std::string_view key) const { return find(key) != 0; }
    // 0 when absent.
    std::int64_t find(std::string_view key) const {
        // Most lookups on a busy chain miss: a one-word blocked Bloom filter
        // (32 bits per key, <1% false positives, 4 MB for 1 M keys) answers
        // those without touching the table (docs/performance.md).
        const std::size_t h = hash(key);
        if (!filter_test(h)) return 0;
        const std::uint32_t entry = lookup(key, h);
        return entry == kEmpty ? 0 : ids_[entry - 1];
    }
    std::size_t size() const { return ids_.size(); }
    // Room for `n` keys in all (growth stays geometric when called per chunk).
    void reserve(std::size_t n);
    // Calls f(std::string_view key, std::int64_t address_id) for every
    // entry, in insertion order (EVM adapter: recipient topic filters for
    // small sets).
    template <class F>
    void for_each(F&& f) const {
        for (std::size_t i = 0; i < ids_.size(); ++i) f(key_at(i), ids_[i]);
    }
    // Bytes held (capacity, not size): for tests and benchmarks.
    std::size_t memory_bytes() const;

private:
    static constexpr std::uint32_t kEmpty = 0;  // slot value; otherwise entry number + 1
    static constexpr std::size_t kFilterBitsPerKey = 32;

    static std::size_t hash(std::string_view k) noexcept { return std::hash<std::string_view>{}(k); }
    static std::uint64_t filter_mask(std::uint64_t h) noexcept {
        return (std::uint64_t{1} << ((h >> 40) & 63)) | (std::uint64_t{1} << ((h >> 52) & 63));
    }
    static std::uint64_t filter_mix(std::uint64_t h) noexcept { return h ^ (h >> 29) ^ (h << 17); }
    bool filter_test(std::uint64_t raw) const noexcept {
        if (filter_.empty()) return false;
        const std::uint64_t h = filter_mix(raw);
        const std::uint64_t m = filter_mask(h);
        return (filter_[h & (filter_.size() - 1)] & m) == m;
    }
    void filter_set(std::uint64_t raw) noexcept {
        const std::uint64_t h = filter_mix(raw);
        filter_[h & (filter_.size() - 1)] |= filter_mask(h);
    }
    std::string_view key_at(std::size_t i) const {
        if (offsets_.empty()) return std::string_view(arena_).substr(i * key_len_, key_len_);
        return std::string_view(arena_).substr(offsets_[i], offsets_[i + 1] - offsets_[i]);
    }
    // The first key of another length: from now on every entry has an offset.
    void use_offsets();
    // The slot value of `key` (kEmpty when absent). Linear probing; the
    // table is at most half full, so a probe ends soon.
    std::uint32_t lookup(std::string_view key, std::size_t h) const {
        if (slots_.empty()) return kEmpty;
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = h & mask;; i = (i + 1) & mask) {
            const std::uint32_t s = slots_[i];
            if (s == kEmpty || key_at(s - 1) == key) return s;
        }
    }
    void grow_table(std::size_t keys);
    void grow_filter(std::size_t keys);

    std::string arena_;                   // every key, back to back
    std::size_t key_len_ = 0;             // the length of every key while offsets_ is empty
    std::vector<std::uint32_t> offsets_;  // empty while all keys have key_len_ bytes; else entry i is arena_[offsets_[i], offsets_[i + 1])
    std::vector<std::int64_t> ids_;       // entry i's address row id
    std::vector<std::uint32_t> slots_;    // power-of-two open-addressing table of entry numbers + 1
    std::vector<std::uint64_t> filter_;   // power-of-two words; empty until the first insert
};

}  // namespace depositd::chain
