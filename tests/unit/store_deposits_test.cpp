// store/deposits list_deposits (issue 10): one index-backed statement per
// filter combination, keyset pagination, and totals from deposit_counts.
#include "store/deposits.hpp"
#include "sqlite_plan.hpp"
#include "test_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <unistd.h>

#include "core/ids.hpp"
#include "store/database.hpp"
#include "store/chain_state.hpp"
#include "store/events.hpp"
#include "store/planning.hpp"
#include "store/pool.hpp"

namespace fs = std::filesystem;
using namespace depositd;
using namespace depositd::store;

namespace {

const char* const kChains[] = {"ethereum", "bsc", "tron"};
const char* const kCurrencies[] = {"USDT", "USDC", "ETH"};
const char* const kStatuses[] = {"pending", "confirmed", "reverted"};
const char* const kRefs[] = {"alice", "bob", "carol"};

class DepositListTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("store_deposits_test_" + std::to_string(::getpid()) + "_" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        auto db = Database::open_location(test_store::location(dir_ / "t.sqlite"));
        ASSERT_TRUE(db) << db.error().message;
        db_ = std::move(*db);
    }
    void TearDown() override {
        db_.reset();
        fs::remove_all(dir_);
    }

    static Deposit make(int i, std::mt19937& rng) {
        Deposit d;
        d.chain_id = kChains[rng() % 3];
        d.tx_hash = "0xtx" + std::to_string(i);
        d.block_hash = "0xblock" + std::to_string(i);
        d.block_number = 100 + static_cast<std::uint64_t>(i);
        d.id = deposit_id(d.chain_id, d.tx_hash, 0, d.block_hash);
        d.address = "addr";
        if (rng() % 4) d.reference = kRefs[rng() % 3];
        d.currency = kCurrencies[rng() % 3];
        d.raw_amount = "1";
        d.decimals = 0;
        d.from = "0xfrom";
        d.required_confirmations = 12;
        d.status = kStatuses[rng() % 3];
        d.detected_at = 1'000 + (rng() % 60);  // many ties
        return d;
    }

    void fill(int n, unsigned seed = 7) {
        std::mt19937 rng(seed);
        for (int i = 0; i < n; ++i) {
            auto d = make(i, rng);
            ASSERT_TRUE(insert_deposit(*db_, d));
            all_.push_back(d);
        }
    }

    // What a filter must return, computed here the slow way.
    std::vector<std::string> expected(const DepositFilter& f) const {
        // (deposit, its insertion sequence = rowid in a fresh table)
        std::vector<std::pair<const Deposit*, std::size_t>> m;
        for (std::size_t i = 0; i < all_.size(); ++i) {
            const auto& d = all_[i];
            if ((!f.reference || d.reference == f.reference) && (!f.status || d.status == *f.status) &&
                (!f.chain_id || d.chain_id == *f.chain_id) && (!f.currency || d.currency == *f.currency))
                m.emplace_back(&d, i);
        }
        // Newest first; among deposits detected at the same millisecond the later insert first.
        std::sort(m.begin(), m.end(), [](const auto& a, const auto& b) {
            return a.first->detected_at != b.first->detected_at ? a.first->detected_at > b.first->detected_at
                                                                 : a.second > b.second;
        });
        std::vector<std::string> ids;
        for (const auto& [d, i] : m) ids.push_back(d->id);
        return ids;
    }

    static std::vector<DepositFilter> every_combination() {
        std::vector<DepositFilter> out;
        for (int mask = 0; mask < 16; ++mask) {
            DepositFilter f;
            if (mask & 1) f.reference = "alice";
            if (mask & 2) f.status = "confirmed";
            if (mask & 4) f.chain_id = "bsc";
            if (mask & 8) f.currency = "USDT";
            out.push_back(f);
        }
        return out;
    }

    fs::path dir_;
    std::unique_ptr<Database> db_;
    std::vector<Deposit> all_;
};

std::int64_t count_rows(Database& db, const std::string& sql) {
    auto q = db.prepare(sql);
    EXPECT_TRUE(*q.step());
    return q.int64(0);
}

TEST_F(DepositListTest, EveryCombinationWalksCompletelyByOffsetAndByCursor) {
    ASSERT_TRUE(db_->migrate());
    fill(600);
    for (DepositFilter f : every_combination()) {
        const auto want = expected(f);
        SCOPED_TRACE(std::to_string(want.size()) + " expected");
        // Keyset walk.
        f.limit = 23;
        std::vector<std::string> got;
        for (int guard = 0; guard < 100; ++guard) {
            auto page = list_deposits(*db_, f);
            ASSERT_TRUE(page) << page.error().describe();
            EXPECT_EQ(page->total, want.size());
            for (const auto& d : page->deposits) got.push_back(d.id);
            if (!page->next) break;
            EXPECT_EQ(page->deposits.size(), 23u);
            EXPECT_EQ(page->next->detected_at, page->deposits.back().detected_at);
            f.after = page->next;
        }
        EXPECT_EQ(got, want);
        // Offset pages.
        f.after.reset();
        got.clear();
        for (f.page = 1; f.page < 100; ++f.page) {
            auto page = list_deposits(*db_, f);
            ASSERT_TRUE(page);
            for (const auto& d : page->deposits) got.push_back(d.id);
            if (page->deposits.size() < 23) break;
        }
        EXPECT_EQ(got, want);
    }
}

// Every statement list_deposits runs must use an index in list order: a
// search on the filtered columns, no full table scan, no sort (the order
// detected_at DESC, rowid DESC is a backward scan of (..., detected_at)).
TEST_F(DepositListTest, EveryCombinationIsServedByAnIndex) {
    if (db_->backend() != depositd::store::Backend::sqlite) GTEST_SKIP() << "SQLite's query plans (INDEXED BY)";
    ASSERT_TRUE(db_->migrate());
    fill(200);
    std::set<std::string> statements;
    sqlite3_trace_v2(
        db_->handle(), SQLITE_TRACE_STMT,
        [](unsigned, void* ctx, void* stmt, void*) {
            static_cast<std::set<std::string>*>(ctx)->insert(sqlite3_sql(static_cast<sqlite3_stmt*>(stmt)));
            return 0;
        },
        &statements);
    for (DepositFilter f : every_combination()) {
        ASSERT_TRUE(list_deposits(*db_, f));
        f.after = DepositKey{1030, 100};
        ASSERT_TRUE(list_deposits(*db_, f));
    }
    sqlite3_trace_v2(db_->handle(), 0, nullptr, nullptr);
    ASSERT_EQ(statements.size(), 16u * 3);  // count, offset page, keyset page per combination
    for (const auto& sql : statements) {
        SCOPED_TRACE(sql);
        const std::string all = test_store::sqlite_query_plan(*db_, sql);
        SCOPED_TRACE(all);
        EXPECT_EQ(all.find("TEMP B-TREE"), std::string::npos);
        EXPECT_EQ(all.find("SCAN deposits\n"), std::string::npos);  // a table scan
        const bool filtered = sql.find(" = ?") != std::string::npos;
        const bool keyset = sql.find("detected_at <= ?6") != std::string::npos;
        if (sql.find("FROM deposit_counts") != std::string::npos) continue;  // a handful of rows
        if (filtered || keyset)
            EXPECT_NE(all.find("SEARCH deposits USING"), std::string::npos);  // an index range, not a walk
        else
            EXPECT_NE(all.find("SCAN deposits USING INDEX deposits_time"), std::string::npos);  // in order, stops at LIMIT
    }
}

TEST_F(DepositListTest, CountsFollowInsertsUpdatesAndDeletes) {
    ASSERT_TRUE(db_->migrate());
    fill(300);
    auto check = [&] {
        for (const auto& f : every_combination()) {
            auto page = list_deposits(*db_, f);
            ASSERT_TRUE(page);
            EXPECT_EQ(page->total, expected(f).size());
        }
        EXPECT_EQ(count_rows(*db_, "SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM deposit_counts"),
                  count_rows(*db_, "SELECT count(*) FROM deposits"));
    };
    check();
    // Status changes (pending -> confirmed -> reverted) move counts.
    for (std::size_t i = 0; i < all_.size(); i += 3) {
        auto& d = all_[i];
        d.status = d.status == "pending" ? "confirmed" : "reverted";
        ASSERT_TRUE(update_deposit_state(*db_, d));
    }
    check();
    // A repeated insert (INSERT OR IGNORE) counts nothing.
    ASSERT_FALSE(*insert_deposit(*db_, all_[0]));
    check();
    // Deletes (a reorg tool, a manual fix) too.
    ASSERT_TRUE(db_->exec("DELETE FROM deposits WHERE chain_id = 'tron'"));
    all_.erase(std::remove_if(all_.begin(), all_.end(), [](const Deposit& d) { return d.chain_id == "tron"; }),
               all_.end());
    check();
}

TEST_F(DepositListTest, MigrationCountsExistingDeposits) {
    // A database of schema v1 with deposits in it, then the rest of the migrations.
    auto migrations = db_->backend() == depositd::store::Backend::postgresql ? embedded_pg_migrations() : embedded_migrations();
    ASSERT_GE(migrations.size(), 2u);
    ASSERT_TRUE(migrate_with(*db_, migrations.subspan(0, 1)));
    // Written as schema 001 knows a deposit (its 20 columns).
    std::mt19937 rng(7);
    for (int i = 0; i < 250; ++i) {
        auto d = make(i, rng);
        auto st = db_->prepare(
            "INSERT INTO deposits (id, chain_id, tx_hash, idx, block_hash, block_number, address_id, address, "
            "reference, currency, contract, raw_amount, decimals, from_address, confirmations, "
            "required_confirmations, status, detected_at, confirmed_at, reverted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
            "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)");
        st.bind(1, d.id).bind(2, d.chain_id).bind(3, d.tx_hash).bind(4, static_cast<std::int64_t>(d.index));
        st.bind(5, d.block_hash).bind(6, static_cast<std::int64_t>(d.block_number));
        if (d.address_id) st.bind(7, d.address_id); else st.bind_null(7);
        st.bind(8, d.address).bind(9, d.reference).bind(10, d.currency).bind(11, d.contract).bind(12, d.raw_amount);
        st.bind(13, static_cast<std::int64_t>(d.decimals)).bind(14, d.from);
        st.bind(15, static_cast<std::int64_t>(d.confirmations)).bind(16, static_cast<std::int64_t>(d.required_confirmations));
        st.bind(17, d.status).bind(18, d.detected_at).bind(19, d.confirmed_at).bind(20, d.reverted_at);
        auto done = st.step();
        ASSERT_TRUE(done) << done.error().describe();
        all_.push_back(d);
    }
    ASSERT_TRUE(db_->migrate());
    for (const auto& f : every_combination()) {
        auto page = list_deposits(*db_, f);
        ASSERT_TRUE(page);
        EXPECT_EQ(page->total, expected(f).size());
    }
}

TEST_F(DepositListTest, LimitIsCappedAndPageZeroIsOne) {
    ASSERT_TRUE(db_->migrate());
    fill(150);
    DepositFilter f;
    f.limit = 1000;
    f.page = 0;
    auto page = list_deposits(*db_, f);
    ASSERT_TRUE(page);
    EXPECT_EQ(page->deposits.size(), 100u);
    EXPECT_EQ(page->total, 150u);
    ASSERT_TRUE(page->next);
}

// Who a deposit belongs to (SPEC §10): the holder at block time; else the
// first binding begun within the skew after it; the latest binding wins a
// tie; an ended binding holds only until its end.
TEST_F(DepositListTest, ReferenceAtBlockTimeAndWithinTheSkewAfterIt) {
    ASSERT_TRUE(db_->migrate());
    auto add_address = [&](const std::string& a) {
        auto q = db_->prepare("INSERT INTO addresses (protocol, address, watch_key, source, created_at) "
                              "VALUES ('evm', ?1, ?2, 'test', 0) RETURNING id");
        const std::vector<std::uint8_t> key(a.begin(), a.end());
        q.bind(1, a).bind_blob(2, key);
        auto r = q.step();
        EXPECT_TRUE(r && *r) << (r ? "" : r.error().describe());
        return q.int64(0);
    };
    auto bind = [&](std::int64_t address, const std::string& ref, std::int64_t from, std::optional<std::int64_t> until) {
        auto q = db_->prepare("INSERT INTO bindings (reference, protocol, address_id, bound_at, unbound_at) "
                              "VALUES (?1, 'evm', ?2, ?3, ?4)");
        q.bind(1, ref).bind(2, address).bind(3, from).bind(4, until);
        auto s = q.run();
        ASSERT_TRUE(s) << s.error().describe();
    };
    auto ref = [&](std::int64_t address, std::int64_t at, std::int64_t skew) -> std::string {
        auto r = reference_at(*db_, address, at, skew);
        EXPECT_TRUE(r) << (r ? "" : r.error().describe());
        return r && *r ? **r : std::string("-");
    };
    const auto a = add_address("0xa");
    bind(a, "first", 1'000, 2'000);
    bind(a, "second", 2'000, 5'000);
    bind(a, "third", 8'000, std::nullopt);
    EXPECT_EQ(ref(a, 999, 0), "-");
    EXPECT_EQ(ref(a, 999, 1), "first");       // begun within the skew after it
    EXPECT_EQ(ref(a, 1'000, 0), "first");
    EXPECT_EQ(ref(a, 1'999, 60'000), "first");  // held at block time: the skew does not matter
    EXPECT_EQ(ref(a, 2'000, 0), "second");    // ended at 2,000: the next one holds it from then
    EXPECT_EQ(ref(a, 5'000, 0), "-");
    EXPECT_EQ(ref(a, 5'000, 2'999), "-");
    EXPECT_EQ(ref(a, 5'000, 3'000), "third");
    EXPECT_EQ(ref(a, 5'000, -5), "-");        // no skew
    EXPECT_EQ(ref(a, 9'000, 0), "third");
    // Two bindings begun in the same millisecond (only one can be active, but
    // an ended one may share its start): the later row wins at block time,
    // the earlier one within the skew.
    const auto b = add_address("0xb");
    bind(b, "early", 3'000, 3'000);
    bind(b, "late", 3'000, std::nullopt);
    EXPECT_EQ(ref(b, 3'000, 0), "late");
    const auto c = add_address("0xc");
    bind(c, "one", 4'000, 4'500);
    bind(c, "two", 4'000, 4'600);
    EXPECT_EQ(ref(c, 3'500, 1'000), "one");
    EXPECT_EQ(ref(c, 4'100, 0), "two");
}

// A batch's reads (deposits_by_id, addresses_by_id, ever_bound) in chunks
// of a fixed width: exactly the stored keys, across chunk borders, with
// unknown and repeated keys and a padded last chunk.
TEST_F(DepositListTest, BatchReadsReturnExactlyTheStoredKeysAcrossChunks) {
    ASSERT_TRUE(db_->migrate());
    fill(150);
    std::vector<std::string> ids;
    std::set<std::string> stored;
    for (const auto& d : all_) {
        ids.push_back(d.id);
        stored.insert(d.id);
    }
    for (int i = 0; i < 20; ++i) ids.push_back("unknown" + std::to_string(i));
    ids.push_back(all_.front().id);  // twice
    auto found = deposits_by_id(*db_, ids);
    ASSERT_TRUE(found) << found.error().describe();
    std::multiset<std::string> got;
    for (const auto& d : *found) got.insert(d.id);
    EXPECT_EQ(got, std::multiset<std::string>(stored.begin(), stored.end()));  // each once
    for (const auto& d : *found) {
        if (d.id == all_[70].id) {
            EXPECT_EQ(d.chain_id, all_[70].chain_id);
        }
    }
    auto none = deposits_by_id(*db_, {});
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());

    std::vector<std::int64_t> addresses;
    std::set<std::int64_t> bound;
    for (int i = 0; i < 130; ++i) {
        auto q = db_->prepare("INSERT INTO addresses (protocol, address, watch_key, source, created_at) "
                              "VALUES ('evm', ?1, ?2, 'test', 0) RETURNING id");
        const std::string a = "0xaddr" + std::to_string(i);
        const std::vector<std::uint8_t> key(a.begin(), a.end());
        q.bind(1, a).bind_blob(2, key);
        auto r = q.step();
        ASSERT_TRUE(r && *r);
        const auto id = q.int64(0);
        addresses.push_back(id);
        if (i % 3 == 0) {
            auto b = db_->prepare("INSERT INTO bindings (reference, protocol, address_id, bound_at, unbound_at) "
                                  "VALUES (?1, 'evm', ?2, 0, ?3)");
            // Ended bindings count: the address was bound once.
            b.bind(1, "ref" + std::to_string(i)).bind(2, id).bind(3, i % 2 ? std::optional<std::int64_t>(5)
                                                                             : std::nullopt);
            ASSERT_TRUE(b.run());
            bound.insert(id);
        }
    }
    auto asked = addresses;
    asked.push_back(999'999);  // unknown
    auto names = addresses_by_id(*db_, asked);
    ASSERT_TRUE(names) << names.error().describe();
    ASSERT_EQ(names->size(), addresses.size());
    EXPECT_EQ(names->at(addresses[100]), "0xaddr100");
    auto ever = ever_bound(*db_, asked);
    ASSERT_TRUE(ever) << ever.error().describe();
    EXPECT_EQ(std::set<std::int64_t>(ever->begin(), ever->end()), bound);
}

// A batch's writes in multi-row statements (a catch-up): every row exactly
// as one at a time would write it, events in the order given (their seq),
// counts kept, and a deposit stored already fails the unit.
TEST_F(DepositListTest, MultiRowWritesStoreEveryRowInOrder) {
    ASSERT_TRUE(db_->migrate());
    std::mt19937 rng(11);
    std::vector<Deposit> batch;
    for (int i = 0; i < 75; ++i) batch.push_back(make(i, rng));  // 64 + 8 + 2 + 1 rows
    std::vector<NewEvent> events;
    for (int i = 0; i < 150; ++i) {
        const auto& d = batch[static_cast<std::size_t>(i / 2)];
        NewEvent e;
        e.id = "evt_" + std::to_string(i);
        e.deposit_id = d.id;
        e.type = i % 2 ? "deposit.confirmed" : "deposit.pending";
        e.created_at = 5'000 + i;
        e.payload = "{\"n\":" + std::to_string(i) + "}";
        if (i % 7 == 0) e.order_id = "ord_" + std::to_string(i);
        events.push_back(e);
    }
    std::vector<StoredBlock> blocks;
    for (std::uint64_t h = 1; h <= 70; ++h) blocks.push_back({h, "0xh" + std::to_string(h), "0xh" + std::to_string(h - 1)});
    {
        Transaction tx(*db_);
        ASSERT_TRUE(tx.begun());
        ASSERT_TRUE(put_blocks(*db_, "ethereum", blocks));
        ASSERT_TRUE(add_deposits(*db_, batch));
        ASSERT_TRUE(add_events(*db_, events));
        ASSERT_TRUE(tx.commit());
    }
    for (const auto& d : batch) {
        auto got = get_deposit(*db_, d.id);
        ASSERT_TRUE(got && *got) << d.id;
        EXPECT_EQ((*got)->chain_id, d.chain_id);
        EXPECT_EQ((*got)->reference, d.reference);
        EXPECT_EQ((*got)->status, d.status);
        EXPECT_EQ((*got)->block_number, d.block_number);
        EXPECT_EQ((*got)->detected_at, d.detected_at);
    }
    {
        auto q = db_->prepare("SELECT id, status, attempts, next_attempt_at, created_at, order_id, stream FROM events "
                              "ORDER BY seq");
        std::size_t i = 0;
        for (;; ++i) {
            auto r = q.step();
            ASSERT_TRUE(r);
            if (!*r) break;
            ASSERT_LT(i, events.size());
            EXPECT_EQ(q.text(0), events[i].id);
            EXPECT_EQ(q.text(1), "pending");
            EXPECT_EQ(q.int64(2), 0);
            EXPECT_EQ(q.int64(3), events[i].created_at);
            EXPECT_EQ(q.int64(4), events[i].created_at);
            EXPECT_EQ(q.opt_text(5), i % 7 == 0 ? std::optional<std::string>("ord_" + std::to_string(i)) : std::nullopt);
            EXPECT_EQ(q.text(6), events[i].deposit_id);  // the stream defaults to the deposit
        }
        EXPECT_EQ(i, events.size());
    }
    EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM chain_blocks"), 70);
    EXPECT_EQ(count_rows(*db_, "SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM deposit_counts"), 75);
    EXPECT_EQ(count_rows(*db_, "SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM event_counts"), 150);
    // The same events again change nothing (a rescan never makes a second one).
    {
        Transaction tx(*db_);
        ASSERT_TRUE(tx.begun());
        ASSERT_TRUE(add_events(*db_, events));
        ASSERT_TRUE(tx.commit());
    }
    EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM events"), 150);
    EXPECT_EQ(count_rows(*db_, "SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM event_counts"), 150);
    // One deposit of a batch stored already: the unit fails, nothing of it stays.
    std::vector<Deposit> again{make(500, rng), batch[3], make(501, rng)};
    {
        Transaction tx(*db_);
        ASSERT_TRUE(tx.begun());
        auto s = add_deposits(*db_, again);
        if (s) s = tx.commit();
        ASSERT_FALSE(s);
        EXPECT_EQ(s.error().code, Errc::conflict) << s.error().describe();
    }
    EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM deposits"), 75);
    EXPECT_EQ(count_rows(*db_, "SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM deposit_counts"), 75);
}

// The catch-up's planning hint holds for its transaction only.
TEST_F(DepositListTest, PlanningForEachExecutionEndsWithTheTransaction) {
    ASSERT_TRUE(db_->migrate());
    if (db_->backend() != Backend::postgresql) {
        EXPECT_TRUE(plan_for_each_execution(*db_));  // nothing to do
        GTEST_SKIP() << "PostgreSQL's plan cache";
    }
    auto mode = [&] {
        auto q = db_->prepare("SELECT current_setting('plan_cache_mode')");
        auto r = q.step();
        EXPECT_TRUE(r && *r);
        return q.text(0);
    };
    {
        Transaction tx(*db_);
        ASSERT_TRUE(tx.begun());
        ASSERT_TRUE(plan_for_each_execution(*db_));
        EXPECT_EQ(mode(), "force_custom_plan");
        ASSERT_TRUE(tx.commit());
    }
    EXPECT_EQ(mode(), "auto");
}

}  // namespace
