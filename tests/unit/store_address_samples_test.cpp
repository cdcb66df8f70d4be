// store::address_samples: a few addresses standing for every kind in a pool
// (the Bitcoin node network check at start-up).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "store/database.hpp"
#include "store/pool.hpp"
#include "store/pool_import.hpp"

namespace fs = std::filesystem;
using namespace depositd;
using namespace depositd::store;

namespace {

ImportRow row(const std::string& address, std::uint8_t k) {
    ImportRow r;
    r.address = address;
    r.watch_key.assign(22, k);
    r.source = "file:test";
    return r;
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

TEST(StoreAddressSamples, ExtremesOfEachPrefixAndLengthGroup) {
    const fs::path dir = fs::temp_directory_path() / ("address_samples_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    auto db = Database::open((dir / "t.sqlite").string());
    ASSERT_TRUE(db) << db.error().message;
    ASSERT_TRUE((*db)->migrate());

    auto empty = address_samples(**db, "bitcoin");
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->empty());

    // 50 mainnet P2WPKH-like texts and a few of other networks: each kind
    // forms its own (first two characters, length) group, so none is lost
    // among the many.
    std::vector<ImportRow> rows;
    for (int i = 0; i < 50; ++i) {
        std::string a = "bc1q" + std::string(38, static_cast<char>('a' + i % 26));
        a[5] = static_cast<char>('a' + i / 26);
        rows.push_back(row(a, static_cast<std::uint8_t>(i)));
    }
    rows.push_back(row("tb1q" + std::string(38, 'm'), 100));
    rows.push_back(row("tb1q" + std::string(38, 'z'), 101));
    rows.push_back(row("bcrt1q" + std::string(38, 'x'), 102));  // same first two characters as bc1q, other length
    rows.push_back(row("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH", 103));
    ASSERT_TRUE(import_addresses(**db, "bitcoin", rows, 1).ok());
    ASSERT_TRUE(import_addresses(**db, "evm", {row("0x" + std::string(40, 'a'), 1)}, 1).ok());

    auto s = address_samples(**db, "bitcoin");
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_LE(s->size(), 8u);
    EXPECT_TRUE(has(*s, "tb1q" + std::string(38, 'm')));
    EXPECT_TRUE(has(*s, "tb1q" + std::string(38, 'z')));
    EXPECT_TRUE(has(*s, "bcrt1q" + std::string(38, 'x')));
    EXPECT_TRUE(has(*s, "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"));
    EXPECT_TRUE(std::any_of(s->begin(), s->end(), [](const std::string& a) { return a.rfind("bc1q", 0) == 0; }));
    EXPECT_FALSE(std::any_of(s->begin(), s->end(), [](const std::string& a) { return a.rfind("0x", 0) == 0; }));
    db->reset();
    fs::remove_all(dir);
}
