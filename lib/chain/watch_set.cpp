#include "chain/watch_set.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace depositd::chain {
namespace {

std::size_t next_power_of_two(std::size_t n) {
    std::size_t p = 64;
    while (p < n) p *= 2;
    return p;
}

// Capacity for `n` elements that stays geometric when reserve() is called
// once per loaded chunk (an exact reserve each time would copy everything
// again per chunk).
template <class V>
void reserve_geometric(V& v, std::size_t n) {
    if (n > v.capacity()) v.reserve(std::max(n, v.capacity() + v.capacity() / 2));
}

}  // namespace

void WatchSet::reserve(std::size_t n) {
    reserve_geometric(ids_, n);
    if (!offsets_.empty()) reserve_geometric(offsets_, n + 1);
    // Fixed-length keys: exactly n keys' bytes (the first reserve, made from a count, is then the last).
    if (!ids_.empty())
        reserve_geometric(arena_, offsets_.empty() ? n * key_len_ : n * (arena_.size() / ids_.size() + 1));
    grow_table(n);
    grow_filter(n);
}

void WatchSet::insert(std::string_view key, std::int64_t address_id) {
    const std::size_t h = hash(key);
    if (const std::uint32_t s = lookup(key, h); s != kEmpty) {
        ids_[s - 1] = address_id;
        return;
    }
    // The 32-bit offsets and entry numbers bound a set at 4 GiB of keys and
    // 4 G entries, far beyond any pool (a million keys take ~22 MB of arena).
    if (arena_.size() + key.size() > std::numeric_limits<std::uint32_t>::max() ||
        ids_.size() + 1 >= std::numeric_limits<std::uint32_t>::max())
        throw std::length_error("watch set: more addresses than one process can follow");
    grow_table(ids_.size() + 1);
    grow_filter(ids_.size() + 1);
    if (ids_.empty() && offsets_.empty()) {
        key_len_ = key.size();
        // Room for the keys reserve() announced before the first one's length was known.
        if (key_len_ > 0) arena_.reserve(ids_.capacity() * key_len_);
    }
    if (offsets_.empty() && key.size() != key_len_) use_offsets();
    reserve_geometric(arena_, arena_.size() + key.size());
    arena_.append(key);
    if (!offsets_.empty()) offsets_.push_back(static_cast<std::uint32_t>(arena_.size()));
    ids_.push_back(address_id);
    const std::uint32_t entry = static_cast<std::uint32_t>(ids_.size());  // number + 1
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = h & mask;
    while (slots_[i] != kEmpty) i = (i + 1) & mask;
    slots_[i] = entry;
    filter_set(h);
}

void WatchSet::use_offsets() {
    offsets_.reserve(ids_.capacity() + 1);
    for (std::size_t i = 0; i <= ids_.size(); ++i) offsets_.push_back(static_cast<std::uint32_t>(i * key_len_));
}

// At most half full: 2^k slots for up to 2^(k-1) keys.
void WatchSet::grow_table(std::size_t keys) {
    if (keys * 2 <= slots_.size()) return;
    slots_.assign(next_power_of_two(keys * 2), kEmpty);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t e = 0; e < ids_.size(); ++e) {
        std::size_t i = hash(key_at(e)) & mask;
        while (slots_[i] != kEmpty) i = (i + 1) & mask;
        slots_[i] = static_cast<std::uint32_t>(e + 1);
    }
}

void WatchSet::grow_filter(std::size_t keys) {
    if (keys * kFilterBitsPerKey <= filter_.size() * 64) return;
    filter_.assign(next_power_of_two((keys * kFilterBitsPerKey + 63) / 64), 0);
    for (std::size_t e = 0; e < ids_.size(); ++e) filter_set(hash(key_at(e)));
}

std::size_t WatchSet::memory_bytes() const {
    return arena_.capacity() + offsets_.capacity() * sizeof(std::uint32_t) + ids_.capacity() * sizeof(std::int64_t) +
           slots_.capacity() * sizeof(std::uint32_t) + filter_.capacity() * sizeof(std::uint64_t);
}

}  // namespace depositd::chain
