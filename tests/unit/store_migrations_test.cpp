// Migrations: applied in order, each in a transaction with its row in
// schema_migrations (by name), safe to re-run, and a failing migration leaves
// the database as it was. A database of the numbered record is adopted.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <span>
#include <fstream>
#include <sstream>

#include "store/chain_state.hpp"
#include "store/counters.hpp"
#include "store/pool.hpp"
#include "store/database.hpp"
#include "store/deposits.hpp"
#include "store/events.hpp"

using namespace depositd;
using namespace depositd::store;

namespace {

class Migrations : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = (std::filesystem::temp_directory_path() / ("migr_" + std::to_string(::getpid()) + "_" +
                                                           ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".sqlite"))
                    .string();
        std::filesystem::remove(path_);
    }
    void TearDown() override {
        for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
    }
    std::unique_ptr<Database> open() { return std::move(Database::open(path_).value()); }
    static bool has_table(Database& db, const std::string& name) {
        auto s = db.prepare("SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?1");
        s.bind(1, name);
        EXPECT_TRUE(*s.step());
        return s.int64(0) == 1;
    }
    std::string path_;
};

TEST_F(Migrations, EmbeddedSchemaAppliesAndReRunsAsNoOp) {
    auto db = open();
    EXPECT_EQ(db->schema_version(), 0);
    ASSERT_TRUE(db->migrate().ok());
    const int v = db->schema_version();
    EXPECT_GE(v, 1);
    for (auto t : {"addresses", "bindings", "chain_cursors", "chain_blocks", "deposits", "events", "delivery_attempts"})
        EXPECT_TRUE(has_table(*db, t)) << t;
    ASSERT_TRUE(db->migrate().ok());
    EXPECT_EQ(db->schema_version(), v);
    db.reset();
    auto again = open();
    ASSERT_TRUE(again->migrate().ok());
    EXPECT_EQ(again->schema_version(), v);
}

TEST_F(Migrations, FailingMigrationRollsBackCompletely) {
    auto db = open();
    const Migration good[] = {{1, "one", "CREATE TABLE a (x INTEGER);"}};
    ASSERT_TRUE(migrate_with(*db, good).ok());
    // The second migration fails half-way: its first statement must not stay.
    const Migration bad[] = {{1, "one", "CREATE TABLE a (x INTEGER);"},
                             {2, "two", "CREATE TABLE b (y INTEGER); CREATE TABLE a (dup INTEGER);"}};
    auto s = migrate_with(*db, bad);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("002_two"), std::string::npos) << s.error().message;
    EXPECT_EQ(db->schema_version(), 1);
    EXPECT_FALSE(has_table(*db, "b"));
    // Fixed and re-run: applies.
    const Migration fixed[] = {{1, "one", "CREATE TABLE a (x INTEGER);"}, {2, "two", "CREATE TABLE b (y INTEGER);"}};
    ASSERT_TRUE(migrate_with(*db, fixed).ok());
    EXPECT_EQ(db->schema_version(), 2);
    EXPECT_TRUE(has_table(*db, "b"));
}

TEST_F(Migrations, RecordedByNameNotByHighestNumber) {
    auto db = open();
    const Migration first[] = {{1, "a", "CREATE TABLE a (x INTEGER);"}, {3, "c", "CREATE TABLE c (x INTEGER);"}};
    ASSERT_TRUE(migrate_with(*db, first).ok());
    EXPECT_EQ(db->schema_version(), 3);
    // Written in parallel: one numbered below the highest applied, one
    // sharing a number with an applied one. Both still apply, in file order.
    const Migration later[] = {{1, "a", "CREATE TABLE a (x INTEGER);"},
                               {2, "b", "CREATE TABLE b (x INTEGER);"},
                               {3, "c", "CREATE TABLE c (x INTEGER);"},
                               {3, "d", "CREATE TABLE d (x INTEGER);"}};
    ASSERT_TRUE(migrate_with(*db, later).ok());
    EXPECT_TRUE(has_table(*db, "b"));
    EXPECT_TRUE(has_table(*db, "d"));
    EXPECT_EQ(db->applied_migrations().value(), (std::vector<std::string>{"001_a", "002_b", "003_c", "003_d"}));
    EXPECT_EQ(db->schema_version(), 3);
    ASSERT_TRUE(migrate_with(*db, later).ok());  // nothing left to do
    EXPECT_FALSE(has_table(*db, "schema_version"));
}

// A database upgraded by a newer version (a migration this list does not
// have) is refused as it is: an older binary would write tables that are
// no longer what it knows.
TEST_F(Migrations, ADatabaseFromANewerVersionIsRefused) {
    auto db = open();
    const Migration newer[] = {{1, "a", "CREATE TABLE a (x INTEGER);"}, {2, "b", "CREATE TABLE b (x INTEGER);"}};
    ASSERT_TRUE(migrate_with(*db, newer).ok());
    const Migration older[] = {{1, "a", "CREATE TABLE a (x INTEGER);"}, {3, "c", "CREATE TABLE c (x INTEGER);"}};
    auto s = migrate_with(*db, older);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, Errc::conflict);
    EXPECT_NE(s.error().message.find("002_b"), std::string::npos) << s.error().message;
    EXPECT_EQ(s.error().message.find("001_a"), std::string::npos) << s.error().message;
    EXPECT_FALSE(has_table(*db, "c"));
    EXPECT_EQ(db->applied_migrations().value(), (std::vector<std::string>{"001_a", "002_b"}));
}

TEST_F(Migrations, WalModeAndForeignKeys) {
    auto db = open();
    auto s = db->prepare("PRAGMA journal_mode");
    ASSERT_TRUE(*s.step());
    EXPECT_EQ(s.text(0), "wal");
    auto f = db->prepare("PRAGMA foreign_keys");
    ASSERT_TRUE(*f.step());
    EXPECT_EQ(f.int64(0), 1);
}

TEST_F(Migrations, DepositRepositoryRoundTripAndIdempotentInsert) {
    auto db = open();
    ASSERT_TRUE(db->migrate().ok());
    Deposit d;
    d.id = "dep_1";
    d.chain_id = "ethereum";
    d.tx_hash = "0xabc";
    d.index = 7;
    d.block_hash = "0xb";
    d.block_number = 19000000;
    d.address = "0xAddr";
    d.currency = "USDT";
    d.contract = "0xdAC17F958D2ee523a2206206994597C13D831ec7";
    d.raw_amount = "125500000";
    d.decimals = 6;
    d.from = "0xfrom";
    d.confirmations = 3;
    d.required_confirmations = 12;
    d.status = "pending";
    d.detected_at = 1700000000000;
    ASSERT_TRUE(*insert_deposit(*db, d));
    EXPECT_FALSE(*insert_deposit(*db, d));  // same identity: ignored
    auto got = get_deposit(*db, "dep_1");
    ASSERT_TRUE(got.ok() && *got);
    auto j = deposit_to_json(**got);
    EXPECT_EQ(j.at("amount").as_string(), "125.5");
    EXPECT_EQ(j.at("rawAmount").as_string(), "125500000");
    EXPECT_TRUE(j.at("depositReference").is_null());
    EXPECT_TRUE(j.at("confirmedAt").is_null());
    EXPECT_EQ(j.at("index").as_uint64(), 7u);
    DepositFilter f;
    f.status = "pending";
    auto page = list_deposits(*db, f);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->total, 1u);
    f.status = "confirmed";
    EXPECT_EQ(list_deposits(*db, f)->total, 0u);
    // A statement with an injected quote is just data.
    f.status = "pending' OR '1'='1";
    EXPECT_EQ(list_deposits(*db, f)->total, 0u);
}

TEST_F(Migrations, CursorAndBlocks) {
    auto db = open();
    ASSERT_TRUE(db->migrate().ok());
    Cursor cur;
    cur.chain_id = "eth";
    cur.height = 10;
    cur.hash = "0xa";
    cur.head = 12;
    cur.finalized = 7;
    cur.finalized_hash = "0x7";
    cur.updated_at = 1;
    ASSERT_TRUE(put_cursor(*db, cur).ok());
    ASSERT_TRUE(put_block(*db, "eth", {10, "0xa", "0x9"}).ok());
    ASSERT_TRUE(put_block(*db, "eth", {11, "0xb", "0xa"}).ok());
    ASSERT_TRUE(delete_blocks_above(*db, "eth", 10).ok());
    EXPECT_FALSE(get_block(*db, "eth", 11)->has_value());
    auto c = get_cursor(*db, "eth");
    ASSERT_TRUE(c.ok() && *c);
    EXPECT_EQ((*c)->height, 10u);
    EXPECT_EQ((*c)->head, std::optional<std::uint64_t>(12));
    EXPECT_EQ((*c)->last_block_height(), 10u);
    // The proven finalized block never goes down (height and hash move
    // together); skipped heights after the last block are kept apart.
    cur.finalized = 3;
    cur.finalized_hash = "0x3";
    cur.height = 14;
    cur.block_height = 11;
    ASSERT_TRUE(put_cursor(*db, cur).ok());
    c = get_cursor(*db, "eth");
    EXPECT_EQ((*c)->finalized, std::optional<std::uint64_t>(7));
    EXPECT_EQ((*c)->finalized_hash, std::optional<std::string>("0x7"));
    ASSERT_TRUE(set_finalized(*db, "eth", 5, "0x5", 2).ok());  // lower: ignored
    ASSERT_TRUE(set_finalized(*db, "eth", 9, "0x9", 2).ok());
    c = get_cursor(*db, "eth");
    EXPECT_EQ((*c)->finalized, std::optional<std::uint64_t>(9));
    EXPECT_EQ((*c)->finalized_hash, std::optional<std::string>("0x9"));
    // Without a hash nothing is proven: put_cursor leaves the proven block as it is.
    cur.finalized = 12;
    cur.finalized_hash.reset();
    ASSERT_TRUE(put_cursor(*db, cur).ok());
    EXPECT_EQ((*get_cursor(*db, "eth"))->finalized, std::optional<std::uint64_t>(9));
    // A height stored before schema 006 (no hash) was never proven: not reported.
    ASSERT_TRUE(db->exec("UPDATE chain_cursors SET finalized = 20, finalized_hash = NULL").ok());
    EXPECT_FALSE((*get_cursor(*db, "eth"))->finalized.has_value());
    EXPECT_EQ((*c)->height, 14u);
    EXPECT_EQ((*c)->last_block_height(), 11u);
}

// Schema 006: a finalized height stored before it was only a node's claim,
// never proven on our blocks: forgotten, so a restart cannot halt on it.
TEST_F(Migrations, FinalizedHeightsFromBefore006AreForgotten) {
    auto db = open();
    std::vector<Migration> before;
    for (const auto& m : embedded_migrations())
        if (m.version < 6) before.push_back(m);
    ASSERT_TRUE(migrate_with(*db, before).ok());
    ASSERT_TRUE(db->exec("INSERT INTO chain_cursors (chain_id, height, hash, updated_at, finalized) "
                         "VALUES ('eth', 10, '0xa', 1, 7)").ok());
    ASSERT_TRUE(db->migrate().ok());
    auto c = get_cursor(*db, "eth");
    ASSERT_TRUE(c.ok() && *c);
    EXPECT_EQ((*c)->height, 10u);
    EXPECT_FALSE((*c)->finalized.has_value());
    EXPECT_FALSE((*c)->finalized_hash.has_value());
}

// Counters kept by triggers match the tables (what /health and /metrics read).
TEST_F(Migrations, CountersFollowTheTables) {
    auto db = open();
    ASSERT_TRUE(db->migrate().ok());
    EXPECT_FALSE(has_table(*db, "counters"));  // deposits are counted once, in deposit_counts
    for (int i = 0; i < 5; ++i) {
        auto q = db->prepare("INSERT INTO addresses (protocol, address, watch_key, source, created_at) "
                             "VALUES ('evm', ?1, ?1, 't', 0)");
        q.bind(1, "a" + std::to_string(i));
        ASSERT_TRUE(q.run().ok());
    }
    ASSERT_TRUE(db->exec("UPDATE addresses SET state = 'bound' WHERE address IN ('a0', 'a1')").ok());
    ASSERT_TRUE(db->exec("UPDATE addresses SET state = 'cooling', cooldown_until = 5 WHERE address = 'a2'").ok());
    auto c = read_counters(*db);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ((c->pool[{"evm", "free"}]), 2u);
    EXPECT_EQ((c->pool[{"evm", "bound"}]), 2u);
    EXPECT_EQ((c->pool[{"evm", "cooling"}]), 1u);
    auto stats = pool_stats(*db, 10);  // a2's cooldown has passed: free again
    ASSERT_TRUE(stats.ok());
    ASSERT_EQ(stats->size(), 1u);
    EXPECT_EQ((*stats)[0].free, 3u);
    EXPECT_EQ((*stats)[0].bound, 2u);
    EXPECT_EQ((*stats)[0].cooling, 0u);
}

// The counts as today's code reads them, straight from the tables that hold
// them in a database of either schema.
std::string counts_of(Database& db, const char* sql) {
    std::string out;
    auto q = db.prepare(sql);
    for (;;) {
        auto r = q.step();
        EXPECT_TRUE(r.ok());
        if (!r.ok() || !*r) break;
        out += q.text(0) + "|" + q.text(1) + "|" + std::to_string(q.int64(2)) + "\n";
    }
    return out;
}

std::string text_of(const Counters& c) {
    std::string out;
    for (const auto& [k, n] : c.pool) out += "pool " + k.first + " " + k.second + " " + std::to_string(n) + "\n";
    for (const auto& [k, n] : c.deposits) out += "deposits " + k.first + " " + k.second + " " + std::to_string(n) + "\n";
    for (const auto& [k, n] : c.events) out += "events " + k + " " + std::to_string(n) + "\n";
    return out;
}

// 014 keys attempts to their event by seq instead of id: the attempts made
// before it keep their event, their order and every field.
TEST_F(Migrations, AttemptsMadeBefore014KeepTheirEvents) {
    auto db = open();
    const auto all = embedded_migrations();
    auto at = std::find_if(all.begin(), all.end(), [](const Migration& m) { return m.version == 14; });
    ASSERT_NE(at, all.end());
    ASSERT_TRUE(migrate_with(*db, std::span<const Migration>(all.begin(), at)).ok());
    for (const char* id : {"evt_a", "evt_b"}) {
        NewEvent e;
        e.id = id;
        e.type = "deposit.pending";
        e.payload = "{}";
        e.created_at = 1;
        ASSERT_TRUE(*insert_event(*db, e));
    }
    ASSERT_TRUE(db->exec("INSERT INTO delivery_attempts (event_id, attempted_at, status_code, latency_ms, error, "
                         "response_excerpt) VALUES ('evt_b', 10, NULL, 5000, 'timeout', NULL), "
                         "('evt_a', 11, 200, 12, NULL, 'ok'), ('evt_b', 12, 500, 40, 'HTTP 500', 'oops')")
                    .ok());
    ASSERT_TRUE(db->migrate().ok());
    auto b = list_attempts(*db, "evt_b").value();
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b[0].event_id, "evt_b");
    EXPECT_EQ(b[0].event_seq, get_event(*db, "evt_b").value()->seq);
    EXPECT_EQ(b[0].attempted_at, 10);
    EXPECT_FALSE(b[0].status_code);
    EXPECT_EQ(b[0].latency_ms, 5000);
    EXPECT_EQ(b[0].error, "timeout");
    EXPECT_FALSE(b[0].response_excerpt);
    EXPECT_EQ(b[1].attempted_at, 12);
    EXPECT_EQ(b[1].status_code, 500);
    EXPECT_EQ(b[1].response_excerpt, "oops");
    auto a = list_attempts(*db, "evt_a").value();
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].status_code, 200);
    // The foreign key now guards the seq: an attempt at no event is refused.
    AttemptRecord orphan;
    orphan.event_seq = 999;
    EXPECT_FALSE(record_attempt(*db, orphan).ok());
}

// A database made by the code before migrations were recorded by name
// (tests/fixtures/store: main 6c86e74, schema_version up to 004) is adopted
// on open: its record moves to schema_migrations, 007 folds the counters
// into one count per thing, and every count answers as before.
class NumberedRecord : public Migrations {
protected:
    void SetUp() override {
        Migrations::SetUp();
        std::ifstream in(std::string(DEPOSITD_FIXTURES) + "/store/main-6c86e74-schema4.sql");
        ASSERT_TRUE(in) << "fixture missing";
        std::stringstream sql;
        sql << in.rdbuf();
        auto db = open();  // its own connection: the dump turns foreign keys off on it
        ASSERT_TRUE(db->exec(sql.str()).ok());
        ASSERT_EQ(db->schema_version(), 4);
        ASSERT_TRUE(has_table(*db, "counters"));
        // What today's read_counters() read: the generic counters table.
        before_ = counts_of(*db, "SELECT kind || ' ' || a, b, n FROM counters ORDER BY kind, a, b");
        DepositFilter f;
        total_ = list_deposits(*db, f).value().total;
        f.chain_id = "ethereum";
        f.status = "confirmed";
        confirmed_eth_ = list_deposits(*db, f).value().total;
    }
    // read_counters() in the shape of the old counters table.
    static std::string as_old_rows(const Counters& c) {
        std::string out;
        for (const auto& [k, n] : c.deposits) out += "deposits " + k.first + "|" + k.second + "|" + std::to_string(n) + "\n";
        for (const auto& [k, n] : c.events) out += "events " + k + "||" + std::to_string(n) + "\n";
        for (const auto& [k, n] : c.pool) out += "pool " + k.first + "|" + k.second + "|" + std::to_string(n) + "\n";
        return out;
    }
    std::string before_;
    std::uint64_t total_ = 0, confirmed_eth_ = 0;
};

TEST_F(NumberedRecord, AdoptedOnOpenAndCountsAnswerAsBefore) {
    auto db = open();
    auto migrated = db->migrate();
    ASSERT_TRUE(migrated.ok()) << migrated.error().message;
    EXPECT_FALSE(has_table(*db, "schema_version"));
    EXPECT_FALSE(has_table(*db, "counters"));
    std::vector<std::string> all;
    for (const auto& m : embedded_migrations()) all.push_back(m.id());
    EXPECT_EQ(db->applied_migrations().value(), all);
    EXPECT_EQ(db->schema_version(), embedded_migrations().back().version);
    // The dates of the migrations applied before are kept.
    auto q = db->prepare("SELECT applied_at FROM schema_migrations WHERE name = '002_truth'");
    ASSERT_TRUE(*q.step());
    EXPECT_EQ(q.int64(0), 1796502280000);

    const auto after = read_counters(*db).value();
    EXPECT_EQ(as_old_rows(after), before_);
    DepositFilter f;
    EXPECT_EQ(list_deposits(*db, f).value().total, total_);
    f.chain_id = "ethereum";
    f.status = "confirmed";
    EXPECT_EQ(list_deposits(*db, f).value().total, confirmed_eth_);

    // The new triggers keep counting: an address, a deposit and its status
    // change, an event and its delivery.
    ASSERT_TRUE(db->exec("INSERT INTO addresses (protocol, address, watch_key, source, created_at) "
                         "VALUES ('evm', '0x4444444444444444444444444444444444444444', "
                         "'0x4444444444444444444444444444444444444444', 't', 0)").ok());
    Deposit d;
    d.id = "dep_new";
    d.chain_id = "tron";
    d.tx_hash = "0xnew";
    d.block_hash = "0xb";
    d.address = "addr";
    d.currency = "USDT";
    d.raw_amount = "1";
    d.decimals = 6;
    d.from = "0xf";
    d.status = "pending";
    d.detected_at = 1;
    ASSERT_TRUE(*insert_deposit(*db, d));
    d.status = "confirmed";
    d.confirmed_at = 2;
    ASSERT_TRUE(update_deposit_state(*db, d).ok());
    NewEvent e;
    e.id = "evt_new";
    e.deposit_id = "dep_new";
    e.type = "deposit.confirmed";
    e.payload = "{}";
    e.created_at = 2;
    ASSERT_TRUE(*insert_event(*db, e));
    ASSERT_TRUE(mark_delivered(*db, "evt_new", 3).ok());
    auto now = read_counters(*db).value();
    EXPECT_EQ((now.pool[{"evm", "free"}]), (after.pool.at({"evm", "free"}) + 1));
    EXPECT_EQ((now.deposits[{"tron", "confirmed"}]), (after.deposits.at({"tron", "confirmed"}) + 1));
    EXPECT_EQ((now.deposits[{"tron", "pending"}]), (after.deposits.at({"tron", "pending"})));
    EXPECT_EQ(now.events["delivered"], after.events.at("delivered") + 1);
    EXPECT_EQ(now.events["pending"], after.events.at("pending"));
    // Every count equals a count of the rows it stands for (a state that
    // emptied keeps its row, at zero).
    Counters nonzero;
    for (const auto& [k, n] : now.pool) if (n) nonzero.pool[k] = n;
    for (const auto& [k, n] : now.deposits) if (n) nonzero.deposits[k] = n;
    for (const auto& [k, n] : now.events) if (n) nonzero.events[k] = n;
    Counters counted;
    auto rows = db->prepare("SELECT protocol, state, count(*) FROM addresses GROUP BY protocol, state");
    while (*rows.step()) counted.pool[{rows.text(0), rows.text(1)}] = static_cast<std::uint64_t>(rows.int64(2));
    auto deps = db->prepare("SELECT chain_id, status, count(*) FROM deposits GROUP BY chain_id, status");
    while (*deps.step()) counted.deposits[{deps.text(0), deps.text(1)}] = static_cast<std::uint64_t>(deps.int64(2));
    auto evs = db->prepare("SELECT status, count(*) FROM events GROUP BY status");
    while (*evs.step()) counted.events[evs.text(0)] = static_cast<std::uint64_t>(evs.int64(1));
    EXPECT_EQ(text_of(nonzero), text_of(counted));
}

// "Applied" meant every migration up to the highest number, rows or not.
TEST_F(NumberedRecord, AHighestNumberStandsForEveryMigrationBelowIt) {
    {
        auto db = open();
        ASSERT_TRUE(db->exec("DELETE FROM schema_version WHERE version < 4").ok());
    }
    auto db = open();
    auto migrated = db->migrate();  // 001_initial again would fail: its tables exist
    ASSERT_TRUE(migrated.ok()) << migrated.error().message;
    std::vector<std::string> all;
    for (const auto& m : embedded_migrations()) all.push_back(m.id());
    EXPECT_EQ(db->applied_migrations().value(), all);
    EXPECT_EQ(as_old_rows(read_counters(*db).value()), before_);
}

}  // namespace
