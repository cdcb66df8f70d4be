// store/pool_import: bulk insert in chunks, duplicate counting, xpub cursors.
#include "store/pool_import.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include "store/database.hpp"
#include "store/pool.hpp"
#include "test_store.hpp"

namespace fs = std::filesystem;
using namespace depositd;
using namespace depositd::store;

namespace {

// An import's chunks, and how many writes another writer had made when the
// first and the last of them committed.
struct ChunkWatch {
    ChunkWatch(const std::atomic<int>& writes, ImportOptions& opts) {
        opts.progress = [this, &writes](std::size_t, const ImportCounts&) {
            ++chunks;
            if (!writes_at_first) writes_at_first = writes.load();
            writes_at_last = writes.load();
        };
    }
    int chunks = 0;
    std::optional<int> writes_at_first;
    int writes_at_last = 0;
};

class PoolImportTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("pool_import_test_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        location_ = test_store::location(dir_ / "t.sqlite");  // or a PostgreSQL database (unit.pg.*)
        auto db = Database::open_location(location_);
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
    std::string location_;
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

// sort_by_key (depositctl's file imports): rows go in in the byte order of
// their watch keys (keys sharing their first 8 bytes, shorter keys that are
// another's prefix, bytes above 0x7f), and of two rows with one key the
// earlier line is the one imported.
TEST_F(PoolImportTest, SortedImportWritesInKeyOrderAndKeepsTheEarlierOfEqualKeys) {
    auto keyed = [](std::vector<std::uint8_t> key, const std::string& address) {
        ImportRow r;
        r.watch_key = std::move(key);
        r.address = address;
        r.source = "file:test.txt";
        return r;
    };
    const std::vector<std::uint8_t> base{1, 2, 3, 4, 5, 6, 7, 8};
    auto with = [&](std::vector<std::uint8_t> tail) {
        auto k = base;
        k.insert(k.end(), tail.begin(), tail.end());
        return k;
    };
    std::vector<ImportRow> rows{
        keyed(with({9}), "b"),          keyed({0xff, 0}, "z"),      keyed(with({}), "a"),
        keyed(with({0x80}), "c"),       keyed({1, 2, 3}, "0"),      keyed(with({9}), "b-later"),
        keyed({1, 2, 3, 0}, "0b"),      keyed({0x7f}, "y"),
    };
    ImportOptions options;
    options.sort_by_key = true;
    auto r = import_addresses(*db_, "evm", rows, 1000, std::nullopt, options);
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->imported, 7u);
    EXPECT_EQ(r->duplicates, 1u);
    std::vector<std::string> in_order;
    auto st = db_->prepare("SELECT address FROM addresses ORDER BY id");
    while (*st.step()) in_order.push_back(st.text(0));
    EXPECT_EQ(in_order, (std::vector<std::string>{"0", "0b", "a", "b", "c", "y", "z"}));
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
    if (test_store::postgres()) GTEST_SKIP() << "SQLite's write lock (PostgreSQL: AddressInsertersWaitingOnPostgreSqlGetInBetweenChunks)";
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

// A big import (its speed is measured in bench/e2e_pool_import.py, see
// docs/performance.md): every row in, SQLite's bigger import cache given back.
TEST_F(PoolImportTest, HundredThousandRows) {
    std::vector<ImportRow> rows;
    rows.reserve(100'000);
    for (std::uint32_t i = 0; i < 100'000; ++i) rows.push_back(row(i));
    const bool sqlite = db_->backend() == Backend::sqlite;
    auto cache_size = [&]() -> std::int64_t {
        if (!sqlite) return 0;  // PostgreSQL: shared_buffers, not ours
        auto q = db_->prepare("PRAGMA cache_size");
        EXPECT_TRUE(*q.step());
        return q.int64(0);
    };
    const auto cache_before = cache_size();
    auto r = import_addresses(*db_, "evm", rows, 1);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->imported, 100'000u);
    EXPECT_EQ(count("evm"), 100'000);
    EXPECT_EQ(cache_size(), cache_before);  // the bigger import cache is given back
    auto again = import_addresses(*db_, "evm", rows, 2);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->imported, 0u);
    EXPECT_EQ(again->duplicates, 100'000u);
}

TEST_F(PoolImportTest, WritesInChunksOfAtMostChunkRows) {
    std::vector<ImportRow> rows;
    for (std::uint32_t i = 1; i <= 2'345; ++i) rows.push_back(row(i));
    rows.push_back(row(7));  // a duplicate within the input, in the last chunk
    ImportOptions opts;
    opts.chunk_rows = 1'000;
    opts.target_chunk_time = std::chrono::milliseconds(0);  // fixed size
    opts.pause = std::chrono::milliseconds(0);
    std::vector<std::size_t> progress;
    opts.progress = [&](std::size_t done, const ImportCounts& c) {
        progress.push_back(done);
        EXPECT_EQ(c.imported + c.duplicates, done);
        // Each chunk is committed: another connection already sees it.
        auto other = Database::open_location(location_);
        ASSERT_TRUE(other);
        auto q = (*other)->prepare("SELECT count(*) FROM addresses");
        ASSERT_TRUE(*q.step());
        EXPECT_EQ(static_cast<std::uint64_t>(q.int64(0)), c.imported);
    };
    auto r = import_addresses(*db_, "evm", rows, 1, CursorUpdate{"xpubC", "evm", 2'346}, opts);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->imported, 2'345u);
    EXPECT_EQ(r->duplicates, 1u);
    EXPECT_EQ(progress, (std::vector<std::size_t>{1'000, 2'000, 2'346}));
    EXPECT_EQ(*get_xpub_cursor(*db_, "xpubC", "evm"), 2'346u);
    // The default chunk holds at most 10,000 rows, and a huge chunk_rows is capped.
    EXPECT_LE(kImportChunkRows, 10'000u);
    opts.chunk_rows = 1'000'000;
    progress.clear();
    std::vector<ImportRow> more;
    for (std::uint32_t i = 10'000; i < 35'000; ++i) more.push_back(row(i));
    opts.progress = [&](std::size_t done, const ImportCounts&) { progress.push_back(done); };
    ASSERT_TRUE(import_addresses(*db_, "evm", more, 1, std::nullopt, opts));
    EXPECT_EQ(progress, (std::vector<std::size_t>{10'000, 20'000, 25'000}));
}

TEST_F(PoolImportTest, AFailureKeepsTheCommittedChunksAndSaysSo) {
    if (test_store::postgres()) GTEST_SKIP() << "SQLite's write lock (PostgreSQL: AddressInsertersWaitingOnPostgreSqlGetInBetweenChunks)";
    std::vector<ImportRow> rows;
    for (std::uint32_t i = 1; i <= 30; ++i) rows.push_back(row(i));
    ImportOptions opts;
    opts.chunk_rows = 10;
    opts.target_chunk_time = std::chrono::milliseconds(0);
    opts.pause = std::chrono::milliseconds(0);
    auto other = Database::open((dir_ / "t.sqlite").string(), 50);
    ASSERT_TRUE(other);
    std::optional<Transaction> held;
    // After the first chunk, another writer takes the lock and keeps it.
    opts.progress = [&](std::size_t done, const ImportCounts&) {
        if (done == 10) held.emplace(**other);
    };
    auto mine = Database::open((dir_ / "t.sqlite").string(), 50);
    ASSERT_TRUE(mine);
    auto r = import_addresses(**mine, "evm", rows, 1, CursorUpdate{"xpubD", "evm", 31}, opts);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::io);
    EXPECT_NE(r.error().message.find("after 10 of 30 rows were committed: imported 10, duplicates 0"),
              std::string::npos)
        << r.error().message;
    held.reset();
    EXPECT_EQ(count("evm"), 10);
    EXPECT_EQ(*get_xpub_cursor(*db_, "xpubD", "evm"), 0u);  // moves only with the last chunk
    // Running it again completes it; what is there counts as duplicates.
    opts.progress = nullptr;
    auto again = import_addresses(**mine, "evm", rows, 1, CursorUpdate{"xpubD", "evm", 31}, opts);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->imported, 20u);
    EXPECT_EQ(again->duplicates, 10u);
    EXPECT_EQ(*get_xpub_cursor(*db_, "xpubD", "evm"), 31u);
}

TEST_F(PoolImportTest, ChunksLeaveRoomForAnotherWriter) {
    if (test_store::postgres()) GTEST_SKIP() << "SQLite's write lock (PostgreSQL: AddressInsertersWaitingOnPostgreSqlGetInBetweenChunks)";
    // A writer that wants the lock while a 100k import runs gets it between
    // two chunks, again and again, instead of after the whole import.
    std::vector<ImportRow> rows;
    for (std::uint32_t i = 0; i < 100'000; ++i) rows.push_back(row(i + 1));
    auto other = Database::open((dir_ / "t.sqlite").string(), 5'000);
    ASSERT_TRUE(other);
    std::atomic<bool> done{false};
    std::atomic<int> writes{0}, failures{0};
    std::thread writer([&] {
        while (!done) {
            auto st = (*other)->exec("BEGIN IMMEDIATE; INSERT INTO xpub_cursors VALUES ('w', 'evm', 1) "
                                     "ON CONFLICT (xpub, protocol) DO UPDATE SET next_index = next_index + 1; COMMIT");
            if (st) ++writes;
            else {
                ++failures;
                (void)(*other)->exec("ROLLBACK");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    });
    ImportOptions opts;  // the defaults depositctl uses
    ChunkWatch watch(writes, opts);
    auto r = import_addresses(*db_, "evm", rows, 1, std::nullopt, opts);
    done = true;
    writer.join();
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->imported, 100'000u);
    EXPECT_EQ(failures.load(), 0);
    EXPECT_GE(watch.chunks, 10);  // <= 10,000 rows a transaction
    ASSERT_TRUE(watch.writes_at_first);
    // Writes went through between chunks (one big transaction would allow none).
    EXPECT_GE(watch.writes_at_last - *watch.writes_at_first, 3) << watch.chunks << " chunks";
}

}  // namespace

// PostgreSQL: writers do not wait for an import, except those that insert
// addresses too (an order's receive address), which take the same advisory
// lock. The server queues such a waiter and grants it the lock at the
// chunk's commit, so the import does not pause between chunks (SQLite's
// busy handler polls, and needs the pause: ChunksLeaveRoomForAnotherWriter),
// and the waiter still gets in between two chunks, again and again.
TEST_F(PoolImportTest, AddressInsertersWaitingOnPostgreSqlGetInBetweenChunks) {
    if (!test_store::postgres()) GTEST_SKIP() << "PostgreSQL only (unit.pg.store_pool_import_test)";
    std::vector<ImportRow> rows;
    for (std::uint32_t i = 0; i < 20'000; ++i) rows.push_back(row(i + 1));
    auto other = Database::open_location(location_);
    ASSERT_TRUE(other);
    std::atomic<bool> done{false};
    std::atomic<int> writes{0}, failures{0};
    std::thread writer([&] {
        for (std::uint32_t n = 0; !done; ++n) {
            Transaction tx(**other);
            bool ok = tx.begun() && lock_address_inserts(**other);
            if (ok) {
                auto st = (*other)->prepare(
                    "INSERT INTO addresses (protocol, address, watch_key, source, state, created_at) "
                    "VALUES ('tron', ?1, ?2, 'order', 'free', 1)");
                auto r = row(1'000'000 + n);
                st.bind(1, r.address).bind_blob(2, r.watch_key);
                ok = st.run() && tx.commit();
            }
            if (ok) ++writes;
            else ++failures;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    });
    ImportOptions opts;
    opts.chunk_rows = 1'000;
    opts.target_chunk_time = std::chrono::milliseconds(0);  // 20 chunks
    ChunkWatch watch(writes, opts);
    auto r = import_addresses(*db_, "evm", rows, 1, std::nullopt, opts);
    done = true;
    writer.join();
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->imported, 20'000u);
    EXPECT_EQ(watch.chunks, 20);
    EXPECT_EQ(failures.load(), 0);
    ASSERT_TRUE(watch.writes_at_first);
    EXPECT_GE(watch.writes_at_last - *watch.writes_at_first, 5) << "the waiting writer was shut out";
    EXPECT_EQ(count("tron"), writes.load());
}
