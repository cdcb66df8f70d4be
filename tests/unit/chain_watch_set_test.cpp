// chain::WatchSet: the compact set of watched keys every decoder matches
// against. Checked against std::map on random keys of the lengths real
// watch keys have, and for its memory per key.
#include "chain/watch_set.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace depositd::chain {
namespace {

std::string random_key(std::mt19937_64& rng, std::size_t len) {
    std::string k(len, '\0');
    for (auto& c : k) c = static_cast<char>(rng() & 0xff);
    return k;
}

TEST(WatchSet, EmptyFindsNothing) {
    WatchSet w;
    EXPECT_EQ(w.size(), 0u);
    EXPECT_EQ(w.find(""), 0);
    EXPECT_EQ(w.find(std::string(20, '\x01')), 0);
    EXPECT_FALSE(w.contains("x"));
    int calls = 0;
    w.for_each([&](std::string_view, std::int64_t) { ++calls; });
    EXPECT_EQ(calls, 0);
}

TEST(WatchSet, InsertFindAndUpdate) {
    WatchSet w;
    const std::string a(20, '\xaa'), b(20, '\xbb');
    w.insert(a, 7);
    w.insert(b, 9);
    EXPECT_EQ(w.find(a), 7);
    EXPECT_EQ(w.find(b), 9);
    EXPECT_TRUE(w.contains(a));
    // A key that is a prefix or an extension of a watched key is another key.
    EXPECT_EQ(w.find(a.substr(0, 19)), 0);
    EXPECT_EQ(w.find(a + '\xaa'), 0);
    w.insert(a, 11);  // the same key again: its id changes, the size does not
    EXPECT_EQ(w.size(), 2u);
    EXPECT_EQ(w.find(a), 11);
}

TEST(WatchSet, ForEachInInsertionOrder) {
    WatchSet w;
    w.insert("k3", 3);
    w.insert("k1", 1);
    w.insert("k2", 2);
    std::vector<std::pair<std::string, std::int64_t>> seen;
    w.for_each([&](std::string_view k, std::int64_t id) { seen.emplace_back(std::string(k), id); });
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0], (std::pair<std::string, std::int64_t>{"k3", 3}));
    EXPECT_EQ(seen[2], (std::pair<std::string, std::int64_t>{"k2", 2}));
}

// Every key length a watch key has (EVM/TRON 20, P2WPKH script 22, P2SH 23,
// P2PKH 25, Solana 32, P2WSH/P2TR 34), inserted in chunks the way the
// scanner loads them, against std::map; then as many random misses.
TEST(WatchSet, MatchesAMapOnRandomKeys) {
    std::mt19937_64 rng(20261205);
    const std::size_t lengths[] = {20, 22, 23, 25, 32, 34};
    std::map<std::string, std::int64_t> ref;
    WatchSet w;
    std::int64_t id = 0;
    for (int chunk = 0; chunk < 20; ++chunk) {
        w.reserve(w.size() + 997);
        for (int i = 0; i < 997; ++i) {
            std::string k = random_key(rng, lengths[rng() % 6]);
            ref[k] = ++id;
            w.insert(k, id);
        }
    }
    ASSERT_EQ(w.size(), ref.size());
    for (const auto& [k, v] : ref) ASSERT_EQ(w.find(k), v);
    std::size_t false_hits = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string k = random_key(rng, lengths[rng() % 6]);
        if (ref.count(k)) continue;
        false_hits += w.find(k) != 0;
    }
    EXPECT_EQ(false_hits, 0u);  // the filter may say "maybe"; the table never lies
    std::size_t visited = 0;
    w.for_each([&](std::string_view k, std::int64_t v) {
        ++visited;
        auto it = ref.find(std::string(k));
        ASSERT_NE(it, ref.end());
        EXPECT_EQ(it->second, v);
    });
    EXPECT_EQ(visited, ref.size());
}

TEST(WatchSet, CopiesAreIndependent) {
    WatchSet a;
    a.insert("one", 1);
    WatchSet b = a;
    b.insert("two", 2);
    EXPECT_EQ(a.find("two"), 0);
    EXPECT_EQ(b.find("one"), 1);
    EXPECT_EQ(b.find("two"), 2);
}

// Issue 22: a million watched EVM addresses in well under 64 MiB of RSS. The
// set itself is a fixed layout: 20 (key) + 8 (id) bytes per key (no
// offsets for keys of one length), a table of 4-byte slots at most half full, and a 32-bit-per-key
// filter; loaded in chunks like the scanner does, its capacity stays within
// 64 bytes per key (the node-based map it replaced took ~110).
TEST(WatchSet, AMillionEvmKeysFitIn64BytesEach) {
    std::mt19937_64 rng(1);
    WatchSet w;
    constexpr std::size_t kKeys = 1'000'000, kChunk = 10'000;
    for (std::size_t done = 0; done < kKeys; done += kChunk) {
        w.reserve(w.size() + kChunk);
        for (std::size_t i = 0; i < kChunk; ++i) w.insert(random_key(rng, 20), static_cast<std::int64_t>(done + i + 1));
    }
    ASSERT_EQ(w.size(), kKeys);
    EXPECT_LE(w.memory_bytes(), kKeys * 64) << w.memory_bytes() / kKeys << " bytes per key";
}

// Keys of one length keep no offsets; the first key of another length
// switches the set to offsets without losing any entry.
TEST(WatchSet, FixedLengthKeysThenAnotherLength) {
    std::mt19937_64 rng(7);
    std::map<std::string, std::int64_t> ref;
    WatchSet w;
    w.reserve(5000);
    for (std::int64_t i = 1; i <= 3000; ++i) {
        std::string k = random_key(rng, 20);
        ref[k] = i;
        w.insert(k, i);
    }
    for (const auto& [k, v] : ref) ASSERT_EQ(w.find(k), v);
    for (std::int64_t i = 3001; i <= 4000; ++i) {
        std::string k = random_key(rng, i % 2 ? 25 : 20);  // a Bitcoin-like mix from here on
        ref[k] = i;
        w.insert(k, i);
    }
    ASSERT_EQ(w.size(), ref.size());
    for (const auto& [k, v] : ref) ASSERT_EQ(w.find(k), v);
    std::int64_t expected = 0;
    w.for_each([&](std::string_view k, std::int64_t v) {
        EXPECT_EQ(v, ++expected);  // insertion order kept across the switch
        EXPECT_EQ(ref.at(std::string(k)), v);
    });
    EXPECT_EQ(expected, 4000);
}

// The scanner reserves once from a count (scanner.cpp, WatchRegistry::refresh):
// then a million 20-byte keys take 20 (key) + 8 (id) + ~8.4 (slots) + ~4.2
// (filter) bytes each and no growth slack.
TEST(WatchSet, AMillionEvmKeysReservedOnceTakeUnder42BytesEach) {
    std::mt19937_64 rng(2);
    WatchSet w;
    constexpr std::size_t kKeys = 1'000'000, kChunk = 50'000;
    w.reserve(kKeys);
    for (std::size_t done = 0; done < kKeys; done += kChunk) {
        w.reserve(w.size() + kChunk);  // as each loaded chunk does: nothing more
        for (std::size_t i = 0; i < kChunk; ++i) w.insert(random_key(rng, 20), static_cast<std::int64_t>(done + i + 1));
    }
    ASSERT_EQ(w.size(), kKeys);
    EXPECT_LE(w.memory_bytes(), kKeys * 42) << w.memory_bytes() / kKeys << " bytes per key";
}

}  // namespace
}  // namespace depositd::chain
