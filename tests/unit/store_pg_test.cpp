// The PostgreSQL layer (lib/store/pg) against a throwaway PostgreSQL cluster:
// prepared statements, typed reads, NULLs, bytea, int64 bounds, SQLSTATE
// classes, and units of work that survive serialization failures, a
// terminated session, a lost COMMIT answer and a kill -9 of the postmaster.
// Skipped (with the reason) where PostgreSQL's server binaries are absent.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <thread>
#include <utility>
#include <vector>

#include "pg_test_cluster.hpp"
#include "store/pg/connection.hpp"
#include "store/pg/dialect.hpp"
#include "store/pg/errors.hpp"
#include "store/pg/transaction.hpp"

using namespace depositd;
using namespace depositd::store;
using namespace std::chrono_literals;

// Stops the test (ASSERT) when a query fails, with the error.
#define MUST(expr)                                              \
    do {                                                        \
        const auto& must_result_ = (expr);                      \
        ASSERT_TRUE(must_result_) << must_result_.error().describe(); \
    } while (0)

static auto* const pg_environment = ::testing::AddGlobalTestEnvironment(new pg_test::Environment);

namespace {

// --- Without a server -------------------------------------------------------

TEST(PgErrors, SqlstateClasses) {
    EXPECT_EQ(pg::classify_sqlstate("40001"), pg::Failure::retry);     // serialization_failure
    EXPECT_EQ(pg::classify_sqlstate("40P01"), pg::Failure::retry);     // deadlock_detected
    EXPECT_EQ(pg::classify_sqlstate("23505"), pg::Failure::conflict);  // unique_violation
    EXPECT_EQ(pg::classify_sqlstate("23503"), pg::Failure::conflict);  // foreign_key_violation
    EXPECT_EQ(pg::classify_sqlstate("57P01"), pg::Failure::reconnect); // admin_shutdown (pg_terminate_backend)
    EXPECT_EQ(pg::classify_sqlstate("57P02"), pg::Failure::reconnect); // crash_shutdown
    EXPECT_EQ(pg::classify_sqlstate("57P03"), pg::Failure::reconnect); // cannot_connect_now
    EXPECT_EQ(pg::classify_sqlstate("08006"), pg::Failure::reconnect); // connection_failure
    EXPECT_EQ(pg::classify_sqlstate(""), pg::Failure::reconnect);      // the client lost the socket
    EXPECT_EQ(pg::classify_sqlstate("42P01"), pg::Failure::other);     // undefined_table
    EXPECT_EQ(pg::classify_sqlstate("22003"), pg::Failure::other);     // numeric_value_out_of_range
    EXPECT_EQ(pg::classify_sqlstate("40002"), pg::Failure::other);     // integrity_constraint_violation at commit
}

TEST(PgErrors, UrlsAreShownWithoutTheirPassword) {
    EXPECT_EQ(pg::redact("postgresql://depositd:s3cr3t-pw@db.example:5433/deposits?sslmode=require"),
              "postgresql://depositd@db.example:5433/deposits");
    EXPECT_EQ(pg::redact("host=10.0.0.5 port=5432 dbname=d user=u password=s3cr3t-pw"), "postgresql://u@10.0.0.5:5432/d");
    EXPECT_EQ(pg::redact("postgresql://u:p%zzbad@h/d"), "(an unparsable connection string)");
    EXPECT_EQ(pg::password_of("postgresql://depositd:s3cr3t-pw@h/d"), "s3cr3t-pw");
    EXPECT_EQ(pg::password_of("postgresql://depositd@h/d"), "");
    EXPECT_EQ(pg::scrub("failed for s3cr3t-pw and s3cr3t-pw", "s3cr3t-pw"), "failed for *** and ***");
    EXPECT_EQ(pg::scrub("a short one", "a"), "a short one");
}

TEST(PgErrors, AnUnparsableUrlIsRefusedWithoutEchoingIt) {
    auto c = pg::Connection::connect({.url = "postgresql://depositd:hunter2%zz@127.0.0.1:1/x"});
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, Errc::invalid_input);
    EXPECT_EQ(c.error().message.find("hunter2"), std::string::npos) << c.error().message;
}

TEST(PgErrors, AnUnreachableServerIsATransportErrorWithoutThePassword) {
    // Port 1 on 127.0.0.1: nothing listens (connection refused at once).
    auto c = pg::Connection::connect({.url = "postgresql://depositd:hunter2-secret@127.0.0.1:1/x"});
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, Errc::transport);
    EXPECT_EQ(c.error().message.find("hunter2"), std::string::npos) << c.error().message;
    EXPECT_NE(c.error().message.find("postgresql://depositd@127.0.0.1:1/x"), std::string::npos) << c.error().message;
}

TEST(PgErrors, BackoffGrowsToItsCapWithJitter) {
    for (int n = 0; n < 12; ++n) {
        auto d = pg::backoff_delay(n, 100ms, 2000ms);
        const auto full = std::min<std::chrono::milliseconds>(100ms * (1 << std::min(n, 5)), 2000ms);
        EXPECT_GE(d, full / 2) << n;
        EXPECT_LE(d, full) << n;
    }
}

TEST(PgParams, IntegersAreBinaryBigintsAndTextIsText) {
    pg::Param p(std::int64_t{-2});
    EXPECT_EQ(p.type(), pg::Type::int8);
    EXPECT_TRUE(p.binary());
    EXPECT_EQ(p.bytes(), std::string("\xff\xff\xff\xff\xff\xff\xff\xfe", 8));
    pg::Param t("abc");
    EXPECT_EQ(t.type(), pg::Type::text);
    EXPECT_FALSE(t.binary());
    pg::Param n(std::optional<std::string>{});
    EXPECT_TRUE(n.is_null());
    EXPECT_EQ(n.type(), pg::Type::text);
    EXPECT_EQ(pg::Param(std::optional<std::int64_t>{}).type(), pg::Type::int8);
    EXPECT_EQ(pg::Param(std::optional<bool>{true}).type(), pg::Type::boolean);
}

TEST(PgDialect, NumberedPlaceholdersBecomeDollarPlaceholders) {
    EXPECT_EQ(pg::numbered_placeholders("SELECT ?1, ?2, ?1").value(), "SELECT $1, $2, $1");
    EXPECT_EQ(pg::numbered_placeholders("WHERE (?2 IS NULL OR p = ?2) LIMIT ?10 OFFSET ?9").value(),
              "WHERE ($2 IS NULL OR p = $2) LIMIT $10 OFFSET $9");
    // Literals, quoted identifiers, comments and dollar quotes are not SQL placeholders.
    EXPECT_EQ(pg::numbered_placeholders("SELECT 'it''s ?1', \"?2\" -- ?3\n, ?4 /* ?5 */, ?6").value(),
              "SELECT 'it''s ?1', \"?2\" -- ?3\n, $4 /* ?5 */, $6");
    EXPECT_EQ(pg::numbered_placeholders("DO $$ ?1 $$; SELECT $f$ ?2 $f$, ?3").value(), "DO $$ ?1 $$; SELECT $f$ ?2 $f$, $3");
    EXPECT_EQ(pg::numbered_placeholders("SELECT $1, ?2").value(), "SELECT $1, $2");
    EXPECT_EQ(pg::numbered_placeholders("'unterminated ?1").value(), "'unterminated ?1");
    auto bare = pg::numbered_placeholders("SELECT ? FROM t");
    ASSERT_FALSE(bare);
    EXPECT_EQ(bare.error().code, Errc::internal);
}

// --- Against the cluster ----------------------------------------------------

class PgLayer : public pg_test::DatabaseTest {
protected:
    pg::ConnectOptions options(int port = 0) {
        pg::ConnectOptions o;
        o.url = url(port);
        o.application_name = "depositd-test";
        o.retry.reconnect_backoff_initial = 20ms;
        o.retry.reconnect_backoff_max = 200ms;
        o.retry.reconnect_deadline = 30s;
        return o;
    }
    std::unique_ptr<pg::Connection> connect(pg::ConnectOptions o) {
        auto c = pg::Connection::connect(std::move(o));
        if (!c) ADD_FAILURE() << c.error().describe();
        return c ? std::move(*c) : nullptr;
    }
    std::unique_ptr<pg::Connection> connect() { return connect(options()); }
    // Through a new fault proxy (pg_test::Cluster::freeze/mute/cut), answers awaited at most query_timeout.
    std::unique_ptr<pg::Connection> connect_through_proxy(int& proxy, std::chrono::milliseconds query_timeout) {
        proxy = pg_test::cluster().proxy();
        auto o = options(pg_test::cluster().proxy_port(proxy));
        o.query_timeout = query_timeout;
        return connect(std::move(o));
    }
    // The superuser, over the Unix socket, in this test's database.
    std::unique_ptr<pg::Connection> admin() {
        pg::ConnectOptions o;
        o.url = pg_test::cluster().admin_url_of(db());
        o.application_name = "depositd-test-admin";
        return connect(std::move(o));
    }
    static std::int64_t count(pg::Connection& c, const std::string& table) {
        auto r = c.query("SELECT count(*) FROM " + table);
        EXPECT_TRUE(r) << (r ? "" : r.error().describe());
        return r ? (*r)[0].int64(0).value() : -1;
    }
};

TEST_F(PgLayer, PreparedOncePerSessionAndTypes) {
    auto c = connect();
    ASSERT_TRUE(c);
    const auto before = c->prepared();  // the session's own set-up query
    for (int i = 0; i < 3; ++i) {
        auto r = c->query("SELECT $1::bigint + 1", {std::int64_t{i}});
        MUST(r);
        EXPECT_EQ((*r)[0].int64(0).value(), i + 1);
    }
    EXPECT_EQ(c->prepared(), before + 1);
    MUST(c->query("SELECT $1::bigint + 1", {pg::Param::typed(pg::Type::numeric, "5")}));  // other types: another statement
    EXPECT_EQ(c->prepared(), before + 2);
    auto server = c->query("SELECT count(*) FROM pg_prepared_statements");
    MUST(server);
    // The server agrees (this query is prepared before it runs).
    EXPECT_EQ((*server)[0].int64(0).value(), static_cast<std::int64_t>(before + 3));
    EXPECT_EQ(c->prepared(), before + 3);
    // A typo in SQL is an error value naming the statement, and the session goes on.
    auto bad = c->query("SELEC 1");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, Errc::internal);
    EXPECT_NE(bad.error().message.find("42601"), std::string::npos) << bad.error().message;
    EXPECT_NE(bad.error().message.find("SELEC 1"), std::string::npos) << bad.error().message;
    EXPECT_TRUE(c->ok());
    EXPECT_EQ(c->failure().kind, pg::Failure::other);
    MUST(c->query("SELECT 1"));
    EXPECT_EQ(c->failure().kind, pg::Failure::none);  // a new command outside a transaction starts clean
}

TEST_F(PgLayer, RepositorySqlWithNumberedPlaceholdersRuns) {
    auto c = connect();
    ASSERT_TRUE(c);
    MUST(c->exec("CREATE TABLE bindings (reference text, protocol text)"));
    MUST(c->query("INSERT INTO bindings VALUES ($1, $2)", {"r1", "evm"}));
    // As unbind_reference writes it for SQLite: ?2 twice, nullable.
    auto sql = pg::numbered_placeholders("SELECT count(*) FROM bindings WHERE reference = ?1 AND (?2 IS NULL OR protocol = ?2)");
    ASSERT_TRUE(sql);
    auto any = c->query(*sql, {"r1", std::optional<std::string>{}});
    MUST(any);
    EXPECT_EQ((*any)[0].int64(0).value(), 1);
    auto other = c->query(*sql, {"r1", std::optional<std::string>{"tron"}});
    MUST(other);
    EXPECT_EQ((*other)[0].int64(0).value(), 0);
}

TEST_F(PgLayer, NullsAndTypeMismatchesAreErrorsNotValues) {
    auto c = connect();
    ASSERT_TRUE(c);
    MUST(c->exec("CREATE TABLE t (id bigint PRIMARY KEY, name text, until bigint, key bytea, ok boolean, n integer)"));
    MUST(c->query("INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6)",
                  {1, std::optional<std::string>{}, std::optional<std::int64_t>{}, pg::Param::null(pg::Type::bytea),
                   std::optional<bool>{}, pg::Param::null(pg::Type::int4)}));
    auto r = c->query("SELECT id, name, until, key, ok, n FROM t");
    MUST(r);
    ASSERT_EQ(r->size(), 1);
    const auto row = (*r)[0];
    EXPECT_EQ(row.int64(0).value(), 1);
    EXPECT_EQ(row.opt_text(1).value(), std::nullopt);
    EXPECT_EQ(row.opt_int64(2).value(), std::nullopt);
    EXPECT_EQ(row.opt_bytea(3).value(), std::nullopt);
    EXPECT_EQ(row.opt_boolean(4).value(), std::nullopt);
    EXPECT_EQ(row.opt_int32(5).value(), std::nullopt);
    // NULL where a value is required: an error naming the column.
    auto name = row.text(1);
    ASSERT_FALSE(name);
    EXPECT_NE(name.error().message.find("name"), std::string::npos) << name.error().message;
    EXPECT_NE(name.error().message.find("NULL"), std::string::npos) << name.error().message;
    EXPECT_FALSE(row.int64(2));
    // The wrong type: an error, never a conversion.
    auto wrong = row.text(0);
    ASSERT_FALSE(wrong);
    EXPECT_NE(wrong.error().message.find("bigint"), std::string::npos) << wrong.error().message;
    EXPECT_FALSE(row.int32(0));     // bigint read as integer
    EXPECT_FALSE(row.bytea(0));
    EXPECT_FALSE(row.boolean(0));
    EXPECT_FALSE(row.opt_text(0));  // not NULL, still the wrong type
    EXPECT_FALSE(row.int64(6));     // no such column
    EXPECT_FALSE(row.opt_int64(6));
}

TEST_F(PgLayer, ByteaTextBooleansRoundTripExactly) {
    auto c = connect();
    ASSERT_TRUE(c);
    MUST(c->exec("CREATE TABLE b (id bigint PRIMARY KEY, key bytea NOT NULL, label text NOT NULL, flag boolean NOT NULL)"));
    std::vector<std::uint8_t> all(256);
    for (int i = 0; i < 256; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
    const std::string label = "Tröt ✓ 'quoted' \"double\" \\ back";
    MUST(c->query("INSERT INTO b VALUES ($1, $2, $3, $4)", {1, all, label, pg::Param::boolean(true)}));
    MUST(c->query("INSERT INTO b VALUES ($1, $2, $3, $4)",
                  {2, std::vector<std::uint8_t>{}, std::string(), pg::Param::boolean(false)}));
    auto r = c->query("SELECT key, label, flag, length(key) FROM b ORDER BY id");
    MUST(r);
    ASSERT_EQ(r->size(), 2);
    EXPECT_EQ((*r)[0].bytea(0).value(), all);
    EXPECT_EQ((*r)[0].text(1).value(), label);
    EXPECT_EQ((*r)[0].boolean(2).value(), true);
    EXPECT_EQ((*r)[0].int32(3).value(), 256);  // the server saw 256 bytes, not text
    EXPECT_TRUE((*r)[1].bytea(0).value().empty());
    EXPECT_EQ((*r)[1].text(1).value(), "");
    EXPECT_EQ((*r)[1].boolean(2).value(), false);
    // The same values through the simple protocol (text format answers).
    auto t = c->exec("SELECT key, label, flag, id FROM b ORDER BY id");
    MUST(t);
    EXPECT_EQ((*t)[0].bytea(0).value(), all);
    EXPECT_EQ((*t)[0].text(1).value(), label);
    EXPECT_EQ((*t)[0].boolean(2).value(), true);
    EXPECT_EQ((*t)[1].int64(3).value(), 2);
}

TEST_F(PgLayer, Int64BoundsAreExact) {
    auto c = connect();
    ASSERT_TRUE(c);
    MUST(c->exec("CREATE TABLE n (v bigint)"));
    const std::int64_t values[] = {std::numeric_limits<std::int64_t>::min(), -1, 0, 1, 9007199254740993,
                                   std::numeric_limits<std::int64_t>::max()};
    for (auto v : values) MUST(c->query("INSERT INTO n VALUES ($1)", {v}));
    auto r = c->query("SELECT v, v::text FROM n ORDER BY 1");
    MUST(r);
    ASSERT_EQ(r->size(), 6);
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ((*r)[i].int64(0).value(), values[i]);
        EXPECT_EQ((*r)[i].text(1).value(), std::to_string(values[i]));
    }
    auto t = c->exec("SELECT min(v), max(v) FROM n");  // text format
    MUST(t);
    EXPECT_EQ((*t)[0].int64(0).value(), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ((*t)[0].int64(1).value(), std::numeric_limits<std::int64_t>::max());
    // Overflow on the server is a data exception, not a wrapped number.
    auto over = c->query("SELECT $1 + 1", {std::numeric_limits<std::int64_t>::max()});
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().code, Errc::invalid_input);
    EXPECT_EQ(c->failure().sqlstate, "22003");
    // Small integer types widen into int64; a bigint does not narrow into int32.
    auto w = c->query("SELECT 7::smallint, -8::integer, 2147483648::bigint");
    MUST(w);
    EXPECT_EQ((*w)[0].int64(0).value(), 7);
    EXPECT_EQ((*w)[0].int64(1).value(), -8);
    EXPECT_EQ((*w)[0].int32(1).value(), -8);
    EXPECT_FALSE((*w)[0].int32(2));
}

TEST_F(PgLayer, UniqueViolationIsAConflictAndIsNotRetried) {
    auto c = connect();
    ASSERT_TRUE(c);
    MUST(c->exec("CREATE TABLE u (ref text NOT NULL, CONSTRAINT u_ref UNIQUE (ref))"));
    MUST(c->query("INSERT INTO u VALUES ($1)", {"alice"}));
    int runs = 0;
    auto s = pg::run_transaction(*c, {}, [&](pg::Connection& tx) -> Status {
        ++runs;
        auto r = tx.query("INSERT INTO u VALUES ($1)", {"bob"});
        if (!r) return r.error();
        r = tx.query("INSERT INTO u VALUES ($1)", {"alice"});
        if (!r) return r.error();
        return {};
    });
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, Errc::conflict) << s.error().describe();
    EXPECT_EQ(runs, 1);
    EXPECT_EQ(c->failure().kind, pg::Failure::conflict);
    EXPECT_EQ(c->failure().sqlstate, "23505");
    EXPECT_EQ(c->failure().constraint, "u_ref");
    EXPECT_NE(s.error().message.find("u_ref"), std::string::npos);
    EXPECT_EQ(count(*c, "u"), 1);  // bob rolled back with it
    EXPECT_TRUE(c->ok());
}

// Writes sent ahead (pipeline mode): answered in order by the next query,
// in one round trip; a failed one or one that changed the wrong number of
// rows stops the COMMIT; a prepared statement whose PREPARE was in a failed
// pipeline is prepared again.
TEST_F(PgLayer, PipelinedWritesSettleInOrderAndTheirFailuresStopTheCommit) {
    auto c = connect();
    ASSERT_TRUE(c);
    MUST(c->exec("CREATE TABLE p (v bigint PRIMARY KEY, w bigint NOT NULL DEFAULT 0)"));
    const std::string insert = "INSERT INTO p (v) VALUES ($1)";
    const std::string bump = "UPDATE p SET w = w + 1 WHERE v = $1";
    {
        auto tx = pg::Transaction::begin(*c);
        ASSERT_TRUE(tx);
        for (std::int64_t v = 1; v <= 300; ++v) {  // more than one pipeline's worth
            pg::Param p[] = {pg::Param(v)};
            MUST(c->send(insert, p));
        }
        pg::Param two[] = {pg::Param(std::int64_t{2})};
        MUST(c->send(bump, two, {.rows = 1, .code = Errc::not_found, .message = "no row 2"}));
        EXPECT_GT(c->unsettled(), 0u);
        // A read sees the writes sent before it.
        auto r = c->query("SELECT count(*), sum(w)::bigint FROM p");
        MUST(r);
        EXPECT_EQ(c->unsettled(), 0u);
        EXPECT_EQ((*r)[0].int64(0).value(), 300);
        EXPECT_EQ((*r)[0].int64(1).value(), 1);
        MUST(c->send(bump, two));
        MUST(c->settle());
        EXPECT_EQ(c->last_affected(), 1);
        MUST(tx->commit());
    }
    EXPECT_EQ(count(*c, "p"), 300);

    // An UPDATE that matched no row while one was expected: the server saw
    // no error, the COMMIT must not happen all the same.
    {
        auto tx = pg::Transaction::begin(*c);
        ASSERT_TRUE(tx);
        pg::Param v[] = {pg::Param(std::int64_t{1000})};
        MUST(c->send(insert, v));
        pg::Param none[] = {pg::Param(std::int64_t{999})};
        MUST(c->send(bump, none, {.rows = 1, .code = Errc::not_found, .message = "no row 999"}));
        auto s = tx->commit();
        ASSERT_FALSE(s);
        EXPECT_EQ(s.error().code, Errc::not_found);
        EXPECT_EQ(s.error().message, "no row 999");
    }
    EXPECT_EQ(count(*c, "p"), 300);
    EXPECT_FALSE(c->in_transaction());

    // A failing statement in the middle: the next query reports it (the
    // statements after it were skipped), and so does the COMMIT.
    {
        auto tx = pg::Transaction::begin(*c);
        ASSERT_TRUE(tx);
        pg::Param fresh[] = {pg::Param(std::int64_t{2000})};
        MUST(c->send("INSERT INTO p (v) VALUES ($1) RETURNING v", fresh));  // prepared in this pipeline
        pg::Param dup[] = {pg::Param(std::int64_t{5})};
        MUST(c->send(insert, dup));
        pg::Param later[] = {pg::Param(std::int64_t{2001})};
        MUST(c->send("INSERT INTO p (v) VALUES ($1) ON CONFLICT DO NOTHING", later));  // prepared after the failure
        auto r = c->query("SELECT 1");
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, Errc::conflict) << r.error().describe();
        EXPECT_EQ(c->failure().sqlstate, "23505");
        auto s = tx->commit();
        ASSERT_FALSE(s);
        EXPECT_EQ(s.error().code, Errc::conflict);
    }
    EXPECT_EQ(count(*c, "p"), 300);
    EXPECT_TRUE(c->ok());
    // The statement whose PREPARE was skipped works next time.
    {
        auto tx = pg::Transaction::begin(*c);
        ASSERT_TRUE(tx);
        pg::Param later[] = {pg::Param(std::int64_t{2001})};
        MUST(c->send("INSERT INTO p (v) VALUES ($1) ON CONFLICT DO NOTHING", later));
        MUST(tx->commit());
    }
    EXPECT_EQ(count(*c, "p"), 301);
}

// Each pipelined write can report the rows it changed (the pool import's
// imported and duplicate counts): in order, when its answer is read; not at
// all when it failed or was skipped after a failure.
TEST_F(PgLayer, PipelinedWritesReportTheRowsEachChanged) {
    auto c = connect();
    ASSERT_TRUE(c);
    MUST(c->exec("CREATE TABLE q (v bigint PRIMARY KEY)"));
    const std::string insert = "INSERT INTO q (v) VALUES ($1), ($2) ON CONFLICT DO NOTHING";
    std::vector<std::pair<int, std::int64_t>> seen;  // (statement, rows)
    auto expect_for = [&seen](int statement) {
        pg::Connection::Expect e;
        e.changed = [&seen, statement](std::int64_t rows) { seen.emplace_back(statement, rows); };
        return e;
    };
    {
        auto tx = pg::Transaction::begin(*c);
        ASSERT_TRUE(tx);
        pg::Param fresh[] = {pg::Param(std::int64_t{1}), pg::Param(std::int64_t{2})};
        pg::Param half[] = {pg::Param(std::int64_t{2}), pg::Param(std::int64_t{3})};
        pg::Param old[] = {pg::Param(std::int64_t{1}), pg::Param(std::int64_t{3})};
        MUST(c->send(insert, fresh, expect_for(1)));
        MUST(c->send(insert, half, expect_for(2)));
        MUST(c->send(insert, old, expect_for(3)));
        EXPECT_TRUE(seen.empty());  // nothing read yet
        MUST(tx->commit());
    }
    EXPECT_EQ(seen, (std::vector<std::pair<int, std::int64_t>>{{1, 2}, {2, 1}, {3, 0}}));
    seen.clear();
    {
        auto tx = pg::Transaction::begin(*c);
        ASSERT_TRUE(tx);
        pg::Param ok[] = {pg::Param(std::int64_t{4}), pg::Param(std::int64_t{5})};
        pg::Param bad[] = {pg::Param(std::int64_t{6})};
        MUST(c->send(insert, ok, expect_for(1)));
        MUST(c->send("INSERT INTO q (v) VALUES ($1 / 0)", bad, expect_for(2)));  // division by zero
        MUST(c->send(insert, ok, expect_for(3)));                                // skipped
        ASSERT_FALSE(tx->commit());
    }
    EXPECT_EQ(seen, (std::vector<std::pair<int, std::int64_t>>{{1, 2}}));
    EXPECT_EQ(count(*c, "q"), 3);
}

// A session lost with writes in its pipeline: settle says so, nothing of
// them is committed, and the next session starts with an empty pipeline.
TEST_F(PgLayer, PipelinedWritesLostWithTheSessionAreNotCommitted) {
    auto c = connect();
    ASSERT_TRUE(c);
    MUST(c->exec("CREATE TABLE l (v bigint)"));
    auto tx = pg::Transaction::begin(*c);
    ASSERT_TRUE(tx);
    pg::Param v[] = {pg::Param(std::int64_t{1})};
    MUST(c->send("INSERT INTO l VALUES ($1)", v));
    auto a = admin();
    ASSERT_TRUE(a);
    pg::Param pid[] = {pg::Param(static_cast<std::int64_t>(c->backend_pid()))};
    MUST(a->query("SELECT pg_terminate_backend($1::int)", pid));
    auto s = c->settle();
    ASSERT_FALSE(s);
    EXPECT_EQ(c->unsettled(), 0u);
    EXPECT_FALSE(c->ok());
    EXPECT_FALSE(tx->commit());
    MUST(c->recover());
    EXPECT_EQ(count(*c, "l"), 0);
    MUST(c->query("INSERT INTO l VALUES ($1)", {std::int64_t{2}}));
    EXPECT_EQ(count(*c, "l"), 1);
}

TEST_F(PgLayer, TransactionGuardRollsBackAndSetsTheIsolationLevel) {
    auto c = connect();
    ASSERT_TRUE(c);
    MUST(c->exec("CREATE TABLE g (v bigint)"));
    {
        auto tx = pg::Transaction::begin(*c, {.isolation = pg::Isolation::read_committed});
        ASSERT_TRUE(tx) << tx.error().describe();
        EXPECT_FALSE(tx->xid().empty());
        auto level = c->query("SHOW transaction_isolation");
        MUST(level);
        EXPECT_EQ((*level)[0].text(0).value(), "read committed");
        MUST(c->query("INSERT INTO g VALUES (1)"));
    }  // not committed: rolled back
    EXPECT_EQ(count(*c, "g"), 0);
    {
        auto tx = pg::Transaction::begin(*c, {.isolation = pg::Isolation::serializable, .read_only = true});
        ASSERT_TRUE(tx);
        EXPECT_TRUE(tx->xid().empty());
        auto level = c->query("SHOW transaction_isolation");
        MUST(level);
        EXPECT_EQ((*level)[0].text(0).value(), "serializable");
        auto w = c->query("INSERT INTO g VALUES (2)");
        ASSERT_FALSE(w);
        EXPECT_EQ(c->failure().sqlstate, "25006");  // read_only_sql_transaction
    }
    {
        auto tx = pg::Transaction::begin(*c);
        ASSERT_TRUE(tx);
        MUST(c->query("INSERT INTO g VALUES (3)"));
        auto nested = pg::Transaction::begin(*c);  // no nested transactions: refused, the outer one goes on
        ASSERT_FALSE(nested);
        EXPECT_EQ(nested.error().code, Errc::internal);
        ASSERT_TRUE(tx->commit());
    }
    EXPECT_EQ(count(*c, "g"), 1);
}

TEST_F(PgLayer, ASwallowedFailureDoesNotCommitQuietly) {
    auto c = connect();
    ASSERT_TRUE(c);
    MUST(c->exec("CREATE TABLE q (v bigint PRIMARY KEY)"));
    MUST(c->query("INSERT INTO q VALUES (1)"));
    auto s = pg::run_transaction(*c, {}, [&](pg::Connection& tx) -> Status {
        (void)tx.query("INSERT INTO q VALUES (2)");
        (void)tx.query("INSERT INTO q VALUES (1)");  // fails; ignored by a buggy unit
        return {};
    });
    ASSERT_FALSE(s);  // PostgreSQL answers COMMIT with ROLLBACK: reported, not success
    EXPECT_EQ(count(*c, "q"), 1);
}

TEST_F(PgLayer, SerializationFailureIsRetriedNeverSurfaced) {
    auto a = connect();
    auto b = connect();
    ASSERT_TRUE(a && b);
    MUST(a->exec("CREATE TABLE duty (day bigint NOT NULL, who text NOT NULL)"));
    // Write skew: two serializable transactions each check that nobody is on
    // duty and add someone. The second to commit must fail and, retried,
    // see the first one's row.
    int runs = 0;
    auto r = pg::run_transaction(*a, {}, [&](pg::Connection& tx) -> Result<std::int64_t> {
        ++runs;
        auto seen = tx.query("SELECT count(*) FROM duty WHERE day = $1", {1});
        if (!seen) return seen.error();
        if (runs == 1) {
            // Meanwhile, another session does the same and commits first.
            auto other = pg::run_transaction(*b, {}, [](pg::Connection& o) -> Status {
                auto n = o.query("SELECT count(*) FROM duty WHERE day = $1", {1});
                if (!n) return n.error();
                auto w = o.query("INSERT INTO duty VALUES ($1, $2)", {1, "bob"});
                if (!w) return w.error();
                return {};
            });
            EXPECT_TRUE(other) << other.error().describe();
        }
        const auto n = (*seen)[0].int64(0).value();
        auto w = tx.query("INSERT INTO duty VALUES ($1, $2)", {1, "alice#" + std::to_string(runs)});
        if (!w) return w.error();
        return n;
    });
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(runs, 2);
    EXPECT_EQ(*r, 1);  // the retry saw bob's row
    auto rows = a->query("SELECT who FROM duty ORDER BY who");
    MUST(rows);
    ASSERT_EQ(rows->size(), 2);
    EXPECT_EQ((*rows)[0].text(0).value(), "alice#2");
    EXPECT_EQ((*rows)[1].text(0).value(), "bob");
}

TEST_F(PgLayer, SerializationFailuresGiveUpAfterTheLimit) {
    auto c = connect([&] {
        auto o = options();
        o.retry.max_retries = 3;
        o.retry.retry_backoff_max = 2ms;
        return o;
    }());
    ASSERT_TRUE(c);
    int runs = 0;
    // A unit that always fails as if serialization failed (RAISE with that SQLSTATE).
    auto s = pg::run_transaction(*c, {}, [&](pg::Connection& tx) -> Status {
        ++runs;
        auto r = tx.exec("DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = 'serialization_failure'; END $$");
        if (!r) return r.error();
        return {};
    });
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, Errc::unavailable);
    EXPECT_EQ(runs, 4);
    EXPECT_TRUE(c->ok());
}

TEST_F(PgLayer, TerminatedSessionIsReplacedAndTheUnitRedone) {
    auto c = connect();
    auto adm = admin();
    ASSERT_TRUE(c && adm);
    MUST(c->exec("CREATE TABLE r (v bigint NOT NULL)"));
    const int first_pid = c->backend_pid();

    // Terminated while idle: the next unit notices at BEGIN and runs on a new session.
    MUST(adm->query("SELECT pg_terminate_backend($1::int)", {first_pid}));
    auto s = pg::run_transaction(*c, {}, [&](pg::Connection& tx) -> Status {
        auto r = tx.query("INSERT INTO r VALUES (1)");
        if (!r) return r.error();
        return {};
    });
    ASSERT_TRUE(s) << s.error().describe();
    EXPECT_NE(c->backend_pid(), first_pid);
    EXPECT_EQ(c->health().reconnects(), 1u);
    EXPECT_FALSE(c->health().degraded());

    // Terminated in the middle of a unit: rolled back by the server, redone once.
    int runs = 0;
    s = pg::run_transaction(*c, {}, [&](pg::Connection& tx) -> Status {
        ++runs;
        auto r = tx.query("INSERT INTO r VALUES (2)");
        if (!r) return r.error();
        if (runs == 1) {
            auto t = adm->query("SELECT pg_terminate_backend($1::int, 5000)", {tx.backend_pid()});  // waits for it
            EXPECT_TRUE(t && (*t)[0].boolean(0).value());
        }
        r = tx.query("INSERT INTO r VALUES (3)");
        if (!r) return r.error();
        return {};
    });
    ASSERT_TRUE(s) << s.error().describe();
    EXPECT_EQ(runs, 2);
    auto rows = c->query("SELECT v FROM r ORDER BY v");
    MUST(rows);
    ASSERT_EQ(rows->size(), 3);  // 1, 2, 3: nothing lost, nothing twice
    EXPECT_EQ((*rows)[1].int64(0).value(), 2);
    EXPECT_EQ((*rows)[2].int64(0).value(), 3);
    EXPECT_EQ(c->health().reconnects(), 2u);
}

// The COMMIT reaches the server, which commits; its answer never arrives.
// The unit must not run again (that would double it).
TEST_F(PgLayer, LostCommitAnswerThatCommittedIsNotRedone) {
    auto& pg = pg_test::cluster();
    int proxy = 0;
    auto c = connect_through_proxy(proxy, 1500ms);
    ASSERT_TRUE(c);
    MUST(c->exec("CREATE TABLE once (v bigint NOT NULL)"));
    const int old_pid = c->backend_pid();
    int runs = 0;
    auto s = pg::run_transaction(*c, {}, [&](pg::Connection& tx) -> Status {
        ++runs;
        auto r = tx.query("INSERT INTO once VALUES (1)");
        if (!r) return r.error();
        if (runs == 1) pg.mute(proxy);  // the server hears COMMIT; we never hear back
        return {};
    });
    ASSERT_TRUE(s) << s.error().describe();
    EXPECT_EQ(runs, 1);
    EXPECT_NE(c->backend_pid(), old_pid);
    EXPECT_EQ(count(*c, "once"), 1);
}

// The COMMIT never reaches the server (the network froze): the old session is
// terminated by the reconnect, its transaction aborts, the unit runs again.
TEST_F(PgLayer, LostCommitThatNeverArrivedIsRedoneOnce) {
    auto& pg = pg_test::cluster();
    int proxy = 0;
    auto c = connect_through_proxy(proxy, 1500ms);
    ASSERT_TRUE(c);
    MUST(c->exec("CREATE TABLE once (v bigint NOT NULL)"));
    int runs = 0;
    auto s = pg::run_transaction(*c, {}, [&](pg::Connection& tx) -> Status {
        ++runs;
        auto r = tx.query("INSERT INTO once VALUES ($1)", {runs});
        if (!r) return r.error();
        if (runs == 1) pg.freeze(proxy);  // COMMIT stays in the proxy
        return {};
    });
    ASSERT_TRUE(s) << s.error().describe();
    EXPECT_EQ(runs, 2);
    auto rows = c->query("SELECT v FROM once");
    MUST(rows);
    ASSERT_EQ(rows->size(), 1);
    EXPECT_EQ((*rows)[0].int64(0).value(), 2);
    pg.release(proxy);
}

TEST_F(PgLayer, AFrozenNetworkIsATimeoutNotAHang) {
    auto& pg = pg_test::cluster();
    int proxy = 0;
    auto c = connect_through_proxy(proxy, 800ms);
    ASSERT_TRUE(c);
    pg.freeze(proxy);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = c->query("SELECT 1");
    const auto took = std::chrono::steady_clock::now() - t0;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::transport);
    EXPECT_EQ(c->failure().kind, pg::Failure::reconnect);
    EXPECT_FALSE(c->ok());
    EXPECT_TRUE(c->health().degraded());
    EXPECT_LT(took, 10s);
    ASSERT_TRUE(c->recover());  // new connections through the proxy pass
    EXPECT_FALSE(c->health().degraded());
    MUST(c->query("SELECT 1"));
    pg.release(proxy);
}

// A session cut off from its client without the server being told (a
// half-open connection: here the proxy holds everything) keeps its open
// transaction and its row locks until something ends it. Its client may
// never get to (its reconnect can be cut too): the server ends it itself
// after idle_in_transaction_timeout, so another session's statement waiting
// on that lock gets its answer instead of waiting out query_timeout.
TEST_F(PgLayer, AnOrphanedTransactionCannotHoldItsLocksForEver) {
    auto& pg = pg_test::cluster();
    int proxy = 0;
    auto o = options(pg.proxy_port(proxy = pg.proxy()));
    o.query_timeout = 800ms;
    o.idle_in_transaction_timeout = 1500ms;
    auto c = connect(std::move(o));
    ASSERT_TRUE(c);
    // The server's side of the session is set up as asked.
    auto shown = c->query("SELECT current_setting('idle_in_transaction_session_timeout'), "
                          "current_setting('tcp_keepalives_idle'), current_setting('tcp_user_timeout')");
    MUST(shown);
    EXPECT_EQ((*shown)[0].text(0).value(), "1500ms");
    EXPECT_EQ((*shown)[0].text(1).value(), "10");
    EXPECT_EQ((*shown)[0].text(2).value(), "19000");  // ms
    MUST(c->exec("CREATE TABLE held (k int PRIMARY KEY, v int NOT NULL); INSERT INTO held VALUES (1, 0)"));
    MUST(c->exec("BEGIN"));
    MUST(c->query("UPDATE held SET v = 1 WHERE k = 1"));
    pg.freeze(proxy);  // the client is gone as far as anyone can tell; the server was not told
    c->drop("the test cut it off");

    auto other_options = options();
    other_options.query_timeout = 20s;
    auto other = connect(std::move(other_options));
    ASSERT_TRUE(other);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = other->query("UPDATE held SET v = 2 WHERE k = 1");  // waits on the orphan's row lock
    const auto took = std::chrono::steady_clock::now() - t0;
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->affected(), 1);
    EXPECT_LT(took, 10s);
    auto v = other->query("SELECT v FROM held WHERE k = 1");
    MUST(v);
    EXPECT_EQ((*v)[0].int64(0).value(), 2);  // the orphan's update never committed
    pg.release(proxy);
}

TEST_F(PgLayer, PostmasterKilledAndRestartedIsSurvived) {
    auto& pg = pg_test::cluster();
    auto c = connect();
    ASSERT_TRUE(c);
    MUST(c->exec("CREATE TABLE k (v bigint NOT NULL)"));
    MUST(c->query("INSERT INTO k VALUES (1)"));

    pg.kill9();
    std::atomic<bool> seen_degraded{false};
    std::thread restarter([&] {
        // While the postmaster is down, units wait and the store says so.
        for (int i = 0; i < 100 && !c->health().degraded(); ++i) std::this_thread::sleep_for(20ms);
        seen_degraded = c->health().degraded();
        std::this_thread::sleep_for(300ms);
        pg.start();
    });
    int runs = 0;
    auto s = pg::run_transaction(*c, {}, [&](pg::Connection& tx) -> Status {
        ++runs;
        auto r = tx.query("INSERT INTO k VALUES (2)");
        if (!r) return r.error();
        return {};
    });
    restarter.join();
    ASSERT_TRUE(s) << s.error().describe();
    EXPECT_TRUE(seen_degraded);
    EXPECT_FALSE(c->health().degraded());
    EXPECT_GE(c->health().reconnects(), 1u);
    EXPECT_EQ(count(*c, "k"), 2);  // 1 from before, 2 once
}

TEST_F(PgLayer, ADownDatabaseIsUnavailableAfterTheDeadlineAndInterruptEndsTheWait) {
    auto& pg = pg_test::cluster();
    auto quick = options();
    quick.retry.reconnect_deadline = 700ms;
    auto c = connect(quick);
    auto patient = options();
    patient.retry.reconnect_deadline = 60s;
    auto d = connect(patient);
    ASSERT_TRUE(c && d);
    pg.stop("immediate");
    auto s = pg::run_transaction(*c, {}, [](pg::Connection& tx) -> Status {
        auto r = tx.query("SELECT 1");
        if (!r) return r.error();
        return {};
    });
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, Errc::unavailable);
    EXPECT_EQ(s.error().message.find(pg.password()), std::string::npos) << s.error().message;
    EXPECT_TRUE(c->health().degraded());
    EXPECT_EQ(c->health().reason().find(pg.password()), std::string::npos);

    // Shutdown while waiting for the database: interrupt() ends the wait now.
    EXPECT_FALSE(d->query("SELECT 1"));
    auto waiting = std::thread([&] {
        std::this_thread::sleep_for(300ms);
        d->interrupt();
    });
    const auto t0 = std::chrono::steady_clock::now();
    auto r = d->recover();
    waiting.join();
    EXPECT_FALSE(r);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);

    pg.start();
    ASSERT_TRUE(c->recover());
    MUST(c->query("SELECT 1"));
    EXPECT_FALSE(c->health().degraded());
}

TEST_F(PgLayer, HealthIsSharedByTheConnectionsOfAStore) {
    auto health = std::make_shared<pg::Health>();
    auto o = options();
    o.health = health;
    auto w = connect(o);
    auto r = connect(o);
    auto adm = admin();
    ASSERT_TRUE(w && r && adm);
    MUST(adm->query("SELECT pg_terminate_backend($1::int, 5000)", {w->backend_pid()}));
    MUST(adm->query("SELECT pg_terminate_backend($1::int, 5000)", {r->backend_pid()}));
    EXPECT_FALSE(w->query("SELECT 1"));
    EXPECT_FALSE(r->query("SELECT 1"));
    EXPECT_TRUE(health->degraded());
    ASSERT_TRUE(w->recover());
    EXPECT_TRUE(health->degraded());  // one is still without a session
    ASSERT_TRUE(r->recover());
    EXPECT_FALSE(health->degraded());
    EXPECT_EQ(health->reconnects(), 2u);
}

}  // namespace
