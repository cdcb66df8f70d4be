// store/pool_import: bulk insert, duplicate counting, all-or-nothing, xpub cursors.
#include "store/pool_import.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "store/database.hpp"

namespace fs = std::filesystem;
using namespace depositd;
using namespace depositd::store;

namespace {

class PoolImportTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("pool_import_test_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        auto db = Database::open((dir_ / "t.sqlite").string());
        ASSERT_TRUE(db) << db.error().message;
        db_ = std::move(*db);
        ASSERT_TRUE(db_->migrate());
    }
    void TearDown() override {
        db_.reset();
        fs::remove_all(dir_);
    }

    std::int64_t count(const std::string& protocol) {
        auto st = db_->prepare("SELECT count(*) FROM addresses WHERE protocol = ?1");
        st.bind(1, protocol);
        EXPECT_TRUE(st.step().ok());
        return st.int64(0);
    }

    static ImportRow row(std::uint32_t n, const std::string& source = "file:test.txt") {
        ImportRow r;
        r.watch_key.assign(20, 0);
        for (int i = 0; i < 4; ++i) r.watch_key[16 + i] = static_cast<std::uint8_t>(n >> (8 * (3 - i)));
        char buf[64];
        std::snprintf(buf, sizeof buf, "0x%032x%08x", 0u, n);
        r.address = buf;
        r.source = source;
        return r;
    }

    fs::path dir_;
    std::unique_ptr<Database> db_;
};

TEST_F(PoolImportTest, InsertsRowsAsFree) {
    std::vector<ImportRow> rows{row(1), row(2), row(3)};
    auto r = import_addresses(*db_, "evm", rows, 1000);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->imported, 3u);
    EXPECT_EQ(r->duplicates, 0u);
    auto st = db_->prepare(
        "SELECT address, watch_key, source, derivation_path, state, cooldown_until, created_at FROM addresses "
        "WHERE protocol='evm' ORDER BY id");
    ASSERT_TRUE(*st.step());
    EXPECT_EQ(st.text(0), rows[0].address);
    EXPECT_EQ(st.blob(1), rows[0].watch_key);
    EXPECT_EQ(st.text(2), "file:test.txt");
    EXPECT_TRUE(st.is_null(3));
    EXPECT_EQ(st.text(4), "free");
    EXPECT_TRUE(st.is_null(5));
    EXPECT_EQ(st.int64(6), 1000);
}

TEST_F(PoolImportTest, CountsDuplicatesWithinInputAndAgainstPool) {
    ASSERT_TRUE(import_addresses(*db_, "evm", {row(1), row(2)}, 1));
    auto r = import_addresses(*db_, "evm", {row(2), row(3), row(3), row(1), row(4)}, 2);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->imported, 2u);    // 3, 4
    EXPECT_EQ(r->duplicates, 3u);  // 2 (pool), 3 (twice in input), 1 (pool)
    EXPECT_EQ(count("evm"), 4);
}

TEST_F(PoolImportTest, SameWatchKeyDifferentTextIsDuplicate) {
    auto a = row(7);
    auto b = row(7);
    b.address = "something-else";
    auto r = import_addresses(*db_, "bitcoin", {a, b}, 1);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->imported, 1u);
    EXPECT_EQ(r->duplicates, 1u);
}

TEST_F(PoolImportTest, ProtocolsAreSeparatePools) {
    ASSERT_TRUE(import_addresses(*db_, "evm", {row(1)}, 1));
    auto r = import_addresses(*db_, "tron", {row(1)}, 1);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->imported, 1u);
    EXPECT_EQ(count("evm"), 1);
    EXPECT_EQ(count("tron"), 1);
}

TEST_F(PoolImportTest, BadInputChangesNothing) {
    auto bad = row(9);
    bad.watch_key.clear();
    auto r = import_addresses(*db_, "evm", {row(1), bad}, 1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_input);
    EXPECT_EQ(count("evm"), 0);

    auto r2 = import_addresses(*db_, "dogecoin", {row(1)}, 1);
    ASSERT_FALSE(r2);
    EXPECT_EQ(r2.error().code, Errc::invalid_input);
    EXPECT_EQ(count("evm"), 0);
}

TEST_F(PoolImportTest, EmptyInputIsFine) {
    auto r = import_addresses(*db_, "solana", {}, 1);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->imported, 0u);
    EXPECT_EQ(r->duplicates, 0u);
}

TEST_F(PoolImportTest, DerivationPathStored) {
    auto r1 = row(1, "xpub:deadbeef");
    r1.derivation_path = "0/17";
    ASSERT_TRUE(import_addresses(*db_, "bitcoin", {r1}, 1));
    auto st = db_->prepare("SELECT source, derivation_path FROM addresses");
    ASSERT_TRUE(*st.step());
    EXPECT_EQ(st.text(0), "xpub:deadbeef");
    EXPECT_EQ(st.text(1), "0/17");
}

TEST_F(PoolImportTest, FailsCleanlyWhenAnotherWriterHoldsTheLock) {
    auto other = Database::open((dir_ / "t.sqlite").string(), 50);
    ASSERT_TRUE(other);
    auto mine = Database::open((dir_ / "t.sqlite").string(), 50);
    ASSERT_TRUE(mine);
    Transaction held(**other);
    ASSERT_TRUE(held.begun());
    auto r = import_addresses(**mine, "evm", {row(1)}, 1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::io);
}

TEST_F(PoolImportTest, XpubCursorDefaultsToZeroAndMovesForwardOnly) {
    auto c = get_xpub_cursor(*db_, "xpubA", "bitcoin");
    ASSERT_TRUE(c);
    EXPECT_EQ(*c, 0u);
    ASSERT_TRUE(set_xpub_cursor(*db_, "xpubA", "bitcoin", 5));
    EXPECT_EQ(*get_xpub_cursor(*db_, "xpubA", "bitcoin"), 5u);
    EXPECT_EQ(*get_xpub_cursor(*db_, "xpubA", "evm"), 0u);  // per (xpub, protocol)
    EXPECT_EQ(*get_xpub_cursor(*db_, "xpubB", "bitcoin"), 0u);

    // Through an import: only forward.
    auto r = import_addresses(*db_, "bitcoin", {row(1)}, 1, CursorUpdate{"xpubA", "bitcoin", 3});
    ASSERT_TRUE(r);
    EXPECT_EQ(*get_xpub_cursor(*db_, "xpubA", "bitcoin"), 5u);
    ASSERT_TRUE(import_addresses(*db_, "bitcoin", {row(2)}, 1, CursorUpdate{"xpubA", "bitcoin", 9}));
    EXPECT_EQ(*get_xpub_cursor(*db_, "xpubA", "bitcoin"), 9u);
    // set overwrites (an explicit reset).
    ASSERT_TRUE(set_xpub_cursor(*db_, "xpubA", "bitcoin", 2));
    EXPECT_EQ(*get_xpub_cursor(*db_, "xpubA", "bitcoin"), 2u);
    EXPECT_FALSE(set_xpub_cursor(*db_, "", "bitcoin", 2));
    EXPECT_FALSE(set_xpub_cursor(*db_, "xpubA", "nope", 2));
}

TEST_F(PoolImportTest, CursorNotMovedWhenImportFails) {
    auto bad = row(1);
    bad.address.clear();
    ASSERT_FALSE(import_addresses(*db_, "evm", {bad}, 1, CursorUpdate{"xpubA", "evm", 10}));
    EXPECT_EQ(*get_xpub_cursor(*db_, "xpubA", "evm"), 0u);
}

TEST_F(PoolImportTest, HundredThousandRowsQuickly) {
    std::vector<ImportRow> rows;
    rows.reserve(100'000);
    for (std::uint32_t i = 0; i < 100'000; ++i) rows.push_back(row(i));
    auto cache_size = [&] {
        auto q = db_->prepare("PRAGMA cache_size");
        EXPECT_TRUE(*q.step());
        return q.int64(0);
    };
    const auto cache_before = cache_size();
    auto t0 = std::chrono::steady_clock::now();
    auto r = import_addresses(*db_, "evm", rows, 1);
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->imported, 100'000u);
    EXPECT_EQ(count("evm"), 100'000);
    // Generous even under sanitizers; the release figure is in docs/performance.md.
    EXPECT_LT(secs, 30.0);
    EXPECT_EQ(cache_size(), cache_before);  // the bigger import cache is given back
    auto again = import_addresses(*db_, "evm", rows, 2);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->imported, 0u);
    EXPECT_EQ(again->duplicates, 100'000u);
}

}  // namespace
